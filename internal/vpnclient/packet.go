package vpnclient

import (
	"encoding/binary"
	"net/netip"
	"strconv"
)

// Inner IP packets the load generator writes into the tunnel and reads back:
// IPv4 (RFC 791) carrying ICMP echo (RFC 792) or UDP (RFC 768).

// IPProto is an IPv4 protocol number (IANA "Assigned Internet Protocol
// Numbers").
type IPProto uint8

// Protocols the generator builds.
const (
	IPProtoICMP IPProto = 1
	IPProtoUDP  IPProto = 17
)

func (p IPProto) String() string {
	switch p {
	case IPProtoICMP:
		return "ICMP"
	case IPProtoUDP:
		return "UDP"
	}
	return "proto(" + strconv.Itoa(int(p)) + ")"
}

// ICMPType is the ICMP message type (RFC 792).
type ICMPType uint8

// ICMP types of echo.
const (
	ICMPEchoReply   ICMPType = 0
	ICMPEchoRequest ICMPType = 8
)

func (t ICMPType) String() string {
	switch t {
	case ICMPEchoReply:
		return "echo-reply"
	case ICMPEchoRequest:
		return "echo-request"
	}
	return "icmp(" + strconv.Itoa(int(t)) + ")"
}

// Header sizes.
const (
	IPv4HeaderLen = 20
	ICMPEchoLen   = 8
	UDPLen        = 8
)

// Packet is a decoded inner packet: the IPv4 addresses and protocol, and for
// ICMP echo the type, identifier and sequence number, for UDP the ports.
// Payload aliases the parsed buffer.
type Packet struct {
	Src, Dst         netip.Addr
	Proto            IPProto
	Type             ICMPType
	ID, Seq          uint16
	SrcPort, DstPort uint16
	Payload          []byte
}

// AppendICMPEcho appends an IPv4 ICMP echo packet of total length size
// (at least 28) to b: type t, identifier id, sequence seq, and a payload that
// starts with stamp (8 bytes, e.g. a send time) and is zero after it.
func AppendICMPEcho(b []byte, src, dst netip.Addr, t ICMPType, id, seq uint16, stamp uint64, size int) []byte {
	if size < IPv4HeaderLen+ICMPEchoLen+8 {
		size = IPv4HeaderLen + ICMPEchoLen + 8
	}
	start := len(b)
	b = appendIPv4(b, src, dst, IPProtoICMP, size)
	icmp := len(b)
	b = append(b, byte(t), 0, 0, 0, byte(id>>8), byte(id), byte(seq>>8), byte(seq))
	b = binary.BigEndian.AppendUint64(b, stamp)
	for len(b)-start < size {
		b = append(b, 0)
	}
	binary.BigEndian.PutUint16(b[icmp+2:], checksum(b[icmp:], 0))
	return b
}

// AppendUDP appends an IPv4 UDP packet of total length size (at least 36)
// whose payload starts with stamp, to b.
func AppendUDP(b []byte, src, dst netip.Addr, sport, dport uint16, stamp uint64, size int) []byte {
	if size < IPv4HeaderLen+UDPLen+8 {
		size = IPv4HeaderLen + UDPLen + 8
	}
	start := len(b)
	b = appendIPv4(b, src, dst, IPProtoUDP, size)
	udp := len(b)
	ulen := size - IPv4HeaderLen
	b = append(b, byte(sport>>8), byte(sport), byte(dport>>8), byte(dport), byte(ulen>>8), byte(ulen), 0, 0)
	b = binary.BigEndian.AppendUint64(b, stamp)
	for len(b)-start < size {
		b = append(b, 0)
	}
	s, d := src.As4(), dst.As4()
	var pseudo uint32
	pseudo += uint32(binary.BigEndian.Uint16(s[0:])) + uint32(binary.BigEndian.Uint16(s[2:]))
	pseudo += uint32(binary.BigEndian.Uint16(d[0:])) + uint32(binary.BigEndian.Uint16(d[2:]))
	pseudo += uint32(IPProtoUDP) + uint32(ulen)
	cs := checksum(b[udp:], pseudo)
	if cs == 0 {
		cs = 0xffff // RFC 768: a computed zero is sent as all ones
	}
	binary.BigEndian.PutUint16(b[udp+6:], cs)
	return b
}

// appendIPv4 appends a 20-byte IPv4 header (no options, DF set, TTL 64).
func appendIPv4(b []byte, src, dst netip.Addr, p IPProto, total int) []byte {
	h := len(b)
	s, d := src.As4(), dst.As4()
	b = append(b, 0x45, 0, byte(total>>8), byte(total), 0, 0, 0x40, 0, 64, byte(p), 0, 0)
	b = append(b, s[:]...)
	b = append(b, d[:]...)
	binary.BigEndian.PutUint16(b[h+10:], checksum(b[h:h+IPv4HeaderLen], 0))
	return b
}

// checksum is the Internet checksum (RFC 1071) of b plus a partial sum.
func checksum(b []byte, sum uint32) uint16 {
	for len(b) >= 2 {
		sum += uint32(binary.BigEndian.Uint16(b))
		b = b[2:]
	}
	if len(b) == 1 {
		sum += uint32(b[0]) << 8
	}
	for sum > 0xffff {
		sum = sum>>16 + sum&0xffff
	}
	return ^uint16(sum)
}

// ParsePacket decodes an IPv4 packet with ICMP echo or UDP into p. Other
// protocols are returned with Proto set and the rest of p zero. It does not
// allocate; malformed input returns an error.
func ParsePacket(b []byte, p *Packet) error {
	*p = Packet{}
	if len(b) < IPv4HeaderLen {
		return ErrShortPacket
	}
	if b[0]>>4 != 4 {
		return ErrNotIPv4
	}
	ihl := int(b[0]&0x0f) * 4
	total := int(binary.BigEndian.Uint16(b[2:]))
	if ihl < IPv4HeaderLen || total < ihl || total > len(b) {
		return ErrBadLength
	}
	p.Src = netip.AddrFrom4([4]byte(b[12:16]))
	p.Dst = netip.AddrFrom4([4]byte(b[16:20]))
	p.Proto = IPProto(b[9])
	body := b[ihl:total]
	switch p.Proto {
	case IPProtoICMP:
		if len(body) < ICMPEchoLen {
			return ErrShortPacket
		}
		p.Type = ICMPType(body[0])
		if p.Type != ICMPEchoReply && p.Type != ICMPEchoRequest {
			return ErrNotEcho
		}
		p.ID = binary.BigEndian.Uint16(body[4:])
		p.Seq = binary.BigEndian.Uint16(body[6:])
		p.Payload = body[ICMPEchoLen:]
	case IPProtoUDP:
		if len(body) < UDPLen {
			return ErrShortPacket
		}
		ulen := int(binary.BigEndian.Uint16(body[4:]))
		if ulen < UDPLen || ulen > len(body) {
			return ErrBadLength
		}
		p.SrcPort = binary.BigEndian.Uint16(body[0:])
		p.DstPort = binary.BigEndian.Uint16(body[2:])
		p.Payload = body[UDPLen:ulen]
	}
	return nil
}

// Stamp returns the first 8 payload bytes written by AppendICMPEcho or
// AppendUDP, or false when the payload is shorter.
func (p *Packet) Stamp() (uint64, bool) {
	if len(p.Payload) < 8 {
		return 0, false
	}
	return binary.BigEndian.Uint64(p.Payload), true
}
