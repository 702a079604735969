package ike

import (
	"bytes"
	"fmt"
	"log/slog"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/l2tpsecd/l2tpsecd/ike/isakmp"
	"github.com/l2tpsecd/l2tpsecd/internal/clock"
)

// recorder collects events.
type recorder struct {
	mu        sync.Mutex
	p1        []Phase1Info
	p1fail    []*Failure
	p2        []*ChildSA
	p2fail    []*Failure
	childDel  []Reason
	ikeDel    []Reason
	dead      []Phase1Info
	initialCt int
}

func (r *recorder) Phase1Established(sa Phase1Info) {
	r.mu.Lock()
	r.p1 = append(r.p1, sa)
	r.mu.Unlock()
}
func (r *recorder) Phase1Failed(_ netip.AddrPort, f *Failure) {
	r.mu.Lock()
	r.p1fail = append(r.p1fail, f)
	r.mu.Unlock()
}
func (r *recorder) Phase2Established(c *ChildSA) { r.mu.Lock(); r.p2 = append(r.p2, c); r.mu.Unlock() }
func (r *recorder) Phase2Failed(_ Phase1Info, f *Failure) {
	r.mu.Lock()
	r.p2fail = append(r.p2fail, f)
	r.mu.Unlock()
}
func (r *recorder) ChildSADeleted(_ *ChildSA, rs Reason) {
	r.mu.Lock()
	r.childDel = append(r.childDel, rs)
	r.mu.Unlock()
}
func (r *recorder) IKESADeleted(_ Phase1Info, rs Reason) {
	r.mu.Lock()
	r.ikeDel = append(r.ikeDel, rs)
	r.mu.Unlock()
}
func (r *recorder) PeerDead(sa Phase1Info)    { r.mu.Lock(); r.dead = append(r.dead, sa); r.mu.Unlock() }
func (r *recorder) InitialContact(Phase1Info) { r.mu.Lock(); r.initialCt++; r.mu.Unlock() }

type datagram struct {
	pkt      []byte
	src, dst netip.AddrPort
}

// testNet is an in-memory network: Send queues, pump delivers. An
// optional NAT rewrites the client's private source address to natPublic
// with a per-flow port, as a home router would.
type testNet struct {
	t       testing.TB // nil outside a test
	mu      sync.Mutex
	q       []datagram
	hosts   map[netip.Addr]*Engine
	natPriv netip.Prefix
	natPub  netip.Addr
	natAlt  netip.Addr // when valid, flows from port 4500 leave from this address (a carrier-grade NAT pool)
	natOut  map[netip.AddrPort]netip.AddrPort
	natIn   map[netip.AddrPort]netip.AddrPort
	drop    func(d datagram) bool
	log     []datagram // everything delivered, after NAT
}

func newTestNet(t testing.TB) *testNet {
	return &testNet{t: t, hosts: map[netip.Addr]*Engine{}, natOut: map[netip.AddrPort]netip.AddrPort{}, natIn: map[netip.AddrPort]netip.AddrPort{}}
}

func (n *testNet) Send(pkt []byte, local, remote netip.AddrPort) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.q = append(n.q, datagram{append([]byte(nil), pkt...), local, remote})
	return nil
}

func (n *testNet) pump() {
	for i := 0; ; i++ {
		if i > 10000 {
			panic("network does not settle")
		}
		n.mu.Lock()
		if len(n.q) == 0 {
			hosts := make([]*Engine, 0, len(n.hosts))
			for _, e := range n.hosts {
				if e != nil {
					hosts = append(hosts, e)
				}
			}
			n.mu.Unlock()
			// Certificate checks run in goroutines; their replies come
			// after they finish.
			for _, e := range hosts {
				e.pending.Wait()
			}
			n.mu.Lock()
			empty := len(n.q) == 0
			n.mu.Unlock()
			if empty {
				return
			}
			continue
		}
		d := n.q[0]
		n.q = n.q[1:]
		if n.natPub.IsValid() {
			if n.natPriv.Contains(d.src.Addr()) {
				pub, ok := n.natOut[d.src]
				if !ok {
					out := n.natPub
					if n.natAlt.IsValid() && d.src.Port() == 4500 {
						out = n.natAlt
					}
					pub = netip.AddrPortFrom(out, uint16(30000+len(n.natOut)))
					n.natOut[d.src], n.natIn[pub] = pub, d.src
				}
				d.src = pub
			} else if priv, ok := n.natIn[d.dst]; ok {
				d.dst = priv
			}
		}
		dropIt := n.drop != nil && n.drop(d)
		e := n.hosts[d.dst.Addr()]
		n.log = append(n.log, d)
		n.mu.Unlock()
		if e == nil || dropIt {
			continue
		}
		e.HandlePacket(d.pkt, d.dst, d.src)
	}
}

