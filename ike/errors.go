package ike

import "errors"

// Sentinel errors. Engine failures wrap these with %w and context.
var (
	ErrUnsupportedAlgorithm = errors.New("ike: unsupported algorithm")
	ErrInvalidKE            = errors.New("ike: invalid key exchange value")
	ErrMalformed            = errors.New("ike: malformed message")
	ErrNoProposalChosen     = errors.New("ike: no proposal chosen")
	ErrAuthFailed           = errors.New("ike: authentication failed")
	ErrUnknownSA            = errors.New("ike: unknown SA")
	ErrHalfOpenLimit        = errors.New("ike: half-open SA limit reached")
	ErrBadHash              = errors.New("ike: hash mismatch")
	ErrUnexpected           = errors.New("ike: unexpected message")
	ErrTimeout              = errors.New("ike: peer timeout")

	// errIgnore marks a message that is dropped silently (a repeat of a
	// request still being worked on): no error for the caller, and the
	// SA's addresses stay as they were.
	errIgnore = errors.New("ike: ignored")
)
