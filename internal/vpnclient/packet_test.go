package vpnclient

import (
	"bytes"
	"encoding/hex"
	"errors"
	"net/netip"
	"testing"
)

var (
	addrA = netip.MustParseAddr("10.77.0.10")
	addrB = netip.MustParseAddr("10.77.0.1")
)

// The IPv4 header checksum example everyone checks against (Wikipedia's
// "IPv4 header checksum" article): 192.168.0.1 -> 192.168.0.199, UDP, total
// length 0x73, checksum 0xb861.
func TestChecksumKnownHeader(t *testing.T) {
	h, _ := hex.DecodeString("450000730000400040110000c0a80001c0a800c7")
	if got := checksum(h, 0); got != 0xb861 {
		t.Fatalf("checksum = %#04x, want 0xb861", got)
	}
	h[10], h[11] = 0xb8, 0x61
	if got := checksum(h, 0); got != 0 {
		t.Fatalf("checksum over a header with its checksum = %#04x, want 0", got)
	}
}

// A real ping from Linux's ping(8), captured with tcpdump -xx on the veth
// of the load test's namespaces (198.51.100.2 -> 198.51.100.1, id 7428,
// seq 1, 56 bytes of data), without its Ethernet header.
func TestParseCapturedEcho(t *testing.T) {
	pkt, _ := hex.DecodeString("450000544640400040019ffec6336402c6336401" +
		"08004a9b1d040001cf51096b00000000f4cf040000000000" +
		"101112131415161718191a1b1c1d1e1f202122232425262728292a2b2c2d2e2f3031323334353637")
	var p Packet
	if err := ParsePacket(pkt, &p); err != nil {
		t.Fatal(err)
	}
	src, dst := netip.MustParseAddr("198.51.100.2"), netip.MustParseAddr("198.51.100.1")
	if p.Src != src || p.Dst != dst || p.Proto != IPProtoICMP || p.Type != ICMPEchoRequest || p.ID != 7428 || p.Seq != 1 || len(p.Payload) != 56 {
		t.Fatalf("parsed %+v", p)
	}
	if checksum(pkt[:20], 0) != 0 || checksum(pkt[20:], 0) != 0 {
		t.Error("captured IPv4 or ICMP checksum does not verify")
	}
	// The same echo built here is byte for byte what ping sent, but for the
	// IPv4 identification field (ping's 0x4640, ours 0) and so the header
	// checksum.
	st, _ := p.Stamp()
	b := AppendICMPEcho(nil, src, dst, ICMPEchoRequest, 7428, 1, st, len(pkt))
	// ping's data after the 8-byte stamp is 8 more time bytes and a
	// counting pattern; ours is zeros: compare headers only.
	if !bytes.Equal(b[20:24-2], pkt[20:22]) || !bytes.Equal(b[24:28], pkt[24:28]) || !bytes.Equal(b[:4], pkt[:4]) || !bytes.Equal(b[12:20], pkt[12:20]) {
		t.Errorf("built\n%x\nwant (headers)\n%x", b[:28], pkt[:28])
	}
}

func TestICMPRoundTrip(t *testing.T) {
	for _, size := range []int{0, 36, 64, 100, 1400, 1500} {
		b := AppendICMPEcho(nil, addrA, addrB, ICMPEchoRequest, 0x1234, 0xbeef, 0x0102030405060708, size)
		want := size
		if want < 36 {
			want = 36
		}
		if len(b) != want {
			t.Fatalf("size %d: built %d bytes", size, len(b))
		}
		if checksum(b[:IPv4HeaderLen], 0) != 0 || checksum(b[IPv4HeaderLen:], 0) != 0 {
			t.Fatalf("size %d: IPv4 or ICMP checksum does not verify", size)
		}
		var p Packet
		if err := ParsePacket(b, &p); err != nil {
			t.Fatal(err)
		}
		st, ok := p.Stamp()
		if p.Src != addrA || p.Dst != addrB || p.Proto != IPProtoICMP || p.Type != ICMPEchoRequest ||
			p.ID != 0x1234 || p.Seq != 0xbeef || !ok || st != 0x0102030405060708 || len(p.Payload) != want-28 {
			t.Fatalf("size %d: parsed %+v", size, p)
		}
	}
}

