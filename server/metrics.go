package server

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/l2tpsecd/l2tpsecd/esp"
)

// Metrics are the daemon's own Prometheus collectors, registered on a
// registry the caller gives (no globals). The protocol packages register
// theirs (l2tpsecd_ike_*, l2tpsecd_l2tp_*, l2tpsecd_pool_*) on the same
// registry. Names follow the Prometheus conventions: l2tpsecd_ prefix,
// _total for counters, base units; never a per-session label.
type Metrics struct {
	Info            *prometheus.GaugeVec
	Ready           prometheus.Gauge
	ConfigReloads   *prometheus.CounterVec
	AuditDropped    prometheus.Counter
	SessionsUp      prometheus.Gauge
	SessionsEnded   *prometheus.CounterVec
	Auth            *prometheus.CounterVec
	AddressFailures *prometheus.CounterVec
	Drops           *prometheus.CounterVec
	DPDTimeouts     prometheus.Counter
	SetupSeconds    prometheus.Histogram
	Workers         prometheus.Gauge
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
		SessionsUp: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "l2tpsecd_sessions", Help: "Sessions with IPCP up (users connected with an address).",
		}),
		SessionsEnded: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "l2tpsecd_sessions_ended_total", Help: "Sessions ended, by cause.",
		}, []string{"cause"}),
		Auth: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "l2tpsecd_user_authentications_total", Help: "PPP user authentications by method and result.",
		}, []string{"method", "result"}),
		AddressFailures: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "l2tpsecd_address_failures_total", Help: "Addresses that could not be given to an authenticated user, by reason.",
		}, []string{"reason"}),
		Drops: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "l2tpsecd_server_drops_total", Help: "Packets dropped between the layers, by reason.",
		}, []string{"reason"}),
		DPDTimeouts: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "l2tpsecd_dpd_timeouts_total", Help: "Peers declared dead by dead peer detection.",
		}),
		SetupSeconds: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "l2tpsecd_session_setup_seconds", Help: "Time from the first IKE message to IPCP up.",
			Buckets: []float64{.05, .1, .25, .5, 1, 2, 5, 10, 30},
		}),
		Workers: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "l2tpsecd_datapath_workers", Help: "Datapath worker goroutines.",
		}),
	}
	reg.MustRegister(m.Info, m.Ready, m.ConfigReloads, m.AuditDropped, m.SessionsUp, m.SessionsEnded, m.Auth,
		m.AddressFailures, m.Drops, m.DPDTimeouts, m.SetupSeconds, m.Workers,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// datapathCollector exposes the datapath's counters, read at scrape time.
type datapathCollector struct {
	dp                 func() esp.DatapathStats
	packets, bytes     *prometheus.Desc
	drops, ike, errors *prometheus.Desc
	keepalives, moves  *prometheus.Desc
}

func newDatapathCollector(dp func() esp.DatapathStats) *datapathCollector {
	return &datapathCollector{
		dp:         dp,
		packets:    prometheus.NewDesc("l2tpsecd_esp_packets_total", "Authenticated ESP packets by direction and encapsulation (udp: NAT-T on UDP/4500, raw: IP protocol 50).", []string{"direction", "encap"}, nil),
		bytes:      prometheus.NewDesc("l2tpsecd_esp_bytes_total", "ESP payload bytes by direction.", []string{"direction"}, nil),
		drops:      prometheus.NewDesc("l2tpsecd_esp_drops_total", "ESP packets dropped, by reason.", []string{"reason"}, nil),
		ike:        prometheus.NewDesc("l2tpsecd_natt_ike_packets_total", "IKE packets on the NAT-T port, by direction or drop.", []string{"direction"}, nil),
		errors:     prometheus.NewDesc("l2tpsecd_esp_send_errors_total", "ESP packets the socket refused.", nil, nil),
		keepalives: prometheus.NewDesc("l2tpsecd_natt_keepalives_total", "NAT-T keepalives by direction.", []string{"direction"}, nil),
		moves:      prometheus.NewDesc("l2tpsecd_esp_peer_moves_total", "NAT rebindings followed.", nil, nil),
	}
}

func (c *datapathCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.packets, c.bytes, c.drops, c.ike, c.errors, c.keepalives, c.moves} {
		ch <- d
	}
}

func (c *datapathCollector) Collect(ch chan<- prometheus.Metric) {
	s := c.dp()
	cnt := func(d *prometheus.Desc, v uint64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(v), labels...)
	}
	cnt(c.packets, s.PacketsInUDP, "in", "udp")
	cnt(c.packets, s.PacketsInRaw, "in", "raw")
	cnt(c.packets, s.PacketsOutUDP, "out", "udp")
	cnt(c.packets, s.PacketsOutRaw, "out", "raw")
	cnt(c.bytes, s.BytesIn, "in")
	cnt(c.bytes, s.BytesOut, "out")
	cnt(c.drops, s.DropNoSA, "no_sa")
	cnt(c.drops, s.DropReplay, "replay")
	cnt(c.drops, s.DropIntegrity, "integrity")
	cnt(c.drops, s.DropMalformed, "malformed")
	cnt(c.drops, s.DropExpired, "expired")
	cnt(c.drops, s.DropNotUDP, "not_udp")
	cnt(c.ike, s.IKEIn, "in")
	cnt(c.ike, s.IKEOut, "out")
	cnt(c.ike, s.IKEDropped, "dropped")
	cnt(c.errors, s.SendErrors)
	cnt(c.keepalives, s.Keepalives, "in")
	cnt(c.keepalives, s.KeepalivesOut, "out")
	cnt(c.moves, s.PeerMoves)
}
