package isakmp

import (
	"encoding/binary"
	"strconv"

	"golang.org/x/crypto/cryptobyte"
)

// attrFormatBasic is the AF bit (RFC 2408 §3.3): set for the TV form.
const attrFormatBasic = 0x8000

// Attribute is one data attribute (RFC 2408 §3.3) of a transform or a
// Mode-Config payload. Basic (TV) attributes carry a 16-bit Value; variable
// (TLV) ones carry Data. Use Uint for a numeric view of either form: peers
// send life durations both ways (Windows as a 4-byte TLV).
type Attribute struct {
	Type  uint16 // without the AF bit
	Basic bool   // TV form
	Value uint16 // the value of a basic attribute
	Data  []byte // the value of a variable attribute
}

// BasicAttr builds a TV attribute.
func BasicAttr[T ~uint16](typ T, v uint16) Attribute {
	return Attribute{Type: uint16(typ), Basic: true, Value: v}
}

// VarAttr builds a TLV attribute holding data.
func VarAttr[T ~uint16](typ T, data []byte) Attribute {
	return Attribute{Type: uint16(typ), Data: data}
}

// NumAttr builds a numeric attribute: TV when v fits 16 bits, otherwise a
// TLV of 4 bytes (8 when it does not fit 32 bits).
func NumAttr[T ~uint16](typ T, v uint64) Attribute {
	if v <= 0xffff {
		return BasicAttr(typ, uint16(v))
	}
	return NumAttrTLV(typ, v)
}

// NumAttrTLV builds a numeric attribute in the variable form even when the
// value would fit 16 bits: 4 bytes, or 8 when v does not fit 32 bits.
func NumAttrTLV[T ~uint16](typ T, v uint64) Attribute {
	if v <= 0xffffffff {
		return VarAttr(typ, binary.BigEndian.AppendUint32(nil, uint32(v)))
	}
	return VarAttr(typ, binary.BigEndian.AppendUint64(nil, v))
}

// Uint returns the attribute's value as a number: the TV value, or the
// big-endian TLV bytes when they fit 64 bits (leading zero bytes allowed).
func (a Attribute) Uint() (uint64, bool) {
	if a.Basic {
		return uint64(a.Value), true
	}
	d := a.Data
	for len(d) > 8 && d[0] == 0 {
		d = d[1:]
	}
	if len(d) > 8 || len(a.Data) == 0 {
		return 0, false
	}
	var v uint64
	for _, b := range d {
		v = v<<8 | uint64(b)
	}
	return v, true
}

// Bytes returns the raw value: the 2 bytes of a TV attribute or the TLV data.
func (a Attribute) Bytes() []byte {
	if a.Basic {
		return binary.BigEndian.AppendUint16(nil, a.Value)
	}
	return a.Data
}

func (a Attribute) appendTo(b []byte) ([]byte, error) {
	if a.Type&attrFormatBasic != 0 {
		return b, ErrAttribute
	}
	if a.Basic {
		b = binary.BigEndian.AppendUint16(b, a.Type|attrFormatBasic)
		return binary.BigEndian.AppendUint16(b, a.Value), nil
	}
	if len(a.Data) > 0xffff {
		return b, ErrTooLong
	}
	b = binary.BigEndian.AppendUint16(b, a.Type)
	b = binary.BigEndian.AppendUint16(b, uint16(len(a.Data)))
	return append(b, a.Data...), nil
}

// parseAttributes reads attributes until s is empty.
func parseAttributes(s cryptobyte.String, context string) ([]Attribute, error) {
	if s.Empty() {
		return nil, nil
	}
	// One allocation: every attribute takes at least 4 bytes.
	attrs := make([]Attribute, 0, len(s)/4)
	for i := 0; !s.Empty(); i++ {
		var t, v uint16
		if !s.ReadUint16(&t) || !s.ReadUint16(&v) {
			return nil, perr(ErrAttribute, context+" attribute #"+strconv.Itoa(i+1)+" header truncated")
		}
		if t&attrFormatBasic != 0 {
			attrs = append(attrs, Attribute{Type: t &^ attrFormatBasic, Basic: true, Value: v})
			continue
		}
		var d []byte
		if !s.ReadBytes(&d, int(v)) {
			return nil, perr(ErrAttribute, context+" attribute #"+strconv.Itoa(i+1)+" value overruns its container")
		}
		attrs = append(attrs, Attribute{Type: t, Data: nilIfEmpty(d)})
	}
	return attrs, nil
}

func nilIfEmpty(b []byte) []byte {
	if len(b) == 0 {
		return nil
	}
	return b
}

// FindAttr returns the first attribute of type typ.
func FindAttr[T ~uint16](attrs []Attribute, typ T) (Attribute, bool) {
	for _, a := range attrs {
		if a.Type == uint16(typ) {
			return a, true
		}
	}
	return Attribute{}, false
}
