package crl

import (
	"errors"

	"github.com/prometheus/client_golang/prometheus"
)

// FetchResult labels a CRL fetch in the metrics.
type FetchResult string

// The fetch results.
const (
	FetchOK          FetchResult = "ok"
	FetchTimeout     FetchResult = "timeout"
	FetchUnreachable FetchResult = "unreachable" // connection or read error
	FetchHTTPStatus  FetchResult = "http_status"
	FetchTooLarge    FetchResult = "too_large"
	FetchMalformed   FetchResult = "malformed"
)

func (r FetchResult) String() string { return string(r) }

// FetchSource labels where a CRL was read from.
type FetchSource string

// The sources.
const (
	SourceHTTP FetchSource = "http"
	SourceFile FetchSource = "file"
	SourceDisk FetchSource = "disk_cache"
)

func (s FetchSource) String() string { return string(s) }

// metrics are the package's counters; a nil *metrics records nothing.
type metrics struct {
	fetches    *prometheus.CounterVec // source, result
	checks     *prometheus.CounterVec // mode, outcome, reason
	nextUpdate *prometheus.GaugeVec   // url
}

// newMetrics registers the counters on reg. A second Checker on the same
// registry (a configuration reload) shares the first one's collectors.
func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	if reg == nil {
		return nil, nil
	}
	m := &metrics{
		fetches: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: "l2tpsecd", Subsystem: "crl",
			Name: "fetches_total", Help: "CRL reads by source (http, file, disk_cache) and result."}, []string{"source", "result"}),
		checks: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: "l2tpsecd", Subsystem: "crl",
			Name: "certificate_checks_total", Help: "Certificate verifications by strong_crl_check mode, outcome and reason."}, []string{"mode", "outcome", "reason"}),
		nextUpdate: prometheus.NewGaugeVec(prometheus.GaugeOpts{Namespace: "l2tpsecd", Subsystem: "crl",
			Name: "next_update_timestamp_seconds", Help: "nextUpdate of the newest CRL held per distribution point URL (alert when it nears)."}, []string{"url"}),
	}
	var err error
	m.fetches, err = register(reg, m.fetches)
	if err != nil {
		return nil, err
	}
	m.checks, err = register(reg, m.checks)
	if err != nil {
		return nil, err
	}
	m.nextUpdate, err = register(reg, m.nextUpdate)
	if err != nil {
		return nil, err
	}
	return m, nil
}

func register[C prometheus.Collector](reg prometheus.Registerer, c C) (C, error) {
	if err := reg.Register(c); err != nil {
		var are prometheus.AlreadyRegisteredError
		if errors.As(err, &are) {
			if existing, ok := are.ExistingCollector.(C); ok {
				return existing, nil
			}
		}
		var zero C
		return zero, err
	}
	return c, nil
}

func (m *metrics) fetch(src FetchSource, r FetchResult) {
	if m != nil {
		m.fetches.WithLabelValues(string(src), string(r)).Inc()
	}
}

func (m *metrics) check(mode Mode, o Outcome, r Reason) {
	if m != nil {
		m.checks.WithLabelValues(mode.String(), o.String(), string(r)).Inc()
	}
}

func (m *metrics) held(url string, c *CRL) {
	if m != nil && !c.List.NextUpdate.IsZero() {
		m.nextUpdate.WithLabelValues(url).Set(float64(c.List.NextUpdate.Unix()))
	}
}
