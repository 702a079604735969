package lab

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// Client timing.
const (
	daemonTimeout = 60 * time.Second // charon or pluto answering its control socket
	pppTimeout    = 45 * time.Second // from "c lab" to ppp0 with an address (SoftEther delays IPCP ~3.5 s)
)

// ClientConfig describes one client: which stack, how it authenticates the
// machine (IPsec) and the user (PPP), and what it proposes. Zero values take
// the defaults noted on each field.
type ClientConfig struct {
	Stack     Stack // default StrongSwan
	BehindNAT bool  // put the guest behind the NAT namespace
	// Server is the address the client dials; default the lab server's
	// public address.
	Server netip.Addr
	// ServerID is the IKE identity the client expects from the server;
	// default "%any" (like the built-in clients, which do not check it).
	ServerID string

	// PSK is the pre-shared key; used unless Cert is set.
	PSK string
	// Cert switches IPsec authentication to certificates.
	Cert *CertAuth

	// IKE and ESP are the proposal lists in strongSwan syntax, e.g.
	// "aes256-sha1-modp2048!" and "aes256-sha1!" (the defaults). For
	// Libreswan the trailing "!" is dropped (it is always strict).
	IKE, ESP string
	// IPsecExtra are extra lines for the conn section, e.g. "sha256_96=yes"
	// (strongSwan) to reproduce the old Android ESP bug.
	IPsecExtra []string

	PPP      PPPAuth // default MSCHAPv2
	User     string
	Password string
	// PPPExtra are extra pppd options.
	PPPExtra []string

	// Routes are sent through ppp0 once it is up; default the lab's LAN.
	Routes []netip.Prefix
	// PPPTimeout bounds the wait for ppp0 after the IPsec SA is up;
	// default 45 s. Shorten it in tests that expect L2TP/PPP to fail.
	PPPTimeout time.Duration
	// MemMB is the guest's memory; default 1024.
	MemMB int
}

// CertAuth holds host paths of PEM files for certificate authentication
// (issue 5): the client's certificate and private key and the CA that signed
// the server's certificate.
type CertAuth struct {
	CertFile, KeyFile, CAFile string
}

// Client is a guest configured as an L2TP/IPsec client.
type Client struct {
	Guest *Guest
	Cfg   ClientConfig

	iperfPort int
	mu        sync.Mutex
	addr      netip.Addr
}

func (l *Lab) withDefaults(cfg ClientConfig) ClientConfig {
	if cfg.Stack == 0 {
		cfg.Stack = StrongSwan
	}
	if !cfg.Server.IsValid() {
		cfg.Server = l.Server.PublicAddr
	}
	if cfg.ServerID == "" {
		cfg.ServerID = "%any"
	}
	if cfg.IKE == "" {
		cfg.IKE = "aes256-sha1-modp2048!"
	}
	if cfg.ESP == "" {
		cfg.ESP = "aes256-sha1!"
	}
	if cfg.Routes == nil {
		cfg.Routes = []netip.Prefix{l.Server.LAN}
	}
	if cfg.PPPTimeout <= 0 {
		cfg.PPPTimeout = pppTimeout
	}
	return cfg
}

// NewClient boots a guest for cfg, writes its IPsec, xl2tpd and pppd
// configuration and starts its IKE daemon. Failures of the lab itself fail
// the test; protocol failures come later, from Connect.
func (l *Lab) NewClient(t testing.TB, cfg ClientConfig) *Client {
	t.Helper()
	cs, err := l.newClients(context.Background(), []ClientConfig{cfg})
	if err != nil {
		t.Fatal(err)
	}
	return cs[0]
}

// NewClients boots several guests at once (they boot in parallel) and
// configures each as NewClient does.
func (l *Lab) NewClients(t testing.TB, cfgs ...ClientConfig) []*Client {
	t.Helper()
	cs, err := l.newClients(context.Background(), cfgs)
	if err != nil {
		t.Fatal(err)
	}
	return cs
}