var (
	serverAddr = netip.MustParseAddr("198.51.100.1")
	clientAddr = netip.MustParseAddr("203.0.113.5")
	natPrivate = netip.MustParseAddr("192.168.1.10")
	natPublic  = netip.MustParseAddr("203.0.113.1")
	t0         = time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC)
)

type pair struct {
	net        *testNet
	clk        *clock.Fake
	srv, cli   *Engine
	srvEv, cEv *recorder
	cliAddr    netip.Addr
}

func newPair(t testing.TB, srvCfg Config, nat bool) *pair {
	p := &pair{net: newTestNet(t), clk: clock.NewFake(t0), srvEv: &recorder{}, cEv: &recorder{}, cliAddr: clientAddr}
	if nat {
		p.cliAddr = natPrivate
		p.net.natPriv = netip.MustParsePrefix("192.168.1.0/24")
		p.net.natPub = natPublic
	}
	logger := slog.New(slog.DiscardHandler)
	p.srv = NewEngine(srvCfg, p.net, p.srvEv, p.clk, logger, nil)
	p.cli = NewEngine(Config{Policy: Policy{Level: LevelInsecure}, DPDInterval: -1}, p.net, p.cEv, p.clk, logger, nil)
	p.net.hosts[serverAddr] = p.srv
	p.net.hosts[p.cliAddr] = p.cli
	return p
}

func (p *pair) dial(t testing.TB, dc DialConfig) {
	t.Helper()
	if _, err := p.cli.Dial(netip.AddrPortFrom(p.cliAddr, 500), netip.AddrPortFrom(serverAddr, 500), dc); err != nil {
		t.Fatal(err)
	}
	p.net.pump()
}

func pskCfg(keys ...string) Config {
	c := Config{}
	for _, k := range keys {
		c.PSKs = append(c.PSKs, PSK{Key: []byte(k)})
	}
	return c
}

// mirrored checks that the two sides derived the same keys for each
// direction.
func mirrored(t testing.TB, srv, cli *ChildSA) {
	t.Helper()
	eq := func(a, b ESPKeys) bool {
		return a.SPI == b.SPI && bytes.Equal(a.EncKey, b.EncKey) && bytes.Equal(a.AuthKey, b.AuthKey)
	}
	if !eq(srv.In, cli.Out) || !eq(srv.Out, cli.In) {
		t.Fatalf("child SAs are not mirrored:\nserver in %x/%x out %x/%x\nclient in %x/%x out %x/%x",
			srv.In.EncKey, srv.In.AuthKey, srv.Out.EncKey, srv.Out.AuthKey, cli.In.EncKey, cli.In.AuthKey, cli.Out.EncKey, cli.Out.AuthKey)
	}
	if bytes.Equal(srv.In.EncKey, srv.Out.EncKey) {
		t.Fatal("both directions have the same key")
	}
	if srv.Phase2 != cli.Phase2 || srv.Transform != cli.Transform || srv.ICVBits != cli.ICVBits {
		t.Fatalf("suites differ: %v / %v", srv.Phase2, cli.Phase2)
	}
	if len(srv.In.EncKey) != srv.Phase2.EncKeyBytes() || len(srv.In.AuthKey) != srv.Phase2.AuthKeyBytes() {
		t.Fatalf("key lengths %d/%d for %v", len(srv.In.EncKey), len(srv.In.AuthKey), srv.Phase2)
	}
}

