package esp

import "errors"

// Sentinel errors. The hot paths return them unwrapped (wrapping would
// allocate); callers count drops by comparing with these values.
var (
	ErrShortPacket   = errors.New("esp: packet too short")
	ErrMalformed     = errors.New("esp: malformed packet")
	ErrBadPadding    = errors.New("esp: bad padding")
	ErrReplay        = errors.New("esp: replayed or too old sequence number")
	ErrIntegrity     = errors.New("esp: integrity check failed")
	ErrExpired       = errors.New("esp: SA lifetime expired")
	ErrSeqExhausted  = errors.New("esp: sequence numbers exhausted, SA must be rekeyed")
	ErrSPIMismatch   = errors.New("esp: SPI does not belong to this SA")
	ErrWrongDir      = errors.New("esp: operation does not match the SA direction")
	ErrShortBuffer   = errors.New("esp: buffer lacks headroom or tailroom")
	ErrUnsupported   = errors.New("esp: unsupported algorithm")
	ErrKeyLength     = errors.New("esp: key length does not match the algorithm")
	ErrBadConfig     = errors.New("esp: invalid SA configuration")
	ErrNoSA          = errors.New("esp: no SA for this SPI or handle")
	ErrDuplicateSPI  = errors.New("esp: inbound SPI already installed")
	ErrClosed        = errors.New("esp: datapath closed")
	ErrNotUDP        = errors.New("esp: inner packet is not UDP")
	ErrPayloadTooBig = errors.New("esp: payload too large for a datapath buffer")
)
