package isakmp

import "encoding/binary"

// UDP ports of IKE (RFC 2409) and of NAT traversal (RFC 3947).
const (
	PortIKE  = 500
	PortNATT = 4500
)

// NonESPMarkerLen is the size of the zero marker that precedes IKE messages
// on UDP/4500 (RFC 3948 §2.2).
const NonESPMarkerLen = 4

// IsNATKeepalive reports whether a UDP/4500 datagram is a NAT-keepalive: a
// single 0xFF byte (RFC 3948 §2.3). It is dropped without an answer.
func IsNATKeepalive(b []byte) bool { return len(b) == 1 && b[0] == 0xff }

// IsNonESPMarker reports whether a UDP/4500 datagram starts with the 4-byte
// zero non-ESP marker, i.e. carries IKE rather than ESP (whose first four
// bytes are a non-zero SPI).
func IsNonESPMarker(b []byte) bool {
	return len(b) >= NonESPMarkerLen && binary.BigEndian.Uint32(b) == 0
}

// StripNonESPMarker returns the IKE message after the non-ESP marker, or
// false when there is no marker.
func StripNonESPMarker(b []byte) ([]byte, bool) {
	if !IsNonESPMarker(b) {
		return nil, false
	}
	return b[NonESPMarkerLen:], true
}

// AppendNonESPMarker appends the marker to b; append the IKE message after
// it to send on UDP/4500.
func AppendNonESPMarker(b []byte) []byte { return append(b, 0, 0, 0, 0) }

// UDP4500Kind is what a datagram on the NAT-T port carries.
type UDP4500Kind uint8

// Kinds of UDP/4500 datagrams.
const (
	UDP4500Invalid   UDP4500Kind = iota // too short to be anything: drop
	UDP4500Keepalive                    // NAT-keepalive: drop silently
	UDP4500IKE                          // non-ESP marker + ISAKMP message
	UDP4500ESP                          // ESP (SPI, sequence number, ...)
)

func (k UDP4500Kind) String() string {
	switch k {
	case UDP4500Keepalive:
		return "keepalive"
	case UDP4500IKE:
		return "IKE"
	case UDP4500ESP:
		return "ESP"
	}
	return "invalid"
}

// espMinLen is SPI + sequence number; anything shorter cannot be ESP.
const espMinLen = 8

// ClassifyUDP4500 tells keepalives, IKE and ESP apart on UDP/4500 by their
// first bytes (RFC 3948 §2).
func ClassifyUDP4500(b []byte) UDP4500Kind {
	switch {
	case IsNATKeepalive(b):
		return UDP4500Keepalive
	case IsNonESPMarker(b):
		if len(b) < NonESPMarkerLen+HeaderLen {
			return UDP4500Invalid
		}
		return UDP4500IKE
	case len(b) >= espMinLen:
		return UDP4500ESP
	}
	return UDP4500Invalid
}
