package esp

import (
	"encoding/binary"
	"strconv"
)

// UDPHeaderLen is the size of a UDP header.
const UDPHeaderLen = 8

// UDP-encapsulation port and markers, RFC 3948 sections 2.1-2.3.
const (
	NATTPort     = 4500
	keepaliveLen = 1
	keepaliveVal = 0xFF
	nonESPMarker = 4 // four zero bytes in place of an SPI
)

// UDPHeader is a view of a UDP header and what follows it.
type UDPHeader []byte

// ParseUDP checks the inner UDP header of a transport-mode ESP payload and
// returns its ports and payload. The UDP length field must cover the
// header and fit in b; bytes past it (there should be none) are ignored.
// The checksum is not verified: ESP's integrity check already covers every
// byte, and behind NAT the sender's checksum covers addresses we never saw
// (RFC 3948 section 3.1.2).
func ParseUDP(b []byte) (src, dst uint16, payload []byte, err error) {
	if len(b) < UDPHeaderLen {
		return 0, 0, nil, ErrShortPacket
	}
	n := int(binary.BigEndian.Uint16(b[4:]))
	if n < UDPHeaderLen || n > len(b) {
		return 0, 0, nil, ErrMalformed
	}
	h := UDPHeader(b)
	return h.SrcPort(), h.DstPort(), b[UDPHeaderLen:n], nil
}

// SrcPort returns the source port; the header must be complete.
func (h UDPHeader) SrcPort() uint16 { return binary.BigEndian.Uint16(h[0:]) }

// DstPort returns the destination port; the header must be complete.
func (h UDPHeader) DstPort() uint16 { return binary.BigEndian.Uint16(h[2:]) }

// Length returns the UDP length field.
func (h UDPHeader) Length() uint16 { return binary.BigEndian.Uint16(h[4:]) }

// PutUDP writes a UDP header for payloadLen bytes of payload into
// b[:UDPHeaderLen], with checksum zero.
//
// Zero is legal for UDP over IPv4 (RFC 768: "all zero ... means the
// transmitter generated no checksum"), and it is what NAT-T transport-mode
// implementations send: a checksum over our addresses would be wrong for a
// client behind NAT anyway, since the pseudo-header addresses it sees
// differ from ours, and RFC 3948 section 3.1.2 has the receiver of
// transport-mode UDP in ESP either recompute the checksum from NAT-OA or
// simply zero it. ESP's ICV already protects these bytes end to end.
func PutUDP(b []byte, src, dst uint16, payloadLen int) {
	binary.BigEndian.PutUint16(b[0:], src)
	binary.BigEndian.PutUint16(b[2:], dst)
	binary.BigEndian.PutUint16(b[4:], uint16(UDPHeaderLen+payloadLen))
	binary.BigEndian.PutUint16(b[6:], 0)
}

// PutUDPEncap writes the outer RFC 3948 UDP header of an ESP packet of
// espLen bytes into b[:UDPHeaderLen]. RFC 3948 section 2.1: the checksum
// SHOULD be transmitted as zero. Sockets add this header themselves; it is
// for paths that build whole datagrams (in-memory tests, raw IP).
func PutUDPEncap(b []byte, src, dst uint16, espLen int) {
	PutUDP(b, src, dst, espLen)
}

// DatagramKind classifies what arrived on UDP port 4500.
type DatagramKind uint8

// Kinds of UDP/4500 datagrams (RFC 3948 section 2).
const (
	DatagramMalformed DatagramKind = iota
	DatagramESP                    // an ESP packet starting at the SPI
	DatagramIKE                    // IKE after the 4-byte non-ESP marker
	DatagramKeepalive              // the one-byte 0xFF NAT keepalive (section 2.3)
)

func (k DatagramKind) String() string {
	switch k {
	case DatagramMalformed:
		return "malformed"
	case DatagramESP:
		return "esp"
	case DatagramIKE:
		return "ike"
	case DatagramKeepalive:
		return "keepalive"
	}
	return "DatagramKind(" + strconv.Itoa(int(k)) + ")"
}

// minIKELen is an ISAKMP header (RFC 2408 section 3.1).
const minIKELen = 28

// ClassifyDatagram demultiplexes a UDP/4500 payload per RFC 3948: a single
// 0xFF byte is a keepalive; four zero bytes (an SPI may not be zero) mark
// IKE, returned without the marker; anything else of at least an ESP
// header is ESP.
func ClassifyDatagram(b []byte) (DatagramKind, []byte) {
	switch {
	case len(b) == keepaliveLen && b[0] == keepaliveVal:
		return DatagramKeepalive, nil
	case len(b) >= nonESPMarker && binary.BigEndian.Uint32(b) == 0:
		if len(b) < nonESPMarker+minIKELen {
			return DatagramMalformed, nil
		}
		return DatagramIKE, b[nonESPMarker:]
	case len(b) >= HeaderLen:
		return DatagramESP, b
	}
	return DatagramMalformed, nil
}

// PeekSPI returns the SPI and low sequence number of an ESP packet.
func PeekSPI(b []byte) (spi, seq uint32, ok bool) {
	if len(b) < HeaderLen {
		return 0, 0, false
	}
	return binary.BigEndian.Uint32(b), binary.BigEndian.Uint32(b[4:]), true
}
