package auth

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/l2tpsecd/l2tpsecd/internal/testutil"
	"layeh.com/radius/rfc2759"
)

// The RFC 2759 section 9.2 example, transcribed.
var rfc2759Example = struct {
	user, password                                 string
	authChallenge, peerChallenge                   string
	passwordHash, ntResponse, authenticatorReponse string
}{
	user:                 "User",
	password:             "clientPass",
	authChallenge:        "5B5D7C7D7B3F2F3E3C2C602132262628",
	peerChallenge:        "21402324255E262A28295F2B3A337C7E",
	passwordHash:         "44EBBA8D5312B8D611474411F56989AE",
	ntResponse:           "82309ECD8D708B5EA08FAA3981CD83544233114A3D85D6DF",
	authenticatorReponse: "S=407A5589115FD0D6209F510FE9C04566932CDA56",
}

func unhex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func writeUsers(t testing.TB, dir, body string, mode os.FileMode) string {
	t.Helper()
	p := filepath.Join(dir, "users.toml")
	if err := os.WriteFile(p, []byte(body), mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(p, mode); err != nil { // WriteFile keeps an existing file's mode
		t.Fatal(err)
	}
	return p
}

const exampleUsers = `
[users.User]
password = "clientPass"
address = "10.10.0.50"

[users.hashonly]
nt_hash = "44ebba8d5312b8d611474411f56989ae"
pool = "staff"

[users.off]
password = "clientPass"
enabled = false
`

func loadExample(t testing.TB) *Users {
	t.Helper()
	u, err := LoadUsers(writeUsers(t, t.TempDir(), exampleUsers, 0o600), nil)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func mschapReq(t testing.TB, user string, ntResp []byte) Request {
	return Request{Method: MethodMSCHAPv2, User: user,
		Challenge:     unhex(t, rfc2759Example.authChallenge),
		PeerChallenge: unhex(t, rfc2759Example.peerChallenge),
		NTResponse:    ntResp}
}

func TestRFC2759Example(t *testing.T) {
	ex := rfc2759Example
	h := NTHash(ex.password)
	if got := hex.EncodeToString(h[:]); !strings.EqualFold(got, ex.passwordHash) {
		t.Fatalf("NTHash = %s, want %s", got, ex.passwordHash)
	}
	nt := ntResponse(h, unhex(t, ex.authChallenge), unhex(t, ex.peerChallenge), ex.user)
	if got := hex.EncodeToString(nt); !strings.EqualFold(got, ex.ntResponse) {
		t.Fatalf("NT-Response = %s, want %s", got, ex.ntResponse)
	}
	if got := authenticatorResponse(h, nt, unhex(t, ex.authChallenge), unhex(t, ex.peerChallenge), ex.user); got != ex.authenticatorReponse {
		t.Fatalf("authenticator response = %s, want %s", got, ex.authenticatorReponse)
	}

	u := loadExample(t)
	for _, name := range []string{"User", `WORKGROUP\User`, "hashonly"} {
		req := mschapReq(t, name, unhex(t, ex.ntResponse))
		if name == "hashonly" {
			// ChallengeHash covers the user name, so a different name
			// needs its own NT-Response.
			req.NTResponse = ntResponse(h, req.Challenge, req.PeerChallenge, name)
		}
		r := u.Check(req)
		if !r.Accepted || r.Reason != ReasonOK {
			t.Fatalf("%s: MS-CHAPv2 refused: %+v", name, r)
		}
		want := authenticatorResponse(h, req.NTResponse, req.Challenge, req.PeerChallenge, name)
		if name != "hashonly" {
			want = ex.authenticatorReponse
		}
		if r.AuthenticatorResponse != want {
			t.Fatalf("%s: authenticator response %q, want %q", name, r.AuthenticatorResponse, want)
		}
	}
	bad := unhex(t, ex.ntResponse)
	bad[23] ^= 1
	if r := u.Check(mschapReq(t, "User", bad)); r.Accepted || r.Reason != ReasonBadPassword || r.AuthenticatorResponse != "" {
		t.Fatalf("bad NT-Response accepted: %+v", r)
	}
	if r := u.Check(mschapReq(t, "User", bad[:20])); r.Accepted || r.Reason != ReasonMalformed {
		t.Fatalf("short NT-Response: %+v", r)
	}
}

// TestRFC2759SharedVector checks the same example against the shared test
// data file, which carries values recomputed independently.
func TestRFC2759SharedVector(t *testing.T) {
	p := testutil.SharedTestdata(t, "mschapv2_rfc2759_rfc3079.json")
	data, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	var v struct {
		Inputs   map[string]string `json:"inputs"`
		Expected map[string]string `json:"expected"`
	}
	if err := json.Unmarshal(data, &v); err != nil {
		t.Fatal(err)
	}
	h := NTHash(v.Inputs["Password"])
	if got := strings.ToUpper(hex.EncodeToString(h[:])); got != v.Expected["PasswordHash"] {
		t.Fatalf("NTHash %s, want %s", got, v.Expected["PasswordHash"])
	}
	ac, pc := unhex(t, v.Inputs["AuthenticatorChallenge"]), unhex(t, v.Inputs["PeerChallenge"])
	nt := ntResponse(h, ac, pc, v.Inputs["UserName"])
	if got := strings.ToUpper(hex.EncodeToString(nt)); got != v.Expected["NT_Response"] {
		t.Fatalf("NT-Response %s, want %s", got, v.Expected["NT_Response"])
	}
	if got := authenticatorResponse(h, nt, ac, pc, v.Inputs["UserName"]); got != v.Expected["AuthenticatorResponse"] {
		t.Fatalf("authenticator response %s, want %s", got, v.Expected["AuthenticatorResponse"])
	}
}

// TestHashBasedMatchesRFC2759Package checks the hash-based computations
// against layeh's password-based ones on random inputs.
func TestHashBasedMatchesRFC2759Package(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < 50; i++ {
		pw := fmt.Sprintf("pw-%d-%x", i, rng.Uint64())
		name := fmt.Sprintf("user%d", rng.IntN(1000))
		ac, pc := make([]byte, 16), make([]byte, 16)
		for j := range ac {
			ac[j], pc[j] = byte(rng.Uint32()), byte(rng.Uint32())
		}
		want, err := rfc2759.GenerateNTResponse(ac, pc, []byte(name), []byte(pw))
		if err != nil {
			t.Fatal(err)
		}
		h := NTHash(pw)
		if got := ntResponse(h, ac, pc, name); string(got) != string(want) {
			t.Fatalf("NT-Response differs for %q", pw)
		}
		wantAR, err := rfc2759.GenerateAuthenticatorResponse(ac, pc, want, []byte(name), []byte(pw))
		if err != nil {
			t.Fatal(err)
		}
		if got := authenticatorResponse(h, want, ac, pc, name); got != wantAR {
			t.Fatalf("authenticator response %s, want %s", got, wantAR)
		}
	}
}

func TestNTHashNonASCII(t *testing.T) {
	// "ü€" in UTF-16LE is FC 00 AC 20; "𝄞" (outside the BMP) is a
	// surrogate pair 34 D8 1E DD.
	want := rfc2759.NTPasswordHash([]byte{0xfc, 0x00, 0xac, 0x20, 0x34, 0xd8, 0x1e, 0xdd})
	if got := NTHash("ü€𝄞"); string(got[:]) != string(want) {
		t.Fatalf("NTHash(non-ASCII) = %x, want %x", got, want)
	}
	if got := NTHashHex("clientPass"); got != rfc2759Example.passwordHash {
		t.Fatalf("NTHashHex = %s", got)
	}
}

func TestPAP(t *testing.T) {
	u := loadExample(t)
	for _, tc := range []struct {
		user, pw string
		ok       bool
		reason   Reason
	}{
		{"User", "clientPass", true, ReasonOK},
		{"User", "clientpass", false, ReasonBadPassword},
		{"User", "", false, ReasonBadPassword},
		{"hashonly", "clientPass", true, ReasonOK},
		{"hashonly", "clientPas", false, ReasonBadPassword},
		{"nobody", "clientPass", false, ReasonUnknownUser},
		{"off", "clientPass", false, ReasonDisabled},
	} {
		r := u.Check(Request{Method: MethodPAP, User: tc.user, Password: []byte(tc.pw)})
		if r.Accepted != tc.ok || r.Reason != tc.reason {
			t.Errorf("PAP %s/%q = %+v, want ok=%v reason=%v", tc.user, tc.pw, r, tc.ok, tc.reason)
		}
	}
	r := u.Check(Request{Method: MethodPAP, User: "User", Password: []byte("clientPass")})
	if r.StaticAddr != netip.MustParseAddr("10.10.0.50") || r.User != "User" {
		t.Fatalf("static address not returned: %+v", r)
	}
	if got := u.StaticAddrs(); len(got) != 1 || got[0] != netip.MustParseAddr("10.10.0.50") {
		t.Fatalf("StaticAddrs = %v", got)
	}
	if r := u.Check(Request{Method: MethodPAP, User: "hashonly", Password: []byte("clientPass")}); r.Pool != "staff" {
		t.Fatalf("pool not returned: %+v", r)
	}
}

func TestCHAPMD5(t *testing.T) {
	u := loadExample(t)
	challenge := []byte("0123456789abcdef0123")
	// Independent computation: MD5(id || secret || challenge).
	resp := md5.Sum(append(append([]byte{0x2a}, "clientPass"...), challenge...))
	r := u.Check(Request{Method: MethodCHAPMD5, User: "User", CHAPID: 0x2a, Challenge: challenge, Response: resp[:]})
	if !r.Accepted {
		t.Fatalf("CHAP-MD5 refused: %+v", r)
	}
	if r := u.Check(Request{Method: MethodCHAPMD5, User: "User", CHAPID: 0x2b, Challenge: challenge, Response: resp[:]}); r.Reason != ReasonBadPassword {
		t.Fatalf("CHAP-MD5 with the wrong identifier: %+v", r)
	}
	if r := u.Check(Request{Method: MethodCHAPMD5, User: "User", CHAPID: 0x2a, Challenge: challenge, Response: resp[:15]}); r.Reason != ReasonMalformed {
		t.Fatalf("short CHAP response: %+v", r)
	}
	r = u.Check(Request{Method: MethodCHAPMD5, User: "hashonly", CHAPID: 0x2a, Challenge: challenge, Response: resp[:]})
	if r.Accepted || r.Reason != ReasonMethodUnavailable || !strings.Contains(r.Detail, "cleartext") {
		t.Fatalf("CHAP-MD5 for a hash-only user: %+v", r)
	}
	if r := u.Check(Request{Method: Method(99), User: "User"}); r.Reason != ReasonMethodUnavailable {
		t.Fatalf("unknown method: %+v", r)
	}
}

func TestDisabledAndReasons(t *testing.T) {
	u := loadExample(t)
	r := u.Check(mschapReq(t, "off", unhex(t, rfc2759Example.ntResponse)))
	if r.Accepted || r.Reason != ReasonDisabled || r.Reason.MSCHAPError() != 647 {
		t.Fatalf("disabled user: %+v", r)
	}
	if ReasonBadPassword.MSCHAPError() != 691 || ReasonUnknownUser.MSCHAPError() != 691 {
		t.Fatal("MS-CHAP error codes")
	}
	for r := ReasonOK; r <= ReasonCanceled; r++ {
		if strings.HasPrefix(r.String(), "Reason(") {
			t.Errorf("reason %d has no name", r)
		}
	}
}

func TestParseErrors(t *testing.T) {
	for _, tc := range []struct {
		name, body string
		is         error
		want       string
	}{
		{"unknown key", "[users.a]\npassword = \"x\"\n\n[users.b]\npasword = \"y\"\n", ErrUnknownKey, `users.toml:5: "users.b.pasword"`},
		{"unknown top", "# c\nuser = 1\n", ErrUnknownKey, `users.toml:2: "user"`},
		{"unknown dotted", "[users]\nz.password = \"p\"\nz.colour = 1\n", ErrUnknownKey, `users.toml:3: "users.z.colour"`},
		{"syntax", "[users.a]\npassword = \"x\n", ErrBadUsersFile, "users.toml:2:"},
		{"type", "[users.a]\npassword = \"x\"\nenabled = \"yes\"\n", ErrBadUsersFile, `users.toml:3: (last key "users.a.enabled")`},
		{"both", "\n[users.a]\npassword = \"x\"\nnt_hash = \"44ebba8d5312b8d611474411f56989ae\"\n", ErrBadUsersFile, `users.toml:2: user "a": set password or nt_hash, not both`},
		{"none", "[users.a]\npool = \"p\"\n", ErrBadUsersFile, `users.toml:1: user "a": needs password or nt_hash`},
		{"short hash", "[users.a]\nnt_hash = \"44ebba\"\n", ErrBadUsersFile, "32 hex digits"},
		{"address", "[users.a]\npassword = \"x\"\naddress = \"fd00::1\"\n", ErrBadUsersFile, "not an IPv4 address"},
		{"empty password", "[users.a]\npassword = \"\"\n", ErrBadUsersFile, "empty password"},
	} {
		_, err := parseUsers([]byte(tc.body), "users.toml")
		if !errors.Is(err, tc.is) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err = %v, want %v containing %q", tc.name, err, tc.is, tc.want)
		}
	}
}

func TestFileMode(t *testing.T) {
	dir := t.TempDir()
	p := writeUsers(t, dir, exampleUsers, 0o644)
	_, err := LoadUsers(p, nil)
	if !errors.Is(err, ErrInsecureMode) || !strings.Contains(err.Error(), p) || !strings.Contains(err.Error(), "0644") {
		t.Fatalf("cleartext file with mode 0644: %v", err)
	}
	writeUsers(t, dir, exampleUsers, 0o640)
	if _, err := LoadUsers(p, nil); !errors.Is(err, ErrInsecureMode) {
		t.Fatalf("cleartext file with mode 0640: %v", err)
	}
	writeUsers(t, dir, "[users.h]\nnt_hash = \"44ebba8d5312b8d611474411f56989ae\"\n", 0o644)
	if _, err := LoadUsers(p, nil); err != nil {
		t.Fatalf("hash-only file with mode 0644: %v", err)
	}
	writeUsers(t, dir, exampleUsers, 0o600)
	if _, err := LoadUsers(p, nil); err != nil {
		t.Fatalf("mode 0600: %v", err)
	}
	if _, err := LoadUsers(filepath.Join(dir, "missing.toml"), nil); err == nil {
		t.Fatal("missing file loaded")
	}
}

func TestReload(t *testing.T) {
	dir := t.TempDir()
	p := writeUsers(t, dir, "[users.a]\npassword = \"one\"\n", 0o600)
	u, err := LoadUsers(p, nil)
	if err != nil {
		t.Fatal(err)
	}
	pap := func(user, pw string) bool {
		return u.Check(Request{Method: MethodPAP, User: user, Password: []byte(pw)}).Accepted
	}
	if !pap("a", "one") {
		t.Fatal("a/one refused")
	}
	writeUsers(t, dir, "[users.a]\npassword = \"two\"\n[users.b]\npassword = \"b\"\n", 0o600)
	if err := u.Reload(); err != nil {
		t.Fatal(err)
	}
	if pap("a", "one") || !pap("a", "two") || !pap("b", "b") || u.Len() != 2 {
		t.Fatal("reload did not take effect")
	}
	writeUsers(t, dir, "[users.a]\npassword = \"three\"\nbogus = 1\n", 0o600)
	if err := u.Reload(); !errors.Is(err, ErrUnknownKey) {
		t.Fatalf("broken reload: %v", err)
	}
	if !pap("a", "two") || !pap("b", "b") {
		t.Fatal("broken reload replaced the old contents")
	}
	writeUsers(t, dir, "[users.a]\npassword = \"three\"\n", 0o666)
	if err := u.Reload(); !errors.Is(err, ErrInsecureMode) || !pap("a", "two") {
		t.Fatalf("insecure reload: %v", err)
	}
}

// TestReloadConcurrent checks under -race that Check sees either table,
// never a torn one.
func TestReloadConcurrent(t *testing.T) {
	dir := t.TempDir()
	p := writeUsers(t, dir, "[users.a]\npassword = \"x\"\n", 0o600)
	u, err := LoadUsers(p, nil)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for i := 0; i < 4; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				if r := u.Check(Request{Method: MethodPAP, User: "a", Password: []byte("x")}); !r.Accepted {
					t.Error("a refused during reloads")
					return
				}
			}
		}()
	}
	for i := 0; i < 50; i++ {
		if err := u.Reload(); err != nil {
			t.Error(err)
		}
	}
	close(stop)
	wg.Wait()
}

