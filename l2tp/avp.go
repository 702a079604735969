package l2tp

import (
	"crypto/md5"
	"encoding/binary"
	"fmt"

	"golang.org/x/crypto/cryptobyte"
)

// AVP header bits (RFC 2661 section 4.1).
const (
	avpFlagM        = 0x8000 // mandatory
	avpFlagH        = 0x4000 // hidden
	avpFlagReserved = 0x3c00
	avpLenMask      = 0x03ff
	avpHeaderLen    = 6
	maxAVPValueLen  = avpLenMask - avpHeaderLen
)

// RawAVP is an AVP as found on the wire, with a hidden value already
// revealed. Value aliases the parsed message or an internal buffer.
type RawAVP struct {
	Mandatory bool
	Hidden    bool // it arrived hidden
	Vendor    uint16
	Type      AVPType
	Value     []byte
}

// avpReader walks the AVPs of a control message.
type avpReader struct {
	s      cryptobyte.String
	secret []byte
	rv     []byte // the latest Random Vector seen (section 4.3)
}

// next returns the next AVP; ok is false at the end. Hidden values are
// revealed with the secret and the preceding Random Vector.
func (r *avpReader) next() (a RawAVP, ok bool, err error) {
	if r.s.Empty() {
		return a, false, nil
	}
	var fl, vendor, typ uint16
	if !r.s.ReadUint16(&fl) || !r.s.ReadUint16(&vendor) || !r.s.ReadUint16(&typ) {
		return a, false, protoErr(ErrAVP, CodeLength, "truncated AVP header")
	}
	n := int(fl & avpLenMask)
	if n < avpHeaderLen {
		return a, false, protoErr(ErrAVP, CodeLength, "AVP length %d below header size", n)
	}
	var val []byte
	if !r.s.ReadBytes(&val, n-avpHeaderLen) {
		return a, false, protoErr(ErrAVP, CodeLength, "AVP length %d beyond message", n)
	}
	a = RawAVP{Mandatory: fl&avpFlagM != 0, Hidden: fl&avpFlagH != 0, Vendor: vendor, Type: AVPType(typ), Value: val}
	if fl&avpFlagReserved != 0 {
		// Section 4.1: an AVP with reserved bits set is treated as
		// unrecognised; mark it vendor-like so the caller applies the M
		// bit rule.
		a.Vendor = 0xffff
		return a, true, nil
	}
	if a.Hidden && a.Vendor == 0 {
		if a.Type == AVPMessageType || a.Type == AVPRandomVector {
			return a, false, protoErr(ErrHidden, CodeBadValue, "%v must not be hidden", a.Type)
		}
		if len(r.secret) == 0 {
			return a, false, protoErr(ErrHidden, CodeBadValue, "hidden %v but no shared secret", a.Type)
		}
		if r.rv == nil {
			return a, false, protoErr(ErrHidden, CodeBadValue, "hidden %v without a preceding Random Vector", a.Type)
		}
		v, err := revealAVP(a.Type, r.secret, r.rv, val)
		if err != nil {
			return a, false, err
		}
		a.Value = v
	}
	if a.Vendor == 0 && a.Type == AVPRandomVector {
		if len(a.Value) == 0 {
			return a, false, protoErr(ErrAVP, CodeLength, "empty Random Vector")
		}
		r.rv = a.Value
	}
	return a, true, nil
}

// hideStream xors data in place with the keystream of RFC 2661 section
// 4.3: b1 = MD5(type || secret || RV), bi = MD5(secret || c(i-1)), where c
// is the ciphertext. reveal selects which of in/out is the ciphertext.
func hideStream(typ AVPType, secret, rv, data []byte, reveal bool) {
	h := md5.New()
	var t [2]byte
	binary.BigEndian.PutUint16(t[:], uint16(typ))
	h.Write(t[:])
	h.Write(secret)
	h.Write(rv)
	var b [md5.Size]byte
	h.Sum(b[:0])
	for off := 0; off < len(data); off += md5.Size {
		end := min(off+md5.Size, len(data))
		var c [md5.Size]byte
		for i := off; i < end; i++ {
			if reveal {
				c[i-off] = data[i]
				data[i] ^= b[i-off]
			} else {
				data[i] ^= b[i-off]
				c[i-off] = data[i]
			}
		}
		if end < len(data) {
			h.Reset()
			h.Write(secret)
			h.Write(c[:])
			h.Sum(b[:0])
		}
	}
}

// hideAVP returns the hidden form of value: Original Length (2 octets),
// value, padding, all obscured. Padding is left empty: it only hides the
// length, which the peer learns anyway from the message size.
func hideAVP(typ AVPType, secret, rv, value []byte) []byte {
	out := make([]byte, 2+len(value))
	binary.BigEndian.PutUint16(out, uint16(len(value)))
	copy(out[2:], value)
	hideStream(typ, secret, rv, out, false)
	return out
}

// revealAVP undoes hideAVP on a copy of hidden.
func revealAVP(typ AVPType, secret, rv, hidden []byte) ([]byte, error) {
	if len(hidden) < 2 {
		return nil, protoErr(ErrHidden, CodeLength, "hidden %v shorter than its length field", typ)
	}
	out := append([]byte(nil), hidden...)
	hideStream(typ, secret, rv, out, true)
	n := int(binary.BigEndian.Uint16(out))
	if n > len(out)-2 {
		return nil, protoErr(ErrHidden, CodeLength, "hidden %v original length %d exceeds %d (wrong secret?)", typ, n, len(out)-2)
	}
	return out[2 : 2+n], nil
}

// appendAVP appends one IETF AVP.
func appendAVP(dst []byte, typ AVPType, mandatory, hidden bool, value []byte) ([]byte, error) {
	if len(value) > maxAVPValueLen {
		return dst, fmt.Errorf("%w: %v value of %d octets", ErrTooBig, typ, len(value))
	}
	fl := uint16(avpHeaderLen + len(value))
	if mandatory {
		fl |= avpFlagM
	}
	if hidden {
		fl |= avpFlagH
	}
	dst = binary.BigEndian.AppendUint16(dst, fl)
	dst = binary.BigEndian.AppendUint16(dst, 0)
	dst = binary.BigEndian.AppendUint16(dst, uint16(typ))
	return append(dst, value...), nil
}
