package tundev

import (
	"bytes"
	"encoding/binary"
	"errors"
	"net"
	"net/netip"
	"os"
	"runtime"
	"testing"
	"time"

	"github.com/l2tpsecd/l2tpsecd/internal/testutil"
	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
)

// inNewNetns runs the rest of the test on a locked thread inside a fresh
// network namespace with lo up, and restores the original one at cleanup.
func inNewNetns(t *testing.T) {
	t.Helper()
	testutil.RequireRoot(t)
	if _, err := os.Stat("/dev/net/tun"); err != nil {
		t.Skipf("no TUN support here: %v", err)
	}
	runtime.LockOSThread()
	orig, err := netns.Get()
	if err != nil {
		runtime.UnlockOSThread()
		t.Skipf("cannot read the current network namespace: %v", err)
	}
	ns, err := netns.New()
	if err != nil {
		orig.Close()
		runtime.UnlockOSThread()
		t.Skipf("cannot create a network namespace: %v", err)
	}
	t.Cleanup(func() {
		netns.Set(orig)
		ns.Close()
		orig.Close()
		runtime.UnlockOSThread()
	})
	lo, err := netlink.LinkByName("lo")
	if err != nil {
		t.Fatal(err)
	}
	if err := netlink.LinkSetUp(lo); err != nil {
		t.Fatal(err)
	}
}

// buildUDP builds an IPv4 UDP packet at buf[off:] and returns its length.
func buildUDP(buf []byte, off int, src, dst netip.AddrPort, payload []byte) int {
	p := buf[off:]
	n := 28 + len(payload)
	clear(p[:28])
	p[0] = 0x45
	binary.BigEndian.PutUint16(p[2:], uint16(n))
	p[8] = 64
	p[9] = byte(ProtoUDP)
	s, d := src.Addr().As4(), dst.Addr().As4()
	copy(p[12:16], s[:])
	copy(p[16:20], d[:])
	binary.BigEndian.PutUint16(p[10:], fold(sum16(0, p[:20])))
	binary.BigEndian.PutUint16(p[20:], src.Port())
	binary.BigEndian.PutUint16(p[22:], dst.Port())
	binary.BigEndian.PutUint16(p[24:], uint16(8+len(payload)))
	copy(p[28:], payload)
	var sum uint32
	sum = sum16(sum, p[12:20])
	sum += uint32(ProtoUDP) + uint32(8+len(payload))
	sum = sum16(sum, p[20:n])
	binary.BigEndian.PutUint16(p[26:], fold(sum))
	return n
}

func TestDeviceBothWays(t *testing.T) {
	for _, queues := range []int{1, 2} {
		t.Run(map[int]string{1: "single-queue", 2: "multi-queue"}[queues], func(t *testing.T) {
			// The namespace belongs to the subtest's own goroutine.
			inNewNetns(t)
			testDeviceBothWays(t, queues)
		})
	}
}

