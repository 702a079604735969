package server

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"time"

	"github.com/BurntSushi/toml"

	"github.com/l2tpsecd/l2tpsecd/auth"
	"github.com/l2tpsecd/l2tpsecd/crl"
)

// Config is the whole daemon configuration: one TOML file, decoded strictly
// and validated as a whole before anything starts. deploy/l2tpsecd.toml
// documents every key with its default.
type Config struct {
	// StateDir holds what must survive a restart: address leases, CRL
	// cache, queued accounting records.
	StateDir string `toml:"state_dir"`

	Log     LogConfig     `toml:"log"`
	Listen  ListenConfig  `toml:"listen"`
	IKE     IKEConfig     `toml:"ike"`
	Cert    CertConfig    `toml:"cert"`
	ESP     ESPConfig     `toml:"esp"`
	L2TP    L2TPConfig    `toml:"l2tp"`
	PPP     PPPConfig     `toml:"ppp"`
	Auth    AuthConfig    `toml:"auth"`
	RADIUS  RADIUSConfig  `toml:"radius"`
	Pools   []PoolConfig  `toml:"pool"`
	TUN     TUNConfig     `toml:"tun"`
	Metrics MetricsConfig `toml:"metrics"`
	Control ControlConfig `toml:"control"`

	// File is the path the configuration was read from (not a key).
	File string `toml:"-"`
}

// LogConfig says where the daemon's logs, the audit log and the traces go.
type LogConfig struct {
	Level     string `toml:"level"`  // debug | info | warn | error
	Format    string `toml:"format"` // text | json
	AuditFile string `toml:"audit_file"`
	TraceIKE  bool   `toml:"trace_ike"`
	TracePPP  bool   `toml:"trace_ppp"`
	TraceL2TP bool   `toml:"trace_l2tp"`
}

// ListenConfig is where IKE and ESP are received.
type ListenConfig struct {
	Addresses []string `toml:"addresses"`
	IKEPort   int      `toml:"ike_port"`
	NATTPort  int      `toml:"natt_port"`
}

// IKEConfig is machine authentication and the IKEv1 responder.
type IKEConfig struct {
	// Policy is the proposal set: modern (default), compat (adds 3DES,
	// MODP1024 and MD5 for old clients) or insecure (adds DES as well).
	Policy              string      `toml:"policy"`
	Phase1MaxLifetime   Duration    `toml:"phase1_max_lifetime"`
	Phase2MaxLifetime   Duration    `toml:"phase2_max_lifetime"`
	DPDInterval         Duration    `toml:"dpd_interval"`
	DPDTimeout          Duration    `toml:"dpd_timeout"`
	MaxHalfOpen         int         `toml:"max_half_open"`
	MaxHalfOpenPerPeer  int         `toml:"max_half_open_per_peer"`
	Fragmentation       bool        `toml:"fragmentation"`
	SHA256Truncated96   string      `toml:"sha256_truncated_96"` // off | auto | on
	PSKs                []PSKConfig `toml:"psk"`
	MaxPSKTrialsPerPeer int         `toml:"max_psk_trials"`
}

// PSKConfig is one pre-shared key. Several may be configured so that keys
// can be rotated; Networks restricts a key to clients from those source
// networks (tried before the keys without networks).
type PSKConfig struct {
	Name     string   `toml:"name"`
	Secret   string   `toml:"secret"`
	Networks []string `toml:"networks"`
}

