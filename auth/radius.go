// # RADIUS
//
// RadiusAuth, RadiusAcct and DAEServer are the RADIUS back end: RFC 2865
// (authentication), RFC 2866 and RFC 2869 (accounting, Gigawords,
// Event-Timestamp, Acct-Interim-Interval), RFC 3579 (EAP pass-through and
// Message-Authenticator on every Access-Request), RFC 2868 (tunnel
// attributes), RFC 2548 (Microsoft attributes for MS-CHAPv2 and DNS), RFC
// 2759 (MS-CHAPv2) and RFC 5176 (Disconnect and CoA). Attributes are built
// and read with layeh.com/radius and its rfc* and vendors/microsoft
// packages; this package adds servers with failover and dead-server
// detection, retransmission on the injected clock, the checks on replies,
// the on-disk accounting queue and the metrics.
//
// How the server wires it:
//
//	m := auth.NewRadiusMetrics(reg)             // once per registry
//	cfg := auth.RadiusConfig{
//		Servers:       []auth.RadiusServer{{Addr: "10.0.0.5:1812", Secret: s}, {Addr: "10.0.0.6:1812", Secret: s}},
//		NASIdentifier: "vpn-1", Timeout: 3 * time.Second, Retries: 2,
//		Clock: clock.Real{}, Log: log, Metrics: m,
//	}
//	ra, err := auth.NewRadiusAuth(cfg)         // an auth.Authenticator; ra.Close() when replaced
//	ra.AuthenticateRadius(ctx, req, done)       // same, with RadiusReply (InterimInterval, Reply-Message, E= code)
//	ra.AuthenticateEAP(ctx, eapReq, done)       // one EAP round: ppp.AuthRequest.EAPMessage/EAPState <-> EAPRequest/EAPResult
//
//	acfg := cfg
//	acfg.Servers = acctServers                  // port 1813
//	acct, err := auth.NewRadiusAcct(acfg, auth.AcctConfig{StateDir: "/var/lib/l2tpsecd"})
//	defer acct.Close()                          // an auth.Accounter; its disk queue is reloaded at start
//	acct.Account(auth.AcctRecord{Status: auth.AcctOn})  // at start (AcctOff at shutdown, after the Stops)
//	acct.Account(startRecord)                   // Start, then per session:
//	it := auth.StartInterims(clk, acct, auth.InterimInterval(configured, reply.InterimInterval), startRecord, readCounters)
//	it.Stop()                                   // before the Stop record
//
//	dae, err := auth.ListenDAE(auth.DAEConfig{Addr: ":3799", Secret: s, Allowed: nets, Clock: clk, Log: log, Metrics: m}, sessions)
//	go dae.Serve()                              // sessions implements auth.SessionControl; dae.Close() to stop
//
// Delivery guarantees of accounting: records are sent in order by one
// sender; when every server fails they go to StateDir/acct.queue.<n>
// (fsynced) and are sent from there, in order, once a server answers,
// including after a restart. A Stop is written to disk as soon as it is
// accounted (by a goroutine of the accounter, not the caller), with every
// record accounted before it. Starts and Interim-Updates accepted while a
// server answers are only in memory until sent (a crash in that window of
// one exchange loses them); Close writes them to disk. When the queue reaches AcctConfig.MaxQueueBytes
// the oldest Interim-Updates are dropped first, then new Starts and
// Interim-Updates are refused (counted in acct_queue_dropped_total); Stops
// are always written.
package auth

import (
	"context"
	"crypto/hmac"
	"crypto/md5"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"layeh.com/radius"
	"layeh.com/radius/rfc2869"

	"github.com/l2tpsecd/l2tpsecd/internal/clock"
)

