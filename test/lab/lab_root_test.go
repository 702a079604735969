package lab

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// failingTB passes everything to the real test but reports itself failed
// and keeps its cleanups, so a test can run them and then look for
// leftovers and the log dump, as after a real failure.
type failingTB struct {
	testing.TB
	mu       sync.Mutex
	cleanups []func()
	logs     strings.Builder
	once     sync.Once
}

func (f *failingTB) Failed() bool { return true }

func (f *failingTB) Cleanup(fn func()) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.cleanups = append(f.cleanups, fn)
}

func (f *failingTB) Logf(format string, args ...any) {
	f.mu.Lock()
	defer f.mu.Unlock()
	fmt.Fprintf(&f.logs, format+"\n", args...)
}

func (f *failingTB) Log(args ...any) { f.Logf("%s", fmt.Sprint(args...)) }

func (f *failingTB) runCleanups() {
	f.once.Do(func() {
		f.mu.Lock()
		fns := f.cleanups
		f.mu.Unlock()
		for i := len(fns) - 1; i >= 0; i-- {
			fns[i]()
		}
	})
}

// TestGuestAndCleanupAfterFailure boots a guest behind the NAT, drives it
// (commands, exit codes, files, modules, the path through the NAT), kills
// it, and then runs the lab's cleanup as after a failed test: the logs must
// be dumped and nothing of the run may be left.
func TestGuestAndCleanupAfterFailure(t *testing.T) {
	Require(t)
	ft := &failingTB{TB: t}
	t.Cleanup(ft.runCleanups) // if this test stops early
	l := New(ft)
	c := l.NewClient(ft, ClientConfig{PSK: "unused", BehindNAT: true})
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()

	out, err := c.Guest.Run(ctx, "echo hello; lsmod")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"hello", "l2tp_ppp", "esp4", "ppp_generic", "xfrm_user"} {
		if !strings.Contains(out, want) {
			t.Errorf("guest output lacks %q:\n%s", want, out)
		}
	}
	out, err = c.Guest.Run(ctx, "echo partial; exit 3")
	var ee *ExitError
	if !errors.As(err, &ee) || ee.Code != 3 || out != "partial\n" {
		t.Errorf("exit 3: out %q, err %v", out, err)
	}
	data := []byte("line one\nit's two\n")
	if err := c.Guest.WriteFile(ctx, "/etc/lab/test file", data, 0o600); err != nil {
		t.Fatal(err)
	}
	back, err := c.Guest.ReadFile(ctx, "/etc/lab/test file")
	if err != nil || string(back) != string(data) {
		t.Errorf("ReadFile = %q, %v", back, err)
	}
	if out, err := c.Guest.Run(ctx, "stat -c %a '/etc/lab/test file'"); err != nil || strings.TrimSpace(out) != "600" {
		t.Errorf("mode %q, %v", out, err)
	}
	// charon was started by NewClient and has loaded the connection.
	if out, err := c.Guest.Run(ctx, "for i in $(seq 1 100); do ipsec statusall 2>/dev/null | grep -q ' lab:' && exit 0; sleep 0.2; done; ipsec statusall; exit 1"); err != nil {
		t.Errorf("charon has no connection 'lab': %v\n%s", err, out)
	}

	// The server sees the guest's packets from the NAT's outside address.
	_, srv, _, lan := l.Namespaces()
	capCtx, capCancel := context.WithTimeout(ctx, 60*time.Second)
	defer capCancel()
	captured := make(chan string, 1)
	go func() {
		out, _ := nsCommand(capCtx, srv, "tcpdump", "-n", "-l", "-c", "1", "-i", l.Server.PublicIface, "icmp").CombinedOutput()
		captured <- string(out)
	}()
	var capOut string
	for capOut == "" {
		c.Guest.Run(ctx, "ping -c 1 -W 1 "+l.Server.PublicAddr.String())
		select {
		case capOut = <-captured:
		case <-capCtx.Done():
			t.Fatal("no ICMP from the guest reached the server's public side")
		default:
		}
	}
	if !strings.Contains(capOut, "IP "+natOutside.String()+" > "+l.Server.PublicAddr.String()) {
		t.Errorf("server saw the guest as:\n%s\nwant source %v (the NAT)", capOut, natOutside)
	}
	if out, err := l.RunIn(ctx, lan, "ping", "-c", "1", "-W", "2", l.Server.LANGateway.String()); err != nil {
		t.Errorf("LAN host cannot reach the server's LAN address: %v\n%s", err, out)
	}

	pid := c.Guest.proc.cmd.Process.Pid
	c.Kill()
	if c.Guest.Alive() {
		t.Errorf("guest alive after Kill")
	}
	if _, err := c.Guest.Run(ctx, "true"); !errors.Is(err, ErrGuestExited) {
		t.Errorf("Run on a killed guest: %v, want ErrGuestExited", err)
	}

	ft.runCleanups()
	logs := ft.logs.String()
	for _, want := range []string{"===== lab log: " + c.Guest.Name + " console", "lab: guest " + c.Guest.Name + " ready", "charon.log"} {
		if !strings.Contains(logs, want) {
			t.Errorf("failure log dump lacks %q", want)
		}
	}
	assertNoLeftovers(t, l.Prefix, pid)
}

