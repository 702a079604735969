package serverlab

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/l2tpsecd/l2tpsecd/l2tp"
	"github.com/l2tpsecd/l2tpsecd/server/control"
	"github.com/l2tpsecd/l2tpsecd/test/lab"
)

// TestThreeClientsBehindOneNAT: three clients share the NAT's public
// address (and all use 500/4500/1701 inside); each gets its own address and
// passes traffic, and disconnecting one leaves the other two up. This is
// where the classic kernel stacks fail.
func TestThreeClientsBehindOneNAT(t *testing.T) {
	l := lab.New(t)
	users := []user{{Name: "u1", Password: "pw-one-1"}, {Name: "u2", Password: "pw-two-2"}, {Name: "u3", Password: "pw-three-3"}}
	d := startDaemon(t, l, daemonConfig{PSKs: []string{labPSK}, Users: users})
	var cfgs []lab.ClientConfig
	for _, u := range users {
		cfgs = append(cfgs, lab.ClientConfig{BehindNAT: true, PSK: labPSK, User: u.Name, Password: u.Password})
	}
	cs := l.NewClients(t, cfgs...)
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	seen := map[netip.Addr]bool{}
	for i, c := range cs {
		if err := c.Connect(ctx); err != nil {
			t.Fatalf("client %d: %v", i, err)
		}
		if seen[c.Addr()] {
			t.Fatalf("client %d got %v, which another client already has", i, c.Addr())
		}
		seen[c.Addr()] = true
	}
	for i, c := range cs {
		if err := c.Ping(ctx, l.Server.LANHost); err != nil {
			t.Fatalf("client %d (%v) cannot ping with all three up: %v", i, c.Addr(), err)
		}
	}
	if n := len(d.call(t, control.Request{Cmd: control.CmdSessions}).Sessions); n != 3 {
		t.Fatalf("daemon lists %d sessions, want 3", n)
	}
	if err := cs[1].Disconnect(ctx); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(20 * time.Second)
	for len(d.call(t, control.Request{Cmd: control.CmdSessions}).Sessions) != 2 {
		if time.Now().After(deadline) {
			t.Fatal("the disconnected client's session did not end")
		}
		time.Sleep(250 * time.Millisecond)
	}
	for _, i := range []int{0, 2} {
		if err := cs[i].Ping(ctx, l.Server.LANHost); err != nil {
			t.Fatalf("client %d lost its tunnel when client 1 disconnected: %v", i, err)
		}
		if _, err := cs[i].Iperf3(ctx, l.Server.LANHost, 2, true); err != nil {
			t.Fatalf("client %d iperf3 after client 1 left: %v", i, err)
		}
	}
}

// TestWrongPassword: PPP authentication fails and the client is told; the
// audit log names the user and the reason; no address is allocated, and the
// SAs are removed after the L2TP teardown.
func TestWrongPassword(t *testing.T) {
	for _, m := range []lab.PPPAuth{lab.MSCHAPv2, lab.PAP} {
		name := map[lab.PPPAuth]string{lab.MSCHAPv2: "mschapv2", lab.PAP: "pap"}[m]
		t.Run(name, func(t *testing.T) {
			l := lab.New(t)
			d := startDaemon(t, l, daemonConfig{PSKs: []string{labPSK}, Users: []user{{Name: labUser, Password: labPassword}}})
			c := l.NewClient(t, lab.ClientConfig{PSK: labPSK, PPP: m, User: labUser, Password: "not-the-password", PPPTimeout: 15 * time.Second})
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			err := c.Connect(ctx)
			if err == nil {
				t.Fatal("connected with a wrong password")
			}
			if !errors.Is(err, lab.ErrPPP) {
				t.Fatalf("failed, but not in PPP: %v", err)
			}
			line := d.waitAudit(t, 10*time.Second, `"event":"user_refused"`, labUser)
			if !strings.Contains(line, "bad_password") {
				t.Errorf("refusal has no reason: %s", line)
			}
			if got := d.auditLines(`"event":"address_assigned"`); len(got) != 0 {
				t.Errorf("an address was assigned to a refused user: %v", got)
			}
			// The client was told: pppd logs the CHAP Failure (E=691) or
			// the PAP Nak it received.
			pppLog, _ := os.ReadFile(filepath.Join(c.Guest.ShareDir(), "log", "pppd.log"))
			told := map[lab.PPPAuth]string{lab.MSCHAPv2: "rcvd [CHAP Failure", lab.PAP: "rcvd [PAP AuthNak"}[m]
			if !strings.Contains(string(pppLog), told) {
				t.Errorf("the client's pppd log has no %q:\n%s", told, pppLog)
			}
			waitNoSessions(t, d, 20*time.Second)
			waitNoSAs(t, d, 30*time.Second)
		})
	}
}

