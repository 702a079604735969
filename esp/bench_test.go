package esp

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/des"
	"crypto/hmac"
	"fmt"
	"hash"
	"net/netip"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// The benchmark suites of docs/performance.md: the modern set, AES-GCM,
// and 3DES for the compat set.
var benchSuites = []suite{
	suites[0],  // AES-CBC-128/HMAC-SHA1-96
	suites[1],  // AES-CBC-256/HMAC-SHA1-96
	suites[2],  // AES-CBC-128/HMAC-SHA2-256-128
	suites[3],  // AES-CBC-256/HMAC-SHA2-256-128
	suites[6],  // AES-CBC-128/HMAC-SHA2-512-256
	suites[7],  // AES-CBC-256/HMAC-SHA2-512-256
	suites[9],  // AES-GCM-16-128
	suites[10], // AES-GCM-16-256
	suites[12], // 3DES/HMAC-SHA1-96
}

var benchSizes = []int{64, 512, 1400}

// benchName uses benchstat's key=value form, so that
// "benchstat -col /impl" prints esp against the baseline directly.
func benchName(s suite, n int, impl string) string {
	return fmt.Sprintf("suite=%s/size=%d/impl=%s", strings.ReplaceAll(s.name, "/", "_"), n, impl)
}

// BenchmarkEncap and BenchmarkDecap run, for each suite and size, the
// raw-crypto baseline ("impl=baseline") and this package ("impl=esp")
// back to back, so that on a shared machine the two see the same load and
// their ratio means something. docs/performance.md reports esp/baseline.
func BenchmarkEncap(b *testing.B) {
	for _, s := range benchSuites {
		for _, n := range benchSizes {
			b.Run(benchName(s, n, "baseline"), func(b *testing.B) { benchBaselineSeal(b, s, n) })
			b.Run(benchName(s, n, "esp"), func(b *testing.B) { benchSeal(b, s, n) })
		}
	}
}

func BenchmarkDecap(b *testing.B) {
	for _, s := range benchSuites {
		for _, n := range benchSizes {
			b.Run(benchName(s, n, "baseline"), func(b *testing.B) { benchBaselineOpen(b, s, n) })
			b.Run(benchName(s, n, "esp"), func(b *testing.B) { benchOpen(b, s, n) })
		}
	}
}

// benchOp is one operation on one packet, set up by an xxxOp function.
type benchOp func()

func runOp(b *testing.B, n int, op benchOp) {
	b.SetBytes(int64(n))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		op()
	}
}

func benchSeal(b *testing.B, s suite, n int)         { runOp(b, n, sealOp(b, s, n)) }
func benchOpen(b *testing.B, s suite, n int)         { runOp(b, n, openOp(b, s, n)) }
func benchBaselineSeal(b *testing.B, s suite, n int) { runOp(b, n, baselineSealOp(b, s, n)) }
func benchBaselineOpen(b *testing.B, s suite, n int) { runOp(b, n, baselineOpenOp(b, s, n)) }

// sealOp encapsulates a payload of n bytes (an inner UDP datagram's worth).
func sealOp(b *testing.B, s suite, n int) benchOp {
	out, _ := s.pair(b, s.config(0x4000))
	sc := NewScratch()
	buf := make([]byte, testOff+n+MaxTailroom)
	return func() {
		if _, err := out.Seal(sc, buf, testOff, n, ProtoUDP); err != nil {
			b.Fatal(err)
		}
	}
}

// openOp decapsulates: it copies one sealed packet into a work buffer
// (Open works in place) and resets the replay window so the same sequence
// number is accepted again. The baseline makes the same copy.
func openOp(b *testing.B, s suite, n int) benchOp {
	out, in := s.pair(b, s.config(0x4000))
	sc := NewScratch()
	pkt := seal(b, out, sc, make([]byte, n))
	work := make([]byte, len(pkt))
	return func() {
		copy(work, pkt)
		if _, _, err := in.Open(sc, work); err != nil {
			b.Fatal(err)
		}
		in.replay.top, in.replay.bits[0] = 0, 0
	}
}

type cbcWithIV interface {
	cipher.BlockMode
	SetIV([]byte)
}

// baseline is the same cryptography done directly with the standard
// library: CBC over the padded length ESP would use, HMAC over header, IV
// and ciphertext, truncated compare; or GCM Seal/Open. No IV generation,
// padding, sequence numbers or replay window.
type baseline struct {
	enc, dec cbcWithIV
	mac      hash.Hash
	icv      int
	aead     cipher.AEAD
	bs       int
	iv       []byte
}

func newBaseline(b *testing.B, s suite) *baseline {
	cfg := s.config(0x4000)
	bl := &baseline{}
	if s.encr.IsAEAD() {
		blk, _ := aes.NewCipher(cfg.EncKey[:len(cfg.EncKey)-4])
		bl.aead, _ = cipher.NewGCM(blk)
		bl.bs, bl.iv = 4, make([]byte, 12)
		return bl
	}
	var blk cipher.Block
	var err error
	if s.encr == Encr3DES {
		blk, err = des.NewTripleDESCipher(cfg.EncKey)
	} else {
		blk, err = aes.NewCipher(cfg.EncKey)
	}
	if err != nil {
		b.Fatal(err)
	}
	bl.bs = blk.BlockSize()
	bl.iv = make([]byte, bl.bs)
	bl.enc = cipher.NewCBCEncrypter(blk, bl.iv).(cbcWithIV)
	bl.dec = cipher.NewCBCDecrypter(blk, bl.iv).(cbcWithIV)
	sa, _ := NewSA(cfg, Outbound, nil)
	bl.mac = hmac.New(sa.hashNew, cfg.AuthKey)
	bl.icv = sa.ICVLen()
	return bl
}

