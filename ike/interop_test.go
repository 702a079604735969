package ike

import (
	"bytes"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"

	"github.com/l2tpsecd/l2tpsecd/ike/isakmp"
	"github.com/l2tpsecd/l2tpsecd/internal/clock"
	"github.com/l2tpsecd/l2tpsecd/internal/testutil"
)

// udpTransport carries the engine over real UDP sockets on 500 and 4500
// (adding the non-ESP marker on 4500, RFC 3948 section 2.2).
type udpTransport struct {
	conns map[uint16]*net.UDPConn
}

func (u *udpTransport) Send(pkt []byte, local, remote netip.AddrPort) error {
	c := u.conns[local.Port()]
	if c == nil {
		return fmt.Errorf("no socket for %v", local)
	}
	if local.Port() == isakmp.PortNATT {
		pkt = append([]byte{0, 0, 0, 0}, pkt...)
	}
	_, err := c.WriteToUDPAddrPort(pkt, remote)
	return err
}

func (u *udpTransport) serve(e *Engine, wg *sync.WaitGroup) {
	for port, c := range u.conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			buf := make([]byte, 65536)
			local := netip.AddrPortFrom(netip.AddrPortFrom(c.LocalAddr().(*net.UDPAddr).AddrPort().Addr(), port).Addr().Unmap(), port)
			for {
				n, from, err := c.ReadFromUDPAddrPort(buf)
				if err != nil {
					return
				}
				pkt := buf[:n]
				if port == isakmp.PortNATT {
					var ok bool
					if pkt, ok = isakmp.StripNonESPMarker(pkt); !ok {
						continue // ESP: not ours
					}
				}
				from = netip.AddrPortFrom(from.Addr().Unmap(), from.Port())
				e.HandlePacket(pkt, local, from)
			}
		}()
	}
}

