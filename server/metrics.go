package server

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// Metrics are the daemon's Prometheus collectors, registered on a registry
// the caller gives (no globals). Names follow the Prometheus conventions:
// l2tpsecd_ prefix, _total for counters, base units; no per-session labels.
type Metrics struct {
	Info          *prometheus.GaugeVec
	Ready         prometheus.Gauge
	ConfigReloads *prometheus.CounterVec
	AuditDropped  prometheus.Counter
}

// NewMetrics creates the collectors and registers them on reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		Info: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "l2tpsecd_build_info", Help: "Build information; the value is always 1.",
		}, []string{"version"}),
		Ready: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "l2tpsecd_ready", Help: "1 when the concentrator accepts clients.",
		}),
		ConfigReloads: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "l2tpsecd_config_reloads_total", Help: "Configuration reloads by result.",
		}, []string{"result"}),
		AuditDropped: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "l2tpsecd_audit_events_dropped_total", Help: "Audit events lost because the audit queue was full.",
		}),
	}
	reg.MustRegister(m.Info, m.Ready, m.ConfigReloads, m.AuditDropped,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}
