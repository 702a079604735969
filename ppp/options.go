package ppp

import "fmt"

// Option is one configuration option (RFC 1661 section 6): Type, Length,
// Data. Value aliases the packet it was parsed from.
type Option struct {
	Type  uint8
	Value []byte
}

// checkOptions verifies that b is a well-formed sequence of options.
func checkOptions(b []byte) error {
	for i := 0; i < len(b); {
		if len(b)-i < 2 {
			return fmt.Errorf("%w: %d trailing bytes", ErrBadOption, len(b)-i)
		}
		n := int(b[i+1])
		if n < 2 || i+n > len(b) {
			return fmt.Errorf("%w: type %d length %d", ErrBadOption, b[i], n)
		}
		i += n
	}
	return nil
}

// optionIter walks a sequence already validated by checkOptions without
// allocating: for it := (optionIter{b: opts}); it.next(); { it.typ, it.val }.
type optionIter struct {
	b   []byte
	raw []byte // the whole current option, header included
	typ uint8
	val []byte
}

func (it *optionIter) next() bool {
	if len(it.b) < 2 {
		return false
	}
	n := int(it.b[1])
	if n < 2 || n > len(it.b) {
		return false
	}
	it.raw, it.typ, it.val = it.b[:n], it.b[0], it.b[2:n]
	it.b = it.b[n:]
	return true
}

// ParseOptions splits a Configure-* payload into options.
func ParseOptions(b []byte) ([]Option, error) {
	if err := checkOptions(b); err != nil {
		return nil, err
	}
	var out []Option
	for it := (optionIter{b: b}); it.next(); {
		out = append(out, Option{Type: it.typ, Value: it.val})
	}
	return out, nil
}

// AppendOptions is the inverse of ParseOptions. Values longer than 253 bytes
// cannot be encoded and are truncated.
func AppendOptions(b []byte, opts []Option) []byte {
	for _, o := range opts {
		b = appendOption(b, o.Type, o.Value)
	}
	return b
}

func appendOption(b []byte, typ uint8, val []byte) []byte {
	if len(val) > 253 {
		val = val[:253]
	}
	b = append(b, typ, byte(2+len(val)))
	return append(b, val...)
}

func appendOpt16(b []byte, typ uint8, v uint16) []byte {
	return append(b, typ, 4, byte(v>>8), byte(v))
}

func appendOpt32(b []byte, typ uint8, v uint32) []byte {
	return append(b, typ, 6, byte(v>>24), byte(v>>16), byte(v>>8), byte(v))
}

// verdict accumulates the answer to a peer's Configure-Request: RFC 1661
// section 5: any rejected option makes it a Configure-Reject of just those;
// otherwise any Nak makes it a Configure-Nak of just those; otherwise the
// request is acknowledged verbatim. When Naks are no longer allowed
// (Max-Failure), options that would be Nak'd are rejected instead.
type verdict struct {
	nakOK bool
	rej   []byte
	nak   []byte
}

func (v *verdict) reject(raw []byte) { v.rej = append(v.rej, raw...) }

// nakWith proposes replacement (a whole option, header included) for raw.
func (v *verdict) nakWith(raw, replacement []byte) {
	if !v.nakOK {
		v.reject(raw)
		return
	}
	v.nak = append(v.nak, replacement...)
}

// suggest adds an option the peer did not send but should (RFC 1661 section
// 5.3 lets a Nak carry such hints). Without Naks it is dropped.
func (v *verdict) suggest(opt []byte) {
	if v.nakOK {
		v.nak = append(v.nak, opt...)
	}
}

func (v *verdict) result(req, out []byte) (Code, []byte) {
	switch {
	case len(v.rej) > 0:
		return CodeConfRej, append(out, v.rej...)
	case len(v.nak) > 0:
		return CodeConfNak, append(out, v.nak...)
	}
	return CodeConfAck, append(out, req...)
}