// syncBuffer is a log sink shared by goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}
func (s *syncBuffer) String() string { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

// chanEvents forwards events to channels.
type chanEvents struct {
	recorder
	p1, p2 chan struct{}
}

func (c *chanEvents) Phase1Established(sa Phase1Info) {
	c.recorder.Phase1Established(sa)
	c.p1 <- struct{}{}
}
func (c *chanEvents) Phase2Established(ch *ChildSA) {
	c.recorder.Phase2Established(ch)
	c.p2 <- struct{}{}
}

// TestStrongSwanInterop runs the real strongSwan charon (5.9, kernel-libipsec,
// in a throwaway network namespace) against our engine: strongSwan as the
// initiator with our responder, then our initiator against strongSwan as
// the responder. kernel-libipsec cannot install transport-mode SAs, so
// the proof of Quick Mode is strongSwan accepting our message and failing
// only at installation ("unsupported mode", as LAB.md notes).
func TestStrongSwanInterop(t *testing.T) {
	testutil.RequireRoot(t)
	charon := "/usr/lib/ipsec/charon"
	if _, err := os.Stat(charon); err != nil {
		t.Skipf("strongSwan charon not installed (%v): apt-get install strongswan-charon strongswan-swanctl libcharon-extra-plugins", err)
	}
	if _, err := os.Stat("/usr/lib/ipsec/plugins/libstrongswan-kernel-libipsec.so"); err != nil {
		t.Skip("strongSwan kernel-libipsec plugin missing: apt-get install libcharon-extra-plugins")
	}
	if b, err := os.ReadFile("/var/run/charon.pid"); err == nil {
		if _, err := os.Stat("/proc/" + strings.TrimSpace(string(b))); err == nil {
			t.Skip("another charon is running on this host (its pid file is fixed)")
		}
	}
	dir := t.TempDir()
	nsName := fmt.Sprintf("l2tpsec-ike-%d", os.Getpid())
	conns := openSocketsInNetns(t, nsName, "127.0.0.2")
	psk := "interop pre-shared key"
	vici := "unix://" + filepath.Join(dir, "charon.vici")
	logPath := filepath.Join(dir, "charon.log")
	writeFile(t, filepath.Join(dir, "strongswan.conf"), fmt.Sprintf(`charon {
  port = 5500
  port_nat_t = 5501
  install_routes = no
  install_virtual_ip = no
  retransmit_tries = 2
  load = random nonce aes sha1 sha2 md5 hmac gmp openssl pem pkcs1 x509 pubkey kernel-libipsec kernel-netlink socket-default vici
  plugins {
    vici {
      socket = %s
    }
  }
  filelog {
    interop {
      path = %s
      default = 1
      ike = 2
      flush_line = yes
    }
  }
}
swanctl { load = pem pkcs1 x509 pubkey openssl random nonce }
`, vici, logPath))
	writeFile(t, filepath.Join(dir, "swanctl.conf"), fmt.Sprintf(`connections {
  tous {
    version = 1
    local_addrs = 127.0.0.1
    remote_addrs = 127.0.0.2
    proposals = aes256-sha1-ecp384,aes128-sha256-modp2048
    local { auth = psk
      id = 127.0.0.1 }
    remote { auth = psk
      id = %%any }
    children {
      l2tp {
        mode = transport
        local_ts = 127.0.0.1[udp/1701]
        remote_ts = 127.0.0.2[udp/1701]
        esp_proposals = aes128-sha1,aes256gcm16
      }
    }
  }
  certconn {
    version = 1
    local_addrs = 127.0.0.1
    remote_addrs = 127.0.0.2
    proposals = aes128-sha256-modp2048
    local { auth = pubkey
      certs = alice.pem }
    remote { auth = pubkey
      id = %%any }
    children {
      l2tpcert {
        mode = transport
        local_ts = 127.0.0.1[udp/1701]
        remote_ts = 127.0.0.2[udp/1701]
        esp_proposals = aes256-sha256
      }
    }
  }
}
secrets { ike-1 { secret = "%s" } }
`, psk))
	// A test PKI: strongSwan authenticates as alice (RSA), we as the server.
	pki := newTestPKI(t, "Interop Root CA")
	alice := pki.leaf(t, "alice", true)
	server := pki.leaf(t, "vpn.example.net", true)
	for sub, f := range map[string]string{"x509ca": "root.pem", "x509": "alice.pem", "private": "alice.key"} {
		os.MkdirAll(filepath.Join(dir, sub), 0o700)
		var block *pem.Block
		switch sub {
		case "x509ca":
			block = &pem.Block{Type: "CERTIFICATE", Bytes: pki.root.Raw}
		case "x509":
			block = &pem.Block{Type: "CERTIFICATE", Bytes: alice.Chain[0].Raw}
		default:
			block = &pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(alice.Key.(*rsa.PrivateKey))}
		}
		writeFile(t, filepath.Join(dir, sub, f), string(pem.EncodeToMemory(block)))
	}
	env := append(os.Environ(), "STRONGSWAN_CONF="+filepath.Join(dir, "strongswan.conf"))
	cmd := exec.Command("ip", "netns", "exec", nsName, charon)
	cmd.Env = env
	var out syncBuffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		cmd.Process.Signal(os.Interrupt)
		done := make(chan struct{})
		go func() { cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			cmd.Process.Kill()
			<-done
		}
		if t.Failed() {
			log, _ := os.ReadFile(logPath)
			t.Logf("charon output:\n%s\ncharon log:\n%s", out.String(), log)
		}
	}()
	swanctl := func(args ...string) string {
		var err error
		var b []byte
		for i := 0; i < 50; i++ { // readiness: charon creates its vici socket
			c := exec.Command("swanctl", append(args, "--uri", vici)...)
			c.Env = env
			b, err = c.CombinedOutput()
			if err == nil || !strings.Contains(string(b), "connecting to") {
				break
			}
			time.Sleep(100 * time.Millisecond)
		}
		if err != nil && !strings.Contains(args[0], "initiate") {
			t.Fatalf("swanctl %v: %v\n%s", args, err, b)
		}
		return string(b)
	}
	if o := swanctl("--load-all", "--file", filepath.Join(dir, "swanctl.conf"), "--noprompt"); !strings.Contains(o, "successfully loaded 2 connections") {
		t.Logf("swanctl --load-all:\n%s", o)
	}

	var traceBuf syncBuffer
	ev := &chanEvents{p1: make(chan struct{}, 4), p2: make(chan struct{}, 4)}
	eng := NewEngine(Config{PSKs: []PSK{{Key: []byte("not this one")}, {Key: []byte(psk)}}, Certs: server}, conns, ev, clock.Real{},
		slog.New(slog.NewTextHandler(&traceBuf, nil)), nil)
	eng.SetTrace(true)
	var wg sync.WaitGroup
	conns.serve(eng, &wg)
	defer func() {
		for _, c := range conns.conns {
			c.Close()
		}
		wg.Wait()
		if t.Failed() {
			t.Logf("our trace:\n%s", traceBuf.String())
		}
	}()

	// 1. strongSwan initiates, we respond.
	if o := swanctl("--initiate", "--child", "l2tp", "--timeout", "8"); !strings.Contains(o, "established") {
		t.Logf("swanctl --initiate:\n%s", o)
	}
	select {
	case <-ev.p1:
	case <-time.After(10 * time.Second):
		t.Fatal("strongSwan did not establish phase 1 with our responder")
	}
	ev.mu.Lock()
	info := ev.recorder.p1[0]
	ev.mu.Unlock()
	if info.KeyIndex != 1 || info.Suite.Group != GroupECP384 || info.PeerID != "127.0.0.1" {
		t.Errorf("phase 1 as responder: %+v", info)
	}
	log, _ := os.ReadFile(logPath)
	for _, want := range []string{
		"IKE_SA tous[1] established",
		"parsed QUICK_MODE response", // our QM2 authenticated (HASH(2))
		"IPsec SA: unsupported mode", // and was only refused by kernel-libipsec
	} {
		if !strings.Contains(string(log), want) {
			t.Errorf("strongSwan's log lacks %q", want)
		}
	}

	// 2. We initiate, strongSwan responds (it uses the same connection).
	_, err := eng.Dial(netip.MustParseAddrPort("127.0.0.2:500"), netip.MustParseAddrPort("127.0.0.1:5500"), DialConfig{
		PSK: []byte(psk), Phase2: Policy{}.Phase2Suites(isakmp.EncapTransport), DPD: true, NATTPort: 5501})
	if err != nil {
		t.Fatal(err)
	}
	for i, ch := range []chan struct{}{ev.p1, ev.p2} {
		select {
		case <-ch:
		case <-time.After(10 * time.Second):
			t.Fatalf("our initiator did not complete phase %d with strongSwan", i+1)
		}
	}
	ev.mu.Lock()
	child := ev.recorder.p2[0]
	ev.mu.Unlock()
	if child.Encap != EncapUDP || child.Remote != netip.MustParseAddrPort("127.0.0.1:5501") {
		t.Errorf("child SA %v (strongSwan fakes a NAT to force UDP encapsulation)", child)
	}
	time.Sleep(200 * time.Millisecond) // let charon log its side of Quick Mode 3
	log, _ = os.ReadFile(logPath)
	if n := strings.Count(string(log), "] established between"); n != 2 {
		t.Errorf("strongSwan established %d IKE SAs, want 2", n)
	}
	if !strings.Contains(string(log), "parsed QUICK_MODE request") || strings.Count(string(log), "unable to install") != 2 {
		t.Errorf("strongSwan did not accept our Quick Mode exchange")
	}

	// 3. strongSwan with an RSA certificate, we with ours.
	swanctl("--initiate", "--child", "l2tpcert", "--timeout", "8")
	select {
	case <-ev.p1:
	case <-time.After(10 * time.Second):
		t.Fatal("strongSwan did not establish phase 1 with certificates")
	}
	ev.mu.Lock()
	info = ev.recorder.p1[len(ev.recorder.p1)-1]
	ev.mu.Unlock()
	if info.Suite.Auth != isakmp.AuthRSASig || info.PeerCert == nil || info.PeerCert.Subject.CommonName != "alice" {
		t.Errorf("certificate phase 1: %+v", info)
	}
	log, _ = os.ReadFile(logPath)
	if !strings.Contains(string(log), "IKE_SA certconn[3] established") {
		t.Errorf("strongSwan does not report the certificate IKE SA established")
	}
}

