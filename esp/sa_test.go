package esp

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"encoding/binary"
	"errors"
	"fmt"
	"hash"
	"testing"
	"time"

	"github.com/l2tpsecd/l2tpsecd/internal/clock"
)

// suite is one ESP transform set; the tests and benchmarks share them.
type suite struct {
	name    string
	encr    EncrAlg
	keyLen  int // including the GCM salt
	auth    AuthAlg
	authLen int
	icv96   ICV96Mode
}

var suites = []suite{
	{"AES-CBC-128/HMAC-SHA1-96", EncrAESCBC, 16, AuthHMACSHA1, 20, 0},
	{"AES-CBC-256/HMAC-SHA1-96", EncrAESCBC, 32, AuthHMACSHA1, 20, 0},
	{"AES-CBC-128/HMAC-SHA2-256-128", EncrAESCBC, 16, AuthHMACSHA256, 32, 0},
	{"AES-CBC-256/HMAC-SHA2-256-128", EncrAESCBC, 32, AuthHMACSHA256, 32, 0},
	{"AES-CBC-128/HMAC-SHA2-256-96", EncrAESCBC, 16, AuthHMACSHA256, 32, ICV96On},
	{"AES-CBC-256/HMAC-SHA2-384-192", EncrAESCBC, 32, AuthHMACSHA384, 48, 0},
	{"AES-CBC-128/HMAC-SHA2-512-256", EncrAESCBC, 16, AuthHMACSHA512, 64, 0},
	{"AES-CBC-256/HMAC-SHA2-512-256", EncrAESCBC, 32, AuthHMACSHA512, 64, 0},
	{"AES-CBC-128/HMAC-MD5-96", EncrAESCBC, 16, AuthHMACMD5, 16, 0},
	{"AES-GCM-16-128", EncrAESGCM16, 20, AuthNone, 0, 0},
	{"AES-GCM-16-256", EncrAESGCM16, 36, AuthNone, 0, 0},
	{"AES-GCM-12-128", EncrAESGCM12, 20, AuthNone, 0, 0},
	{"3DES/HMAC-SHA1-96", Encr3DES, 24, AuthHMACSHA1, 20, 0},
	{"3DES/HMAC-MD5-96", Encr3DES, 24, AuthHMACMD5, 16, 0},
	{"DES/HMAC-MD5-96", EncrDES, 8, AuthHMACMD5, 16, 0},
	{"NULL/HMAC-SHA1-96", EncrNull, 0, AuthHMACSHA1, 20, 0},
}

func (s suite) config(spi uint32) Config {
	enc := make([]byte, s.keyLen)
	for i := range enc {
		enc[i] = byte(i*7 + 1)
	}
	var ak []byte
	if s.authLen > 0 {
		ak = make([]byte, s.authLen)
		for i := range ak {
			ak[i] = byte(i*13 + 5)
		}
	}
	return Config{SPI: spi, Encr: s.encr, EncKey: enc, Auth: s.auth, AuthKey: ak, ICV96: s.icv96}
}

func (s suite) pair(tb testing.TB, cfg Config) (out, in *SA) {
	tb.Helper()
	var err error
	if out, err = NewSA(cfg, Outbound, nil); err != nil {
		tb.Fatalf("%s: %v", s.name, err)
	}
	if in, err = NewSA(cfg, Inbound, nil); err != nil {
		tb.Fatalf("%s: %v", s.name, err)
	}
	return out, in
}

const testOff = 64

// seal copies payload into a fresh buffer and seals it.
func seal(tb testing.TB, sa *SA, sc *Scratch, payload []byte) []byte {
	tb.Helper()
	buf := make([]byte, testOff+len(payload)+MaxTailroom)
	copy(buf[testOff:], payload)
	pkt, err := sa.Seal(sc, buf, testOff, len(payload), ProtoUDP)
	if err != nil {
		tb.Fatalf("seal: %v", err)
	}
	return pkt
}