// TestEndToEndEverySuite negotiates Main Mode + Quick Mode between our
// initiator and responder for every suite of every policy level.
func TestEndToEndEverySuite(t *testing.T) {
	for _, level := range []Level{LevelModern, LevelCompat, LevelInsecure} {
		pol := Policy{Level: level}
		p2s := pol.Phase2Suites(isakmp.EncapTransport)
		for i, s1 := range pol.Phase1Suites() {
			s2 := p2s[i%len(p2s)]
			pfs := Group(0)
			if i%3 == 0 {
				pfs = s1.Group
			}
			name := fmt.Sprintf("%v/%v/%v/pfs=%v", level, s1, s2, pfs)
			t.Run(name, func(t *testing.T) {
				cfg := pskCfg("correct horse battery staple")
				cfg.Policy = pol
				p := newPair(t, cfg, false)
				p.dial(t, DialConfig{PSK: []byte("correct horse battery staple"), Phase1: []Phase1Suite{s1},
					Phase2: []Phase2Suite{s2}, PFS: pfs, NoNATT: i%2 == 0})
				if len(p.srvEv.p1) != 1 || len(p.cEv.p1) != 1 {
					t.Fatalf("phase 1: server %d, client %d (failures %v %v)", len(p.srvEv.p1), len(p.cEv.p1), p.srvEv.p1fail, p.cEv.p1fail)
				}
				if p.srvEv.p1[0].Suite != s1 || p.srvEv.p1[0].KeyIndex != 0 {
					t.Errorf("server phase 1 %+v", p.srvEv.p1[0])
				}
				if len(p.srvEv.p2) != 1 || len(p.cEv.p2) != 1 {
					t.Fatalf("phase 2: server %d, client %d (failures %v)", len(p.srvEv.p2), len(p.cEv.p2), p.srvEv.p2fail)
				}
				srv, cli := p.srvEv.p2[0], p.cEv.p2[0]
				mirrored(t, srv, cli)
				if srv.Mode != isakmp.EncapTransport || srv.Encap != EncapNone {
					t.Errorf("mode %v encap %v without NAT", srv.Mode, srv.Encap)
				}
				if srv.ClientL2TPPort != 1701 || srv.ServerL2TPPort != 1701 || srv.ClientID != clientAddr || srv.ServerID != serverAddr {
					t.Errorf("IDs: %+v", srv)
				}
				if srv.Phase2.PFS != pfs {
					t.Errorf("PFS %v", srv.Phase2.PFS)
				}
			})
		}
	}
}

// TestEndToEndNAT: a client behind a NAT floats to 4500 and gets UDP
// encapsulation in the numbering it used (RFC 3947 or the drafts), and the
// server records its NAT-OA payloads.
func TestEndToEndNAT(t *testing.T) {
	for _, c := range []struct {
		vid  isakmp.VendorID
		mode isakmp.EncapsulationMode
	}{
		{isakmp.VendorRFC3947, isakmp.EncapUDPTransport},
		{isakmp.VendorNATTDraft02N, isakmp.EncapUDPTransportDraft},
		{isakmp.VendorNATTDraft03, isakmp.EncapUDPTransportDraft},
	} {
		t.Run(c.vid.String(), func(t *testing.T) {
			p := newPair(t, pskCfg("nat secret key"), true)
			suite := Phase2Suite{Transform: isakmp.ESPAESCBC, KeyBits: 256, Auth: isakmp.AuthAlgHMACSHA1}
			p.dial(t, DialConfig{PSK: []byte("nat secret key"), NATT: c.vid, Phase2: []Phase2Suite{suite}, L2TPPort: 51234})
			if len(p.srvEv.p2) != 1 || len(p.cEv.p2) != 1 {
				t.Fatalf("phase 2: %d/%d, failures %v %v %v", len(p.srvEv.p2), len(p.cEv.p2), p.srvEv.p1fail, p.srvEv.p2fail, p.cEv.p1fail)
			}
			srv := p.srvEv.p2[0]
			mirrored(t, srv, p.cEv.p2[0])
			if srv.Mode != c.mode || srv.Encap != EncapUDP {
				t.Errorf("mode %v encap %v", srv.Mode, srv.Encap)
			}
			if srv.Local.Port() != 4500 || srv.Remote.Addr() != natPublic || srv.Remote.Port() == 4500 && srv.Remote.Addr() == natPrivate {
				t.Errorf("outer addresses %v <-> %v", srv.Local, srv.Remote)
			}
			if srv.NATOAInitiator != natPrivate || srv.NATOAResponder != serverAddr {
				t.Errorf("NAT-OA %v %v", srv.NATOAInitiator, srv.NATOAResponder)
			}
			if srv.ClientL2TPPort != 51234 {
				t.Errorf("client L2TP port %d", srv.ClientL2TPPort)
			}
			info := p.srvEv.p1[0]
			if !info.NATRemote || info.NATLocal || info.NATT != c.vid {
				t.Errorf("NAT detection: %+v", info)
			}
			// Message 5 onwards travelled on 4500.
			n4500 := 0
			for _, d := range p.net.log {
				if d.dst.Port() == 4500 || d.src.Port() == 4500 {
					n4500++
				}
			}
			if n4500 != 5 {
				t.Errorf("%d datagrams on port 4500, want 5 (MM5, MM6, QM1-3)", n4500)
			}
		})
	}
}

