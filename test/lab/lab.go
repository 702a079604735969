package lab

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Addresses of the topology. They never leave the namespaces a Lab creates:
// 198.51.100.0/24 and 203.0.113.0/24 are documentation ranges standing for
// the internet, 10.99.0.0/16 is the protected side.
var (
	serverPublic = netip.MustParseAddr("198.51.100.1")
	natOutside   = netip.MustParseAddr("198.51.100.2")
	inetWAN      = netip.MustParseAddr("198.51.100.254")
	wanPrefix    = netip.MustParsePrefix("198.51.100.0/24")
	directGW     = netip.MustParseAddr("203.0.113.1")
	directBits   = 25
	directFirst  = netip.MustParseAddr("203.0.113.10")
	natGW        = netip.MustParseAddr("203.0.113.129")
	natFirst     = netip.MustParseAddr("203.0.113.140")
	lanPrefix    = netip.MustParsePrefix("10.99.0.0/24")
	lanGW        = netip.MustParseAddr("10.99.0.1")
	lanHost      = netip.MustParseAddr("10.99.0.2")
	poolPrefix   = netip.MustParsePrefix("10.99.1.0/24")
)

// maxClientsPerSide bounds the guests on each client bridge (their
// addresses must stay inside the /25).
const maxClientsPerSide = 100

// iperfPorts is how many iperf3 servers the LAN host runs (5201 upwards), so
// that several clients can measure at once.
const iperfPorts = 4

// stateDir records which prefixes belong to live test processes, so that a
// later run can sweep the leftovers of one that was killed.
const stateDir = "/run/l2tpsecd-lab"

// prefixRE matches every name the lab creates: "lb" and four hex digits.
var prefixRE = regexp.MustCompile(`^(lb[0-9a-f]{4})-`)

// Server is the server side of the topology: the namespace where the server
// under test (l2tpsecd or a reference server) runs.
type Server struct {
	// Namespace is the network namespace (a name for ip netns).
	Namespace string
	// PublicIface holds PublicAddr; clients reach it across the internet
	// namespace, directly or through the NAT.
	PublicIface string
	PublicAddr  netip.Addr   // 198.51.100.1
	Public      netip.Prefix // 198.51.100.0/24
	// LANIface is the server's veth into the protected LAN; it holds
	// LANGateway.
	LANIface   string
	LAN        netip.Prefix // 10.99.0.0/24
	LANGateway netip.Addr   // 10.99.0.1, the server's address on the LAN
	// LANHost answers ping and runs iperf3 servers on ports 5201..5204. Its
	// default route points at LANGateway, so a VPN pool such as Pool is
	// reachable from it when the server routes the pool.
	LANHost netip.Addr // 10.99.0.2
	// Pool is a suggested address pool for the server under test, outside
	// the LAN prefix.
	Pool netip.Prefix // 10.99.1.0/24
}

// Command returns a command that runs in the server's namespace. The caller
// starts and waits for it; Lab.Start runs it in the background with its
// output collected and kills it at cleanup.
func (s *Server) Command(ctx context.Context, name string, args ...string) *exec.Cmd {
	return nsCommand(ctx, s.Namespace, name, args...)
}

// Lab is one topology of namespaces with its guests and processes. Create it
// with New; everything it creates is removed in t.Cleanup, also when the test
// fails or a guest hangs.
type Lab struct {
	// Prefix is the run's unique prefix of every namespace, link and
	// directory ("lb" and four hex digits).
	Prefix string
	Server Server
	// Dir is the run's directory (guest shares, console and process logs).
	Dir string

	t                       testing.TB
	nsInet, nsNAT, nsLAN    string
	bridgeDirect, bridgeNAT string

	mu          sync.Mutex
	namespaces  []string
	procs       []*proc
	logs        []logSource
	nextDirect  int
	nextNAT     int
	nextIperf   int
	clientCount int
}

// New checks the prerequisites (skipping or failing as Require does), sweeps
// the leftovers of earlier killed runs, and lays out the topology.
func New(t testing.TB) *Lab {
	t.Helper()
	Require(t)
	SweepStale(t.Logf)
	l := &Lab{t: t}
	if err := l.claimPrefix(); err != nil {
		t.Fatalf("lab: %v", err)
	}
	t.Cleanup(l.cleanup)
	if err := l.build(); err != nil {
		t.Fatalf("lab: building the topology: %v", err)
	}
	return l
}

