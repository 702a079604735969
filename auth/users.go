package auth

import (
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/netip"
	"os"
	"slices"
	"strings"
	"sync/atomic"

	"github.com/BurntSushi/toml"
)

// fileFormat is the shape of users.toml.
type fileFormat struct {
	Users map[string]fileUser `toml:"users"`
}

type fileUser struct {
	Password *string `toml:"password"`
	NTHash   string  `toml:"nt_hash"`
	Address  string  `toml:"address"`
	Pool     string  `toml:"pool"`
	Enabled  *bool   `toml:"enabled"`
}

// user is one validated entry.
type user struct {
	name      string
	password  []byte // nil for hash-only users
	ntHash    [16]byte
	static    netip.Addr
	pool      string
	disabled  bool
	cleartext bool
}

type userDB struct {
	users map[string]*user
}

// Users is the local users file back end. It is safe for concurrent use;
// Reload swaps the whole table atomically, and lookups never lock.
type Users struct {
	path string
	log  *slog.Logger
	db   atomic.Pointer[userDB]
}

// LoadUsers reads and checks the users file at path (see the package doc
// for its format). log may be nil.
func LoadUsers(path string, log *slog.Logger) (*Users, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	u := &Users{path: path, log: log}
	if err := u.Reload(); err != nil {
		return nil, err
	}
	return u, nil
}

// Reload reads the file again. On any error the previous contents stay in
// force and the error is returned.
func (u *Users) Reload() error {
	db, err := readUsersFile(u.path, u.log)
	if err != nil {
		return err
	}
	u.db.Store(db)
	u.log.Info("auth: users file loaded", "path", u.path, "users", len(db.users))
	return nil
}

// StaticAddrs returns the static addresses of every user, sorted, so that
// the server can exclude them from dynamic allocation (ippool
// PoolConfig.Exclude) and a user's static address is never handed to
// someone else first.
func (u *Users) StaticAddrs() []netip.Addr {
	var out []netip.Addr
	for _, e := range u.db.Load().users {
		if e.static.IsValid() {
			out = append(out, e.static)
		}
	}
	slices.SortFunc(out, netip.Addr.Compare)
	return slices.Compact(out)
}

// Len returns the number of users loaded.
func (u *Users) Len() int { return len(u.db.Load().users) }

func readUsersFile(path string, log *slog.Logger) (*userDB, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("auth: users file: %w", err)
	}
	defer f.Close()
	// Stat and read the same open file, so the mode checked is the mode
	// of the contents read.
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("auth: users file: %w", err)
	}
	data, err := io.ReadAll(f)
	if err != nil {
		return nil, fmt.Errorf("auth: users file %s: %w", path, err)
	}
	db, err := parseUsers(data, path)
	if err != nil {
		return nil, err
	}
	mode := st.Mode().Perm()
	if mode&0o077 != 0 {
		var clear []string
		for name, e := range db.users {
			if e.cleartext {
				clear = append(clear, name)
			}
		}
		if len(clear) > 0 {
			slices.Sort(clear)
			return nil, fmt.Errorf("%w: %s has mode %04o and cleartext passwords for %s; make it readable by its owner only (chmod 600) or store nt_hash instead",
				ErrInsecureMode, path, mode, strings.Join(clear, ", "))
		}
		if len(db.users) > 0 {
			log.Warn("auth: users file is readable by group or others; NT hashes are password-equivalent for MS-CHAPv2",
				"path", path, "mode", fmt.Sprintf("%04o", mode))
		}
	}
	return db, nil
}

