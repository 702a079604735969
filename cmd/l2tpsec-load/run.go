package main

import (
	"context"
	"fmt"
	"log/slog"
	"net/netip"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/l2tpsecd/l2tpsecd/internal/clock"
	"github.com/l2tpsecd/l2tpsecd/internal/vpnclient"
	"github.com/l2tpsecd/l2tpsecd/ppp"
)

// Traffic is what each connected client sends during the run.
type Traffic uint8

// Traffic kinds.
const (
	TrafficNone Traffic = iota
	TrafficICMP         // ICMP echo requests to Target, replies counted
	TrafficUDP          // UDP datagrams to Target:Port (replies counted if any)
)

func (t Traffic) String() string {
	switch t {
	case TrafficNone:
		return "none"
	case TrafficICMP:
		return "icmp"
	case TrafficUDP:
		return "udp"
	}
	return fmt.Sprintf("traffic(%d)", uint8(t))
}

func parseTraffic(s string) (Traffic, error) {
	switch s {
	case "none", "":
		return TrafficNone, nil
	case "icmp", "echo":
		return TrafficICMP, nil
	case "udp":
		return TrafficUDP, nil
	}
	return 0, fmt.Errorf("unknown traffic %q (none, icmp, udp)", s)
}

// Options are the run's parameters (the flags).
type Options struct {
	Server      netip.Addr
	IKEPort     uint16
	NATTPort    uint16
	PSK         string
	User        string // may contain one %d (client number)
	Password    string // may contain one %d
	UserStart   int    // number of the first client
	AuthMethods []ppp.AuthMethod
	Locals      []netip.Addr // source addresses, used round robin
	// PortBase, when set, gives client i the local ports PortBase+2i (IKE)
	// and PortBase+2i+1 (ESP) instead of ephemeral ones.
	PortBase    int
	Clients     int
	Rate        float64 // connection attempts per second (0: all at once)
	Concurrency int     // setups in flight at most (0: unlimited)
	Duration    time.Duration
	Traffic     Traffic
	Target      netip.Addr
	Port        uint16
	Size        int     // IP packet size
	PPS         float64 // packets per second per client
	Timeout     time.Duration
	HangupWait  time.Duration
	// L2TPRetransmit and PPPRestart override the clients' first L2TP
	// retransmission timeout and PPP restart timer (0: 1 s and 3 s).
	L2TPRetransmit time.Duration
	PPPRestart     time.Duration
	Trace          bool
}

// Summary is what a run measured.
type Summary struct {
	Clients   int            `json:"clients"`
	Connected int            `json:"connected"`
	Failed    int            `json:"failed"`
	Failures  map[string]int `json:"failures,omitempty"` // "phase: reason" -> count
	// Dropped counts clients that went down before the hangup.
	Dropped        int                    `json:"dropped"`
	DropReasons    map[string]int         `json:"drop_reasons,omitempty"`
	SetupSeconds   float64                `json:"setup_seconds"` // first attempt to last connection
	SetupRate      float64                `json:"setup_rate_per_second"`
	SetupMs        Percentiles            `json:"setup_ms"`
	PhaseMs        map[string]Percentiles `json:"phase_ms"`
	TrafficSeconds float64                `json:"traffic_seconds"`
	PacketsOut     uint64                 `json:"packets_out"`
	BytesOut       uint64                 `json:"bytes_out"`
	PacketsIn      uint64                 `json:"packets_in"`
	BytesIn        uint64                 `json:"bytes_in"`
	SendErrors     uint64                 `json:"send_errors"`
	MbitOut        float64                `json:"mbit_per_second_out"`
	MbitIn         float64                `json:"mbit_per_second_in"`
	RTTMs          Percentiles            `json:"rtt_ms"`
	HungUp         int                    `json:"hung_up"`
	HangupErrors   int                    `json:"hangup_errors"`
	HangupSeconds  float64                `json:"hangup_seconds"`
}

// Percentiles of a latency distribution in milliseconds.
type Percentiles struct {
	N   int     `json:"n"`
	P50 float64 `json:"p50"`
	P90 float64 `json:"p90"`
	P99 float64 `json:"p99"`
	Max float64 `json:"max"`
}