func TestRoundTripEverySuite(t *testing.T) {
	sc := NewScratch()
	for _, s := range suites {
		t.Run(s.name, func(t *testing.T) {
			out, in := s.pair(t, s.config(0x4000))
			for _, n := range []int{0, 1, 2, 3, 15, 16, 17, 64, 511, 1400} {
				payload := make([]byte, n)
				for i := range payload {
					payload[i] = byte(i + n)
				}
				pkt := seal(t, out, sc, payload)
				if (len(pkt)-HeaderLen-out.ivLen-out.ICVLen())%out.blockSize != 0 {
					t.Fatalf("n=%d: ciphertext not block aligned: %d", n, len(pkt))
				}
				if n > 16 && bytes.Contains(pkt, payload[:16]) && s.encr != EncrNull {
					t.Fatalf("n=%d: plaintext visible in packet", n)
				}
				got, next, err := in.Open(sc, pkt)
				if err != nil {
					t.Fatalf("n=%d: open: %v", n, err)
				}
				if !bytes.Equal(got, payload) || next != ProtoUDP {
					t.Fatalf("n=%d: got %x next %v", n, got, next)
				}
			}
			if st := in.Stats(); st.Packets != 10 || st.Integrity+st.Replay+st.Malformed != 0 {
				t.Errorf("inbound stats %+v", st)
			}
			if out.Seq() != 10 || in.Seq() != 10 {
				t.Errorf("sequence out %d in %d", out.Seq(), in.Seq())
			}
		})
	}
}

func TestCBCIVsAreFresh(t *testing.T) {
	sc := NewScratch()
	out, _ := suites[0].pair(t, suites[0].config(0x4000))
	a := seal(t, out, sc, make([]byte, 32))
	b := seal(t, out, sc, make([]byte, 32))
	if bytes.Equal(a[8:24], b[8:24]) || bytes.Equal(a[24:56], b[24:56]) {
		t.Fatal("two packets share an IV or ciphertext")
	}
}

func TestGCMIVIsSequence(t *testing.T) {
	sc := NewScratch()
	s := suites[9]
	out, _ := s.pair(t, s.config(0x4000))
	seal(t, out, sc, []byte("x"))
	p := seal(t, out, sc, []byte("x"))
	if binary.BigEndian.Uint64(p[8:16]) != 2 {
		t.Fatalf("IV %x, want the sequence number 2", p[8:16])
	}
}

func TestTamperingAndTruncation(t *testing.T) {
	sc := NewScratch()
	for _, s := range suites {
		t.Run(s.name, func(t *testing.T) {
			out, in := s.pair(t, s.config(0x4000))
			pkt := seal(t, out, sc, bytes.Repeat([]byte{0xab}, 100))
			for i := 0; i < len(pkt); i += 7 {
				bad := append([]byte(nil), pkt...)
				bad[i] ^= 0x40
				_, _, err := in.Open(sc, bad)
				switch {
				case i < 4 && err != ErrSPIMismatch:
					t.Fatalf("byte %d: %v", i, err)
				case i >= 4 && i < 8 && err != ErrIntegrity && err != ErrReplay:
					t.Fatalf("byte %d: %v", i, err)
				case i >= 8 && err != ErrIntegrity:
					t.Fatalf("byte %d: %v", i, err)
				}
			}
			for n := 0; n < len(pkt); n += 5 {
				if _, _, err := in.Open(sc, append([]byte(nil), pkt[:n]...)); err == nil {
					t.Fatalf("truncated to %d accepted", n)
				}
			}
			if _, _, err := in.Open(sc, pkt); err != nil {
				t.Fatalf("original after the bad ones: %v", err)
			}
			st := in.Stats()
			if st.Integrity == 0 || st.Malformed == 0 || st.Packets != 1 {
				t.Errorf("stats %+v", st)
			}
		})
	}
}