// parseUsers decodes and validates users.toml strictly: unknown keys,
// wrong types and invalid values are errors naming the file, line and key.
func parseUsers(data []byte, name string) (*userDB, error) {
	var ff fileFormat
	md, err := toml.Decode(string(data), &ff)
	if err != nil {
		var pe toml.ParseError
		if errors.As(err, &pe) {
			return nil, fmt.Errorf("%w: %s:%d: %s", ErrBadUsersFile, name, pe.Position.Line, pe.Message)
		}
		// Type mismatches come as plain errors that start "toml: line N".
		var line int
		msg := err.Error()
		if n, _ := fmt.Sscanf(msg, "toml: line %d", &line); n == 1 {
			msg = strings.TrimPrefix(strings.TrimPrefix(msg, fmt.Sprintf("toml: line %d", line)), " ")
			return nil, fmt.Errorf("%w: %s:%d: %s", ErrBadUsersFile, name, line, msg)
		}
		return nil, fmt.Errorf("%w: %s: %v", ErrBadUsersFile, name, err)
	}
	if und := md.Undecoded(); len(und) > 0 {
		k := und[0]
		return nil, fmt.Errorf("%w: %s:%d: %q (known keys: users.NAME.password, nt_hash, address, pool, enabled)",
			ErrUnknownKey, name, keyLine(data, k), k.String())
	}
	db := &userDB{users: make(map[string]*user, len(ff.Users))}
	for uname, fu := range ff.Users {
		line := keyLine(data, toml.Key{"users", uname})
		bad := func(format string, a ...any) error {
			return fmt.Errorf("%w: %s:%d: user %q: %s", ErrBadUsersFile, name, line, uname, fmt.Sprintf(format, a...))
		}
		if uname == "" {
			return nil, bad("empty user name")
		}
		e := &user{name: uname, pool: fu.Pool, disabled: fu.Enabled != nil && !*fu.Enabled}
		switch {
		case fu.Password != nil && fu.NTHash != "":
			return nil, bad("set password or nt_hash, not both")
		case fu.Password != nil:
			if *fu.Password == "" {
				return nil, bad("empty password")
			}
			e.password = []byte(*fu.Password)
			e.ntHash = NTHash(*fu.Password)
			e.cleartext = true
		case fu.NTHash != "":
			h, err := hex.DecodeString(fu.NTHash)
			if err != nil || len(h) != 16 {
				return nil, bad("nt_hash must be 32 hex digits (MD4 of the UTF-16LE password)")
			}
			copy(e.ntHash[:], h)
		default:
			return nil, bad("needs password or nt_hash")
		}
		if fu.Address != "" {
			a, err := netip.ParseAddr(fu.Address)
			if err != nil || !a.Is4() {
				return nil, bad("address %q is not an IPv4 address", fu.Address)
			}
			e.static = a
		}
		db.users[uname] = e
	}
	return db, nil
}

// keyLine finds the line where key is defined, for error messages (the
// toml package reports lines for syntax errors only). It follows table
// headers and dotted keys; 0 means not found.
func keyLine(data []byte, key toml.Key) int {
	want := strings.Join(key, "\x00")
	var table []string
	for i, raw := range bytes.Split(data, []byte("\n")) {
		line := strings.TrimSpace(string(raw))
		if line == "" || line[0] == '#' {
			continue
		}
		if strings.HasPrefix(line, "[") {
			h := strings.Trim(strings.SplitN(line, "]", 2)[0], "[ \t")
			if strings.HasPrefix(line, "[[") {
				h = strings.Trim(strings.SplitN(line, "]]", 2)[0], "[ \t")
			}
			table = splitDotted(h)
			if strings.Join(table, "\x00") == want {
				return i + 1
			}
			continue
		}
		k, _, ok := strings.Cut(line, "=")
		if !ok {
			continue
		}
		full := append(slices.Clone(table), splitDotted(k)...)
		// A match on a prefix covers keys inside inline tables too.
		for n := len(full); n > 0; n-- {
			if strings.Join(full[:n], "\x00") == want {
				return i + 1
			}
		}
	}
	return 0
}

