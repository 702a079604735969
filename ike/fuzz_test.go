package ike

import (
	"math/rand/v2"
	"net/netip"
	"sync"
	"testing"

	"github.com/l2tpsecd/l2tpsecd/ike/isakmp"
	"github.com/l2tpsecd/l2tpsecd/internal/clock"
)

// fuzzTranscript is a whole negotiation (MODP: crypto/ecdh ignores the
// random source, so ECP keys cannot be replayed) (NAT-T, DPD, PFS, a Delete) as the
// server received it, made with deterministic randomness so that a fresh
// server replays into the same states.
var fuzzTranscript = sync.OnceValue(func() []datagram {
	net := newTestNet(nil)
	clk := clock.NewFake(t0)
	srv := newFuzzServer(net, clk)
	cli := newFuzzClient(net, clk)
	net.hosts[serverAddr], net.hosts[clientAddr] = srv, cli
	net.pump()
	clk.Advance(30 * 1e9) // both sides probe with R-U-THERE
	net.pump()
	for _, c := range cli.spis {
		if c != nil {
			cli.DeleteChildSA(c.child.In.SPI)
			break
		}
	}
	net.pump()
	return net.log
})

func toHost(tr []datagram, a netip.Addr) []datagram {
	var out []datagram
	for _, d := range tr {
		if d.dst.Addr() == a {
			out = append(out, d)
		}
	}
	return out
}

// newFuzzClient makes the initiator and dials: its first message is queued
// on net.
func newFuzzClient(net *testNet, clk clock.Clock) *Engine {
	cli := NewEngine(Config{Rand: rand.NewChaCha8([32]byte{2})}, net, nil, clk, nil, nil)
	suite := Phase1Suite{Cipher: CipherAESCBC, KeyBits: 128, Hash: HashSHA256, Group: GroupMODP2048, Auth: isakmp.AuthPSK}
	_, err := cli.Dial(netip.AddrPortFrom(clientAddr, 500), netip.AddrPortFrom(serverAddr, 500), DialConfig{
		PSK: []byte("fuzzing key"), Phase1: []Phase1Suite{suite}, DPD: true, PFS: GroupMODP2048, InitialContact: true,
		Phase2: Policy{}.Phase2Suites(isakmp.EncapTransport)})
	if err != nil {
		panic(err)
	}
	return cli
}

func newFuzzServer(net *testNet, clk clock.Clock) *Engine {
	cfg := pskCfg("another key", "fuzzing key")
	cfg.Rand = rand.NewChaCha8([32]byte{1})
	return NewEngine(cfg, net, nil, clk, nil, nil)
}

// FuzzHandlePacket replays the first n messages of a real negotiation into
// a fresh server, then feeds it the fuzzer's datagram: whatever the state,
// malformed input must return an error, never panic.
func FuzzHandlePacket(f *testing.F) {
	tr := toHost(fuzzTranscript(), serverAddr)
	for i, d := range tr {
		f.Add(uint8(i), d.pkt)
	}
	f.Add(uint8(0), []byte{0xff})
	f.Fuzz(func(t *testing.T, n uint8, pkt []byte) {
		net := newTestNet(t)
		clk := clock.NewFake(t0)
		srv := newFuzzServer(net, clk)
		k := int(n) % (len(tr) + 1)
		for _, d := range tr[:k] {
			srv.HandlePacket(d.pkt, d.dst, d.src)
		}
		src := netip.AddrPortFrom(clientAddr, 500)
		if k > 0 {
			src = tr[k-1].src
		}
		srv.HandlePacket(pkt, netip.AddrPortFrom(serverAddr, src.Port()), src)
		clk.Advance(DefaultPhase1Lifetime)
	})
}

// The transcript replays: a fresh server with the same randomness reaches
// the same child SAs, so the fuzzer explores every state.
func TestFuzzTranscriptReplays(t *testing.T) {
	tr := toHost(fuzzTranscript(), serverAddr)
	if len(tr) < 8 { // MM1, MM3, MM5, QM1, QM3, R-U-THERE, R-U-THERE-ACK, Delete
		t.Fatalf("transcript has %d messages", len(tr))
	}
	net := newTestNet(t)
	ev := &recorder{}
	srv := newFuzzServer(net, clock.NewFake(t0))
	srv.events = ev
	for _, d := range tr {
		if err := srv.HandlePacket(d.pkt, d.dst, d.src); err != nil {
			t.Fatalf("replay: %v", err)
		}
	}
	if len(ev.p2) != 1 || len(ev.childDel) != 1 {
		t.Fatalf("replay reached %d child SAs, %d deletions", len(ev.p2), len(ev.childDel))
	}
}

// FuzzInitiatorHandlePacket does the same for the initiator: a fresh
// client dials, gets the first n answers of the real negotiation, then the
// fuzzer's datagram.
func FuzzInitiatorHandlePacket(f *testing.F) {
	tr := toHost(fuzzTranscript(), clientAddr)
	for i, d := range tr {
		f.Add(uint8(i), d.pkt)
	}
	f.Fuzz(func(t *testing.T, n uint8, pkt []byte) {
		net := newTestNet(t)
		clk := clock.NewFake(t0)
		cli := newFuzzClient(net, clk)
		k := int(n) % (len(tr) + 1)
		for _, d := range tr[:k] {
			cli.HandlePacket(d.pkt, d.dst, d.src)
		}
		src := netip.AddrPortFrom(serverAddr, 500)
		if k > 0 {
			src = tr[k-1].src
		}
		cli.HandlePacket(pkt, netip.AddrPortFrom(clientAddr, src.Port()), src)
		clk.Advance(DefaultPhase1Lifetime)
	})
}

func TestInitiatorTranscriptReplays(t *testing.T) {
	tr := toHost(fuzzTranscript(), clientAddr)
	net := newTestNet(t)
	ev := &recorder{}
	cli := newFuzzClient(net, clock.NewFake(t0))
	cli.events = ev
	for _, d := range tr {
		if err := cli.HandlePacket(d.pkt, d.dst, d.src); err != nil {
			t.Fatalf("replay: %v", err)
		}
	}
	if len(ev.p2) != 1 {
		t.Fatalf("replay reached %d child SAs", len(ev.p2))
	}
}