// percentiles sorts d and picks nearest-rank percentiles.
func percentiles(d []time.Duration) Percentiles {
	if len(d) == 0 {
		return Percentiles{}
	}
	sort.Slice(d, func(i, j int) bool { return d[i] < d[j] })
	at := func(q float64) float64 {
		i := int(q*float64(len(d))+0.999999) - 1
		if i < 0 {
			i = 0
		}
		if i >= len(d) {
			i = len(d) - 1
		}
		return ms(d[i])
	}
	return Percentiles{N: len(d), P50: at(0.50), P90: at(0.90), P99: at(0.99), Max: ms(d[len(d)-1])}
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// expand fills the client number into a user or password pattern.
func expand(pattern string, n int) string {
	if strings.Contains(pattern, "%") {
		return fmt.Sprintf(pattern, n)
	}
	return pattern
}

// flow is one client's traffic state, updated from its OnIP callback and
// its sender.
type flow struct {
	id         uint16
	packetsIn  atomic.Uint64
	bytesIn    atomic.Uint64
	packetsOut uint64
	bytesOut   uint64
	sendErrs   uint64
	mu         sync.Mutex
	rtts       []time.Duration
}

// maxRTTSamples bounds the RTT samples kept per client.
const maxRTTSamples = 4096

// runner holds one run's shared state.
type runner struct {
	opt Options
	clk clock.Clock
	log *slog.Logger
	t0  time.Time
}

// result is one client's outcome.
type result struct {
	c       *vpnclient.Client
	timings vpnclient.Timings
	err     error
	fl      *flow
	done    time.Time
}

// Run connects the clients at the configured rate, runs the traffic for
// Duration once every setup has finished, hangs everyone up and summarises.
func Run(ctx context.Context, opt Options, clk clock.Clock, log *slog.Logger) Summary {
	r := &runner{opt: opt, clk: clk, log: log, t0: clk.Now()}
	results := make([]result, opt.Clients)
	var wg sync.WaitGroup
	var sem chan struct{}
	if opt.Concurrency > 0 {
		sem = make(chan struct{}, opt.Concurrency)
	}
	for i := 0; i < opt.Clients; i++ {
		if opt.Rate > 0 && i > 0 {
			next := r.t0.Add(time.Duration(float64(i) / opt.Rate * float64(time.Second)))
			if !sleepUntil(ctx, clk, next) {
				for j := i; j < opt.Clients; j++ {
					results[j].err = &vpnclient.SetupError{Phase: vpnclient.PhaseSocket, Reason: "not_started", Err: ctx.Err()}
				}
				break
			}
		}
		if sem != nil {
			select {
			case sem <- struct{}{}:
			case <-ctx.Done():
			}
		}
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			if sem != nil {
				defer func() { <-sem }()
			}
			results[i] = r.dial(ctx, i)
		}(i)
	}
	wg.Wait()

	s := Summary{Clients: opt.Clients, Failures: map[string]int{}, DropReasons: map[string]int{}, PhaseMs: map[string]Percentiles{}}
	var totals []time.Duration
	phases := map[vpnclient.Phase][]time.Duration{}
	var lastUp time.Time
	var up []*result
	for i := range results {
		res := &results[i]
		if res.err != nil {
			s.Failed++
			s.Failures[failureKey(res.err)]++
			continue
		}
		s.Connected++
		up = append(up, res)
		totals = append(totals, res.timings.Total)
		for _, p := range vpnclient.Phases {
			if d := res.timings.Phase(p); d > 0 {
				phases[p] = append(phases[p], d)
			}
		}
		if res.done.After(lastUp) {
			lastUp = res.done
		}
	}
	s.SetupMs = percentiles(totals)
	for p, d := range phases {
		s.PhaseMs[p.String()] = percentiles(d)
	}
	if s.Connected > 0 {
		s.SetupSeconds = lastUp.Sub(r.t0).Seconds()
		if s.SetupSeconds > 0 {
			s.SetupRate = float64(s.Connected) / s.SetupSeconds
		}
	}

	// Traffic on every connected client for Duration.
	if opt.Duration > 0 && len(up) > 0 {
		tctx, cancel := context.WithCancel(ctx)
		end := clk.Now().Add(opt.Duration)
		stop := clk.AfterFunc(opt.Duration, cancel)
		start := clk.Now()
		var twg sync.WaitGroup
		for _, res := range up {
			twg.Add(1)
			go func(res *result) {
				defer twg.Done()
				r.traffic(tctx, res, end)
			}(res)
		}
		twg.Wait()
		stop.Stop()
		cancel()
		// Late replies still count: wait until every packet is answered,
		// or none came back for 200 ms (a target that does not echo), at
		// most 2 s.
		if opt.Traffic != TrafficNone {
			r.awaitReplies(ctx, up)
		}
		s.TrafficSeconds = clk.Now().Sub(start).Seconds()
	}

	var rtts []time.Duration
	for _, res := range up {
		fl := res.fl
		s.PacketsOut += fl.packetsOut
		s.BytesOut += fl.bytesOut
		s.SendErrors += fl.sendErrs
		s.PacketsIn += fl.packetsIn.Load()
		s.BytesIn += fl.bytesIn.Load()
		fl.mu.Lock()
		rtts = append(rtts, fl.rtts...)
		fl.mu.Unlock()
	}
	s.RTTMs = percentiles(rtts)
	if s.TrafficSeconds > 0 {
		s.MbitOut = float64(s.BytesOut) * 8 / 1e6 / s.TrafficSeconds
		s.MbitIn = float64(s.BytesIn) * 8 / 1e6 / s.TrafficSeconds
	}

	// Hang up everyone still up, in parallel.
	hstart := clk.Now()
	var hwg sync.WaitGroup
	var mu sync.Mutex
	for _, res := range up {
		select {
		case <-res.c.Done():
			s.Dropped++
			s.DropReasons[res.c.Reason()]++
			res.c.Close()
			continue
		default:
		}
		hwg.Add(1)
		go func(res *result) {
			defer hwg.Done()
			hctx, cancel := context.WithTimeout(context.Background(), opt.HangupWait)
			defer cancel()
			err := res.c.Hangup(hctx)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				s.HangupErrors++
				r.log.Warn("hangup", "user", res.c.Addr(), "err", err)
			} else {
				s.HungUp++
			}
		}(res)
	}
	hwg.Wait()
	s.HangupSeconds = clk.Now().Sub(hstart).Seconds()
	return s
}

