package ppp

import (
	"bytes"
	"errors"
	"testing"
	"testing/quick"
)

func TestPacketRoundTrip(t *testing.T) {
	f := func(code, id uint8, data []byte) bool {
		if len(data) > 60000 {
			data = data[:60000]
		}
		raw := AppendPacket(nil, Code(code), id, data)
		p, err := ParsePacket(append(raw, 0xEE, 0xEE)) // padding is ignored
		return err == nil && p.Code == Code(code) && p.ID == id && bytes.Equal(p.Data, data)
	}
	if err := quick.Check(f, nil); err != nil {
		t.Fatal(err)
	}
}

func TestOptionsRoundTrip(t *testing.T) {
	f := func(types []uint8, vals [][]byte) bool {
		var opts []Option
		for i, ty := range types {
			v := []byte{}
			if i < len(vals) {
				v = vals[i]
				if len(v) > 253 {
					v = v[:253]
				}
			}
			opts = append(opts, Option{Type: ty, Value: v})
		}
		raw := AppendOptions(nil, opts)
		back, err := ParseOptions(raw)
		if err != nil || len(back) != len(opts) {
			return false
		}
		for i := range opts {
			if back[i].Type != opts[i].Type || !bytes.Equal(back[i].Value, opts[i].Value) {
				return false
			}
		}
		return bytes.Equal(AppendOptions(nil, back), raw)
	}
	if err := quick.Check(f, nil); err != nil {
		t.Fatal(err)
	}
}

func TestMalformed(t *testing.T) {
	for _, c := range []struct {
		name string
		b    []byte
		want error
	}{
		{"short", []byte{1, 1, 0}, ErrShort},
		{"length below header", []byte{1, 1, 0, 3}, ErrBadLength},
		{"length beyond data", []byte{1, 1, 0, 9, 0}, ErrBadLength},
	} {
		if _, err := ParsePacket(c.b); !errors.Is(err, c.want) {
			t.Errorf("%s: %v", c.name, err)
		}
	}
	for _, b := range [][]byte{{1}, {1, 1}, {1, 5, 0, 0}, {1, 2, 3, 9}} {
		if _, err := ParseOptions(b); !errors.Is(err, ErrBadOption) {
			t.Errorf("options %x: %v", b, err)
		}
	}
	for _, b := range [][]byte{{}, {0xFF, 0x03}, {0xFF, 0x03, 0x00}, {0x00, 0x20}, {0xc0}} {
		if _, _, err := SplitFrame(b); err == nil {
			t.Errorf("frame %x accepted", b)
		}
	}
	if _, err := ParsePAPRequest([]byte{5, 'a'}); err == nil {
		t.Error("short PAP request accepted")
	}
	if _, err := ParseCHAPValue([]byte{0}); err == nil {
		t.Error("empty CHAP value accepted")
	}
}

func TestSplitFrameForms(t *testing.T) {
	ip := []byte{0x45, 0, 0, 20}
	for _, f := range [][]byte{
		append([]byte{0xFF, 0x03, 0x00, 0x21}, ip...), // full header
		append([]byte{0x00, 0x21}, ip...),             // ACFC
		append([]byte{0xFF, 0x03, 0x21}, ip...),       // PFC
		append([]byte{0x21}, ip...),                   // both
	} {
		p, payload, err := SplitFrame(f)
		if err != nil || p != ProtoIPv4 || !bytes.Equal(payload, ip) {
			t.Errorf("%x: %v %x %v", f, p, payload, err)
		}
	}
	buf := make([]byte, 8)
	copy(buf[4:], ip)
	fr, err := EncapIP(buf, 4)
	if err != nil || !bytes.Equal(fr, []byte{0xFF, 0x03, 0x00, 0x21, 0x45, 0, 0, 20}) {
		t.Fatalf("EncapIP %x %v", fr, err)
	}
	if _, err := EncapIP(buf, 3); !errors.Is(err, ErrNoHeadroom) {
		t.Fatalf("EncapIP without headroom: %v", err)
	}
}

func TestAuthCodecs(t *testing.T) {
	r, err := ParsePAPRequest(appendPAPRequest(nil, "bob", "pw"))
	if err != nil || string(r.PeerID) != "bob" || string(r.Password) != "pw" {
		t.Fatalf("%q %q %v", r.PeerID, r.Password, err)
	}
	cv, err := ParseCHAPValue(appendCHAPValue(nil, []byte{1, 2, 3}, "srv"))
	if err != nil || !bytes.Equal(cv.Value, []byte{1, 2, 3}) || string(cv.Name) != "srv" {
		t.Fatalf("%x %q %v", cv.Value, cv.Name, err)
	}
	for _, m := range []AuthMethod{AuthPAP, AuthCHAPMD5, AuthMSCHAPv1, AuthMSCHAPv2, AuthEAP} {
		o, _ := ParseOptions(appendAuthOption(nil, m))
		if got := parseAuthOption(o[0].Value); got != m {
			t.Errorf("%s round-trips as %s", m, got)
		}
	}
	for _, s := range []string{"pap", "chap", "mschapv2"} {
		if _, err := ParseAuthMethod(s); err != nil {
			t.Error(err)
		}
	}
	if _, err := ParseAuthMethod("mschap"); err == nil {
		t.Error("MS-CHAPv1 accepted as a configurable method")
	}
}