// CertConfig is machine authentication with X.509 certificates (RSA or
// ECDSA signatures in Main Mode) and the revocation check of the clients'
// certificates. Certificate authentication is on when Certificate is set.
type CertConfig struct {
	// Certificate is the server's certificate, PEM, leaf first, followed
	// by any intermediates to send; Key its private key (PEM).
	Certificate string `toml:"certificate"`
	Key         string `toml:"key"`
	// CACerts are the trusted roots clients' certificates must chain to;
	// IntermediateCerts CA certificates used to complete chains of clients
	// that send only their own certificate.
	CACerts           []string `toml:"ca_certs"`
	IntermediateCerts []string `toml:"intermediate_certs"`
	// StrongCRLCheck: 0 no revocation check; 1 refuse only a certificate a
	// CRL from its issuer lists as revoked (an unreachable distribution
	// point or a CRL from someone else is assumed fine); 2 refuse on any
	// CRL problem. Default 1 (Windows' default was 0).
	StrongCRLCheck int `toml:"strong_crl_check"`
	// CRLFiles are CRLs (PEM or DER) used besides the distribution points.
	CRLFiles        []string `toml:"crl_files"`
	CRLFetchTimeout Duration `toml:"crl_fetch_timeout"`
	// RequireUserMatch binds the two levels of authentication: the PPP
	// user name must name the certificate's holder (common name, UPN or
	// e-mail), so a stolen certificate cannot be used with another user's
	// password.
	RequireUserMatch bool `toml:"require_user_match"`
}

// Enabled reports whether certificate authentication is configured.
func (c CertConfig) Enabled() bool { return c.Certificate != "" }

// ESPConfig selects and sizes the datapath.
type ESPConfig struct {
	Datapath string `toml:"datapath"` // auto | userspace | kernel
	Workers  int    `toml:"workers"`  // 0: one per CPU
	RawESP   bool   `toml:"raw_esp"`  // receive and send ESP as IP protocol 50
}

// L2TPConfig is the LNS.
type L2TPConfig struct {
	HostName      string   `toml:"host_name"`
	TunnelSecret  string   `toml:"tunnel_secret"`
	HelloInterval Duration `toml:"hello_interval"`
	// HelloRequired tears a tunnel down when HELLOs go unanswered; off by
	// default because some phones never answer them.
	HelloRequired     bool `toml:"hello_required"`
	MaxTunnels        int  `toml:"max_tunnels"`
	MaxSessionsPerTun int  `toml:"max_sessions_per_tunnel"`
}

// PPPConfig is the user side of a session.
type PPPConfig struct {
	// Auth lists the allowed methods in the server's order of preference:
	// mschapv2, chap (CHAP-MD5), pap.
	Auth           []string `toml:"auth"`
	MRU            int      `toml:"mru"`
	DNS            []string `toml:"dns"`
	WINS           []string `toml:"wins"`
	EchoInterval   Duration `toml:"echo_interval"`
	EchoFailures   int      `toml:"echo_failures"`
	IdleTimeout    Duration `toml:"idle_timeout"`
	SessionTimeout Duration `toml:"session_timeout"`
	AuthTimeout    Duration `toml:"auth_timeout"`
}

// AuthConfig selects the user database.
type AuthConfig struct {
	Backend   string `toml:"backend"` // local
	UsersFile string `toml:"users_file"`
}

// RADIUSConfig is the RADIUS client: user authentication (auth.backend =
// "radius"), accounting (when accounting servers are listed, whatever the
// backend) and the Disconnect/CoA listener (RFC 5176).
type RADIUSConfig struct {
	NASIdentifier string   `toml:"nas_identifier"`
	NASIPAddress  string   `toml:"nas_ip_address"`
	Timeout       Duration `toml:"timeout"`
	Retries       int      `toml:"retries"`
	DeadAfter     int      `toml:"dead_after"`
	DeadTime      Duration `toml:"dead_time"`
	// InterimInterval sends Interim-Updates this often; the server's
	// Acct-Interim-Interval wins. "0s": only when the server asks.
	InterimInterval Duration `toml:"interim_interval"`
	// RequireMessageAuthenticator refuses replies without one (BlastRADIUS).
	RequireMessageAuthenticator bool           `toml:"require_message_authenticator"`
	Servers                     []RADIUSServer `toml:"server"`
	AccountingServers           []RADIUSServer `toml:"accounting_server"`
	DAE                         DAEConfig      `toml:"dae"`
}