func (l *Lab) newClients(ctx context.Context, cfgs []ClientConfig) ([]*Client, error) {
	images := map[Stack]string{}
	for i := range cfgs {
		cfgs[i] = l.withDefaults(cfgs[i])
		if _, ok := images[cfgs[i].Stack]; !ok {
			images[cfgs[i].Stack] = Image(l.t, cfgs[i].Stack)
		}
	}
	files := make([][]guestFile, len(cfgs))
	for i, cfg := range cfgs {
		f, err := clientFiles(cfg)
		if err != nil {
			return nil, err
		}
		files[i] = f
	}
	cs := make([]*Client, len(cfgs))
	errs := make([]error, len(cfgs))
	var wg sync.WaitGroup
	for i, cfg := range cfgs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			seg, err := l.clientSegment(cfg.BehindNAT)
			if err != nil {
				errs[i] = err
				return
			}
			g, err := l.bootGuest(ctx, images[cfg.Stack], cfg.Stack, seg, cfg.MemMB)
			if err != nil {
				errs[i] = err
				return
			}
			l.mu.Lock()
			port := 5201 + l.nextIperf%iperfPorts
			l.nextIperf++
			l.mu.Unlock()
			c := &Client{Guest: g, Cfg: cfg, iperfPort: port}
			errs[i] = c.setup(ctx, files[i])
			cs[i] = c
		}()
	}
	wg.Wait()
	return cs, errors.Join(errs...)
}

// guestFile is a file to install in the guest.
type guestFile struct {
	path string
	data []byte
	perm os.FileMode
}

func (c *Client) setup(ctx context.Context, files []guestFile) error {
	var script []string
	for _, f := range files {
		script = append(script, c.Guest.stageFile(f.path, f.data, f.perm)+" || exit 1")
	}
	script = append(script, "rm -f /lab/files/*")
	switch c.Cfg.Stack {
	case StrongSwan:
		script = append(script, "ipsec start")
	case Libreswan:
		script = append(script, "ipsec initnss >/lab/log/initnss.log 2>&1", "ipsec pluto --config /etc/ipsec.conf")
	}
	if out, err := c.Guest.Run(ctx, strings.Join(script, "\n")); err != nil {
		return fmt.Errorf("%s: configuring and starting %v: %w\n%s", c.Guest.Name, c.Cfg.Stack, err, out)
	}
	return nil
}

// clientFiles renders every configuration file of a client.
func clientFiles(cfg ClientConfig) ([]guestFile, error) {
	var files []guestFile
	add := func(path, data string, perm os.FileMode) {
		files = append(files, guestFile{path, []byte(data), perm})
	}
	switch cfg.Stack {
	case StrongSwan:
		add("/etc/ipsec.conf", strongSwanConf(cfg), 0o644)
		add("/etc/strongswan.d/zz-lab.conf", strongSwanLogConf, 0o644)
		if cfg.Cert != nil {
			cf, kind, err := certGuestFiles(cfg.Cert, "client")
			if err != nil {
				return nil, err
			}
			files = append(files, cf...)
			add("/etc/ipsec.secrets", ": "+kind+" client.key\n", 0o600)
		} else {
			add("/etc/ipsec.secrets", ": PSK "+strconv.Quote(cfg.PSK)+"\n", 0o600)
		}
	case Libreswan:
		if cfg.Cert != nil {
			return nil, fmt.Errorf("%w: certificates with Libreswan (they need an NSS import)", ErrUnsupported)
		}
		add("/etc/ipsec.conf", libreswanConf(cfg), 0o644)
		add("/etc/ipsec.secrets", "%any %any : PSK "+strconv.Quote(cfg.PSK)+"\n", 0o600)
	default:
		return nil, fmt.Errorf("%w: stack %v", ErrUnsupported, cfg.Stack)
	}
	add("/etc/xl2tpd/xl2tpd.conf", xl2tpdConf(cfg), 0o644)
	ppp, err := pppOptions(cfg)
	if err != nil {
		return nil, err
	}
	add("/etc/ppp/options.lab", ppp, 0o600)
	// pppd runs ip-up once ppp0 is up with its address (an address alone
	// can show before the link is up).
	add("/etc/ppp/ip-up.d/zz-lab", "#!/bin/sh\necho \"$PPP_LOCAL\" > /run/lab-ppp-up\n", 0o755)
	add("/etc/ppp/ip-down.d/zz-lab", "#!/bin/sh\nrm -f /run/lab-ppp-up\n", 0o755)
	return files, nil
}