// RADIUS errors. Exchanges wrap them with the server's address.
var (
	ErrNoServer          = errors.New("auth: radius: no server configured")
	ErrAllServersDead    = errors.New("auth: radius: every server is marked dead")
	ErrTimeout           = errors.New("auth: radius: no reply")
	ErrBadReply          = errors.New("auth: radius: reply failed the authenticator check")
	ErrBadMsgAuth        = errors.New("auth: radius: bad Message-Authenticator")
	ErrMissingMsgAuth    = errors.New("auth: radius: Message-Authenticator missing")
	ErrBadConfig         = errors.New("auth: radius: bad configuration")
	ErrTooBusy           = errors.New("auth: radius: too many requests outstanding")
	ErrQueueFull         = errors.New("auth: accounting queue full")
	ErrQueueCorrupt      = errors.New("auth: accounting queue file corrupt")
	ErrDAEMalformed      = errors.New("auth: dae: malformed request")
	ErrDAEBadAuth        = errors.New("auth: dae: bad request authenticator")
	ErrDAEUnsupportedReq = errors.New("auth: dae: not a Disconnect-Request or CoA-Request")
	ErrDAEStale          = errors.New("auth: dae: Event-Timestamp outside the window")
	ErrDAENotAllowed     = errors.New("auth: dae: source address not allowed")
)

// RadiusServer is one RADIUS server: its UDP address ("host:port") and the
// shared secret.
type RadiusServer struct {
	Addr   string
	Secret []byte
}

// RadiusConfig configures a set of RADIUS servers (authentication or
// accounting) and the NAS attributes sent to them.
type RadiusConfig struct {
	// Servers are tried in this order; a server marked dead is skipped
	// until its hold time has passed.
	Servers []RadiusServer
	// NASIdentifier and NASIPAddress identify this concentrator; at least
	// one is sent (RFC 2865 section 4.1). An empty identifier and an
	// invalid address are left out.
	NASIdentifier string
	NASIPAddress  netip.Addr
	// Timeout is how long to wait for a reply before retransmitting
	// (default 3 s); Retries how many retransmissions to send to one server
	// before trying the next (default 2, so 3 tries).
	Timeout time.Duration
	Retries int
	// DeadAfter is the number of consecutive exchanges without reply after
	// which a server is marked dead (default 3); DeadTime how long it stays
	// dead before it is tried again (default 60 s).
	DeadAfter int
	DeadTime  time.Duration
	// MaxOutstanding bounds the requests in flight (default 1024); beyond
	// it a request fails at once with ReasonBackendUnavailable rather than
	// piling up behind a slow server.
	MaxOutstanding int
	// RequireMessageAuthenticator refuses Access-Accept/Reject/Challenge
	// without a Message-Authenticator (the defence against the BlastRADIUS
	// forgery, CVE-2024-3596). FreeRADIUS before 3.2.5 sends one only for
	// EAP, so it is off by default; replies to EAP always need one.
	RequireMessageAuthenticator bool
	// ProbeDeadServers sends a dead server Status-Server requests (RFC
	// 5997) every DeadTime instead of giving it a user's request, and
	// takes it back when it answers. Only for servers that answer
	// Status-Server (FreeRADIUS does with status_server = yes; Windows NPS
	// does not: such a server would stay dead).
	ProbeDeadServers bool
	Clock            clock.Clock    // default clock.Real{}
	Log              *slog.Logger   // default: discard
	Metrics          *RadiusMetrics // default: unregistered metrics
}

func (c *RadiusConfig) setDefaults() error {
	if len(c.Servers) == 0 {
		return ErrNoServer
	}
	for _, s := range c.Servers {
		if s.Addr == "" || len(s.Secret) == 0 {
			return fmt.Errorf("%w: server %q needs an address and a secret", ErrBadConfig, s.Addr)
		}
	}
	if c.Timeout <= 0 {
		c.Timeout = 3 * time.Second
	}
	if c.Retries < 0 {
		return fmt.Errorf("%w: negative retries", ErrBadConfig)
	}
	if c.Retries == 0 {
		c.Retries = 2
	}
	if c.DeadAfter <= 0 {
		c.DeadAfter = 3
	}
	if c.DeadTime <= 0 {
		c.DeadTime = 60 * time.Second
	}
	if c.MaxOutstanding <= 0 {
		c.MaxOutstanding = 1024
	}
	if c.Clock == nil {
		c.Clock = clock.Real{}
	}
	if c.Log == nil {
		c.Log = slog.New(slog.DiscardHandler)
	}
	if c.Metrics == nil {
		c.Metrics = NewRadiusMetrics(nil)
	}
	return nil
}