// ctLen is the ciphertext length ESP would produce for n payload bytes.
func (bl *baseline) ctLen(n int) int {
	return (n + 2 + bl.bs - 1) / bl.bs * bl.bs
}

func baselineSealOp(b *testing.B, s suite, n int) benchOp {
	bl := newBaseline(b, s)
	ct := bl.ctLen(n)
	hdr := HeaderLen + len(bl.iv)
	buf := make([]byte, hdr+ct+64)
	sum := make([]byte, 0, 64)
	if bl.aead != nil {
		return func() { bl.aead.Seal(buf[16:16], bl.iv, buf[16:16+ct], buf[:8]) }
	}
	return func() {
		bl.enc.SetIV(bl.iv)
		bl.enc.CryptBlocks(buf[hdr:hdr+ct], buf[hdr:hdr+ct])
		bl.mac.Reset()
		bl.mac.Write(buf[:hdr+ct])
		sum = bl.mac.Sum(sum[:0])
		copy(buf[hdr+ct:], sum[:bl.icv])
	}
}

func baselineOpenOp(b *testing.B, s suite, n int) benchOp {
	bl := newBaseline(b, s)
	ct := bl.ctLen(n)
	sum := make([]byte, 0, 64)
	if bl.aead != nil {
		hdr := HeaderLen + 8
		pkt := bl.aead.Seal(make([]byte, hdr, hdr+ct+16), bl.iv, make([]byte, ct), make([]byte, 8))
		work := make([]byte, len(pkt))
		return func() {
			copy(work, pkt)
			if _, err := bl.aead.Open(work[hdr:hdr], bl.iv, work[hdr:], work[:8]); err != nil {
				b.Fatal(err)
			}
		}
	}
	hdr := HeaderLen + bl.bs
	pkt := make([]byte, hdr+ct+bl.icv)
	work := make([]byte, len(pkt))
	return func() {
		copy(work, pkt)
		bl.mac.Reset()
		bl.mac.Write(work[:hdr+ct])
		sum = bl.mac.Sum(sum[:0])
		_ = hmac.Equal(sum[:bl.icv], work[hdr+ct:])
		bl.dec.SetIV(work[HeaderLen:hdr])
		bl.dec.CryptBlocks(work[hdr:hdr+ct], work[hdr:hdr+ct])
	}
}

// BenchmarkRatio alternates the baseline and this package in chunks of
// 16 packets inside one benchmark and reports their time ratio
// ("esp/baseline"): on a machine shared with other work, load changes
// from one benchmark to the next would swamp a ratio of two separate
// runs, while alternating every few microseconds cancels them out.
func BenchmarkRatio(b *testing.B) {
	for _, dir := range []string{"encap", "decap"} {
		for _, s := range benchSuites {
			for _, n := range benchSizes {
				name := fmt.Sprintf("dir=%s/suite=%s/size=%d", dir, strings.ReplaceAll(s.name, "/", "_"), n)
				b.Run(name, func(b *testing.B) {
					esp, base := sealOp(b, s, n), baselineSealOp(b, s, n)
					if dir == "decap" {
						esp, base = openOp(b, s, n), baselineOpenOp(b, s, n)
					}
					const chunk = 16
					var tEsp, tBase time.Duration
					b.ResetTimer()
					for i := 0; i < b.N; i += chunk {
						t0 := time.Now()
						for j := 0; j < chunk; j++ {
							base()
						}
						t1 := time.Now()
						for j := 0; j < chunk; j++ {
							esp()
						}
						tBase += t1.Sub(t0)
						tEsp += time.Since(t1)
					}
					b.ReportMetric(float64(tEsp)/float64(tBase), "esp/baseline")
					b.ReportMetric(float64(tEsp.Nanoseconds())/float64((b.N+chunk-1)/chunk*chunk), "esp-ns/pkt")
				})
			}
		}
	}
}

// BenchmarkUserspaceLoopback pushes 512-byte payloads from a client
// datapath to a server datapath over UDP on loopback (AES-CBC-128 with
// HMAC-SHA1-96), counting deliveries; it reports the delivered fraction,
// since UDP on a busy host may drop.
func BenchmarkUserspaceLoopback(b *testing.B) {
	var delivered atomic.Int64
	server, err := NewUserspace(UserspaceConfig{Listen: []netip.AddrPort{netip.MustParseAddrPort("127.0.0.1:0")}, Workers: 2,
		Hooks: Hooks{DeliverUDP: func(Handle, uint16, uint16, []byte) { delivered.Add(1) }}})
	if err != nil {
		b.Skipf("cannot open sockets: %v", err)
	}
	defer server.Close()
	client, err := NewUserspace(UserspaceConfig{Listen: []netip.AddrPort{netip.MustParseAddrPort("127.0.0.2:0")}, Workers: 1})
	if err != nil {
		b.Skipf("cannot bind 127.0.0.2: %v", err)
	}
	defer client.Close()
	sp, cp := mirrored(suites[0], 0x1000, 0x2000, server.LocalAddrs()[0], client.LocalAddrs()[0], EncapUDP)
	if _, err := server.AddSA(sp); err != nil {
		b.Fatal(err)
	}
	ch, err := client.AddSA(cp)
	if err != nil {
		b.Fatal(err)
	}
	payloads := make([][]byte, 32)
	for i := range payloads {
		payloads[i] = make([]byte, 512)
	}
	b.SetBytes(512)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i += len(payloads) {
		k := min(len(payloads), b.N-i)
		if err := client.SendUDPBatch(ch, 1701, 1701, payloads[:k]); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	client.Close()
	server.Close()
	b.ReportMetric(float64(delivered.Load())/float64(b.N), "delivered/op")
}