func TestUDPRoundTrip(t *testing.T) {
	b := AppendUDP([]byte{0xaa}, addrA, addrB, 40000, 9, 42, 200)
	if b[0] != 0xaa || len(b) != 201 {
		t.Fatalf("AppendUDP did not append: %d bytes", len(b))
	}
	b = b[1:]
	// The UDP checksum with its pseudo-header verifies to zero.
	pseudo := []byte{10, 77, 0, 10, 10, 77, 0, 1, 0, 17, 0, 180}
	if checksum(append(append([]byte(nil), pseudo...), b[IPv4HeaderLen:]...), 0) != 0 {
		t.Error("UDP checksum does not verify")
	}
	var p Packet
	if err := ParsePacket(b, &p); err != nil {
		t.Fatal(err)
	}
	st, _ := p.Stamp()
	if p.Proto != IPProtoUDP || p.SrcPort != 40000 || p.DstPort != 9 || st != 42 || len(p.Payload) != 172 {
		t.Fatalf("parsed %+v", p)
	}
}

func TestParseErrors(t *testing.T) {
	good := AppendICMPEcho(nil, addrA, addrB, ICMPEchoReply, 1, 2, 3, 64)
	mod := func(f func(b []byte) []byte) []byte { return f(append([]byte(nil), good...)) }
	cases := []struct {
		name string
		b    []byte
		want error
	}{
		{"empty", nil, ErrShortPacket},
		{"IPv6", mod(func(b []byte) []byte { b[0] = 0x60; return b }), ErrNotIPv4},
		{"IHL too small", mod(func(b []byte) []byte { b[0] = 0x44; return b }), ErrBadLength},
		{"total beyond buffer", mod(func(b []byte) []byte { return b[:50] }), ErrBadLength},
		{"short ICMP", mod(func(b []byte) []byte { b[3] = 24; return b }), ErrShortPacket},
		{"not echo", mod(func(b []byte) []byte { b[20] = 3; return b }), ErrNotEcho},
		{"UDP length too big", AppendUDP(nil, addrA, addrB, 1, 2, 0, 40)[:36], ErrBadLength},
	}
	for _, tc := range cases {
		var p Packet
		if err := ParsePacket(tc.b, &p); !errors.Is(err, tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, err, tc.want)
		}
	}
}

func TestPacketCodecAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts are meaningless under the race detector")
	}
	buf := make([]byte, 0, 1500)
	var p Packet
	n := testing.AllocsPerRun(100, func() {
		buf = AppendICMPEcho(buf[:0], addrA, addrB, ICMPEchoRequest, 1, 2, 3, 1400)
		_ = ParsePacket(buf, &p)
		buf = AppendUDP(buf[:0], addrA, addrB, 1, 2, 3, 1400)
		_ = ParsePacket(buf, &p)
	})
	if n != 0 {
		t.Errorf("%v allocations per build+parse, want 0", n)
	}
}

func TestProtocolNames(t *testing.T) {
	for _, c := range []struct{ got, want string }{
		{IPProtoICMP.String(), "ICMP"}, {IPProtoUDP.String(), "UDP"}, {IPProto(6).String(), "proto(6)"},
		{ICMPEchoRequest.String(), "echo-request"}, {ICMPEchoReply.String(), "echo-reply"}, {ICMPType(3).String(), "icmp(3)"},
	} {
		if c.got != c.want {
			t.Errorf("%q, want %q", c.got, c.want)
		}
	}
}

func FuzzParsePacket(f *testing.F) {
	f.Add(AppendICMPEcho(nil, addrA, addrB, ICMPEchoRequest, 1, 2, 3, 64))
	f.Add(AppendUDP(nil, addrA, addrB, 1, 2, 3, 64))
	f.Add([]byte{0x45})
	f.Fuzz(func(t *testing.T, b []byte) {
		var p Packet
		if err := ParsePacket(b, &p); err != nil {
			return
		}
		// Whatever parses as echo or UDP rebuilds to the same fields.
		var q Packet
		switch p.Proto {
		case IPProtoICMP:
			st, _ := p.Stamp()
			out := AppendICMPEcho(nil, p.Src, p.Dst, p.Type, p.ID, p.Seq, st, IPv4HeaderLen+ICMPEchoLen+len(p.Payload))
			if err := ParsePacket(out, &q); err != nil || q.ID != p.ID || q.Seq != p.Seq || q.Type != p.Type {
				t.Fatalf("rebuilt echo %+v from %+v: %v", q, p, err)
			}
		case IPProtoUDP:
			st, _ := p.Stamp()
			out := AppendUDP(nil, p.Src, p.Dst, p.SrcPort, p.DstPort, st, IPv4HeaderLen+UDPLen+len(p.Payload))
			if err := ParsePacket(out, &q); err != nil || q.SrcPort != p.SrcPort || q.DstPort != p.DstPort {
				t.Fatalf("rebuilt UDP %+v from %+v: %v", q, p, err)
			}
			if len(p.Payload) >= 8 && !bytes.Equal(q.Payload[:8], p.Payload[:8]) {
				t.Fatalf("stamp changed")
			}
		}
	})
}
