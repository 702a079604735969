package ppp

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/l2tpsecd/l2tpsecd/internal/clock"
)

var t0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// recorder is a Handler that remembers events as strings.
type recorder struct {
	mu     sync.Mutex
	events []string
	ips    [][]byte
	auth   []AuthResult
	down   []Reason
	addr   netip.Addr
	info   LinkInfo
	// countIP makes IP count packets instead of copying them (for the
	// allocation tests).
	countIP bool
	nIP     int
}

func (r *recorder) add(s string) {
	r.mu.Lock()
	r.events = append(r.events, s)
	r.mu.Unlock()
}

func (r *recorder) LinkUp(info LinkInfo) {
	r.mu.Lock()
	r.info = info
	r.mu.Unlock()
	r.add(fmt.Sprintf("LinkUp mru=%d auth=%s", info.PeerMRU, info.Auth))
}

func (r *recorder) AuthDone(m AuthMethod, user string, res *AuthResult) {
	r.mu.Lock()
	r.auth = append(r.auth, *res)
	r.mu.Unlock()
	r.add(fmt.Sprintf("AuthDone %s %s accept=%v", m, user, res.Accept))
}

func (r *recorder) NetworkUp(a netip.Addr) {
	r.mu.Lock()
	r.addr = a
	r.mu.Unlock()
	r.add("NetworkUp " + a.String())
}

func (r *recorder) NetworkDown() { r.add("NetworkDown") }

func (r *recorder) Down(reason Reason) {
	r.mu.Lock()
	r.down = append(r.down, reason)
	r.mu.Unlock()
	r.add("Down " + reason.String())
}

func (r *recorder) IP(pkt []byte) {
	r.mu.Lock()
	if r.countIP {
		r.nIP++
		r.mu.Unlock()
		return
	}
	r.ips = append(r.ips, append([]byte(nil), pkt...))
	r.mu.Unlock()
}

func (r *recorder) has(prefix string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, e := range r.events {
		if strings.HasPrefix(e, prefix) {
			return true
		}
	}
	return false
}

func (r *recorder) String() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return strings.Join(r.events, "; ")
}

// users is a back end holding passwords; it verifies every method the way
// the real back ends will (PAP compare, CHAP-MD5, MS-CHAPv2 from the NT hash).
type users struct {
	pw     map[string]string
	static map[string]netip.Addr
	// deferred holds callbacks when async is set, so tests can decide when
	// the "RADIUS server" answers.
	async    bool
	deferred []func()
	reqs     []AuthRequest
}

func (u *users) Authenticate(req *AuthRequest, done func(AuthResult)) {
	u.reqs = append(u.reqs, *req)
	res := u.check(req)
	if u.async {
		u.deferred = append(u.deferred, func() { done(res) })
		return
	}
	done(res)
}

func (u *users) check(req *AuthRequest) AuthResult {
	pw, ok := u.pw[req.User]
	if !ok {
		return AuthResult{Reason: "unknown user"}
	}
	res := AuthResult{Address: u.static[req.User]}
	switch req.Method {
	case AuthPAP:
		res.Accept = string(req.Password) == pw
	case AuthCHAPMD5:
		res.Accept = VerifyCHAPMD5(req.CHAPID, []byte(pw), req.Challenge, req.Response)
	case AuthMSCHAPv2:
		res.AuthenticatorResponse, res.Accept = VerifyMSCHAPv2(NTHash(pw), req.Challenge, req.PeerChallenge, req.User, req.NTResponse)
	}
	if !res.Accept {
		res.Reason = "bad password"
	}
	return res
}

func (u *users) answer() {
	d := u.deferred
	u.deferred = nil
	for _, f := range d {
		f()
	}
}

// pool is an AddressProvider handing out 10.10.0.2, 10.10.0.3, ...
type pool struct {
	next    byte
	held    map[netip.Addr]bool
	fail    bool
	history []string
}

func (p *pool) Acquire(user string, res *AuthResult) (netip.Addr, error) {
	if p.fail {
		return netip.Addr{}, errors.New("pool exhausted")
	}
	if p.held == nil {
		p.held = map[netip.Addr]bool{}
	}
	a := res.Address
	if !a.IsValid() {
		p.next++
		a = netip.AddrFrom4([4]byte{10, 10, 0, 1 + p.next})
	}
	p.held[a] = true
	p.history = append(p.history, "acquire "+a.String())
	return a, nil
}