func TestRefuseCompatUnderModern(t *testing.T) {
	p := newPair(t, pskCfg("some secret key"), false)
	old := []Phase1Suite{
		{Cipher: Cipher3DES, Hash: HashSHA1, Group: GroupMODP1024, Auth: isakmp.AuthPSK},
		{Cipher: CipherAESCBC, KeyBits: 256, Hash: HashSHA1, Group: GroupMODP1024, Auth: isakmp.AuthPSK},
	}
	p.dial(t, DialConfig{PSK: []byte("some secret key"), Phase1: old})
	if len(p.srvEv.p1fail) != 1 {
		t.Fatalf("server failures: %v", p.srvEv.p1fail)
	}
	f := p.srvEv.p1fail[0]
	if f.Reason != ReasonNoProposalChosen || !strings.Contains(f.Error(), "offered: 3DES-SHA1-MODP1024, AES256-SHA1-MODP1024; policy modern") {
		t.Errorf("failure %v", f)
	}
	if len(p.cEv.p1fail) != 1 || p.cEv.p1fail[0].Reason != ReasonNoProposalChosen {
		t.Errorf("client did not hear NO-PROPOSAL-CHOSEN: %v", p.cEv.p1fail)
	}
	// The same list passes with the compat switch.
	cfg := pskCfg("some secret key")
	cfg.Policy.Level = LevelCompat
	p = newPair(t, cfg, false)
	p.dial(t, DialConfig{PSK: []byte("some secret key"), Phase1: old})
	if len(p.srvEv.p1) != 1 || p.srvEv.p1[0].Suite != old[1] {
		t.Errorf("compat: %v %v", p.srvEv.p1, p.srvEv.p1fail)
	}
}

func TestRefusePhase2(t *testing.T) {
	p := newPair(t, pskCfg("some secret key"), false)
	p.dial(t, DialConfig{PSK: []byte("some secret key"),
		Phase2: []Phase2Suite{{Transform: isakmp.ESP3DES, Auth: isakmp.AuthAlgHMACMD5}}})
	if len(p.srvEv.p1) != 1 || len(p.srvEv.p2fail) != 1 || len(p.srvEv.p2) != 0 {
		t.Fatalf("p1 %d, p2 failures %v", len(p.srvEv.p1), p.srvEv.p2fail)
	}
	if f := p.srvEv.p2fail[0]; f.Reason != ReasonNoProposalChosen || !strings.Contains(f.Error(), "3DES-MD5") {
		t.Errorf("failure %v", f)
	}
	if len(p.cEv.p2fail) != 1 || p.cEv.p2fail[0].Reason != ReasonNoProposalChosen {
		t.Errorf("the initiator did not hear the refusal: %v", p.cEv.p2fail)
	}
}

// Two PSKs configured: a client with either connects and the matched
// index is reported; a client with neither is refused as a PSK mismatch.
func TestPSKCandidates(t *testing.T) {
	cfg := pskCfg("the old shared key", "the new shared key")
	for i, key := range []string{"the old shared key", "the new shared key"} {
		p := newPair(t, cfg, false)
		p.dial(t, DialConfig{PSK: []byte(key)})
		if len(p.srvEv.p1) != 1 || p.srvEv.p1[0].KeyIndex != i {
			t.Fatalf("key %d: %+v %v", i, p.srvEv.p1, p.srvEv.p1fail)
		}
	}
	p := newPair(t, cfg, false)
	p.dial(t, DialConfig{PSK: []byte("a wrong shared key")})
	if len(p.srvEv.p1) != 0 || len(p.srvEv.p1fail) != 1 || p.srvEv.p1fail[0].Reason != ReasonPSKMismatch {
		t.Fatalf("wrong key: %+v %v", p.srvEv.p1, p.srvEv.p1fail)
	}
	if !strings.Contains(p.srvEv.p1fail[0].Error(), "none of 2 candidate keys") {
		t.Errorf("reason %v", p.srvEv.p1fail[0])
	}
	// A per-network key is tried first for its network only.
	cfg = Config{PSKs: []PSK{{Key: []byte("global shared key")}, {Key: []byte("branch office key"), Networks: []netip.Prefix{netip.MustParsePrefix("203.0.113.0/24")}}}}
	p = newPair(t, cfg, false)
	if got := p.srv.pskCandidates(clientAddr); len(got) != 2 || got[0] != 1 {
		t.Errorf("candidates %v", got)
	}
	p.dial(t, DialConfig{PSK: []byte("branch office key")})
	if len(p.srvEv.p1) != 1 || p.srvEv.p1[0].KeyIndex != 1 {
		t.Errorf("network key: %+v %v", p.srvEv.p1, p.srvEv.p1fail)
	}
}