// RadiusMetrics are the Prometheus metrics of the RADIUS back end, shared by
// the authenticator, the accounter and the DAE listener of one daemon.
type RadiusMetrics struct {
	Requests    *prometheus.CounterVec   // server, type, result
	Latency     *prometheus.HistogramVec // server, type
	DeadServers *prometheus.GaugeVec     // kind (auth, acct)
	QueueLen    prometheus.Gauge         // accounting records on disk
	QueueDrops  *prometheus.CounterVec   // status
	DAE         *prometheus.CounterVec   // type, result
}

// NewRadiusMetrics creates the metrics and registers them on reg (nil: not
// registered, for tests and for a daemon without metrics).
func NewRadiusMetrics(reg prometheus.Registerer) *RadiusMetrics {
	m := &RadiusMetrics{
		Requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "l2tpsecd", Subsystem: "radius", Name: "requests_total",
			Help: "RADIUS exchanges by server, packet type and result (accept, reject, challenge, response, timeout, error).",
		}, []string{"server", "type", "result"}),
		Latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: "l2tpsecd", Subsystem: "radius", Name: "latency_seconds",
			Help:    "Time from the first transmission of a RADIUS request to its valid reply.",
			Buckets: prometheus.ExponentialBuckets(0.001, 2, 14),
		}, []string{"server", "type"}),
		DeadServers: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Namespace: "l2tpsecd", Subsystem: "radius", Name: "dead_servers",
			Help: "RADIUS servers currently marked dead, by kind (auth, acct).",
		}, []string{"kind"}),
		QueueLen: prometheus.NewGauge(prometheus.GaugeOpts{
			Namespace: "l2tpsecd", Subsystem: "radius", Name: "acct_queue_records",
			Help: "Accounting records waiting in the on-disk queue.",
		}),
		QueueDrops: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "l2tpsecd", Subsystem: "radius", Name: "acct_queue_dropped_total",
			Help: "Accounting records dropped because the on-disk queue was full, by status type.",
		}, []string{"status"}),
		DAE: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "l2tpsecd", Subsystem: "radius", Name: "dae_requests_total",
			Help: "Disconnect/CoA requests by type and result (ack, nak, ignored_source, bad_auth, stale, malformed).",
		}, []string{"type", "result"}),
	}
	if reg != nil {
		for _, c := range []prometheus.Collector{m.Requests, m.Latency, m.DeadServers, m.QueueLen, m.QueueDrops, m.DAE} {
			reg.MustRegister(c)
		}
	}
	return m
}

// serverState is the liveness of one server. Its fields are guarded by
// serverSet.mu.
type serverState struct {
	RadiusServer
	timeouts  int       // consecutive exchanges without reply
	deadUntil time.Time // zero: alive
}

// serverSet chooses servers in configured order, skipping dead ones. It is
// the dead-server logic, separate from the sockets so that it can be tested
// on the fake clock.
type serverSet struct {
	kind      string
	deadAfter int
	deadTime  time.Duration
	clk       clock.Clock
	log       *slog.Logger
	gauge     prometheus.Gauge
	// probe, when set, is started (on its own goroutine) DeadTime after
	// a server is marked dead; dead servers are then never candidates.
	probe func(*serverState)

	mu      sync.Mutex
	servers []*serverState
}

func newServerSet(kind string, cfg *RadiusConfig) *serverSet {
	s := &serverSet{
		kind: kind, deadAfter: cfg.DeadAfter, deadTime: cfg.DeadTime,
		clk: cfg.Clock, log: cfg.Log, gauge: cfg.Metrics.DeadServers.WithLabelValues(kind),
	}
	for _, srv := range cfg.Servers {
		s.servers = append(s.servers, &serverState{RadiusServer: srv})
	}
	return s
}

// candidates returns the servers to try, in order: every live server, and
// those whose hold time has passed (they get one more chance).
func (s *serverSet) candidates() []*serverState {
	now := s.clk.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]*serverState, 0, len(s.servers))
	for _, srv := range s.servers {
		if srv.deadUntil.IsZero() || s.probe == nil && !now.Before(srv.deadUntil) {
			out = append(out, srv)
		}
	}
	return out
}