// strongSwanLogConf sends charon's log into the share and keeps its start
// under a second.
const strongSwanLogConf = `charon {
	filelog {
		lab {
			path = /lab/log/charon.log
			time_format = %b %e %T
			default = 1
			ike = 2
			cfg = 2
			knl = 2
			flush_line = yes
		}
	}
	# af-alg probes the kernel's algorithms for seconds under UML; the
	# others need hardware or services the guest lacks, or act on the
	# segment (forecast, farp, dhcp, ha).
	# Give up on a silent server after ~16 s, not charon's ~165 s.
	retransmit_tries = 3
	retransmit_timeout = 2.0
	retransmit_base = 1.5
	plugins {
		af-alg { load = no }
		# gcrypt now and then fails to make the client's own RSA signature
		# ("creating pkcs1 signature failed: Invalid argument"); openssl
		# and gmp cover RSA without it.
		gcrypt { load = no }
		tpm { load = no }
		pkcs11 { load = no }
		ldap { load = no }
		test-vectors { load = no }
		forecast { load = no }
		farp { load = no }
		dhcp { load = no }
		ha { load = no }
		random {
			random = /dev/urandom
			urandom = /dev/urandom
		}
	}
}
`

func strongSwanConf(cfg ClientConfig) string {
	var b strings.Builder
	b.WriteString("config setup\n\tuniqueids=no\n\nconn lab\n")
	lines := []string{
		"keyexchange=ikev1",
		"type=transport",
		"left=%defaultroute",
		"leftprotoport=17/1701",
		"right=" + cfg.Server.String(),
		"rightid=" + cfg.ServerID,
		"rightprotoport=17/1701",
		"ike=" + cfg.IKE,
		"esp=" + cfg.ESP,
		"keyingtries=1",
		"auto=add",
	}
	if !hasKey(cfg.IPsecExtra, "rekey") {
		// ipsec.conf takes a key once per conn: a test that wants
		// rekeying says rekey=yes in IPsecExtra.
		lines = append(lines, "rekey=no")
	}
	if cfg.Cert != nil {
		lines = append(lines, "authby=pubkey", "leftcert=client.pem")
	} else {
		lines = append(lines, "authby=secret")
	}
	lines = append(lines, cfg.IPsecExtra...)
	for _, l := range lines {
		b.WriteString("\t" + l + "\n")
	}
	return b.String()
}

func libreswanConf(cfg ClientConfig) string {
	var b strings.Builder
	// ikev1-policy=accept: Libreswan 4.10 drops IKEv1 otherwise.
	b.WriteString("config setup\n\tikev1-policy=accept\n\tlogfile=/lab/log/pluto.log\n\tlogtime=yes\n\tplutodebug=base\n\nconn lab\n")
	lines := []string{
		"ikev2=no",
		"authby=secret",
		"type=transport",
		"left=%defaultroute",
		"leftprotoport=17/1701",
		"right=" + cfg.Server.String(),
		"rightprotoport=17/1701",
		"ike=" + strings.TrimSuffix(cfg.IKE, "!"),
		"phase2alg=" + strings.TrimSuffix(cfg.ESP, "!"),
		"encapsulation=auto",
		"pfs=no", // as the built-in clients (Libreswan defaults to PFS in Quick Mode)
		"retransmit-timeout=20s",
		"rekey=no",
		"keyingtries=1",
		"auto=add",
	}
	if cfg.ServerID != "%any" {
		lines = append(lines, "rightid="+cfg.ServerID)
	}
	lines = append(lines, cfg.IPsecExtra...)
	for _, l := range lines {
		b.WriteString("\t" + l + "\n")
	}
	return b.String()
}

func xl2tpdConf(cfg ClientConfig) string {
	return "[global]\nport = 1701\n\n[lac lab]\nlns = " + cfg.Server.String() +
		"\npppoptfile = /etc/ppp/options.lab\nlength bit = yes\nredial = no\n"
}

func pppOptions(cfg ClientConfig) (string, error) {
	refuse, err := cfg.PPP.refuseOptions()
	if err != nil {
		return "", err
	}
	opts := []string{
		"ipcp-accept-local", "ipcp-accept-remote", "noipdefault", "nodefaultroute",
		"noauth", "noccp", "nodeflate", "nobsdcomp", "mtu 1280", "mru 1280",
		"lcp-echo-interval 0", "debug", "logfile /lab/log/pppd.log",
		"name " + strconv.Quote(cfg.User), "password " + strconv.Quote(cfg.Password),
	}
	opts = append(opts, refuse...)
	opts = append(opts, cfg.PPPExtra...)
	return strings.Join(opts, "\n") + "\n", nil
}