func writeFile(t *testing.T, path, s string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(s), 0o600); err != nil {
		t.Fatal(err)
	}
}

// openSocketsInNetns creates a named network namespace with loopback up,
// opens our UDP sockets on addr:500 and addr:4500 inside it, and removes
// the namespace at the end of the test.
func openSocketsInNetns(t *testing.T, name, addr string) *udpTransport {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	orig, err := netns.Get()
	if err != nil {
		t.Fatal(err)
	}
	defer orig.Close()
	ns, err := netns.NewNamed(name)
	if err != nil {
		t.Skipf("cannot create a network namespace: %v", err)
	}
	defer netns.Set(orig)
	t.Cleanup(func() { ns.Close(); netns.DeleteNamed(name) })
	lo, err := netlink.LinkByName("lo")
	if err == nil {
		err = netlink.LinkSetUp(lo)
	}
	if err != nil {
		t.Fatal(err)
	}
	u := &udpTransport{conns: map[uint16]*net.UDPConn{}}
	for _, port := range []uint16{isakmp.PortIKE, isakmp.PortNATT} {
		c, err := net.ListenUDP("udp4", net.UDPAddrFromAddrPort(netip.AddrPortFrom(netip.MustParseAddr(addr), port)))
		if err != nil {
			t.Fatal(err)
		}
		u.conns[port] = c
	}
	return u
}