// reseal replaces the decrypted body of an AES-CBC/HMAC packet and fixes
// the ICV, to make packets that pass integrity but break ESP rules.
func reseal(t *testing.T, out *SA, sc *Scratch, key []byte, pkt []byte, edit func(pt []byte)) {
	t.Helper()
	icv := out.ICVLen()
	body := pkt[24 : len(pkt)-icv]
	b, _ := aes.NewCipher(key)
	cipher.NewCBCDecrypter(b, pkt[8:24]).CryptBlocks(body, body)
	edit(body)
	cipher.NewCBCEncrypter(b, pkt[8:24]).CryptBlocks(body, body)
	h := out.macPool.Get().(hash.Hash)
	copy(pkt[len(pkt)-icv:], out.mac(sc, h, pkt[:len(pkt)-icv], uint64(binary.BigEndian.Uint32(pkt[4:]))))
}

func TestBadPadding(t *testing.T) {
	sc := NewScratch()
	s := suites[0]
	cfg := s.config(0x4000)
	out, in := s.pair(t, cfg)
	cases := []struct {
		name string
		edit func(pt []byte)
	}{
		{"non-monotonic", func(pt []byte) { pt[len(pt)-3] ^= 0xff }},
		{"pad length beyond payload", func(pt []byte) { pt[len(pt)-2] = byte(len(pt)) }},
	}
	for _, c := range cases {
		pkt := seal(t, out, sc, make([]byte, 10)) // 10+2 -> 4 pad bytes
		reseal(t, out, sc, cfg.EncKey, pkt, c.edit)
		if _, _, err := in.Open(sc, pkt); err != ErrBadPadding {
			t.Errorf("%s: %v", c.name, err)
		}
	}
	// The window did not move for the refused packets: sequence 1 is still
	// acceptable.
	if in.Seq() != 0 {
		t.Errorf("window moved to %d on bad packets", in.Seq())
	}
	if st := in.Stats(); st.Malformed != 2 {
		t.Errorf("malformed %d, want 2", st.Malformed)
	}
}

// TestReplayWindow drives the window directly through its edges.
func TestReplayWindow(t *testing.T) {
	var r replayWindow
	r.init(1024)
	accept := func(seq uint64) bool {
		if !r.check(seq) {
			return false
		}
		r.update(seq)
		return true
	}
	steps := []struct {
		seq  uint64
		want bool
		why  string
	}{
		{0, false, "zero is never sent"},
		{2, true, "first"},
		{2, false, "duplicate"},
		{4, true, "gap"},
		{3, true, "late inside window"},
		{3, false, "late duplicate"},
		{1024, true, "ahead"},
		{1, true, "oldest still inside (1024-1 < 1024)"},
		{1, false, "duplicate at the edge"},
		{1026, true, "slides 1 and 2 out"},
		{2, false, "now too old"},
		{5, true, "late, inside"},
		{5000, true, "far ahead clears the ring"},
		{5000 - 1023, true, "window edge (top-1023)"},
		{5000 - 1024, false, "just outside the window"},
		{4999, true, "just below top"},
		{1025, false, "very old"},
		{1 << 40, true, "far far ahead"},
		{1<<40 - 64, true, "inside after a long jump, bitmap cleared"},
		{1<<40 - 64, false, "duplicate after a long jump"},
	}
	for _, s := range steps {
		if got := accept(s.seq); got != s.want {
			t.Errorf("seq %d (%s): accepted=%v, want %v", s.seq, s.why, got, s.want)
		}
	}
	// Every sequence number in a shuffled window is accepted exactly once.
	r.init(1024)
	for i := uint64(1); i <= 4096; i++ {
		seq := i ^ 0x3f // scramble within 64-blocks
		if seq == 0 {
			continue
		}
		if !accept(seq) {
			t.Fatalf("scrambled seq %d refused", seq)
		}
		if accept(seq) {
			t.Fatalf("scrambled seq %d accepted twice", seq)
		}
	}
}