// assertNoLeftovers checks that nothing with the run's prefix remains.
func assertNoLeftovers(t *testing.T, prefix string, pids ...int) {
	t.Helper()
	ents, _ := os.ReadDir("/run/netns")
	for _, e := range ents {
		if strings.HasPrefix(e.Name(), prefix) {
			t.Errorf("namespace %s left behind", e.Name())
		}
	}
	if out, _ := execOutput("ip", "-o", "link"); strings.Contains(out, prefix) {
		t.Errorf("links with prefix %s left in the host namespace:\n%s", prefix, out)
	}
	for _, pid := range pids {
		if syscall.Kill(pid, 0) == nil {
			t.Errorf("process %d still running", pid)
		}
	}
	if _, err := os.Stat(filepath.Join(os.TempDir(), "l2tpsecd-lab-"+prefix)); err == nil {
		t.Errorf("run directory of %s left behind", prefix)
	}
	if _, err := os.Stat(filepath.Join(stateDir, prefix)); err == nil {
		t.Errorf("state file of %s left behind", prefix)
	}
}

// TestTopologyAndCleanup lays out the topology without guests, checks the
// routing between namespaces and that a normal cleanup leaves nothing.
func TestTopologyAndCleanup(t *testing.T) {
	Require(t)
	var prefix string
	t.Run("lab", func(t *testing.T) {
		l := New(t)
		prefix = l.Prefix
		inet, srv, nat, lan := l.Namespaces()
		for _, ns := range []string{inet, srv, nat, lan} {
			if !strings.HasPrefix(ns, l.Prefix+"-") {
				t.Errorf("namespace %s lacks the run prefix", ns)
			}
		}
		ctx := context.Background()
		for _, c := range []struct{ ns, to string }{
			{nat, l.Server.PublicAddr.String()},  // NAT outside to server
			{lan, l.Server.LANGateway.String()},  // LAN host to server
			{srv, directGW.String()},             // server to the direct clients' router
			{inet, l.Server.PublicAddr.String()}, // router to server
		} {
			if out, err := l.RunIn(ctx, c.ns, "ping", "-c", "1", "-W", "2", c.to); err != nil {
				t.Errorf("%s cannot reach %s: %v\n%s", c.ns, c.to, err, out)
			}
		}
		// Nothing routes out of the lab: the internet namespace has no
		// default route.
		if out, _ := l.RunIn(ctx, inet, "ip", "route", "show", "default"); strings.TrimSpace(out) != "" {
			t.Errorf("internet namespace has a default route: %s", out)
		}
		if out, err := l.RunIn(ctx, lan, "ss", "-ltn"); err != nil || !strings.Contains(out, ":5201") {
			t.Errorf("no iperf3 server on the LAN host: %v\n%s", err, out)
		}

		// A listener the test opens in the server namespace answers there
		// and only there.
		ln, err := l.ListenIn(srv, "tcp", net.JoinHostPort(l.Server.LANGateway.String(), "8080"))
		if err != nil {
			t.Fatal(err)
		}
		go func() {
			for {
				conn, err := ln.Accept()
				if err != nil {
					return
				}
				line, _ := bufio.NewReader(conn).ReadString('\n')
				fmt.Fprintf(conn, "echo %s", line)
				conn.Close()
			}
		}()
		out, err := l.RunIn(ctx, lan, "bash", "-c", "exec 3<>/dev/tcp/10.99.0.1/8080; echo ping >&3; cat <&3")
		if err != nil || out != "echo ping\n" {
			t.Errorf("LAN host to listener in the server namespace: %q, %v", out, err)
		}
		// Look, do not dial: from the host namespace that address would be
		// routed off the machine.
		if out, _ := execOutput("ss", "-ltnH", "src", "10.99.0.1"); strings.TrimSpace(out) != "" {
			t.Errorf("listener shows in the host namespace:\n%s", out)
		}
		if out, _ := l.RunIn(ctx, srv, "ss", "-ltnH", "src", "10.99.0.1"); !strings.Contains(out, "10.99.0.1:8080") {
			t.Errorf("listener not in the server namespace:\n%s", out)
		}
	})
	assertNoLeftovers(t, prefix)
}

func execOutput(name string, args ...string) (string, error) {
	out, err := exec.Command(name, args...).CombinedOutput()
	return string(out), err
}