// failureKey is the summary's label of a setup failure.
func failureKey(err error) string {
	if se, ok := err.(*vpnclient.SetupError); ok {
		return se.Phase.String() + ": " + se.Reason
	}
	return "other: " + err.Error()
}

// dial connects client number i.
func (r *runner) dial(ctx context.Context, i int) result {
	o := r.opt
	n := o.UserStart + i
	fl := &flow{id: uint16(n)}
	cfg := vpnclient.Config{
		Server: o.Server, IKEPort: o.IKEPort, NATTPort: o.NATTPort, PSK: []byte(o.PSK),
		User: expand(o.User, n), Password: expand(o.Password, n), AuthMethods: o.AuthMethods,
		L2TPRetransmit: o.L2TPRetransmit, PPPRestart: o.PPPRestart,
		Clock: r.clk, Logger: r.log.With("client", n), Trace: o.Trace,
		OnIP: func(pkt []byte) { r.onIP(fl, pkt) },
	}
	if len(o.Locals) > 0 {
		cfg.Local = o.Locals[i%len(o.Locals)]
	}
	if o.PortBase > 0 {
		cfg.IKELocalPort, cfg.ESPLocalPort = uint16(o.PortBase+2*i), uint16(o.PortBase+2*i+1)
	}
	dctx, cancel := context.WithTimeout(ctx, o.Timeout)
	defer cancel()
	c, t, err := vpnclient.Dial(dctx, cfg)
	if err != nil {
		r.log.Warn("setup failed", "client", n, "err", err)
		return result{timings: t, err: err, fl: fl}
	}
	r.log.Debug("connected", "client", n, "addr", c.Addr(), "ms", ms(t.Total))
	return result{c: c, timings: t, fl: fl, done: r.clk.Now()}
}

// onIP counts what comes back and measures echo round trips.
func (r *runner) onIP(fl *flow, pkt []byte) {
	var p vpnclient.Packet
	if vpnclient.ParsePacket(pkt, &p) != nil {
		return
	}
	switch {
	case p.Proto == vpnclient.IPProtoICMP && p.Type == vpnclient.ICMPEchoReply && p.ID == fl.id:
	case p.Proto == vpnclient.IPProtoUDP && p.DstPort == udpSourcePort:
	default:
		return
	}
	fl.packetsIn.Add(1)
	fl.bytesIn.Add(uint64(len(pkt)))
	if st, ok := p.Stamp(); ok {
		rtt := r.clk.Now().Sub(r.t0) - time.Duration(st)
		if rtt >= 0 {
			fl.mu.Lock()
			if len(fl.rtts) < maxRTTSamples {
				fl.rtts = append(fl.rtts, rtt)
			}
			fl.mu.Unlock()
		}
	}
}