// Connect brings the tunnel up as a user would: the IPsec SA (ipsec up),
// then the L2TP tunnel and PPP session (xl2tpd connect), and waits for ppp0
// to get an address; then it routes Cfg.Routes through ppp0. The error wraps
// ErrIPsec or ErrPPP and carries the relevant log lines.
func (c *Client) Connect(ctx context.Context) error {
	g := c.Guest
	switch c.Cfg.Stack {
	case StrongSwan:
		wait := fmt.Sprintf("for i in $(seq 1 %d); do [ -S /var/run/charon.ctl ] && ipsec statusall 2>/dev/null | grep -q '^ *lab:' && exit 0; sleep 0.2; done; exit 1",
			int(daemonTimeout/(200*time.Millisecond)))
		if _, err := g.Run(ctx, wait); err != nil {
			return fmt.Errorf("%w: charon did not start on %s: %v", ErrIPsec, g.Name, err)
		}
		out, err := g.Run(ctx, "ipsec up lab")
		if err == nil && !strings.Contains(out, "established successfully") {
			err = errors.New("no 'established successfully'")
		}
		if err != nil {
			return fmt.Errorf("%w: %s: ipsec up: %v\n%s", ErrIPsec, g.Name, err, tailLines(out, 25))
		}
	case Libreswan:
		wait := fmt.Sprintf("for i in $(seq 1 %d); do ipsec whack --status >/dev/null 2>&1 && exit 0; sleep 0.2; done; exit 1",
			int(daemonTimeout/(200*time.Millisecond)))
		if _, err := g.Run(ctx, wait); err != nil {
			return fmt.Errorf("%w: pluto did not start on %s: %v", ErrIPsec, g.Name, err)
		}
		out, err := g.Run(ctx, "ipsec auto --add lab && ipsec auto --up lab")
		if err == nil && !strings.Contains(out, "IPsec SA established") {
			err = errors.New("no 'IPsec SA established'")
		}
		if err != nil {
			return fmt.Errorf("%w: %s: ipsec auto --up: %v\n%s", ErrIPsec, g.Name, err, tailLines(out, 25))
		}
	}
	// A fresh xl2tpd per attempt: an earlier tunnel that timed out leaves
	// it retrying.
	start := `pkill -x xl2tpd; sleep 0.2; rm -f /run/xl2tpd/l2tp-control /run/lab-ppp-up
setsid xl2tpd -D -c /etc/xl2tpd/xl2tpd.conf >>/lab/log/xl2tpd.log 2>&1 </dev/null &
for i in $(seq 1 50); do [ -p /run/xl2tpd/l2tp-control ] && break; sleep 0.1; done
echo "c lab" > /run/xl2tpd/l2tp-control || exit 3
`
	var routes strings.Builder
	for _, r := range c.Cfg.Routes {
		routes.WriteString("\t\tip route replace " + r.String() + " dev ppp0 || exit 2\n")
	}
	waitPPP := fmt.Sprintf(`for i in $(seq 1 %d); do
	if [ -s /run/lab-ppp-up ]; then
		cat /run/lab-ppp-up
%s		exit 0
	fi
	sleep 0.2
done
exit 1`, int(c.Cfg.PPPTimeout/(200*time.Millisecond)), routes.String())
	out, err := g.Run(ctx, start+waitPPP)
	if err != nil {
		pppLog, _ := os.ReadFile(g.share + "/log/pppd.log")
		l2tpLog, _ := os.ReadFile(g.share + "/log/xl2tpd.log")
		return fmt.Errorf("%w: %s: no address on ppp0 within %v (%v)\npppd:\n%s\nxl2tpd:\n%s", ErrPPP, g.Name, c.Cfg.PPPTimeout,
			err, tailLines(string(pppLog), 20), tailLines(string(l2tpLog), 10))
	}
	a, _, _ := strings.Cut(strings.TrimSpace(out), "\n")
	addr, err := netip.ParseAddr(a)
	if err != nil {
		return fmt.Errorf("%w: %s: ppp0 address %q: %v", ErrPPP, g.Name, out, err)
	}
	c.mu.Lock()
	c.addr = addr
	c.mu.Unlock()
	return nil
}

// Addr is the address the server gave the client over IPCP, or the zero
// Addr when it is not connected.
func (c *Client) Addr() netip.Addr {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.addr
}

// Ping sends three echo requests to target from the guest and fails unless
// at least one is answered.
func (c *Client) Ping(ctx context.Context, target netip.Addr) error {
	out, err := c.Guest.Run(ctx, "ping -c 3 -i 0.2 -W 2 "+target.String())
	if err != nil {
		return fmt.Errorf("%s: ping %v: %w", c.Guest.Name, target, err)
	}
	_ = out
	return nil
}

