package ike

import (
	"fmt"
	"net/netip"
	"testing"

	"github.com/l2tpsecd/l2tpsecd/ike/isakmp"
)

// BenchmarkHandshake measures a whole Main Mode + Quick Mode (both sides,
// in memory) per group: the CPU cost of one client connecting.
func BenchmarkHandshake(b *testing.B) {
	for _, g := range []Group{GroupECP256, GroupECP384, GroupMODP2048, GroupMODP1024} {
		b.Run(g.String(), func(b *testing.B) {
			cfg := pskCfg("benchmark key")
			cfg.Policy.Level = LevelCompat
			p := newPair(b, cfg, false)
			dc := DialConfig{PSK: []byte("benchmark key"),
				Phase1: []Phase1Suite{{Cipher: CipherAESCBC, KeyBits: 256, Hash: HashSHA1, Group: g, Auth: isakmp.AuthPSK}},
				Phase2: Policy{}.Phase2Suites(isakmp.EncapTransport)[:1]}
			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				src := netip.AddrPortFrom(clientAddr, uint16(1024+i%60000))
				if _, err := p.cli.Dial(src, netip.AddrPortFrom(serverAddr, 500), dc); err != nil {
					b.Fatal(err)
				}
				p.net.pump()
			}
			if n := len(p.srvEv.p2); n == 0 {
				b.Fatal("no child SAs")
			}
		})
	}
}

// BenchmarkPSKTrial measures trial decryption of message 5 when the
// matching key is the last of n candidates.
func BenchmarkPSKTrial(b *testing.B) {
	for _, n := range []int{1, 8} {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			var keys []string
			for i := 0; i < n; i++ {
				keys = append(keys, fmt.Sprintf("candidate key %d", i))
			}
			p := newPair(b, pskCfg(keys...), false)
			dc := DialConfig{PSK: []byte(keys[n-1]),
				Phase1: []Phase1Suite{{Cipher: CipherAESCBC, KeyBits: 128, Hash: HashSHA256, Group: GroupECP256, Auth: isakmp.AuthPSK}}}
			for i := 0; b.Loop(); i++ {
				src := netip.AddrPortFrom(clientAddr, uint16(1024+i%60000))
				if _, err := p.cli.Dial(src, netip.AddrPortFrom(serverAddr, 500), dc); err != nil {
					b.Fatal(err)
				}
				p.net.pump()
			}
		})
	}
}
