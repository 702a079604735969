package serverlab

import (
	"context"
	"errors"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/l2tpsecd/l2tpsecd/server/control"
	"github.com/l2tpsecd/l2tpsecd/test/lab"
)

// TestAuditAndMetrics: after one successful connection, one failed in
// phase 1 (wrong PSK) and one refused user, the audit log has the success
// and the failures with their reasons, /metrics shows the matching counters
// and gauges, and promtool finds nothing wrong with the exposition.
func TestAuditAndMetrics(t *testing.T) {
	l := lab.New(t)
	d := startDaemon(t, l, daemonConfig{PSKs: []string{labPSK}, Users: []user{{Name: labUser, Password: labPassword}, {Name: "mallory", Password: "the-real-one-9"}}})
	cs := l.NewClients(t,
		lab.ClientConfig{BehindNAT: true, PSK: labPSK, User: labUser, Password: labPassword},
		lab.ClientConfig{PSK: "not-the-configured-psk", User: labUser, Password: labPassword},
		lab.ClientConfig{BehindNAT: true, PSK: labPSK, User: "mallory", Password: "a-guess-1", PPPTimeout: 15 * time.Second},
	)
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	if err := cs[0].Connect(ctx); err != nil {
		t.Fatal(err)
	}
	if err := cs[1].Connect(ctx); !errors.Is(err, lab.ErrIPsec) {
		t.Fatalf("wrong PSK: %v, want an IPsec failure", err)
	}
	if err := cs[2].Connect(ctx); !errors.Is(err, lab.ErrPPP) {
		t.Fatalf("wrong password: %v, want a PPP failure", err)
	}
	if err := cs[0].Ping(ctx, l.Server.LANHost); err != nil {
		t.Fatal(err)
	}

	d.waitAudit(t, 5*time.Second, `"event":"phase1_established"`)
	d.waitAudit(t, 5*time.Second, `"event":"phase2_established"`)
	d.waitAudit(t, 5*time.Second, `"event":"session_started"`, labUser)
	d.waitAudit(t, 10*time.Second, `"event":"phase1_failed"`, `"reason":"psk_mismatch"`)
	d.waitAudit(t, 10*time.Second, `"event":"user_refused"`, `"mallory"`, "bad_password")

	m := d.metrics(t)
	want := map[string]float64{
		`l2tpsecd_sessions`: 1,
		`l2tpsecd_ike_phase1_total{reason="psk_mismatch",result="failure"}`:         1,
		`l2tpsecd_user_authentications_total{method="MS-CHAPv2",result="accepted"}`: 1,
		`l2tpsecd_user_authentications_total{method="MS-CHAPv2",result="refused"}`:  1,
		`l2tpsecd_pool_addresses{pool="default",state="used"}`:                      1,
		`l2tpsecd_ready`: 1,
	}
	for prefix, v := range want {
		if got := metricValue(m, prefix); got < v {
			t.Errorf("%s = %v, want %v", prefix, got, v)
		}
	}
	for _, name := range []string{"l2tpsecd_ike_phase1_total{", "l2tpsecd_ike_ike_sas", "l2tpsecd_ike_child_sas", "l2tpsecd_l2tp_tunnels",
		"l2tpsecd_esp_packets_total{", "l2tpsecd_esp_drops_total{", "l2tpsecd_ike_phase1_duration_seconds_bucket", "l2tpsecd_session_setup_seconds_bucket",
		"l2tpsecd_datapath_workers"} {
		if !strings.Contains(m, name) {
			t.Errorf("/metrics has no %s", name)
		}
	}
	if t.Failed() {
		t.Logf("/metrics:\n%s", m)
	}

	promtool, err := exec.LookPath("promtool")
	if err != nil {
		if lab.Required() {
			t.Fatal("promtool (Debian package prometheus) is not installed")
		}
		t.Skip("promtool (Debian package prometheus) is not installed; skipping the exposition check")
	}
	cmd := exec.Command(promtool, "check", "metrics")
	cmd.Stdin = strings.NewReader(m)
	out, err := cmd.CombinedOutput()
	if err != nil || strings.TrimSpace(string(out)) != "" {
		t.Errorf("promtool check metrics: %v\n%s", err, out)
	}

	// The session is listed for the operator.
	ss := d.call(t, control.Request{Cmd: control.CmdSessions}).Sessions
	if len(ss) != 1 || ss[0].User != labUser {
		t.Errorf("sessions: %+v", ss)
	}
}