// RADIUSServer is one server: address (host:port) and shared secret.
type RADIUSServer struct {
	Address string `toml:"address"`
	Secret  string `toml:"secret"`
}

// DAEConfig is the Disconnect-Request / CoA-Request listener.
type DAEConfig struct {
	Listen  string   `toml:"listen"` // e.g. "0.0.0.0:3799"; empty: off
	Secret  string   `toml:"secret"`
	Allowed []string `toml:"allowed"` // source networks
}

// PoolConfig is one named address pool.
type PoolConfig struct {
	Name   string   `toml:"name"`
	Ranges []string `toml:"ranges"`
}

// TUNConfig is the device IP packets leave and enter through.
type TUNConfig struct {
	Name    string `toml:"name"`
	Address string `toml:"address"` // the gateway address the clients see
	MTU     int    `toml:"mtu"`
	// MSSClamp rewrites the MSS of TCP SYNs to fit the tunnel.
	MSSClamp bool `toml:"mss_clamp"`
}

// MetricsConfig is the Prometheus endpoint.
type MetricsConfig struct {
	Listen string `toml:"listen"` // empty: off
}

// ControlConfig is the admin socket used by l2tpsecctl.
type ControlConfig struct {
	Socket string `toml:"socket"`
}

// Duration is a time.Duration written as a string such as "30s" or "8h".
// Decoding never fails: a bad value is kept and reported by Validate with
// every other error, rather than stopping the decoder at the first one.
type Duration struct {
	time.Duration
	raw string
	err error
}

// UnmarshalText implements encoding.TextUnmarshaler.
func (d *Duration) UnmarshalText(b []byte) error {
	d.raw = string(b)
	d.Duration, d.err = time.ParseDuration(d.raw)
	return nil
}

// MarshalText implements encoding.TextMarshaler.
func (d Duration) MarshalText() ([]byte, error) { return []byte(d.Duration.String()), nil }

func dur(d time.Duration) Duration { return Duration{Duration: d} }

// Defaults returns the configuration every key falls back to.
func Defaults() Config {
	return Config{
		StateDir: "/var/lib/l2tpsecd",
		Log:      LogConfig{Level: "info", Format: "text", AuditFile: "stdout"},
		Listen:   ListenConfig{Addresses: []string{"0.0.0.0"}, IKEPort: 500, NATTPort: 4500},
		IKE: IKEConfig{
			Policy:              "modern",
			Phase1MaxLifetime:   dur(24 * time.Hour),
			Phase2MaxLifetime:   dur(8 * time.Hour),
			DPDInterval:         dur(30 * time.Second),
			DPDTimeout:          dur(150 * time.Second),
			MaxHalfOpen:         2000,
			MaxHalfOpenPerPeer:  20,
			Fragmentation:       true,
			SHA256Truncated96:   "auto",
			MaxPSKTrialsPerPeer: 8,
		},
		Cert: CertConfig{StrongCRLCheck: 1, CRLFetchTimeout: dur(5 * time.Second)},
		ESP:  ESPConfig{Datapath: "userspace", RawESP: true},
		L2TP: L2TPConfig{HostName: "l2tpsecd", HelloInterval: dur(60 * time.Second), MaxTunnels: 10000, MaxSessionsPerTun: 16},
		PPP: PPPConfig{
			Auth:           []string{"mschapv2"},
			MRU:            1400,
			EchoInterval:   dur(30 * time.Second),
			EchoFailures:   4,
			IdleTimeout:    dur(0),
			SessionTimeout: dur(0),
			AuthTimeout:    dur(30 * time.Second),
		},
		Auth: AuthConfig{Backend: "local", UsersFile: "/etc/l2tpsecd/users.toml"},
		RADIUS: RADIUSConfig{NASIdentifier: "l2tpsecd", Timeout: dur(3 * time.Second), Retries: 2, DeadAfter: 3,
			DeadTime: dur(60 * time.Second), InterimInterval: dur(0)},
		TUN:     TUNConfig{Name: "l2tpsec0", MTU: 1400, MSSClamp: true},
		Metrics: MetricsConfig{Listen: "127.0.0.1:9810"},
		Control: ControlConfig{Socket: "/run/l2tpsecd/control.sock"},
	}
}