// Captured bytes from public bug reports, decoded the way pppd prints them.
func TestCapturedFrames(t *testing.T) {
	for _, c := range []struct {
		src, hex, want string
	}{
		// ppp-project/ppp#78: a modem's LCP Configure-Request.
		{"ppp-project/ppp#78", "FF 03 C0 21 01 01 00 14 02 06 00 00 00 00 05 06 93 0F 02 22 07 02 08 02",
			"[LCP ConfReq id=0x1 <asyncmap 0x0> <magic 0x930f0222> <pcomp> <accomp>]"},
		// joukewitteveen/netctl#162: the CCP request pppd's peer
		// Protocol-Rejected ("rcvd [LCP ProtRej id=0x1 80 fd 01 01 00 0f
		// 1a 04 78 00 18 04 78 00 15 03 2f]").
		{"joukewitteveen/netctl#162", "FF 03 C0 21 08 01 00 15 80 fd 01 01 00 0f 1a 04 78 00 18 04 78 00 15 03 2f",
			"[LCP ProtRej id=0x1 proto=CCP]"},
	} {
		p, payload, err := SplitFrame(unhex(c.hex))
		if err != nil {
			t.Fatalf("%s: %v", c.src, err)
		}
		if got := Describe(p, payload); got != c.want {
			t.Errorf("%s: %s, want %s", c.src, got, c.want)
		}
	}
	// The modem's request is acceptable to the client role and, but for
	// the missing magic collision, to the server: acknowledged verbatim.
	h := newSrv(t, AuthPAP)
	_, payload, _ := SplitFrame(unhex("FF 03 C0 21 01 01 00 14 02 06 00 00 00 00 05 06 93 0F 02 22 07 02 08 02"))
	got := h.send(append([]byte{0xFF, 0x03, 0xC0, 0x21}, payload...))
	if ack := find(t, got, ProtoLCP, CodeConfAck); !bytes.Equal(ack.Data, payload[4:]) {
		t.Fatalf("ack %x", ack.Data)
	}
}

func TestIPDataPathZeroAlloc(t *testing.T) {
	w := newWire(t, []AuthMethod{AuthPAP}, nil, "")
	w.start()
	if !w.srv.NetworkUp() {
		t.Fatal("not up")
	}
	w.srvRec.countIP = true
	sentFrames := 0
	w.srv.l.cfg.Output = func(buf []byte, start int) { sentFrames++ }
	frame := append([]byte{0xFF, 0x03, 0x00, 0x21}, make([]byte, 1400)...)
	in := testing.AllocsPerRun(1000, func() {
		if err := w.srv.Input(frame); err != nil {
			t.Fatal(err)
		}
	})
	buf := make([]byte, 64+1400)
	out := testing.AllocsPerRun(1000, func() {
		if err := w.srv.WriteIP(buf, 64); err != nil {
			t.Fatal(err)
		}
	})
	if in != 0 || out != 0 {
		t.Fatalf("allocations per packet: in %v, out %v", in, out)
	}
	if w.srvRec.nIP < 1000 || sentFrames < 1000 {
		t.Fatalf("delivered %d, sent %d", w.srvRec.nIP, sentFrames)
	}
	if got := w.srv.Counters().IPBytesIn.Load(); got < 1000*1400 {
		t.Fatalf("IPBytesIn %d", got)
	}
}

func BenchmarkSessionInputIP(b *testing.B) {
	w := newWire(b, []AuthMethod{AuthPAP}, nil, "")
	w.start()
	w.srvRec.countIP = true
	frame := append([]byte{0xFF, 0x03, 0x00, 0x21}, make([]byte, 1400)...)
	b.SetBytes(int64(len(frame)))
	b.ReportAllocs()
	for b.Loop() {
		_ = w.srv.Input(frame)
	}
}

func BenchmarkSessionWriteIP(b *testing.B) {
	w := newWire(b, []AuthMethod{AuthPAP}, nil, "")
	w.start()
	w.srv.l.cfg.Output = func([]byte, int) {}
	buf := make([]byte, 64+1400)
	b.SetBytes(1400)
	b.ReportAllocs()
	for b.Loop() {
		_ = w.srv.WriteIP(buf, 64)
	}
}

func BenchmarkNegotiation(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		w := newWire(b, []AuthMethod{AuthMSCHAPv2}, nil, "")
		w.start()
		if !w.srv.NetworkUp() {
			b.Fatal("not up")
		}
	}
}
