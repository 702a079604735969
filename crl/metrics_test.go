package crl

import (
	"testing"
	"time"

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

func TestCRLStatusAndNextUpdateGauge(t *testing.T) {
	p := newPKI(t)
	reg := prometheus.NewRegistry()
	leaf := p.leaf(p.root, "st", p.url("/st.crl"), p.url("/st404.crl"))
	der := p.crl(p.root, crltest.CRLOptions{Number: 42, Revoked: []crltest.Revoked{crltest.Revoke(p.leaf(p.root, "x"), t0, 0)}})
	p.dp.Set("/st.crl", der)
	c := p.checker(ModeStrict, func(cfg *Config) { cfg.Registerer = reg })
	verify(t, c, leaf)
	st := c.CRLs()
	if len(st) != 2 || st[0].URL != p.url("/st.crl") || st[1].URL != p.url("/st404.crl") {
		t.Fatalf("status = %+v", st)
	}
	if s := st[0]; s.Number != "42" || s.Entries != 1 || s.Issuer != "CN=Test Root CA" || s.LastError != "" || !s.RefreshPending || !s.ReadAt.Equal(t0) {
		t.Errorf("status of the good DP = %+v", s)
	}
	if s := st[1]; s.LastError == "" || s.Entries != 0 {
		t.Errorf("status of the failing DP = %+v", s)
	}
	want := float64(t0.Add(23 * time.Hour).Unix())
	if got := gauge(t, reg, "l2tpsecd_crl_next_update_timestamp_seconds", p.url("/st.crl")); got != want {
		t.Errorf("next_update gauge = %v, want %v", got, want)
	}
}

func gauge(t *testing.T, reg *prometheus.Registry, name, url string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, lp := range m.GetLabel() {
				if lp.GetName() == "url" && lp.GetValue() == url {
					return m.GetGauge().GetValue()
				}
			}
		}
	}
	return 0
}
