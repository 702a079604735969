package ike

import (
	"bytes"
	"flag"
	"log/slog"
	"math/rand/v2"
	"net/netip"
	"os"
	"path/filepath"
	"testing"

	"github.com/l2tpsecd/l2tpsecd/ike/isakmp"
	"github.com/l2tpsecd/l2tpsecd/internal/clock"
)

var update = flag.Bool("update", false, "rewrite the golden trace files in testdata/")

// TestGoldenTraces keeps the server's Oakley-style trace of whole
// negotiations in testdata/ (deterministic randomness, fake clock), so a
// change in what the trace shows is visible in review. Regenerate with
// go test -run TestGoldenTraces -update.
func TestGoldenTraces(t *testing.T) {
	for _, c := range []struct {
		name string
		nat  bool
		dc   DialConfig
		srv  Config
	}{
		{"psk_nat_rfc3947", true, DialConfig{PSK: []byte("golden key"), DPD: true, InitialContact: true,
			Phase1: []Phase1Suite{{Cipher: CipherAESCBC, KeyBits: 256, Hash: HashSHA1, Group: GroupMODP2048, Auth: isakmp.AuthPSK}},
			Phase2: Policy{}.Phase2Suites(isakmp.EncapTransport)[:3]}, pskCfg("golden key")},
		{"refused_compat", false, DialConfig{PSK: []byte("golden key"),
			Phase1: []Phase1Suite{{Cipher: Cipher3DES, Hash: HashSHA1, Group: GroupMODP1024, Auth: isakmp.AuthPSK}}}, pskCfg("golden key")},
		{"psk_mismatch", false, DialConfig{PSK: []byte("not the key"),
			Phase1: []Phase1Suite{{Cipher: CipherAESCBC, KeyBits: 128, Hash: HashSHA256, Group: GroupMODP2048, Auth: isakmp.AuthPSK}}}, pskCfg("golden key", "another key")},
	} {
		t.Run(c.name, func(t *testing.T) {
			var buf bytes.Buffer
			logger := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
				if a.Key == slog.TimeKey {
					return slog.Attr{}
				}
				return a
			}}))
			net := newTestNet(t)
			clk := clock.NewFake(t0)
			c.srv.Rand = rand.NewChaCha8([32]byte{7})
			srv := NewEngine(c.srv, net, nil, clk, logger, nil)
			srv.SetTrace(true)
			cli := NewEngine(Config{Rand: rand.NewChaCha8([32]byte{8})}, net, nil, clk, nil, nil)
			cliAddr := clientAddr
			if c.nat {
				cliAddr = natPrivate
				net.natPriv, net.natPub = netip.MustParsePrefix("192.168.1.0/24"), natPublic
			}
			net.hosts[serverAddr], net.hosts[cliAddr] = srv, cli
			if _, err := cli.Dial(netip.AddrPortFrom(cliAddr, 500), netip.AddrPortFrom(serverAddr, 500), c.dc); err != nil {
				t.Fatal(err)
			}
			net.pump()
			path := filepath.Join("testdata", "trace_"+c.name+".golden")
			if *update {
				if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run with -update to create it)", err)
			}
			if !bytes.Equal(buf.Bytes(), want) {
				t.Errorf("trace differs from %s (run with -update if intended):\n%s", path, buf.String())
			}
		})
	}
}
