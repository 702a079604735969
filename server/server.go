// Package server wires l2tpsecd together: the session lifecycle across ike,
// esp, l2tp, ppp, auth and ippool, the configuration, the control API, the
// Prometheus metrics and the audit log.
package server

import (
	"context"
	"crypto"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"os"
	"reflect"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/l2tpsecd/l2tpsecd/auth"
	"github.com/l2tpsecd/l2tpsecd/crl"
	"github.com/l2tpsecd/l2tpsecd/esp"
	"github.com/l2tpsecd/l2tpsecd/ike"
	"github.com/l2tpsecd/l2tpsecd/internal/clock"
	"github.com/l2tpsecd/l2tpsecd/internal/tundev"
	"github.com/l2tpsecd/l2tpsecd/ippool"
	"github.com/l2tpsecd/l2tpsecd/l2tp"
	"github.com/l2tpsecd/l2tpsecd/ppp"
	"github.com/l2tpsecd/l2tpsecd/server/control"
)

// Options are the daemon's injected dependencies.
type Options struct {
	Logger   *slog.Logger
	Registry *prometheus.Registry // nil: a new one
	Clock    clock.Clock          // nil: the real clock
	Version  string
}

// Daemon is a running concentrator.
type Daemon struct {
	log     *slog.Logger
	reg     *prometheus.Registry
	clk     clock.Clock
	metrics *Metrics
	audit   *Audit
	version string
	started time.Time

	cfgMu sync.Mutex // guards cfg
	cfg   *Config

	// The layers, built by Run.
	pool    *ippool.Manager
	checker *crl.Checker
	// RADIUS (nil when not configured) and the accounter (a no-op without
	// accounting servers).
	radius     atomic.Pointer[auth.RadiusAuth]
	racct      *auth.RadiusAcct
	acct       auth.Accounter
	dae        *auth.DAEServer
	radMetrics *auth.RadiusMetrics
	users      *auth.Users
	tun        *tundev.Device
	dp         esp.Datapath
	engine     *ike.Engine
	lns        *l2tp.Endpoint
	ike500     []*ikeSocket
	sinks      []*net.UDPConn
	gateway    netip.Addr
	mss        uint16

	handles     handleTable             // ESP handle -> conn, read per packet
	routes      tundev.Table[*session]  // client address -> session, read per packet
	tunBufs     sync.Pool               // *tunBuf
	connMu      sync.Mutex              // guards conns, sessions and conn.children
	conns       map[connKey]*conn       //
	sessions    map[string]*session     //
	phase1      map[[16]byte]phase1Meta // by phase-1 cookies
	nextSession atomic.Uint64

	tracePPP atomic.Bool
	stopping atomic.Bool
	ready    atomic.Bool
	notReady atomic.Value // string: why not ready
	httpLn   net.Listener
	httpSrv  *http.Server
}

// New prepares a daemon from a validated configuration. Nothing listens
// until Run.
func New(cfg *Config, opts Options) (*Daemon, error) {
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.Registry == nil {
		opts.Registry = prometheus.NewRegistry()
	}
	if opts.Clock == nil {
		opts.Clock = clock.Real{}
	}
	d := &Daemon{log: opts.Logger, reg: opts.Registry, clk: opts.Clock, cfg: cfg, version: opts.Version, started: time.Now(),
		acct:  auth.NopAccounter{},
		conns: map[connKey]*conn{}, sessions: map[string]*session{}, phase1: map[[16]byte]phase1Meta{}}
	d.tunBufs.New = func() any { return new(tunBuf) }
	d.metrics = NewMetrics(d.reg)
	d.metrics.Info.WithLabelValues(opts.Version).Set(1)
	d.notReady.Store("starting")
	d.tracePPP.Store(cfg.Log.TracePPP)
	audit, err := OpenAudit(cfg.Log.AuditFile, 4096)
	if err != nil {
		return nil, err
	}
	audit.onDrop = d.metrics.AuditDropped.Inc
	d.audit = audit
	return d, nil
}

func (d *Daemon) currentConfig() *Config {
	d.cfgMu.Lock()
	defer d.cfgMu.Unlock()
	return d.cfg
}

