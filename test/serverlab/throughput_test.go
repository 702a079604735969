package serverlab

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/l2tpsecd/l2tpsecd/test/lab"
)

// TestThroughputAgainstSoftEther runs the same client (strongSwan + xl2tpd +
// pppd, PSK, MS-CHAPv2, AES-256/SHA1) against SoftEther VPN Server and
// against l2tpsecd on the same machine, 10 s of iperf3 each way, and
// records the numbers side by side. It asserts only that data moved: speed
// is recorded, not judged, in tests (the machine is shared).
func TestThroughputAgainstSoftEther(t *testing.T) {
	type result struct{ up, down float64 }
	results := map[string]result{}
	for _, server := range []string{"softether", "l2tpsecd"} {
		t.Run(server, func(t *testing.T) {
			l := lab.New(t)
			if server == "softether" {
				lab.StartSoftEther(t, l, lab.SoftEtherConfig{PSK: labPSK, User: labUser, Password: labPassword})
			} else {
				startDaemon(t, l, daemonConfig{PSKs: []string{labPSK}, Users: []user{{Name: labUser, Password: labPassword}}})
			}
			c := l.NewClient(t, lab.ClientConfig{BehindNAT: true, PSK: labPSK, User: labUser, Password: labPassword,
				IKE: "aes256-sha1-modp2048!", ESP: "aes256-sha1!"})
			ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
			defer cancel()
			if err := c.Connect(ctx); err != nil {
				t.Fatalf("connect: %v", err)
			}
			up, err := c.Iperf3(ctx, l.Server.LANHost, 10, false)
			if err != nil {
				t.Fatalf("iperf3 upload: %v", err)
			}
			down, err := c.Iperf3(ctx, l.Server.LANHost, 10, true)
			if err != nil {
				t.Fatalf("iperf3 download: %v", err)
			}
			if up <= 0 || down <= 0 {
				t.Fatalf("no data moved: up %.1f, down %.1f Mbit/s", up, down)
			}
			results[server] = result{up, down}
		})
	}
	var b strings.Builder
	fmt.Fprintf(&b, "\n%-10s %14s %16s\n", "server", "upload Mbit/s", "download Mbit/s")
	for _, s := range []string{"softether", "l2tpsecd"} {
		if r, ok := results[s]; ok {
			fmt.Fprintf(&b, "%-10s %14.1f %16.1f\n", s, r.up, r.down)
		}
	}
	if se, ok := results["softether"]; ok {
		if us, ok := results["l2tpsecd"]; ok {
			fmt.Fprintf(&b, "ratio l2tpsecd/softether: upload %.2f, download %.2f\n", us.up/se.up, us.down/se.down)
		}
	}
	t.Log(b.String())
}