// udpSourcePort is the inner source port of generated UDP.
const udpSourcePort = 40000

// traffic sends PPS packets per second until ctx ends or end passes.
func (r *runner) traffic(ctx context.Context, res *result, end time.Time) {
	o := r.opt
	if o.Traffic == TrafficNone || o.PPS <= 0 || !o.Target.IsValid() {
		<-ctx.Done()
		return
	}
	c, fl := res.c, res.fl
	buf := make([]byte, 0, vpnclient.MaxIPPacket)
	interval := time.Duration(float64(time.Second) / o.PPS)
	pc := newPacer(r.clk)
	defer pc.stop()
	start := r.clk.Now()
	for seq := 0; ; seq++ {
		next := start.Add(time.Duration(seq) * interval)
		if !next.Before(end) || !pc.until(ctx, next) {
			return
		}
		select {
		case <-c.Done():
			return
		default:
		}
		stamp := uint64(r.clk.Now().Sub(r.t0))
		switch o.Traffic {
		case TrafficICMP:
			buf = vpnclient.AppendICMPEcho(buf[:0], c.Addr(), o.Target, vpnclient.ICMPEchoRequest, fl.id, uint16(seq), stamp, o.Size)
		case TrafficUDP:
			buf = vpnclient.AppendUDP(buf[:0], c.Addr(), o.Target, udpSourcePort, o.Port, stamp, o.Size)
		}
		if err := c.SendIP(buf); err != nil {
			fl.sendErrs++
			continue
		}
		fl.packetsOut++
		fl.bytesOut += uint64(len(buf))
	}
}

// sleepUntil waits on clk until t; false when ctx ended first.
func sleepUntil(ctx context.Context, clk clock.Clock, t time.Time) bool {
	d := t.Sub(clk.Now())
	if d <= 0 {
		return ctx.Err() == nil
	}
	ch := make(chan struct{})
	tm := clk.AfterFunc(d, func() { close(ch) })
	defer tm.Stop()
	select {
	case <-ch:
		return true
	case <-ctx.Done():
		return false
	}
}

// pacer waits on one reusable timer, so that pacing packets allocates
// nothing per packet.
type pacer struct {
	clk clock.Clock
	ch  chan struct{}
	t   clock.Timer
}

func newPacer(clk clock.Clock) *pacer {
	p := &pacer{clk: clk, ch: make(chan struct{}, 1)}
	p.t = clk.AfterFunc(time.Hour, p.fire)
	p.t.Stop()
	return p
}

func (p *pacer) fire() {
	select {
	case p.ch <- struct{}{}:
	default:
	}
}

// until waits until t (at once when t has passed); false when ctx ended.
func (p *pacer) until(ctx context.Context, t time.Time) bool {
	d := t.Sub(p.clk.Now())
	if d <= 0 {
		return ctx.Err() == nil
	}
	select {
	case <-p.ch: // a stale tick
	default:
	}
	p.t.Reset(d)
	select {
	case <-p.ch:
		return true
	case <-ctx.Done():
		p.t.Stop()
		return false
	}
}

func (p *pacer) stop() { p.t.Stop() }

// awaitReplies waits for outstanding replies: until everything sent was
// answered, nothing arrived for 200 ms, or 2 s passed.
func (r *runner) awaitReplies(ctx context.Context, up []*result) {
	count := func() (in, out uint64) {
		for _, res := range up {
			in += res.fl.packetsIn.Load()
			out += res.fl.packetsOut
		}
		return in, out
	}
	deadline := r.clk.Now().Add(2 * time.Second)
	last, _ := count()
	quietSince := r.clk.Now()
	for r.clk.Now().Before(deadline) {
		if !sleepUntil(ctx, r.clk, r.clk.Now().Add(10*time.Millisecond)) {
			return
		}
		in, out := count()
		if in >= out {
			return
		}
		if in != last {
			last, quietSince = in, r.clk.Now()
		} else if r.clk.Now().Sub(quietSince) >= 200*time.Millisecond {
			return
		}
	}
}
