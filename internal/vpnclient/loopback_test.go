package vpnclient

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/l2tpsecd/l2tpsecd/esp"
	"github.com/l2tpsecd/l2tpsecd/ike"
	"github.com/l2tpsecd/l2tpsecd/internal/clock"
	"github.com/l2tpsecd/l2tpsecd/l2tp"
	"github.com/l2tpsecd/l2tpsecd/ppp"
)

// miniLNS is the smallest concentrator the protocol packages make, on
// loopback sockets: an IKE responder, an ESP datapath, an L2TP LNS and a PPP
// server session per call that answers ICMP echo. It stands in for the
// daemon so that the client can be tested without root.
type miniLNS struct {
	t        testing.TB
	ikeConn  *net.UDPConn
	dp       *esp.Userspace
	eng      *ike.Engine
	ep       *l2tp.Endpoint
	ikeAddr  netip.AddrPort
	nattAddr netip.AddrPort
	users    map[string]string

	mu       sync.Mutex
	handles  map[esp.Handle]*ike.ChildSA
	next     byte
	sessions atomic.Int64 // PPP sessions with the network layer up
	ended    atomic.Int64
	spis     map[uint32]bool
}

const (
	testPSK     = "loopback-psk-0123"
	testGateway = "10.99.0.1"
)

func newMiniLNS(t testing.TB) *miniLNS {
	t.Helper()
	m := &miniLNS{t: t, handles: map[esp.Handle]*ike.ChildSA{}, spis: map[uint32]bool{}, next: 10,
		users: map[string]string{"alice": "secret-a", "bob": "secret-b"}}
	log := slog.New(slog.DiscardHandler)
	conn, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Skipf("no loopback UDP: %v", err)
	}
	m.ikeConn = conn
	m.ikeAddr = conn.LocalAddr().(*net.UDPAddr).AddrPort()
	m.eng = ike.NewEngine(ike.Config{PSKs: []ike.PSK{{Key: []byte(testPSK)}}, DPDInterval: -1}, m, m, clock.Real{}, log, nil)
	m.dp, err = esp.NewUserspace(esp.UserspaceConfig{
		Listen: []netip.AddrPort{netip.MustParseAddrPort("127.0.0.1:0")}, Workers: 1,
		Hooks: esp.Hooks{
			DeliverUDP: func(h esp.Handle, src, dst uint16, p []byte) { _ = m.ep.Input(h, src, p) },
			IKE: func(p []byte, local, remote netip.AddrPort) {
				_ = m.eng.HandlePacket(p, local, remote)
			},
		},
		Clock: clock.Real{}, Logger: log,
	})
	if err != nil {
		t.Fatal(err)
	}
	m.nattAddr = m.dp.LocalAddrs()[0]
	m.ep, err = l2tp.NewEndpoint(l2tp.Config{Role: l2tp.RoleLNS}, clock.Real{}, log, m, m)
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		buf := make([]byte, 65536)
		for {
			n, from, err := conn.ReadFromUDPAddrPort(buf)
			if err != nil {
				return
			}
			_ = m.eng.HandlePacket(append([]byte(nil), buf[:n]...), m.ikeAddr, from)
		}
	}()
	t.Cleanup(func() {
		m.eng.Shutdown()
		m.ep.Close()
		_ = m.dp.Close()
		_ = conn.Close()
	})
	return m
}

// Send implements ike.Transport.
func (m *miniLNS) Send(pkt []byte, local, remote netip.AddrPort) error {
	if local.Port() == m.nattAddr.Port() {
		return m.dp.SendIKE(pkt, local, remote)
	}
	_, err := m.ikeConn.WriteToUDPAddrPort(pkt, remote)
	return err
}