// Run brings every layer up, serves until ctx is cancelled, then shuts down
// gracefully: clients are told (LCP Terminate, L2TP StopCCN, IKE Delete),
// leases are persisted, and Run returns within a bounded time.
func (d *Daemon) Run(ctx context.Context) error {
	defer d.audit.Close()
	if err := d.startHTTP(); err != nil {
		return err
	}
	defer d.stopHTTP()
	ctl, err := control.Listen(d.cfg.Control.Socket)
	if err != nil {
		return err
	}
	go control.Serve(ctl, d)
	defer ctl.Close()

	if err := d.start(); err != nil {
		d.closeLayers()
		d.audit.Log(AuditEvent{Event: "daemon_failed", Reason: "startup", Detail: err.Error()})
		return err
	}
	d.ready.Store(true)
	d.metrics.Ready.Set(1)
	d.audit.Log(AuditEvent{Event: "daemon_started", Fields: map[string]any{"version": d.version, "datapath": "userspace"}})
	sdNotify("READY=1\nSTATUS=accepting clients")
	d.log.Info("accepting clients", "ike", d.ike500Addrs(), "natt", d.cfg.Listen.NATTPort, "tun", d.tun.Name())

	<-ctx.Done()
	sdNotify("STOPPING=1")
	d.shutdown()
	d.audit.Log(AuditEvent{Event: "daemon_stopped", Reason: "signal"})
	return nil
}

func (d *Daemon) ike500Addrs() []string {
	var out []string
	for _, s := range d.ike500 {
		out = append(out, s.bound.String())
	}
	return out
}

// start builds the layers bottom up: pool, users, TUN, L2TP, IKE, the ESP
// datapath (which also carries IKE on the NAT-T port), then UDP/500.
func (d *Daemon) start() error {
	cfg := d.cfg
	if cfg.ESP.Datapath == "kernel" {
		return errors.New("esp.datapath = \"kernel\" is not available in this build; use \"userspace\" or \"auto\"")
	}
	if err := os.MkdirAll(cfg.StateDir, 0o700); err != nil {
		return fmt.Errorf("state directory: %w", err)
	}
	d.gateway = netip.MustParseAddr(cfg.TUN.Address)

	if cfg.Auth.Backend == "local" {
		users, err := auth.LoadUsers(cfg.Path(cfg.Auth.UsersFile), d.log)
		if err != nil {
			return err
		}
		d.users = users
	}
	if err := d.startRADIUS(cfg); err != nil {
		return err
	}

	pool, err := ippool.New(d.poolConfig(cfg), ippool.Options{Clock: d.clk, Logger: d.log})
	if err != nil {
		return fmt.Errorf("address pools: %w", err)
	}
	d.pool = pool
	d.reg.MustRegister(ippool.NewCollector(pool))

	workers := cfg.ESP.Workers
	if workers == 0 {
		workers = runtime.NumCPU()
	}
	tun, err := tundev.Open(tundev.Config{Name: cfg.TUN.Name, MTU: cfg.TUN.MTU,
		Gateway: netip.PrefixFrom(d.gateway, 32), Routes: pool.RoutePrefixes(), Queues: workers}, d.log)
	if err != nil {
		return fmt.Errorf("TUN device %s: %w", cfg.TUN.Name, err)
	}
	d.tun = tun
	if cfg.TUN.MSSClamp {
		mtu := cfg.TUN.MTU
		if cfg.PPP.MRU < mtu {
			mtu = cfg.PPP.MRU
		}
		d.mss = tundev.MSSForMTU(mtu)
	}

	lns, err := l2tp.NewEndpoint(l2tp.Config{
		HostName: cfg.L2TP.HostName, Secret: []byte(cfg.L2TP.TunnelSecret),
		HelloInterval: disabledIfZero(cfg.L2TP.HelloInterval.Duration), HelloRequired: cfg.L2TP.HelloRequired,
		MaxTunnels: cfg.L2TP.MaxTunnels, MaxTunnelsPerPeer: 4, MaxSessionsPerTunnel: cfg.L2TP.MaxSessionsPerTun,
		EmptyTunnelTimeout: 2 * time.Minute,
	}, d.clk, d.log.With("layer", "l2tp"), d, d)
	if err != nil {
		return fmt.Errorf("L2TP: %w", err)
	}
	d.lns = lns
	d.reg.MustRegister(l2tp.NewCollector(lns))
	if cfg.Log.TraceL2TP {
		lns.SetTrace(d.log.With("trace", "l2tp"))
	}

	ic := d.ikeConfig(cfg)
	if cfg.Cert.Enabled() {
		certs, err := d.certConfig(cfg)
		if err != nil {
			return err
		}
		ic.Certs = certs
	}
	d.engine = ike.NewEngine(ic, d, d, d.clk, d.log.With("layer", "ike"), ike.NewMetrics(d.reg))
	d.engine.SetTrace(cfg.Log.TraceIKE)

	var listen []netip.AddrPort
	for _, a := range cfg.Listen.Addresses {
		listen = append(listen, netip.AddrPortFrom(netip.MustParseAddr(a), uint16(cfg.Listen.NATTPort)))
	}
	dp, err := esp.NewUserspace(esp.UserspaceConfig{Listen: listen, Workers: workers, RawESP: cfg.ESP.RawESP,
		Clock: d.clk, Logger: d.log.With("layer", "esp"),
		Hooks: esp.Hooks{DeliverUDP: d.deliverUDP, IKE: func(pkt []byte, local, remote netip.AddrPort) {
			d.engine.HandlePacket(pkt, local, remote)
		}, Event: d.espEvent}})
	if err != nil {
		return fmt.Errorf("ESP datapath: %w", err)
	}
	d.dp = dp
	d.metrics.Workers.Set(float64(workers))
	d.reg.MustRegister(newDatapathCollector(dp.Stats))

	for _, a := range cfg.Listen.Addresses {
		s, err := listenIKE(netip.AddrPortFrom(netip.MustParseAddr(a), uint16(cfg.Listen.IKEPort)))
		if err != nil {
			return err
		}
		d.ike500 = append(d.ike500, s)
		go d.readIKE(s)
	}
	// L2TP is only ever accepted from inside an ESP SA: the datapath hands
	// it over already decrypted. Cleartext L2TP to port 1701 is read here
	// only to be counted and dropped, never answered (not even with an
	// ICMP port unreachable), so PPP authentication is never exchanged in
	// the clear.
	for _, a := range cfg.Listen.Addresses {
		c, err := net.ListenUDP("udp4", net.UDPAddrFromAddrPort(netip.AddrPortFrom(netip.MustParseAddr(a), 1701)))
		if err != nil {
			return fmt.Errorf("cleartext L2TP sink on %s:1701: %w", a, err)
		}
		d.sinks = append(d.sinks, c)
		go d.dropCleartext(c)
	}
	for q := 0; q < tun.Queues(); q++ {
		go d.tunReader(q)
	}
	return nil
}

