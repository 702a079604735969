package esp

import (
	"bytes"
	"errors"
	"fmt"
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/l2tpsecd/l2tpsecd/internal/clock"
	"github.com/l2tpsecd/l2tpsecd/internal/testutil"
)

// delivery is one DeliverUDP call, copied.
type delivery struct {
	h        Handle
	src, dst uint16
	payload  string
}

// sink collects deliveries and IKE packets from a datapath's hooks.
type sink struct {
	mu    sync.Mutex
	got   []delivery
	ike   []string
	moved []netip.AddrPort
	ch    chan struct{}
}

func newSink() *sink { return &sink{ch: make(chan struct{}, 1<<16)} }

func (s *sink) hooks() Hooks {
	return Hooks{
		DeliverUDP: func(h Handle, src, dst uint16, p []byte) {
			s.mu.Lock()
			s.got = append(s.got, delivery{h, src, dst, string(p)})
			s.mu.Unlock()
			s.ch <- struct{}{}
		},
		IKE: func(p []byte, local, remote netip.AddrPort) {
			s.mu.Lock()
			s.ike = append(s.ike, fmt.Sprintf("%s %v<-%v", p, local, remote))
			s.mu.Unlock()
			s.ch <- struct{}{}
		},
		PeerMoved: func(h Handle, from, to netip.AddrPort) {
			s.mu.Lock()
			s.moved = append(s.moved, to)
			s.mu.Unlock()
		},
	}
}

// wait blocks until n more events arrived. The deadline only keeps a
// broken test from hanging; nothing is asserted about speed.
func (s *sink) wait(t *testing.T, n int) {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for i := 0; i < n; i++ {
		select {
		case <-s.ch:
		case <-deadline:
			t.Fatalf("only %d of %d events arrived", i, n)
		}
	}
}

func (s *sink) deliveries() []delivery {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]delivery(nil), s.got...)
}

// mirrored returns the server's and the client's view of one SA pair.
func mirrored(s suite, spiServer, spiClient uint32, serverAddr, clientAddr netip.AddrPort, encap Encap) (server, client SAPair) {
	cs, cc := s.config(spiServer), s.config(spiClient)
	// Different keys per direction, as IKE derives them.
	cc.EncKey = append([]byte(nil), cc.EncKey...)
	if len(cc.EncKey) > 0 {
		cc.EncKey[0] ^= 0xff
	}
	server = SAPair{In: cs, Out: cc, Encap: encap, Peer: clientAddr}
	client = SAPair{In: cc, Out: cs, Encap: encap, Peer: serverAddr}
	return server, client
}