func (l *Lab) claimPrefix() error {
	if err := os.MkdirAll(stateDir, 0o755); err != nil {
		return err
	}
	for range 100 {
		var b [2]byte
		rand.Read(b[:])
		p := "lb" + hex.EncodeToString(b[:])
		f, err := os.OpenFile(filepath.Join(stateDir, p), os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o644)
		if err != nil {
			continue // taken by a live or stale run
		}
		fmt.Fprintf(f, "%d\n", os.Getpid())
		f.Close()
		if _, err := os.Stat("/run/netns/" + p + "-srv"); err == nil {
			os.Remove(filepath.Join(stateDir, p))
			continue
		}
		l.Prefix = p
		dir := filepath.Join(os.TempDir(), "l2tpsecd-lab-"+p)
		os.RemoveAll(dir)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return err
		}
		l.Dir = dir
		return nil
	}
	return errors.New("no free run prefix")
}

func (l *Lab) name(suffix string) string { return l.Prefix + "-" + suffix }

// build lays out the namespaces and links drawn in the package comment.
func (l *Lab) build() error {
	p := l.name
	l.Server = Server{
		Namespace: p("srv"), PublicIface: p("s0"), PublicAddr: serverPublic, Public: wanPrefix,
		LANIface: p("l0"), LAN: lanPrefix, LANGateway: lanGW, LANHost: lanHost, Pool: poolPrefix,
	}
	l.nsInet, l.nsNAT, l.nsLAN = p("inet"), p("nat"), p("lan")
	l.bridgeDirect, l.bridgeNAT = p("bc"), p("bn")
	srv, inet, nat, lan := l.Server.Namespace, l.nsInet, l.nsNAT, l.nsLAN
	for _, ns := range []string{inet, srv, nat, lan} {
		if err := run("ip", "netns", "add", ns); err != nil {
			return err
		}
		l.mu.Lock()
		l.namespaces = append(l.namespaces, ns)
		l.mu.Unlock()
		if err := ipn(ns, "link", "set", "lo", "up"); err != nil {
			return err
		}
	}
	wan := fmt.Sprintf("/%d", wanPrefix.Bits())
	steps := [][]string{
		// The internet: one bridge for the server's segment, one for
		// directly routed clients.
		{inet, "link", "add", p("bw"), "type", "bridge"},
		{inet, "addr", "add", inetWAN.String() + wan, "dev", p("bw")},
		{inet, "link", "set", p("bw"), "up"},
		{inet, "link", "add", l.bridgeDirect, "type", "bridge"},
		{inet, "addr", "add", fmt.Sprintf("%s/%d", directGW, directBits), "dev", l.bridgeDirect},
		{inet, "link", "set", l.bridgeDirect, "up"},
		// The server's public side.
		{inet, "link", "add", p("s0i"), "type", "veth", "peer", "name", l.Server.PublicIface, "netns", srv},
		{inet, "link", "set", p("s0i"), "master", p("bw"), "up"},
		{srv, "addr", "add", serverPublic.String() + wan, "dev", l.Server.PublicIface},
		{srv, "link", "set", l.Server.PublicIface, "up"},
		{srv, "route", "add", "default", "via", inetWAN.String()},
		// The NAT's outside and inside.
		{inet, "link", "add", p("n0i"), "type", "veth", "peer", "name", p("n0"), "netns", nat},
		{inet, "link", "set", p("n0i"), "master", p("bw"), "up"},
		{nat, "addr", "add", natOutside.String() + wan, "dev", p("n0")},
		{nat, "link", "set", p("n0"), "up"},
		{nat, "route", "add", "default", "via", inetWAN.String()},
		{nat, "link", "add", l.bridgeNAT, "type", "bridge"},
		{nat, "addr", "add", fmt.Sprintf("%s/%d", natGW, directBits), "dev", l.bridgeNAT},
		{nat, "link", "set", l.bridgeNAT, "up"},
		// The protected LAN behind the server.
		{srv, "link", "add", l.Server.LANIface, "type", "veth", "peer", "name", p("l1"), "netns", lan},
		{srv, "addr", "add", fmt.Sprintf("%s/%d", lanGW, lanPrefix.Bits()), "dev", l.Server.LANIface},
		{srv, "link", "set", l.Server.LANIface, "up"},
		{lan, "addr", "add", fmt.Sprintf("%s/%d", lanHost, lanPrefix.Bits()), "dev", p("l1")},
		{lan, "link", "set", p("l1"), "up"},
		{lan, "route", "add", "default", "via", lanGW.String()},
	}
	for _, s := range steps {
		if err := ipn(s[0], s[1:]...); err != nil {
			return err
		}
	}
	for _, ns := range []string{inet, nat, srv} {
		if err := run("ip", "netns", "exec", ns, "sysctl", "-qw", "net.ipv4.ip_forward=1"); err != nil {
			return err
		}
	}
	// nft reads one statement per line.
	rules := fmt.Sprintf("table ip labnat {\n chain post {\n  type nat hook postrouting priority 100;\n  oifname %q masquerade\n }\n}\n", p("n0"))
	cmd := exec.Command("ip", "netns", "exec", nat, "nft", "-f", "-")
	cmd.Stdin = strings.NewReader(rules)
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("nft: %v: %s", err, out)
	}
	for i := range iperfPorts {
		c := nsCommand(context.Background(), lan, "iperf3", "-s", "-p", strconv.Itoa(5201+i))
		if _, err := l.Start(fmt.Sprintf("iperf3-server-%d", 5201+i), c); err != nil {
			return err
		}
	}
	return nil
}

