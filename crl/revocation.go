package crl

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"
)

// checkChain checks chain[0..n-2] for revocation. All URLs known up front
// (distribution points and the certificates' Freshest CRL pointers) are
// read in parallel, then the delta CRLs announced by the complete CRLs just
// read (usually cached), so a verification waits for at most two fetch
// timeouts, and one in the common case.
func (c *Checker) checkChain(ctx context.Context, leaf *x509.Certificate, chain []*x509.Certificate, now time.Time) *Result {
	res := &Result{Mode: c.mode, Leaf: leaf, Chain: chain, Outcome: Accept, Reason: ReasonOK}
	n := len(chain) - 1
	var urls []string
	for i := 0; i < n; i++ {
		urls = append(urls, limit(chain[i].CRLDistributionPoints)...)
		urls = append(urls, limit(certDeltaURLs(chain[i]))...)
	}
	got := c.fetchMany(ctx, urls, nil)
	var more []string
	for i := 0; i < n; i++ {
		col := c.collect(chain[i], chain[i+1], limit(chain[i].CRLDistributionPoints), true, got)
		for _, g := range col.good {
			more = append(more, limit(g.crl.DeltaURLs)...)
		}
	}
	got = c.fetchMany(ctx, more, got)

	for i := 0; i < n; i++ {
		cc := c.checkCert(chain[i], chain[i+1], got, now)
		res.Checks = append(res.Checks, cc)
		if res.Outcome == Reject {
			continue
		}
		switch {
		case cc.Outcome == Reject:
			res.Outcome, res.Reason = Reject, cc.Reason
			res.Detail = describe(cc)
			res.Revocation = cc.Revocation
		case cc.Reason != ReasonOK && res.Reason == ReasonOK:
			res.Reason = cc.Reason
			res.Detail = describe(cc)
		}
	}
	return res
}

func describe(cc CertCheck) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%q (serial %s): %s", cc.Subject, cc.Serial, cc.Reason)
	if rv := cc.Revocation; rv != nil {
		fmt.Fprintf(&b, " on %s, reason %s, by %s", rv.Time.UTC().Format(time.RFC3339), rv.ReasonCode, rv.CRL)
	} else if cc.CRL != "" {
		fmt.Fprintf(&b, " (CRL %s, thisUpdate %s, nextUpdate %s", cc.CRL,
			cc.ThisUpdate.UTC().Format(time.RFC3339), cc.NextUpdate.UTC().Format(time.RFC3339))
		if cc.DeltaCRL != "" {
			fmt.Fprintf(&b, ", delta %s", cc.DeltaCRL)
		}
		b.WriteString(")")
	}
	if len(cc.Problems) > 0 {
		b.WriteString("; ")
		b.WriteString(strings.Join(cc.Problems, "; "))
	}
	return b.String()
}

// limit bounds the URLs read per certificate or CRL: they come from
// certificates and CRLs, which list few.
func limit(urls []string) []string {
	if len(urls) > maxDPsPerCert {
		return urls[:maxDPsPerCert]
	}
	return urls
}

// fetchMany reads the URLs not yet in got, in parallel, and adds them.
func (c *Checker) fetchMany(ctx context.Context, urls []string, got map[string]fetched) map[string]fetched {
	if got == nil {
		got = make(map[string]fetched, len(urls))
	}
	var todo []string
	seen := make(map[string]bool)
	for _, u := range urls {
		if _, done := got[u]; !done && !seen[u] {
			seen[u] = true
			todo = append(todo, u)
		}
	}
	if len(todo) == 1 {
		got[todo[0]] = c.f.get(ctx, todo[0])
		return got
	}
	var mu sync.Mutex
	var wg sync.WaitGroup
	for _, u := range todo {
		wg.Go(func() {
			r := c.f.get(ctx, u)
			mu.Lock()
			got[u] = r
			mu.Unlock()
		})
	}
	wg.Wait()
	return got
}

// candidate is one CRL of the certificate's issuer.
type candidate struct {
	crl *CRL
	sit Situation // SituationIssuerCRL or SituationDeltaOnly
}

