package ippool

import (
	"fmt"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
)

func TestCollector(t *testing.T) {
	m := mustNew(t, Config{Pools: []PoolConfig{{Name: "p", Ranges: []string{"10.0.0.1-10.0.0.2"}}}}, nil)
	alloc(t, m, Request{Owner: "a"})
	alloc(t, m, Request{Owner: "b"})
	m.Allocate(Request{Owner: "c"})
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(NewCollector(m))
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]float64{}
	for _, mf := range mfs {
		for _, mt := range mf.GetMetric() {
			key := mf.GetName()
			for _, l := range mt.GetLabel() {
				key += fmt.Sprintf(",%s=%s", l.GetName(), l.GetValue())
			}
			got[key] = mt.GetGauge().GetValue() + mt.GetCounter().GetValue()
		}
	}
	want := map[string]float64{
		"l2tpsecd_pool_size,pool=p":                  2,
		"l2tpsecd_pool_addresses,pool=p,state=used":  2,
		"l2tpsecd_pool_addresses,pool=p,state=stale": 0,
		"l2tpsecd_pool_addresses,pool=p,state=free":  0,
		"l2tpsecd_pool_allocations_total,pool=p":     2,
		"l2tpsecd_pool_exhausted_total,pool=p":       1,
	}
	if len(got) != len(want) {
		t.Fatalf("gathered %v", got)
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %v, want %v", k, got[k], v)
		}
	}
}
