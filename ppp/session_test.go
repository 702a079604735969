package ppp

import (
	"net/netip"
	"strings"
	"testing"
	"time"
)

func TestNegotiateEachMethod(t *testing.T) {
	for _, m := range []AuthMethod{AuthMSCHAPv2, AuthCHAPMD5, AuthPAP} {
		t.Run(m.String(), func(t *testing.T) {
			w := newWire(t, []AuthMethod{m}, nil, "")
			w.start()
			if !w.srv.NetworkUp() || !w.cli.l.netUp.Load() {
				t.Fatalf("network not up\nserver: %s\nclient: %s\ntrace:\n%s", &w.srvRec, &w.cliRec, w.trace.String())
			}
			want := netip.MustParseAddr("10.10.0.2")
			if w.srvRec.addr != want || w.cliRec.addr != want {
				t.Errorf("addresses: server says %v, client got %v; want %v", w.srvRec.addr, w.cliRec.addr, want)
			}
			if !w.srvRec.has("AuthDone " + m.String() + " alice accept=true") {
				t.Errorf("server events: %s", &w.srvRec)
			}
			if w.srvRec.info.PeerMRU != 1280 {
				t.Errorf("peer MRU %d, want the client's 1280", w.srvRec.info.PeerMRU)
			}
			dns, wins := w.cli.DNS()
			if dns[0].String() != "10.10.0.53" || dns[1].String() != "10.10.0.54" || wins[0].String() != "10.10.0.137" {
				t.Errorf("client learned dns %v wins %v", dns, wins)
			}
			if wins[1].IsValid() {
				t.Errorf("secondary WINS is not configured and should have been rejected, got %v", wins[1])
			}
			if m == AuthMSCHAPv2 && !strings.HasPrefix(w.cliRec.auth[0].Message, "S=") {
				t.Errorf("client saw success message %q", w.cliRec.auth[0].Message)
			}
			// Data both ways.
			buf := make([]byte, 64)
			copy(buf[16:], []byte{0x45, 0, 0, 20})
			if err := w.cli.WriteIP(buf[:36], 16); err != nil {
				t.Fatal(err)
			}
			w.pump()
			if len(w.srvRec.ips) != 1 || w.srvRec.ips[0][0] != 0x45 || len(w.srvRec.ips[0]) != 20 {
				t.Errorf("server got IP %x", w.srvRec.ips)
			}
			if err := w.srv.WriteIP(buf[:36], 16); err != nil {
				t.Fatal(err)
			}
			w.pump()
			if len(w.cliRec.ips) != 1 {
				t.Errorf("client got %d IP packets", len(w.cliRec.ips))
			}
			// The client hangs up: Terminate both ways, Down(user request)
			// on the server, address released.
			w.cli.Close(ReasonAdmin)
			w.pump()
			w.clk.Advance(10 * time.Second)
			w.pump()
			if len(w.srvRec.down) != 1 || w.srvRec.down[0] != ReasonUserRequest {
				t.Errorf("server down reasons %v, events %s", w.srvRec.down, &w.srvRec)
			}
			if len(w.pool.held) != 0 {
				t.Errorf("addresses still held: %v (%v)", w.pool.held, w.pool.history)
			}
			if strings.Contains(w.trace.String(), "s3cret") {
				t.Errorf("trace leaks the password")
			}
		})
	}
}