// ike.Events: install the client's SAs.
func (m *miniLNS) Phase1Established(ike.Phase1Info)             {}
func (m *miniLNS) Phase1Failed(netip.AddrPort, *ike.Failure)    {}
func (m *miniLNS) Phase2Failed(ike.Phase1Info, *ike.Failure)    {}
func (m *miniLNS) IKESADeleted(ike.Phase1Info, ike.Reason)      {}
func (m *miniLNS) PeerDead(ike.Phase1Info)                      {}
func (m *miniLNS) InitialContact(ike.Phase1Info)                {}
func (m *miniLNS) ChildSADeleted(ch *ike.ChildSA, _ ike.Reason) { m.remove(ch) }
func (m *miniLNS) Phase2Established(ch *ike.ChildSA) {
	mk := func(k ike.ESPKeys) esp.Config {
		return esp.Config{SPI: k.SPI, Encr: esp.EncrAlg(ch.Transform), KeyBits: ch.KeyBits, Auth: esp.AuthAlg(ch.Auth),
			EncKey: k.EncKey, AuthKey: k.AuthKey}
	}
	encap := esp.EncapRaw
	if ch.Encap == ike.EncapUDP {
		encap = esp.EncapUDP
	}
	h, err := m.dp.AddSA(esp.SAPair{In: mk(ch.In), Out: mk(ch.Out), Encap: encap, Peer: ch.Remote, Local: ch.Local.Addr()})
	if err != nil {
		m.t.Errorf("server AddSA: %v", err)
		return
	}
	m.mu.Lock()
	m.handles[h] = ch
	m.spis[ch.In.SPI] = true
	m.mu.Unlock()
}

func (m *miniLNS) remove(ch *ike.ChildSA) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for h, c := range m.handles {
		if c.In.SPI == ch.In.SPI {
			delete(m.handles, h)
			_ = m.dp.RemoveSA(h)
			m.ep.ClosePeer(h, l2tp.Cause{Reason: l2tp.ReasonShutdown}, false)
		}
	}
}

// SendL2TP implements l2tp.Sender.
func (m *miniLNS) SendL2TP(peer l2tp.Peer, dstPort uint16, dg []byte) {
	_ = m.dp.SendUDP(peer.(esp.Handle), 1701, dstPort, dg)
}

// lnsSession is one PPP server session.
type lnsSession struct {
	m    *miniLNS
	ls   *l2tp.Session
	ppp  *ppp.Session
	peer netip.Addr
	up   atomic.Bool
	buf  []byte
}

// l2tp.Handler.
func (m *miniLNS) SessionUp(ls *l2tp.Session) {
	s := &lnsSession{m: m, ls: ls}
	m.mu.Lock()
	addr := netip.AddrFrom4([4]byte{10, 99, 0, m.next})
	m.next++
	m.mu.Unlock()
	s.ppp = ppp.NewSession(ppp.Config{
		Output: func(buf []byte, start int) {
			off, err := ls.EncapsulateInPlace(buf, start)
			if err == nil {
				_ = m.dp.SendUDP(ls.Peer().(esp.Handle), 1701, ls.PeerPort(), buf[off:])
			}
		},
		Handler:     s,
		Clock:       clock.Real{},
		Logger:      slog.New(slog.DiscardHandler),
		AuthMethods: []ppp.AuthMethod{ppp.AuthMSCHAPv2, ppp.AuthPAP},
		Authenticator: ppp.AuthenticatorFunc(func(req *ppp.AuthRequest, done func(ppp.AuthResult)) {
			pw, ok := m.users[req.User]
			switch req.Method {
			case ppp.AuthMSCHAPv2:
				resp, good := ppp.VerifyMSCHAPv2(ppp.NTHash(pw), req.Challenge, req.PeerChallenge, req.User, req.NTResponse)
				done(ppp.AuthResult{Accept: ok && good, AuthenticatorResponse: resp, Address: addr})
			case ppp.AuthPAP:
				done(ppp.AuthResult{Accept: ok && string(req.Password) == pw, Address: addr})
			default:
				done(ppp.AuthResult{})
			}
		}),
		LocalAddr: netip.MustParseAddr(testGateway),
	})
	ls.SetUserData(s)
	s.ppp.Start()
}

func (m *miniLNS) SessionData(ls *l2tp.Session, frame []byte) {
	if s, ok := ls.UserData().(*lnsSession); ok {
		_ = s.ppp.Input(frame)
	}
}

