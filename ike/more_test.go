package ike

import (
	"net/netip"
	"testing"
	"time"

	"github.com/l2tpsecd/l2tpsecd/ike/isakmp"
)

func TestResponderLifetimeRoundTrip(t *testing.T) {
	for _, c := range []struct{ s, kb uint64 }{{3600, 0}, {28800, 250000}, {1, 1}, {0xffffffff, 0}} {
		if got := responderLifetime(lifetimeAttrs(c.s, c.kb)); got != c.s {
			t.Errorf("%d s: read back %d", c.s, got)
		}
	}
	// Basic (TV) duration as some peers send it.
	tv := []byte{0x80, 0x01, 0x00, 0x01, 0x80, 0x02, 0x0e, 0x10}
	if got := responderLifetime(tv); got != 3600 {
		t.Errorf("TV form: %d", got)
	}
}

func FuzzResponderLifetime(f *testing.F) {
	f.Add(lifetimeAttrs(3600, 1000))
	f.Add([]byte{0x80, 0x01, 0x00, 0x01, 0x80, 0x02, 0x0e, 0x10})
	f.Fuzz(func(t *testing.T, b []byte) {
		responderLifetime(b)
	})
}

// A lost QM2 is recovered by the initiator's retransmission of QM1, which
// the responder answers from its cache.
func TestQuickModeRetransmission(t *testing.T) {
	p := newPair(t, pskCfg("qm retransmit key"), false)
	dropped := false
	p.net.drop = func(d datagram) bool {
		h, _, err := isakmp.ParseHeader(d.pkt)
		if err == nil && d.dst.Addr() == clientAddr && h.Exchange == isakmp.ExchangeQuickMode && !dropped {
			dropped = true
			return true
		}
		return false
	}
	p.dial(t, DialConfig{PSK: []byte("qm retransmit key"), PFS: GroupMODP2048, Phase2: Policy{}.Phase2Suites(isakmp.EncapTransport)})
	if len(p.cEv.p2) != 0 || !dropped {
		t.Fatal("QM2 was not dropped")
	}
	dh := p.srv.Stats().DHComputations.Load()
	p.clk.Advance(2 * time.Second)
	p.net.pump()
	if len(p.srvEv.p2) != 1 || len(p.cEv.p2) != 1 {
		t.Fatalf("child SAs %d/%d", len(p.srvEv.p2), len(p.cEv.p2))
	}
	mirrored(t, p.srvEv.p2[0], p.cEv.p2[0])
	if got := p.srv.Stats().DHComputations.Load(); got != dh {
		t.Errorf("PFS DH recomputed for a retransmission: %d -> %d", dh, got)
	}
}

// A client rekeying phase 1 gets a second IKE SA; the first one and its
// child stay until deleted or expired.
func TestPhase1Rekey(t *testing.T) {
	p := newPair(t, pskCfg("rekey key"), false)
	dc := DialConfig{PSK: []byte("rekey key"), Phase2: Policy{}.Phase2Suites(isakmp.EncapTransport)[:1]}
	p.dial(t, dc)
	p.dial(t, dc)
	if len(p.srvEv.p1) != 2 || len(p.srvEv.p2) != 2 || len(p.srvEv.ikeDel) != 0 || len(p.srvEv.childDel) != 0 {
		t.Fatalf("p1 %d p2 %d deletions %v %v", len(p.srvEv.p1), len(p.srvEv.p2), p.srvEv.ikeDel, p.srvEv.childDel)
	}
	if n := len(p.srv.IKESAs()); n != 2 {
		t.Errorf("%d IKE SAs listed", n)
	}
	if n := len(p.srv.ChildSAs()); n != 2 {
		t.Errorf("%d child SAs listed", n)
	}
	// The client deletes the old IKE SA: its child stays (IKEv1).
	old := p.cEv.p1[0]
	if !p.cli.DeleteIKESA(old.ICookie, old.RCookie) {
		t.Fatal("no such SA")
	}
	p.net.pump()
	if len(p.srvEv.ikeDel) != 1 || p.srvEv.ikeDel[0] != ReasonPeerDeleted || len(p.srv.ChildSAs()) != 2 {
		t.Errorf("after Delete: %v, %d child SAs", p.srvEv.ikeDel, len(p.srv.ChildSAs()))
	}
}

// ESP traffic reported with Touch keeps DPD quiet.
func TestTouchKeepsDPDQuiet(t *testing.T) {
	cfg := pskCfg("touch key")
	cfg.DPDInterval, cfg.DPDMaxUnanswered = 10*time.Second, 2
	p := newPair(t, cfg, false)
	p.dial(t, DialConfig{PSK: []byte("touch key"), DPD: true, Phase2: Policy{}.Phase2Suites(isakmp.EncapTransport)[:1]})
	p.net.drop = func(d datagram) bool { return true } // IKE is silent, ESP flows
	sent := len(p.net.log)
	for i := 0; i < 20; i++ {
		p.srv.Touch(p.srvEv.p2[0].In.SPI)
		p.clk.Advance(5 * time.Second)
		p.net.pump()
	}
	if len(p.srvEv.dead) != 0 || len(p.net.log) != sent {
		t.Errorf("busy peer probed: %d datagrams, dead %d", len(p.net.log)-sent, len(p.srvEv.dead))
	}
}

func TestKeepaliveIgnored(t *testing.T) {
	p := newPair(t, pskCfg("keepalive key"), false)
	if err := p.srv.HandlePacket([]byte{0xff}, netip.AddrPortFrom(serverAddr, 4500), netip.AddrPortFrom(clientAddr, 4500)); err != nil {
		t.Fatal(err)
	}
	if p.srv.Stats().Dropped.Load() != 0 || len(p.net.q) != 0 {
		t.Error("keepalive counted or answered")
	}
}
