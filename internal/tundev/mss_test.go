package tundev

import (
	"encoding/binary"
	"math/rand/v2"
	"testing"
)

// sum16 is the one's complement sum of b as big-endian 16-bit words.
func sum16(sum uint32, b []byte) uint32 {
	for len(b) >= 2 {
		sum += uint32(binary.BigEndian.Uint16(b))
		b = b[2:]
	}
	if len(b) == 1 {
		sum += uint32(b[0]) << 8
	}
	return sum
}

func fold(sum uint32) uint16 {
	for sum>>16 != 0 {
		sum = sum&0xffff + sum>>16
	}
	return ^uint16(sum)
}

// tcpChecksum computes the TCP checksum of pkt from scratch (RFC 9293
// section 3.1: pseudo-header of source, destination, zero, protocol, TCP
// length), with the checksum field taken as zero.
func tcpChecksum(pkt []byte) uint16 {
	ihl := int(pkt[0]&0x0f) * 4
	total := int(binary.BigEndian.Uint16(pkt[2:4]))
	seg := append([]byte(nil), pkt[ihl:total]...)
	seg[16], seg[17] = 0, 0
	var s uint32
	s = sum16(s, pkt[12:20])
	s += uint32(ProtoTCP) + uint32(len(seg))
	s = sum16(s, seg)
	return fold(s)
}

// buildTCP builds an IPv4 TCP segment with the given IP options, TCP flags,
// TCP options and payload, with correct checksums.
func buildTCP(ipOpts []byte, flags byte, tcpOpts []byte, payload []byte) []byte {
	ihl := 20 + len(ipOpts)
	doff := 20 + len(tcpOpts)
	pkt := make([]byte, ihl+doff+len(payload))
	pkt[0] = 0x40 | byte(ihl/4)
	binary.BigEndian.PutUint16(pkt[2:], uint16(len(pkt)))
	binary.BigEndian.PutUint16(pkt[4:], 0x1234)
	pkt[8] = 64
	pkt[9] = byte(ProtoTCP)
	copy(pkt[12:], []byte{10, 10, 0, 50})
	copy(pkt[16:], []byte{198, 51, 100, 7})
	copy(pkt[20:], ipOpts)
	binary.BigEndian.PutUint16(pkt[10:], fold(sum16(0, pkt[:ihl])))
	tcp := pkt[ihl:]
	binary.BigEndian.PutUint16(tcp[0:], 40000)
	binary.BigEndian.PutUint16(tcp[2:], 443)
	binary.BigEndian.PutUint32(tcp[4:], 0xdeadbeef)
	tcp[12] = byte(doff/4) << 4
	tcp[13] = flags
	binary.BigEndian.PutUint16(tcp[14:], 64240)
	copy(tcp[20:], tcpOpts)
	copy(tcp[doff:], payload)
	binary.BigEndian.PutUint16(tcp[16:], tcpChecksum(pkt))
	return pkt
}

func mssAt(pkt []byte) (uint16, bool) {
	ihl := int(pkt[0]&0x0f) * 4
	tcp := pkt[ihl:]
	doff := int(tcp[12]>>4) * 4
	for i := 20; i < doff; {
		switch tcp[i] {
		case 0:
			return 0, false
		case 1:
			i++
			continue
		}
		if tcp[i] == 2 {
			return binary.BigEndian.Uint16(tcp[i+2:]), true
		}
		i += int(tcp[i+1])
	}
	return 0, false
}

var (
	optMSS1460      = []byte{2, 4, 0x05, 0xb4}
	optLinuxSYN     = []byte{2, 4, 0xff, 0xd7, 4, 2, 8, 10, 0, 0, 0, 1, 0, 0, 0, 0, 1, 3, 3, 7} // MSS 65495, SACK-perm, TS, NOP, WS
	optOddMSS       = []byte{1, 2, 4, 0x05, 0xb4, 1, 1, 1}                                      // NOP first: the MSS value sits at an odd offset
	optWindowsSYN   = []byte{2, 4, 0x05, 0xb4, 1, 3, 3, 8, 1, 1, 4, 2}
	optTSThenOddMSS = []byte{1, 1, 8, 10, 1, 2, 3, 4, 5, 6, 7, 8, 1, 2, 4, 0x23, 0x28, 0, 0, 0} // MSS 9000 at odd offset after NOP
)

