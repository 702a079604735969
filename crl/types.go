package crl

import (
	"errors"
	"fmt"
	"strconv"
)

// Mode is the strong_crl_check setting.
type Mode uint8

const (
	// ModeOff (0) does no revocation check.
	ModeOff Mode = 0
	// ModeRevokedOnly (1, l2tpsecd's default; Windows' default was 0)
	// refuses a certificate only when a CRL issued and signed by its issuer
	// lists it. An unreachable distribution point, or a CRL issued or
	// signed by someone else, means "assume valid". A listing in an expired
	// CRL still counts: revocation is final.
	ModeRevokedOnly Mode = 1
	// ModeStrict (2) refuses on any CRL check error: a CRL must be
	// obtained, be issued and signed by the certificate's issuer, be current
	// (thisUpdate <= now < nextUpdate), and not list the certificate.
	ModeStrict Mode = 2
)

// DefaultMode is the mode used when the configuration does not say.
const DefaultMode = ModeRevokedOnly

func (m Mode) String() string {
	switch m {
	case ModeOff:
		return "0"
	case ModeRevokedOnly:
		return "1"
	case ModeStrict:
		return "2"
	}
	return "mode(" + strconv.Itoa(int(m)) + ")"
}

// Valid reports whether m is one of the three modes.
func (m Mode) Valid() bool { return m <= ModeStrict }

// Outcome is the verdict on a certificate.
type Outcome uint8

const (
	// Accept: the certificate may authenticate the peer.
	Accept Outcome = iota + 1
	// Reject: the negotiation must fail.
	Reject
)

func (o Outcome) String() string {
	switch o {
	case Accept:
		return "accept"
	case Reject:
		return "reject"
	}
	return "outcome(" + strconv.Itoa(int(o)) + ")"
}

// Reason is the precise cause of an outcome. Its values are stable strings,
// usable as metric labels and audit log fields. On an accepted certificate
// the reason is ReasonOK, or the CRL condition that mode 1 tolerated (for
// instance crl_unreachable), so the audit log shows what was assumed.
type Reason string

// The reasons.
const (
	ReasonOK                   Reason = "ok"
	ReasonNoCertificate        Reason = "no_certificate"         // the peer sent no certificate
	ReasonUntrustedIssuer      Reason = "untrusted_issuer"       // no chain to a configured root
	ReasonCertExpired          Reason = "cert_expired"           // a chain certificate is past notAfter
	ReasonCertNotYetValid      Reason = "cert_not_yet_valid"     // a chain certificate is before notBefore
	ReasonCertBadSignature     Reason = "cert_bad_signature"     // an issuer with the right name did not sign it
	ReasonCertInvalid          Reason = "cert_invalid"           // basic/name constraints, key usage, unsupported algorithm or critical extension
	ReasonRevoked              Reason = "revoked"                // listed on its issuer's CRL
	ReasonCRLUnreachable       Reason = "crl_unreachable"        // fetch failed (network, HTTP status, timeout, size)
	ReasonCRLIssuerMismatch    Reason = "crl_issuer_mismatch"    // the CRL there was issued by someone else
	ReasonCRLBadSignature      Reason = "crl_bad_signature"      // issuer name right, signature wrong
	ReasonCRLExpired           Reason = "crl_expired"            // now >= nextUpdate
	ReasonCRLNotYetValid       Reason = "crl_not_yet_valid"      // now < thisUpdate
	ReasonCRLMalformed         Reason = "crl_malformed"          // the bytes are not a CRL
	ReasonCRLUnsupportedScheme Reason = "crl_unsupported_scheme" // e.g. ldap://
	ReasonCRLNoSource          Reason = "crl_no_source"          // no distribution point and no configured CRL
	ReasonCRLDeltaWithoutBase  Reason = "crl_delta_without_base" // only a delta CRL was found, no complete CRL
	ReasonCRLBaseTooOld        Reason = "crl_base_too_old"       // the delta CRL needs a newer complete CRL than we have
)

// Reasons lists every reason, for tests and for pre-creating metric series.
var Reasons = []Reason{
	ReasonOK, ReasonNoCertificate, ReasonUntrustedIssuer, ReasonCertExpired,
	ReasonCertNotYetValid, ReasonCertBadSignature, ReasonCertInvalid,
	ReasonRevoked, ReasonCRLUnreachable, ReasonCRLIssuerMismatch,
	ReasonCRLBadSignature, ReasonCRLExpired, ReasonCRLNotYetValid,
	ReasonCRLMalformed, ReasonCRLUnsupportedScheme, ReasonCRLNoSource,
	ReasonCRLDeltaWithoutBase, ReasonCRLBaseTooOld,
}

