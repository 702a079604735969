package esp

import (
	"bytes"
	"testing"
)

// FuzzOpen feeds arbitrary packets to inbound SAs of several suites,
// including an integrity-less one so that the fuzzer reaches the padding
// and trailer checks. Open must never panic, and must never return a
// payload outside the packet.
func FuzzOpen(f *testing.F) {
	sc := NewScratch()
	var outs, ins []*SA
	for _, s := range []suite{suites[0], suites[6], suites[9], suites[12],
		{"AES-CBC-128/none", EncrAESCBC, 16, AuthNone, 0, 0}} {
		o, i := s.pair(f, s.config(0x4000))
		outs, ins = append(outs, o), append(ins, i)
	}
	for _, o := range outs {
		for _, n := range []int{0, 1, 40} {
			f.Add(seal(f, o, sc, bytes.Repeat([]byte{1}, n)))
		}
	}
	f.Add([]byte{0, 0, 0x40, 0, 0, 0, 0, 1})
	f.Fuzz(func(t *testing.T, pkt []byte) {
		for _, in := range ins {
			p := append([]byte(nil), pkt...)
			payload, _, err := in.Open(sc, p)
			if err != nil {
				continue
			}
			if len(payload) > len(p) {
				t.Fatalf("payload longer than packet")
			}
		}
	})
}

// FuzzSealOpen checks the round trip for arbitrary payloads.
func FuzzSealOpen(f *testing.F) {
	sc := NewScratch()
	type p struct{ out, in *SA }
	var pairs []p
	for _, s := range suites {
		o, i := s.pair(f, s.config(0x4000))
		pairs = append(pairs, p{o, i})
	}
	f.Add([]byte("hello"), uint8(0))
	f.Add(make([]byte, 300), uint8(9))
	f.Fuzz(func(t *testing.T, payload []byte, which uint8) {
		pr := pairs[int(which)%len(pairs)]
		pkt := seal(t, pr.out, sc, payload)
		got, next, err := pr.in.Open(sc, pkt)
		if err != nil || next != ProtoUDP || !bytes.Equal(got, payload) {
			t.Fatalf("round trip: %v next %v", err, next)
		}
	})
}

// FuzzDemux fuzzes the RFC 3948 demultiplexer and the inner UDP parser.
func FuzzDemux(f *testing.F) {
	f.Add([]byte{0xff})
	f.Add(append([]byte{0, 0, 0, 0}, make([]byte, 28)...))
	f.Add([]byte{0, 0, 0x40, 0, 0, 0, 0, 1, 2, 3})
	f.Add([]byte{0x06, 0xa5, 0x06, 0xa5, 0, 12, 0, 0, 1, 2, 3, 4})
	f.Fuzz(func(t *testing.T, b []byte) {
		kind, rest := ClassifyDatagram(b)
		switch kind {
		case DatagramIKE:
			if len(rest) != len(b)-4 || len(rest) < minIKELen {
				t.Fatal("bad IKE slice")
			}
		case DatagramESP:
			if _, _, ok := PeekSPI(rest); !ok {
				t.Fatal("ESP too short")
			}
		case DatagramKeepalive:
			if len(b) != 1 {
				t.Fatal("keepalive of wrong length")
			}
		}
		src, dst, payload, err := ParseUDP(b)
		if err == nil {
			if len(payload)+UDPHeaderLen > len(b) {
				t.Fatal("payload past the datagram")
			}
			hdr := make([]byte, UDPHeaderLen+len(payload))
			PutUDP(hdr, src, dst, len(payload))
			copy(hdr[UDPHeaderLen:], payload)
			s2, d2, p2, err := ParseUDP(hdr)
			if err != nil || s2 != src || d2 != dst || !bytes.Equal(p2, payload) {
				t.Fatal("UDP round trip")
			}
		}
	})
}