// collected is what a set of sources yielded for one certificate.
type collected struct {
	good     []candidate
	worst    Situation // the most telling failure, SituationNoSource if none
	problems []string
}

// failureRank orders failure situations: the most telling is reported.
var failureRank = map[Situation]int{
	SituationBadSignature:      6,
	SituationIssuerMismatch:    5,
	SituationMalformed:         4,
	SituationUnreachable:       3,
	SituationUnsupportedScheme: 2,
	SituationNoSource:          1,
}

func (col *collected) fail(s Situation, problem string) {
	if failureRank[s] > failureRank[col.worst] {
		col.worst = s
	}
	col.problems = append(col.problems, problem)
}

// collect classifies the CRLs of urls (and, with configured, the
// configured CRLs of cert's issuer) against issuer.
func (c *Checker) collect(cert, issuer *x509.Certificate, urls []string, configured bool, got map[string]fetched) collected {
	col := collected{worst: SituationNoSource}
	consider := func(crl *CRL) bool {
		switch s := crl.IssuedBy(issuer); s {
		case SituationIssuerCRL, SituationDeltaOnly:
			col.good = append(col.good, candidate{crl, s})
			return true
		case SituationIssuerMismatch:
			col.fail(s, fmt.Sprintf("%s: issued by %q, not %q", crl.Source, crl.List.Issuer, issuer.Subject))
		default:
			col.fail(s, fmt.Sprintf("%s: signature does not verify with the key of %q", crl.Source, issuer.Subject))
		}
		return false
	}
	if configured {
		for _, crl := range c.crls {
			// Configured CRLs of other issuers are simply not this
			// certificate's.
			if sameName(crl.List.RawIssuer, cert.RawIssuer, crl.List.Issuer.String(), cert.Issuer.String()) {
				consider(crl)
			}
		}
	}
	for _, u := range urls {
		r, ok := got[u]
		if !ok {
			continue
		}
		// The newest CRL of the URL decides; the previous one (that had
		// verified) only stands in when the newest is not the issuer's, so
		// a forged or misplaced replacement cannot hide a revocation.
		for _, crl := range r.crls {
			if consider(crl) {
				break
			}
		}
		if r.err != nil && len(r.crls) == 0 {
			switch {
			case errors.Is(r.err, ErrUnsupportedScheme):
				col.fail(SituationUnsupportedScheme, r.err.Error())
			case errors.Is(r.err, ErrNotCRL):
				col.fail(SituationMalformed, r.err.Error())
			default:
				col.fail(SituationUnreachable, r.err.Error())
			}
		} else if r.err != nil {
			col.problems = append(col.problems, "refresh failed, using the cached CRL: "+r.err.Error())
		}
	}
	return col
}