func TestWrongPassword(t *testing.T) {
	for _, m := range []AuthMethod{AuthMSCHAPv2, AuthCHAPMD5, AuthPAP} {
		t.Run(m.String(), func(t *testing.T) {
			w := newWire(t, []AuthMethod{m}, nil, "wrong")
			w.start()
			w.clk.Advance(10 * time.Second)
			w.pump()
			if w.srv.NetworkUp() {
				t.Fatal("network up with a wrong password")
			}
			if !w.srvRec.has("AuthDone "+m.String()+" alice accept=false") || !w.cliRec.has("AuthDone "+m.String()+" alice accept=false") {
				t.Errorf("server: %s\nclient: %s", &w.srvRec, &w.cliRec)
			}
			if len(w.srvRec.down) != 1 || w.srvRec.down[0] != ReasonAuthFailed {
				t.Errorf("server down %v", w.srvRec.down)
			}
			if len(w.pool.history) != 0 {
				t.Errorf("pool touched: %v", w.pool.history)
			}
			if m == AuthMSCHAPv2 {
				msg := w.cliRec.auth[0].Message
				if !strings.HasPrefix(msg, "E=691 R=0 C=") || !strings.Contains(msg, " V=3 M=") {
					t.Errorf("failure message %q", msg)
				}
			}
			if m == AuthPAP && w.cliRec.auth[0].Message != "Login incorrect" {
				t.Errorf("PAP Nak message %q", w.cliRec.auth[0].Message)
			}
		})
	}
}

func TestAuthMethodFallback(t *testing.T) {
	// The server prefers MS-CHAPv2, then CHAP-MD5, then PAP; a client that
	// only does PAP Naks twice and ends up with PAP.
	w := newWire(t, []AuthMethod{AuthMSCHAPv2, AuthCHAPMD5, AuthPAP}, []AuthMethod{AuthPAP}, "")
	w.start()
	if !w.srv.NetworkUp() || !w.srvRec.has("AuthDone PAP alice accept=true") {
		t.Fatalf("server: %s\ntrace:\n%s", &w.srvRec, w.trace.String())
	}
	// A client that does none of the server's methods: auth refused.
	w = newWire(t, []AuthMethod{AuthMSCHAPv2}, []AuthMethod{AuthPAP}, "")
	w.start()
	w.clk.Advance(30 * time.Second)
	w.pump()
	if len(w.srvRec.down) != 1 || w.srvRec.down[0] != ReasonAuthRefused {
		t.Fatalf("down %v; server %s", w.srvRec.down, &w.srvRec)
	}
}

func TestAsyncBackend(t *testing.T) {
	w := newWire(t, []AuthMethod{AuthMSCHAPv2}, nil, "")
	w.users.async = true
	w.start()
	if w.srv.NetworkUp() || len(w.users.deferred) != 1 {
		t.Fatalf("network up before the back end answered (deferred %d)", len(w.users.deferred))
	}
	// The client retransmits nothing that makes us ask twice.
	w.clk.Advance(5 * time.Second)
	w.pump()
	if len(w.users.reqs) != 1 {
		t.Fatalf("back end asked %d times", len(w.users.reqs))
	}
	w.users.answer()
	w.pump()
	if !w.srv.NetworkUp() {
		t.Fatalf("server: %s", &w.srvRec)
	}
	if got := w.users.reqs[0]; got.User != "alice" || len(got.NTResponse) != 24 || len(got.PeerChallenge) != 16 || len(got.Challenge) != 16 {
		t.Errorf("request %+v", got)
	}
}

func TestLateBackendAnswerIgnored(t *testing.T) {
	w := newWire(t, []AuthMethod{AuthPAP}, nil, "")
	w.users.async = true
	w.start()
	w.srv.LowerDown()
	w.users.answer() // arrives after the session is gone
	w.pump()
	if w.srv.NetworkUp() || len(w.pool.history) != 0 {
		t.Fatalf("late answer acted on: %v", w.pool.history)
	}
	if len(w.srvRec.down) != 1 || w.srvRec.down[0] != ReasonLowerDown {
		t.Fatalf("down %v", w.srvRec.down)
	}
}

func TestAuthTimeout(t *testing.T) {
	w := newWire(t, []AuthMethod{AuthMSCHAPv2}, nil, "")
	w.users.async = true // never answers
	w.start()
	w.clk.Advance(40 * time.Second)
	w.pump()
	w.clk.Advance(10 * time.Second)
	w.pump()
	if len(w.srvRec.down) != 1 || w.srvRec.down[0] != ReasonAuthTimeout {
		t.Fatalf("down %v: %s", w.srvRec.down, &w.srvRec)
	}
}

