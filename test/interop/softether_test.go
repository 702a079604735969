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