// A retransmitted message 3 or 5 (its answer was lost) is answered from
// the last reply, without a second DH computation.
func TestRetransmissionsAnsweredFromCache(t *testing.T) {
	p := newPair(t, pskCfg("retransmit key"), false)
	dropped := map[string]bool{}
	p.net.drop = func(d datagram) bool {
		if d.dst.Addr() != clientAddr {
			return false
		}
		h, _, err := isakmp.ParseHeader(d.pkt)
		if err != nil || h.Exchange != isakmp.ExchangeMainMode {
			return false
		}
		kind := "MM2"
		if h.NextPayload == isakmp.PayloadKE {
			kind = "MM4"
		} else if h.Encrypted() {
			kind = "MM6"
		}
		if kind != "MM2" && !dropped[kind] {
			dropped[kind] = true
			return true
		}
		return false
	}
	p.dial(t, DialConfig{PSK: []byte("retransmit key"), Phase2: Policy{}.Phase2Suites(isakmp.EncapTransport)})
	for i := 0; i < 2 && len(p.cEv.p2) == 0; i++ {
		p.clk.Advance(2 * time.Second) // the client's retransmission timer
		p.net.pump()
	}
	if len(p.srvEv.p2) != 1 || len(p.cEv.p2) != 1 || !dropped["MM4"] || !dropped["MM6"] {
		t.Fatalf("negotiation: %d/%d child SAs, dropped %v", len(p.srvEv.p2), len(p.cEv.p2), dropped)
	}
	if got := p.srv.Stats().DHComputations.Load(); got != 1 {
		t.Errorf("server computed DH %d times", got)
	}
	if n := p.srv.Stats().RetransmitsAnswered.Load(); n != 2 {
		t.Errorf("%d retransmissions answered from cache, want 2", n)
	}
	if len(p.srvEv.p1) != 1 || len(p.cEv.p1) != 1 {
		t.Errorf("phase 1 reported %d/%d times", len(p.srvEv.p1), len(p.cEv.p1))
	}
}

func TestDPDDeclaresPeerDead(t *testing.T) {
	cfg := pskCfg("dpd test key")
	cfg.DPDInterval, cfg.DPDMaxUnanswered = 10*time.Second, 3
	p := newPair(t, cfg, false)
	p.dial(t, DialConfig{PSK: []byte("dpd test key"), DPD: true, Phase2: Policy{}.Phase2Suites(isakmp.EncapTransport)[:1]})
	if len(p.srvEv.p2) != 1 {
		t.Fatal("no child SA")
	}
	// While the client answers, R-U-THERE gets an ACK and nothing dies.
	for i := 0; i < 5; i++ {
		p.clk.Advance(10 * time.Second)
		p.net.pump()
	}
	if len(p.srvEv.dead) != 0 {
		t.Fatal("an answering peer was declared dead")
	}
	// Now the client vanishes.
	p.net.drop = func(d datagram) bool { return true }
	for i := 0; i < 3; i++ {
		p.clk.Advance(10 * time.Second)
		p.net.pump()
		if len(p.srvEv.dead) != 0 {
			t.Fatalf("dead after %d unanswered probes", i+1)
		}
	}
	p.clk.Advance(10 * time.Second)
	p.net.pump()
	if len(p.srvEv.dead) != 1 {
		t.Fatal("peer not declared dead")
	}
	if len(p.srvEv.childDel) != 1 || p.srvEv.childDel[0] != ReasonDeadPeer || len(p.srvEv.ikeDel) != 1 {
		t.Errorf("deletions: child %v ike %v", p.srvEv.childDel, p.srvEv.ikeDel)
	}
}

