package isakmp

import (
	"encoding/binary"
	"strconv"

	"golang.org/x/crypto/cryptobyte"
)

// HeaderLen is the size of the ISAKMP header (RFC 2408 §3.1).
const HeaderLen = 28

// Version is ISAKMP major version 1, minor 0 as sent in the header.
const Version uint8 = 0x10

// MaxPayloads bounds the number of payloads in one chain; real clients send
// fewer than 20 (Windows' Main Mode 1: SA and 8 vendor IDs).
const MaxPayloads = 128

// Cookie is an initiator or responder cookie.
type Cookie [8]byte

// Header is the ISAKMP header.
type Header struct {
	InitiatorCookie Cookie
	ResponderCookie Cookie
	NextPayload     PayloadType
	Version         uint8 // major<<4 | minor; Marshal sets 0x10 (1.0) if zero
	Exchange        ExchangeType
	Flags           Flags
	MessageID       uint32
	Length          uint32 // set by ParseHeader, Marshal and MarshalHeader
}

// Encrypted reports whether the encryption flag is set.
func (h *Header) Encrypted() bool { return h.Flags&FlagEncryption != 0 }

// Cookies returns the 16-byte cookie pair, the SPI of an ISAKMP SA in
// Delete and DPD notifications.
func (h *Header) Cookies() []byte {
	b := make([]byte, 0, 16)
	b = append(b, h.InitiatorCookie[:]...)
	return append(b, h.ResponderCookie[:]...)
}

// ParseHeader decodes the ISAKMP header of a datagram and returns the body
// that follows it (aliasing data). The header length must equal len(data)
// (RFC 2408 §5.1); the major version must be 1.
func ParseHeader(data []byte) (Header, []byte, error) {
	var h Header
	if len(data) < HeaderLen {
		return h, nil, perr(ErrShort, strconv.Itoa(len(data))+" bytes")
	}
	copy(h.InitiatorCookie[:], data[0:8])
	copy(h.ResponderCookie[:], data[8:16])
	h.NextPayload = PayloadType(data[16])
	h.Version = data[17]
	h.Exchange = ExchangeType(data[18])
	h.Flags = Flags(data[19])
	h.MessageID = binary.BigEndian.Uint32(data[20:24])
	h.Length = binary.BigEndian.Uint32(data[24:28])
	if h.Version>>4 != 1 {
		return h, nil, perr(ErrMajorVersion, "version 0x"+strconv.FormatUint(uint64(h.Version), 16))
	}
	if uint64(h.Length) != uint64(len(data)) {
		return h, nil, perr(ErrMessageLength, "header says "+strconv.FormatUint(uint64(h.Length), 10)+", datagram has "+strconv.Itoa(len(data)))
	}
	return h, data[HeaderLen:], nil
}

// Body is a decoded payload chain.
type Body struct {
	Payloads []Payload
	// Raw holds each payload's body as received, without its 4-byte
	// generic header, aliasing the parsed buffer: SAi_b and IDii_b of
	// RFC 2409 §5 are Raw of the SA and ID payloads.
	Raw [][]byte
	// Len is how many bytes the chain occupies; what follows is padding.
	// The Quick Mode hashes of RFC 2409 §5.5 cover body[end of HASH:Len].
	Len int
}

// ParseBody decodes the payload chain that starts with a payload of type
// first. It is used for decrypted bodies: bytes after the last payload are
// the cipher's padding (RFC 2408 zero padding, or RFC 2409's random padding
// with a trailing pad-length byte) and are ignored, reported through
// Body.Len. body is aliased, not copied.
func ParseBody(first PayloadType, body []byte) (*Body, error) {
	return parseChain(first, body, true)
}

func parseChain(first PayloadType, body []byte, allowPadding bool) (*Body, error) {
	// Most messages have fewer than 12 payloads (Windows' MM1 has 9).
	b := &Body{Payloads: make([]Payload, 0, 12), Raw: make([][]byte, 0, 12)}
	s := cryptobyte.String(body)
	next := uint8(first)
	for i := 1; next != uint8(PayloadNone); i++ {
		t := PayloadType(next)
		if i > MaxPayloads {
			return nil, perr(ErrTooManyPayloads, strconv.Itoa(i))
		}
		var pb cryptobyte.String
		if !readGeneric(&s, &next, &pb) {
			return nil, perr(ErrPayloadLength, "payload #"+strconv.Itoa(i)+" ("+t.String()+")")
		}
		p, err := parsePayload(t, pb)
		if err != nil {
			return nil, err
		}
		b.Payloads = append(b.Payloads, p)
		b.Raw = append(b.Raw, []byte(pb))
	}
	b.Len = len(body) - len(s)
	if !allowPadding && len(s) != 0 {
		return nil, perr(ErrTrailingData, strconv.Itoa(len(s))+" bytes")
	}
	return b, nil
}