func TestEchoTimeout(t *testing.T) {
	w := newWire(t, []AuthMethod{AuthPAP}, nil, "")
	w.start()
	if !w.srv.NetworkUp() {
		t.Fatal("not up")
	}
	// While the peer answers, keepalives keep the link up.
	for range 10 {
		w.clk.Advance(30 * time.Second)
		w.pump()
	}
	if len(w.srvRec.down) != 0 || w.srv.Counters().EchoReplies.Load() < 9 {
		t.Fatalf("link went down with a live peer: %v (replies %d)", w.srvRec.down, w.srv.Counters().EchoReplies.Load())
	}
	// The peer vanishes.
	w.mu.Lock()
	w.cut = true
	w.mu.Unlock()
	for range 20 {
		w.clk.Advance(30 * time.Second)
	}
	if len(w.srvRec.down) != 1 || w.srvRec.down[0] != ReasonPeerTimeout {
		t.Fatalf("down %v: %s", w.srvRec.down, &w.srvRec)
	}
	if len(w.pool.held) != 0 {
		t.Errorf("address not released")
	}
	if w.clk.Pending() != 0 {
		t.Errorf("%d timers left after Down", w.clk.Pending())
	}
}

func TestServerClose(t *testing.T) {
	w := newWire(t, []AuthMethod{AuthCHAPMD5}, nil, "")
	w.start()
	w.srv.Close(ReasonAdmin)
	w.pump()
	if len(w.srvRec.down) != 1 || w.srvRec.down[0] != ReasonAdmin {
		t.Fatalf("server down %v", w.srvRec.down)
	}
	w.clk.Advance(10 * time.Second)
	if len(w.cliRec.down) != 1 || w.cliRec.down[0] != ReasonUserRequest {
		t.Fatalf("client down %v", w.cliRec.down)
	}
}

func TestSessionAndIdleTimeout(t *testing.T) {
	w := newWire(t, []AuthMethod{AuthPAP}, nil, "")
	w.users.static = map[string]netip.Addr{"alice": netip.MustParseAddr("10.10.0.99")}
	auth := w.users
	w.srv.l.cfg.Authenticator = AuthenticatorFunc(func(req *AuthRequest, done func(AuthResult)) {
		auth.Authenticate(req, func(r AuthResult) {
			r.SessionTimeout = time.Hour
			done(r)
		})
	})
	w.start()
	if w.cliRec.addr.String() != "10.10.0.99" {
		t.Fatalf("static address not used: %v", w.cliRec.addr)
	}
	w.run(59 * time.Minute)
	if len(w.srvRec.down) != 0 {
		t.Fatalf("down early: %v", w.srvRec.down)
	}
	w.run(2 * time.Minute)
	if len(w.srvRec.down) != 1 || w.srvRec.down[0] != ReasonSessionTimeout {
		t.Fatalf("down %v", w.srvRec.down)
	}

	w = newWire(t, []AuthMethod{AuthPAP}, nil, "")
	auth = w.users
	w.srv.l.cfg.Authenticator = AuthenticatorFunc(func(req *AuthRequest, done func(AuthResult)) {
		auth.Authenticate(req, func(r AuthResult) {
			r.IdleTimeout = 10 * time.Minute
			done(r)
		})
	})
	w.start()
	buf := make([]byte, 40)
	for range 5 { // traffic every 5 minutes keeps it up
		w.run(5 * time.Minute)
		_ = w.cli.WriteIP(buf, 16)
		w.pump()
	}
	if len(w.srvRec.down) != 0 {
		t.Fatalf("idle timeout despite traffic: %v", w.srvRec.down)
	}
	w.run(25 * time.Minute)
	if len(w.srvRec.down) != 1 || w.srvRec.down[0] != ReasonIdleTimeout {
		t.Fatalf("down %v", w.srvRec.down)
	}
}

