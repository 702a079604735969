package serverlab

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/l2tpsecd/l2tpsecd/server/control"
	"github.com/l2tpsecd/l2tpsecd/test/lab"
)

const (
	labPSK      = "serverlab-psk-0001"
	labUser     = "alice"
	labPassword = "wonderland-42"
)

// TestConnect is the first complete connection, for each client stack, PPP
// method and NAT: the client gets a pool address and the configured DNS
// servers, pings the LAN host behind the server and moves data both ways;
// the audit log and the control socket show the session.
func TestConnect(t *testing.T) {
	cases := []struct {
		name   string
		stack  lab.Stack
		method lab.PPPAuth
		nat    bool
		iperf  bool
	}{
		{"strongswan/mschapv2/direct", lab.StrongSwan, lab.MSCHAPv2, false, true},
		{"strongswan/mschapv2/nat", lab.StrongSwan, lab.MSCHAPv2, true, true},
		{"strongswan/chap/direct", lab.StrongSwan, lab.CHAP, false, false},
		{"strongswan/pap/nat", lab.StrongSwan, lab.PAP, true, false},
		{"libreswan/mschapv2/direct", lab.Libreswan, lab.MSCHAPv2, false, true},
		{"libreswan/mschapv2/nat", lab.Libreswan, lab.MSCHAPv2, true, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			connectScenario(t, tc.stack, tc.method, tc.nat, tc.iperf)
		})
	}
}

func connectScenario(t *testing.T, stack lab.Stack, method lab.PPPAuth, nat, iperf bool) {
	start := time.Now()
	step := func(what string, args ...any) {
		t.Logf("%6.1fs "+what, append([]any{time.Since(start).Seconds()}, args...)...)
	}
	l := lab.New(t)
	d := startDaemon(t, l, daemonConfig{PSKs: []string{labPSK}, Users: []user{{Name: labUser, Password: labPassword}}})
	step("l2tpsecd ready")
	c := l.NewClient(t, lab.ClientConfig{Stack: stack, BehindNAT: nat, PSK: labPSK, PPP: method, User: labUser,
		Password: labPassword, PPPExtra: []string{"usepeerdns"}})
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
	dns, err := c.Guest.Run(ctx, "cat /etc/ppp/resolv.conf")
	if err != nil || !strings.Contains(dns, "10.99.0.53") || !strings.Contains(dns, "10.99.0.54") {
		t.Errorf("client's DNS from IPCP = %q (%v), want 10.99.0.53 and 10.99.0.54", dns, err)
	}
	if err := c.Ping(ctx, l.Server.LANHost); err != nil {
		t.Fatalf("ping LAN host: %v", err)
	}
	step("pinged %v", l.Server.LANHost)
	if iperf {
		up, err := c.Iperf3(ctx, l.Server.LANHost, 5, false)
		if err != nil {
			t.Fatalf("iperf3 upload: %v", err)
		}
		down, err := c.Iperf3(ctx, l.Server.LANHost, 5, true)
		if err != nil {
			t.Fatalf("iperf3 download: %v", err)
		}
		t.Logf("l2tpsecd %s: upload %.1f Mbit/s, download %.1f Mbit/s", t.Name(), up, down)
	}

	methodName := map[lab.PPPAuth]string{lab.MSCHAPv2: "MS-CHAPv2", lab.CHAP: "CHAP-MD5", lab.PAP: "PAP"}[method]
	d.waitAudit(t, 5*time.Second, `"event":"user_authenticated"`, labUser)
	d.waitAudit(t, 5*time.Second, `"event":"session_started"`, labUser, c.Addr().String())
	sessions := d.call(t, control.Request{Cmd: control.CmdSessions}).Sessions
	if len(sessions) != 1 || sessions[0].User != labUser || sessions[0].Address != c.Addr().String() || sessions[0].BytesIn == 0 {
		t.Fatalf("control socket sessions = %+v", sessions)
	}
	if !strings.EqualFold(sessions[0].AuthMethod, methodName) && !strings.Contains(strings.ToLower(sessions[0].AuthMethod), strings.ToLower(strings.TrimSuffix(methodName, "-MD5"))) {
		t.Errorf("session auth method %q, want %s", sessions[0].AuthMethod, methodName)
	}

	// Directly, ESP travels as IP protocol 50; through the NAT, all of it
	// is on UDP/4500 (RFC 3948).
	m := d.metrics(t)
	raw := metricValue(m, `l2tpsecd_esp_packets_total{direction="in",encap="raw"}`)
	udp := metricValue(m, `l2tpsecd_esp_packets_total{direction="in",encap="udp"}`)
	if nat && (raw != 0 || udp <= 0) || !nat && (udp != 0 || raw <= 0) {
		t.Errorf("ESP packets in: raw %v, udp %v; NAT=%v wants all of them %s", raw, udp, nat, map[bool]string{false: "raw", true: "on UDP/4500"}[nat])
	}
	p2 := d.waitAudit(t, time.Second, `"event":"phase2_established"`)
	wantEncap := map[bool]string{false: `"encap":"none"`, true: `"encap":"udp"`}[nat]
	if !strings.Contains(strings.ToLower(p2), wantEncap) {
		t.Errorf("phase 2 audit line %s: want %s (NAT=%v)", p2, wantEncap, nat)
	}
	if err := c.Disconnect(ctx); err != nil {
		t.Fatalf("disconnect: %v", err)
	}
	waitNoSessions(t, d, 20*time.Second)
	step("disconnected; session and address freed")
}

// waitNoSessions waits until the daemon has no session and no leased
// address.
func waitNoSessions(t *testing.T, d *daemon, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		ss := d.call(t, control.Request{Cmd: control.CmdSessions}).Sessions
		pools := d.call(t, control.Request{Cmd: control.CmdPools}).Pools
		used := 0
		for _, p := range pools {
			used += p.Used
		}
		if len(ss) == 0 && used == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("after %s still %d sessions and %d addresses in use: %+v", timeout, len(ss), used, ss)
		}
		time.Sleep(250 * time.Millisecond)
	}
}

// waitNoSAs waits until the daemon holds no IKE or ESP SA.
func waitNoSAs(t *testing.T, d *daemon, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		sas := d.call(t, control.Request{Cmd: control.CmdSAs}).SAs
		if len(sas) == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("after %s the daemon still holds SAs: %s", timeout, fmt.Sprint(sas))
		}
		time.Sleep(250 * time.Millisecond)
	}
}
