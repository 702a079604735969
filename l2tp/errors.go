package l2tp

import (
	"errors"
	"fmt"
	"strconv"
)

// Sentinel errors. Parse and Input errors wrap one of them, so callers can
// count drops by kind with errors.Is.
var (
	ErrShort           = errors.New("l2tp: message too short")
	ErrVersion         = errors.New("l2tp: unsupported version")
	ErrHeader          = errors.New("l2tp: malformed header")
	ErrNotControl      = errors.New("l2tp: not a control message")
	ErrNotData         = errors.New("l2tp: not a data message")
	ErrAVP             = errors.New("l2tp: malformed AVP")
	ErrUnknownAVP      = errors.New("l2tp: unknown mandatory AVP")
	ErrHidden          = errors.New("l2tp: cannot decode hidden AVP")
	ErrMissingAVP      = errors.New("l2tp: required AVP missing")
	ErrMessageType     = errors.New("l2tp: bad or unknown message type")
	ErrUnknownTunnel   = errors.New("l2tp: unknown tunnel")
	ErrUnknownSession  = errors.New("l2tp: unknown session")
	ErrWrongPeer       = errors.New("l2tp: tunnel belongs to another peer")
	ErrClosed          = errors.New("l2tp: closed")
	ErrNoIDs           = errors.New("l2tp: no free IDs")
	ErrLimit           = errors.New("l2tp: limit reached")
	ErrRole            = errors.New("l2tp: not allowed in this role")
	ErrNotEstablished  = errors.New("l2tp: not established")
	ErrTooBig          = errors.New("l2tp: message too big")
	ErrPeerNotHashable = errors.New("l2tp: peer key is not comparable")
)

// ProtocolError is a failure that the peer must be told about: it carries
// the Result Code AVP to send in the StopCCN (tunnel scope) or CDN (session
// scope) that tears down what the offending message concerned.
type ProtocolError struct {
	Result  ResultCode
	Code    ErrorCode
	Message string // sent to the peer as the error message
	Err     error  // the sentinel, for errors.Is
}

func (e *ProtocolError) Error() string {
	s := e.Err.Error() + " (" + e.Result.String()
	if e.Code != CodeNone {
		s += ", " + e.Code.String()
	}
	if e.Message != "" {
		s += ": " + strconv.Quote(e.Message)
	}
	return s + ")"
}

func (e *ProtocolError) Unwrap() error { return e.Err }

// protoErr builds a general-error (result 2) ProtocolError; result code 2
// means "see the error code" for both StopCCN and CDN.
func protoErr(sentinel error, code ErrorCode, format string, args ...any) *ProtocolError {
	return &ProtocolError{Result: StopCCNGeneralError, Code: code, Message: fmt.Sprintf(format, args...), Err: sentinel}
}
