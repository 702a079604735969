package l2tp

import (
	"encoding/binary"
	"fmt"
)

// Header bits of the first octet (RFC 2661 section 3.1).
const (
	flagT   = 0x80 // control message
	flagL   = 0x40 // length field present
	flagS   = 0x08 // Ns and Nr present
	flagO   = 0x02 // offset size present
	flagP   = 0x01 // priority
	version = 2

	// controlHeaderLen is the fixed header of every control message:
	// flags, length, tunnel ID, session ID, Ns, Nr.
	controlHeaderLen = 12
	// MaxDataHeaderLen is the longest header this package writes on a data
	// message (flags, length, IDs, Ns/Nr); offsets are never sent.
	MaxDataHeaderLen = 12
)

// Header is a decoded L2TP header. For control messages HasLength and
// HasSeq are always true and HasOffset false.
type Header struct {
	Control    bool // T bit
	HasLength  bool // L bit
	HasSeq     bool // S bit
	HasOffset  bool // O bit
	Priority   bool // P bit (data only)
	Length     uint16
	TunnelID   uint16
	SessionID  uint16
	Ns, Nr     uint16
	OffsetSize uint16
}

// ParseHeader decodes the header of any L2TPv2 message and returns the
// payload after it (the AVPs of a control message, the PPP frame of a data
// message). It does not allocate unless it fails.
func ParseHeader(b []byte) (h Header, payload []byte, err error) {
	if len(b) < 6 {
		return h, nil, ErrShort
	}
	f := b[0]
	if v := b[1] & 0x0f; v != version {
		return h, nil, ErrVersion
	}
	h.Control = f&flagT != 0
	h.HasLength = f&flagL != 0
	h.HasSeq = f&flagS != 0
	h.HasOffset = f&flagO != 0
	h.Priority = f&flagP != 0
	if h.Control && (!h.HasLength || !h.HasSeq || h.HasOffset || h.Priority) {
		// RFC 2661 section 3.1: L and S MUST be set, O and P MUST be
		// clear on control messages.
		return h, nil, ErrHeader
	}
	off := 2
	if h.HasLength {
		h.Length = binary.BigEndian.Uint16(b[2:])
		off = 4
		if int(h.Length) > len(b) {
			return h, nil, ErrShort
		}
		b = b[:h.Length]
	}
	need := off + 4
	if h.HasSeq {
		need += 4
	}
	if h.HasOffset {
		need += 2
	}
	if len(b) < need {
		return h, nil, ErrShort
	}
	h.TunnelID = binary.BigEndian.Uint16(b[off:])
	h.SessionID = binary.BigEndian.Uint16(b[off+2:])
	off += 4
	if h.HasSeq {
		h.Ns = binary.BigEndian.Uint16(b[off:])
		h.Nr = binary.BigEndian.Uint16(b[off+2:])
		off += 4
	}
	if h.HasOffset {
		h.OffsetSize = binary.BigEndian.Uint16(b[off:])
		off += 2
		if int(h.OffsetSize) > len(b)-off {
			return h, nil, ErrShort
		}
		off += int(h.OffsetSize)
	}
	return h, b[off:], nil
}

// ParseData decodes a data message (T bit clear) as a view: the payload is
// a subslice of b. It never allocates.
func ParseData(b []byte) (h Header, payload []byte, err error) {
	h, payload, err = ParseHeader(b)
	if err == nil && h.Control {
		return h, nil, ErrNotData
	}
	return h, payload, err
}

// AppendData appends a data message carrying payload to dst. The L, S, O
// and P bits come from h (Length is computed; an offset of h.OffsetSize
// zero octets is written when HasOffset is set).
func AppendData(dst []byte, h Header, payload []byte) []byte {
	start := len(dst)
	var f byte
	if h.HasLength {
		f |= flagL
	}
	if h.HasSeq {
		f |= flagS
	}
	if h.HasOffset {
		f |= flagO
	}
	if h.Priority {
		f |= flagP
	}
	dst = append(dst, f, version)
	if h.HasLength {
		dst = append(dst, 0, 0)
	}
	dst = binary.BigEndian.AppendUint16(dst, h.TunnelID)
	dst = binary.BigEndian.AppendUint16(dst, h.SessionID)
	if h.HasSeq {
		dst = binary.BigEndian.AppendUint16(dst, h.Ns)
		dst = binary.BigEndian.AppendUint16(dst, h.Nr)
	}
	if h.HasOffset {
		dst = binary.BigEndian.AppendUint16(dst, h.OffsetSize)
		for range h.OffsetSize {
			dst = append(dst, 0)
		}
	}
	dst = append(dst, payload...)
	if h.HasLength {
		binary.BigEndian.PutUint16(dst[start+2:], uint16(len(dst)-start))
	}
	return dst
}

// appendControlHeader appends a control header with a zero length; the
// caller patches the length with finishControl.
func appendControlHeader(dst []byte, tunnelID, sessionID, ns, nr uint16) []byte {
	dst = append(dst, flagT|flagL|flagS, version, 0, 0)
	dst = binary.BigEndian.AppendUint16(dst, tunnelID)
	dst = binary.BigEndian.AppendUint16(dst, sessionID)
	dst = binary.BigEndian.AppendUint16(dst, ns)
	return binary.BigEndian.AppendUint16(dst, nr)
}

func finishControl(msg []byte) ([]byte, error) {
	if len(msg) > 0xffff {
		return nil, fmt.Errorf("%w: %d octets", ErrTooBig, len(msg))
	}
	binary.BigEndian.PutUint16(msg[2:], uint16(len(msg)))
	return msg, nil
}

// setSeq rewrites Ns and Nr of a marshalled control message in place.
func setSeq(msg []byte, ns, nr uint16) {
	binary.BigEndian.PutUint16(msg[8:], ns)
	binary.BigEndian.PutUint16(msg[10:], nr)
}