// exchange runs the shared scenario on a server and a client datapath:
// three client SA pairs share the client's one address and port (three
// clients behind one NAT), each sends from L2TP port 1701 to 1701, and the
// server must tell them apart by SPI and answer each on its own SA.
func exchange(t *testing.T, server, client Datapath, ss, cs *sink, serverAddr, clientAddr netip.AddrPort, encap Encap) {
	var sh, ch [3]Handle
	for i := 0; i < 3; i++ {
		s := suites[[]int{0, 3, 9}[i]]
		sp, cp := mirrored(s, uint32(0x1000+i), uint32(0x2000+i), serverAddr, clientAddr, encap)
		var err error
		if sh[i], err = server.AddSA(sp); err != nil {
			t.Fatal(err)
		}
		if ch[i], err = client.AddSA(cp); err != nil {
			t.Fatal(err)
		}
	}
	const rounds = 5
	for r := 0; r < rounds; r++ {
		for i := 0; i < 3; i++ {
			if err := client.SendUDP(ch[i], 1701, 1701, []byte(fmt.Sprintf("client%d-%d", i, r))); err != nil {
				t.Fatal(err)
			}
		}
	}
	ss.wait(t, 3*rounds)
	perHandle := map[Handle][]string{}
	for _, d := range ss.deliveries() {
		if d.src != 1701 || d.dst != 1701 {
			t.Errorf("ports %d->%d", d.src, d.dst)
		}
		perHandle[d.h] = append(perHandle[d.h], d.payload)
	}
	for i := 0; i < 3; i++ {
		got := perHandle[sh[i]]
		if len(got) != rounds {
			t.Fatalf("server SA %d got %v", i, got)
		}
		for _, p := range got {
			if p[:7] != fmt.Sprintf("client%d", i) {
				t.Errorf("server SA %d got %q: traffic of another client", i, p)
			}
		}
	}
	// Replies, batched, to each client on its own SA.
	for i := 0; i < 3; i++ {
		var batch [][]byte
		for r := 0; r < rounds; r++ {
			batch = append(batch, []byte(fmt.Sprintf("reply%d-%d", i, r)))
		}
		if err := server.SendUDPBatch(sh[i], 1701, 1701, batch); err != nil {
			t.Fatal(err)
		}
	}
	cs.wait(t, 3*rounds)
	for _, d := range cs.deliveries() {
		want := -1
		for i := range ch {
			if ch[i] == d.h {
				want = i
			}
		}
		if want < 0 || d.payload[:6] != fmt.Sprintf("reply%d", want) {
			t.Errorf("client handle %d got %q", d.h, d.payload)
		}
	}
	st := server.Stats()
	if st.PacketsIn != 3*rounds || st.PacketsOut != 3*rounds || st.DropIntegrity+st.DropReplay+st.DropNoSA != 0 {
		t.Errorf("server stats %+v", st)
	}
	if encap == EncapUDP && (st.PacketsInUDP != st.PacketsIn || st.PacketsOutUDP != st.PacketsOut || st.PacketsInRaw+st.PacketsOutRaw != 0) ||
		encap == EncapRaw && (st.PacketsInRaw != st.PacketsIn || st.PacketsOutRaw != st.PacketsOut || st.PacketsInUDP+st.PacketsOutUDP != 0) {
		t.Errorf("%v: per-encapsulation counters %+v", encap, st)
	}
	in, out, ok := server.SAStats(sh[1])
	if !ok || in.Packets != rounds || out.Packets != rounds {
		t.Errorf("SA stats in %+v out %+v", in, out)
	}
	if err := server.RemoveSA(sh[0]); err != nil {
		t.Fatal(err)
	}
	if err := server.SendUDP(sh[0], 1701, 1701, []byte("x")); err != ErrNoSA {
		t.Errorf("send on removed SA: %v", err)
	}
}

func TestMemoryPair(t *testing.T) {
	serverAddr := netip.MustParseAddrPort("198.51.100.1:4500")
	clientAddr := netip.MustParseAddrPort("203.0.113.7:4500")
	ss, cs := newSink(), newSink()
	server, client := NewMemoryPair(MemoryConfig{Local: serverAddr, Hooks: ss.hooks()}, MemoryConfig{Local: clientAddr, Hooks: cs.hooks()})
	defer server.Close()
	defer client.Close()
	exchange(t, server, client, ss, cs, serverAddr, clientAddr, EncapUDP)

	// IKE shares the port behind the non-ESP marker.
	ike := bytes.Repeat([]byte{'I'}, 28)
	if err := client.SendIKE(ike, clientAddr, serverAddr); err != nil {
		t.Fatal(err)
	}
	ss.wait(t, 1)
	if len(ss.ike) != 1 || ss.ike[0] != string(ike)+" 198.51.100.1:4500<-203.0.113.7:4500" {
		t.Errorf("IKE %q", ss.ike)
	}
	// Keepalives and garbage are counted, not delivered.
	server.Inject([]byte{0xff}, clientAddr, true)
	server.Inject([]byte{1, 2}, clientAddr, true)
	server.Inject([]byte{0, 0, 0x99, 0x99, 0, 0, 0, 1, 1, 2, 3, 4}, clientAddr, true)
	server.Inject([]byte{0, 0, 0x10, 0x01, 0, 0, 0, 99, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 37, 38, 39, 40}, clientAddr, true)
	// A round trip through the queue proves the injected ones were handled.
	if err := client.SendIKE(ike, clientAddr, serverAddr); err != nil {
		t.Fatal(err)
	}
	ss.wait(t, 1)
	st := server.Stats()
	if st.Keepalives != 1 || st.DropMalformed != 1 || st.DropNoSA != 1 || st.DropIntegrity != 1 || st.IKEIn != 2 {
		t.Errorf("stats %+v", st)
	}
}

