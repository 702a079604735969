package lab_test

import (
	"context"
	"testing"
	"time"

	"github.com/l2tpsecd/l2tpsecd/test/lab"
)

// This is how a test runs a server in the lab's server namespace and dials
// it with a real client. Replace the SoftEther line with the server under
// test, e.g.
//
//	if _, err := l.Start("l2tpsecd", l.Server.Command(ctx, bin, "-config", cfgPath)); err != nil { ... }
//	l.AddLogFile("l2tpsecd audit", auditPath)
//
// with a config that listens on l.Server.PublicAddr, routes l.Server.Pool
// and uses l.Server.LANIface / l.Server.LANGateway towards l.Server.LANHost.
func Example() {
	var t *testing.T // the test's own t
	l := lab.New(t)  // skips (or fails with L2TPSECD_LAB=require) without root, UML, ...
	lab.StartSoftEther(t, l, lab.SoftEtherConfig{PSK: "secret-psk", User: "alice", Password: "pw"})
	c := l.NewClient(t, lab.ClientConfig{
		Stack:     lab.StrongSwan,
		BehindNAT: true,
		PSK:       "secret-psk",
		IKE:       "aes256-sha1-modp2048!",
		ESP:       "aes256-sha1!",
		PPP:       lab.MSCHAPv2,
		User:      "alice",
		Password:  "pw",
	})
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	if err := c.Connect(ctx); err != nil { // errors.Is(err, lab.ErrIPsec) / lab.ErrPPP
		t.Fatal(err)
	}
	t.Logf("got %v", c.Addr())
	if err := c.Ping(ctx, l.Server.LANHost); err != nil {
		t.Fatal(err)
	}
	mbps, err := c.Iperf3(ctx, l.Server.LANHost, 5, false)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("upload %.0f Mbit/s", mbps)
	c.Kill() // a client that vanishes without a word (DPD, HELLO timeouts)
}