// report records the outcome of one exchange with srv: answered or not.
func (s *serverSet) report(srv *serverState, answered bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if answered {
		if !srv.deadUntil.IsZero() {
			s.log.Info("radius server alive again", "kind", s.kind, "server", srv.Addr)
		}
		srv.timeouts = 0
		srv.deadUntil = time.Time{}
		s.updateGaugeLocked()
		return
	}
	now := s.clk.Now()
	if !srv.deadUntil.IsZero() && now.Before(srv.deadUntil) {
		// A late failure of a request sent before the server was marked
		// dead: it is held off already.
		return
	}
	srv.timeouts++
	if !srv.deadUntil.IsZero() || srv.timeouts >= s.deadAfter {
		// A server already dead that failed its second chance, or one
		// that just reached the limit: hold it off again.
		srv.deadUntil = now.Add(s.deadTime)
		srv.timeouts = 0
		if s.probe != nil {
			s.clk.AfterFunc(s.deadTime, func() { go s.probe(srv) })
		}
		s.log.Warn("radius server marked dead", "kind", s.kind, "server", srv.Addr, "hold", s.deadTime)
	}
	s.updateGaugeLocked()
}

func (s *serverSet) updateGaugeLocked() {
	n := 0
	for _, srv := range s.servers {
		if !srv.deadUntil.IsZero() {
			n++
		}
	}
	s.gauge.Set(float64(n))
}

// onProbation reports whether srv was marked dead and is being tried again.
func (s *serverSet) onProbation(srv *serverState) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return !srv.deadUntil.IsZero()
}

// dead reports whether srv is currently held off (for tests and logs).
func (s *serverSet) dead(i int) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	d := s.servers[i].deadUntil
	return !d.IsZero() && s.clk.Now().Before(d)
}

// client sends requests to a serverSet with retransmission and failover.
type client struct {
	cfg     RadiusConfig
	servers *serverSet
	slots   chan struct{} // MaxOutstanding tokens
	closed  atomic.Bool   // no more probes
}

func newClient(kind string, cfg RadiusConfig) (*client, error) {
	if err := cfg.setDefaults(); err != nil {
		return nil, err
	}
	c := &client{cfg: cfg, servers: newServerSet(kind, &cfg), slots: make(chan struct{}, cfg.MaxOutstanding)}
	if cfg.ProbeDeadServers {
		c.servers.probe = c.probe
	}
	return c, nil
}

// probe sends srv one Status-Server (RFC 5997 section 3, with
// Message-Authenticator); exchange reports the outcome, which revives the
// server or holds it off for another DeadTime and another probe.
func (c *client) probe(srv *serverState) {
	if c.closed.Load() {
		return // and schedule no other
	}
	p := radius.New(radius.CodeStatusServer, srv.Secret)
	if err := addNAS(p, &c.cfg); err != nil {
		return
	}
	if _, err := c.exchange(context.Background(), srv, p, true); err != nil {
		c.cfg.Log.Debug("radius status-server probe", "server", srv.Addr, "err", err)
	}
}

// acquire takes an outstanding-request slot without waiting.
func (c *client) acquire() bool {
	select {
	case c.slots <- struct{}{}:
		return true
	default:
		return false
	}
}

func (c *client) release() { <-c.slots }

// send tries each candidate server in order with build's packet (called
// once per server, so that a new server gets a new Identifier and
// authenticator, and accounting a fresh Acct-Delay-Time). It returns the
// first valid reply.
func (c *client) send(ctx context.Context, build func(secret []byte) (*radius.Packet, error)) (*radius.Packet, string, error) {
	cands := c.servers.candidates()
	if len(cands) == 0 {
		return nil, "", ErrAllServersDead
	}
	var lastErr error
	for _, srv := range cands {
		if err := ctx.Err(); err != nil {
			return nil, "", err
		}
		p, err := build(srv.Secret)
		if err != nil {
			return nil, "", err
		}
		reply, err := c.exchange(ctx, srv, p, c.servers.onProbation(srv))
		if err == nil {
			return reply, srv.Addr, nil
		}
		if ctx.Err() != nil {
			return nil, "", ctx.Err()
		}
		lastErr = err
	}
	return nil, "", lastErr
}