// TestMemoryNATRebinding: an authenticated packet from a new port moves
// the peer; a forged one does not.
func TestMemoryNATRebinding(t *testing.T) {
	serverAddr := netip.MustParseAddrPort("198.51.100.1:4500")
	clientAddr := netip.MustParseAddrPort("203.0.113.7:4500")
	newAddr := netip.MustParseAddrPort("203.0.113.7:31337")
	ss, cs := newSink(), newSink()
	server, client := NewMemoryPair(MemoryConfig{Local: serverAddr, Hooks: ss.hooks()}, MemoryConfig{Local: clientAddr, Hooks: cs.hooks()})
	defer server.Close()
	defer client.Close()
	sp, cp := mirrored(suites[0], 0x1000, 0x2000, serverAddr, clientAddr, EncapUDP)
	h, err := server.AddSA(sp)
	if err != nil {
		t.Fatal(err)
	}
	// The client's outbound SA, outside the datapath, to craft packets.
	out, err := NewSA(cp.Out, Outbound, nil)
	if err != nil {
		t.Fatal(err)
	}
	sc := NewScratch()
	mk := func(payload string) []byte {
		buf := make([]byte, bufSize)
		var c core
		pkt, err := c.sealUDP(sc, out, buf, 1701, 1701, []byte(payload))
		if err != nil {
			t.Fatal(err)
		}
		return pkt
	}
	forged := mk("forged")
	forged[len(forged)-1] ^= 1
	server.Inject(forged, newAddr, true)
	server.Inject(mk("hello"), clientAddr, true)
	ss.wait(t, 1)
	if p, _, _ := server.Peer(h); p != clientAddr {
		t.Fatalf("forged packet moved the peer to %v", p)
	}
	server.Inject(mk("rebound"), newAddr, true)
	ss.wait(t, 1)
	if p, _, _ := server.Peer(h); p != newAddr {
		t.Fatalf("peer %v after rebinding", p)
	}
	if st := server.Stats(); st.PeerMoves != 1 || st.DropIntegrity != 1 {
		t.Errorf("stats %+v", st)
	}
}

// TestMemoryICV96 wires an "Android" client that sends 96-bit
// HMAC-SHA2-256 ICVs to a server SA negotiated as SHA2-256-128: the server
// detects it and answers with 96-bit ICVs the client accepts.
func TestMemoryICV96(t *testing.T) {
	serverAddr := netip.MustParseAddrPort("198.51.100.1:4500")
	clientAddr := netip.MustParseAddrPort("203.0.113.7:4500")
	ss, cs := newSink(), newSink()
	server, client := NewMemoryPair(MemoryConfig{Local: serverAddr, Hooks: ss.hooks()}, MemoryConfig{Local: clientAddr, Hooks: cs.hooks()})
	defer server.Close()
	defer client.Close()
	sp, cp := mirrored(suites[2], 0x1000, 0x2000, serverAddr, clientAddr, EncapUDP)
	cp.In.ICV96, cp.Out.ICV96 = ICV96On, ICV96On
	sh, _ := server.AddSA(sp)
	ch, _ := client.AddSA(cp)
	if err := client.SendUDP(ch, 1701, 1701, []byte("sccrq")); err != nil {
		t.Fatal(err)
	}
	ss.wait(t, 1)
	if err := server.SendUDP(sh, 1701, 1701, []byte("sccrp")); err != nil {
		t.Fatal(err)
	}
	cs.wait(t, 1)
	if d := cs.deliveries(); len(d) != 1 || d[0].payload != "sccrp" {
		t.Fatalf("client got %v", d)
	}
	if in, _, _ := server.SAStats(sh); in.ICV96 != 1 {
		t.Errorf("detection not counted: %+v", in)
	}
}

