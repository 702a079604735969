package crl

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"math/big"
	"net/http"
	"path/filepath"
	"sync"
	"time"

	"github.com/l2tpsecd/l2tpsecd/internal/clock"
	"github.com/prometheus/client_golang/prometheus"
)

// Defaults for Config.
const (
	DefaultFetchTimeout = 5 * time.Second
	DefaultMaxCRLSize   = 10 << 20
	DefaultRetryBackoff = time.Minute
	DefaultIdleTimeout  = 24 * time.Hour
)

// maxDPsPerCert bounds the distribution points read per certificate: the
// URLs come from certificates, and a chain has few certificates.
const maxDPsPerCert = 4

// maxSentIntermediates bounds the CA certificates a peer may send, and
// maxChains the chains checked for revocation (cross-signed CAs can make
// several).
const (
	maxSentIntermediates = 8
	maxChains            = 4
)

// Config configures a Checker.
type Config struct {
	// Mode is strong_crl_check. The zero value is mode 0 (no revocation
	// check), as in Windows; l2tpsecd's configuration defaults to 1
	// (DefaultMode).
	Mode Mode
	// Roots are the trusted CAs (at least one).
	Roots []*x509.Certificate
	// Intermediates are CA certificates the server knows, used to build
	// chains for peers that send only their own certificate.
	Intermediates []*x509.Certificate
	// CRLFiles are CRL files (PEM or DER) read at construction; each is used
	// for the certificates of its issuer. They are not refreshed: a new
	// Checker (a configuration reload) reads them again.
	CRLFiles []string
	// CRLs are CRLs already parsed, used like CRLFiles.
	CRLs []*CRL
	// StateDir, when set, holds the disk cache in StateDir/crl.
	StateDir string
	// FetchTimeout bounds one CRL read (DefaultFetchTimeout when zero).
	FetchTimeout time.Duration
	// MaxCRLSize bounds one CRL's size in bytes (DefaultMaxCRLSize when
	// zero).
	MaxCRLSize int64
	// RefreshLead, when positive, refreshes a CRL this long before its
	// nextUpdate; when zero, at 80% of its validity.
	RefreshLead time.Duration
	// RetryBackoff is how long a failed read is not repeated
	// (DefaultRetryBackoff when zero); meanwhile the URL counts as
	// unreachable at once.
	RetryBackoff time.Duration
	// IdleTimeout stops background refreshes of a CRL nobody used for this
	// long (DefaultIdleTimeout when zero).
	IdleTimeout time.Duration
	// HTTPClient reads http(s) distribution points. When nil, a client with
	// its own transport, no proxy and at most 3 redirects is used. The
	// timeout is FetchTimeout on Clock either way.
	HTTPClient *http.Client
	// Clock tells the time for certificate and CRL validity and runs the
	// fetch timeout and refresh timers (clock.Real{} when nil).
	Clock clock.Clock
	// Logger receives fetch failures (discarded when nil).
	Logger *slog.Logger
	// Registerer receives the metrics (none when nil).
	Registerer prometheus.Registerer
	// OnResult, when set, is called with every verification's result,
	// accepted or not, so the audit log can record the reason and mode even
	// when the caller (VerifyChain) only passes an error on. It runs in the
	// verifying goroutine and must not block.
	OnResult func(*Result)
	// OnFetch, when set, is called after every read of a distribution
	// point (network or file), successful or not, for the audit log. It
	// runs in the fetching goroutine and must not block.
	OnFetch func(FetchEvent)
}

// Checker verifies peer certificates. It is safe for concurrent use.
type Checker struct {
	mode   Mode
	roots  *x509.CertPool
	rootCs []*x509.Certificate
	inter  []*x509.Certificate
	crls   []*CRL
	clock  clock.Clock
	m      *metrics
	f      *fetcher
	hook   func(*Result)

	closeOnce sync.Once
}

