package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/l2tpsecd/l2tpsecd/internal/clock"
	"github.com/l2tpsecd/l2tpsecd/ppp"
)

func TestParseFlags(t *testing.T) {
	good := []string{"-server", "198.51.100.1", "-psk", "k", "-target", "10.0.0.1"}
	opt, jsonOut, _, err := parseFlags(append(good, "-n", "7", "-auth", "pap,mschapv2", "-local", "203.0.113.1, 203.0.113.2", "-json"), &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	if opt.Clients != 7 || !jsonOut || len(opt.Locals) != 2 || len(opt.AuthMethods) != 2 || opt.AuthMethods[0] != ppp.AuthPAP ||
		opt.Traffic != TrafficICMP || opt.IKEPort != 500 || opt.NATTPort != 4500 {
		t.Errorf("parsed %+v", opt)
	}
	t.Setenv("L2TPSEC_PSK", "from-env")
	if opt, _, _, err := parseFlags([]string{"-server", "198.51.100.1", "-traffic", "none"}, &bytes.Buffer{}); err != nil || opt.PSK != "from-env" {
		t.Errorf("PSK from the environment: %q, %v", opt.PSK, err)
	}
	t.Setenv("L2TPSEC_PSK", "")
	bad := map[string][]string{
		"no server":           {"-psk", "k", "-traffic", "none"},
		"IPv6 server":         {"-server", "::1", "-psk", "k", "-traffic", "none"},
		"no PSK":              {"-server", "198.51.100.1", "-traffic", "none"},
		"traffic w/o target":  {"-server", "198.51.100.1", "-psk", "k"},
		"unknown traffic":     append(good, "-traffic", "tcp"),
		"two %d":              append(good, "-user", "u%d%d"),
		"zero clients":        append(good, "-n", "0"),
		"tiny packets":        append(good, "-size", "20"),
		"huge packets":        append(good, "-size", "9000"),
		"bad local":           append(good, "-local", "nowhere"),
		"bad auth":            append(good, "-auth", "kerberos"),
		"negative rate":       append(good, "-rate", "-1"),
		"port out of range":   append(good, "-port", "70000"),
		"stray argument":      append(good, "extra"),
		"zero setup timeout":  append(good, "-timeout", "0s"),
		"negative retransmit": append(good, "-l2tp-retransmit", "-1s"),
	}
	for name, args := range bad {
		if _, _, _, err := parseFlags(args, &bytes.Buffer{}); err == nil {
			t.Errorf("%s: accepted %q", name, args)
		}
	}
}

func TestUsageExitStatus(t *testing.T) {
	var out, errOut bytes.Buffer
	if code := run(context.Background(), []string{"-n", "3"}, &out, &errOut); code != 2 {
		t.Errorf("exit %d, want 2", code)
	}
	if !strings.Contains(errOut.String(), "-server") {
		t.Errorf("error output %q does not name the missing flag", errOut.String())
	}
}

func TestPercentiles(t *testing.T) {
	var d []time.Duration
	for i := 100; i >= 1; i-- {
		d = append(d, time.Duration(i)*time.Millisecond)
	}
	p := percentiles(d)
	if p.N != 100 || p.P50 != 50 || p.P90 != 90 || p.P99 != 99 || p.Max != 100 {
		t.Errorf("percentiles %+v", p)
	}
	if p := percentiles([]time.Duration{7 * time.Millisecond}); p.P50 != 7 || p.P99 != 7 || p.Max != 7 {
		t.Errorf("one sample: %+v", p)
	}
	if p := percentiles(nil); p.N != 0 {
		t.Errorf("no samples: %+v", p)
	}
}

func TestExpand(t *testing.T) {
	for _, c := range []struct {
		pattern string
		n       int
		want    string
	}{{"user%03d", 7, "user007"}, {"alice", 7, "alice"}, {"pw-%d", 12, "pw-12"}} {
		if got := expand(c.pattern, c.n); got != c.want {
			t.Errorf("expand(%q, %d) = %q, want %q", c.pattern, c.n, got, c.want)
		}
	}
}

// TestRunUnreachable runs the generator against a port where nothing
// answers: every client fails in phase 1, the summary says so, and the exit
// status is 1.
func TestRunUnreachable(t *testing.T) {
	// A bound but silent UDP socket: datagrams are queued, never answered.
	silent, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Skipf("no loopback UDP: %v", err)
	}
	defer silent.Close()
	port := silent.LocalAddr().(*net.UDPAddr).Port
	var out, errOut bytes.Buffer
	code := run(context.Background(), []string{"-server", "127.0.0.1", "-ike-port", strconv.Itoa(port), "-natt-port", strconv.Itoa(port),
		"-psk", "k", "-n", "3", "-rate", "0", "-traffic", "none", "-duration", "0s", "-timeout", "300ms", "-json"}, &out, &errOut)
	if code != 1 {
		t.Errorf("exit %d, want 1", code)
	}
	var s Summary
	if err := json.Unmarshal(out.Bytes(), &s); err != nil {
		t.Fatalf("output %q: %v", out.String(), err)
	}
	if s.Clients != 3 || s.Connected != 0 || s.Failed != 3 || s.Failures["ike_phase1: timeout"] != 3 {
		t.Errorf("summary %+v", s)
	}
}

