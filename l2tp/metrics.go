package l2tp

import "github.com/prometheus/client_golang/prometheus"

// Collector exports an Endpoint's counters to Prometheus, read from Stats
// at scrape time. The server registers it with its own registry:
//
//	reg.MustRegister(l2tp.NewCollector(e))
type Collector struct {
	e                                      *Endpoint
	tunnels, sessions                      *prometheus.Desc
	tunnelsOpened, sessionsOpened          *prometheus.Desc
	tunnelsRefused, sessionsRefused        *prometheus.Desc
	tunnelsClosed, sessionsClosed          *prometheus.Desc
	control, retransmits, zlb, hello, data *prometheus.Desc
	drops                                  *prometheus.Desc
}

// NewCollector returns a Collector for e.
func NewCollector(e *Endpoint) *Collector {
	d := func(name, help string, labels ...string) *prometheus.Desc {
		return prometheus.NewDesc("l2tpsecd_l2tp_"+name, help, labels, nil)
	}
	return &Collector{
		e:               e,
		tunnels:         d("tunnels", "L2TP tunnels allocated (being set up or up)."),
		sessions:        d("sessions", "L2TP sessions allocated (being set up or up)."),
		tunnelsOpened:   d("tunnels_opened_total", "L2TP tunnels established."),
		sessionsOpened:  d("sessions_opened_total", "L2TP sessions established."),
		tunnelsRefused:  d("tunnels_refused_total", "SCCRQs answered with StopCCN."),
		sessionsRefused: d("sessions_refused_total", "ICRQs/OCRQs answered with CDN."),
		tunnelsClosed:   d("tunnels_closed_total", "L2TP tunnels gone, by reason.", "reason"),
		sessionsClosed:  d("sessions_closed_total", "Established L2TP sessions gone, by reason.", "reason"),
		control:         d("control_messages_total", "Control messages (not ZLBs); tx includes retransmissions.", "direction"),
		retransmits:     d("control_retransmits_total", "Control messages retransmitted."),
		zlb:             d("zlb_sent_total", "Zero-length-body acknowledgements sent."),
		hello:           d("hellos_total", "HELLOs sent, and HELLOs given up on unanswered.", "outcome"),
		data:            d("data_frames_total", "PPP frames carried in data messages.", "direction"),
		drops:           d("dropped_total", "Incoming datagrams dropped, by reason.", "reason"),
	}
}

// Describe implements prometheus.Collector.
func (c *Collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.tunnels, c.sessions, c.tunnelsOpened, c.sessionsOpened,
		c.tunnelsRefused, c.sessionsRefused, c.tunnelsClosed, c.sessionsClosed, c.control,
		c.retransmits, c.zlb, c.hello, c.data, c.drops} {
		ch <- d
	}
}

// Collect implements prometheus.Collector.
func (c *Collector) Collect(ch chan<- prometheus.Metric) {
	s := c.e.Stats()
	g := func(d *prometheus.Desc, v float64, l ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, l...)
	}
	n := func(d *prometheus.Desc, v uint64, l ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(v), l...)
	}
	g(c.tunnels, float64(s.Tunnels))
	g(c.sessions, float64(s.Sessions))
	n(c.tunnelsOpened, s.TunnelsOpened)
	n(c.sessionsOpened, s.SessionsOpened)
	n(c.tunnelsRefused, s.TunnelsRefused)
	n(c.sessionsRefused, s.SessionsRefused)
	for r := ReasonLocal; r < numReasons; r++ {
		n(c.tunnelsClosed, s.TunnelsClosed[r], r.String())
		n(c.sessionsClosed, s.SessionsClosed[r], r.String())
	}
	n(c.control, s.ControlRx, "rx")
	n(c.control, s.ControlTx, "tx")
	n(c.retransmits, s.Retransmits)
	n(c.zlb, s.ZLBTx)
	n(c.hello, s.HelloTx, "sent")
	n(c.hello, s.HelloUnanswered, "unanswered")
	n(c.data, s.DataRx, "rx")
	n(c.data, s.DataTx, "tx")
	for r := DropReason(0); r < NumDropReasons; r++ {
		n(c.drops, s.Drops[r], r.String())
	}
}