// New builds a Checker. It fails when the mode is not 0, 1 or 2, no root
// is given, or a CRL file cannot be read.
func New(cfg Config) (*Checker, error) {
	if !cfg.Mode.Valid() {
		return nil, fmt.Errorf("%w (got %d)", ErrBadMode, cfg.Mode)
	}
	if len(cfg.Roots) == 0 {
		return nil, ErrNoRoots
	}
	c := &Checker{mode: cfg.Mode, roots: x509.NewCertPool(), clock: cfg.Clock, hook: cfg.OnResult}
	if c.clock == nil {
		c.clock = clock.Real{}
	}
	for _, r := range cfg.Roots {
		c.roots.AddCert(r)
		c.rootCs = append(c.rootCs, r)
	}
	c.inter = append(c.inter, cfg.Intermediates...)
	c.crls = append(c.crls, cfg.CRLs...)
	for _, p := range cfg.CRLFiles {
		crl, err := ParseCRLFile(p)
		if err != nil {
			return nil, err
		}
		c.crls = append(c.crls, crl)
	}
	var err error
	if c.m, err = newMetrics(cfg.Registerer); err != nil {
		return nil, fmt.Errorf("crl: metrics: %w", err)
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	client := cfg.HTTPClient
	if client == nil {
		client = &http.Client{
			// FetchTimeout runs on Clock; this wall-clock bound is only a
			// safety net for a fake clock that nobody advances (a refresh
			// runs inside Fake.Advance).
			Timeout:   2*orDefault(cfg.FetchTimeout, DefaultFetchTimeout) + time.Second,
			Transport: &http.Transport{MaxIdleConnsPerHost: 2, IdleConnTimeout: 90 * time.Second},
			CheckRedirect: func(req *http.Request, via []*http.Request) error {
				if len(via) >= 3 {
					return errors.New("crl: too many redirects")
				}
				if req.URL.Scheme != "http" && req.URL.Scheme != "https" {
					return fmt.Errorf("%w: redirect to %s", ErrUnsupportedScheme, req.URL)
				}
				return nil
			},
		}
	}
	f := &fetcher{
		timeout:     orDefault(cfg.FetchTimeout, DefaultFetchTimeout),
		maxSize:     cfg.MaxCRLSize,
		refreshLead: cfg.RefreshLead,
		backoff:     orDefault(cfg.RetryBackoff, DefaultRetryBackoff),
		idle:        orDefault(cfg.IdleTimeout, DefaultIdleTimeout),
		client:      client,
		clock:       c.clock,
		log:         log,
		m:           c.m,
		onFetch:     cfg.OnFetch,
		entries:     make(map[string]*entry),
	}
	if f.maxSize <= 0 {
		f.maxSize = DefaultMaxCRLSize
	}
	if cfg.StateDir != "" {
		f.dir = filepath.Join(cfg.StateDir, "crl")
	}
	f.base, f.stopBase = context.WithCancel(context.Background())
	c.f = f
	return c, nil
}

func orDefault(d, def time.Duration) time.Duration {
	if d > 0 {
		return d
	}
	return def
}

// Close stops background refreshes and reads in progress.
func (c *Checker) Close() error {
	c.closeOnce.Do(c.f.close)
	return nil
}

// CRLs describes the distribution points read so far (sorted by URL), for
// the control socket: the CRL held, when it was read, and the last error.
func (c *Checker) CRLs() []CRLStatus { return c.f.status() }

// Mode returns the strong_crl_check mode applied.
func (c *Checker) Mode() Mode { return c.mode }

// CASubjects returns the DER subject names of the trusted roots, for the
// CERTREQ payloads the IKE responder sends (RFC 4945 3.2.4).
func (c *Checker) CASubjects() [][]byte {
	out := make([][]byte, len(c.rootCs))
	for i, r := range c.rootCs {
		out[i] = r.RawSubject
	}
	return out
}

// Revocation describes a revoked certificate, from its CRL entry.
type Revocation struct {
	Subject    string
	Serial     *big.Int
	Time       time.Time
	ReasonCode RevocationReason
	// CRL names the CRL that lists it (URL or file).
	CRL string
	// CRLFreshness says whether that CRL was current (revocation counts
	// either way).
	CRLFreshness Freshness
}

// CertCheck is the revocation check of one certificate of the chain.
type CertCheck struct {
	Subject     string
	Serial      *big.Int
	Observation Observation
	Outcome     Outcome
	Reason      Reason
	// CRL names the issuer's complete CRL used (URL or file), if one was
	// found, and DeltaCRL the delta CRL applied to it, if any.
	CRL                    string
	ThisUpdate, NextUpdate time.Time
	DeltaCRL               string
	// Problems lists what went wrong per source (fetch errors, CRLs of
	// other issuers), for the log.
	Problems   []string
	Revocation *Revocation
}

// Result is the verdict on a peer certificate.
type Result struct {
	Mode    Mode
	Outcome Outcome
	// Reason is why the certificate was refused, or on acceptance ReasonOK
	// or the CRL condition mode 1 tolerated (e.g. crl_unreachable).
	Reason Reason
	// Detail is a human-readable elaboration.
	Detail string
	Leaf   *x509.Certificate
	// Chain is the verified chain, leaf first and root last; nil when no
	// chain could be built.
	Chain []*x509.Certificate
	// Checks has one entry per chain certificate except the root, leaf
	// first (empty in mode 0 and when the chain failed).
	Checks []CertCheck
	// Revocation is set when Reason is ReasonRevoked.
	Revocation *Revocation
}

// LogValue renders the result for the audit log.
func (r *Result) LogValue() slog.Value {
	attrs := []slog.Attr{
		slog.String("outcome", r.Outcome.String()),
		slog.String("reason", string(r.Reason)),
		slog.String("strong_crl_check", r.Mode.String()),
	}
	if r.Leaf != nil {
		attrs = append(attrs, slog.String("subject", r.Leaf.Subject.String()),
			slog.String("serial", r.Leaf.SerialNumber.String()),
			slog.String("issuer", r.Leaf.Issuer.String()))
	}
	if r.Detail != "" {
		attrs = append(attrs, slog.String("detail", r.Detail))
	}
	if rv := r.Revocation; rv != nil {
		attrs = append(attrs, slog.Group("revocation",
			slog.String("subject", rv.Subject),
			slog.String("serial", rv.Serial.String()),
			slog.Time("date", rv.Time),
			slog.String("reason_code", rv.ReasonCode.String()),
			slog.String("crl", rv.CRL),
			slog.String("crl_freshness", rv.CRLFreshness.String())))
	}
	return slog.GroupValue(attrs...)
}

// Verify checks leaf, with the intermediates the peer sent, against the
// trusted roots at the clock's time, then checks every certificate of the
// chain except the root for revocation according to the mode. The Result
// is never nil; the error is a *RejectError when the outcome is Reject.
//
// Chain options: crypto/x509 path validation (signatures, validity, basic
// and name constraints, path length) with KeyUsages = ExtKeyUsageAny,
// because Windows user certificates may carry only clientAuth or no EKU at
// all (RFC 4945 5.1.3.12: do not require an EKU); the key usage bits, when
// present, must allow digitalSignature or nonRepudiation (RFC 4945
// 5.1.3.2). When crypto/x509 finds several chains, the first one that
// passes the revocation check is used.
//
// ctx bounds the wait for CRL reads; each read is bounded by FetchTimeout
// anyway and shared with concurrent verifications.
func (c *Checker) Verify(ctx context.Context, leaf *x509.Certificate, intermediates []*x509.Certificate) (*Result, error) {
	res := c.verify(ctx, leaf, intermediates)
	c.m.check(res.Mode, res.Outcome, res.Reason)
	if c.hook != nil {
		c.hook(res)
	}
	if res.Outcome == Reject {
		return res, &RejectError{Reason: res.Reason, Mode: res.Mode, Detail: res.Detail}
	}
	return res, nil
}

// VerifyChain is Verify for callers that need only the verdict; it
// satisfies the IKE engine's CertVerifier interface. The error is a
// *RejectError (errors.As gives the reason and mode) when the certificate
// is refused. Use Config.OnResult to audit accepted certificates too.
func (c *Checker) VerifyChain(ctx context.Context, leaf *x509.Certificate, intermediates []*x509.Certificate) error {
	_, err := c.Verify(ctx, leaf, intermediates)
	return err
}

func (c *Checker) verify(ctx context.Context, leaf *x509.Certificate, intermediates []*x509.Certificate) *Result {
	res := &Result{Mode: c.mode, Leaf: leaf}
	reject := func(r Reason, detail string) *Result {
		res.Outcome, res.Reason, res.Detail = Reject, r, detail
		return res
	}
	if leaf == nil {
		return reject(ReasonNoCertificate, "the peer sent no certificate")
	}
	now := c.clock.Now()
	pool := x509.NewCertPool()
	for _, ic := range c.inter {
		pool.AddCert(ic)
	}
	if len(intermediates) > maxSentIntermediates {
		intermediates = intermediates[:maxSentIntermediates]
	}
	for _, ic := range intermediates {
		if ic != nil {
			pool.AddCert(ic)
		}
	}
	chains, err := leaf.Verify(x509.VerifyOptions{
		Roots:         c.roots,
		Intermediates: pool,
		CurrentTime:   now,
		KeyUsages:     []x509.ExtKeyUsage{x509.ExtKeyUsageAny},
	})
	if err != nil {
		r, detail := c.classifyChainError(err, leaf, intermediates, now)
		return reject(r, detail)
	}
	if leaf.KeyUsage != 0 && leaf.KeyUsage&(x509.KeyUsageDigitalSignature|x509.KeyUsageContentCommitment) == 0 {
		res.Chain = chains[0]
		return reject(ReasonCertInvalid, "key usage allows neither digitalSignature nor nonRepudiation")
	}
	if c.mode == ModeOff {
		res.Chain, res.Outcome, res.Reason = chains[0], Accept, ReasonOK
		return res
	}
	if len(chains) > maxChains {
		chains = chains[:maxChains]
	}
	var first *Result
	for _, chain := range chains {
		r := c.checkChain(ctx, leaf, chain, now)
		if r.Outcome == Accept {
			return r
		}
		if first == nil {
			first = r
		}
	}
	return first
}

// classifyChainError maps a crypto/x509 verification error to a reason.
func (c *Checker) classifyChainError(err error, leaf *x509.Certificate, sent []*x509.Certificate, now time.Time) (Reason, string) {
	var inv x509.CertificateInvalidError
	if errors.As(err, &inv) {
		if inv.Reason == x509.Expired {
			bad := inv.Cert
			if bad == nil {
				bad = leaf
			}
			if now.Before(bad.NotBefore) {
				return ReasonCertNotYetValid, fmt.Sprintf("%q is valid from %s", bad.Subject, bad.NotBefore.UTC().Format(time.RFC3339))
			}
			return ReasonCertExpired, fmt.Sprintf("%q expired at %s", bad.Subject, bad.NotAfter.UTC().Format(time.RFC3339))
		}
		return ReasonCertInvalid, err.Error()
	}
	var ua x509.UnknownAuthorityError
	if errors.As(err, &ua) {
		// crypto/x509 reports a forged signature as an unknown authority;
		// tell it apart when CAs of the right name are known and none of
		// their keys signed the leaf. (If one did, the trouble is further
		// up: untrusted.)
		cands := c.candidates(leaf, sent)
		signed := false
		for _, cand := range cands {
			if leaf.CheckSignatureFrom(cand) == nil {
				signed = true
				break
			}
		}
		if len(cands) > 0 && !signed {
			return ReasonCertBadSignature, fmt.Sprintf("%q is not signed by the key of %q", leaf.Subject, cands[0].Subject)
		}
		return ReasonUntrustedIssuer, fmt.Sprintf("issuer %q of %q is not a trusted CA and no chain leads to one", leaf.Issuer, leaf.Subject)
	}
	return ReasonCertInvalid, err.Error()
}

// candidates are known CA certificates named as leaf's issuer.
func (c *Checker) candidates(leaf *x509.Certificate, sent []*x509.Certificate) []*x509.Certificate {
	var out []*x509.Certificate
	for _, group := range [][]*x509.Certificate{c.rootCs, c.inter, sent} {
		for _, ca := range group {
			if ca != nil && ca.IsCA && ca.BasicConstraintsValid &&
				sameName(ca.RawSubject, leaf.RawIssuer, ca.Subject.String(), leaf.Issuer.String()) {
				out = append(out, ca)
			}
		}
	}
	return out
}