// Iperf3 runs an iperf3 TCP test of seconds against target (the LAN host
// runs iperf3 servers) and returns the received rate in Mbit/s. reverse
// measures the download (server to client).
func (c *Client) Iperf3(ctx context.Context, target netip.Addr, seconds int, reverse bool) (float64, error) {
	cmd := fmt.Sprintf("iperf3 -c %s -p %d -t %d -J --connect-timeout 5000", target, c.iperfPort, seconds)
	if reverse {
		cmd += " -R"
	}
	out, err := c.Guest.Run(ctx, cmd)
	if err != nil {
		return 0, fmt.Errorf("%s: iperf3: %w", c.Guest.Name, err)
	}
	return parseIperf3(out)
}

// parseIperf3 reads the received rate from iperf3 -J output.
func parseIperf3(out string) (float64, error) {
	var r struct {
		End struct {
			SumReceived struct {
				BitsPerSecond float64 `json:"bits_per_second"`
			} `json:"sum_received"`
		} `json:"end"`
		Error string `json:"error"`
	}
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		return 0, fmt.Errorf("lab: iperf3 output: %v: %s", err, tailLines(out, 5))
	}
	if r.Error != "" {
		return 0, fmt.Errorf("lab: iperf3: %s", r.Error)
	}
	return r.End.SumReceived.BitsPerSecond / 1e6, nil
}

// Disconnect ends the PPP session and L2TP tunnel and deletes the IPsec SA,
// as a user pressing "disconnect" would.
func (c *Client) Disconnect(ctx context.Context) error {
	down := "ipsec down lab"
	if c.Cfg.Stack == Libreswan {
		down = "ipsec auto --down lab"
	}
	script := `[ -p /run/xl2tpd/l2tp-control ] && echo "d lab" > /run/xl2tpd/l2tp-control
for i in 1 2 3 4 5 6 7 8 9 10; do [ -e /run/lab-ppp-up ] || break; sleep 0.2; done
pkill -x pppd; pkill -x xl2tpd
` + down + " >/dev/null 2>&1; exit 0"
	_, err := c.Guest.Run(ctx, script)
	c.mu.Lock()
	c.addr = netip.Addr{}
	c.mu.Unlock()
	return err
}

// Kill hard-kills the client's guest (see Guest.Kill): the server sees a
// client that vanished without a word.
func (c *Client) Kill() {
	c.Guest.Kill()
	c.mu.Lock()
	c.addr = netip.Addr{}
	c.mu.Unlock()
}

// Status returns the IPsec stack's view of its SAs (ipsec statusall or
// ipsec whack --trafficstatus).
func (c *Client) Status(ctx context.Context) (string, error) {
	if c.Cfg.Stack == Libreswan {
		return c.Guest.Run(ctx, "ipsec whack --trafficstatus; ipsec whack --status | tail -20")
	}
	return c.Guest.Run(ctx, "ipsec statusall")
}

// certGuestFiles reads a CertAuth's PEM files from the host and places them
// where strongSwan's starter looks (/etc/ipsec.d/{certs,private,cacerts}) as
// NAME.pem, NAME.key and ca.pem. kind is the ipsec.secrets key type.
func certGuestFiles(c *CertAuth, name string) (files []guestFile, kind string, err error) {
	read := func(p string) ([]byte, error) {
		b, err := os.ReadFile(p)
		if err != nil {
			return nil, fmt.Errorf("lab: certificate file: %w", err)
		}
		return b, nil
	}
	cert, err := read(c.CertFile)
	if err != nil {
		return nil, "", err
	}
	key, err := read(c.KeyFile)
	if err != nil {
		return nil, "", err
	}
	ca, err := read(c.CAFile)
	if err != nil {
		return nil, "", err
	}
	kind = "RSA"
	if strings.Contains(string(key), "EC PRIVATE KEY") {
		kind = "ECDSA"
	}
	return []guestFile{
		{"/etc/ipsec.d/certs/" + name + ".pem", cert, 0o644},
		{"/etc/ipsec.d/private/" + name + ".key", key, 0o600},
		{"/etc/ipsec.d/cacerts/ca.pem", ca, 0o644},
	}, kind, nil
}

// hasKey reports whether one of the "key=value" lines sets key.
func hasKey(lines []string, key string) bool {
	for _, l := range lines {
		if k, _, ok := strings.Cut(strings.TrimSpace(l), "="); ok && strings.TrimSpace(k) == key {
			return true
		}
	}
	return false
}