func (d *Daemon) dropCleartext(c *net.UDPConn) {
	buf := make([]byte, 2048)
	for {
		if _, _, err := c.ReadFromUDPAddrPort(buf); err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			continue
		}
		d.metrics.Drops.WithLabelValues("cleartext_l2tp").Inc()
	}
}

func (d *Daemon) poolConfig(cfg *Config) ippool.Config {
	exclude := []string{cfg.TUN.Address}
	if d.users != nil {
		for _, a := range d.users.StaticAddrs() {
			exclude = append(exclude, a.String())
		}
	}
	pc := ippool.Config{StateDir: cfg.StateDir}
	for _, p := range cfg.Pools {
		pc.Pools = append(pc.Pools, ippool.PoolConfig{Name: p.Name, Ranges: p.Ranges, Exclude: exclude})
	}
	return pc
}

// certConfig loads the server's certificate and builds the chain and
// revocation checker (package crl) that verifies the clients'.
func (d *Daemon) certConfig(cfg *Config) (*ike.CertConfig, error) {
	cc := cfg.Cert
	kp, err := LoadServerCert(cfg.Path(cc.Certificate), cfg.Path(cc.Key))
	if err != nil {
		return nil, err
	}
	var chain []*x509.Certificate
	for _, der := range kp.Certificate {
		c, err := x509.ParseCertificate(der)
		if err != nil {
			return nil, err
		}
		chain = append(chain, c)
	}
	signer, ok := kp.PrivateKey.(crypto.Signer)
	if !ok {
		return nil, fmt.Errorf("cert.key: the private key cannot sign")
	}
	var roots, inter []*x509.Certificate
	for _, f := range cc.CACerts {
		cs, err := crl.LoadCertificates(cfg.Path(f))
		if err != nil {
			return nil, err
		}
		roots = append(roots, cs...)
	}
	for _, f := range cc.IntermediateCerts {
		cs, err := crl.LoadCertificates(cfg.Path(f))
		if err != nil {
			return nil, err
		}
		inter = append(inter, cs...)
	}
	var crlFiles []string
	for _, f := range cc.CRLFiles {
		crlFiles = append(crlFiles, cfg.Path(f))
	}
	checker, err := crl.New(crl.Config{
		Mode: crl.Mode(cc.StrongCRLCheck), Roots: roots, Intermediates: inter, CRLFiles: crlFiles,
		StateDir: cfg.StateDir, FetchTimeout: cc.CRLFetchTimeout.Duration, Clock: d.clk,
		Logger: d.log.With("layer", "crl"), Registerer: d.reg, OnResult: d.certChecked, OnFetch: d.crlFetched,
	})
	if err != nil {
		return nil, fmt.Errorf("certificate checker: %w", err)
	}
	d.checker = checker
	return &ike.CertConfig{Chain: chain, Key: signer, Verifier: checker, CASubjects: checker.CASubjects()}, nil
}

