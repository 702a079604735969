// Command l2tpsec-load is the load generator and test client of l2tpsecd:
// it runs N simulated L2TP/IPsec clients in one process (IKEv1 initiator with
// a pre-shared key, ESP in UDP, L2TP LAC, PPP client; see internal/vpnclient),
// connects them at a given rate, sends traffic through every tunnel, hangs
// them up and prints a summary.
//
//	l2tpsec-load -server 198.51.100.1 -psk SECRET -user 'user%03d' -password 'pass%03d' \
//	    -n 100 -rate 20 -duration 10s -traffic icmp -target 10.10.0.1 -pps 10 -size 100
//
// Each client binds two UDP ports of a local address (-local, a
// comma-separated list used round robin; ephemeral ports, or consecutive
// ones from -port-base), one for IKE to port 500 and one for IKE and ESP to
// 4500, and behaves as a client behind a NAT: the server sees many devices
// behind one public address, told apart by their ports and SPIs, all sending
// L2TP from port 1701.
//
// Traffic: icmp sends echo requests to -target and counts the replies (the
// daemon's gateway address answers); udp sends datagrams to -target:-port.
// The summary gives connected and failed clients by phase and reason, setup
// latency percentiles (in total and per phase), packets, bytes, Mbit/s and
// echo round trips. -json prints it as JSON.
//
// Exit status: 0 when every client connected, stayed up and hung up cleanly;
// 1 when some did not; 2 for usage errors.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/netip"
	"os"
	"os/signal"
	"sort"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/l2tpsecd/l2tpsecd/internal/clock"
	"github.com/l2tpsecd/l2tpsecd/internal/vpnclient"
	"github.com/l2tpsecd/l2tpsecd/ppp"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// run parses the flags, runs the load and prints the summary; it returns the
// exit status.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	opt, jsonOut, verbose, err := parseFlags(args, stderr)
	if err != nil {
		if err == flag.ErrHelp {
			return 0
		}
		fmt.Fprintf(stderr, "l2tpsec-load: %v\n", err)
		return 2
	}
	level := slog.LevelWarn
	if verbose {
		level = slog.LevelDebug
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))
	s := Run(ctx, opt, clock.Real{}, log)
	if jsonOut {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		_ = enc.Encode(s)
	} else {
		printSummary(stdout, opt, s)
	}
	if s.Failed > 0 || s.Dropped > 0 || s.HangupErrors > 0 {
		return 1
	}
	return 0
}

