// Package server wires l2tpsecd together: the session lifecycle across ike,
// esp, l2tp, ppp, auth and ippool, the configuration, the control API, the
// Prometheus metrics and the audit log.
package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/l2tpsecd/l2tpsecd/server/control"
)

// Options are the daemon's injected dependencies.
type Options struct {
	Logger   *slog.Logger
	Registry *prometheus.Registry // nil: a new one
	Version  string
}

// Daemon is a running concentrator.
type Daemon struct {
	log     *slog.Logger
	reg     *prometheus.Registry
	metrics *Metrics
	audit   *Audit

	mu  sync.Mutex // guards cfg
	cfg *Config

	version string
	started time.Time

	ready    atomic.Bool
	notReady atomic.Value // string: why not ready
	httpLn   net.Listener
	httpSrv  *http.Server
	ctlLn    net.Listener
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
	d := &Daemon{log: opts.Logger, reg: opts.Registry, cfg: cfg, version: opts.Version, started: time.Now()}
	d.metrics = NewMetrics(d.reg)
	d.metrics.Info.WithLabelValues(opts.Version).Set(1)
	d.notReady.Store("starting")
	audit, err := OpenAudit(cfg.Log.AuditFile, 4096)
	if err != nil {
		return nil, err
	}
	audit.onDrop = d.metrics.AuditDropped.Inc
	d.audit = audit
	return d, nil
}

// Run serves until ctx is cancelled, then shuts down.
func (d *Daemon) Run(ctx context.Context) error {
	defer d.audit.Close()
	if err := d.startHTTP(); err != nil {
		return err
	}
	defer d.stopHTTP()
	ln, err := control.Listen(d.cfg.Control.Socket)
	if err != nil {
		return err
	}
	d.ctlLn = ln
	go control.Serve(ln, d)
	defer ln.Close()

	// The protocol engines are wired in as they land; until then the
	// daemon says plainly that it does not accept clients rather than
	// open ports it cannot serve.
	d.notReady.Store("the IKE responder and datapath are not part of this build yet: no client can connect")
	d.log.Warn("not accepting clients: IKEv1, ESP, L2TP and PPP are not wired into this build yet")
	d.audit.Log(AuditEvent{Event: "daemon_started", Detail: "not accepting clients: protocols not wired yet"})
	sdNotify("READY=1\nSTATUS=running; not accepting clients: protocols not wired yet")

	<-ctx.Done()
	sdNotify("STOPPING=1")
	d.audit.Log(AuditEvent{Event: "daemon_stopped", Reason: "signal"})
	return nil
}

// Reload re-reads the configuration file. An invalid file is refused and
// the daemon keeps running on the configuration it has.
func (d *Daemon) Reload(path string) error {
	cfg, err := LoadConfig(path)
	if err != nil {
		d.metrics.ConfigReloads.WithLabelValues("refused").Inc()
		d.audit.Log(AuditEvent{Event: "config_reload_failed", Reason: "invalid_config", Detail: err.Error()})
		return err
	}
	d.mu.Lock()
	d.cfg = cfg
	d.mu.Unlock()
	d.metrics.ConfigReloads.WithLabelValues("applied").Inc()
	d.audit.Log(AuditEvent{Event: "config_reloaded", Detail: path})
	d.log.Info("configuration reloaded", "config", path)
	return nil
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