func (m *miniLNS) SessionDown(ls *l2tp.Session, _ l2tp.Cause) {
	if s, ok := ls.UserData().(*lnsSession); ok {
		s.ppp.LowerDown()
	}
}

func (m *miniLNS) TunnelDown(*l2tp.Tunnel, l2tp.Cause) {}

// ppp.Handler of a server session.
func (s *lnsSession) LinkUp(ppp.LinkInfo)                              {}
func (s *lnsSession) AuthDone(ppp.AuthMethod, string, *ppp.AuthResult) {}
func (s *lnsSession) NetworkUp(a netip.Addr) {
	s.peer = a
	s.up.Store(true)
	s.m.sessions.Add(1)
}
func (s *lnsSession) NetworkDown() {
	if s.up.Swap(false) {
		s.m.sessions.Add(-1)
		s.m.ended.Add(1)
	}
}
func (s *lnsSession) Down(ppp.Reason) { s.NetworkDown() }

// IP answers ICMP echo requests to anyone, as a gateway does.
func (s *lnsSession) IP(pkt []byte) {
	var p Packet
	if ParsePacket(pkt, &p) != nil || p.Proto != IPProtoICMP || p.Type != ICMPEchoRequest {
		return
	}
	st, _ := p.Stamp()
	// One session's IP arrives on one datapath worker, one packet at a
	// time: its reply buffer can be reused.
	if cap(s.buf) < 64+len(pkt) {
		s.buf = make([]byte, 64, 64+MaxIPPacket)
	}
	buf := AppendICMPEcho(s.buf[:64], p.Dst, p.Src, ICMPEchoReply, p.ID, p.Seq, st, len(pkt))
	_ = s.ppp.WriteIP(buf, 64)
}

func testConfig(m *miniLNS, user, password string) Config {
	return Config{
		Server: m.ikeAddr.Addr(), IKEPort: m.ikeAddr.Port(), NATTPort: m.nattAddr.Port(),
		Local: netip.MustParseAddr("127.0.0.1"), PSK: []byte(testPSK), User: user, Password: password,
		// The mini LNS, like the daemon, installs its SAs only once Quick
		// Mode's third message arrives; a short first L2TP retransmission
		// keeps the test quick when the SCCRQ overtakes it.
		L2TPRetransmit: 100 * time.Millisecond, PPPRestart: 200 * time.Millisecond,
	}
}

