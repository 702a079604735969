package crl

import (
	"strconv"
	"time"
)

// Situation is what the CRL sources of one certificate yielded.
type Situation uint8

const (
	// SituationIssuerCRL: a complete CRL issued and signed by the
	// certificate's issuer was found (see Observation.Listed and Freshness).
	SituationIssuerCRL Situation = iota + 1
	// SituationDeltaOnly: only a delta CRL of the issuer was found.
	SituationDeltaOnly
	// SituationNoSource: no distribution point and no configured CRL.
	SituationNoSource
	// SituationUnsupportedScheme: only distribution points we cannot fetch
	// (ldap://, ftp://, ...).
	SituationUnsupportedScheme
	// SituationUnreachable: the distribution point could not be read.
	SituationUnreachable
	// SituationMalformed: the distribution point served something that is
	// not a CRL.
	SituationMalformed
	// SituationIssuerMismatch: the CRL was issued by someone else.
	SituationIssuerMismatch
	// SituationBadSignature: the CRL names the issuer but its signature does
	// not verify with the issuer's key.
	SituationBadSignature
	// SituationBaseTooOld (only as Observation.DeltaProblem): the issuer's
	// delta CRL applies to a newer complete CRL than the one we hold.
	SituationBaseTooOld
)

func (s Situation) String() string {
	switch s {
	case SituationIssuerCRL:
		return "issuer_crl"
	case SituationDeltaOnly:
		return "delta_only"
	case SituationNoSource:
		return "no_source"
	case SituationUnsupportedScheme:
		return "unsupported_scheme"
	case SituationUnreachable:
		return "unreachable"
	case SituationMalformed:
		return "malformed"
	case SituationIssuerMismatch:
		return "issuer_mismatch"
	case SituationBadSignature:
		return "bad_signature"
	case SituationBaseTooOld:
		return "base_too_old"
	}
	return "situation(" + strconv.Itoa(int(s)) + ")"
}

// reason is the CRL condition a failure situation reports.
func (s Situation) reason() Reason {
	switch s {
	case SituationNoSource:
		return ReasonCRLNoSource
	case SituationUnsupportedScheme:
		return ReasonCRLUnsupportedScheme
	case SituationUnreachable:
		return ReasonCRLUnreachable
	case SituationMalformed:
		return ReasonCRLMalformed
	case SituationIssuerMismatch:
		return ReasonCRLIssuerMismatch
	case SituationBadSignature:
		return ReasonCRLBadSignature
	case SituationDeltaOnly:
		return ReasonCRLDeltaWithoutBase
	case SituationBaseTooOld:
		return ReasonCRLBaseTooOld
	}
	return ReasonOK
}

// Freshness places a CRL's validity window relative to now.
type Freshness uint8

const (
	// Current: thisUpdate <= now < nextUpdate (or no nextUpdate).
	Current Freshness = iota + 1
	// Expired: now >= nextUpdate.
	Expired
	// NotYetValid: now < thisUpdate.
	NotYetValid
)

func (f Freshness) String() string {
	switch f {
	case Current:
		return "current"
	case Expired:
		return "expired"
	case NotYetValid:
		return "not_yet_valid"
	}
	return "freshness(" + strconv.Itoa(int(f)) + ")"
}

// FreshnessAt places the window [thisUpdate, nextUpdate) relative to now. A
// zero nextUpdate (forbidden by RFC 5280 for conforming CAs, but seen) never
// expires.
func FreshnessAt(now, thisUpdate, nextUpdate time.Time) Freshness {
	switch {
	case now.Before(thisUpdate):
		return NotYetValid
	case !nextUpdate.IsZero() && !now.Before(nextUpdate):
		return Expired
	}
	return Current
}

// Observation is what the revocation check found for one certificate.
type Observation struct {
	Situation Situation
	// Listed: an issuer CRL (complete or delta) lists the certificate.
	// Only meaningful with SituationIssuerCRL and SituationDeltaOnly.
	Listed bool
	// Freshness of the issuer CRL used (of its delta CRL when one was
	// applied); only meaningful with SituationIssuerCRL.
	Freshness Freshness
	// DeltaProblem, when not zero, says why the delta CRL that the issuer
	// announces (Freshest CRL) could not be applied to the complete CRL:
	// unreachable, malformed, issuer mismatch, bad signature, unsupported
	// scheme, or base too old.
	DeltaProblem Situation
}

// Decide is the strong_crl_check table. "Listed" already accounts for a
// delta CRL (an entry there revokes; removeFromCRL there releases a hold
// of the complete CRL). It returns the outcome and the
// reason: on Reject the cause; on Accept ReasonOK or the CRL condition that
// the mode tolerated.
//
//	situation                   mode 0   mode 1                 mode 2
//	issuer CRL lists the cert   accept   reject revoked         reject revoked   (even if the CRL is expired or not yet valid)
//	issuer CRL, current         accept   accept ok              accept ok
//	issuer CRL, current, its
//	delta CRL not applicable    accept   accept <delta problem> reject <delta problem>
//	issuer CRL, expired         accept   accept crl_expired     reject crl_expired
//	issuer CRL, not yet valid   accept   accept crl_not_yet_…   reject crl_not_yet_valid
//	delta CRL only, not listed  accept   accept crl_delta_…     reject crl_delta_without_base
//	unreachable / malformed /
//	issuer mismatch / bad sig /
//	unsupported scheme /
//	no source                   accept   accept <condition>     reject <condition>
//
// Mode 0 reports ReasonOK without looking. An unknown mode is treated as 2:
// failing closed is the safe reading of a setting we do not understand.
func Decide(mode Mode, obs Observation) (Outcome, Reason) {
	if mode == ModeOff {
		return Accept, ReasonOK
	}
	var cond Reason
	switch obs.Situation {
	case SituationIssuerCRL, SituationDeltaOnly:
		if obs.Listed {
			return Reject, ReasonRevoked
		}
		if obs.Situation == SituationDeltaOnly {
			cond = ReasonCRLDeltaWithoutBase
			break
		}
		switch obs.Freshness {
		case Current:
			if obs.DeltaProblem == 0 {
				return Accept, ReasonOK
			}
			if cond = obs.DeltaProblem.reason(); cond == ReasonOK {
				cond = ReasonCRLMalformed
			}
		case NotYetValid:
			cond = ReasonCRLNotYetValid
		default:
			cond = ReasonCRLExpired
		}
	default:
		cond = obs.Situation.reason()
		if cond == ReasonOK {
			// An unknown situation is an error we cannot classify.
			cond = ReasonCRLMalformed
		}
	}
	if mode == ModeRevokedOnly {
		return Accept, cond
	}
	return Reject, cond
}