func TestAuthenticateAsync(t *testing.T) {
	u := loadExample(t)
	var mu sync.Mutex
	returned := false
	results := make(chan Result, 2)
	mu.Lock()
	u.Authenticate(context.Background(), Request{Method: MethodPAP, User: "User", Password: []byte("clientPass")}, func(r Result) {
		// Blocks until the caller has unlocked: a synchronous call
		// would deadlock here, so reaching the check at all proves
		// done ran on another goroutine.
		mu.Lock()
		defer mu.Unlock()
		if !returned {
			t.Error("done ran while the caller still held its lock")
		}
		results <- r
	})
	returned = true
	mu.Unlock()
	if r := <-results; !r.Accepted {
		t.Fatalf("async PAP refused: %+v", r)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	u.Authenticate(ctx, Request{Method: MethodPAP, User: "User", Password: []byte("clientPass")}, func(r Result) { results <- r })
	if r := <-results; r.Accepted || r.Reason != ReasonCanceled {
		t.Fatalf("canceled request: %+v", r)
	}
	var _ Authenticator = u
	var _ Accounter = NopAccounter{}
}

func TestParseMSCHAPv2Response(t *testing.T) {
	v := make([]byte, 49)
	for i := range v {
		v[i] = byte(i)
	}
	pc, nt, err := ParseMSCHAPv2Response(v)
	if err != nil || pc[0] != 0 || pc[15] != 15 || nt[0] != 24 || nt[23] != 47 || len(nt) != 24 {
		t.Fatalf("ParseMSCHAPv2Response = %v %v %v", pc, nt, err)
	}
	if _, _, err := ParseMSCHAPv2Response(v[:48]); !errors.Is(err, ErrBadMSCHAPResp) {
		t.Fatalf("short value: %v", err)
	}
}

func TestStrings(t *testing.T) {
	for _, s := range []fmt.Stringer{MethodPAP, MethodCHAPMD5, MethodMSCHAPv2, AcctStart, AcctStop, AcctInterim,
		CauseUserRequest, CauseLostCarrier, CauseIdleTimeout, CauseSessionTimeout, CauseAdminReset, CauseNASReboot} {
		if strings.Contains(s.String(), "(") {
			t.Errorf("%#v has no name", s)
		}
	}
	if Method(0).String() != "Method(0)" || TerminateCause(99).String() != "TerminateCause(99)" {
		t.Error("unknown values")
	}
}

// TestUsersRoundTrip writes users files from random entries and checks
// that every entry reads back with the same meaning.
func TestUsersRoundTrip(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for iter := 0; iter < 20; iter++ {
		var b strings.Builder
		type ent struct {
			pw, hash, addr, pool string
			disabled             bool
		}
		want := map[string]ent{}
		for i := 0; i < 1+rng.IntN(6); i++ {
			name := fmt.Sprintf("u%d.\"x\" %d", i, rng.IntN(100))
			e := ent{pool: fmt.Sprint("p", rng.IntN(3)), disabled: rng.IntN(2) == 0}
			if rng.IntN(2) == 0 {
				e.pw = fmt.Sprintf("pw\"\\%d", rng.Uint32())
			} else {
				e.hash = NTHashHex(fmt.Sprint(rng.Uint32()))
			}
			if rng.IntN(2) == 0 {
				e.addr = fmt.Sprintf("10.0.%d.%d", rng.IntN(256), rng.IntN(256))
			}
			want[name] = e
			fmt.Fprintf(&b, "[users.%s]\n", quoteTOML(name))
			if e.pw != "" {
				fmt.Fprintf(&b, "password = %s\n", quoteTOML(e.pw))
			} else {
				fmt.Fprintf(&b, "nt_hash = %q\n", e.hash)
			}
			if e.addr != "" {
				fmt.Fprintf(&b, "address = %q\n", e.addr)
			}
			fmt.Fprintf(&b, "pool = %q\nenabled = %v\n\n", e.pool, !e.disabled)
		}
		db, err := parseUsers([]byte(b.String()), "rt.toml")
		if err != nil {
			t.Fatalf("%v\n%s", err, b.String())
		}
		if len(db.users) != len(want) {
			t.Fatalf("%d users, want %d", len(db.users), len(want))
		}
		for name, e := range want {
			got := db.users[name]
			if got == nil {
				t.Fatalf("user %q missing", name)
			}
			wantHash := e.hash
			if e.pw != "" {
				wantHash = NTHashHex(e.pw)
			}
			if string(got.password) != e.pw || strings.ToUpper(hex.EncodeToString(got.ntHash[:])) != wantHash ||
				got.pool != e.pool || got.disabled != e.disabled || (e.addr != "") != got.static.IsValid() {
				t.Fatalf("user %q read back as %+v, want %+v", name, got, e)
			}
		}
	}
}

func quoteTOML(s string) string {
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s) + `"`
}

func FuzzParseUsers(f *testing.F) {
	f.Add([]byte(exampleUsers))
	f.Add([]byte("[users.a]\npassword = \"x\"\nbogus = 1\n"))
	f.Add([]byte("[users.\"a.b\"]\nnt_hash = \"44ebba8d5312b8d611474411f56989ae\"\n"))
	f.Add([]byte("[[users]]\nx = 1\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		db, err := parseUsers(data, "fuzz.toml")
		if err != nil {
			return
		}
		for name, e := range db.users {
			if e.cleartext != (e.password != nil) || name != e.name {
				t.Fatalf("inconsistent entry %q: %+v", name, e)
			}
		}
	})
}