// TestDialEchoHangup connects two clients from one address to the loopback
// LNS, checks that they got distinct ports, SPIs and addresses, echoes
// through both tunnels, and hangs up so that the LNS is left with nothing.
func TestDialEchoHangup(t *testing.T) {
	m := newMiniLNS(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()

	var clients []*Client
	replies := make([]atomic.Int64, 2)
	for i, u := range []string{"alice", "bob"} {
		cfg := testConfig(m, u, m.users[u])
		if i == 1 {
			cfg.AuthMethods = []ppp.AuthMethod{ppp.AuthPAP}
		}
		i := i
		cfg.OnIP = func(pkt []byte) {
			var p Packet
			if ParsePacket(pkt, &p) == nil && p.Type == ICMPEchoReply && p.ID == uint16(i) {
				replies[i].Add(1)
			}
		}
		c, tm, err := Dial(ctx, cfg)
		if err != nil {
			t.Fatalf("Dial %s: %v", u, err)
		}
		defer c.Close()
		clients = append(clients, c)
		if tm.Total <= 0 || tm.Phase(PhaseIKE1) <= 0 || tm.Phase(PhaseIPCP) <= 0 {
			t.Errorf("%s: timings %+v lack phases", u, tm)
		}
		var sum time.Duration
		for _, p := range Phases {
			sum += tm.Phase(p)
		}
		if sum > tm.Total {
			t.Errorf("%s: phases add up to %v, more than the total %v", u, sum, tm.Total)
		}
	}
	a, b := clients[0], clients[1]
	if a.Addr() == b.Addr() || !a.Addr().IsValid() {
		t.Errorf("addresses %v and %v, want two distinct ones", a.Addr(), b.Addr())
	}
	ia, ea := a.LocalAddrs()
	ib, eb := b.LocalAddrs()
	if ia.Addr() != ib.Addr() || ia == ib || ea == eb || ia == ea {
		t.Errorf("outer sockets %v/%v and %v/%v: want one address, four ports", ia, ea, ib, eb)
	}
	ainSPI, _ := a.SPIs()
	binSPI, _ := b.SPIs()
	if ainSPI == binSPI {
		t.Errorf("both clients chose inbound SPI %08x", ainSPI)
	}
	// The LNS's IPCP may open a moment after the client's.
	for deadline := time.Now().Add(5 * time.Second); m.sessions.Load() != 2; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("LNS has %d sessions up, want 2", m.sessions.Load())
		}
	}

	// Ten echoes each; all come back through the right tunnel.
	gw := netip.MustParseAddr(testGateway)
	for i, c := range clients {
		for seq := 0; seq < 10; seq++ {
			pkt := AppendICMPEcho(nil, c.Addr(), gw, ICMPEchoRequest, uint16(i), uint16(seq), 0, 100)
			if err := c.SendIP(pkt); err != nil {
				t.Fatalf("SendIP: %v", err)
			}
		}
	}
	deadline := time.Now().Add(5 * time.Second)
	for replies[0].Load() < 10 || replies[1].Load() < 10 {
		if time.Now().After(deadline) {
			t.Fatalf("echo replies %d and %d of 10", replies[0].Load(), replies[1].Load())
		}
		time.Sleep(5 * time.Millisecond)
	}
	st := a.Stats()
	if st.IPPacketsOut != 10 || st.IPPacketsIn != 10 || st.ESPPacketsOut < 10 || st.ESPPacketsIn < 10 {
		t.Errorf("stats %+v", st)
	}

	for _, c := range clients {
		if err := c.Hangup(ctx); err != nil {
			t.Errorf("Hangup: %v", err)
		}
		select {
		case <-c.Done():
		default:
			t.Error("Done not closed after Hangup")
		}
		if err := c.SendIP(make([]byte, 40)); !errors.Is(err, ErrClosed) {
			t.Errorf("SendIP after Hangup: %v, want ErrClosed", err)
		}
	}
	deadline = time.Now().Add(5 * time.Second)
	for {
		m.mu.Lock()
		n := len(m.handles)
		m.mu.Unlock()
		if n == 0 && m.sessions.Load() == 0 && len(m.eng.IKESAs()) == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after hangup the LNS still has %d SA pairs, %d sessions, %d IKE SAs", n, m.sessions.Load(), len(m.eng.IKESAs()))
		}
		time.Sleep(5 * time.Millisecond)
	}
	if m.ended.Load() != 2 {
		t.Errorf("%d PPP sessions ended, want 2", m.ended.Load())
	}
}

// TestDialFailures checks that each kind of refusal fails in its phase with
// the protocol's reason, and that nothing is left behind.
func TestDialFailures(t *testing.T) {
	m := newMiniLNS(t)
	cases := []struct {
		name   string
		mod    func(*Config)
		phase  Phase
		reason string
	}{
		{"wrong PSK", func(c *Config) { c.PSK = []byte("some-other-key") }, PhaseIKE1, "timeout"},
		{"wrong password", func(c *Config) { c.Password = "nope" }, PhaseAuth, "ppp_auth_rejected"},
		{"unknown user by PAP", func(c *Config) { c.User = "mallory"; c.AuthMethods = []ppp.AuthMethod{ppp.AuthPAP} }, PhaseAuth, "ppp_auth_rejected"},
		{"no common ESP suite", func(c *Config) {
			c.Phase2 = []ike.Phase2Suite{{Transform: 3 /* 3DES */, Auth: 1 /* HMAC-MD5 */}}
		}, PhaseIKE2, "no_proposal_chosen"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cfg := testConfig(m, "alice", m.users["alice"])
			tc.mod(&cfg)
			// A wrong PSK is only ever answered with silence: wait 1 s.
			ctx, cancel := context.WithTimeout(context.Background(), time.Second)
			defer cancel()
			c, _, err := Dial(ctx, cfg)
			if err == nil {
				c.Close()
				t.Fatal("Dial succeeded")
			}
			var se *SetupError
			if !errors.As(err, &se) {
				t.Fatalf("error %v is not a *SetupError", err)
			}
			if se.Phase != tc.phase || se.Reason != tc.reason {
				t.Errorf("failed in %s (%s), want %s (%s): %v", se.Phase, se.Reason, tc.phase, tc.reason, err)
			}
		})
	}
}

