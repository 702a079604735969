package ike

import (
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"
)

// Metrics are the engine's Prometheus counters. A nil *Metrics records
// nothing; NewMetrics registers them with reg.
type Metrics struct {
	Phase1      *prometheus.CounterVec // result, reason
	Phase2      *prometheus.CounterVec // result, reason
	Dropped     *prometheus.CounterVec // reason
	DH          prometheus.Counter
	Retransmits prometheus.Counter
	IKESAs      prometheus.Gauge
	ChildSAs    prometheus.Gauge
	// Phase1Seconds is the time from message 1 to an established IKE SA.
	Phase1Seconds prometheus.Histogram
}

// NewMetrics creates the engine metrics and registers them with reg (when
// not nil).
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		Phase1: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: "l2tpsecd", Subsystem: "ike",
			Name: "phase1_total", Help: "IKE phase-1 negotiations by result and reason."}, []string{"result", "reason"}),
		Phase2: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: "l2tpsecd", Subsystem: "ike",
			Name: "phase2_total", Help: "IKE Quick Mode negotiations by result and reason."}, []string{"result", "reason"}),
		Dropped: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: "l2tpsecd", Subsystem: "ike",
			Name: "dropped_packets_total", Help: "IKE packets dropped, by reason."}, []string{"reason"}),
		DH: prometheus.NewCounter(prometheus.CounterOpts{Namespace: "l2tpsecd", Subsystem: "ike",
			Name: "dh_computations_total", Help: "Diffie-Hellman shared secrets computed."}),
		Retransmits: prometheus.NewCounter(prometheus.CounterOpts{Namespace: "l2tpsecd", Subsystem: "ike",
			Name: "retransmits_answered_total", Help: "Retransmitted requests answered from the last reply."}),
		IKESAs: prometheus.NewGauge(prometheus.GaugeOpts{Namespace: "l2tpsecd", Subsystem: "ike",
			Name: "ike_sas", Help: "IKE SAs (half-open and established)."}),
		ChildSAs: prometheus.NewGauge(prometheus.GaugeOpts{Namespace: "l2tpsecd", Subsystem: "ike",
			Name: "child_sas", Help: "Established Quick Mode SA pairs."}),
		Phase1Seconds: prometheus.NewHistogram(prometheus.HistogramOpts{Namespace: "l2tpsecd", Subsystem: "ike",
			Name: "phase1_duration_seconds", Help: "Time from Main Mode message 1 to an established IKE SA.",
			Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10}}),
	}
	if reg != nil {
		reg.MustRegister(m.Phase1, m.Phase2, m.Dropped, m.DH, m.Retransmits, m.IKESAs, m.ChildSAs, m.Phase1Seconds)
	}
	return m
}

// Stats are plain counters the engine keeps whether or not Metrics are
// configured (tests and the control socket read them).
type Stats struct {
	DHComputations      atomic.Uint64
	RetransmitsAnswered atomic.Uint64
	Dropped             atomic.Uint64
	Phase1OK            atomic.Uint64
	Phase2OK            atomic.Uint64
}

func (e *Engine) countDrop(reason string) {
	e.stats.Dropped.Add(1)
	if e.metrics != nil {
		e.metrics.Dropped.WithLabelValues(reason).Inc()
	}
}

func (e *Engine) countDH() {
	e.stats.DHComputations.Add(1)
	if e.metrics != nil {
		e.metrics.DH.Inc()
	}
}

func (e *Engine) countRetransmit() {
	e.stats.RetransmitsAnswered.Add(1)
	if e.metrics != nil {
		e.metrics.Retransmits.Inc()
	}
}

func (e *Engine) countPhase(phase2 bool, ok bool, r Reason) {
	if ok {
		if phase2 {
			e.stats.Phase2OK.Add(1)
		} else {
			e.stats.Phase1OK.Add(1)
		}
	}
	if e.metrics == nil {
		return
	}
	res := "success"
	if !ok {
		res = "failure"
	}
	v := e.metrics.Phase1
	if phase2 {
		v = e.metrics.Phase2
	}
	v.WithLabelValues(res, r.String()).Inc()
}