func TestReplayThroughOpen(t *testing.T) {
	sc := NewScratch()
	s := suites[0]
	out, in := s.pair(t, s.config(0x4000))
	var pkts [][]byte
	for i := 0; i < 1100; i++ {
		pkts = append(pkts, seal(t, out, sc, []byte{byte(i)}))
	}
	open := func(i int) error {
		_, _, err := in.Open(sc, append([]byte(nil), pkts[i]...))
		return err
	}
	if err := open(1099); err != nil {
		t.Fatal(err)
	}
	if err := open(1099); err != ErrReplay {
		t.Fatalf("duplicate: %v", err)
	}
	if err := open(1099 - 1023); err != nil {
		t.Fatalf("oldest in window: %v", err)
	}
	if err := open(1099 - 1024); err != ErrReplay {
		t.Fatalf("outside window: %v", err)
	}
	if st := in.Stats(); st.Replay != 2 {
		t.Errorf("replay drops %d, want 2", st.Replay)
	}
}

func TestESNInference(t *testing.T) {
	var r replayWindow
	r.init(1024)
	r.top = 5<<32 | 10 // low half below the window size
	for _, c := range []struct {
		lo   uint32
		want uint64
		ok   bool
	}{
		{11, 5<<32 | 11, true},
		{0xfffffff0, 4<<32 | 0xfffffff0, true},
		{2000, 5<<32 | 2000, true},
	} {
		got, ok := r.infer(c.lo, true)
		if got != c.want || ok != c.ok {
			t.Errorf("top %#x lo %#x: %#x %v, want %#x", r.top, c.lo, got, ok, c.want)
		}
	}
	r.top = 5<<32 | 0xfffffff0
	if got, _ := r.infer(3, true); got != 6<<32|3 {
		t.Errorf("wrap ahead: %#x", got)
	}
	if got, _ := r.infer(0xffffff00, true); got != 5<<32|0xffffff00 {
		t.Errorf("inside: %#x", got)
	}
	r.top = 10
	if _, ok := r.infer(0xfffffff0, true); ok {
		t.Error("epoch -1 accepted")
	}
}