// certChecked audits every certificate verification with its precise
// reason and the revocation mode that applied.
func (d *Daemon) certChecked(r *crl.Result) {
	ev := AuditEvent{Event: "certificate_accepted", Reason: r.Reason.String(), Detail: r.Detail,
		Fields: map[string]any{"strong_crl_check": int(r.Mode), "outcome": r.Outcome.String()}}
	if r.Outcome != crl.Accept {
		ev.Event = "certificate_refused"
	}
	if r.Leaf != nil {
		ev.ID = r.Leaf.Subject.String()
		ev.Fields["serial"] = r.Leaf.SerialNumber.Text(16)
		ev.Fields["issuer"] = r.Leaf.Issuer.String()
	}
	if rv := r.Revocation; rv != nil {
		ev.Fields["revoked_at"] = rv.Time
		ev.Fields["revocation_reason"] = rv.ReasonCode.String()
		ev.Fields["crl"] = rv.CRL
	}
	d.audit.Log(ev)
}

// crlFetched audits every read of a CRL distribution point.
func (d *Daemon) crlFetched(e crl.FetchEvent) {
	ev := AuditEvent{Event: "crl_fetched", Reason: string(e.Result), Fields: map[string]any{"url": e.URL, "source": string(e.Source)}}
	if e.Result != crl.FetchOK {
		ev.Event = "crl_fetch_failed"
		if e.Err != nil {
			ev.Detail = e.Err.Error()
		}
	} else if e.CRL != nil && e.CRL.List != nil {
		ev.Fields["issuer"] = e.CRL.List.Issuer.String()
		ev.Fields["this_update"] = e.CRL.List.ThisUpdate
		ev.Fields["next_update"] = e.CRL.List.NextUpdate
		ev.Fields["entries"] = len(e.CRL.List.RevokedCertificateEntries)
		ev.Fields["delta"] = e.CRL.Delta
	}
	d.audit.Log(ev)
}

func (d *Daemon) ikeConfig(cfg *Config) ike.Config {
	level, _ := ike.ParseLevel(cfg.IKE.Policy)
	ic := ike.Config{
		Policy: ike.Policy{Level: level, MaxPhase1Lifetime: cfg.IKE.Phase1MaxLifetime.Duration,
			MaxPhase2Lifetime: cfg.IKE.Phase2MaxLifetime.Duration, SHA256Truncated96: cfg.IKE.SHA256Truncated96 == "on"},
		MaxPSKTrials:         cfg.IKE.MaxPSKTrialsPerPeer,
		MaxHalfOpen:          cfg.IKE.MaxHalfOpen,
		MaxHalfOpenPerSource: cfg.IKE.MaxHalfOpenPerPeer,
		DPDInterval:          disabledIfZero(cfg.IKE.DPDInterval.Duration),
		DPDTimeout:           cfg.IKE.DPDTimeout.Duration,
		DisableFragmentation: !cfg.IKE.Fragmentation,
	}
	for _, p := range cfg.IKE.PSKs {
		k := ike.PSK{Key: []byte(p.Secret)}
		for _, n := range p.Networks {
			k.Networks = append(k.Networks, netip.MustParsePrefix(n))
		}
		ic.PSKs = append(ic.PSKs, k)
	}
	return ic
}

