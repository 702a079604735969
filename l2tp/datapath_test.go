package l2tp

import (
	"bytes"
	"testing"
)

// dataLab brings a session up between an LNS and a LAC and then switches
// the LNS to a sender and handler that do not allocate.
func dataLab(t testing.TB, lnsCfg Config) (lns *Endpoint, lnsSess, lacSess *Session, snd *nopSender) {
	l := newLab(t, lnsCfg, Config{})
	_, lacSess = l.connect(t)
	if len(l.hl.up) != 1 {
		t.Fatal("no session")
	}
	snd = &nopSender{}
	l.lns.sender = snd
	l.lns.handler = nopHandler{}
	return l.lns, l.hl.up[0], lacSess, snd
}

func TestDataPathDoesNotAllocate(t *testing.T) {
	for _, cfg := range []Config{{}, {DataLengthBit: true, DataSequencing: true}} {
		lns, lnsSess, lacSess, snd := dataLab(t, cfg)
		frame := make([]byte, 1400)
		frame[0], frame[1] = 0x00, 0x21
		in, err := lacSess.AppendPPP(nil, frame)
		if err != nil {
			t.Fatal(err)
		}
		if a := testing.AllocsPerRun(1000, func() {
			if err := lns.Input("sa-1", 1701, in); err != nil {
				panic(err)
			}
		}); a != 0 {
			t.Errorf("%+v: Input of data allocates %v times", cfg, a)
		}
		if a := testing.AllocsPerRun(1000, func() {
			if err := lnsSess.SendPPP(frame); err != nil {
				panic(err)
			}
		}); a != 0 {
			t.Errorf("%+v: SendPPP allocates %v times", cfg, a)
		}
		if snd.n.Load() < 1000 {
			t.Errorf("sent %d", snd.n.Load())
		}
	}
}

func BenchmarkDecapsulate(b *testing.B) {
	lns, _, lacSess, _ := dataLab(b, Config{})
	frame := make([]byte, 1400)
	in, _ := lacSess.AppendPPP(nil, frame)
	b.SetBytes(int64(len(in)))
	b.ReportAllocs()
	for b.Loop() {
		if err := lns.Input("sa-1", 1701, in); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkEncapsulate(b *testing.B) {
	_, lnsSess, _, _ := dataLab(b, Config{})
	frame := make([]byte, 1400)
	b.SetBytes(int64(len(frame)))
	b.ReportAllocs()
	for b.Loop() {
		if err := lnsSess.SendPPP(frame); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDecapsulateParallel(b *testing.B) {
	lns, _, lacSess, _ := dataLab(b, Config{})
	in, _ := lacSess.AppendPPP(nil, make([]byte, 1400))
	b.SetBytes(int64(len(in)))
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			lns.Input("sa-1", 1701, in)
		}
	})
}

func TestEncapsulateInPlace(t *testing.T) {
	for _, cfg := range []Config{{}, {DataLengthBit: true, DataSequencing: true}} {
		_, lnsSess, _, _ := dataLab(t, cfg)
		buf := make([]byte, 64+6)
		copy(buf[64:], []byte{0xff, 0x03, 0x00, 0x21, 0x45, 0x00})
		off, err := lnsSess.EncapsulateInPlace(buf, 64)
		if err != nil {
			t.Fatal(err)
		}
		h, p, err := ParseData(buf[off:])
		if err != nil || h.SessionID != lnsSess.PeerID() || !bytes.Equal(p, buf[64:]) || h.HasSeq != cfg.DataSequencing {
			t.Errorf("%+v: header %+v payload %x err %v", cfg, h, p, err)
		}
		if h.HasLength && int(h.Length) != len(buf)-off {
			t.Errorf("length %d, datagram %d", h.Length, len(buf)-off)
		}
		if a := testing.AllocsPerRun(1000, func() { lnsSess.EncapsulateInPlace(buf, 64) }); a != 0 {
			t.Errorf("allocates %v", a)
		}
		if _, err := lnsSess.EncapsulateInPlace(buf, 4); err == nil {
			t.Error("no headroom accepted")
		}
	}
}

func BenchmarkEncapsulateInPlace(b *testing.B) {
	_, lnsSess, _, _ := dataLab(b, Config{})
	buf := make([]byte, 64+1400)
	b.SetBytes(1400)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := lnsSess.EncapsulateInPlace(buf, 64); err != nil {
			b.Fatal(err)
		}
	}
}

func TestInputAcceptsEveryDataLayout(t *testing.T) {
	l := newLab(t, Config{}, Config{})
	l.connect(t)
	lnsSess := l.hl.up[0]
	frame := []byte{0x00, 0x21, 0x45, 0x00}
	var ns uint16
	for i, h := range []Header{
		{},                                 // Windows: no L, no S
		{HasLength: true},                  // xl2tpd "length bit = yes"
		{HasSeq: true, Ns: 0},              // sequenced
		{HasOffset: true, OffsetSize: 4},   // offset padding
		{HasLength: true, HasOffset: true}, // zero-length offset
		{HasSeq: true, Priority: true},     // P bit
	} {
		h.TunnelID, h.SessionID = lnsSess.Tunnel().LocalID(), lnsSess.LocalID()
		for _, withFF03 := range []bool{false, true} {
			if h.HasSeq {
				h.Ns = ns
				ns++
			}
			p := frame
			if withFF03 {
				p = append([]byte{0xff, 0x03}, frame...)
			}
			before := len(l.hl.data)
			if err := l.lns.Input("sa-1", 1701, AppendData(nil, h, p)); err != nil {
				t.Fatalf("layout %d: %v", i, err)
			}
			if len(l.hl.data) != before+1 || !bytes.Equal(l.hl.data[before], frame) {
				t.Errorf("layout %d ff03=%v: delivered %x", i, withFF03, l.hl.data[before:])
			}
		}
	}
}