// TestICV96Auto: an SA negotiated as HMAC-SHA2-256 receives 96-bit ICVs
// (old Android) and switches; one that has seen a 128-bit ICV does not.
func TestICV96Auto(t *testing.T) {
	sc := NewScratch()
	var events []Event
	android := suites[4] // sender truncates to 96
	cfg := android.config(0x4000)
	sender, err := NewSA(cfg, Outbound, nil)
	if err != nil {
		t.Fatal(err)
	}
	cfg.ICV96 = ICV96Auto
	cfg.OnEvent = func(e Event) { events = append(events, e) }
	in, err := NewSA(cfg, Inbound, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 3; i++ {
		if _, _, err := in.Open(sc, seal(t, sender, sc, []byte("l2tp"))); err != nil {
			t.Fatalf("packet %d: %v", i, err)
		}
	}
	if in.ICVLen() != 12 || in.Stats().ICV96 != 1 || len(events) != 1 || events[0].Kind != EventICV96Detected {
		t.Fatalf("icv %d stats %+v events %v", in.ICVLen(), in.Stats(), events)
	}
	// Strict mode refuses the same packets.
	cfg.ICV96, cfg.OnEvent = ICV96Off, nil
	strict, _ := NewSA(cfg, Inbound, nil)
	if _, _, err := strict.Open(sc, seal(t, sender, sc, []byte("l2tp"))); err != ErrIntegrity {
		t.Fatalf("strict: %v", err)
	}
	// An SA that already accepted a 128-bit ICV never falls back.
	cfg.ICV96 = ICV96Auto
	full, _ := NewSA(Config{SPI: 0x4000, Encr: cfg.Encr, EncKey: cfg.EncKey, Auth: cfg.Auth, AuthKey: cfg.AuthKey, ICV96: ICV96Off}, Outbound, nil)
	in2, _ := NewSA(cfg, Inbound, nil)
	full.seq.Store(sender.seq.Load())
	if _, _, err := in2.Open(sc, seal(t, full, sc, []byte("a"))); err != nil {
		t.Fatal(err)
	}
	sender.seq.Add(1)
	if _, _, err := in2.Open(sc, seal(t, sender, sc, []byte("b"))); err != ErrIntegrity {
		t.Fatalf("after a full ICV, a 96-bit one: %v", err)
	}
	// The outbound side follows when told.
	out, _ := NewSA(cfg, Outbound, nil)
	out.UseICV96()
	if out.ICVLen() != 12 {
		t.Fatal("UseICV96 ignored")
	}
}

func TestLifetimes(t *testing.T) {
	clk := clock.NewFake(time.Unix(1e9, 0))
	var events []EventKind
	s := suites[0]
	cfg := s.config(0x4000)
	cfg.Soft = Lifetime{Duration: time.Hour, Bytes: 1000}
	cfg.Hard = Lifetime{Duration: 2 * time.Hour, Bytes: 3000}
	cfg.OnEvent = func(e Event) { events = append(events, e.Kind) }
	out, err := NewSA(cfg, Outbound, clk)
	if err != nil {
		t.Fatal(err)
	}
	sc := NewScratch()
	seal(t, out, sc, make([]byte, 999))
	if len(events) != 0 {
		t.Fatalf("early events %v", events)
	}
	seal(t, out, sc, make([]byte, 1))
	if fmt.Sprint(events) != "[soft-bytes]" {
		t.Fatalf("events %v", events)
	}
	clk.Advance(time.Hour)
	if fmt.Sprint(events) != "[soft-bytes soft-time]" || out.Dead() {
		t.Fatalf("events %v dead %v", events, out.Dead())
	}
	clk.Advance(time.Hour)
	if fmt.Sprint(events) != "[soft-bytes soft-time hard-time]" || !out.Dead() {
		t.Fatalf("events %v", events)
	}
	buf := make([]byte, 200)
	if _, err := out.Seal(sc, buf, 64, 10, ProtoUDP); err != ErrExpired {
		t.Fatalf("after hard lifetime: %v", err)
	}
	if out.Stats().Expired != 1 {
		t.Fatal("expired drop not counted")
	}

	// Hard bytes on an inbound SA.
	events = nil
	cfg.Soft, cfg.Hard = Lifetime{}, Lifetime{Bytes: 100}
	in2, _ := NewSA(cfg, Inbound, nil)
	out2, _ := NewSA(s.config(0x4000), Outbound, nil)
	seal(t, out2, sc, nil) // keep sequence numbers apart
	if _, _, err := in2.Open(sc, seal(t, out2, sc, make([]byte, 100))); err != nil {
		t.Fatal(err)
	}
	if _, _, err := in2.Open(sc, seal(t, out2, sc, make([]byte, 1))); err != ErrExpired {
		t.Fatalf("after hard bytes: %v", err)
	}
	out.Close()
}

func TestSequenceExhaustion(t *testing.T) {
	var kinds []EventKind
	s := suites[0]
	cfg := s.config(0x4000)
	cfg.OnEvent = func(e Event) { kinds = append(kinds, e.Kind) }
	out, _ := NewSA(cfg, Outbound, nil)
	sc := NewScratch()
	out.seq.Store(1<<32 - 2)
	seal(t, out, sc, nil) // 2^32-1: the last one
	buf := make([]byte, 200)
	if _, err := out.Seal(sc, buf, 64, 0, ProtoUDP); err != ErrSeqExhausted {
		t.Fatalf("wrap: %v", err)
	}
	if _, err := out.Seal(sc, buf, 64, 0, ProtoUDP); err != ErrExpired {
		t.Fatalf("after exhaustion: %v", err)
	}
	if fmt.Sprint(kinds) != "[seq-soft seq-exhausted]" {
		t.Fatalf("events %v", kinds)
	}
}

func TestConfigErrors(t *testing.T) {
	good := suites[0].config(0x4000)
	for _, c := range []struct {
		name string
		edit func(*Config)
		want error
	}{
		{"reserved SPI", func(c *Config) { c.SPI = 7 }, ErrBadConfig},
		{"short AES key", func(c *Config) { c.EncKey = c.EncKey[:15] }, ErrKeyLength},
		{"key bits mismatch", func(c *Config) { c.KeyBits = 256 }, ErrKeyLength},
		{"short auth key", func(c *Config) { c.AuthKey = c.AuthKey[:10] }, ErrKeyLength},
		{"unknown cipher", func(c *Config) { c.Encr = 99 }, ErrUnsupported},
		{"GCM-8", func(c *Config) { c.Encr, c.EncKey, c.Auth, c.AuthKey = EncrAESGCM8, make([]byte, 20), 0, nil }, ErrUnsupported},
		{"GCM with HMAC", func(c *Config) { c.Encr, c.EncKey = EncrAESGCM16, make([]byte, 20) }, ErrBadConfig},
		{"unknown auth", func(c *Config) { c.Auth = 3 }, ErrUnsupported},
		{"tiny window", func(c *Config) { c.ReplayWindow = 10 }, ErrBadConfig},
	} {
		cfg := good
		c.edit(&cfg)
		if _, err := NewSA(cfg, Inbound, nil); !errors.Is(err, c.want) {
			t.Errorf("%s: %v, want %v", c.name, err, c.want)
		}
	}
	out, _ := NewSA(good, Outbound, nil)
	if _, err := out.Seal(NewScratch(), make([]byte, 30), 10, 10, ProtoUDP); err != ErrShortBuffer {
		t.Errorf("short buffer: %v", err)
	}
	if _, _, err := out.Open(NewScratch(), make([]byte, 64)); err != ErrWrongDir {
		t.Errorf("open on outbound: %v", err)
	}
}

// TestZeroAllocs enforces the datapath rule: sealing and opening allocate
// nothing, for every suite.
func TestZeroAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts are meaningless under -race (sync.Pool drops items)")
	}
	sc := NewScratch()
	for _, s := range suites {
		out, in := s.pair(t, s.config(0x4000))
		buf := make([]byte, testOff+1400+MaxTailroom)
		var pkt []byte
		// Warm the pools first.
		pkt, _ = out.Seal(sc, buf, testOff, 1400, ProtoUDP)
		if _, _, err := in.Open(sc, pkt); err != nil {
			t.Fatal(err)
		}
		if a := testing.AllocsPerRun(100, func() {
			pkt, _ = out.Seal(sc, buf, testOff, 1400, ProtoUDP)
		}); a != 0 {
			t.Errorf("%s: Seal allocates %.1f per packet", s.name, a)
		}
		// AllocsPerRun runs the function once more than asked.
		pkts := make([][]byte, 102)
		for i := range pkts {
			b := make([]byte, testOff+1400+MaxTailroom)
			pkts[i], _ = out.Seal(sc, b, testOff, 1400, ProtoUDP)
		}
		i := 0
		if a := testing.AllocsPerRun(100, func() {
			if _, _, err := in.Open(sc, pkts[i]); err != nil {
				t.Fatal(err)
			}
			i++
		}); a != 0 {
			t.Errorf("%s: Open allocates %.1f per packet", s.name, a)
		}
	}
}

func TestSealUDPEncap(t *testing.T) {
	sc := NewScratch()
	s := suites[9]
	out, in := s.pair(t, s.config(0x4000))
	buf := make([]byte, testOff+100+MaxTailroom)
	copy(buf[testOff:], "payload")
	dgram, err := out.SealUDPEncap(sc, buf, testOff, 7, ProtoUDP, 4500, 31337)
	if err != nil {
		t.Fatal(err)
	}
	src, dst, esp, err := ParseUDP(dgram)
	if err != nil || src != 4500 || dst != 31337 || len(esp) != len(dgram)-UDPHeaderLen || dgram[6]|dgram[7] != 0 {
		t.Fatalf("outer UDP %d->%d len %d: %v", src, dst, len(esp), err)
	}
	if kind, _ := ClassifyDatagram(esp); kind != DatagramESP {
		t.Fatalf("classified %v", kind)
	}
	got, _, err := in.Open(sc, esp)
	if err != nil || string(got) != "payload" {
		t.Fatalf("%q %v", got, err)
	}
	if _, err := out.SealUDPEncap(sc, buf, 20, 7, ProtoUDP, 1, 2); err != ErrShortBuffer {
		t.Fatalf("no room for the UDP header: %v", err)
	}
}