// exchange sends p to srv over a socket of its own (so the 256 Identifiers
// of a socket are never a limit, and a reply can only match its request),
// retransmits it unchanged every Timeout up to Retries times, and returns
// the first reply that passes the checks of RFC 2865 section 3 and RFC 3579
// section 3.2.
//
// A server on probation (dead, its hold time over) gets a single try, so
// that the request that finds it still dead is delayed by one Timeout only.
func (c *client) exchange(ctx context.Context, srv *serverState, p *radius.Packet, probation bool) (*radius.Packet, error) {
	retries := c.cfg.Retries
	if probation {
		retries = 0
	}
	typ := p.Code.String()
	wire, err := encodeRequest(p)
	if err != nil {
		return nil, err
	}
	conn, err := net.Dial("udp", srv.Addr)
	if err != nil {
		c.cfg.Metrics.Requests.WithLabelValues(srv.Addr, typ, "error").Inc()
		c.servers.report(srv, false)
		return nil, fmt.Errorf("auth: radius %s: %w", srv.Addr, err)
	}
	defer conn.Close()

	// The timeout runs on the injected clock: when it fires it pulls the
	// socket's read deadline into the past, which wakes the reader.
	var fired atomic.Bool
	wake := func() { fired.Store(true); conn.SetReadDeadline(time.Unix(1, 0)) }
	stopCtx := context.AfterFunc(ctx, wake)
	defer stopCtx()

	start := c.cfg.Clock.Now()
	var buf [radius.MaxPacketLength]byte
	for try := 0; try <= retries; try++ {
		// Clear the previous try's wake-up before looking at ctx: a
		// cancellation after this point pulls the deadline in again.
		fired.Store(false)
		conn.SetReadDeadline(time.Time{})
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		if _, err := conn.Write(wire); err != nil {
			// ICMP unreachable from an earlier try surfaces here; the
			// server is not there.
			c.cfg.Log.Debug("radius write", "server", srv.Addr, "err", err)
		}
		t := c.cfg.Clock.AfterFunc(c.cfg.Timeout, wake)
		for {
			n, err := conn.Read(buf[:])
			if err != nil {
				if ctx.Err() != nil {
					t.Stop()
					return nil, ctx.Err()
				}
				if fired.Load() {
					break // this try timed out
				}
				// ECONNREFUSED from a closed port: wait for the timer, as a
				// server that is restarting may still answer a retry.
				var ne net.Error
				if !errors.As(err, &ne) || !ne.Timeout() {
					if waitTimer(ctx, &fired) {
						break
					}
					t.Stop()
					return nil, ctx.Err()
				}
				continue
			}
			reply, err := checkReply(buf[:n], wire, srv.Secret, c.cfg.RequireMessageAuthenticator)
			if err != nil {
				c.cfg.Log.Debug("radius reply dropped", "server", srv.Addr, "err", err)
				c.cfg.Metrics.Requests.WithLabelValues(srv.Addr, typ, "invalid_reply").Inc()
				continue
			}
			t.Stop()
			c.servers.report(srv, true)
			c.cfg.Metrics.Latency.WithLabelValues(srv.Addr, typ).Observe(c.cfg.Clock.Now().Sub(start).Seconds())
			c.cfg.Metrics.Requests.WithLabelValues(srv.Addr, typ, resultLabel(reply.Code)).Inc()
			return reply, nil
		}
	}
	c.cfg.Metrics.Requests.WithLabelValues(srv.Addr, typ, "timeout").Inc()
	c.servers.report(srv, false)
	return nil, fmt.Errorf("%w from %s after %d tries", ErrTimeout, srv.Addr, retries+1)
}

// waitTimer blocks until the try's timer fired (true) or ctx ended (false).
// It polls rarely: it is reached only after a refused write, and the clock
// may be fake.
func waitTimer(ctx context.Context, fired *atomic.Bool) bool {
	for !fired.Load() {
		select {
		case <-ctx.Done():
			return false
		case <-time.After(5 * time.Millisecond):
		}
	}
	return true
}