func TestClampMSS(t *testing.T) {
	ipOpt := []byte{0x94, 4, 0, 0} // Router Alert, 4 bytes: IHL 6
	for _, tc := range []struct {
		name    string
		ipOpts  []byte
		flags   byte
		opts    []byte
		payload []byte
		max     uint16
		changed bool
		want    uint16
	}{
		{"syn 1460 -> 1360", nil, 0x02, optMSS1460, nil, 1360, true, 1360},
		{"syn-ack 1460 -> 1360", nil, 0x12, optMSS1460, nil, 1360, true, 1360},
		{"linux syn 65495", nil, 0x02, optLinuxSYN, nil, 1240, true, 1240},
		{"odd offset", nil, 0x02, optOddMSS, nil, 1300, true, 1300},
		{"odd offset after timestamps", nil, 0x02, optTSThenOddMSS, nil, 1399, true, 1399},
		{"windows syn with ip options", ipOpt, 0x02, optWindowsSYN, nil, 1350, true, 1350},
		{"syn with payload (TFO)", nil, 0x02, optMSS1460, []byte("hello, world!"), 1000, true, 1000},
		{"already small", nil, 0x02, optMSS1460, nil, 1460, false, 1460},
		{"smaller than limit", nil, 0x02, optMSS1460, nil, 1500, false, 1460},
		{"ack only", nil, 0x10, optMSS1460, nil, 1200, false, 1460},
		{"no options", nil, 0x02, nil, nil, 1200, false, 0},
		{"end before mss", nil, 0x02, []byte{0, 0, 0, 0, 2, 4, 5, 0xb4}, nil, 1200, false, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			pkt := buildTCP(tc.ipOpts, tc.flags, tc.opts, tc.payload)
			ipHdr := append([]byte(nil), pkt[:20+len(tc.ipOpts)]...)
			if got := ClampMSS(pkt, tc.max); got != tc.changed {
				t.Fatalf("ClampMSS = %v, want %v", got, tc.changed)
			}
			if mss, ok := mssAt(pkt); ok && mss != tc.want || !ok && tc.want != 0 {
				t.Fatalf("MSS now %d (%v), want %d", mss, ok, tc.want)
			}
			if got, want := binary.BigEndian.Uint16(pkt[20+len(tc.ipOpts)+16:]), tcpChecksum(pkt); got != want {
				t.Fatalf("TCP checksum %#04x, recomputed %#04x", got, want)
			}
			if string(pkt[:len(ipHdr)]) != string(ipHdr) {
				t.Fatal("IP header changed")
			}
		})
	}
}

func TestClampMSSLeavesOthersAlone(t *testing.T) {
	syn := buildTCP(nil, 0x02, optMSS1460, nil)
	for name, mutate := range map[string]func([]byte) []byte{
		"udp":           func(p []byte) []byte { p[9] = byte(ProtoUDP); return p },
		"ipv6 version":  func(p []byte) []byte { p[0] = 0x60; return p },
		"later frag":    func(p []byte) []byte { p[7] = 8; return p },
		"short ihl":     func(p []byte) []byte { p[0] = 0x44; return p },
		"huge ihl":      func(p []byte) []byte { p[0] = 0x4f; return p },
		"total too big": func(p []byte) []byte { p[2] = 0xff; return p },
		"truncated":     func(p []byte) []byte { return p[:30] },
		"doff too big":  func(p []byte) []byte { p[32] = 0xf0; return p },
		"doff too small": func(p []byte) []byte {
			p[32] = 0x40
			return p
		},
		"opt len 0":        func(p []byte) []byte { p[41] = 0; return p },
		"opt past end":     func(p []byte) []byte { p[41] = 9; return p },
		"mss len 3":        func(p []byte) []byte { p[41] = 3; return p },
		"empty":            func(p []byte) []byte { return p[:0] },
		"ip header only":   func(p []byte) []byte { return p[:20] },
		"total below tcp":  func(p []byte) []byte { binary.BigEndian.PutUint16(p[2:], 30); return p },
		"unknown option 9": func(p []byte) []byte { p[40] = 9; return p },
	} {
		p := mutate(append([]byte(nil), syn...))
		before := append([]byte(nil), p...)
		if ClampMSS(p, 1000) {
			t.Errorf("%s: changed", name)
		}
		if string(before) != string(p) {
			t.Errorf("%s: bytes changed", name)
		}
	}
}

