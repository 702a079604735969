package ppp

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// Protocol is a PPP protocol field value (RFC 1661 section 2, IANA "PPP DLL
// Protocol Numbers").
type Protocol uint16

// Protocols this package meets.
const (
	ProtoIPv4   Protocol = 0x0021
	ProtoIPv6   Protocol = 0x0057
	ProtoMPPE   Protocol = 0x00FD // compressed datagram (MPPE/MPPC, RFC 2118)
	ProtoIPCP   Protocol = 0x8021
	ProtoIPXCP  Protocol = 0x802B
	ProtoIPV6CP Protocol = 0x8057
	ProtoCCP    Protocol = 0x80FD
	ProtoLCP    Protocol = 0xC021
	ProtoPAP    Protocol = 0xC023
	ProtoLQR    Protocol = 0xC025
	ProtoBAP    Protocol = 0xC02D
	ProtoBACP   Protocol = 0xC02B
	ProtoCHAP   Protocol = 0xC223
	ProtoEAP    Protocol = 0xC227
)

func (p Protocol) String() string {
	switch p {
	case ProtoIPv4:
		return "IP"
	case ProtoIPv6:
		return "IPv6"
	case ProtoMPPE:
		return "CompData"
	case ProtoIPCP:
		return "IPCP"
	case ProtoIPXCP:
		return "IPXCP"
	case ProtoIPV6CP:
		return "IPV6CP"
	case ProtoCCP:
		return "CCP"
	case ProtoLCP:
		return "LCP"
	case ProtoPAP:
		return "PAP"
	case ProtoLQR:
		return "LQR"
	case ProtoBAP:
		return "BAP"
	case ProtoBACP:
		return "BACP"
	case ProtoCHAP:
		return "CHAP"
	case ProtoEAP:
		return "EAP"
	}
	return fmt.Sprintf("proto-0x%04x", uint16(p))
}

// Code is the Code field of an LCP/NCP packet (RFC 1661 section 5, RFC 1570).
type Code uint8

// Codes of LCP and the NCPs. NCPs use only 1..7.
const (
	CodeConfReq    Code = 1
	CodeConfAck    Code = 2
	CodeConfNak    Code = 3
	CodeConfRej    Code = 4
	CodeTermReq    Code = 5
	CodeTermAck    Code = 6
	CodeCodeRej    Code = 7
	CodeProtoRej   Code = 8
	CodeEchoReq    Code = 9
	CodeEchoRep    Code = 10
	CodeDiscardReq Code = 11
	CodeIdentify   Code = 12
	CodeTimeRemain Code = 13
	CodeResetReq   Code = 14 // CCP only
	CodeResetAck   Code = 15 // CCP only
	headerLen           = 4
)

func (c Code) String() string {
	switch c {
	case CodeConfReq:
		return "ConfReq"
	case CodeConfAck:
		return "ConfAck"
	case CodeConfNak:
		return "ConfNak"
	case CodeConfRej:
		return "ConfRej"
	case CodeTermReq:
		return "TermReq"
	case CodeTermAck:
		return "TermAck"
	case CodeCodeRej:
		return "CodeRej"
	case CodeProtoRej:
		return "ProtRej"
	case CodeEchoReq:
		return "EchoReq"
	case CodeEchoRep:
		return "EchoRep"
	case CodeDiscardReq:
		return "DiscReq"
	case CodeIdentify:
		return "Ident"
	case CodeTimeRemain:
		return "TimeRem"
	case CodeResetReq:
		return "ResetReq"
	case CodeResetAck:
		return "ResetAck"
	}
	return fmt.Sprintf("code=0x%x", uint8(c))
}

// Sentinel errors. Malformed input returns one of these, wrapped with detail;
// callers count and drop.
var (
	ErrShort          = errors.New("ppp: packet too short")
	ErrBadLength      = errors.New("ppp: length field inconsistent with packet")
	ErrBadOption      = errors.New("ppp: malformed option")
	ErrBadProtocol    = errors.New("ppp: malformed protocol field")
	ErrNoHeadroom     = errors.New("ppp: not enough headroom")
	ErrNotUp          = errors.New("ppp: network layer not up")
	ErrClosed         = errors.New("ppp: link closed")
	ErrBadConfig      = errors.New("ppp: invalid configuration")
	ErrBadAuthPacket  = errors.New("ppp: malformed authentication packet")
	ErrUnknownMethod  = errors.New("ppp: unknown authentication method")
	ErrNoAuthResponse = errors.New("ppp: back end accepted MS-CHAPv2 without an authenticator response")
)

// Packet is a parsed LCP/NCP (or PAP/CHAP) packet. Data aliases the input.
type Packet struct {
	Code Code
	ID   uint8
	Data []byte
}

// ParsePacket reads the 4-byte header of an LCP-family packet. Bytes after
// Length are padding and ignored (RFC 1661 section 5).
func ParsePacket(b []byte) (Packet, error) {
	if len(b) < headerLen {
		return Packet{}, fmt.Errorf("%w: %d bytes", ErrShort, len(b))
	}
	n := int(binary.BigEndian.Uint16(b[2:4]))
	if n < headerLen || n > len(b) {
		return Packet{}, fmt.Errorf("%w: length %d, have %d", ErrBadLength, n, len(b))
	}
	return Packet{Code: Code(b[0]), ID: b[1], Data: b[headerLen:n]}, nil
}

// AppendPacket appends the packet's wire form to b.
func AppendPacket(b []byte, code Code, id uint8, data []byte) []byte {
	n := headerLen + len(data)
	b = append(b, byte(code), id, byte(n>>8), byte(n))
	return append(b, data...)
}

// SplitFrame strips the optional address/control bytes FF 03 (RFC 1662
// section 3.1; absent when ACFC is in use) and reads the protocol field,
// which is one byte when PFC compressed it (odd first byte) and two otherwise
// (RFC 1661 section 6.5). It does not allocate.
func SplitFrame(frame []byte) (Protocol, []byte, error) {
	if len(frame) >= 2 && frame[0] == 0xFF && frame[1] == 0x03 {
		frame = frame[2:]
	}
	if len(frame) < 1 {
		return 0, nil, ErrShort
	}
	if frame[0]&1 == 1 {
		return Protocol(frame[0]), frame[1:], nil
	}
	if len(frame) < 2 {
		return 0, nil, ErrShort
	}
	p := Protocol(binary.BigEndian.Uint16(frame))
	if p&1 == 0 {
		// The low byte of a protocol number is always odd.
		return 0, nil, fmt.Errorf("%w: 0x%04x", ErrBadProtocol, uint16(p))
	}
	return p, frame[2:], nil
}

// FrameHeaderLen is what EncapIP writes in front of a packet: FF 03 and the
// two-byte protocol field.
const FrameHeaderLen = 4

// EncapIP writes FF 03 00 21 into the headroom in front of buf[start:] and
// returns the frame buf[start-4:]. It does not allocate.
func EncapIP(buf []byte, start int) ([]byte, error) {
	return encap(buf, start, ProtoIPv4)
}

func encap(buf []byte, start int, p Protocol) ([]byte, error) {
	if start < FrameHeaderLen || start > len(buf) {
		return nil, ErrNoHeadroom
	}
	h := buf[start-FrameHeaderLen:]
	h[0], h[1] = 0xFF, 0x03
	binary.BigEndian.PutUint16(h[2:], uint16(p))
	return h, nil
}