// TestClientGoesAway: a client that hangs up (xl2tpd "d", ipsec down)
// and a client that vanishes (its guest killed: DPD and LCP echo time out)
// both free the session and the address.
func TestClientGoesAway(t *testing.T) {
	l := lab.New(t)
	d := startDaemon(t, l, daemonConfig{PSKs: []string{labPSK}, Users: []user{{Name: labUser, Password: labPassword}, {Name: "bob", Password: "builder-77"}}})
	cs := l.NewClients(t,
		lab.ClientConfig{BehindNAT: true, PSK: labPSK, User: labUser, Password: labPassword},
		lab.ClientConfig{PSK: labPSK, User: "bob", Password: "builder-77"})
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	for i, c := range cs {
		if err := c.Connect(ctx); err != nil {
			t.Fatalf("client %d: %v", i, err)
		}
	}
	if err := cs[0].Disconnect(ctx); err != nil {
		t.Fatal(err)
	}
	d.waitAudit(t, 20*time.Second, `"event":"session_ended"`, labUser)
	start := time.Now()
	cs[1].Kill()
	// LCP echo every 10 s, 3 failures; DPD 10 s / 30 s.
	line := d.waitAudit(t, 90*time.Second, `"event":"session_ended"`, `"bob"`)
	t.Logf("vanished client's session ended after %.0f s: %s", time.Since(start).Seconds(), line)
	waitNoSessions(t, d, 10*time.Second)
	waitNoSAs(t, d, 90*time.Second)
}

// TestCleartextL2TPIgnored: an SCCRQ sent in the clear to UDP/1701 gets no
// answer of any kind, and is counted.
func TestCleartextL2TPIgnored(t *testing.T) {
	l := lab.New(t)
	d := startDaemon(t, l, daemonConfig{PSKs: []string{labPSK}, Users: []user{{Name: labUser, Password: labPassword}}})
	inet, _, _, _ := l.Namespaces()
	msg := l2tp.Message{Type: l2tp.MsgSCCRQ, HostName: "cleartext-probe", AssignedTunnelID: 4242,
		ProtocolVersion: l2tp.ProtocolVersion{Version: 1, Revision: 0}, FramingCapabilities: l2tp.FramingSync | l2tp.FramingAsync}
	pkt, err := msg.Append(nil, 0, 0, 0, 0, &l2tp.MarshalOptions{})
	if err != nil {
		t.Fatalf("building SCCRQ: %v", err)
	}
	var conn *net.UDPConn
	if err := inNS(inet, func() (err error) {
		conn, err = net.DialUDP("udp4", nil, net.UDPAddrFromAddrPort(netip.AddrPortFrom(l.Server.PublicAddr, 1701)))
		return err
	}); err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	for i := 0; i < 3; i++ {
		if _, err := conn.Write(pkt); err != nil {
			t.Fatalf("send: %v", err)
		}
	}
	conn.SetReadDeadline(time.Now().Add(3 * time.Second))
	buf := make([]byte, 2048)
	if n, err := conn.Read(buf); err == nil {
		t.Fatalf("got %d bytes back for a cleartext SCCRQ", n)
	} else if ne, ok := err.(net.Error); !ok || !ne.Timeout() {
		// A refused connection would mean an ICMP port unreachable came back.
		t.Fatalf("reading the answer: %v (want silence)", err)
	}
	if v := metricValue(d.metrics(t), `l2tpsecd_server_drops_total{reason="cleartext_l2tp"}`); v < 3 {
		t.Fatalf("cleartext L2TP drops counted: %v, want 3", v)
	}
}