// ConfigError is one problem in a configuration file, placed by file, line
// and key.
type ConfigError struct {
	File string
	Line int // 0 when the key is not in the file (a missing required key)
	Key  string
	Msg  string
}

func (e ConfigError) Error() string {
	loc := e.File
	if e.Line > 0 {
		loc = fmt.Sprintf("%s:%d", e.File, e.Line)
	}
	if e.Key == "" {
		return fmt.Sprintf("%s: %s", loc, e.Msg)
	}
	return fmt.Sprintf("%s: %s: %s", loc, e.Key, e.Msg)
}

// ConfigErrors is every problem found in a file, in line order.
type ConfigErrors []ConfigError

func (es ConfigErrors) Error() string {
	lines := make([]string, len(es))
	for i, e := range es {
		lines[i] = e.Error()
	}
	return strings.Join(lines, "\n")
}

var (
	// ErrConfig wraps every configuration failure.
	ErrConfig = errors.New("config")
)

// LoadConfig reads, decodes and validates the file at path. The error, when
// not nil, is a ConfigErrors listing every problem (or the TOML syntax error
// with its line), and wraps ErrConfig.
func LoadConfig(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrConfig, err)
	}
	return ParseConfig(path, data)
}

// ParseConfig decodes and validates data as if read from file.
func ParseConfig(file string, data []byte) (*Config, error) {
	cfg := Defaults()
	cfg.File = file
	lines := scanKeyLines(string(data))
	if _, err := toml.Decode(string(data), &cfg); err != nil {
		var pe toml.ParseError
		if errors.As(err, &pe) {
			return nil, fmt.Errorf("%w: %w", ErrConfig, ConfigErrors{{File: file, Line: pe.Position.Line, Key: pe.LastKey, Msg: pe.Message}})
		}
		return nil, fmt.Errorf("%w: %s: %v", ErrConfig, file, err)
	}
	v := validator{file: file, lines: lines}
	var generic map[string]any
	if _, err := toml.Decode(string(data), &generic); err == nil {
		for _, k := range unknownKeys(generic, reflect.TypeOf(cfg)) {
			v.add(k, "unknown key (misspelt? see deploy/l2tpsecd.toml for every key)")
		}
	}
	v.config(&cfg)
	if len(v.errs) > 0 {
		sort.SliceStable(v.errs, func(i, j int) bool { return v.errs[i].Line < v.errs[j].Line })
		return nil, fmt.Errorf("%w: %w", ErrConfig, v.errs)
	}
	return &cfg, nil
}

// Path resolves a path from the configuration: relative paths are taken
// relative to the configuration file's folder, so a config and the files it
// names can move together.
func (c *Config) Path(p string) string {
	if p == "" || filepath.IsAbs(p) || c.File == "" {
		return p
	}
	return filepath.Join(filepath.Dir(c.File), p)
}

type validator struct {
	file  string
	lines keyLines
	errs  ConfigErrors
}

func (v *validator) add(key, format string, args ...any) {
	v.errs = append(v.errs, ConfigError{File: v.file, Line: v.lines.lookup(key), Key: key, Msg: fmt.Sprintf(format, args...)})
}

func (v *validator) oneOf(key, val string, allowed ...string) {
	for _, a := range allowed {
		if val == a {
			return
		}
	}
	v.add(key, "is %q; must be one of %s", val, strings.Join(allowed, ", "))
}