// TestClampMSSRandom clamps random SYNs and checks the incremental checksum
// against a full recomputation, whatever the alignment and values.
func TestClampMSSRandom(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	for i := 0; i < 5000; i++ {
		var opts []byte
		for n := rng.IntN(4); n > 0; n-- {
			opts = append(opts, 1)
		}
		mss := uint16(rng.Uint32())
		opts = append(opts, 2, 4, byte(mss>>8), byte(mss))
		for len(opts)%4 != 0 {
			opts = append(opts, 1)
		}
		payload := make([]byte, rng.IntN(7))
		for j := range payload {
			payload[j] = byte(rng.Uint32())
		}
		pkt := buildTCP(nil, 0x02, opts, payload)
		max := uint16(rng.Uint32())
		changed := ClampMSS(pkt, max)
		if changed != (mss > max) {
			t.Fatalf("mss %d max %d changed %v", mss, max, changed)
		}
		if got, want := binary.BigEndian.Uint16(pkt[36:]), tcpChecksum(pkt); got != want {
			t.Fatalf("mss %d -> %d, opts % x: checksum %#04x, recomputed %#04x", mss, max, opts, got, want)
		}
	}
}

func TestClampMSSNoAlloc(t *testing.T) {
	pkt := buildTCP(nil, 0x02, optLinuxSYN, nil)
	orig := append([]byte(nil), pkt...)
	if n := testing.AllocsPerRun(100, func() {
		copy(pkt, orig)
		ClampMSS(pkt, 1360)
	}); n != 0 {
		t.Fatalf("ClampMSS allocates %v times per call", n)
	}
}

func TestMSSForMTUAndStrings(t *testing.T) {
	if MSSForMTU(1400) != 1360 || MSSForMTU(40) != 0 {
		t.Fatal("MSSForMTU")
	}
	if ProtoTCP.String() != "tcp" || IPProto(99).String() != "proto-99" || TCPOptMSS.String() != "mss" || TCPOption(30).String() != "tcp-option-30" {
		t.Fatal("String")
	}
	if a, ok := DstIPv4(buildTCP(nil, 2, nil, nil)); !ok || a != 198<<24|51<<16|100<<8|7 {
		t.Fatalf("DstIPv4 = %x %v", a, ok)
	}
	if _, ok := DstIPv4([]byte{0x60, 0}); ok {
		t.Fatal("DstIPv4 accepted junk")
	}
}

func FuzzClampMSS(f *testing.F) {
	f.Add(buildTCP(nil, 0x02, optLinuxSYN, nil), uint16(1360))
	f.Add(buildTCP([]byte{0x94, 4, 0, 0}, 0x12, optOddMSS, []byte("x")), uint16(1200))
	f.Add([]byte{0x45, 0, 0, 40}, uint16(0))
	f.Fuzz(func(t *testing.T, pkt []byte, max uint16) {
		var valid bool
		if len(pkt) >= 20 && pkt[0]>>4 == 4 {
			ihl := int(pkt[0]&0x0f) * 4
			total := int(binary.BigEndian.Uint16(pkt[2:4]))
			if ihl >= 20 && total <= len(pkt) && total >= ihl+20 && pkt[9] == 6 {
				valid = binary.BigEndian.Uint16(pkt[ihl+16:]) == tcpChecksum(pkt)
			}
		}
		if ClampMSS(pkt, max) && valid {
			ihl := int(pkt[0]&0x0f) * 4
			if binary.BigEndian.Uint16(pkt[ihl+16:]) != tcpChecksum(pkt) {
				t.Fatal("a valid checksum became invalid")
			}
		}
	})
}

func BenchmarkClampMSS(b *testing.B) {
	pkt := buildTCP(nil, 0x02, optLinuxSYN, nil)
	orig := append([]byte(nil), pkt...)
	b.SetBytes(int64(len(pkt)))
	for i := 0; i < b.N; i++ {
		copy(pkt, orig)
		ClampMSS(pkt, 1360)
	}
}

func BenchmarkClampMSSNotSYN(b *testing.B) {
	pkt := buildTCP(nil, 0x10, nil, make([]byte, 1300))
	b.SetBytes(int64(len(pkt)))
	for i := 0; i < b.N; i++ {
		ClampMSS(pkt, 1360)
	}
}