func parseFlags(args []string, stderr io.Writer) (opt Options, jsonOut, verbose bool, err error) {
	fs := flag.NewFlagSet("l2tpsec-load", flag.ContinueOnError)
	fs.SetOutput(stderr)
	server := fs.String("server", "", "server (concentrator) IPv4 address")
	ikePort := fs.Uint("ike-port", 500, "server IKE port")
	nattPort := fs.Uint("natt-port", 4500, "server NAT-T port")
	fs.StringVar(&opt.PSK, "psk", "", "IPsec pre-shared key (or $L2TPSEC_PSK)")
	fs.StringVar(&opt.User, "user", "", "PPP user name; a %d is replaced by the client number")
	fs.StringVar(&opt.Password, "password", "", "PPP password; a %d is replaced by the client number (or $L2TPSEC_PASSWORD)")
	fs.IntVar(&opt.UserStart, "user-start", 1, "number of the first client")
	authList := fs.String("auth", "mschapv2,chap,pap", "PPP authentication methods the clients agree to")
	locals := fs.String("local", "", "comma-separated local source addresses, used round robin (default: by route)")
	fs.IntVar(&opt.PortBase, "port-base", 0, "client i binds local ports BASE+2i (IKE) and BASE+2i+1 (ESP) (0: ephemeral ports)")
	fs.IntVar(&opt.Clients, "n", 1, "number of clients")
	fs.Float64Var(&opt.Rate, "rate", 10, "connection attempts per second (0: all at once)")
	fs.IntVar(&opt.Concurrency, "concurrency", 0, "setups in flight at most (0: no limit)")
	fs.DurationVar(&opt.Duration, "duration", 5*time.Second, "how long the connected clients send traffic before hanging up")
	traffic := fs.String("traffic", "icmp", "traffic per client: none, icmp (echo to -target) or udp (to -target:-port)")
	target := fs.String("target", "", "inner destination address (e.g. the server's gateway address)")
	port := fs.Uint("port", 9, "UDP destination port")
	fs.IntVar(&opt.Size, "size", 100, "IP packet size in bytes (28 to 1500)")
	fs.Float64Var(&opt.PPS, "pps", 10, "packets per second per client")
	fs.DurationVar(&opt.Timeout, "timeout", 30*time.Second, "setup timeout per client")
	fs.DurationVar(&opt.HangupWait, "hangup-timeout", 5*time.Second, "how long a hangup waits for the server's acknowledgements")
	fs.DurationVar(&opt.L2TPRetransmit, "l2tp-retransmit", 0, "first L2TP control retransmission timeout (0: 1s, as real clients)")
	fs.DurationVar(&opt.PPPRestart, "ppp-restart", 0, "PPP restart timer (0: 3s, as pppd)")
	fs.BoolVar(&opt.Trace, "trace", false, "log every client's IKE, L2TP and PPP negotiation (with -v)")
	fs.BoolVar(&jsonOut, "json", false, "print the summary as JSON")
	fs.BoolVar(&verbose, "v", false, "log each client's progress")
	if err = fs.Parse(args); err != nil {
		return
	}
	if fs.NArg() > 0 {
		return opt, false, false, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	if opt.Server, err = netip.ParseAddr(*server); err != nil || !opt.Server.Is4() {
		return opt, false, false, fmt.Errorf("-server: an IPv4 address is required (%q)", *server)
	}
	if *ikePort == 0 || *ikePort > 65535 || *nattPort == 0 || *nattPort > 65535 || *port > 65535 {
		return opt, false, false, fmt.Errorf("ports must be 1..65535")
	}
	opt.IKEPort, opt.NATTPort, opt.Port = uint16(*ikePort), uint16(*nattPort), uint16(*port)
	if opt.PSK == "" {
		opt.PSK = os.Getenv("L2TPSEC_PSK")
	}
	if opt.PSK == "" {
		return opt, false, false, fmt.Errorf("-psk (or $L2TPSEC_PSK) is required")
	}
	if opt.Password == "" {
		opt.Password = os.Getenv("L2TPSEC_PASSWORD")
	}
	for _, p := range []string{opt.User, opt.Password} {
		if strings.Count(p, "%") > 1 {
			return opt, false, false, fmt.Errorf("user and password patterns take at most one %%d")
		}
	}
	for _, m := range splitList(*authList) {
		am, err := ppp.ParseAuthMethod(m)
		if err != nil {
			return opt, false, false, fmt.Errorf("-auth: %v", err)
		}
		opt.AuthMethods = append(opt.AuthMethods, am)
	}
	for _, a := range splitList(*locals) {
		ad, err := netip.ParseAddr(a)
		if err != nil || !ad.Is4() {
			return opt, false, false, fmt.Errorf("-local: %q is not an IPv4 address", a)
		}
		opt.Locals = append(opt.Locals, ad)
	}
	if opt.Clients < 1 {
		return opt, false, false, fmt.Errorf("-n must be at least 1")
	}
	if opt.PortBase < 0 || (opt.PortBase > 0 && (opt.PortBase+2*opt.Clients-1 > 65535 ||
		(opt.PortBase <= 4500 && opt.PortBase+2*opt.Clients-1 >= 500))) {
		return opt, false, false, fmt.Errorf("-port-base: the %d ports from %d must fit below 65536 and avoid 500..4500", 2*opt.Clients, opt.PortBase)
	}
	if opt.Rate < 0 || opt.PPS < 0 || opt.Concurrency < 0 || opt.Duration < 0 {
		return opt, false, false, fmt.Errorf("-rate, -pps, -concurrency and -duration must not be negative")
	}
	if opt.L2TPRetransmit < 0 || opt.PPPRestart < 0 {
		return opt, false, false, fmt.Errorf("-l2tp-retransmit and -ppp-restart must not be negative")
	}
	if opt.Timeout <= 0 || opt.HangupWait <= 0 {
		return opt, false, false, fmt.Errorf("-timeout and -hangup-timeout must be positive")
	}
	if opt.Traffic, err = parseTraffic(*traffic); err != nil {
		return opt, false, false, err
	}
	if *target != "" {
		if opt.Target, err = netip.ParseAddr(*target); err != nil || !opt.Target.Is4() {
			return opt, false, false, fmt.Errorf("-target: %q is not an IPv4 address", *target)
		}
	}
	if opt.Traffic != TrafficNone && !opt.Target.IsValid() {
		return opt, false, false, fmt.Errorf("-traffic %s needs -target", opt.Traffic)
	}
	if opt.Size < vpnclient.IPv4HeaderLen+vpnclient.UDPLen+8 || opt.Size > vpnclient.MaxIPPacket {
		return opt, false, false, fmt.Errorf("-size must be %d..%d", vpnclient.IPv4HeaderLen+vpnclient.UDPLen+8, vpnclient.MaxIPPacket)
	}
	return opt, jsonOut, verbose, nil
}

func splitList(s string) []string {
	var out []string
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}

// printSummary writes the summary for people.
func printSummary(w io.Writer, opt Options, s Summary) {
	fmt.Fprintf(w, "clients %d: connected %d, failed %d, dropped %d, hung up %d (errors %d)\n",
		s.Clients, s.Connected, s.Failed, s.Dropped, s.HungUp, s.HangupErrors)
	for _, k := range sortedKeys(s.Failures) {
		fmt.Fprintf(w, "  failed  %-40s %d\n", k, s.Failures[k])
	}
	for _, k := range sortedKeys(s.DropReasons) {
		fmt.Fprintf(w, "  dropped %-40s %d\n", k, s.DropReasons[k])
	}
	fmt.Fprintf(w, "setup: %.2f s for %d connections, %.1f/s\n", s.SetupSeconds, s.Connected, s.SetupRate)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "latency ms\tn\tp50\tp90\tp99\tmax\t")
	row := func(name string, p Percentiles) {
		fmt.Fprintf(tw, "%s\t%d\t%.1f\t%.1f\t%.1f\t%.1f\t\n", name, p.N, p.P50, p.P90, p.P99, p.Max)
	}
	row("total", s.SetupMs)
	for _, p := range vpnclient.Phases {
		if x, ok := s.PhaseMs[p.String()]; ok {
			row(p.String(), x)
		}
	}
	if s.RTTMs.N > 0 {
		row("echo rtt", s.RTTMs)
	}
	tw.Flush()
	if opt.Traffic != TrafficNone {
		fmt.Fprintf(w, "traffic %s for %.1f s: out %d packets %d bytes (%.2f Mbit/s), in %d packets %d bytes (%.2f Mbit/s), send errors %d\n",
			opt.Traffic, s.TrafficSeconds, s.PacketsOut, s.BytesOut, s.MbitOut, s.PacketsIn, s.BytesIn, s.MbitIn, s.SendErrors)
	}
	fmt.Fprintf(w, "hangup: %.2f s\n", s.HangupSeconds)
}

func sortedKeys(m map[string]int) []string {
	var k []string
	for x := range m {
		k = append(k, x)
	}
	sort.Strings(k)
	return k
}