func (v *validator) duration(key string, d Duration, min time.Duration) {
	if d.err != nil {
		v.add(key, "%q is not a duration (write it like \"30s\", \"5m\" or \"8h\")", d.raw)
		return
	}
	if d.Duration < min {
		if min == 0 {
			v.add(key, "must not be negative")
		} else {
			v.add(key, "is %s; must be at least %s", d.Duration, min)
		}
	}
}

func (v *validator) intRange(key string, n, lo, hi int) {
	if n < lo || n > hi {
		v.add(key, "is %d; must be from %d to %d", n, lo, hi)
	}
}

func (v *validator) ipv4(key, s string) (netip.Addr, bool) {
	a, err := netip.ParseAddr(s)
	if err != nil || !a.Is4() {
		v.add(key, "%q is not an IPv4 address", s)
		return netip.Addr{}, false
	}
	return a, true
}

func (v *validator) config(c *Config) {
	if c.StateDir == "" {
		v.add("state_dir", "must be set")
	}
	v.oneOf("log.level", c.Log.Level, "debug", "info", "warn", "error")
	v.oneOf("log.format", c.Log.Format, "text", "json")
	if c.Log.AuditFile == "" {
		v.add("log.audit_file", "must be set (a path, or \"stdout\")")
	}

	if len(c.Listen.Addresses) == 0 {
		v.add("listen.addresses", "must name at least one address")
	}
	for i, a := range c.Listen.Addresses {
		if ip := net.ParseIP(a); ip == nil || ip.To4() == nil {
			v.add(fmt.Sprintf("listen.addresses[%d]", i), "%q is not an IPv4 address", a)
		}
	}
	v.intRange("listen.ike_port", c.Listen.IKEPort, 1, 65535)
	v.intRange("listen.natt_port", c.Listen.NATTPort, 1, 65535)
	if c.Listen.IKEPort == c.Listen.NATTPort {
		v.add("listen.natt_port", "must differ from listen.ike_port")
	}

	v.oneOf("ike.policy", c.IKE.Policy, "modern", "compat", "insecure")
	v.duration("ike.phase1_max_lifetime", c.IKE.Phase1MaxLifetime, time.Minute)
	v.duration("ike.phase2_max_lifetime", c.IKE.Phase2MaxLifetime, time.Minute)
	v.duration("ike.dpd_interval", c.IKE.DPDInterval, 0)
	v.duration("ike.dpd_timeout", c.IKE.DPDTimeout, 0)
	if c.IKE.DPDInterval.err == nil && c.IKE.DPDTimeout.err == nil && c.IKE.DPDInterval.Duration > 0 && c.IKE.DPDTimeout.Duration < c.IKE.DPDInterval.Duration {
		v.add("ike.dpd_timeout", "is %s; must be at least ike.dpd_interval (%s)", c.IKE.DPDTimeout.Duration, c.IKE.DPDInterval.Duration)
	}
	v.intRange("ike.max_half_open", c.IKE.MaxHalfOpen, 1, 1<<20)
	v.intRange("ike.max_half_open_per_peer", c.IKE.MaxHalfOpenPerPeer, 1, 1<<16)
	v.intRange("ike.max_psk_trials", c.IKE.MaxPSKTrialsPerPeer, 1, 64)
	v.oneOf("ike.sha256_truncated_96", c.IKE.SHA256Truncated96, "off", "auto", "on")
	if len(c.IKE.PSKs) == 0 && !c.Cert.Enabled() {
		v.add("ike.psk", "machine authentication needs at least one [[ike.psk]] or a [cert] certificate")
	}
	v.certs(c)
	names := map[string]bool{}
	for i, p := range c.IKE.PSKs {
		base := fmt.Sprintf("ike.psk[%d]", i)
		if n := len(p.Secret); n < 8 || n > 255 {
			v.add(base+".secret", "must be 8 to 255 characters long, is %d", n)
		}
		if p.Name != "" {
			if names[p.Name] {
				v.add(base+".name", "%q is used by another [[ike.psk]]", p.Name)
			}
			names[p.Name] = true
		}
		for j, n := range p.Networks {
			if _, err := netip.ParsePrefix(n); err != nil {
				v.add(fmt.Sprintf("%s.networks[%d]", base, j), "%q is not a network (write it like \"198.51.100.0/24\")", n)
			}
		}
	}

	v.oneOf("esp.datapath", c.ESP.Datapath, "auto", "userspace", "kernel")
	v.intRange("esp.workers", c.ESP.Workers, 0, 1024)

	if c.L2TP.HostName == "" {
		v.add("l2tp.host_name", "must be set")
	}
	v.duration("l2tp.hello_interval", c.L2TP.HelloInterval, 0)
	v.intRange("l2tp.max_tunnels", c.L2TP.MaxTunnels, 1, 65535)
	v.intRange("l2tp.max_sessions_per_tunnel", c.L2TP.MaxSessionsPerTun, 1, 65535)

	if len(c.PPP.Auth) == 0 {
		v.add("ppp.auth", "must list at least one method (mschapv2, chap, pap, eap)")
	}
	seen := map[string]bool{}
	for i, m := range c.PPP.Auth {
		key := fmt.Sprintf("ppp.auth[%d]", i)
		v.oneOf(key, m, "mschapv2", "chap", "pap", "eap")
		if m == "eap" && c.Auth.Backend != "radius" {
			v.add(key, "EAP is passed through to RADIUS: it needs auth.backend = \"radius\"")
		}
		if seen[m] {
			v.add(key, "%q is listed twice", m)
		}
		seen[m] = true
	}
	v.intRange("ppp.mru", c.PPP.MRU, 576, 1500)
	if len(c.PPP.DNS) > 2 {
		v.add("ppp.dns", "at most two servers (primary and secondary); %d given", len(c.PPP.DNS))
	}
	for i, a := range c.PPP.DNS {
		v.ipv4(fmt.Sprintf("ppp.dns[%d]", i), a)
	}
	if len(c.PPP.WINS) > 2 {
		v.add("ppp.wins", "at most two servers (primary and secondary); %d given", len(c.PPP.WINS))
	}
	for i, a := range c.PPP.WINS {
		v.ipv4(fmt.Sprintf("ppp.wins[%d]", i), a)
	}
	v.duration("ppp.echo_interval", c.PPP.EchoInterval, 0)
	v.intRange("ppp.echo_failures", c.PPP.EchoFailures, 1, 100)
	v.duration("ppp.idle_timeout", c.PPP.IdleTimeout, 0)
	v.duration("ppp.session_timeout", c.PPP.SessionTimeout, 0)
	v.duration("ppp.auth_timeout", c.PPP.AuthTimeout, time.Second)

	v.oneOf("auth.backend", c.Auth.Backend, "local", "radius")
	v.radius(c)
	if c.Auth.Backend == "local" {
		if c.Auth.UsersFile == "" {
			v.add("auth.users_file", "must be set when auth.backend is \"local\"")
		} else if _, err := auth.LoadUsers(c.Path(c.Auth.UsersFile), nil); err != nil {
			v.add("auth.users_file", "%v", err)
		}
	}

	gw, gwOK := netip.Addr{}, false
	if c.TUN.Address == "" {
		v.add("tun.address", "must be set: the gateway address the clients are given as the far end of PPP")
	} else {
		gw, gwOK = v.ipv4("tun.address", c.TUN.Address)
	}
	if c.TUN.Name == "" || len(c.TUN.Name) > 15 {
		v.add("tun.name", "must be 1 to 15 characters (a Linux interface name)")
	}
	v.intRange("tun.mtu", c.TUN.MTU, 576, 9000)

	v.pools(c.Pools, gw, gwOK)

	if c.Metrics.Listen != "" {
		if _, _, err := net.SplitHostPort(c.Metrics.Listen); err != nil {
			v.add("metrics.listen", "%q is not host:port", c.Metrics.Listen)
		}
	}
	if c.Control.Socket == "" {
		v.add("control.socket", "must be set")
	}
}

