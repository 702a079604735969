package isakmp

import "errors"

// Sentinel errors. Parse errors are returned wrapped in a *ParseError that
// carries the notify type a responder should answer with; test them with
// errors.Is and get the notify type with NotifyFor.
var (
	ErrShort           = errors.New("isakmp: message shorter than the ISAKMP header")
	ErrMessageLength   = errors.New("isakmp: header length disagrees with the datagram")
	ErrMajorVersion    = errors.New("isakmp: unsupported major version")
	ErrEncrypted       = errors.New("isakmp: message is encrypted; use ParseHeader and ParseBody")
	ErrPayloadLength   = errors.New("isakmp: payload length out of bounds")
	ErrPayloadType     = errors.New("isakmp: payload type not allowed here")
	ErrTooManyPayloads = errors.New("isakmp: too many payloads")
	ErrTrailingData    = errors.New("isakmp: trailing data after payload chain")
	ErrTruncated       = errors.New("isakmp: payload body truncated")
	ErrAttribute       = errors.New("isakmp: malformed data attribute")
	ErrDOI             = errors.New("isakmp: DOI not supported")
	ErrSituation       = errors.New("isakmp: situation not supported")
	ErrProposalSyntax  = errors.New("isakmp: bad proposal syntax")
	ErrSPI             = errors.New("isakmp: invalid SPI size")
	ErrIDInfo          = errors.New("isakmp: identification data does not fit its type")
	ErrTooLong         = errors.New("isakmp: payload or message too long to encode")
	ErrAttrMissing     = errors.New("isakmp: required attribute missing")

	ErrFragment         = errors.New("isakmp: malformed fragment")
	ErrFragmentLimit    = errors.New("isakmp: fragment limits exceeded")
	ErrFragmentCapacity = errors.New("isakmp: too many reassemblies in progress")
	ErrFragmentMTU      = errors.New("isakmp: MTU too small to fragment into")
)

// notifyOf is the ISAKMP notify type a responder sends for each sentinel
// (RFC 2408 §5 lists which check yields which).
var notifyOf = map[error]NotifyType{
	ErrShort:           NotifyPayloadMalformed,
	ErrMessageLength:   NotifyUnequalPayloadLengths,
	ErrMajorVersion:    NotifyInvalidMajorVersion,
	ErrEncrypted:       NotifyInvalidFlags,
	ErrPayloadLength:   NotifyPayloadMalformed,
	ErrPayloadType:     NotifyInvalidPayloadType,
	ErrTooManyPayloads: NotifyPayloadMalformed,
	ErrTrailingData:    NotifyPayloadMalformed,
	ErrTruncated:       NotifyPayloadMalformed,
	ErrAttribute:       NotifyPayloadMalformed,
	ErrDOI:             NotifyDOINotSupported,
	ErrSituation:       NotifySituationNotSupported,
	ErrProposalSyntax:  NotifyBadProposalSyntax,
	ErrSPI:             NotifyInvalidSPI,
	ErrIDInfo:          NotifyInvalidIDInformation,
	ErrAttrMissing:     NotifyAttributesNotSupported,
	ErrFragment:        NotifyPayloadMalformed,
}

// ParseError is a decoding failure with the notify type to answer with.
type ParseError struct {
	Notify  NotifyType // what a responder should send back, if it answers at all
	Context string     // where in the message, e.g. "SA proposal #1 transform #2"
	Err     error      // one of the sentinels
}

func (e *ParseError) Error() string {
	if e.Context == "" {
		return e.Err.Error()
	}
	return e.Err.Error() + " (" + e.Context + ")"
}

func (e *ParseError) Unwrap() error { return e.Err }

func perr(sentinel error, context string) error {
	n, ok := notifyOf[sentinel]
	if !ok {
		n = NotifyPayloadMalformed
	}
	return &ParseError{Notify: n, Context: context, Err: sentinel}
}

// NotifyFor returns the notify type that err asks a responder to send:
// the one carried by a *ParseError in its chain, else PAYLOAD-MALFORMED.
func NotifyFor(err error) NotifyType {
	var pe *ParseError
	if errors.As(err, &pe) {
		return pe.Notify
	}
	return NotifyPayloadMalformed
}
