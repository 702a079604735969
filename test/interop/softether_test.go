package interop

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/l2tpsecd/l2tpsecd/test/lab"
)

// Credentials of the reference scenarios; they never leave the lab's
// namespaces.
const (
	refPSK      = "lab-psk-7f3a"
	refUser     = "alice"
	refPassword = "wonderland-42"
)

// TestSoftEtherDirect: a strongSwan + xl2tpd + pppd client routed straight
// to SoftEther connects with PSK and MS-CHAPv2, gets an address from the
// pool, pings the LAN host and runs iperf3 both ways.
func TestSoftEtherDirect(t *testing.T) { softEtherScenario(t, false) }

// TestSoftEtherBehindNAT is the same client behind the NAT namespace; the
// server must see the NAT's outside address.
func TestSoftEtherBehindNAT(t *testing.T) { softEtherScenario(t, true) }

func softEtherScenario(t *testing.T, behindNAT bool) {
	start := time.Now()
	step := func(what string) {
		t.Logf("%6.1fs %s", time.Since(start).Seconds(), what)
	}
	l := lab.New(t)
	step("topology up")
	lab.StartSoftEther(t, l, lab.SoftEtherConfig{PSK: refPSK, User: refUser, Password: refPassword})
	step("SoftEther configured")
	c := l.NewClient(t, lab.ClientConfig{
		BehindNAT: behindNAT,
		PSK:       refPSK,
		PPP:       lab.MSCHAPv2,
		User:      refUser,
		Password:  refPassword,
	})
	step("guest booted")
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()

	if err := c.Connect(ctx); err != nil {
		t.Fatalf("connect: %v", err)
	}
	lo, hi := lab.SoftEtherPool()
	if a := c.Addr(); a.Less(lo) || hi.Less(a) {
		t.Fatalf("client address %v, want one from SoftEther's pool %v-%v", a, lo, hi)
	}
	step(fmt.Sprintf("client %s (%s) connected, got %v", c.Guest.Name, c.Guest.Addr, c.Addr()))
	if err := c.Ping(ctx, l.Server.LANHost); err != nil {
		t.Fatalf("ping LAN host through the tunnel: %v", err)
	}
	step("pinged the LAN host")
	up, err := c.Iperf3(ctx, l.Server.LANHost, 5, false)
	if err != nil {
		t.Fatalf("iperf3 upload: %v", err)
	}
	down, err := c.Iperf3(ctx, l.Server.LANHost, 5, true)
	if err != nil {
		t.Fatalf("iperf3 download: %v", err)
	}
	t.Logf("SoftEther reference, NAT=%v: upload %.1f Mbit/s, download %.1f Mbit/s", behindNAT, up, down)
	if up <= 0 || down <= 0 {
		t.Errorf("iperf3 measured nothing: up %.1f, down %.1f Mbit/s", up, down)
	}

	// The server must have seen the client at the address the topology
	// promises: its own, or the NAT's outside address.
	want := c.Guest.Addr.Addr().String()
	if behindNAT {
		want = "198.51.100.2"
	}
	if log := softEtherLog(); !strings.Contains(log, "IPsec Client") || !strings.Contains(log, "("+want+":") {
		t.Errorf("SoftEther's log does not show an IPsec client from %s:\n%s", want, lastLines(log, 20))
	}

	if err := c.Disconnect(ctx); err != nil {
		t.Fatalf("disconnect: %v", err)
	}
	step("disconnected")
	if err := c.Ping(ctx, l.Server.LANHost); err == nil {
		t.Errorf("LAN host still answers after disconnect; traffic is not going through the tunnel")
	}
	step("checked the tunnel is gone")
}

func softEtherLog() string {
	files, _ := filepath.Glob("/var/log/softether/server_log/*.log")
	var b strings.Builder
	for _, f := range files {
		data, _ := os.ReadFile(f)
		b.Write(data)
	}
	return b.String()
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// TestSoftEtherThreeBehindNAT: three clients behind one NAT (so the server
// sees one public address, and all use source ports 500/4500/1701) connect
// at once, with MS-CHAPv2 and PAP; each gets its own address and reaches
// the LAN host. SoftEther serves them all (LAB.md), which is the behaviour
// l2tpsecd must match. (SoftEther offers EAP, MS-CHAPv2 and PAP in LCP and
// no CHAP-MD5: a client that allows only CHAP-MD5 is terminated, measured
// here.)
func TestSoftEtherThreeBehindNAT(t *testing.T) {
	l := lab.New(t)
	lab.StartSoftEther(t, l, lab.SoftEtherConfig{PSK: refPSK, User: refUser, Password: refPassword})
	var cfgs []lab.ClientConfig
	for _, m := range []lab.PPPAuth{lab.MSCHAPv2, lab.PAP, lab.MSCHAPv2} {
		cfgs = append(cfgs, lab.ClientConfig{BehindNAT: true, PSK: refPSK, PPP: m, User: refUser, Password: refPassword})
	}
	cs := l.NewClients(t, cfgs...)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	seen := map[string]string{}
	for _, c := range cs {
		if err := c.Connect(ctx); err != nil {
			t.Fatalf("connect %s with %v: %v", c.Guest.Name, c.Cfg.PPP, err)
		}
		a := c.Addr().String()
		if other, dup := seen[a]; dup {
			t.Fatalf("%s and %s both got %s", other, c.Guest.Name, a)
		}
		seen[a] = c.Guest.Name
		t.Logf("%s (%v) got %s", c.Guest.Name, c.Cfg.PPP, a)
	}
	// Every client must still work once all three are up.
	for _, c := range cs {
		if err := c.Ping(ctx, l.Server.LANHost); err != nil {
			t.Errorf("%s (%v): %v", c.Guest.Name, c.Cfg.PPP, err)
		}
	}
}
