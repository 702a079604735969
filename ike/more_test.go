package ike

import (
	"net/netip"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/l2tpsecd/l2tpsecd/ike/isakmp"
	"github.com/l2tpsecd/l2tpsecd/internal/clock"
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

// A Windows 10-shaped message 1 (CLIENTS.md): ECP384 and ECP256 first,
// lifetimes as 4-byte TLVs, MS vendor IDs, the fragmentation VID without
// capability bytes and several NAT-T VIDs.
func TestWindowsShapedMessage1(t *testing.T) {
	p := newPair(t, pskCfg("windows key"), false)
	tr := func(n uint8, enc CipherAlg, bits int, h HashAlg, g Group) isakmp.Transform {
		return isakmp.Transform{Number: n, ID: uint8(isakmp.KeyIKE), Attributes: []isakmp.Attribute{
			isakmp.BasicAttr(isakmp.OakleyEncryption, uint16(enc)),
			isakmp.BasicAttr(isakmp.OakleyKeyLength, uint16(bits)),
			isakmp.BasicAttr(isakmp.OakleyHash, uint16(h)),
			isakmp.BasicAttr(isakmp.OakleyGroup, uint16(g)),
			isakmp.BasicAttr(isakmp.OakleyAuthMethod, uint16(isakmp.AuthPSK)),
			isakmp.BasicAttr(isakmp.OakleyLifeType, uint16(isakmp.LifeSeconds)),
			isakmp.NumAttrTLV(isakmp.OakleyLifeDuration, 28800),
		}}
	}
	sa := &isakmp.SA{DOI: isakmp.DOIIPsec, Situation: isakmp.SituationIdentityOnly, Proposals: []isakmp.Proposal{{
		Number: 1, Protocol: isakmp.ProtoISAKMP, Transforms: []isakmp.Transform{
			tr(1, CipherAESCBC, 256, HashSHA1, GroupECP384),
			tr(2, CipherAESCBC, 128, HashSHA1, GroupECP256),
			tr(3, CipherAESCBC, 256, HashSHA1, GroupMODP2048),
			tr(4, Cipher3DES, 0, HashSHA1, GroupMODP2048),
		}}}}
	vids := []isakmp.VendorID{isakmp.VendorMSNT5, isakmp.VendorRFC3947, isakmp.VendorNATTDraft02N, isakmp.VendorFragmentation,
		isakmp.VendorMSNegotiationDiscovery, isakmp.VendorMSInitialContact}
	payloads := []isakmp.Payload{sa}
	for _, v := range vids {
		b := v.Bytes()
		if v == isakmp.VendorMSNT5 {
			b = append(b, 0, 0, 0, 9)
		}
		if v == isakmp.VendorFragmentation {
			b = b[:16]
		}
		payloads = append(payloads, &isakmp.VendorIDPayload{Data: b})
	}
	m := &isakmp.Message{Header: isakmp.Header{InitiatorCookie: isakmp.Cookie{1, 2, 3, 4, 5, 6, 7, 8}, Exchange: isakmp.ExchangeMainMode}, Body: isakmp.Body{Payloads: payloads}}
	pkt, err := m.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	if err := p.srv.HandlePacket(pkt, netip.AddrPortFrom(serverAddr, 500), netip.AddrPortFrom(clientAddr, 500)); err != nil {
		t.Fatal(err)
	}
	if len(p.net.q) != 1 {
		t.Fatalf("%d replies", len(p.net.q))
	}
	reply, err := isakmp.Parse(p.net.q[0].pkt)
	if err != nil {
		t.Fatal(err)
	}
	rsa, _ := isakmp.Find[*isakmp.SA](reply.Payloads)
	if len(rsa.Proposals) != 1 || len(rsa.Proposals[0].Transforms) != 1 || rsa.Proposals[0].Transforms[0].Number != 1 {
		t.Fatalf("reply SA %+v", rsa)
	}
	// The transform is echoed as received (Windows checks the attributes).
	if got := rsa.Proposals[0].Transforms[0].Attributes; len(got) != 7 || got[6].Basic {
		t.Errorf("echoed attributes %+v", got)
	}
	var kinds []isakmp.VendorID
	for _, v := range isakmp.FindAll[*isakmp.VendorIDPayload](reply.Payloads) {
		kinds = append(kinds, v.Kind())
	}
	if len(kinds) != 3 || kinds[0] != isakmp.VendorRFC3947 || kinds[1] != isakmp.VendorDPD || kinds[2] != isakmp.VendorFragmentation {
		t.Errorf("our vendor IDs %v", kinds)
	}
	info := p.srv.IKESAs()
	if len(info) != 1 || info[0].Suite != p1(CipherAESCBC, 256, HashSHA1, GroupECP384) || info[0].NATT != isakmp.VendorRFC3947 {
		t.Errorf("SA %+v", info)
	}
}

// Our side of Quick Mode must be UDP/1701 (RFC 3193); the client's port
// may be anything.
func TestPhase2IDPortChecked(t *testing.T) {
	p := newPair(t, pskCfg("port key"), false)
	p.dial(t, DialConfig{PSK: []byte("port key"), L2TPPort: 40000, Phase2: Policy{}.Phase2Suites(isakmp.EncapTransport)[:1]})
	if len(p.srvEv.p2) != 1 || p.srvEv.p2[0].ClientL2TPPort != 40000 {
		t.Fatalf("any client port: %v %v", p.srvEv.p2, p.srvEv.p2fail)
	}
	idcr := isakmp.NewIDAddr(serverAddr, protoUDP, 22)
	if err := checkIDs(isakmp.NewIDAddr(clientAddr, protoUDP, 1701), idcr); err != nil {
		t.Fatal(err)
	}
	if err := checkIDs(isakmp.NewIDAddr(clientAddr, 6, 1701), idcr); err == nil {
		t.Error("TCP accepted")
	}
	sub := isakmp.NewIDSubnet(netip.MustParsePrefix("10.0.0.0/16"), 0, 0)
	if err := checkIDs(sub, idcr); err == nil {
		t.Error("a subnet (tunnel-mode selector) accepted")
	}
}

func TestShutdownAndMetrics(t *testing.T) {
	reg := prometheus.NewRegistry()
	cfg := pskCfg("metrics key")
	p := newPair(t, cfg, false)
	p.srv = NewEngine(cfg, p.net, p.srvEv, p.clk, nil, NewMetrics(reg))
	p.net.hosts[serverAddr] = p.srv
	p.dial(t, DialConfig{PSK: []byte("metrics key"), Phase2: Policy{}.Phase2Suites(isakmp.EncapTransport)[:1]})
	p.dial(t, DialConfig{PSK: []byte("wrong key value")})
	if got := metricValue(p.srv.metrics.Phase1.WithLabelValues("success", "none")); got != 1 {
		t.Errorf("phase-1 successes %v", got)
	}
	if got := metricValue(p.srv.metrics.Phase1.WithLabelValues("failure", "psk_mismatch")); got != 1 {
		t.Errorf("phase-1 PSK failures %v", got)
	}
	if got := metricValue(p.srv.metrics.ChildSAs); got != 1 {
		t.Errorf("child SA gauge %v", got)
	}
	p.srv.Shutdown()
	p.net.pump()
	if len(p.srvEv.childDel) != 1 || p.srvEv.childDel[0] != ReasonShutdown || len(p.srvEv.ikeDel) != 1 {
		t.Errorf("shutdown deletions %v %v", p.srvEv.childDel, p.srvEv.ikeDel)
	}
	if len(p.cEv.childDel) != 1 || len(p.cEv.ikeDel) != 1 {
		t.Errorf("the client was not told: %v %v", p.cEv.childDel, p.cEv.ikeDel)
	}
	if got := metricValue(p.srv.metrics.ChildSAs); got != 0 {
		t.Errorf("child SA gauge after shutdown %v", got)
	}
}

func TestParseLevel(t *testing.T) {
	for _, l := range []Level{LevelModern, LevelCompat, LevelInsecure} {
		if got, err := ParseLevel(l.String()); err != nil || got != l {
			t.Errorf("%v: %v %v", l, got, err)
		}
	}
	if _, err := ParseLevel("legacy"); err == nil {
		t.Error("unknown level accepted")
	}
}

// The old-Android option is per peer: SHA2-256 SAs of that peer get a
// 96-bit ICV, others 128.
func TestPeerPolicySHA256Truncation(t *testing.T) {
	cfg := pskCfg("android key")
	cfg.PeerPolicy = func(a netip.Addr) Policy {
		return Policy{SHA256Truncated96: a == clientAddr}
	}
	p := newPair(t, cfg, false)
	p.dial(t, DialConfig{PSK: []byte("android key"), Phase2: []Phase2Suite{{Transform: isakmp.ESPAESCBC, KeyBits: 128, Auth: isakmp.AuthAlgHMACSHA2256}}})
	if len(p.srvEv.p2) != 1 || p.srvEv.p2[0].ICVBits != 96 {
		t.Fatalf("child SAs %v", p.srvEv.p2)
	}
	if c := p.srvEv.p2[0]; c.Phase2.ICVBits(false) != 128 || c.Auth != isakmp.AuthAlgHMACSHA2256 {
		t.Errorf("negotiated %v", c.Phase2)
	}
}

func metricValue(c prometheus.Metric) float64 {
	var m dto.Metric
	if err := c.Write(&m); err != nil {
		return -1
	}
	if m.Counter != nil {
		return m.Counter.GetValue()
	}
	return m.Gauge.GetValue()
}

// Behind a carrier-grade NAT the 4500 flow may leave from another public
// address than the 500 flow: the SA follows, and the half-open slot taken
// at message 1 is released.
func TestNATAddressChangeOnFloat(t *testing.T) {
	p := newPair(t, pskCfg("cgnat key"), true)
	p.net.natAlt = netip.MustParseAddr("203.0.113.2")
	p.dial(t, DialConfig{PSK: []byte("cgnat key"), Phase2: Policy{}.Phase2Suites(isakmp.EncapTransport)[:1]})
	if len(p.srvEv.p2) != 1 {
		t.Fatalf("no child SA: %v %v", p.srvEv.p1fail, p.srvEv.p2fail)
	}
	if r := p.srvEv.p2[0].Remote; r.Addr() != p.net.natAlt || r.Port() == 4500 {
		t.Errorf("child SA remote %v", r)
	}
	if p.srv.nHalf != 0 || len(p.srv.halfOpen) != 0 || len(p.srv.byInit) != 0 {
		t.Errorf("half-open accounting leaked: %d %v %d", p.srv.nHalf, p.srv.halfOpen, len(p.srv.byInit))
	}
}

func TestIPv6EndToEnd(t *testing.T) {
	net := newTestNet(t)
	clk := clock.NewFake(t0)
	srvEv, cEv := &recorder{}, &recorder{}
	srv6, cli6 := netip.MustParseAddr("2001:db8::1"), netip.MustParseAddr("2001:db8:1::5")
	srv := NewEngine(pskCfg("v6 key"), net, srvEv, clk, nil, nil)
	cli := NewEngine(Config{}, net, cEv, clk, nil, nil)
	net.hosts[srv6], net.hosts[cli6] = srv, cli
	if _, err := cli.Dial(netip.AddrPortFrom(cli6, 500), netip.AddrPortFrom(srv6, 500), DialConfig{PSK: []byte("v6 key"),
		Phase2: Policy{}.Phase2Suites(isakmp.EncapTransport)[:1]}); err != nil {
		t.Fatal(err)
	}
	net.pump()
	if len(srvEv.p2) != 1 || len(cEv.p2) != 1 {
		t.Fatalf("child SAs %d/%d: %v %v", len(srvEv.p2), len(cEv.p2), srvEv.p1fail, srvEv.p2fail)
	}
	c := srvEv.p2[0]
	if c.ClientID != cli6 || c.ServerID != srv6 || c.Encap != EncapNone || srvEv.p1[0].PeerID != cli6.String() {
		t.Errorf("child SA %v, IDs %v %v, peer %q", c, c.ClientID, c.ServerID, srvEv.p1[0].PeerID)
	}
}

// Behind one NAT, INITIAL-CONTACT from one client must not drop another
// client's SAs; from the same client (same NAT mapping) it does.
func TestInitialContactBehindNAT(t *testing.T) {
	p := newPair(t, pskCfg("nat ic key"), true)
	other := netip.MustParseAddr("192.168.1.11")
	otherEv := &recorder{}
	p.net.hosts[other] = NewEngine(Config{}, p.net, otherEv, p.clk, nil, nil)
	dc := DialConfig{PSK: []byte("nat ic key"), InitialContact: true, Phase2: Policy{}.Phase2Suites(isakmp.EncapTransport)[:1]}
	p.dial(t, dc)
	if _, err := p.net.hosts[other].Dial(netip.AddrPortFrom(other, 500), netip.AddrPortFrom(serverAddr, 500), dc); err != nil {
		t.Fatal(err)
	}
	p.net.pump()
	if len(p.srvEv.p2) != 2 || len(p.srvEv.ikeDel) != 0 || len(p.srvEv.childDel) != 0 {
		t.Fatalf("two clients behind one NAT: %d child SAs, deletions %v %v", len(p.srvEv.p2), p.srvEv.ikeDel, p.srvEv.childDel)
	}
	// The first client reconnects through the same mapping.
	p.cli = NewEngine(Config{}, p.net, p.cEv, p.clk, nil, nil)
	p.net.hosts[natPrivate] = p.cli
	p.dial(t, dc)
	if len(p.srvEv.p2) != 3 || len(p.srvEv.ikeDel) != 1 || len(p.srvEv.childDel) != 1 {
		t.Errorf("reconnect: %d child SAs, deletions %v %v", len(p.srvEv.p2), p.srvEv.ikeDel, p.srvEv.childDel)
	}
}

func TestLocalID(t *testing.T) {
	cfg := pskCfg("local id key")
	cfg.LocalID = isakmp.NewIDFQDN("vpn.example.net")
	p := newPair(t, cfg, false)
	p.dial(t, DialConfig{PSK: []byte("local id key")})
	if len(p.cEv.p1) != 1 || p.cEv.p1[0].PeerID != "vpn.example.net" {
		t.Errorf("client sees %+v", p.cEv.p1)
	}
}