func TestUserspaceLoopback(t *testing.T) {
	ss, cs := newSink(), newSink()
	server, err := NewUserspace(UserspaceConfig{Listen: []netip.AddrPort{netip.MustParseAddrPort("127.0.0.1:0")}, Workers: 2, Hooks: ss.hooks()})
	if err != nil {
		t.Skipf("cannot open UDP sockets on loopback: %v", err)
	}
	defer server.Close()
	client, err := NewUserspace(UserspaceConfig{Listen: []netip.AddrPort{netip.MustParseAddrPort("127.0.0.2:0")}, Workers: 2, Hooks: cs.hooks()})
	if err != nil {
		t.Skipf("cannot bind 127.0.0.2: %v", err)
	}
	defer client.Close()
	serverAddr, clientAddr := server.LocalAddrs()[0], client.LocalAddrs()[0]
	exchange(t, server, client, ss, cs, serverAddr, clientAddr, EncapUDP)

	ike := bytes.Repeat([]byte{'I'}, 40)
	if err := client.SendIKE(ike, clientAddr, serverAddr); err != nil {
		t.Fatal(err)
	}
	ss.wait(t, 1)
	if want := fmt.Sprintf("%s %v<-%v", ike, serverAddr, clientAddr); len(ss.ike) != 1 || ss.ike[0] != want {
		t.Errorf("IKE %q, want %q", ss.ike, want)
	}
}

func TestUserspaceWildcardIKELocal(t *testing.T) {
	ss := newSink()
	server, err := NewUserspace(UserspaceConfig{Listen: []netip.AddrPort{netip.MustParseAddrPort("0.0.0.0:0")}, Workers: 1, Hooks: ss.hooks()})
	if err != nil {
		t.Skipf("cannot open UDP sockets: %v", err)
	}
	defer server.Close()
	client, err := NewUserspace(UserspaceConfig{Listen: []netip.AddrPort{netip.MustParseAddrPort("127.0.0.2:0")}, Workers: 1})
	if err != nil {
		t.Skipf("cannot bind 127.0.0.2: %v", err)
	}
	defer client.Close()
	port := server.LocalAddrs()[0].Port()
	dst := netip.AddrPortFrom(netip.MustParseAddr("127.0.0.3"), port)
	if err := client.SendIKE(bytes.Repeat([]byte{'I'}, 28), client.LocalAddrs()[0], dst); err != nil {
		t.Fatal(err)
	}
	ss.wait(t, 1)
	if want := fmt.Sprintf("%s %v<-%v", bytes.Repeat([]byte{'I'}, 28), dst, client.LocalAddrs()[0]); ss.ike[0] != want {
		t.Errorf("IKE %q, want %q (local address from IP_PKTINFO)", ss.ike[0], want)
	}
}

func TestUserspaceRawESP(t *testing.T) {
	testutil.RequireRoot(t)
	ss, cs := newSink(), newSink()
	server, err := NewUserspace(UserspaceConfig{Listen: []netip.AddrPort{netip.MustParseAddrPort("127.0.0.1:0")}, Workers: 2, RawESP: true, Hooks: ss.hooks()})
	if err != nil {
		t.Skipf("raw ESP socket unavailable: %v", err)
	}
	defer server.Close()
	client, err := NewUserspace(UserspaceConfig{Listen: []netip.AddrPort{netip.MustParseAddrPort("127.0.0.2:0")}, Workers: 2, RawESP: true, Hooks: cs.hooks()})
	if err != nil {
		t.Skipf("raw ESP socket unavailable: %v", err)
	}
	defer client.Close()
	serverAddr := netip.AddrPortFrom(server.LocalAddrs()[0].Addr(), 0)
	clientAddr := netip.AddrPortFrom(client.LocalAddrs()[0].Addr(), 0)
	exchange(t, server, client, ss, cs, serverAddr, clientAddr, EncapRaw)
}

func TestUserspaceSendAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts are meaningless under -race (sync.Pool drops items)")
	}
	server, err := NewUserspace(UserspaceConfig{Listen: []netip.AddrPort{netip.MustParseAddrPort("127.0.0.1:0")}, Workers: 1})
	if err != nil {
		t.Skipf("cannot open UDP sockets: %v", err)
	}
	defer server.Close()
	// The peer is a port nobody reads: only the send path is measured.
	sp, _ := mirrored(suites[0], 0x1000, 0x2000, server.LocalAddrs()[0], netip.MustParseAddrPort("127.0.0.1:9"), EncapUDP)
	h, err := server.AddSA(sp)
	if err != nil {
		t.Fatal(err)
	}
	payload := make([]byte, 512)
	server.SendUDP(h, 1701, 1701, payload)
	if a := testing.AllocsPerRun(200, func() { server.SendUDP(h, 1701, 1701, payload) }); a != 0 {
		t.Errorf("SendUDP allocates %.1f per packet", a)
	}
}

// TestInputZeroAllocs: the worker's per-packet step (SPI lookup, Open,
// inner UDP parse, delivery) allocates nothing.
func TestInputZeroAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts are meaningless under -race (sync.Pool drops items)")
	}
	var c core
	delivered := 0
	c.init(Hooks{DeliverUDP: func(Handle, uint16, uint16, []byte) { delivered++ }}, nil, nil)
	peer := netip.MustParseAddrPort("203.0.113.7:4500")
	for _, s := range benchSuites {
		sp, cp := mirrored(s, 0x1000, 0x2000, netip.MustParseAddrPort("198.51.100.1:4500"), peer, EncapUDP)
		h, err := c.addSA(sp)
		if err != nil {
			t.Fatal(err)
		}
		out, _ := NewSA(cp.Out, Outbound, nil)
		sc := NewScratch()
		pkts := make([][]byte, 102)
		for i := range pkts {
			pkts[i], _ = c.sealUDP(sc, out, make([]byte, bufSize), 1701, 1701, make([]byte, 512))
		}
		i := 0
		before := delivered
		if a := testing.AllocsPerRun(100, func() {
			spi, _, _ := PeekSPI(pkts[i])
			c.input(sc, c.tab.spi(spi), pkts[i], peer, true)
			i++
		}); a != 0 {
			t.Errorf("%s: input allocates %.1f per packet", s.name, a)
		}
		if delivered-before != 101 {
			t.Errorf("%s: delivered %d of 101", s.name, delivered-before)
		}
		c.removeSA(h)
	}
}

func TestClaimOwnership(t *testing.T) {
	var e saEntry
	if w := e.claim(1); w != 1 {
		t.Fatalf("first claim: %d", w)
	}
	if w := e.claim(0); w != 1 {
		t.Fatalf("second claim moved the owner to %d", w)
	}
}

// FuzzMemoryReceive feeds arbitrary datagrams (UDP/4500 payloads and raw
// ESP) to a datapath with installed SAs: nothing panics, nothing is
// delivered without a valid ICV.
func FuzzMemoryReceive(f *testing.F) {
	serverAddr := netip.MustParseAddrPort("198.51.100.1:4500")
	clientAddr := netip.MustParseAddrPort("203.0.113.7:4500")
	delivered := 0
	m := newMemory(MemoryConfig{Local: serverAddr, Hooks: Hooks{DeliverUDP: func(Handle, uint16, uint16, []byte) { delivered++ }}})
	for i, s := range []suite{suites[0], suites[9]} {
		sp, _ := mirrored(s, uint32(0x1000+i), uint32(0x2000+i), serverAddr, clientAddr, EncapUDP)
		if _, err := m.AddSA(sp); err != nil {
			f.Fatal(err)
		}
	}
	f.Add([]byte{0xff}, true)
	f.Add([]byte{0, 0, 0x10, 0, 0, 0, 0, 1, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24}, true)
	f.Add([]byte{0, 0, 0x10, 0x01, 0, 0, 0, 1, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24}, false)
	f.Fuzz(func(t *testing.T, b []byte, udp bool) {
		m.receive(memDatagram{b: append([]byte(nil), b...), from: clientAddr, udp: udp})
		if delivered != 0 {
			t.Fatal("forged packet delivered")
		}
	})
}