// Message is a whole ISAKMP message.
type Message struct {
	Header
	Body
}

// Parse decodes a cleartext ISAKMP message. The datagram is copied once and
// every byte slice in the result aliases that copy, so the caller may reuse
// data. An encrypted message yields ErrEncrypted together with its header
// (Body empty): decrypt the bytes after the header and call ParseBody.
func Parse(data []byte) (*Message, error) {
	h, body, err := ParseHeader(data)
	if err != nil {
		return nil, err
	}
	m := &Message{Header: h}
	if h.Encrypted() {
		return m, perr(ErrEncrypted, "")
	}
	own := append([]byte(nil), body...)
	b, err := parseChain(h.NextPayload, own, false)
	if err != nil {
		return nil, err
	}
	m.Body = *b
	return m, nil
}

// AppendPayloads appends the payload chain to dst with correct next-payload
// links and lengths, and returns the type of the first payload (for the
// header's NextPayload).
func AppendPayloads(dst []byte, payloads []Payload) ([]byte, PayloadType, error) {
	if len(payloads) > MaxPayloads {
		return dst, PayloadNone, ErrTooManyPayloads
	}
	for i, p := range payloads {
		next := PayloadNone
		if i+1 < len(payloads) {
			next = payloads[i+1].Type()
		}
		if t := p.Type(); t == PayloadNone || t == PayloadProposal || t == PayloadTransform {
			return dst, PayloadNone, ErrPayloadType
		}
		start := len(dst)
		dst = append(dst, byte(next), 0, 0, 0)
		var err error
		if dst, err = p.appendBody(dst); err != nil {
			return dst, PayloadNone, err
		}
		if err := putLen(dst, start); err != nil {
			return dst, PayloadNone, err
		}
	}
	if len(payloads) == 0 {
		return dst, PayloadNone, nil
	}
	return dst, payloads[0].Type(), nil
}

// MarshalBody encodes the payload chain alone, for a caller that encrypts
// it: pad and encrypt the result, set Header.NextPayload to first, then
// call MarshalHeader with the ciphertext.
func MarshalBody(payloads []Payload) (body []byte, first PayloadType, err error) {
	return AppendPayloads(nil, payloads)
}

// MarshalHeader returns the header followed by body (cleartext or
// ciphertext), with Length set to the total. It sets h.Length.
func (h *Header) MarshalHeader(body []byte) ([]byte, error) {
	if uint64(len(body))+HeaderLen > 0xffffffff {
		return nil, ErrTooLong
	}
	h.Length = uint32(HeaderLen + len(body))
	b := make([]byte, 0, h.Length)
	b = h.appendTo(b)
	return append(b, body...), nil
}

// appendTo writes the header, defaulting Version to 1.0 (and recording it).
func (h *Header) appendTo(b []byte) []byte {
	if h.Version == 0 {
		h.Version = Version
	}
	v := h.Version
	b = append(b, h.InitiatorCookie[:]...)
	b = append(b, h.ResponderCookie[:]...)
	b = append(b, byte(h.NextPayload), v, byte(h.Exchange), byte(h.Flags))
	b = binary.BigEndian.AppendUint32(b, h.MessageID)
	return binary.BigEndian.AppendUint32(b, h.Length)
}

// Marshal encodes a cleartext message. It sets NextPayload and Length in
// m.Header from the payloads. It does not encrypt: for an encrypted message
// use MarshalBody and MarshalHeader.
func (m *Message) Marshal() ([]byte, error) {
	b := make([]byte, HeaderLen, 256)
	b, first, err := AppendPayloads(b, m.Payloads)
	if err != nil {
		return nil, err
	}
	m.NextPayload = first
	m.Length = uint32(len(b))
	m.Header.appendTo(b[:0]) // fills the 28 bytes reserved above
	return b, nil
}

// Find returns the first payload of type T in ps, e.g.
// Find[*isakmp.SA](msg.Payloads).
func Find[T Payload](ps []Payload) (T, bool) {
	for _, p := range ps {
		if v, ok := p.(T); ok {
			return v, true
		}
	}
	var zero T
	return zero, false
}

// FindAll returns every payload of type T in ps, in order.
func FindAll[T Payload](ps []Payload) []T {
	var out []T
	for _, p := range ps {
		if v, ok := p.(T); ok {
			out = append(out, v)
		}
	}
	return out
}
