package serverlab

import (
	"context"
	"testing"
	"time"

	"github.com/l2tpsecd/l2tpsecd/test/lab"
)

const (
	labPSK      = "serverlab-psk-0001"
	labUser     = "alice"
	labPassword = "wonderland-42"
)

// TestConnectPSKMSCHAPv2 is the first complete connection: strongSwan +
// xl2tpd + pppd, PSK and MS-CHAPv2, directly and through NAT; the client
// gets a pool address and the configured DNS, pings the LAN host and moves
// data both ways with iperf3.
func TestConnectPSKMSCHAPv2(t *testing.T) {
	for _, nat := range []bool{false, true} {
		name := "direct"
		if nat {
			name = "nat"
		}
		t.Run(name, func(t *testing.T) { connectScenario(t, lab.StrongSwan, lab.MSCHAPv2, nat) })
	}
}

func connectScenario(t *testing.T, stack lab.Stack, method lab.PPPAuth, nat bool) {
	start := time.Now()
	step := func(what string, args ...any) {
		t.Logf("%6.1fs "+what, append([]any{time.Since(start).Seconds()}, args...)...)
	}
	l := lab.New(t)
	d := startDaemon(t, l, daemonConfig{PSKs: []string{labPSK}, Users: []user{{Name: labUser, Password: labPassword}}})
	step("l2tpsecd ready")
	c := l.NewClient(t, lab.ClientConfig{Stack: stack, BehindNAT: nat, PSK: labPSK, PPP: method, User: labUser, Password: labPassword})
	step("guest booted")
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	if err := c.Connect(ctx); err != nil {
		t.Fatalf("connect: %v", err)
	}
	step("connected, address %v", c.Addr())
	if !l.Server.Pool.Contains(c.Addr()) {
		t.Fatalf("client address %v is not from the pool %v", c.Addr(), l.Server.Pool)
	}
	if err := c.Ping(ctx, l.Server.LANHost); err != nil {
		t.Fatalf("ping LAN host: %v", err)
	}
	step("pinged %v", l.Server.LANHost)
	up, err := c.Iperf3(ctx, l.Server.LANHost, 5, false)
	if err != nil {
		t.Fatalf("iperf3 upload: %v", err)
	}
	down, err := c.Iperf3(ctx, l.Server.LANHost, 5, true)
	if err != nil {
		t.Fatalf("iperf3 download: %v", err)
	}
	t.Logf("l2tpsecd, NAT=%v: upload %.1f Mbit/s, download %.1f Mbit/s", nat, up, down)
	d.waitAudit(t, 5*time.Second, `"event":"session_started"`, labUser)
	d.waitAudit(t, 5*time.Second, `"event":"phase2_established"`)
}
