package interop

import (
	"context"
	"errors"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/l2tpsecd/l2tpsecd/test/lab"
)

// TestLinuxReference dials the classic Linux server (strongSwan + xl2tpd +
// pppd in a guest) with a strongSwan client routed directly, which must get
// raw ESP (no NAT, so no UDP encapsulation), and a Libreswan client behind
// the NAT, which must get ESP in UDP. It is the reference for what SoftEther
// cannot show: raw ESP, and Libreswan clients.
func TestLinuxReference(t *testing.T) {
	l := lab.New(t)
	srv := l.StartLinuxServer(t, lab.LinuxServerConfig{PSK: refPSK, User: refUser, Password: refPassword})
	cs := l.NewClients(t,
		lab.ClientConfig{Stack: lab.StrongSwan, Server: srv.Addr, PSK: refPSK, PPP: lab.MSCHAPv2,
			User: refUser, Password: refPassword, Routes: []netip.Prefix{}},
		lab.ClientConfig{Stack: lab.Libreswan, BehindNAT: true, Server: srv.Addr, PSK: refPSK, PPP: lab.PAP,
			User: refUser, Password: refPassword, Routes: []netip.Prefix{}},
	)
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	for _, c := range cs {
		if err := c.Connect(ctx); err != nil {
			t.Fatalf("%v client (NAT=%v): %v", c.Cfg.Stack, c.Cfg.BehindNAT, err)
		}
		if a := c.Addr(); a.Less(srv.PoolFirst) || srv.PoolLast.Less(a) {
			t.Errorf("%v client got %v, outside %v-%v", c.Cfg.Stack, a, srv.PoolFirst, srv.PoolLast)
		}
		if err := c.Ping(ctx, srv.Local); err != nil {
			t.Errorf("%v client: %v", c.Cfg.Stack, err)
		}
		t.Logf("%v client (NAT=%v, PPP %v) got %v", c.Cfg.Stack, c.Cfg.BehindNAT, c.Cfg.PPP, c.Addr())
	}
	status, err := cs[0].Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(status, "ESP SPIs") || strings.Contains(status, "ESP in UDP") {
		t.Errorf("direct strongSwan client is not on raw ESP:\n%s", status)
	}
	status, err = cs[1].Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// pluto shows the IKE SA on port 4500 once NAT-T is in use (and then
	// encapsulates ESP in UDP).
	if !strings.Contains(status, `"lab":4500 STATE_MAIN_I4`) {
		t.Errorf("Libreswan client behind the NAT did not float to NAT-T:\n%s", status)
	}
	mbps, err := cs[0].Iperf3(ctx, srv.Local, 5, false)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("Linux reference, raw ESP: upload %.1f Mbit/s", mbps)
}

// TestAndroidSHA256BugAgainstLinux reproduces the old-Android ESP bug with
// strongSwan's sha256_96 option: the SA is negotiated as HMAC-SHA2-256 but
// the client sends 96-bit ICVs, so a standard server drops every ESP packet:
// IPsec comes up, L2TP never does. (CLIENTS.md: a server that wants these
// phones must detect the truncation.)
func TestAndroidSHA256BugAgainstLinux(t *testing.T) {
	l := lab.New(t)
	srv := l.StartLinuxServer(t, lab.LinuxServerConfig{PSK: refPSK, User: refUser, Password: refPassword})
	c := l.NewClient(t, lab.ClientConfig{Server: srv.Addr, PSK: refPSK, User: refUser, Password: refPassword,
		IKE: "aes256-sha256-modp2048!", ESP: "aes128-sha256!", IPsecExtra: []string{"sha256_96=yes"},
		Routes: []netip.Prefix{}, PPPTimeout: 15 * time.Second})
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	err := c.Connect(ctx)
	if err == nil {
		t.Fatalf("connected although the client truncates HMAC-SHA2-256 to 96 bits")
	}
	if !errors.Is(err, lab.ErrPPP) {
		t.Fatalf("want IPsec up and L2TP/PPP failing, got: %v", err)
	}
	status, _ := c.Status(ctx)
	if !strings.Contains(status, "HMAC_SHA2_256_128") {
		t.Errorf("SA not negotiated as HMAC-SHA2-256:\n%s", status)
	}
	// The server's kernel counts the packets whose ICV did not verify.
	stat, err := srv.Guest.Run(ctx, "grep XfrmInStateProtoError /proc/net/xfrm_stat")
	if f := strings.Fields(stat); err != nil || len(f) != 2 || f[1] == "0" {
		t.Errorf("server counted no ESP integrity failures: %q, %v", stat, err)
	}
}