// Start runs cmd in the background (in its own process group) with its
// output in a log file of the run; the log is printed when the test fails and
// the process group is killed at cleanup. Use it for the server under test:
//
//	l.Start("l2tpsecd", l.Server.Command(ctx, bin, "-config", cfg))
func (l *Lab) Start(name string, cmd *exec.Cmd) (*os.Process, error) {
	p, err := l.start(name, cmd)
	if err != nil {
		return nil, err
	}
	return p.cmd.Process, nil
}

func (l *Lab) start(name string, cmd *exec.Cmd) (*proc, error) {
	var f *os.File
	if cmd.Stdout == nil || cmd.Stderr == nil {
		logPath := filepath.Join(l.Dir, "proc-"+name+".log")
		var err error
		if f, err = os.Create(logPath); err != nil {
			return nil, err
		}
		if cmd.Stdout == nil {
			cmd.Stdout = f
		}
		if cmd.Stderr == nil {
			cmd.Stderr = f
		}
		l.AddLogFile(name, logPath)
	}
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.Setpgid = true
	if err := cmd.Start(); err != nil {
		if f != nil {
			f.Close()
		}
		return nil, fmt.Errorf("starting %s: %w", name, err)
	}
	p := &proc{name: name, cmd: cmd, done: make(chan struct{})}
	go func() {
		cmd.Wait()
		if f != nil {
			f.Close()
		}
		close(p.done)
	}()
	l.mu.Lock()
	l.procs = append(l.procs, p)
	l.mu.Unlock()
	return p, nil
}

// proc is a background process the lab started.
type proc struct {
	stopped sync.Once
	name    string
	cmd     *exec.Cmd
	done    chan struct{}
}

// stop ends the process group: SIGTERM, then SIGKILL after grace.
func (p *proc) stop(grace time.Duration) {
	p.stopped.Do(func() { p.stopOnce(grace) })
}

func (p *proc) stopOnce(grace time.Duration) {
	pid := p.cmd.Process.Pid
	select {
	case <-p.done:
	default:
		if grace > 0 {
			syscall.Kill(-pid, syscall.SIGTERM)
			select {
			case <-p.done:
			case <-time.After(grace):
			}
		}
	}
	// The group may hold children even after its leader exited (User-Mode
	// Linux helpers, a daemon's worker).
	syscall.Kill(-pid, syscall.SIGKILL)
	deadline := time.Now().Add(5 * time.Second)
	select {
	case <-p.done:
	case <-time.After(5 * time.Second):
	}
	// Members that outlived the leader die asynchronously; wait for them
	// so that whoever comes next (another SoftEther) finds them gone.
	for groupAlive(pid) && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
}

// procInfo is what the lab reads from /proc/PID/stat.
type procInfo struct {
	pid, pgid int
	comm      string
	state     byte
}

// processes lists the processes of the machine.
func processes() []procInfo {
	ents, _ := os.ReadDir("/proc")
	var ps []procInfo
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		data, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		// pid (comm) state ppid pgrp ...; comm may hold spaces and ')'.
		s := string(data)
		open, end := strings.IndexByte(s, '('), strings.LastIndexByte(s, ')')
		if open < 0 || end < open {
			continue
		}
		f := strings.Fields(s[end+1:])
		if len(f) < 3 || len(f[0]) == 0 {
			continue
		}
		pgid, _ := strconv.Atoi(f[2])
		ps = append(ps, procInfo{pid: pid, pgid: pgid, comm: s[open+1 : end], state: f[0][0]})
	}
	return ps
}

// groupAlive reports whether a process group still has a member that is not
// a zombie.
func groupAlive(pgid int) bool {
	for _, p := range processes() {
		if p.pgid == pgid && p.state != 'Z' {
			return true
		}
	}
	return false
}