func (v *validator) radius(c *Config) {
	r := c.RADIUS
	if c.Auth.Backend == "radius" && len(r.Servers) == 0 {
		v.add("radius.server", "at least one [[radius.server]] is needed when auth.backend is \"radius\"")
	}
	v.duration("radius.timeout", r.Timeout, 100*time.Millisecond)
	v.intRange("radius.retries", r.Retries, 0, 10)
	v.intRange("radius.dead_after", r.DeadAfter, 1, 100)
	v.duration("radius.dead_time", r.DeadTime, time.Second)
	v.duration("radius.interim_interval", r.InterimInterval, 0)
	if r.InterimInterval.err == nil && r.InterimInterval.Duration > 0 && r.InterimInterval.Duration < time.Minute {
		v.add("radius.interim_interval", "is %s; must be \"0s\" or at least 1m (RFC 2869 section 2.1)", r.InterimInterval.Duration)
	}
	if r.NASIPAddress != "" {
		if _, err := netip.ParseAddr(r.NASIPAddress); err != nil {
			v.add("radius.nas_ip_address", "%q is not an address", r.NASIPAddress)
		}
	}
	check := func(key string, list []RADIUSServer) {
		for i, s := range list {
			base := fmt.Sprintf("%s[%d]", key, i)
			if _, _, err := net.SplitHostPort(s.Address); err != nil {
				v.add(base+".address", "%q is not host:port", s.Address)
			}
			if s.Secret == "" {
				v.add(base+".secret", "must be set")
			}
		}
	}
	check("radius.server", r.Servers)
	check("radius.accounting_server", r.AccountingServers)
	if r.DAE.Listen != "" {
		if _, _, err := net.SplitHostPort(r.DAE.Listen); err != nil {
			v.add("radius.dae.listen", "%q is not host:port", r.DAE.Listen)
		}
		if r.DAE.Secret == "" {
			v.add("radius.dae.secret", "must be set when radius.dae.listen is")
		}
		if len(r.DAE.Allowed) == 0 {
			v.add("radius.dae.allowed", "must list the networks Disconnect/CoA requests may come from")
		}
		for i, n := range r.DAE.Allowed {
			if _, err := netip.ParsePrefix(n); err != nil {
				v.add(fmt.Sprintf("radius.dae.allowed[%d]", i), "%q is not a network", n)
			}
		}
	}
}