func TestLifetimes(t *testing.T) {
	cfg := pskCfg("lifetime key")
	cfg.Policy.MaxPhase2Lifetime = 20 * time.Minute
	cfg.Policy.MaxPhase1Lifetime = 2 * time.Hour
	p := newPair(t, cfg, false)
	p.dial(t, DialConfig{PSK: []byte("lifetime key"), Phase2Lifetime: 3600, Phase2: Policy{}.Phase2Suites(isakmp.EncapTransport)[:1]})
	if len(p.srvEv.p2) != 1 || len(p.cEv.p2) != 1 {
		t.Fatal("no child SA")
	}
	// The server capped 3600 s to 1200 s and said so (RESPONDER-LIFETIME).
	if p.srvEv.p2[0].LifeSeconds != 1200 || p.cEv.p2[0].LifeSeconds != 1200 {
		t.Errorf("lifetimes %d / %d", p.srvEv.p2[0].LifeSeconds, p.cEv.p2[0].LifeSeconds)
	}
	p.clk.Advance(1199 * time.Second)
	p.net.pump()
	if len(p.srvEv.childDel) != 0 {
		t.Fatal("child expired early")
	}
	p.clk.Advance(time.Second)
	p.net.pump()
	if len(p.srvEv.childDel) != 1 || p.srvEv.childDel[0] != ReasonExpired {
		t.Errorf("server child deletions %v", p.srvEv.childDel)
	}
	p.clk.Advance(2*time.Hour - 1200*time.Second)
	p.net.pump()
	if len(p.srvEv.ikeDel) != 1 || p.srvEv.ikeDel[0] != ReasonExpired {
		t.Errorf("server IKE deletions %v", p.srvEv.ikeDel)
	}
	if len(p.cEv.ikeDel) != 1 || p.cEv.ikeDel[0] != ReasonPeerDeleted {
		t.Errorf("client did not get the server's Delete: %v", p.cEv.ikeDel)
	}
}

func TestDeleteBothDirections(t *testing.T) {
	p := newPair(t, pskCfg("delete key"), false)
	p.dial(t, DialConfig{PSK: []byte("delete key"), Phase2: Policy{}.Phase2Suites(isakmp.EncapTransport)[:1]})
	if len(p.cEv.p2) != 1 {
		t.Fatal("no child SA")
	}
	// Client deletes its child: the server drops the pair.
	if !p.cli.DeleteChildSA(p.cEv.p2[0].In.SPI) {
		t.Fatal("client has no such child")
	}
	p.net.pump()
	if len(p.srvEv.childDel) != 1 || p.srvEv.childDel[0] != ReasonPeerDeleted {
		t.Fatalf("server child deletions %v", p.srvEv.childDel)
	}
	// A new Quick Mode on the same phase 1 (a client rekey).
	if err := p.cli.QuickMode(p.cEv.p1[0].ICookie, p.cEv.p1[0].RCookie); err != nil {
		t.Fatal(err)
	}
	p.net.pump()
	if len(p.srvEv.p2) != 2 {
		t.Fatalf("rekey: %d child SAs", len(p.srvEv.p2))
	}
	mirrored(t, p.srvEv.p2[1], p.cEv.p2[1])
	// The server deletes the IKE SA: the client hears it.
	if !p.srv.DeleteIKESA(p.srvEv.p1[0].ICookie, p.srvEv.p1[0].RCookie) {
		t.Fatal("server has no such IKE SA")
	}
	p.net.pump()
	if len(p.cEv.ikeDel) != 1 || p.cEv.ikeDel[0] != ReasonPeerDeleted {
		t.Errorf("client IKE deletions %v", p.cEv.ikeDel)
	}
}

func TestInitialContactDropsOlderSAs(t *testing.T) {
	p := newPair(t, pskCfg("initial contact key"), false)
	dc := DialConfig{PSK: []byte("initial contact key"), Phase2: Policy{}.Phase2Suites(isakmp.EncapTransport)[:1]}
	p.dial(t, dc)
	// The client reboots and comes back with INITIAL-CONTACT.
	p.cli = NewEngine(Config{}, p.net, p.cEv, p.clk, nil, nil)
	p.net.hosts[clientAddr] = p.cli
	dc.InitialContact = true
	p.dial(t, dc)
	if len(p.srvEv.p2) != 2 || p.srvEv.initialCt != 1 {
		t.Fatalf("child SAs %d, initial contacts %d", len(p.srvEv.p2), p.srvEv.initialCt)
	}
	if len(p.srvEv.childDel) != 1 || p.srvEv.childDel[0] != ReasonInitialContact || len(p.srvEv.ikeDel) != 1 {
		t.Errorf("deletions child %v ike %v", p.srvEv.childDel, p.srvEv.ikeDel)
	}
}

// Messages cut into IKE fragments (as iOS and Windows send them) are
// reassembled and negotiated as usual.
func TestFragmentsThroughEngine(t *testing.T) {
	p := newPair(t, pskCfg("fragment key"), false)
	id := uint16(0)
	p.net.drop = func(d datagram) bool {
		if d.dst.Addr() != serverAddr || d.pkt[16] == byte(isakmp.PayloadFragment) {
			return false
		}
		id++
		frags, err := isakmp.SplitFragments(d.pkt, id, 120)
		if err != nil {
			t.Fatal(err)
		}
		// Deliver out of order with a duplicate.
		for i := len(frags) - 1; i >= 0; i-- {
			p.net.q = append(p.net.q, datagram{frags[i], d.src, d.dst})
		}
		p.net.q = append(p.net.q, datagram{frags[0], d.src, d.dst})
		return true
	}
	p.dial(t, DialConfig{PSK: []byte("fragment key"), Phase1: Policy{}.Phase1Suites(), Phase2: Policy{}.Phase2Suites(isakmp.EncapTransport)[:2]})
	if len(p.srvEv.p2) != 1 || len(p.cEv.p2) != 1 {
		t.Fatalf("child SAs %d/%d, failures %v", len(p.srvEv.p2), len(p.cEv.p2), p.srvEv.p1fail)
	}
	if id < 4 {
		t.Errorf("only %d messages were fragmented", id)
	}
}