func (l *Lab) cleanup() {
	if l.t.Failed() {
		l.dumpLogs()
	}
	l.mu.Lock()
	procs := l.procs
	l.procs = nil
	nss := l.namespaces
	l.namespaces = nil
	l.mu.Unlock()
	for i := len(procs) - 1; i >= 0; i-- {
		procs[i].stop(2 * time.Second)
	}
	for _, ns := range nss {
		killNamespace(ns)
	}
	if l.Dir != "" && os.Getenv(EnvKeep) == "" {
		os.RemoveAll(l.Dir)
	}
	os.Remove(filepath.Join(stateDir, l.Prefix))
}

// killNamespace kills every process left in a namespace of ours (by PID, as
// listed by ip netns pids) and deletes the namespace, which destroys its
// links.
func killNamespace(ns string) {
	for range 3 {
		out, _ := exec.Command("ip", "netns", "pids", ns).Output()
		pids := strings.Fields(string(out))
		if len(pids) == 0 {
			break
		}
		for _, s := range pids {
			if pid, err := strconv.Atoi(s); err == nil && pid > 1 && pid != os.Getpid() {
				syscall.Kill(pid, syscall.SIGKILL)
			}
		}
		time.Sleep(200 * time.Millisecond)
	}
	exec.Command("ip", "netns", "del", ns).Run()
}

// SweepStale removes what earlier runs that were killed left behind:
// namespaces (with the processes inside them) and run directories whose
// prefix belongs to no live test process. Prefixes of live processes are left
// alone, so parallel runs do not disturb each other.
func SweepStale(logf func(string, ...any)) {
	live := func(prefix string) bool {
		data, err := os.ReadFile(filepath.Join(stateDir, prefix))
		if err != nil {
			return false
		}
		pid, err := strconv.Atoi(strings.TrimSpace(string(data)))
		if err != nil || pid <= 0 {
			return false
		}
		return syscall.Kill(pid, 0) == nil || pid == os.Getpid()
	}
	stale := map[string]bool{}
	ents, _ := os.ReadDir("/run/netns")
	for _, e := range ents {
		if m := prefixRE.FindStringSubmatch(e.Name()); m != nil && !live(m[1]) {
			logf("lab: sweeping stale namespace %s", e.Name())
			killNamespace(e.Name())
			stale[m[1]] = true
		}
	}
	dirs, _ := filepath.Glob(filepath.Join(os.TempDir(), "l2tpsecd-lab-lb*"))
	for _, d := range dirs {
		p := strings.TrimPrefix(filepath.Base(d), "l2tpsecd-lab-")
		if len(p) == 6 && !live(p) {
			logf("lab: sweeping stale run directory %s", d)
			os.RemoveAll(d)
			stale[p] = true
		}
	}
	files, _ := os.ReadDir(stateDir)
	for _, f := range files {
		if len(f.Name()) == 6 && !live(f.Name()) {
			os.Remove(filepath.Join(stateDir, f.Name()))
		}
	}
}

// nsCommand builds a command that runs in a namespace.
func nsCommand(ctx context.Context, ns, name string, args ...string) *exec.Cmd {
	return exec.CommandContext(ctx, "ip", append([]string{"netns", "exec", ns, name}, args...)...)
}

// ipn runs ip -n NS ARGS.
func ipn(ns string, args ...string) error {
	return run("ip", append([]string{"-n", ns}, args...)...)
}

func run(name string, args ...string) error {
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("%s %s: %v: %s", name, strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
	return nil
}

// RunIn runs a command in one of the lab's namespaces and returns its
// combined output (for checks such as captures or ip xfrm state).
func (l *Lab) RunIn(ctx context.Context, ns, name string, args ...string) (string, error) {
	out, err := nsCommand(ctx, ns, name, args...).CombinedOutput()
	return string(out), err
}

// Namespaces returns the lab's namespaces: internet, server, NAT, LAN.
func (l *Lab) Namespaces() (inet, server, nat, lan string) {
	return l.nsInet, l.Server.Namespace, l.nsNAT, l.nsLAN
}

// Capture runs tcpdump -n on iface in namespace ns for d (or until ctx ends)
// and returns what it printed, e.g. to see UDP/500 float to UDP/4500 or raw
// ESP on the server's public side:
//
//	out, _ := l.Capture(ctx, l.Server.Namespace, l.Server.PublicIface, 5*time.Second, "esp or udp")
func (l *Lab) Capture(ctx context.Context, ns, iface string, d time.Duration, filter ...string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	args := append([]string{"-n", "-l", "-i", iface}, filter...)
	out, err := nsCommand(ctx, ns, "tcpdump", args...).CombinedOutput()
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		err = nil
	}
	return string(out), err
}