func TestConfigErrors(t *testing.T) {
	for _, cfg := range []Config{
		{PSK: []byte("x")},
		{Server: netip.MustParseAddr("::1"), PSK: []byte("x")},
		{Server: netip.MustParseAddr("127.0.0.1")},
	} {
		_, _, err := Dial(context.Background(), cfg)
		var se *SetupError
		if !errors.As(err, &se) || se.Phase != PhaseSocket || !errors.Is(err, ErrBadConfig) {
			t.Errorf("Dial(%+v) = %v, want a socket-phase ErrBadConfig", cfg, err)
		}
	}
}

func TestPhaseNames(t *testing.T) {
	seen := map[string]bool{}
	for _, p := range Phases {
		s := p.String()
		if seen[s] || s == fmt.Sprintf("phase(%d)", uint8(p)) {
			t.Errorf("phase %d named %q", p, s)
		}
		seen[s] = true
	}
	if len(Phases) != int(numPhases)-1 {
		t.Errorf("Phases lists %d of %d phases", len(Phases), int(numPhases)-1)
	}
	if Phase(99).String() != "phase(99)" {
		t.Error("unknown phase name")
	}
}

// TestESPPortsDistinct opens many datapaths the way clients do and checks
// that no two share a port (SO_REUSEPORT would let the kernel hand out the
// same ephemeral port twice and split the server's packets between them).
func TestESPPortsDistinct(t *testing.T) {
	var dps []*esp.Userspace
	defer func() {
		for _, dp := range dps {
			espPorts.close(dp)
		}
	}()
	seen := map[netip.AddrPort]bool{}
	for i := 0; i < 200; i++ {
		dp, err := espPorts.open(esp.UserspaceConfig{Listen: []netip.AddrPort{netip.MustParseAddrPort("127.0.0.1:0")},
			Workers: 1, BatchSize: 1, Logger: slog.New(slog.DiscardHandler)})
		if err != nil {
			t.Fatal(err)
		}
		dps = append(dps, dp)
		a := dp.LocalAddrs()[0]
		if seen[a] {
			t.Fatalf("datapath %d got port %v again", i, a)
		}
		seen[a] = true
	}
}

// TestFixedLocalPorts dials from given ports and refuses the IKE ports
// themselves (they would hide the simulated NAT).
func TestFixedLocalPorts(t *testing.T) {
	m := newMiniLNS(t)
	// Two free ports, found by binding them.
	var ports []uint16
	var conns []*net.UDPConn
	for i := 0; i < 2; i++ {
		c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
		if err != nil {
			t.Fatal(err)
		}
		ports = append(ports, uint16(c.LocalAddr().(*net.UDPAddr).Port))
		conns = append(conns, c)
	}
	cfg := testConfig(m, "alice", m.users["alice"])
	cfg.IKELocalPort, cfg.ESPLocalPort = 500, 0
	if _, _, err := Dial(context.Background(), cfg); !errors.Is(err, ErrBadConfig) {
		t.Errorf("local port 500: %v, want ErrBadConfig", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	cfg.IKELocalPort, cfg.ESPLocalPort = ports[0], ports[1]
	// While this test holds the ports, setup fails in the socket phase.
	var se *SetupError
	if _, _, err := Dial(ctx, cfg); !errors.As(err, &se) || se.Phase != PhaseSocket {
		t.Fatalf("Dial from ports in use: %v", err)
	}
	for _, c := range conns {
		c.Close()
	}
	c, _, err := Dial(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ike, esp := c.LocalAddrs()
	if ike.Port() != ports[0] || esp.Port() != ports[1] {
		t.Errorf("bound %v and %v, want ports %v", ike, esp, ports)
	}
	if err := c.Hangup(ctx); err != nil {
		t.Error(err)
	}
}
