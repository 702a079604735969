package l2tp

import (
	"fmt"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
)

func TestCollector(t *testing.T) {
	l := newLab(t, Config{}, Config{})
	_, s := l.connect(t)
	s.SendPPP([]byte{0xc0, 0x21, 1})
	l.net.pump(t)
	l.lns.Input("sa-9", 1701, []byte{0, 2, 0, 9, 0, 1}) // unknown tunnel 9
	s.Close(Result{Code: CDNAdministrative}, true)
	l.settle(t)

	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(NewCollector(l.lns))
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]float64{}
	for _, mf := range mfs {
		for _, mt := range mf.GetMetric() {
			key := mf.GetName()
			for _, lp := range mt.GetLabel() {
				key += fmt.Sprintf(",%s=%s", lp.GetName(), lp.GetValue())
			}
			got[key] = mt.GetGauge().GetValue() + mt.GetCounter().GetValue()
		}
	}
	want := map[string]float64{
		"l2tpsecd_l2tp_tunnels":                                  0,
		"l2tpsecd_l2tp_tunnels_opened_total":                     1,
		"l2tpsecd_l2tp_sessions_opened_total":                    1,
		"l2tpsecd_l2tp_sessions_closed_total,reason=peer_cdn":    1,
		"l2tpsecd_l2tp_tunnels_closed_total,reason=peer_stopccn": 1,
		"l2tpsecd_l2tp_data_frames_total,direction=rx":           1,
		"l2tpsecd_l2tp_dropped_total,reason=unknown_tunnel":      1,
		"l2tpsecd_l2tp_control_retransmits_total":                0,
		"l2tpsecd_l2tp_hellos_total,outcome=unanswered":          0,
	}
	for k, v := range want {
		if g, ok := got[k]; !ok || g != v {
			t.Errorf("%s = %v (present %v), want %v", k, g, ok, v)
		}
	}
	if got["l2tpsecd_l2tp_control_messages_total,direction=rx"] < 4 {
		t.Errorf("control rx %v", got["l2tpsecd_l2tp_control_messages_total,direction=rx"])
	}
}