// shutdown tells every client, then closes the layers. Bounded: a client
// that does not answer does not hold the daemon up.
func (d *Daemon) shutdown() {
	d.ready.Store(false)
	d.metrics.Ready.Set(0)
	d.notReady.Store("shutting down")
	if d.lns != nil {
		d.connMu.Lock()
		var ss []*session
		for _, s := range d.sessions {
			ss = append(ss, s)
		}
		d.connMu.Unlock()
		for _, s := range ss {
			s.mu.Lock()
			if s.endCause == "" {
				s.endCause = "shutdown"
			}
			s.mu.Unlock()
			s.ppp.Close(ppp.ReasonAdmin)
		}
		// LCP Terminate-Requests are on their way; give them a moment,
		// then StopCCN every tunnel and delete every SA.
		time.Sleep(300 * time.Millisecond)
		d.lns.Close()
		time.Sleep(300 * time.Millisecond)
	}
	if d.engine != nil {
		d.engine.Shutdown()
		time.Sleep(200 * time.Millisecond)
	}
	d.stopping.Store(true)
	d.closeLayers()
}

func (d *Daemon) closeLayers() {
	d.stopping.Store(true)
	for _, s := range d.ike500 {
		s.conn.Close()
	}
	for _, c := range d.sinks {
		c.Close()
	}
	if d.dp != nil {
		d.dp.Close()
	}
	if d.tun != nil {
		d.tun.Close()
	}
	if d.pool != nil {
		d.pool.Close()
	}
	if d.checker != nil {
		d.checker.Close()
	}
	d.stopRADIUS()
}

// Reload re-reads the configuration file and applies what can change
// without touching established sessions: pre-shared keys, the proposal
// policy, users, new pools and ranges, traces. An invalid file (or users
// file, or pool change) is refused and the daemon keeps running on the
// configuration it has. Keys that need a restart are named in the log.
func (d *Daemon) Reload(path string) error {
	refuse := func(reason string, err error) error {
		d.metrics.ConfigReloads.WithLabelValues("refused").Inc()
		d.audit.Log(AuditEvent{Event: "config_reload_failed", Reason: reason, Detail: err.Error()})
		return err
	}
	cfg, err := LoadConfig(path)
	if err != nil {
		return refuse("invalid_config", err)
	}
	old := d.currentConfig()
	if d.users != nil {
		if err := d.users.Reload(); err != nil {
			return refuse("invalid_users_file", err)
		}
	}
	if d.pool != nil {
		before := map[netip.Prefix]bool{}
		for _, p := range d.pool.RoutePrefixes() {
			before[p] = true
		}
		pc := d.poolConfig(cfg)
		if err := d.pool.Reconfigure(pc.Pools, pc.Default); err != nil {
			return refuse("invalid_pools", err)
		}
		for _, p := range d.pool.RoutePrefixes() {
			if !before[p] && d.tun != nil {
				if err := d.tun.AddRoute(p); err != nil {
					d.log.Warn("route for a new pool range", "prefix", p, "err", err)
				}
			}
		}
	}
	if d.engine != nil && !reflect.DeepEqual(old.Cert, cfg.Cert) {
		if err := d.reloadCerts(cfg); err != nil {
			return refuse("invalid_certificates", err)
		}
	}
	if err := d.reloadRADIUS(old, cfg); err != nil {
		return refuse("invalid_radius", err)
	}
	if d.engine != nil {
		ic := d.ikeConfig(cfg)
		d.engine.SetPSKs(ic.PSKs)
		d.engine.SetPolicy(ic.Policy)
		d.engine.SetTrace(cfg.Log.TraceIKE)
	}
	if d.lns != nil {
		if cfg.Log.TraceL2TP {
			d.lns.SetTrace(d.log.With("trace", "l2tp"))
		} else {
			d.lns.SetTrace(nil)
		}
	}
	d.tracePPP.Store(cfg.Log.TracePPP)
	d.cfgMu.Lock()
	d.cfg = cfg
	d.cfgMu.Unlock()
	var restart []string
	for key, same := range map[string]bool{
		"listen":    equalStrings(old.Listen.Addresses, cfg.Listen.Addresses) && old.Listen.IKEPort == cfg.Listen.IKEPort && old.Listen.NATTPort == cfg.Listen.NATTPort,
		"esp":       old.ESP == cfg.ESP,
		"tun":       old.TUN == cfg.TUN,
		"state_dir": old.StateDir == cfg.StateDir,
		"metrics":   old.Metrics == cfg.Metrics,
		"control":   old.Control == cfg.Control,
		"l2tp":      old.L2TP == cfg.L2TP,
		"auth.backend and radius accounting/dae": old.Auth.Backend == cfg.Auth.Backend &&
			reflect.DeepEqual(old.RADIUS.AccountingServers, cfg.RADIUS.AccountingServers) && reflect.DeepEqual(old.RADIUS.DAE, cfg.RADIUS.DAE),
	} {
		if !same {
			restart = append(restart, key)
		}
	}
	d.metrics.ConfigReloads.WithLabelValues("applied").Inc()
	ev := AuditEvent{Event: "config_reloaded", Detail: path, Fields: map[string]any{"psks": len(cfg.IKE.PSKs), "policy": cfg.IKE.Policy}}
	if len(restart) > 0 {
		ev.Fields["needs_restart"] = restart
		d.log.Warn("configuration reloaded; these sections changed but take effect only after a restart", "sections", restart)
	}
	d.audit.Log(ev)
	d.log.Info("configuration reloaded", "config", path)
	return nil
}