func (r Reason) String() string { return string(r) }

// Err returns the sentinel error for r (nil for ReasonOK).
func (r Reason) Err() error {
	switch r {
	case ReasonOK:
		return nil
	case ReasonNoCertificate:
		return ErrNoCertificate
	case ReasonUntrustedIssuer:
		return ErrUntrustedIssuer
	case ReasonCertExpired:
		return ErrCertExpired
	case ReasonCertNotYetValid:
		return ErrCertNotYetValid
	case ReasonCertBadSignature:
		return ErrCertBadSignature
	case ReasonCertInvalid:
		return ErrCertInvalid
	case ReasonRevoked:
		return ErrRevoked
	}
	return ErrCRLCheck
}

// RevocationReason is the CRL entry reason code (RFC 5280 5.3.1).
type RevocationReason int

// The reason codes; 7 is not used.
const (
	ReasonCodeUnspecified          RevocationReason = 0
	ReasonCodeKeyCompromise        RevocationReason = 1
	ReasonCodeCACompromise         RevocationReason = 2
	ReasonCodeAffiliationChanged   RevocationReason = 3
	ReasonCodeSuperseded           RevocationReason = 4
	ReasonCodeCessationOfOperation RevocationReason = 5
	ReasonCodeCertificateHold      RevocationReason = 6
	ReasonCodeRemoveFromCRL        RevocationReason = 8
	ReasonCodePrivilegeWithdrawn   RevocationReason = 9
	ReasonCodeAACompromise         RevocationReason = 10
)

func (r RevocationReason) String() string {
	switch r {
	case ReasonCodeUnspecified:
		return "unspecified"
	case ReasonCodeKeyCompromise:
		return "keyCompromise"
	case ReasonCodeCACompromise:
		return "cACompromise"
	case ReasonCodeAffiliationChanged:
		return "affiliationChanged"
	case ReasonCodeSuperseded:
		return "superseded"
	case ReasonCodeCessationOfOperation:
		return "cessationOfOperation"
	case ReasonCodeCertificateHold:
		return "certificateHold"
	case ReasonCodeRemoveFromCRL:
		return "removeFromCRL"
	case ReasonCodePrivilegeWithdrawn:
		return "privilegeWithdrawn"
	case ReasonCodeAACompromise:
		return "aACompromise"
	}
	return "reasonCode(" + strconv.Itoa(int(r)) + ")"
}

// Sentinel errors. A refused certificate's error wraps the sentinel of its
// reason (Reason.Err), so callers can test it with errors.Is.
var (
	ErrNoCertificate    = errors.New("crl: the peer sent no certificate")
	ErrUntrustedIssuer  = errors.New("crl: certificate not issued by a trusted CA")
	ErrCertExpired      = errors.New("crl: certificate expired")
	ErrCertNotYetValid  = errors.New("crl: certificate not yet valid")
	ErrCertBadSignature = errors.New("crl: certificate signature does not verify")
	ErrCertInvalid      = errors.New("crl: certificate violates constraints or usage")
	ErrRevoked          = errors.New("crl: certificate revoked")
	ErrCRLCheck         = errors.New("crl: revocation check failed")

	ErrBadMode           = errors.New("crl: strong_crl_check must be 0, 1 or 2")
	ErrNoRoots           = errors.New("crl: no trusted root certificate configured")
	ErrClosed            = errors.New("crl: checker closed")
	ErrFetchTimeout      = errors.New("crl: fetch timed out")
	ErrTooLarge          = errors.New("crl: CRL larger than the size limit")
	ErrHTTPStatus        = errors.New("crl: distribution point answered with an HTTP error")
	ErrUnsupportedScheme = errors.New("crl: unsupported distribution point scheme")
	ErrNotCRL            = errors.New("crl: data is not a CRL")
	ErrNoCertificates    = errors.New("crl: no certificate in file")
)

// RejectError is the error Checker.Verify returns with a refused
// certificate. It wraps the reason's sentinel.
type RejectError struct {
	Reason Reason
	Mode   Mode
	Detail string
}

func (e *RejectError) Error() string {
	if e.Detail == "" {
		return fmt.Sprintf("crl: certificate refused: %s (strong_crl_check %s)", e.Reason, e.Mode)
	}
	return fmt.Sprintf("crl: certificate refused: %s (strong_crl_check %s): %s", e.Reason, e.Mode, e.Detail)
}

// Unwrap returns the sentinel of the reason.
func (e *RejectError) Unwrap() error { return e.Reason.Err() }