func (v *validator) certs(c *Config) {
	cc := c.Cert
	v.intRange("cert.strong_crl_check", cc.StrongCRLCheck, 0, 2)
	v.duration("cert.crl_fetch_timeout", cc.CRLFetchTimeout, 100*time.Millisecond)
	if !cc.Enabled() {
		if cc.Key != "" || len(cc.CACerts) > 0 {
			v.add("cert.certificate", "must be set when cert.key or cert.ca_certs are")
		}
		return
	}
	if _, err := LoadServerCert(c.Path(cc.Certificate), c.Path(cc.Key)); err != nil {
		v.add("cert.certificate", "%v", err)
	}
	if len(cc.CACerts) == 0 {
		v.add("cert.ca_certs", "must name at least one trusted CA when certificate authentication is on")
	}
	for i, f := range cc.CACerts {
		if _, err := crl.LoadCertificates(c.Path(f)); err != nil {
			v.add(fmt.Sprintf("cert.ca_certs[%d]", i), "%v", err)
		}
	}
	for i, f := range cc.IntermediateCerts {
		if _, err := crl.LoadCertificates(c.Path(f)); err != nil {
			v.add(fmt.Sprintf("cert.intermediate_certs[%d]", i), "%v", err)
		}
	}
	for i, f := range cc.CRLFiles {
		if _, err := crl.ParseCRLFile(c.Path(f)); err != nil {
			v.add(fmt.Sprintf("cert.crl_files[%d]", i), "%v", err)
		}
	}
}

