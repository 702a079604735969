package ike_test

import (
	"fmt"
	"net/netip"
	"sync"
	"time"

	"github.com/l2tpsecd/l2tpsecd/ike"
	"github.com/l2tpsecd/l2tpsecd/ike/isakmp"
	"github.com/l2tpsecd/l2tpsecd/internal/clock"
)

// wire is an in-memory network: Send queues, run delivers.
type wire struct {
	mu    sync.Mutex
	q     [][3]any
	hosts map[netip.Addr]*ike.Engine
}

func (w *wire) Send(pkt []byte, local, remote netip.AddrPort) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.q = append(w.q, [3]any{append([]byte(nil), pkt...), local, remote})
	return nil
}

func (w *wire) run() {
	for {
		w.mu.Lock()
		if len(w.q) == 0 {
			w.mu.Unlock()
			return
		}
		d := w.q[0]
		w.q = w.q[1:]
		w.mu.Unlock()
		to := d[2].(netip.AddrPort)
		w.hosts[to.Addr()].HandlePacket(d[0].([]byte), to, d[1].(netip.AddrPort))
	}
}

// server prints what the datapath would install.
type server struct{ ike.NopEvents }

func (server) Phase2Established(c *ike.ChildSA) {
	fmt.Printf("install ESP %v, %s, in %d+%d key bytes, out %d+%d, client port %d\n",
		c.Phase2, c.Mode, len(c.In.EncKey), len(c.In.AuthKey), len(c.Out.EncKey), len(c.Out.AuthKey), c.ClientL2TPPort)
}

func (server) Phase1Failed(remote netip.AddrPort, f *ike.Failure) {
	fmt.Println("audit:", remote.Addr(), f)
}

func Example() {
	w := &wire{hosts: map[netip.Addr]*ike.Engine{}}
	clk := clock.NewFake(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	srvAddr := netip.MustParseAddrPort("198.51.100.1:500")
	cliAddr := netip.MustParseAddrPort("203.0.113.7:500")

	srv := ike.NewEngine(ike.Config{PSKs: []ike.PSK{{Key: []byte("our pre-shared key")}}}, w, server{}, clk, nil, nil)
	cli := ike.NewEngine(ike.Config{}, w, nil, clk, nil, nil)
	w.hosts[srvAddr.Addr()], w.hosts[cliAddr.Addr()] = srv, cli

	// A client as Windows would propose: AES-256/SHA1 with ECP384, then
	// ESP AES-256/SHA1 in transport mode for L2TP.
	windows := ike.Phase1Suite{Cipher: ike.CipherAESCBC, KeyBits: 256, Hash: ike.HashSHA1, Group: ike.GroupECP384, Auth: isakmp.AuthPSK}
	esp := ike.Phase2Suite{Transform: isakmp.ESPAESCBC, KeyBits: 256, Auth: isakmp.AuthAlgHMACSHA1}
	cli.Dial(cliAddr, srvAddr, ike.DialConfig{PSK: []byte("our pre-shared key"), Phase1: []ike.Phase1Suite{windows}, Phase2: []ike.Phase2Suite{esp}})
	w.run()

	// An old client offering only 3DES/MODP1024 is refused by the default
	// (modern) policy, and the audit line says what it offered.
	old := ike.Phase1Suite{Cipher: ike.Cipher3DES, Hash: ike.HashSHA1, Group: ike.GroupMODP1024, Auth: isakmp.AuthPSK}
	cli.Dial(cliAddr, srvAddr, ike.DialConfig{PSK: []byte("our pre-shared key"), Phase1: []ike.Phase1Suite{old}})
	w.run()
	// Output:
	// install ESP AES256-SHA1, Transport, in 32+20 key bytes, out 32+20, client port 1701
	// audit: 203.0.113.7 ike: no_proposal_chosen (offered: 3DES-SHA1-MODP1024; policy modern)
}
