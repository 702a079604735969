// Package lab is the real-client lab of l2tpsecd: it runs the L2TP/IPsec
// client stacks that real users run (strongSwan or Libreswan for IKEv1 and
// ESP in transport mode, RFC 2409 and RFC 3948; xl2tpd for L2TPv2, RFC 2661
// and RFC 3193; pppd for PPP with PAP, CHAP and MS-CHAPv2, RFC 1661, RFC 1994
// and RFC 2759) inside User-Mode Linux guests, and lays out a topology of
// network namespaces around them so that a server under test sees them as
// clients on the internet, directly or behind an nftables NAT.
//
// The host kernel of this project's machines has no ESP, PPP or L2TP, so the
// client stacks run in Debian's user-mode-linux kernel, which has all three as
// modules. A guest is a Debian bookworm image built once with mmdebstrap and
// cached as an uncompressed initramfs; its /init mounts a hostfs share and runs
// the command files the host drops into it, so tests drive guests without a
// human.
//
// Topology (every name carries the run's prefix, see Lab.Prefix):
//
//	client guests (203.0.113.0/25)    client guests (203.0.113.128/25)
//	        |  tap on bridge                   |  tap on bridge
//	   [inet] 203.0.113.1              [nat] 203.0.113.129, masquerade
//	     |  198.51.100.254/24              |  198.51.100.2/24
//	     +---------------- bridge ---------+---- guest 198.51.100.3 (LinuxServer)
//	                        |
//	   [srv] 198.51.100.1/24  (the server under test, or SoftEther)
//	     |  10.99.0.1/24
//	   [lan] 10.99.0.2/24: answers ping, runs iperf3 -s
//
// Lab tests need root, /dev/net/tun, the user-mode-linux kernel and
// mmdebstrap. Without them they skip and say why, unless the environment
// variable L2TPSECD_LAB=require is set, as CI does: then a missing
// prerequisite fails the test, so the lab cannot silently stop running.
//
// Typical use:
//
//	l := lab.New(t)
//	srv := lab.StartSoftEther(t, l, lab.SoftEtherConfig{PSK: "...", User: "u", Password: "p"})
//	c := l.NewClient(t, lab.ClientConfig{Server: l.Server.PublicAddr, PSK: "...", User: "u", Password: "p"})
//	if err := c.Connect(ctx); err != nil { t.Fatal(err) }
//	mbps, err := c.Iperf3(ctx, l.Server.LANHost, 5, false)
package lab
