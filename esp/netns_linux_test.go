//go:build linux

package esp

import (
	"net/netip"
	"runtime"
	"testing"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"

	"github.com/l2tpsecd/l2tpsecd/internal/testutil"
)

// inNetns runs f with the calling OS thread in ns. Sockets opened by f
// stay in ns after it returns.
func inNetns(t *testing.T, ns netns.NsHandle, f func()) {
	t.Helper()
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	orig, err := netns.Get()
	if err != nil {
		t.Fatal(err)
	}
	defer orig.Close()
	if err := netns.Set(ns); err != nil {
		t.Fatal(err)
	}
	defer netns.Set(orig)
	f()
}

// twoNamespaces creates two network namespaces joined by a veth pair,
// with 198.51.100.1/24 in the first and 198.51.100.2/24 in the second.
func twoNamespaces(t *testing.T) (server, client netns.NsHandle) {
	testutil.RequireRoot(t)
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	orig, err := netns.Get()
	if err != nil {
		t.Fatal(err)
	}
	defer orig.Close()
	defer netns.Set(orig)
	if client, err = netns.New(); err != nil {
		t.Skipf("cannot create a network namespace: %v", err)
	}
	if server, err = netns.New(); err != nil {
		client.Close()
		t.Skipf("cannot create a network namespace: %v", err)
	}
	t.Cleanup(func() { server.Close(); client.Close() })
	// Now in the server namespace.
	veth := &netlink.Veth{LinkAttrs: netlink.LinkAttrs{Name: "esp0"}, PeerName: "esp1"}
	if err := netlink.LinkAdd(veth); err != nil {
		t.Skipf("cannot create a veth pair: %v", err)
	}
	setup := func(name, cidr string) {
		l, err := netlink.LinkByName(name)
		if err != nil {
			t.Fatal(err)
		}
		addr, _ := netlink.ParseAddr(cidr)
		if err := netlink.AddrAdd(l, addr); err != nil {
			t.Fatal(err)
		}
		for _, up := range []string{name, "lo"} {
			l, _ := netlink.LinkByName(up)
			if err := netlink.LinkSetUp(l); err != nil {
				t.Fatal(err)
			}
		}
	}
	peer, err := netlink.LinkByName("esp1")
	if err != nil {
		t.Fatal(err)
	}
	if err := netlink.LinkSetNsFd(peer, int(client)); err != nil {
		t.Fatal(err)
	}
	setup("esp0", "198.51.100.1/24")
	if err := netns.Set(client); err != nil {
		t.Fatal(err)
	}
	setup("esp1", "198.51.100.2/24")
	return server, client
}

// TestNamespacesRawAndUDP runs the shared exchange between two
// namespaces over a veth pair, the way the lab connects server and
// clients: raw ESP first, then ESP-in-UDP on port 4500.
func TestNamespacesRawAndUDP(t *testing.T) {
	serverNS, clientNS := twoNamespaces(t)
	for _, encap := range []Encap{EncapRaw, EncapUDP} {
		t.Run(encap.String(), func(t *testing.T) {
			ss, cs := newSink(), newSink()
			var server, client *Userspace
			var err error
			inNetns(t, serverNS, func() {
				server, err = NewUserspace(UserspaceConfig{Listen: []netip.AddrPort{netip.MustParseAddrPort("0.0.0.0:4500")},
					Workers: 2, RawESP: true, Hooks: ss.hooks()})
			})
			if err != nil {
				t.Fatal(err)
			}
			defer server.Close()
			inNetns(t, clientNS, func() {
				client, err = NewUserspace(UserspaceConfig{Listen: []netip.AddrPort{netip.MustParseAddrPort("198.51.100.2:4500")},
					Workers: 1, RawESP: true, Hooks: cs.hooks()})
			})
			if err != nil {
				t.Fatal(err)
			}
			defer client.Close()
			serverAddr := netip.MustParseAddrPort("198.51.100.1:4500")
			clientAddr := netip.MustParseAddrPort("198.51.100.2:4500")
			exchange(t, server, client, ss, cs, serverAddr, clientAddr, encap)
		})
	}
}
