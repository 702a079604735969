package load

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/vishvananda/netns"

	"github.com/l2tpsecd/l2tpsecd/internal/testutil"
	"github.com/l2tpsecd/l2tpsecd/server/control"
)

const (
	serverAddr  = "198.51.100.1"
	clientAddr  = "198.51.100.2"
	clientAddr2 = "198.51.100.3"
	gateway     = "10.77.0.1"
	psk         = "load-test-psk-0123"
	numUsers    = 20
)

var (
	buildOnce sync.Once
	binDir    string
	buildErr  error
)

// TestMain removes the binaries the tests built.
func TestMain(m *testing.M) {
	code := m.Run()
	if binDir != "" {
		os.RemoveAll(binDir)
	}
	os.Exit(code)
}

// binaries builds l2tpsecd and l2tpsec-load from this checkout once.
func binaries(t *testing.T) (daemon, load string) {
	t.Helper()
	buildOnce.Do(func() {
		binDir, buildErr = os.MkdirTemp("", "l2tpsec-load-bin-")
		if buildErr != nil {
			return
		}
		for _, c := range []string{"l2tpsecd", "l2tpsec-load"} {
			cmd := exec.Command("go", "build", "-o", filepath.Join(binDir, c), "./cmd/"+c)
			cmd.Dir = testutil.RepoRoot(t)
			if out, err := cmd.CombinedOutput(); err != nil {
				buildErr = fmt.Errorf("go build %s: %v\n%s", c, err, out)
				return
			}
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return filepath.Join(binDir, "l2tpsecd"), filepath.Join(binDir, "l2tpsec-load")
}

// topology is two network namespaces joined by a veth pair on
// 198.51.100.0/24: the server's and the clients'.
type topology struct {
	srv, cli string
	cliVeth  string
}

func run(t *testing.T, name string, args ...string) {
	t.Helper()
	if out, err := exec.Command(name, args...).CombinedOutput(); err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
}

func newTopology(t *testing.T) *topology {
	t.Helper()
	if _, err := exec.LookPath("ip"); err != nil {
		t.Skip("needs iproute2's ip command to build network namespaces")
	}
	if _, err := os.Stat("/dev/net/tun"); err != nil {
		t.Skipf("the daemon needs a TUN device: %v", err)
	}
	tag := fmt.Sprintf("%04x", os.Getpid()&0xffff)
	vs, vc := "ldv"+tag+"s", "ldv"+tag+"c"
	tp := &topology{srv: "ldsrv" + tag, cli: "ldcli" + tag, cliVeth: vc}
	run(t, "ip", "netns", "add", tp.srv)
	t.Cleanup(func() { _ = exec.Command("ip", "netns", "del", tp.srv).Run() })
	run(t, "ip", "netns", "add", tp.cli)
	t.Cleanup(func() { _ = exec.Command("ip", "netns", "del", tp.cli).Run() })
	run(t, "ip", "link", "add", vs, "type", "veth", "peer", "name", vc)
	run(t, "ip", "link", "set", vs, "netns", tp.srv)
	run(t, "ip", "link", "set", vc, "netns", tp.cli)
	run(t, "ip", "-n", tp.srv, "addr", "add", serverAddr+"/24", "dev", vs)
	run(t, "ip", "-n", tp.cli, "addr", "add", clientAddr+"/24", "dev", vc)
	for _, x := range [][2]string{{tp.srv, vs}, {tp.cli, vc}, {tp.srv, "lo"}, {tp.cli, "lo"}} {
		run(t, "ip", "-n", x[0], "link", "set", x[1], "up")
	}
	return tp
}

// daemon is l2tpsecd running in the server namespace.
type daemon struct {
	dir, socket, audit, log string
	cmd                     *exec.Cmd
}

func startDaemon(t *testing.T, tp *topology, bin string) *daemon {
	t.Helper()
	dir := t.TempDir()
	d := &daemon{dir: dir, socket: filepath.Join(dir, "run", "control.sock"), audit: filepath.Join(dir, "audit.log"),
		log: filepath.Join(dir, "daemon.log")}
	cfg := fmt.Sprintf(`state_dir = %q
[log]
level = "info"
audit_file = %q
[listen]
addresses = [%q]
[ike]
policy = "modern"
max_half_open_per_peer = 100
[[ike.psk]]
name = "load"
secret = %q
[esp]
datapath = "userspace"
raw_esp = false
[ppp]
auth = ["mschapv2", "chap", "pap"]
[auth]
backend = "local"
users_file = "users.toml"
[[pool]]
name = "default"
ranges = ["10.77.0.10-10.77.0.250"]
[tun]
name = "l2tpload0"
address = %q
[metrics]
listen = ""
[control]
socket = %q
`, filepath.Join(dir, "state"), d.audit, serverAddr, psk, gateway, d.socket)
	var users strings.Builder
	for i := 1; i <= numUsers; i++ {
		fmt.Fprintf(&users, "[users.\"user%02d\"]\npassword = \"pass%02d\"\n", i, i)
	}
	for name, body := range map[string]string{"l2tpsecd.toml": cfg, "users.toml": users.String()} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	logf, err := os.Create(d.log)
	if err != nil {
		t.Fatal(err)
	}
	d.cmd = exec.Command("ip", "netns", "exec", tp.srv, bin, "-config", filepath.Join(dir, "l2tpsecd.toml"))
	d.cmd.Stdout, d.cmd.Stderr = logf, logf
	if err := d.cmd.Start(); err != nil {
		t.Fatalf("start l2tpsecd: %v", err)
	}
	exited := make(chan struct{})
	go func() { _ = d.cmd.Wait(); logf.Close(); close(exited) }()
	t.Cleanup(func() {
		_ = d.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			_ = d.cmd.Process.Kill()
			<-exited
		}
		if t.Failed() {
			b, _ := os.ReadFile(d.log)
			t.Logf("l2tpsecd log:\n%s", b)
		}
	})
	deadline := time.Now().Add(15 * time.Second)
	for {
		resp, err := control.Call(d.socket, control.Request{Cmd: control.CmdStatus})
		if err == nil && resp.Status != nil && resp.Status.Ready {
			return d
		}
		select {
		case <-exited:
			b, _ := os.ReadFile(d.log)
			t.Fatalf("l2tpsecd exited:\n%s", b)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("l2tpsecd not ready after 15 s: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// sessions returns the daemon's session count.
func (d *daemon) sessions(t *testing.T) int {
	t.Helper()
	resp, err := control.Call(d.socket, control.Request{Cmd: control.CmdStatus})
	if err != nil {
		t.Fatalf("control status: %v", err)
	}
	return resp.Status.Sessions
}

// auditEvents returns the audit log's records of one event type.
func (d *daemon) auditEvents(t *testing.T, event string) []map[string]any {
	t.Helper()
	data, err := os.ReadFile(d.audit)
	if err != nil {
		t.Fatal(err)
	}
	var out []map[string]any
	for _, line := range bytes.Split(data, []byte("\n")) {
		if len(line) == 0 {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal(line, &m); err != nil {
			t.Fatalf("audit line %q: %v", line, err)
		}
		if m["event"] == event {
			out = append(out, m)
		}
	}
	return out
}

// summary is the generator's -json output (the fields the tests read).
type summary struct {
	Clients      int                           `json:"clients"`
	Connected    int                           `json:"connected"`
	Failed       int                           `json:"failed"`
	Failures     map[string]int                `json:"failures"`
	Dropped      int                           `json:"dropped"`
	SetupSeconds float64                       `json:"setup_seconds"`
	SetupRate    float64                       `json:"setup_rate_per_second"`
	SetupMs      map[string]float64            `json:"setup_ms"`
	PhaseMs      map[string]map[string]float64 `json:"phase_ms"`
	PacketsOut   uint64                        `json:"packets_out"`
	PacketsIn    uint64                        `json:"packets_in"`
	BytesOut     uint64                        `json:"bytes_out"`
	BytesIn      uint64                        `json:"bytes_in"`
	MbitOut      float64                       `json:"mbit_per_second_out"`
	RTTMs        map[string]float64            `json:"rtt_ms"`
	HungUp       int                           `json:"hung_up"`
	HangupErrors int                           `json:"hangup_errors"`
}

// runLoad runs the generator in the client namespace and decodes its
// summary.
func runLoad(t *testing.T, tp *topology, bin string, args ...string) (summary, int, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	full := append([]string{"netns", "exec", tp.cli, bin, "-server", serverAddr, "-json"}, args...)
	cmd := exec.CommandContext(ctx, "ip", full...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("l2tpsec-load: %v\n%s", err, stderr.String())
	}
	var s summary
	if err := json.Unmarshal(stdout.Bytes(), &s); err != nil {
		t.Fatalf("l2tpsec-load output %q: %v\nstderr:\n%s", stdout.String(), err, stderr.String())
	}
	return s, code, stderr.String()
}

// waitSessions waits until the daemon reports n sessions.
func waitSessions(t *testing.T, d *daemon, n int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		got := d.sessions(t)
		if got == n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the daemon shows %d sessions, want %d", got, n)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestLoad runs l2tpsecd in a namespace and 20 simulated clients from ONE
// source address in another: all connect (told apart by their NAT-T ports
// and SPIs), pass ICMP echo to the gateway through their tunnels, and hang up
// so that the daemon is left with no session. Then a wrong PSK and a wrong
// password fail in the phases they belong to, with a non-zero exit status.
func TestLoad(t *testing.T) {
	testutil.RequireRoot(t)
	tp := newTopology(t)
	daemonBin, loadBin := binaries(t)
	d := startDaemon(t, tp, daemonBin)

	t.Run("20 clients behind one address", func(t *testing.T) {
		s, code, stderr := runLoad(t, tp, loadBin, "-psk", psk, "-user", "user%02d", "-password", "pass%02d",
			"-n", fmt.Sprint(numUsers), "-rate", "40", "-duration", "3s", "-traffic", "icmp", "-target", gateway,
			"-pps", "20", "-size", "200")
		t.Logf("summary: %+v", s)
		if code != 0 || s.Connected != numUsers || s.Failed != 0 || s.Dropped != 0 {
			t.Fatalf("exit %d, connected %d/%d, failed %v, dropped %d\nstderr:\n%s", code, s.Connected, numUsers, s.Failures, s.Dropped, stderr)
		}
		// Every client sent 60 echoes; a loss-free veth returns them all.
		if s.PacketsOut < numUsers*50 || s.PacketsIn != s.PacketsOut {
			t.Errorf("echo: %d requests sent, %d replies received", s.PacketsOut, s.PacketsIn)
		}
		if s.HungUp != numUsers || s.HangupErrors != 0 {
			t.Errorf("hung up %d, hangup errors %d", s.HungUp, s.HangupErrors)
		}
		waitSessions(t, d, 0)

		// The daemon kept them apart: 20 sessions from one address, each
		// with its own port and address, each ended by the user.
		started := d.auditEvents(t, "session_started")
		ended := d.auditEvents(t, "session_ended")
		if len(started) != numUsers || len(ended) != numUsers {
			t.Fatalf("audit: %d sessions started, %d ended", len(started), len(ended))
		}
		peers, addrs, users := map[string]bool{}, map[string]bool{}, map[string]bool{}
		for _, e := range started {
			peer, _ := e["peer"].(string)
			if !strings.HasPrefix(peer, clientAddr+":") {
				t.Errorf("session from %q, want %s", peer, clientAddr)
			}
			peers[peer] = true
			users[fmt.Sprint(e["user"])] = true
			if f, ok := e["fields"].(map[string]any); ok {
				addrs[fmt.Sprint(f["address"])] = true
			}
		}
		if len(peers) != numUsers || len(addrs) != numUsers || len(users) != numUsers {
			t.Errorf("distinct peers %d, addresses %d, users %d; want %d each", len(peers), len(addrs), len(users), numUsers)
		}
		// The client's LCP Terminate, CDN/StopCCN and IKE Delete race to
		// end the session; whichever the daemon notices first names it,
		// but never a timeout.
		reasons := map[string]int{}
		for _, e := range ended {
			r := fmt.Sprint(e["reason"])
			reasons[r]++
			if strings.Contains(r, "timeout") || strings.Contains(r, "dead") || strings.Contains(r, "admin") {
				t.Errorf("session ended with %q, want the client's hangup", r)
			}
		}
		t.Logf("session end reasons: %v", reasons)
	})

	t.Run("UDP echo from two source addresses", func(t *testing.T) {
		// A UDP echo service on the gateway address, inside the daemon's
		// namespace: what the clients send through their tunnels comes
		// back to them.
		echo := listenUDPIn(t, tp.srv, gateway+":7")
		go func() {
			buf := make([]byte, 2048)
			for {
				n, from, err := echo.ReadFromUDPAddrPort(buf)
				if err != nil {
					return
				}
				_, _ = echo.WriteToUDPAddrPort(buf[:n], from)
			}
		}()
		run(t, "ip", "-n", tp.cli, "addr", "add", clientAddr2+"/24", "dev", tp.cliVeth)
		before := len(d.auditEvents(t, "session_started"))
		s, code, stderr := runLoad(t, tp, loadBin, "-psk", psk, "-user", "user%02d", "-password", "pass%02d",
			"-n", "4", "-rate", "0", "-local", clientAddr+","+clientAddr2, "-duration", "2s",
			"-traffic", "udp", "-target", gateway, "-port", "7", "-pps", "50", "-size", "300")
		if code != 0 || s.Connected != 4 {
			t.Fatalf("exit %d, connected %d/4 (%v)\nstderr:\n%s", code, s.Connected, s.Failures, stderr)
		}
		if s.PacketsOut < 4*80 || s.PacketsIn != s.PacketsOut || s.BytesIn != s.BytesOut {
			t.Errorf("UDP echo: sent %d packets (%d bytes), got %d (%d bytes) back", s.PacketsOut, s.BytesOut, s.PacketsIn, s.BytesIn)
		}
		from := map[string]int{}
		for _, e := range d.auditEvents(t, "session_started")[before:] {
			peer, _ := e["peer"].(string)
			from[peer[:strings.LastIndex(peer, ":")]]++
		}
		if from[clientAddr] != 2 || from[clientAddr2] != 2 {
			t.Errorf("sessions by source address: %v, want 2 from each", from)
		}
		waitSessions(t, d, 0)
	})

	t.Run("wrong PSK fails phase 1", func(t *testing.T) {
		s, code, _ := runLoad(t, tp, loadBin, "-psk", "not-the-right-key", "-user", "user01", "-password", "pass01",
			"-n", "2", "-rate", "0", "-duration", "0s", "-traffic", "none", "-timeout", "4s")
		if code != 1 || s.Connected != 0 || s.Failed != 2 {
			t.Fatalf("exit %d, connected %d, failed %d (%v)", code, s.Connected, s.Failed, s.Failures)
		}
		for k := range s.Failures {
			if !strings.HasPrefix(k, "ike_phase1:") {
				t.Errorf("failure %q, want one in ike_phase1", k)
			}
		}
	})

	t.Run("wrong password fails authentication", func(t *testing.T) {
		s, code, _ := runLoad(t, tp, loadBin, "-psk", psk, "-user", "user01", "-password", "wrong",
			"-n", "1", "-duration", "0s", "-traffic", "none", "-timeout", "10s")
		if code != 1 || s.Connected != 0 || s.Failed != 1 {
			t.Fatalf("exit %d, connected %d, failed %d (%v)", code, s.Connected, s.Failed, s.Failures)
		}
		for k := range s.Failures {
			if !strings.HasPrefix(k, "ppp_auth:") {
				t.Errorf("failure %q, want one in ppp_auth", k)
			}
		}
		waitSessions(t, d, 0)
	})
}

// listenUDPIn opens a UDP socket inside the named network namespace (the
// socket stays there when the thread switches back).
func listenUDPIn(t *testing.T, ns, addr string) *net.UDPConn {
	t.Helper()
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	orig, err := netns.Get()
	if err != nil {
		t.Fatal(err)
	}
	defer orig.Close()
	h, err := netns.GetFromName(ns)
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	if err := netns.Set(h); err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := netns.Set(orig); err != nil {
			panic(err) // the thread is locked: never hand it back in the wrong namespace
		}
	}()
	c, err := net.ListenUDP("udp4", net.UDPAddrFromAddrPort(netip.MustParseAddrPort(addr)))
	if err != nil {
		t.Fatalf("listen %s in %s: %v", addr, ns, err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}
