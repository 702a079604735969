package ippool

import "github.com/prometheus/client_golang/prometheus"

// Collector exports the pool gauges and counters to Prometheus, read from
// Stats at scrape time. The server registers it with its own registry:
//
//	reg.MustRegister(ippool.NewCollector(m))
type Collector struct {
	m           *Manager
	size        *prometheus.Desc
	addresses   *prometheus.Desc
	allocations *prometheus.Desc
	exhausted   *prometheus.Desc
}

// NewCollector returns a Collector for m.
func NewCollector(m *Manager) *Collector {
	return &Collector{
		m: m,
		size: prometheus.NewDesc("l2tpsecd_pool_size",
			"Allocatable addresses in the pool (ranges minus exclusions).", []string{"pool"}, nil),
		addresses: prometheus.NewDesc("l2tpsecd_pool_addresses",
			"Addresses of the pool by state: used (live and stale leases), stale (restored, not yet re-claimed), free.",
			[]string{"pool", "state"}, nil),
		allocations: prometheus.NewDesc("l2tpsecd_pool_allocations_total",
			"Leases granted from the pool.", []string{"pool"}, nil),
		exhausted: prometheus.NewDesc("l2tpsecd_pool_exhausted_total",
			"Requests refused because the pool had no free address.", []string{"pool"}, nil),
	}
}

// Describe implements prometheus.Collector.
func (c *Collector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.size
	ch <- c.addresses
	ch <- c.allocations
	ch <- c.exhausted
}

// Collect implements prometheus.Collector.
func (c *Collector) Collect(ch chan<- prometheus.Metric) {
	for _, s := range c.m.Stats() {
		ch <- prometheus.MustNewConstMetric(c.size, prometheus.GaugeValue, float64(s.Size), s.Name)
		ch <- prometheus.MustNewConstMetric(c.addresses, prometheus.GaugeValue, float64(s.Used), s.Name, "used")
		ch <- prometheus.MustNewConstMetric(c.addresses, prometheus.GaugeValue, float64(s.Stale), s.Name, "stale")
		ch <- prometheus.MustNewConstMetric(c.addresses, prometheus.GaugeValue, float64(s.Free), s.Name, "free")
		ch <- prometheus.MustNewConstMetric(c.allocations, prometheus.CounterValue, float64(s.Allocations), s.Name)
		ch <- prometheus.MustNewConstMetric(c.exhausted, prometheus.CounterValue, float64(s.Exhausted), s.Name)
	}
}
