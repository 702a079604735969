package crl

import (
	"testing"

	"github.com/l2tpsecd/l2tpsecd/crl/crltest"
	"github.com/prometheus/client_golang/prometheus"
)

func counter(t *testing.T, reg *prometheus.Registry, name string, labels map[string]string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
	metric:
		for _, m := range mf.GetMetric() {
			got := map[string]string{}
			for _, lp := range m.GetLabel() {
				got[lp.GetName()] = lp.GetValue()
			}
			for k, v := range labels {
				if got[k] != v {
					continue metric
				}
			}
			return m.GetCounter().GetValue()
		}
	}
	return 0
}

func TestMetrics(t *testing.T) {
	p := newPKI(t)
	reg := prometheus.NewRegistry()
	good := p.leaf(p.root, "m-good", p.url("/m.crl"))
	down := p.leaf(p.root, "m-down", p.deadURL)
	p.dp.Set("/m.crl", p.crl(p.root, crltest.CRLOptions{}))
	c := p.checker(ModeStrict, func(cfg *Config) { cfg.Registerer = reg })
	verify(t, c, good)
	verify(t, c, good)
	verify(t, c, down)
	verify(t, c, p.leaf(p.other, "m-untrusted"))
	// A second checker on the same registry (a reload) shares the counters.
	c2 := p.checker(ModeStrict, func(cfg *Config) { cfg.Registerer = reg })
	verify(t, c2, good)

	checks := "l2tpsecd_crl_certificate_checks_total"
	fetches := "l2tpsecd_crl_fetches_total"
	for _, tc := range []struct {
		name   string
		labels map[string]string
		want   float64
	}{
		{checks, map[string]string{"mode": "2", "outcome": "accept", "reason": "ok"}, 3},
		{checks, map[string]string{"mode": "2", "outcome": "reject", "reason": "crl_unreachable"}, 1},
		{checks, map[string]string{"mode": "2", "outcome": "reject", "reason": "untrusted_issuer"}, 1},
		{fetches, map[string]string{"source": "http", "result": "ok"}, 2},
		{fetches, map[string]string{"source": "http", "result": "unreachable"}, 1},
	} {
		if got := counter(t, reg, tc.name, tc.labels); got != tc.want {
			t.Errorf("%s%v = %v, want %v", tc.name, tc.labels, got, tc.want)
		}
	}
}