func (p *pool) Release(a netip.Addr) {
	delete(p.held, a)
	p.history = append(p.history, "release "+a.String())
}

// wire connects a Session and a Client in memory. Frames queue and pump
// delivers them, so neither side is re-entered from its own output.
type wire struct {
	t        testing.TB
	clk      *clock.Fake
	srv      *Session
	cli      *Client
	srvRec   recorder
	cliRec   recorder
	users    *users
	pool     *pool
	mu       sync.Mutex
	toCli    [][]byte
	toSrv    [][]byte
	cut      bool // drop everything (a dead peer)
	trace    bytes.Buffer
	srvFrame [][]byte // every frame the server sent, for inspection
}

type seqReader struct{ n byte }

func (r *seqReader) Read(b []byte) (int, error) {
	for i := range b {
		r.n++
		b[i] = r.n*7 + 1
	}
	return len(b), nil
}

var _ io.Reader = (*seqReader)(nil)

func newWire(t testing.TB, methods []AuthMethod, clientMethods []AuthMethod, password string) *wire {
	w := &wire{t: t, clk: clock.NewFake(t0)}
	w.users = &users{pw: map[string]string{"alice": "s3cret", `CORP\bob`: "hunter2"}}
	w.pool = &pool{}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	w.srv = NewSession(Config{
		Output: func(buf []byte, start int) {
			f := append([]byte(nil), buf[start:]...)
			w.mu.Lock()
			w.srvFrame = append(w.srvFrame, f)
			if !w.cut {
				w.toCli = append(w.toCli, f)
			}
			w.mu.Unlock()
		},
		Handler:       &w.srvRec,
		Clock:         w.clk,
		Logger:        log,
		Rand:          &seqReader{},
		AuthMethods:   methods,
		Authenticator: w.users,
		Addresses:     w.pool,
		LocalAddr:     netip.MustParseAddr("10.10.0.1"),
		DNS:           [2]netip.Addr{netip.MustParseAddr("10.10.0.53"), netip.MustParseAddr("10.10.0.54")},
		WINS:          [2]netip.Addr{netip.MustParseAddr("10.10.0.137")},
	})
	w.srv.SetTrace(slog.New(slog.NewTextHandler(&w.trace, nil)))
	user := "alice"
	if password == "" {
		password = "s3cret"
	}
	w.cli = NewClient(Config{
		Output: func(buf []byte, start int) {
			f := append([]byte(nil), buf[start:]...)
			w.mu.Lock()
			if !w.cut {
				w.toSrv = append(w.toSrv, f)
			}
			w.mu.Unlock()
		},
		Handler:     &w.cliRec,
		Clock:       w.clk,
		Logger:      log,
		Rand:        &seqReader{n: 100},
		AuthMethods: clientMethods,
		User:        user,
		Password:    password,
		WantDNS:     true,
		WantWINS:    true,
		MRU:         1280,
	})
	return w
}

// pump delivers queued frames until both directions are quiet.
func (w *wire) pump() {
	w.t.Helper()
	for i := 0; i < 1000; i++ {
		w.mu.Lock()
		toCli, toSrv := w.toCli, w.toSrv
		w.toCli, w.toSrv = nil, nil
		w.mu.Unlock()
		if len(toCli) == 0 && len(toSrv) == 0 {
			return
		}
		for _, f := range toCli {
			_ = w.cli.Input(f)
		}
		for _, f := range toSrv {
			_ = w.srv.Input(f)
		}
	}
	w.t.Fatalf("no quiescence after 1000 rounds")
}

func (w *wire) start() {
	w.srv.Start()
	w.cli.Start()
	w.pump()
}

// run advances the clock by d in small steps, delivering frames between
// them, as a live network would.
func (w *wire) run(d time.Duration) {
	w.t.Helper()
	const step = 5 * time.Second
	for ; d > 0; d -= step {
		w.clk.Advance(min(step, d))
		w.pump()
	}
}
