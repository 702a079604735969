package tundev

import "encoding/binary"

// IPProto is an IP protocol number (IANA "Assigned Internet Protocol
// Numbers").
type IPProto uint8

const (
	ProtoICMP IPProto = 1
	ProtoTCP  IPProto = 6
	ProtoUDP  IPProto = 17
)

func (p IPProto) String() string {
	switch p {
	case ProtoICMP:
		return "icmp"
	case ProtoTCP:
		return "tcp"
	case ProtoUDP:
		return "udp"
	}
	return "proto-" + itoa(uint(p))
}

// TCPOption is a TCP option kind (RFC 9293 section 3.1).
type TCPOption uint8

const (
	TCPOptEnd TCPOption = 0
	TCPOptNOP TCPOption = 1
	TCPOptMSS TCPOption = 2
)

func (o TCPOption) String() string {
	switch o {
	case TCPOptEnd:
		return "end"
	case TCPOptNOP:
		return "nop"
	case TCPOptMSS:
		return "mss"
	}
	return "tcp-option-" + itoa(uint(o))
}

func itoa(v uint) string {
	var b [20]byte
	i := len(b)
	for {
		i--
		b[i] = byte('0' + v%10)
		v /= 10
		if v == 0 {
			return string(b[i:])
		}
	}
}

const (
	tcpFlagSYN = 0x02
	ipv4MinHdr = 20
	tcpMinHdr  = 20
)

// MSSForMTU is the MSS that fits a TCP segment with no IP or TCP options
// into a packet of mtu bytes (IPv4 20 + TCP 20).
func MSSForMTU(mtu int) uint16 {
	if mtu <= ipv4MinHdr+tcpMinHdr {
		return 0
	}
	return uint16(mtu - ipv4MinHdr - tcpMinHdr)
}

// ClampMSS lowers the MSS option of a TCP SYN or SYN-ACK carried in the IPv4
// packet pkt to maxMSS, in place, and fixes the TCP checksum incrementally
// (RFC 1624 equation 3), so that hosts behind the tunnel never send
// segments that would not fit in it. It reports whether it changed pkt.
// Anything that is not a well-formed IPv4 TCP SYN with an MSS above maxMSS
// is left alone; it never allocates and never panics on malformed input.
func ClampMSS(pkt []byte, maxMSS uint16) bool {
	if len(pkt) < ipv4MinHdr || pkt[0]>>4 != 4 {
		return false
	}
	ihl := int(pkt[0]&0x0f) * 4
	total := int(binary.BigEndian.Uint16(pkt[2:4]))
	if ihl < ipv4MinHdr || total > len(pkt) || total < ihl+tcpMinHdr {
		return false
	}
	if IPProto(pkt[9]) != ProtoTCP || binary.BigEndian.Uint16(pkt[6:8])&0x1fff != 0 {
		return false // not TCP, or a later fragment without the TCP header
	}
	tcp := pkt[ihl:total]
	if tcp[13]&tcpFlagSYN == 0 {
		return false
	}
	doff := int(tcp[12]>>4) * 4
	if doff < tcpMinHdr || doff > len(tcp) {
		return false
	}
	for i := tcpMinHdr; i < doff; {
		kind := TCPOption(tcp[i])
		switch kind {
		case TCPOptEnd:
			return false
		case TCPOptNOP:
			i++
			continue
		}
		if i+1 >= doff {
			return false
		}
		n := int(tcp[i+1])
		if n < 2 || i+n > doff {
			return false
		}
		if kind == TCPOptMSS && n == 4 {
			off := i + 2
			old := binary.BigEndian.Uint16(tcp[off:])
			if old <= maxMSS {
				return false
			}
			binary.BigEndian.PutUint16(tcp[off:], maxMSS)
			// The checksum sums 16-bit words from the start of the TCP
			// header; options need not be aligned, and a value at an
			// odd offset enters the sum byte-swapped.
			o, m := old, maxMSS
			if off&1 == 1 {
				o, m = o>>8|o<<8, m>>8|m<<8
			}
			hc := binary.BigEndian.Uint16(tcp[16:18])
			binary.BigEndian.PutUint16(tcp[16:18], checksumUpdate(hc, o, m))
			return true
		}
		i += n
	}
	return false
}

// checksumUpdate is RFC 1624 equation 3: HC' = ~(~HC + ~m + m').
func checksumUpdate(hc, old, new uint16) uint16 {
	sum := uint32(^hc) + uint32(^old) + uint32(new)
	sum = sum&0xffff + sum>>16
	sum = sum&0xffff + sum>>16
	return ^uint16(sum)
}

// DstIPv4 returns the destination address of an IPv4 packet as an integer
// (for Table lookups on the outbound path).
func DstIPv4(pkt []byte) (uint32, bool) {
	if len(pkt) < ipv4MinHdr || pkt[0]>>4 != 4 {
		return 0, false
	}
	return binary.BigEndian.Uint32(pkt[16:20]), true
}