func TestHalfOpenLimits(t *testing.T) {
	cfg := pskCfg("half open key")
	cfg.MaxHalfOpenPerSource = 3
	p := newPair(t, cfg, false)
	p.net.hosts[clientAddr] = nil // the scanner never answers
	for i := 0; i < 5; i++ {
		if _, err := p.cli.Dial(netip.AddrPortFrom(clientAddr, 500), netip.AddrPortFrom(serverAddr, 500), DialConfig{PSK: []byte("x")}); err != nil {
			t.Fatal(err)
		}
	}
	p.net.pump()
	if p.srv.nHalf != 3 || p.srv.Stats().Dropped.Load() != 2 {
		t.Errorf("half-open %d, dropped %d", p.srv.nHalf, p.srv.Stats().Dropped.Load())
	}
	for i := 0; i < 31; i++ {
		p.clk.Advance(time.Second)
		p.net.pump()
	}
	if p.srv.nHalf != 0 || len(p.srv.sas) != 0 {
		t.Errorf("after the timeout: half-open %d, SAs %d", p.srv.nHalf, len(p.srv.sas))
	}
	if len(p.srvEv.p1fail) != 0 {
		t.Errorf("lone message-1 scans were reported: %v", p.srvEv.p1fail)
	}
}

// The trace shows the Oakley-style lines and never a key.
func TestTrace(t *testing.T) {
	var buf bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&buf, nil))
	net := newTestNet(t)
	clk := clock.NewFake(t0)
	psk := "trace secret 12345"
	srv := NewEngine(pskCfg(psk), net, nil, clk, logger, nil)
	cli := NewEngine(Config{}, net, nil, clk, nil, nil)
	net.hosts[serverAddr], net.hosts[clientAddr] = srv, cli
	srv.SetTracePeer(clientAddr, true)
	if _, err := cli.Dial(netip.AddrPortFrom(clientAddr, 500), netip.AddrPortFrom(serverAddr, 500), DialConfig{PSK: []byte(psk), Phase2: Policy{}.Phase2Suites(isakmp.EncapTransport)[:1]}); err != nil {
		t.Fatal(err)
	}
	net.pump()
	out := buf.String()
	for _, want := range []string{
		"RECEIVED <<< ISAKMP OAK MM (SA, VID)",
		"SENDING >>> ISAKMP OAK MM (SA, VID, VID, VID)",
		"RECEIVED <<< ISAKMP OAK QM *(HASH, SA, NON, ID, ID)",
		"SENDING >>> ISAKMP OAK QM *(HASH, SA, NON, ID, ID)",
		"phase-1 chosen", "phase-2 established", "spi_in=",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("trace lacks %q", want)
		}
	}
	if strings.Contains(out, psk) || strings.Contains(out, fmt.Sprintf("%x", psk)) {
		t.Error("the PSK appears in the trace")
	}
	buf.Reset()
	srv.SetTracePeer(clientAddr, false)
	if _, err := cli.Dial(netip.AddrPortFrom(clientAddr, 500), netip.AddrPortFrom(serverAddr, 500), DialConfig{PSK: []byte(psk)}); err != nil {
		t.Fatal(err)
	}
	net.pump()
	if buf.Len() != 0 {
		t.Errorf("trace off but got %q", buf.String())
	}
}