func testDeviceBothWays(t *testing.T, queues int) {
	gw := netip.MustParsePrefix("10.77.0.1/32")
	pool := netip.MustParsePrefix("10.77.0.0/24")
	d, err := Open(Config{Name: "l2tpsectest0", MTU: 1380, Gateway: gw, Routes: []netip.Prefix{pool}, Queues: queues}, nil)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	defer d.Close()
	if d.Queues() != queues {
		t.Fatalf("queues = %d", d.Queues())
	}
	link, err := netlink.LinkByName("l2tpsectest0")
	if err != nil {
		t.Fatal(err)
	}
	if link.Attrs().MTU != 1380 || link.Attrs().Flags&net.FlagUp == 0 {
		t.Fatalf("link attrs: mtu %d flags %v", link.Attrs().MTU, link.Attrs().Flags)
	}
	addrs, err := netlink.AddrList(link, netlink.FAMILY_V4)
	if err != nil || len(addrs) != 1 || !addrs[0].IP.Equal(net.IP(gw.Addr().AsSlice())) {
		t.Fatalf("addresses on the device: %v %v", addrs, err)
	}
	routes, err := netlink.RouteGet(net.ParseIP("10.77.0.99"))
	if err != nil || len(routes) == 0 || routes[0].LinkIndex != link.Attrs().Index {
		t.Fatalf("route to the pool: %+v %v", routes, err)
	}

	// Into TUN -> a UDP socket on the gateway address.
	sock, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IP(gw.Addr().AsSlice()), Port: 0})
	if err != nil {
		t.Fatal(err)
	}
	defer sock.Close()
	local := sock.LocalAddr().(*net.UDPAddr).AddrPort()
	peer := netip.MustParseAddrPort("10.77.0.50:4000")
	const off = 64
	buf := make([]byte, off+d.MTU())
	n := buildUDP(buf, off, peer, local, []byte("from the peer"))
	if _, err := d.Write([][]byte{buf[:off+n]}, off); err != nil {
		t.Fatalf("Write: %v", err)
	}
	// The deadline only keeps a broken kernel path from hanging the test.
	sock.SetReadDeadline(time.Now().Add(10 * time.Second))
	rb := make([]byte, 2048)
	rn, from, err := sock.ReadFromUDPAddrPort(rb)
	if err != nil {
		t.Fatalf("reading what was written into TUN: %v", err)
	}
	if string(rb[:rn]) != "from the peer" || from != peer {
		t.Fatalf("socket got %q from %v", rb[:rn], from)
	}

	// A UDP socket -> an address routed into TUN -> Read on some queue.
	dst := netip.MustParseAddrPort("10.77.0.99:5000")
	if _, err := sock.WriteToUDPAddrPort([]byte("to the peer"), dst); err != nil {
		t.Fatal(err)
	}
	got := make(chan []byte, queues)
	for q := 0; q < queues; q++ {
		go func(q int) {
			bs := d.Queue(q).BatchSize()
			bufs := make([][]byte, bs)
			for i := range bufs {
				bufs[i] = make([]byte, off+65535)
			}
			sizes := make([]int, bs)
			for {
				n, err := d.Queue(q).Read(bufs, sizes, off)
				if err != nil {
					return // closed
				}
				for i := 0; i < n; i++ {
					p := bufs[i][off : off+sizes[i]]
					if a, ok := DstIPv4(p); ok && a == 10<<24|77<<16|99 {
						got <- append([]byte(nil), p...)
						return
					}
				}
			}
		}(q)
	}
	select {
	case p := <-got:
		if IPProto(p[9]) != ProtoUDP || !bytes.Equal(p[12:16], gw.Addr().AsSlice()) || !bytes.HasSuffix(p, []byte("to the peer")) {
			t.Fatalf("read from TUN: % x", p)
		}
	case <-time.After(10 * time.Second): // hang guard, not a timing assertion
		t.Fatal("nothing routed into the TUN device")
	}

	// Routes added and removed live.
	extra := netip.MustParsePrefix("10.78.0.0/24")
	if err := d.AddRoute(extra); err != nil {
		t.Fatal(err)
	}
	if r, err := netlink.RouteGet(net.ParseIP("10.78.0.9")); err != nil || r[0].LinkIndex != link.Attrs().Index {
		t.Fatalf("live route: %+v %v", r, err)
	}
	if err := d.RemoveRoute(extra); err != nil {
		t.Fatal(err)
	}
	if _, err := netlink.RouteGet(net.ParseIP("10.78.0.9")); err == nil {
		t.Fatal("removed route still answers")
	}

	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := netlink.LinkByName("l2tpsectest0"); err == nil {
		t.Fatal("device still exists after Close")
	}
	if err := d.AddRoute(extra); !errors.Is(err, ErrClosed) {
		t.Fatalf("AddRoute after Close: %v", err)
	}
}

func TestOpenBadConfig(t *testing.T) {
	for _, cfg := range []Config{
		{Gateway: netip.Prefix{}},
		{Gateway: netip.MustParsePrefix("fd00::1/128")},
		{Gateway: netip.MustParsePrefix("10.0.0.1/32"), MTU: 100},
		{Gateway: netip.MustParsePrefix("10.0.0.1/32"), Name: "a-very-long-interface-name"},
	} {
		if _, err := Open(cfg, nil); !errors.Is(err, ErrBadConfig) {
			t.Errorf("Open(%+v) = %v, want ErrBadConfig", cfg, err)
		}
	}
}