// reloadCerts builds a new certificate checker from cfg and hands it to
// the engine; the old one is closed once negotiations that started with it
// are done.
func (d *Daemon) reloadCerts(cfg *Config) error {
	prev := d.checker
	var certs *ike.CertConfig
	if cfg.Cert.Enabled() {
		c, err := d.certConfig(cfg) // sets d.checker
		if err != nil {
			d.checker = prev
			return err
		}
		certs = c
	} else {
		d.checker = nil
	}
	d.engine.SetCerts(certs)
	if prev != nil {
		d.clk.AfterFunc(time.Minute, func() { prev.Close() })
	}
	return nil
}

// reloadRADIUS swaps in new authentication servers. Accounting and the
// DAE listener keep running as started (a restart applies changes there).
func (d *Daemon) reloadRADIUS(old, cfg *Config) error {
	if cfg.Auth.Backend != "radius" || old.Auth.Backend != "radius" ||
		reflect.DeepEqual(old.RADIUS.Servers, cfg.RADIUS.Servers) && old.RADIUS.Timeout == cfg.RADIUS.Timeout &&
			old.RADIUS.Retries == cfg.RADIUS.Retries && old.RADIUS.NASIdentifier == cfg.RADIUS.NASIdentifier {
		return nil
	}
	ra, err := auth.NewRadiusAuth(d.radiusConfig(cfg, cfg.RADIUS.Servers))
	if err != nil {
		return err
	}
	if prev := d.radius.Swap(ra); prev != nil {
		d.clk.AfterFunc(time.Minute, func() { prev.Close() })
	}
	return nil
}

func equalStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// ReopenLogs reopens the audit log file (SIGUSR1, after logrotate).
func (d *Daemon) ReopenLogs() { d.audit.Reopen() }

func (d *Daemon) startHTTP() error {
	addr := d.cfg.Metrics.Listen
	if addr == "" {
		return nil
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("metrics listener: %w", err)
	}
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(d.reg, promhttp.HandlerOpts{Registry: d.reg}))
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprintln(w, "ok")
	})
	mux.HandleFunc("/readyz", func(w http.ResponseWriter, _ *http.Request) {
		if d.ready.Load() {
			fmt.Fprintln(w, "ready")
			return
		}
		w.WriteHeader(http.StatusServiceUnavailable)
		fmt.Fprintf(w, "not ready: %s\n", d.notReady.Load())
	})
	d.httpLn = ln
	d.httpSrv = &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() {
		if err := d.httpSrv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			d.log.Error("metrics server", "err", err)
		}
	}()
	d.log.Info("metrics listening", "addr", ln.Addr().String())
	return nil
}

func (d *Daemon) stopHTTP() {
	if d.httpSrv == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	d.httpSrv.Shutdown(ctx)
}

// MetricsAddr is the address the metrics endpoint listens on (for tests
// that configure port 0).
func (d *Daemon) MetricsAddr() string {
	if d.httpLn == nil {
		return ""
	}
	return d.httpLn.Addr().String()
}