// checkCert finds cert's status in its issuer's CRLs and applies Decide.
//
// The complete CRL used is the current one, else the newest. A listing in
// any complete CRL of the issuer revokes (revocation is final), unless the
// applied delta CRL removes the entry (removeFromCRL: a released hold). The
// delta CRL applied is the newest one of the issuer, from the URLs of the
// certificate's or the complete CRL's Freshest CRL extension, whose base
// CRL number is not above the complete CRL's number (RFC 5280 5.2.4); its
// entries revoke, and its validity window decides freshness.
func (c *Checker) checkCert(cert, issuer *x509.Certificate, got map[string]fetched, now time.Time) CertCheck {
	cc := CertCheck{Subject: cert.Subject.String(), Serial: cert.SerialNumber}
	col := c.collect(cert, issuer, limit(cert.CRLDistributionPoints), true, got)
	cc.Problems = col.problems

	var completes, deltas []*CRL
	for _, g := range col.good {
		if g.sit == SituationIssuerCRL {
			completes = append(completes, g.crl)
		} else {
			deltas = append(deltas, g.crl)
		}
	}
	base := best(completes, now)
	obs := Observation{Situation: col.worst}
	revokedBy := func(crl *CRL) {
		e, _ := crl.lookupEntry(cert.SerialNumber)
		cc.Revocation = &Revocation{
			Subject: cc.Subject, Serial: cert.SerialNumber, Time: e.RevocationTime,
			ReasonCode: RevocationReason(e.ReasonCode), CRL: crl.Source,
			CRLFreshness: freshness(crl, now),
		}
	}

	switch {
	case base == nil && len(deltas) > 0:
		// A delta where a complete CRL was expected: it can prove a
		// revocation, nothing more.
		obs = Observation{Situation: SituationDeltaOnly}
		for _, d := range deltas {
			if _, ok := d.Lookup(cert.SerialNumber); ok {
				obs.Listed = true
				revokedBy(d)
				break
			}
		}
	case base != nil:
		obs = Observation{Situation: SituationIssuerCRL, Freshness: freshness(base, now)}
		cc.CRL = base.Source
		cc.ThisUpdate, cc.NextUpdate = base.List.ThisUpdate, base.List.NextUpdate

		// The delta CRL, if the issuer publishes one.
		deltaURLs := append(limit(certDeltaURLs(cert)), limit(base.DeltaURLs)...)
		var delta *CRL
		if len(deltaURLs) > 0 || len(deltas) > 0 {
			dcol := c.collect(cert, issuer, deltaURLs, false, got)
			var cands []*CRL
			for _, g := range dcol.good {
				if g.sit == SituationDeltaOnly {
					cands = append(cands, g.crl)
				}
			}
			cands = append(cands, deltas...)
			tooOld := false
			for _, d := range cands {
				if base.List.Number == nil || d.BaseNumber == nil || d.BaseNumber.Cmp(base.List.Number) > 0 {
					tooOld = true
					continue
				}
				if delta == nil || newer(d, delta) {
					delta = d
				}
			}
			switch {
			case delta != nil:
				cc.DeltaCRL = delta.Source
				obs.Freshness = freshness(delta, now)
			case tooOld:
				obs.DeltaProblem = SituationBaseTooOld
				cc.Problems = append(cc.Problems, fmt.Sprintf("delta CRL needs a complete CRL newer than number %v of %s", base.List.Number, base.Source))
			case len(deltaURLs) > 0:
				obs.DeltaProblem = dcol.worst
				if obs.DeltaProblem == SituationNoSource {
					obs.DeltaProblem = SituationMalformed // a complete CRL where the delta was announced
				}
				cc.Problems = append(cc.Problems, dcol.problems...)
			}
		}

		// Listed: in the delta (unless removeFromCRL), else in any
		// complete CRL of the issuer.
		released := false
		if delta != nil {
			if e, ok := delta.lookupEntry(cert.SerialNumber); ok {
				if RevocationReason(e.ReasonCode) == ReasonCodeRemoveFromCRL {
					released = true
				} else {
					obs.Listed = true
					revokedBy(delta)
				}
			}
		}
		if !obs.Listed && !released {
			for _, crl := range append([]*CRL{base}, completes...) {
				if _, ok := crl.Lookup(cert.SerialNumber); ok {
					obs.Listed = true
					revokedBy(crl)
					break
				}
			}
		}
	}
	cc.Observation = obs
	cc.Outcome, cc.Reason = Decide(c.mode, obs)
	if cc.Reason != ReasonRevoked {
		cc.Revocation = nil
	}
	return cc
}

// best is the current CRL if any (the newest of them), else the newest.
func best(crls []*CRL, now time.Time) *CRL {
	var b *CRL
	for _, c := range crls {
		switch {
		case b == nil:
			b = c
		case (freshness(c, now) == Current) != (freshness(b, now) == Current):
			if freshness(c, now) == Current {
				b = c
			}
		case newer(c, b):
			b = c
		}
	}
	return b
}

// newer orders CRLs of one issuer by CRL number, else by thisUpdate.
func newer(a, b *CRL) bool {
	if a.List.Number != nil && b.List.Number != nil {
		if d := a.List.Number.Cmp(b.List.Number); d != 0 {
			return d > 0
		}
	}
	return a.List.ThisUpdate.After(b.List.ThisUpdate)
}

func freshness(c *CRL, now time.Time) Freshness {
	return FreshnessAt(now, c.List.ThisUpdate, c.List.NextUpdate)
}