// A reload replaces the keys: a client with the new key gets in, one with
// the retired key is refused, and the SA established before stays.
func TestSetPSKs(t *testing.T) {
	p := newPair(t, pskCfg("the retired shared key"), false)
	p.dial(t, DialConfig{PSK: []byte("the retired shared key")})
	if len(p.srvEv.p1) != 1 {
		t.Fatalf("first client: %+v %v", p.srvEv.p1, p.srvEv.p1fail)
	}
	p.srv.SetPSKs([]PSK{{Key: []byte("the freshly rotated key")}})
	if n := len(p.srv.IKESAs()); n != 1 {
		t.Fatalf("SetPSKs dropped established SAs: %d left", n)
	}
	p2 := newPair(t, pskCfg("unused"), false)
	p2.srv.SetPSKs([]PSK{{Key: []byte("the freshly rotated key")}})
	p2.dial(t, DialConfig{PSK: []byte("the retired shared key")})
	if len(p2.srvEv.p1fail) != 1 || p2.srvEv.p1fail[0].Reason != ReasonPSKMismatch {
		t.Fatalf("retired key: %+v %v", p2.srvEv.p1, p2.srvEv.p1fail)
	}
	p3 := newPair(t, pskCfg("unused"), false)
	p3.srv.SetPSKs([]PSK{{Key: []byte("the freshly rotated key")}})
	p3.dial(t, DialConfig{PSK: []byte("the freshly rotated key")})
	if len(p3.srvEv.p1) != 1 || p3.srvEv.p1[0].KeyIndex != 0 {
		t.Fatalf("new key: %+v %v", p3.srvEv.p1, p3.srvEv.p1fail)
	}
}

// earlyRecorder is a recorder that also installs early.
type earlyRecorder struct {
	*recorder
	order     []string
	responded []*ChildSA
	abandoned []*ChildSA
}

func (r *earlyRecorder) Phase2Responding(c *ChildSA) {
	r.order = append(r.order, "responding")
	r.responded = append(r.responded, c)
}
func (r *earlyRecorder) Phase2Abandoned(c *ChildSA) { r.abandoned = append(r.abandoned, c) }
func (r *earlyRecorder) Phase2Established(c *ChildSA) {
	r.order = append(r.order, "established")
	r.recorder.Phase2Established(c)
}

// An EarlyInstaller gets the child SA, with its keys, when message 2 is
// sent and before it leaves (so ESP that overtakes message 3 finds its SA);
// message 3 then reports the same SA established. Without message 3, the
// early SA is reported abandoned.
func TestEarlyInstall(t *testing.T) {
	p := newPair(t, pskCfg("early install key"), false)
	ev := &earlyRecorder{recorder: p.srvEv}
	p.srv.events = ev
	sentQM2 := false
	p.net.drop = func(d datagram) bool {
		h, _, err := isakmp.ParseHeader(d.pkt)
		if err == nil && h.Exchange == isakmp.ExchangeQuickMode && d.src.Addr() == serverAddr {
			if len(ev.responded) != 1 {
				t.Errorf("Quick Mode message 2 left before the early SA was handed over")
			}
			sentQM2 = true
		}
		return false
	}
	p.dial(t, DialConfig{PSK: []byte("early install key"), Phase2: []Phase2Suite{{Transform: isakmp.ESPAESCBC, KeyBits: 128, Auth: isakmp.AuthAlgHMACSHA1}}})
	if !sentQM2 || len(ev.responded) != 1 || len(p.srvEv.p2) != 1 {
		t.Fatalf("responded %d, established %d", len(ev.responded), len(p.srvEv.p2))
	}
	if ev.responded[0] != p.srvEv.p2[0] || ev.order[0] != "responding" || ev.order[1] != "established" {
		t.Fatalf("order %v; same SA: %v", ev.order, ev.responded[0] == p.srvEv.p2[0])
	}
	mirrored(t, p.srvEv.p2[0], p.cEv.p2[0])

	// Message 3 lost for good: the early SA is abandoned.
	p2 := newPair(t, pskCfg("early install key"), false)
	ev2 := &earlyRecorder{recorder: p2.srvEv}
	p2.srv.events = ev2
	p2.net.drop = func(d datagram) bool {
		h, _, err := isakmp.ParseHeader(d.pkt)
		return err == nil && h.Exchange == isakmp.ExchangeQuickMode && d.dst.Addr() == serverAddr && h.MessageID != 0 && len(ev2.responded) == 1
	}
	p2.dial(t, DialConfig{PSK: []byte("early install key"), Phase2: []Phase2Suite{{Transform: isakmp.ESPAESCBC, KeyBits: 128, Auth: isakmp.AuthAlgHMACSHA1}}})
	if len(ev2.responded) != 1 || len(p2.srvEv.p2) != 0 {
		t.Fatalf("responded %d, established %d", len(ev2.responded), len(p2.srvEv.p2))
	}
	p2.clk.Advance(5 * time.Minute)
	if len(ev2.abandoned) != 1 || ev2.abandoned[0] != ev2.responded[0] {
		t.Fatalf("abandoned %d", len(ev2.abandoned))
	}
}