func TestPoolExhausted(t *testing.T) {
	w := newWire(t, []AuthMethod{AuthPAP}, nil, "")
	w.pool.fail = true
	w.start()
	w.clk.Advance(10 * time.Second)
	w.pump()
	if len(w.srvRec.down) != 1 || w.srvRec.down[0] != ReasonNoAddress {
		t.Fatalf("down %v", w.srvRec.down)
	}
}

func TestValidateServer(t *testing.T) {
	good := Config{AuthMethods: []AuthMethod{AuthMSCHAPv2, AuthPAP}, Authenticator: &users{}}
	if err := good.ValidateServer(); err != nil {
		t.Fatal(err)
	}
	for name, c := range map[string]Config{
		"mschapv1":  {AuthMethods: []AuthMethod{AuthMSCHAPv1}, Authenticator: &users{}},
		"duplicate": {AuthMethods: []AuthMethod{AuthPAP, AuthPAP}, Authenticator: &users{}},
		"no auth":   {AuthMethods: []AuthMethod{AuthPAP}},
		"mru":       {MRU: 9000},
		"v6 dns":    {DNS: [2]netip.Addr{netip.MustParseAddr("2001:db8::1")}},
	} {
		if err := c.ValidateServer(); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func TestLoopbackDetected(t *testing.T) {
	h := newSrv(t, AuthPAP)
	// A looped link hands us back our own request every time.
	for i := 0; i < 20 && len(h.rec.down) == 0; i++ {
		var req Packet
		for _, f := range h.all {
			if p, payload, _ := SplitFrame(f); p == ProtoLCP {
				if pk, _ := ParsePacket(payload); pk.Code == CodeConfReq {
					req = pk
				}
			}
		}
		h.send(frame(ProtoLCP, CodeConfReq, req.ID, req.Data...))
		h.clk.Advance(3 * time.Second)
	}
	if len(h.rec.down) != 1 || h.rec.down[0] != ReasonLoopback {
		t.Fatalf("down %v", h.rec.down)
	}
}

// A peer may renegotiate LCP at any time (RFC 1661: Configure-Request in
// Opened). Everything above LCP goes down, the address is released, and the
// link authenticates and negotiates IPCP again.
func TestLCPRenegotiation(t *testing.T) {
	for _, m := range []AuthMethod{AuthMSCHAPv2, AuthPAP} {
		w := newWire(t, []AuthMethod{m}, nil, "")
		w.start()
		if !w.srv.NetworkUp() {
			t.Fatal("not up")
		}
		// The client sends a fresh Configure-Request (as Windows does when
		// it renegotiates); the server's answer makes the client's LCP
		// renegotiate too.
		w.cli.l.mu.Lock()
		req := w.cli.l.lcpH.AppendRequest(nil)
		w.cli.l.unlock()
		w.mu.Lock()
		w.toSrv = append(w.toSrv, frame(ProtoLCP, CodeConfReq, 0x77, req...))
		w.mu.Unlock()
		w.pump()
		if !w.srvRec.has("NetworkDown") {
			t.Fatalf("%s: network not taken down: %s", m, &w.srvRec)
		}
		w.run(15 * time.Second)
		if !w.srv.NetworkUp() || !w.cli.l.netUp.Load() {
			t.Fatalf("%s: not up again; server %s\nclient %s\ntrace:\n%s", m, &w.srvRec, &w.cliRec, w.trace.String())
		}
		if n := strings.Count(w.srvRec.String(), "AuthDone"); n != 2 {
			t.Errorf("%s: authenticated %d times", m, n)
		}
		if got := strings.Join(w.pool.history, ","); got != "acquire 10.10.0.2,release 10.10.0.2,acquire 10.10.0.3" {
			t.Errorf("%s: pool %s", m, got)
		}
	}
}
