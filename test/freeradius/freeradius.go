// Package freeradius runs a real FreeRADIUS 3.2 (Debian's freeradius
// package) for tests: it writes a configuration directory of its own (users
// with cleartext passwords for PAP, CHAP-MD5, MS-CHAPv2 and EAP-MD5, reply
// attributes such as Framed-IP-Address, Session-Timeout and
// Acct-Interim-Interval, clients with their secrets and source networks, and
// the detail module writing every accounting request to one file and every
// Access-Request, passwords left out, to another), starts the
// server with a command the caller provides (so that it can run inside a
// network namespace of the lab), waits until it answers a Status-Server
// request (RFC 5997), stops and starts it again (failover, queued
// accounting), and parses the detail file into records (RFC 2866 accounting
// as FreeRADIUS writes it).
//
// The server speaks RFC 2865 (authentication), RFC 2866 and RFC 2869
// (accounting), RFC 3579 (EAP) and RFC 5997 (Status-Server); this package
// only configures and drives it.
package freeradius

import (
	"context"
	"crypto/hmac"
	"crypto/md5"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"layeh.com/radius"
	"layeh.com/radius/rfc2869"
)

// Errors of the harness.
var (
	// ErrNotInstalled: the freeradius binary is not on PATH.
	ErrNotInstalled = errors.New("freeradius: not installed (apt-get install freeradius freeradius-utils)")
	// ErrBadConfig: the Config cannot be written as a FreeRADIUS configuration.
	ErrBadConfig = errors.New("freeradius: bad configuration")
	// ErrNotReady: the server did not answer Status-Server in time.
	ErrNotReady = errors.New("freeradius: not ready")
	// ErrExited: the server process is gone.
	ErrExited = errors.New("freeradius: process exited")
	// ErrRunning: Start was called on a running server.
	ErrRunning = errors.New("freeradius: already running")
	// ErrMalformedDetail: the detail file has a line the parser cannot read.
	ErrMalformedDetail = errors.New("freeradius: malformed detail file")
)

// Attr is one attribute of a users-file reply or a detail record. In a
// reply the Value is written as FreeRADIUS expects it: numbers, addresses
// and dictionary values bare, strings in double quotes (Quote does that).
type Attr struct {
	Name, Value string
}

// Quote returns s as a double-quoted FreeRADIUS string.
func Quote(s string) string {
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s) + `"`
}

// User is an entry of the users file. Password is stored as
// Cleartext-Password, which serves PAP, CHAP-MD5, MS-CHAPv2 and EAP-MD5.
type User struct {
	Name     string
	Password string
	// Reply holds the attributes sent in the Access-Accept, e.g.
	// {"Framed-IP-Address", "10.99.1.77"}, {"Session-Timeout", "3600"},
	// {"Acct-Interim-Interval", "60"}.
	Reply []Attr
}

// Client is a RADIUS client (NAS) the server accepts requests from.
type Client struct {
	Name    string // default "nasN"
	Network netip.Prefix
	Secret  string
}

// Config describes one FreeRADIUS instance.
type Config struct {
	// Dir is the configuration directory to create (it also holds the
	// log, the detail file and the pid file); required.
	Dir string
	// Addr is the address it listens on; default 127.0.0.1.
	Addr netip.Addr
	// AuthPort and AcctPort default to 1812 and 1813.
	AuthPort, AcctPort int
	// Clients default to one for 127.0.0.0/8 with Secret.
	Clients []Client
	// Secret is the default client's secret, and the one Status-Server
	// probes use (so the probe's source must be a client with this
	// secret); required.
	Secret string
	Users  []User
	// Listen opens the socket Status-Server probes are sent from; default
	// net.ListenPacket. In the lab pass a function that opens it in the
	// server's namespace (lab.Lab.ListenPacketIn).
	Listen func(network, address string) (net.PacketConn, error)
}

// Runner starts the server process: name and args are the command line.
// The runner must arrange that the process is waited for (exec.Cmd.Wait),
// so that Stop can see it end; lab.Lab.Start does.
type Runner func(name string, args ...string) (*os.Process, error)