func TestPrintSummary(t *testing.T) {
	s := Summary{Clients: 3, Connected: 2, Failed: 1, Failures: map[string]int{"ppp_auth: ppp_auth_rejected": 1},
		SetupSeconds: 1, SetupRate: 2, SetupMs: Percentiles{N: 2, P50: 10, P90: 20, P99: 20, Max: 20},
		PhaseMs:        map[string]Percentiles{"ike_phase1": {N: 2, P50: 5, P90: 6, P99: 6, Max: 6}},
		TrafficSeconds: 2, PacketsOut: 10, BytesOut: 1000, PacketsIn: 9, BytesIn: 900, MbitOut: 0.004, HungUp: 2}
	var b bytes.Buffer
	printSummary(&b, Options{Traffic: TrafficICMP}, s)
	for _, want := range []string{"connected 2, failed 1", "ppp_auth: ppp_auth_rejected", "ike_phase1", "out 10 packets 1000 bytes", "in 9 packets"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("summary lacks %q:\n%s", want, b.String())
		}
	}
}

// TestPacerAdvancesOnFakeClock checks the pacing without sleeping: with a
// fake clock, until returns only once the clock reaches the time.
func TestPacerAdvancesOnFakeClock(t *testing.T) {
	clk := clock.NewFake(time.Unix(0, 0))
	p := newPacer(clk)
	defer p.stop()
	if !p.until(context.Background(), clk.Now()) {
		t.Fatal("a time already reached must not wait")
	}
	done := make(chan bool)
	go func() { done <- p.until(context.Background(), clk.Now().Add(time.Second)) }()
	select {
	case <-done:
		t.Fatal("until returned before the clock moved")
	default:
	}
	// The waiter may not have armed the timer yet: advance until it fires.
	for {
		clk.Advance(100 * time.Millisecond)
		select {
		case ok := <-done:
			if !ok {
				t.Fatal("until reported a cancelled context")
			}
			if clk.Now().Before(time.Unix(1, 0)) {
				t.Fatalf("until returned at %v, before the target", clk.Now())
			}
			return
		default:
			time.Sleep(time.Millisecond)
		}
	}
}

func TestTrafficNames(t *testing.T) {
	for _, tr := range []Traffic{TrafficNone, TrafficICMP, TrafficUDP} {
		got, err := parseTraffic(tr.String())
		if err != nil || got != tr {
			t.Errorf("parseTraffic(%q) = %v, %v", tr.String(), got, err)
		}
	}
}

func TestPortBaseFlag(t *testing.T) {
	base := []string{"-server", "198.51.100.1", "-psk", "k", "-traffic", "none"}
	opt, _, _, err := parseFlags(append(base, "-port-base", "20000", "-n", "10"), &bytes.Buffer{})
	if err != nil || opt.PortBase != 20000 {
		t.Fatalf("%+v %v", opt, err)
	}
	for _, args := range [][]string{{"-port-base", "400", "-n", "60"}, {"-port-base", "65530", "-n", "4"}, {"-port-base", "-1"}} {
		if _, _, _, err := parseFlags(append(base, args...), &bytes.Buffer{}); err == nil {
			t.Errorf("accepted %q", args)
		}
	}
}
