package ike_test

import (
	"net/netip"
	"testing"
	"time"

	"github.com/l2tpsecd/l2tpsecd/ike"
	"github.com/l2tpsecd/l2tpsecd/ike/isakmp"
	"github.com/l2tpsecd/l2tpsecd/internal/clock"
)

// capture records what an engine sends.
type capture struct{ pkts [][]byte }

func (c *capture) Send(pkt []byte, _, _ netip.AddrPort) error {
	c.pkts = append(c.pkts, append([]byte(nil), pkt...))
	return nil
}

func (c *capture) take() [][]byte { p := c.pkts; c.pkts = nil; return p }

// established notes the initiator's phase-1 outcome.
type established struct {
	ike.NopEvents
	ok   bool
	fail *ike.Failure
}

func (e *established) Phase1Established(ike.Phase1Info)              { e.ok = true }
func (e *established) Phase1Failed(_ netip.AddrPort, f *ike.Failure) { e.fail = f }

// A responder that answers a retransmitted message 3 sends message 4 again;
// when it reaches an initiator that has already sent message 5 it must be
// dropped, not taken for a message 6 that failed to authenticate (seen with
// 1000 load-generator clients dialling at once: the server's DH queue
// outlasted the 2 s retransmission).
func TestInitiatorIgnoresRepeatedMessage4(t *testing.T) {
	clk := clock.NewFake(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	srvAddr := netip.MustParseAddrPort("198.51.100.1:500")
	cliAddr := netip.MustParseAddrPort("203.0.113.7:500")
	toCli, toSrv := &capture{}, &capture{}
	ev := &established{}
	psk := []byte("repeat-test-key")
	srv := ike.NewEngine(ike.Config{PSKs: []ike.PSK{{Key: psk}}}, toCli, nil, clk, nil, nil)
	cli := ike.NewEngine(ike.Config{}, toSrv, ev, clk, nil, nil)
	suite := ike.Phase1Suite{Cipher: ike.CipherAESCBC, KeyBits: 128, Hash: ike.HashSHA256, Group: ike.GroupMODP2048, Auth: isakmp.AuthPSK}
	if _, err := cli.Dial(cliAddr, srvAddr, ike.DialConfig{PSK: psk, Phase1: []ike.Phase1Suite{suite}, NoNATT: true}); err != nil {
		t.Fatal(err)
	}
	exchange := func(from *capture, to *ike.Engine, local, remote netip.AddrPort) {
		for _, p := range from.take() {
			_ = to.HandlePacket(p, local, remote)
		}
	}
	exchange(toSrv, srv, srvAddr, cliAddr) // message 1
	exchange(toCli, cli, cliAddr, srvAddr) // message 2
	m3 := append([]byte(nil), toSrv.pkts[0]...)
	exchange(toSrv, srv, srvAddr, cliAddr) // message 3
	m4 := toCli.take()
	if len(m4) != 1 {
		t.Fatalf("%d answers to message 3", len(m4))
	}
	_ = cli.HandlePacket(m4[0], cliAddr, srvAddr) // message 4; message 5 queued
	// Message 3 again (our retransmission) is answered with message 4 again.
	_ = srv.HandlePacket(m3, srvAddr, cliAddr)
	for _, p := range toCli.take() {
		_ = cli.HandlePacket(p, cliAddr, srvAddr)
	}
	if ev.fail != nil {
		t.Fatalf("repeated message 4 failed the SA: %v", ev.fail)
	}
	exchange(toSrv, srv, srvAddr, cliAddr) // message 5
	exchange(toCli, cli, cliAddr, srvAddr) // message 6
	if !ev.ok || ev.fail != nil {
		t.Fatalf("phase 1 not established (failure %v)", ev.fail)
	}
}