// splitDotted splits a TOML dotted key, honouring simple quoting.
func splitDotted(s string) []string {
	var parts []string
	var cur strings.Builder
	quote := byte(0)
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case quote != 0 && c == quote:
			quote = 0
		case quote != 0:
			cur.WriteByte(c)
		case c == '"' || c == '\'':
			quote = c
		case c == '.':
			parts = append(parts, strings.TrimSpace(cur.String()))
			cur.Reset()
		default:
			cur.WriteByte(c)
		}
	}
	return append(parts, strings.TrimSpace(cur.String()))
}

// lookup finds a user by the name the peer sent: exactly, or without a
// Windows "DOMAIN\" prefix.
func (db *userDB) lookup(name string) *user {
	if e := db.users[name]; e != nil {
		return e
	}
	if s := mschapUserName(name); s != name {
		return db.users[s]
	}
	return nil
}

// Authenticate checks req on a new goroutine and calls done there with the
// result (the Authenticator contract: never synchronously). Checking is a
// few hashes; the goroutine is per authentication, never per packet.
func (u *Users) Authenticate(ctx context.Context, req Request, done func(Result)) {
	go func() {
		if ctx.Err() != nil {
			done(Result{Reason: ReasonCanceled, Detail: "session ended before authentication", User: req.User})
			return
		}
		done(u.Check(req))
	}()
}

// Check verifies req synchronously.
func (u *Users) Check(req Request) Result {
	db := u.db.Load()
	if db == nil {
		return Result{Reason: ReasonBackendUnavailable, Detail: "users file not loaded", User: req.User}
	}
	e := db.lookup(req.User)
	if e == nil {
		return Result{Reason: ReasonUnknownUser, Detail: "no such user in the users file", User: req.User}
	}
	r := Result{User: e.name}
	refuse := func(reason Reason, detail string) Result {
		r.Reason, r.Detail = reason, detail
		return r
	}
	if e.disabled {
		return refuse(ReasonDisabled, "account disabled in the users file")
	}
	switch req.Method {
	case MethodPAP:
		var ok bool
		if e.password != nil {
			ok = equalSecret(req.Password, e.password)
		} else {
			h := NTHash(string(req.Password))
			ok = equalSecret(h[:], e.ntHash[:])
		}
		if !ok {
			return refuse(ReasonBadPassword, "PAP password does not match")
		}
	case MethodCHAPMD5:
		if e.password == nil {
			return refuse(ReasonMethodUnavailable, "CHAP-MD5 needs the cleartext password, and the users file holds only an NT hash for this user; allow MS-CHAPv2 or PAP, or store a password")
		}
		if len(req.Response) != md5Len || len(req.Challenge) == 0 {
			return refuse(ReasonMalformed, fmt.Sprintf("CHAP-MD5 response of %d bytes, challenge of %d", len(req.Response), len(req.Challenge)))
		}
		want := chapMD5(req.CHAPID, e.password, req.Challenge)
		if !equalSecret(req.Response, want[:]) {
			return refuse(ReasonBadPassword, "CHAP-MD5 response does not match")
		}
	case MethodMSCHAPv2:
		if len(req.Challenge) != 16 || len(req.PeerChallenge) != 16 || len(req.NTResponse) != 24 {
			return refuse(ReasonMalformed, fmt.Sprintf("MS-CHAPv2 challenge %d, peer challenge %d, NT-Response %d bytes (want 16, 16, 24)",
				len(req.Challenge), len(req.PeerChallenge), len(req.NTResponse)))
		}
		want := ntResponse(e.ntHash, req.Challenge, req.PeerChallenge, req.User)
		if !equalSecret(req.NTResponse, want) {
			return refuse(ReasonBadPassword, "MS-CHAPv2 NT-Response does not match")
		}
		r.AuthenticatorResponse = authenticatorResponse(e.ntHash, req.NTResponse, req.Challenge, req.PeerChallenge, req.User)
	default:
		return refuse(ReasonMethodUnavailable, fmt.Sprintf("method %v not supported by the users file", req.Method))
	}
	r.Accepted, r.Reason = true, ReasonOK
	r.StaticAddr, r.Pool = e.static, e.pool
	return r
}

const md5Len = 16