// Server is one configured FreeRADIUS instance.
type Server struct {
	cfg Config
	// LogFile is the server's log (auth results and debug output);
	// DetailFile the accounting detail file; AuthDetailFile every
	// Access-Request received, in the same format, without User-Password
	// and CHAP-Password.
	LogFile, DetailFile, AuthDetailFile string

	mu     sync.Mutex
	proc   *os.Process
	waited chan struct{} // closed when a process started by the default runner ends
}

// New writes the configuration directory; nothing is started.
func New(cfg Config) (*Server, error) {
	if cfg.Dir == "" || cfg.Secret == "" {
		return nil, fmt.Errorf("%w: Dir and Secret are required", ErrBadConfig)
	}
	if !cfg.Addr.IsValid() {
		cfg.Addr = netip.MustParseAddr("127.0.0.1")
	}
	if cfg.AuthPort == 0 {
		cfg.AuthPort = 1812
	}
	if cfg.AcctPort == 0 {
		cfg.AcctPort = 1813
	}
	if len(cfg.Clients) == 0 {
		cfg.Clients = []Client{{Name: "localhost", Network: netip.MustParsePrefix("127.0.0.0/8"), Secret: cfg.Secret}}
	}
	if cfg.Listen == nil {
		cfg.Listen = net.ListenPacket
	}
	if err := os.MkdirAll(cfg.Dir, 0o700); err != nil {
		return nil, err
	}
	s := &Server{cfg: cfg, LogFile: filepath.Join(cfg.Dir, "radius.log"), DetailFile: filepath.Join(cfg.Dir, "detail"),
		AuthDetailFile: filepath.Join(cfg.Dir, "auth-detail")}
	conf, err := s.radiusdConf()
	if err != nil {
		return nil, err
	}
	users, err := usersFile(cfg.Users)
	if err != nil {
		return nil, err
	}
	for name, data := range map[string]string{"radiusd.conf": conf, "users": users, "acct_users": ""} {
		if err := os.WriteFile(filepath.Join(cfg.Dir, name), []byte(data), 0o600); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// AuthAddr and AcctAddr are the server's "host:port" addresses.
func (s *Server) AuthAddr() string {
	return netip.AddrPortFrom(s.cfg.Addr, uint16(s.cfg.AuthPort)).String()
}

// AcctAddr is the accounting address.
func (s *Server) AcctAddr() string {
	return netip.AddrPortFrom(s.cfg.Addr, uint16(s.cfg.AcctPort)).String()
}

// Dir is the configuration directory.
func (s *Server) Dir() string { return s.cfg.Dir }

// Command is the command line that runs this instance in the foreground,
// logging to LogFile.
func (s *Server) Command() (name string, args []string) {
	return "freeradius", []string{"-f", "-xx", "-l", s.LogFile, "-d", s.cfg.Dir}
}

// Start runs the server with run (nil: as a child of this process, in the
// current network namespace) and waits until it answers a Status-Server
// request on its authentication port, or ctx ends.
func (s *Server) Start(ctx context.Context, run Runner) error {
	if _, err := exec.LookPath("freeradius"); err != nil {
		return ErrNotInstalled
	}
	s.mu.Lock()
	if s.proc != nil && !s.exitedLocked() {
		s.mu.Unlock()
		return ErrRunning
	}
	s.proc, s.waited = nil, nil
	name, args := s.Command()
	var p *os.Process
	var err error
	if run == nil {
		cmd := exec.Command(name, args...)
		if err = cmd.Start(); err == nil {
			p = cmd.Process
			w := make(chan struct{})
			go func() { cmd.Wait(); close(w) }()
			s.waited = w
		}
	} else {
		p, err = run(name, args...)
	}
	if err != nil {
		s.mu.Unlock()
		return fmt.Errorf("freeradius: start: %w", err)
	}
	s.proc = p
	s.mu.Unlock()
	return s.waitReady(ctx)
}

// exitedLocked reports whether the process has ended (and was waited for).
func (s *Server) exitedLocked() bool {
	if s.waited != nil {
		select {
		case <-s.waited:
			return true
		default:
			return false
		}
	}
	return errors.Is(s.proc.Signal(syscall.Signal(0)), os.ErrProcessDone)
}

// Running reports whether the process is alive.
func (s *Server) Running() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.proc != nil && !s.exitedLocked()
}

func (s *Server) waitReady(ctx context.Context) error {
	for {
		if !s.Running() {
			return fmt.Errorf("%w before it was ready; log:\n%s", ErrExited, s.LogTail(40))
		}
		pctx, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
		err := s.Probe(pctx)
		cancel()
		if err == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%w: %v (last probe: %v); log:\n%s", ErrNotReady, ctx.Err(), err, s.LogTail(40))
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// Stop ends the server with SIGTERM (SIGKILL after 5 s) and waits until the
// process is gone, so that its ports are free for a restart.
func (s *Server) Stop() error {
	s.mu.Lock()
	p := s.proc
	s.mu.Unlock()
	if p == nil {
		return nil
	}
	_ = p.Signal(syscall.SIGTERM)
	deadline := time.Now().Add(5 * time.Second)
	killed := false
	for s.Running() {
		if time.Now().After(deadline) && !killed {
			_ = p.Kill()
			killed = true
			deadline = time.Now().Add(5 * time.Second)
		} else if time.Now().After(deadline) {
			return fmt.Errorf("freeradius: pid %d does not end (is it waited for?)", p.Pid)
		}
		time.Sleep(20 * time.Millisecond)
	}
	s.mu.Lock()
	s.proc = nil
	s.mu.Unlock()
	return nil
}

// Probe sends one Status-Server request (RFC 5997, with the
// Message-Authenticator it requires) to the authentication port and waits
// for the Access-Accept.
func (s *Server) Probe(ctx context.Context) error {
	conn, err := s.cfg.Listen("udp4", netip.AddrPortFrom(s.cfg.Addr, 0).String())
	if err != nil {
		return err
	}
	defer conn.Close()
	secret := []byte(s.cfg.Secret)
	p := radius.New(radius.CodeStatusServer, secret)
	if err := rfc2869.MessageAuthenticator_Add(p, make([]byte, 16)); err != nil {
		return err
	}
	wire, err := p.Encode()
	if err != nil {
		return err
	}
	// The only attribute: type and length at 20, value at 22.
	mac := hmac.New(md5.New, secret)
	mac.Write(wire)
	copy(wire[22:38], mac.Sum(nil))
	dst := net.UDPAddrFromAddrPort(netip.AddrPortFrom(s.cfg.Addr, uint16(s.cfg.AuthPort)))
	if _, err := conn.WriteTo(wire, dst); err != nil {
		return err
	}
	if d, ok := ctx.Deadline(); ok {
		conn.SetReadDeadline(d)
	}
	buf := make([]byte, radius.MaxPacketLength)
	for {
		n, _, err := conn.ReadFrom(buf)
		if err != nil {
			return err
		}
		if n >= 20 && buf[1] == wire[1] && radius.IsAuthenticResponse(buf[:n], wire, secret) {
			if radius.Code(buf[0]) != radius.CodeAccessAccept {
				return fmt.Errorf("freeradius: Status-Server answered with %v", radius.Code(buf[0]))
			}
			return nil
		}
	}
}

// LogTail returns the last n lines of the server's log.
func (s *Server) LogTail(n int) string {
	b, _ := os.ReadFile(s.LogFile)
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// Log returns the whole log.
func (s *Server) Log() string {
	b, _ := os.ReadFile(s.LogFile)
	return string(b)
}

// Detail parses the accounting detail file; a missing file is no records.
func (s *Server) Detail() ([]Record, error) { return parseFile(s.DetailFile) }

// AuthDetail parses the file of Access-Requests received.
func (s *Server) AuthDetail() ([]Record, error) { return parseFile(s.AuthDetailFile) }

func parseFile(name string) ([]Record, error) {
	f, err := os.Open(name)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return ParseDetail(f)
}