func resultLabel(c radius.Code) string {
	switch c {
	case radius.CodeAccessAccept:
		return "accept"
	case radius.CodeAccessReject:
		return "reject"
	case radius.CodeAccessChallenge:
		return "challenge"
	case radius.CodeAccountingResponse:
		return "response"
	}
	return "other"
}

// encodeRequest encodes p for the wire. Access-Requests always carry a
// Message-Authenticator (RFC 3579 section 3.2; RFC 2869 section 5.14),
// computed over the packet with the attribute zeroed.
func encodeRequest(p *radius.Packet) ([]byte, error) {
	if p.Code != radius.CodeAccessRequest && p.Code != radius.CodeStatusServer {
		return p.Encode()
	}
	rfc2869.MessageAuthenticator_Del(p)
	var zero [16]byte
	if err := rfc2869.MessageAuthenticator_Add(p, zero[:]); err != nil {
		return nil, err
	}
	wire, err := p.Encode()
	if err != nil {
		return nil, err
	}
	off, ok := findAttr(wire, rfc2869.MessageAuthenticator_Type)
	if !ok {
		return nil, ErrMissingMsgAuth
	}
	mac := hmac.New(md5.New, p.Secret)
	mac.Write(wire)
	mac.Sum(wire[off:off])
	return wire, nil
}

// findAttr returns the offset of the value of the first attribute typ in an
// encoded packet, whose length has been checked by the caller.
func findAttr(wire []byte, typ radius.Type) (int, bool) {
	for i := 20; i+2 <= len(wire); {
		l := int(wire[i+1])
		if l < 2 || i+l > len(wire) {
			return 0, false
		}
		if radius.Type(wire[i]) == typ && l == 18 {
			return i + 2, true
		}
		i += l
	}
	return 0, false
}

// checkMsgAuth verifies the Message-Authenticator of wire, computed with
// auth in the authenticator field and the attribute zeroed. present is
// false when the packet has none.
func checkMsgAuth(wire []byte, auth []byte, secret []byte) (present bool, err error) {
	off, ok := findAttr(wire, rfc2869.MessageAuthenticator_Type)
	if !ok {
		return false, nil
	}
	buf := make([]byte, len(wire))
	copy(buf, wire)
	copy(buf[4:20], auth)
	clear(buf[off : off+16])
	mac := hmac.New(md5.New, secret)
	mac.Write(buf)
	if !hmac.Equal(mac.Sum(nil), wire[off:off+16]) {
		return true, ErrBadMsgAuth
	}
	return true, nil
}

// checkReply parses a reply to the request req and checks its Identifier,
// Response Authenticator and, when present, Message-Authenticator. A reply
// to a request that carried EAP must have one (RFC 3579 section 3.2), and
// so must every reply to an Access-Request when requireMA is set.
func checkReply(b, req []byte, secret []byte, requireMA bool) (*radius.Packet, error) {
	p, err := radius.Parse(b, secret)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadReply, err)
	}
	if p.Identifier != req[1] {
		return nil, fmt.Errorf("%w: identifier %d, want %d", ErrBadReply, p.Identifier, req[1])
	}
	n := int(b[2])<<8 | int(b[3])
	if !radius.IsAuthenticResponse(b[:n], req, secret) {
		return nil, ErrBadReply
	}
	present, err := checkMsgAuth(b[:n], req[4:20], secret)
	if err != nil {
		return nil, err
	}
	if !present && radius.Code(req[0]) == radius.CodeAccessRequest {
		if _, hasEAP := findAnyAttr(req, rfc2869.EAPMessage_Type); hasEAP || requireMA {
			return nil, ErrMissingMsgAuth
		}
	}
	return p, nil
}

// findAnyAttr is findAttr for attributes of any length.
func findAnyAttr(wire []byte, typ radius.Type) (int, bool) {
	for i := 20; i+2 <= len(wire); {
		l := int(wire[i+1])
		if l < 2 || i+l > len(wire) {
			return 0, false
		}
		if radius.Type(wire[i]) == typ {
			return i + 2, true
		}
		i += l
	}
	return 0, false
}