// TestMemoryKeepalivesAndEvents: periodic NAT-keepalives run on the
// injected clock and stop with the SA; lifetime events reach Hooks.Event
// with the handle.
func TestMemoryKeepalivesAndEvents(t *testing.T) {
	clk := clock.NewFake(time.Unix(1e9, 0))
	serverAddr := netip.MustParseAddrPort("198.51.100.1:4500")
	clientAddr := netip.MustParseAddrPort("203.0.113.7:4500")
	ss, cs := newSink(), newSink()
	var mu sync.Mutex
	var events []string
	sh := ss.hooks()
	sh.Event = func(h Handle, e Event) {
		mu.Lock()
		events = append(events, fmt.Sprintf("%d:%v:%v", h, e.Dir, e.Kind))
		mu.Unlock()
	}
	server, client := NewMemoryPair(MemoryConfig{Local: serverAddr, Hooks: sh, Clock: clk}, MemoryConfig{Local: clientAddr, Hooks: cs.hooks()})
	defer server.Close()
	defer client.Close()
	sp, _ := mirrored(suites[0], 0x1000, 0x2000, serverAddr, clientAddr, EncapUDP)
	sp.KeepaliveInterval = 20 * time.Second
	sp.Out.Soft = Lifetime{Duration: time.Hour}
	h, err := server.AddSA(sp)
	if err != nil {
		t.Fatal(err)
	}
	clk.Advance(61 * time.Second)
	// Traffic in an interval replaces that interval's keepalive.
	if err := server.SendUDP(h, 1701, 1701, []byte("hello")); err != nil {
		t.Fatal(err)
	}
	clk.Advance(20 * time.Second)
	clk.Advance(20 * time.Second)
	// A marker IKE message behind the keepalives proves they were handled.
	server.SendIKE(bytes.Repeat([]byte{'I'}, 28), serverAddr, clientAddr)
	cs.wait(t, 1)
	if st := client.Stats(); st.Keepalives != 4 {
		t.Errorf("client saw %d keepalives, want 4", st.Keepalives)
	}
	if st := server.Stats(); st.KeepalivesOut != 4 {
		t.Errorf("server sent %d keepalives", st.KeepalivesOut)
	}
	clk.Advance(time.Hour - 40*time.Second)
	mu.Lock()
	if want := fmt.Sprintf("[%d:outbound:soft-time]", h); fmt.Sprint(events) != want {
		t.Errorf("events %v, want %s", events, want)
	}
	mu.Unlock()
	server.RemoveSA(h)
	if clk.Pending() != 0 {
		t.Errorf("%d timers left after RemoveSA", clk.Pending())
	}
	if err := server.SendKeepalive(h); err != ErrNoSA {
		t.Errorf("keepalive on a removed SA: %v", err)
	}
}

