package ike

import (
	"fmt"

	"github.com/l2tpsecd/l2tpsecd/ike/isakmp"
)

// Reason is why a negotiation failed or an SA went away. Its String() is
// both the audit log's reason and a metric label.
type Reason uint8

// Failure reasons.
const (
	ReasonNone Reason = iota
	ReasonNoProposalChosen
	ReasonPSKMismatch
	ReasonMalformed
	ReasonBadHash
	ReasonInvalidID
	ReasonInvalidKE
	ReasonTimeout
	ReasonHalfOpenLimit
	ReasonPeerDeleted
	ReasonExpired
	ReasonInitialContact
	ReasonDeadPeer
	ReasonNotifyFromPeer
	ReasonShutdown
	ReasonAuthMethod
	ReasonAdmin
	ReasonCertificate
	ReasonBadSignature
)

var reasonNames = [...]string{
	ReasonNone:             "none",
	ReasonNoProposalChosen: "no_proposal_chosen",
	ReasonPSKMismatch:      "psk_mismatch",
	ReasonMalformed:        "malformed",
	ReasonBadHash:          "bad_hash",
	ReasonInvalidID:        "invalid_id",
	ReasonInvalidKE:        "invalid_ke",
	ReasonTimeout:          "peer_timeout",
	ReasonHalfOpenLimit:    "half_open_limit",
	ReasonPeerDeleted:      "deleted_by_peer",
	ReasonExpired:          "expired",
	ReasonInitialContact:   "initial_contact",
	ReasonDeadPeer:         "dead_peer",
	ReasonNotifyFromPeer:   "peer_notify",
	ReasonShutdown:         "shutdown",
	ReasonAuthMethod:       "auth_method_unsupported",
	ReasonAdmin:            "deleted_by_admin",
	ReasonCertificate:      "certificate_rejected",
	ReasonBadSignature:     "bad_signature",
}

func (r Reason) String() string {
	if int(r) < len(reasonNames) {
		return reasonNames[r]
	}
	return fmt.Sprintf("reason(%d)", uint8(r))
}

// Notify is the ISAKMP notification a responder sends for the reason.
func (r Reason) Notify() isakmp.NotifyType {
	switch r {
	case ReasonNoProposalChosen, ReasonAuthMethod:
		return isakmp.NotifyNoProposalChosen
	case ReasonPSKMismatch, ReasonBadHash:
		return isakmp.NotifyAuthenticationFailed
	case ReasonInvalidID:
		return isakmp.NotifyInvalidIDInformation
	case ReasonInvalidKE:
		return isakmp.NotifyInvalidKeyInformation
	case ReasonMalformed:
		return isakmp.NotifyPayloadMalformed
	}
	return 0
}

// Failure describes a failed negotiation for the audit log: the reason,
// detail, and for proposal refusals what the client offered and the
// policy level.
type Failure struct {
	Reason  Reason
	Detail  string
	Offered string // e.g. "3DES-SHA1-MODP1024, AES256-SHA1-MODP1024"
	Policy  Level
	// KeyIndex is the PSK candidate that matched (-1 when none did).
	KeyIndex int
}

func (f *Failure) Error() string {
	s := "ike: " + f.Reason.String()
	if f.Detail != "" {
		s += ": " + f.Detail
	}
	if f.Reason == ReasonNoProposalChosen && f.Offered != "" {
		s += fmt.Sprintf(" (offered: %s; policy %s)", f.Offered, f.Policy)
	}
	return s
}

func (f *Failure) Unwrap() error {
	switch f.Reason {
	case ReasonNoProposalChosen:
		return ErrNoProposalChosen
	case ReasonPSKMismatch, ReasonBadHash, ReasonCertificate, ReasonBadSignature:
		return ErrAuthFailed
	case ReasonMalformed:
		return ErrMalformed
	case ReasonTimeout, ReasonDeadPeer:
		return ErrTimeout
	case ReasonHalfOpenLimit:
		return ErrHalfOpenLimit
	}
	return nil
}