// LoadServerCert reads the server's certificate chain (leaf first) and its
// private key, and checks they belong together.
func LoadServerCert(certFile, keyFile string) (*tls.Certificate, error) {
	if keyFile == "" {
		return nil, fmt.Errorf("cert.key must name the private key of %s", certFile)
	}
	kp, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		return nil, err
	}
	for _, der := range kp.Certificate {
		if _, err := x509.ParseCertificate(der); err != nil {
			return nil, fmt.Errorf("%s: %w", certFile, err)
		}
	}
	return &kp, nil
}

// IPRange is an inclusive range of IPv4 addresses.
type IPRange struct{ First, Last netip.Addr }

// ParseIPRange reads "10.0.0.10-10.0.0.200", a CIDR such as "10.0.1.0/24"
// (network and broadcast addresses left out), or one address.
func ParseIPRange(s string) (IPRange, error) {
	if a, b, ok := strings.Cut(s, "-"); ok {
		first, err1 := netip.ParseAddr(strings.TrimSpace(a))
		last, err2 := netip.ParseAddr(strings.TrimSpace(b))
		if err1 != nil || err2 != nil || !first.Is4() || !last.Is4() {
			return IPRange{}, fmt.Errorf("%q is not a range of IPv4 addresses (write it like \"10.10.0.10-10.10.0.250\")", s)
		}
		if last.Less(first) {
			return IPRange{}, fmt.Errorf("%q runs backwards: %s comes after %s", s, first, last)
		}
		return IPRange{first, last}, nil
	}
	if p, err := netip.ParsePrefix(s); err == nil {
		if !p.Addr().Is4() {
			return IPRange{}, fmt.Errorf("%q is not an IPv4 network", s)
		}
		p = p.Masked()
		first, last := p.Addr(), lastAddr(p)
		if p.Bits() <= 30 {
			first, last = first.Next(), last.Prev()
		}
		return IPRange{first, last}, nil
	}
	if a, err := netip.ParseAddr(s); err == nil && a.Is4() {
		return IPRange{a, a}, nil
	}
	return IPRange{}, fmt.Errorf("%q is not an address range, network or address", s)
}

func lastAddr(p netip.Prefix) netip.Addr {
	b := p.Addr().As4()
	host := uint32(1)<<(32-p.Bits()) - 1
	v := (uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])) | host
	return netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)})
}

// Contains reports whether a lies in r.
func (r IPRange) Contains(a netip.Addr) bool {
	return !a.Less(r.First) && !r.Last.Less(a)
}

func (r IPRange) overlaps(o IPRange) bool {
	return !r.Last.Less(o.First) && !o.Last.Less(r.First)
}

func (v *validator) pools(pools []PoolConfig, gw netip.Addr, gwOK bool) {
	if len(pools) == 0 {
		v.add("pool", "at least one [[pool]] is needed to give clients addresses")
	}
	type placed struct {
		key string
		r   IPRange
	}
	var all []placed
	names := map[string]bool{}
	for i, p := range pools {
		base := fmt.Sprintf("pool[%d]", i)
		if p.Name == "" {
			v.add(base+".name", "must be set")
		} else if names[p.Name] {
			v.add(base+".name", "%q names another pool too", p.Name)
		}
		names[p.Name] = true
		if len(p.Ranges) == 0 {
			v.add(base+".ranges", "must list at least one range")
		}
		for j, s := range p.Ranges {
			key := fmt.Sprintf("%s.ranges[%d]", base, j)
			r, err := ParseIPRange(s)
			if err != nil {
				v.add(key, "%v", err)
				continue
			}
			if gwOK && r.Contains(gw) {
				v.add(key, "%q contains tun.address %s, which is the gateway and cannot be given to a client", s, gw)
			}
			for _, o := range all {
				if r.overlaps(o.r) {
					v.add(key, "%q overlaps %s", s, o.key)
				}
			}
			all = append(all, placed{key, r})
		}
	}
}