// TestUserspaceHandoff: SAs owned by each worker still get their packets
// whichever socket the kernel picks, through the reader-to-owner handoff.
func TestUserspaceHandoff(t *testing.T) {
	ss, cs := newSink(), newSink()
	server, err := NewUserspace(UserspaceConfig{Listen: []netip.AddrPort{netip.MustParseAddrPort("127.0.0.1:0")}, Workers: 2, Hooks: ss.hooks()})
	if err != nil {
		t.Skipf("cannot open UDP sockets on loopback: %v", err)
	}
	defer server.Close()
	client, err := NewUserspace(UserspaceConfig{Listen: []netip.AddrPort{netip.MustParseAddrPort("127.0.0.2:0")}, Workers: 1, Hooks: cs.hooks()})
	if err != nil {
		t.Skipf("cannot bind 127.0.0.2: %v", err)
	}
	defer client.Close()
	var ch [2]Handle
	for w := 0; w < 2; w++ {
		sp, cp := mirrored(suites[0], uint32(0x1000+w), uint32(0x2000+w), server.LocalAddrs()[0], client.LocalAddrs()[0], EncapUDP)
		h, err := server.AddSA(sp)
		if err != nil {
			t.Fatal(err)
		}
		server.tab.handle(h).owner.Store(int32(w + 1))
		if ch[w], err = client.AddSA(cp); err != nil {
			t.Fatal(err)
		}
	}
	for w := 0; w < 2; w++ {
		if err := client.SendUDP(ch[w], 1701, 1701, []byte("x")); err != nil {
			t.Fatal(err)
		}
	}
	ss.wait(t, 2)
	if err := client.SendKeepalive(ch[0]); err != nil {
		t.Fatal(err)
	}
	if err := client.SendIKE(bytes.Repeat([]byte{'I'}, 28), client.LocalAddrs()[0], server.LocalAddrs()[0]); err != nil {
		t.Fatal(err)
	}
	ss.wait(t, 1)
	if st := server.Stats(); st.PacketsIn != 2 || st.Keepalives != 1 {
		t.Errorf("stats %+v", st)
	}
}

func TestDatapathConfigErrors(t *testing.T) {
	if _, err := NewUserspace(UserspaceConfig{Listen: []netip.AddrPort{netip.MustParseAddrPort("[::1]:0")}}); !errors.Is(err, ErrBadConfig) {
		t.Errorf("IPv6 listener: %v", err)
	}
	u, err := NewUserspace(UserspaceConfig{Listen: []netip.AddrPort{netip.MustParseAddrPort("127.0.0.1:0")}, Workers: 1})
	if err != nil {
		t.Skipf("cannot open UDP sockets: %v", err)
	}
	defer u.Close()
	peer := netip.MustParseAddrPort("127.0.0.1:9")
	sp, _ := mirrored(suites[0], 0x1000, 0x2000, u.LocalAddrs()[0], peer, EncapRaw)
	if _, err := u.AddSA(sp); !errors.Is(err, ErrBadConfig) {
		t.Errorf("raw SA without a raw socket: %v", err)
	}
	sp.Encap = EncapUDP
	if _, err := u.AddSA(sp); err != nil {
		t.Fatal(err)
	}
	if _, err := u.AddSA(sp); !errors.Is(err, ErrDuplicateSPI) {
		t.Errorf("duplicate SPI: %v", err)
	}
	sp.In.SPI = 0x1001
	for name, edit := range map[string]func(p *SAPair){
		"IPv6 peer":    func(p *SAPair) { p.Peer = netip.MustParseAddrPort("[2001:db8::1]:4500") },
		"no port":      func(p *SAPair) { p.Peer = netip.MustParseAddrPort("127.0.0.1:0") },
		"no encap":     func(p *SAPair) { p.Encap = 0 },
		"bad inbound":  func(p *SAPair) { p.In.EncKey = nil },
		"bad outbound": func(p *SAPair) { p.Out.AuthKey = nil },
		"reserved SPI": func(p *SAPair) { p.In.SPI = 1 },
	} {
		p := sp
		edit(&p)
		if _, err := u.AddSA(p); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	h, _ := u.AddSA(sp)
	if err := u.SendUDP(h, 1701, 1701, make([]byte, maxSendData+1)); err != ErrPayloadTooBig {
		t.Errorf("oversized payload: %v", err)
	}
	if err := u.SendUDP(h, 1701, 1701, make([]byte, maxSendData)); err != nil {
		t.Errorf("largest payload: %v", err)
	}
	u.Close()
	if err := u.SendUDP(h, 1701, 1701, nil); err != ErrClosed {
		t.Errorf("send after Close: %v", err)
	}
}
