package serverlab

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/l2tpsecd/l2tpsecd/server/control"
	"github.com/l2tpsecd/l2tpsecd/test/freeradius"
	"github.com/l2tpsecd/l2tpsecd/test/lab"
)

// The RADIUS lab (issue 6 acceptance): two real FreeRADIUS 3.2 instances in
// the lab's server namespace on 127.0.0.1, the primary and the secondary,
// each with authentication and accounting; l2tpsecd uses them in that order
// and listens for Disconnect-Requests on 127.0.0.1:3799.

const (
	radSecret    = "lab-radius-secret-7"
	daeSecret    = "lab-dae-secret-9"
	radDAEAddr   = "127.0.0.1:3799"
	radClass     = "lab-class-42"
	radFixedAddr = "10.99.1.77" // inside the daemon's pool range, far from where allocation starts
)

// radiusUsers are FreeRADIUS's users: alice plain, fixed with a
// Framed-IP-Address, carol with Acct-Interim-Interval (60 s: the daemon
// raises anything shorter to a minute, RFC 2869 5.16), Session-Timeout and
// Class.
var radiusUsers = []freeradius.User{
	{Name: "alice", Password: "alice-rad-pw-1"},
	{Name: "fixed", Password: "fixed-rad-pw-2", Reply: []freeradius.Attr{{Name: "Framed-IP-Address", Value: radFixedAddr}}},
	{Name: "carol", Password: "carol-rad-pw-3", Reply: []freeradius.Attr{
		{Name: "Acct-Interim-Interval", Value: "60"}, {Name: "Session-Timeout", Value: "3600"},
		{Name: "Class", Value: freeradius.Quote(radClass)}}},
}

func radiusPassword(name string) string {
	for _, u := range radiusUsers {
		if u.Name == name {
			return u.Password
		}
	}
	panic("no RADIUS user " + name)
}

// radiusLab is a lab with the two FreeRADIUS instances.
type radiusLab struct {
	l                  *lab.Lab
	primary, secondary *freeradius.Server
	mu                 sync.Mutex
	starts             int
}

func needFreeRADIUS(t *testing.T) {
	t.Helper()
	for _, bin := range []string{"freeradius", "radclient"} {
		if _, err := exec.LookPath(bin); err != nil {
			if lab.Required() {
				t.Fatalf("%s is not installed (apt-get install freeradius freeradius-utils) and %s=require", bin, lab.EnvMode)
			}
			t.Skipf("%s is not installed (apt-get install freeradius freeradius-utils)", bin)
		}
	}
}

func newRadiusLab(t *testing.T) *radiusLab {
	t.Helper()
	needFreeRADIUS(t)
	l := lab.New(t)
	r := &radiusLab{l: l}
	mk := func(name string, authPort, acctPort int) *freeradius.Server {
		s, err := freeradius.New(freeradius.Config{
			Dir: filepath.Join(l.Dir, "freeradius-"+name), AuthPort: authPort, AcctPort: acctPort,
			Secret: radSecret, Users: radiusUsers,
			Listen: func(network, address string) (net.PacketConn, error) {
				return l.ListenPacketIn(l.Server.Namespace, network, address)
			},
		})
		if err != nil {
			t.Fatal(err)
		}
		l.AddLogFile("freeradius "+name+" log", s.LogFile)
		l.AddLogFile("freeradius "+name+" detail", s.DetailFile)
		t.Cleanup(func() { s.Stop() })
		return s
	}
	r.primary = mk("primary", 18120, 18130)
	r.secondary = mk("secondary", 18121, 18131)
	r.start(t, r.primary)
	r.start(t, r.secondary)
	return r
}

// start runs s in the server namespace (as a process of the lab, whose log
// is printed on failure) and waits until it answers Status-Server.
func (r *radiusLab) start(t *testing.T, s *freeradius.Server) {
	t.Helper()
	r.mu.Lock()
	r.starts++
	n := r.starts
	r.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	err := s.Start(ctx, func(name string, args ...string) (*os.Process, error) {
		return r.l.Start(fmt.Sprintf("freeradius-%d", n), r.l.Server.Command(context.Background(), name, args...))
	})
	if err != nil {
		t.Fatalf("FreeRADIUS %s: %v", s.Dir(), err)
	}
}

func (r *radiusLab) stop(t *testing.T, s *freeradius.Server) {
	t.Helper()
	if err := s.Stop(); err != nil {
		t.Fatal(err)
	}
}

// daemonConfig points l2tpsecd at both servers for authentication and
// accounting, with short timeouts (1 s, one retransmission, dead after one
// missed exchange, retried after 5 s) and the Disconnect/CoA listener.
func (r *radiusLab) daemonConfig(auth []string) daemonConfig {
	var b strings.Builder
	fmt.Fprintf(&b, "\n[radius]\nnas_identifier = \"l2tpsecd-lab\"\ntimeout = \"1s\"\nretries = 1\ndead_after = 1\ndead_time = \"5s\"\ninterim_interval = \"0s\"\n")
	for _, s := range []*freeradius.Server{r.primary, r.secondary} {
		fmt.Fprintf(&b, "[[radius.server]]\naddress = %q\nsecret = %q\n", s.AuthAddr(), radSecret)
	}
	for _, s := range []*freeradius.Server{r.primary, r.secondary} {
		fmt.Fprintf(&b, "[[radius.accounting_server]]\naddress = %q\nsecret = %q\n", s.AcctAddr(), radSecret)
	}
	fmt.Fprintf(&b, "[radius.dae]\nlisten = %q\nsecret = %q\nallowed = [\"127.0.0.0/8\"]\n", radDAEAddr, daeSecret)
	return daemonConfig{PSKs: []string{labPSK}, Auth: auth, AuthBackend: "radius", Extra: b.String()}
}

// startDaemon starts l2tpsecd and adds the RADIUS secrets and the users'
// passwords to what must never appear in its logs.
func (r *radiusLab) startDaemon(t *testing.T, dc daemonConfig) *daemon {
	t.Helper()
	d := startDaemon(t, r.l, dc)
	d.secrets = append(d.secrets, radSecret, daeSecret)
	for _, u := range radiusUsers {
		d.secrets = append(d.secrets, u.Password)
	}
	return d
}

// configAccepts reports whether l2tpsecd -check-config accepts dc, and what
// it said.
func (r *radiusLab) configAccepts(t *testing.T, dc daemonConfig) (bool, string) {
	t.Helper()
	dir := filepath.Join(r.l.Dir, "config-check")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	d := &daemon{dir: dir, cfgPath: filepath.Join(dir, "l2tpsecd.toml"), audit: filepath.Join(dir, "audit.log"),
		socket: filepath.Join(dir, "control.sock"), lab: r.l}
	d.writeConfig(t, dc)
	out, err := exec.Command(daemonBinary(t), "-check-config", "-config", d.cfgPath).CombinedOutput()
	return err == nil, strings.TrimSpace(string(out))
}

// radclient sends one request (kind: auth, acct, disconnect, coa) from the
// server namespace and returns radclient's output.
func (r *radiusLab) radclient(ctx context.Context, addr, kind, secret string, attrs ...string) (string, error) {
	r.mu.Lock()
	r.starts++
	f := filepath.Join(r.l.Dir, fmt.Sprintf("radclient-%d.txt", r.starts))
	r.mu.Unlock()
	if err := os.WriteFile(f, []byte(strings.Join(attrs, "\n")+"\n"), 0o600); err != nil {
		return "", err
	}
	return r.l.RunIn(ctx, r.l.Server.Namespace, "radclient", "-x", "-r", "1", "-t", "3", "-f", f, addr, kind, secret)
}

// waitRecord waits until s's detail file holds a record that match accepts.
func waitRecord(t *testing.T, s *freeradius.Server, timeout time.Duration, what string, match func(freeradius.Record) bool) freeradius.Record {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		recs, err := s.Detail()
		if err != nil {
			t.Fatalf("detail file of %s: %v", s.Dir(), err)
		}
		for _, rec := range recs {
			if match(rec) {
				return rec
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no %s in %s within %s; %d records there", what, s.DetailFile, timeout, len(recs))
		}
		time.Sleep(500 * time.Millisecond)
	}
}

// sessionRecord matches a record of one session with the given status.
func sessionRecord(id, status string) func(freeradius.Record) bool {
	return func(rec freeradius.Record) bool {
		sid, _ := rec.Get("Acct-Session-Id")
		return sid == id && rec.Status() == status
	}
}

func countLogins(s *freeradius.Server, user string) int {
	return strings.Count(s.Log(), "Login OK: ["+user+"]")
}

// sessionOf returns the daemon's session of user.
func sessionOf(t *testing.T, d *daemon, user string) control.SessionInfo {
	t.Helper()
	for _, s := range d.call(t, control.Request{Cmd: control.CmdSessions}).Sessions {
		if s.User == user {
			return s
		}
	}
	t.Fatalf("the daemon has no session of %s", user)
	return control.SessionInfo{}
}

// allowEAP makes a client configured with PPP: lab.PAP and PPPExtra
// "refuse-pap" do EAP only: the lab writes refuse-eap for every method it
// knows, and pppd has no option that undoes it.
func allowEAP(ctx context.Context, c *lab.Client) error {
	_, err := c.Guest.Run(ctx, "sed -i '/^refuse-eap$/d' /etc/ppp/options.lab && ! grep -q '^refuse-eap' /etc/ppp/options.lab")
	return err
}

// TestRADIUSAuthentication: the guest client authenticates through
// FreeRADIUS with MS-CHAPv2, CHAP-MD5, PAP and EAP-MD5 (passed through);
// a wrong password is refused with the reason in the audit log; a user with
// Framed-IP-Address gets exactly that address. The daemon has no local
// users, and FreeRADIUS's log shows each login.
func TestRADIUSAuthentication(t *testing.T) {
	r := newRadiusLab(t)
	methods := []string{"mschapv2", "chap", "pap"}
	eapOK, eapWhy := r.configAccepts(t, r.daemonConfig(append(methods, "eap")))
	if eapOK {
		methods = append(methods, "eap")
	}
	d := r.startDaemon(t, r.daemonConfig(methods))
	l := r.l

	t.Run("wrong-password", func(t *testing.T) {
		c := l.NewClient(t, lab.ClientConfig{PSK: labPSK, User: "alice", Password: "not-alices-password", PPPTimeout: 15 * time.Second})
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		err := c.Connect(ctx)
		if err == nil {
			t.Fatal("connected with a wrong password")
		}
		if !errors.Is(err, lab.ErrPPP) {
			t.Fatalf("failed, but not in PPP: %v", err)
		}
		line := d.waitAudit(t, 10*time.Second, `"event":"user_refused"`, `"alice"`)
		// FreeRADIUS's mschap module rejects with MS-CHAP-Error E=691.
		if !strings.Contains(line, "bad_password") {
			t.Errorf("refusal does not say bad_password: %s", line)
		}
		if !strings.Contains(r.primary.Log(), "Login incorrect") {
			t.Errorf("FreeRADIUS did not log the failed login")
		}
		if got := d.auditLines(`"event":"address_assigned"`); len(got) != 0 {
			t.Errorf("an address was assigned to a refused user: %v", got)
		}
		waitNoSessions(t, d, 20*time.Second)
	})

	cases := []struct {
		name, user, method string
		cfg                lab.ClientConfig
		eap                bool
	}{
		{name: "mschapv2", user: "alice", method: "MS-CHAPv2", cfg: lab.ClientConfig{PPP: lab.MSCHAPv2}},
		{name: "chap", user: "alice", method: "CHAP", cfg: lab.ClientConfig{PPP: lab.CHAP}},
		{name: "pap", user: "alice", method: "PAP", cfg: lab.ClientConfig{PPP: lab.PAP}},
		{name: "eap-md5", user: "alice", method: "EAP", cfg: lab.ClientConfig{PPP: lab.PAP, PPPExtra: []string{"refuse-pap"}}, eap: true},
		{name: "framed-ip-address", user: "fixed", method: "MS-CHAPv2", cfg: lab.ClientConfig{PPP: lab.MSCHAPv2}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if tc.eap && !eapOK {
				t.Skipf("l2tpsecd does not accept \"eap\" in ppp.auth with auth.backend = \"radius\" (EAP pass-through not wired into the daemon's configuration): %s", eapWhy)
			}
			cfg := tc.cfg
			cfg.PSK, cfg.User, cfg.Password = labPSK, tc.user, radiusPassword(tc.user)
			c := l.NewClient(t, cfg)
			ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
			defer cancel()
			if tc.eap {
				if err := allowEAP(ctx, c); err != nil {
					t.Fatalf("allowing EAP in the guest's pppd: %v", err)
				}
			}
			before := countLogins(r.primary, tc.user)
			if err := c.Connect(ctx); err != nil {
				t.Fatalf("connect: %v", err)
			}
			if tc.user == "fixed" {
				if c.Addr().String() != radFixedAddr {
					t.Fatalf("client address %v, want FreeRADIUS's Framed-IP-Address %s", c.Addr(), radFixedAddr)
				}
			} else if !l.Server.Pool.Contains(c.Addr()) {
				t.Fatalf("client address %v is not from the pool %v", c.Addr(), l.Server.Pool)
			}
			if err := c.Ping(ctx, l.Server.LANHost); err != nil {
				t.Fatalf("ping LAN host: %v", err)
			}
			if n := countLogins(r.primary, tc.user); n <= before {
				t.Errorf("FreeRADIUS (primary) logged no new login of %s", tc.user)
			}
			d.waitAudit(t, 5*time.Second, `"event":"user_authenticated"`, `"`+tc.user+`"`)
			s := sessionOf(t, d, tc.user)
			checkAccessRequest(t, r.primary, tc.user, s.ID, c.Guest.Addr.Addr().String())
			if s.Address != c.Addr().String() {
				t.Errorf("daemon's session address %s, client has %v", s.Address, c.Addr())
			}
			if !strings.Contains(strings.ToLower(s.AuthMethod), strings.ToLower(tc.method)) {
				t.Errorf("session auth method %q, want %s", s.AuthMethod, tc.method)
			}
			if err := c.Disconnect(ctx); err != nil {
				t.Fatalf("disconnect: %v", err)
			}
			waitNoSessions(t, d, 20*time.Second)
		})
	}
}

// attr returns the value of name in rec, also when FreeRADIUS printed it
// with a tag ("Tunnel-Type:0").
func attr(rec freeradius.Record, name string) (string, bool) {
	for _, a := range rec.Attrs {
		if a.Name == name || strings.HasPrefix(a.Name, name+":") {
			return a.Value, true
		}
	}
	return "", false
}

// checkAccessRequest checks the attributes of the last Access-Request of
// user that s received (issue 6, "Attributes sent").
func checkAccessRequest(t *testing.T, s *freeradius.Server, user, sessionID, clientAddr string) {
	t.Helper()
	recs, err := s.AuthDetail()
	if err != nil {
		t.Fatal(err)
	}
	var rec *freeradius.Record
	for i := range recs {
		if v, _ := recs[i].Get("User-Name"); v == user {
			rec = &recs[i]
		}
	}
	if rec == nil {
		t.Errorf("FreeRADIUS logged no Access-Request of %s", user)
		return
	}
	want := map[string]string{
		"NAS-Identifier": "l2tpsecd-lab", "NAS-Port-Type": "Virtual", "Service-Type": "Framed-User",
		"Framed-Protocol": "PPP", "Tunnel-Type": "L2TP", "Tunnel-Medium-Type": "IPv4", "Acct-Session-Id": sessionID,
	}
	for name, v := range want {
		if got, ok := attr(*rec, name); !ok || got != v {
			t.Errorf("Access-Request %s = %q (present %v), want %q", name, got, ok, v)
		}
	}
	for _, name := range []string{"Calling-Station-Id", "Tunnel-Client-Endpoint"} {
		if got, _ := attr(*rec, name); !strings.Contains(got, clientAddr) {
			t.Errorf("Access-Request %s = %q, want the client's public address %s", name, got, clientAddr)
		}
	}
	for _, name := range []string{"Message-Authenticator", "NAS-Port"} {
		if _, ok := attr(*rec, name); !ok {
			t.Errorf("Access-Request without %s", name)
		}
	}
	if t.Failed() {
		t.Logf("the Access-Request: %+v", rec.Attrs)
	}
}

// octetsWithin checks an accounting octet count against the TCP payload
// that went that way (at least received, at most sent) and the payload sent
// the other way (other): at least received, at most sent plus 10% of both
// for TCP/IP headers and ACKs plus 64 KiB for the rest (iperf3's control
// connection, LCP echoes).
func octetsWithin(t *testing.T, what string, got, received, sent, other uint64) {
	t.Helper()
	limit := sent + sent/10 + other/10 + 64<<10
	if got < received || got > limit {
		t.Errorf("%s = %d, want between %d (payload received) and %d", what, got, received, limit)
	}
}

// iperfBytes runs iperf3 -n n from the guest against host:port (reverse:
// the host sends) and returns the payload bytes sent and received, from
// iperf3's JSON report.
func iperfBytes(ctx context.Context, t *testing.T, g *lab.Guest, host string, port int, n int, reverse bool) (sent, received uint64) {
	t.Helper()
	r := ""
	if reverse {
		r = " -R"
	}
	out, err := g.Run(ctx, fmt.Sprintf("iperf3 -J -c %s -p %d -n %d%s 2>/dev/null", host, port, n, r))
	if err != nil {
		t.Fatalf("iperf3%s: %v\n%s", r, err, out)
	}
	var rep struct {
		End struct {
			Sent     struct{ Bytes uint64 } `json:"sum_sent"`
			Received struct{ Bytes uint64 } `json:"sum_received"`
		} `json:"end"`
	}
	if i := strings.IndexByte(out, '{'); i >= 0 {
		out = out[i:]
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil || rep.End.Received.Bytes == 0 {
		t.Fatalf("iperf3%s report (%v):\n%s", r, err, out)
	}
	return rep.End.Sent.Bytes, rep.End.Received.Bytes
}

// TestRADIUSAccounting: FreeRADIUS's detail file shows Start, an
// Interim-Update and Stop for a session, with octet counts that match a
// known amount of traffic each way (Acct-Input is from the client), the
// Class of the Access-Accept echoed, User-Request for a client that hangs
// up and Lost-Carrier for one that vanishes (DPD and LCP echo time out).
func TestRADIUSAccounting(t *testing.T) {
	r := newRadiusLab(t)
	d := r.startDaemon(t, r.daemonConfig(nil))
	l := r.l
	cs := l.NewClients(t,
		lab.ClientConfig{PSK: labPSK, User: "carol", Password: radiusPassword("carol")},
		lab.ClientConfig{PSK: labPSK, User: "alice", Password: radiusPassword("alice"), BehindNAT: true})
	ctx, cancel := context.WithTimeout(context.Background(), 6*time.Minute)
	defer cancel()
	for i, c := range cs {
		if err := c.Connect(ctx); err != nil {
			t.Fatalf("client %d: %v", i, err)
		}
	}
	carol, alice := sessionOf(t, d, "carol"), sessionOf(t, d, "alice")
	for _, s := range []control.SessionInfo{carol, alice} {
		start := waitRecord(t, r.primary, 10*time.Second, "Start of "+s.User, sessionRecord(s.ID, "Start"))
		if v, _ := start.Get("User-Name"); v != s.User {
			t.Errorf("Start of %s has User-Name %q", s.User, v)
		}
		if v, _ := start.Get("Framed-IP-Address"); v != s.Address {
			t.Errorf("Start of %s has Framed-IP-Address %q, session has %s", s.User, v, s.Address)
		}
	}

	// The vanished client: its Stop comes after DPD (10 s / 30 s) or LCP
	// echo (10 s x 3) gives up, while carol's session goes on.
	cs[1].Kill()
	killed := time.Now()

	// iperf3 -n stops sending after that many bytes, and the receiver may
	// reset the connection before the last of them arrived: what crossed
	// the tunnel is between the bytes received and the bytes sent.
	g := cs[0].Guest
	upSent, upRecv := iperfBytes(ctx, t, g, l.Server.LANHost.String(), 5201, 2<<20, false)
	downSent, downRecv := iperfBytes(ctx, t, g, l.Server.LANHost.String(), 5202, 1<<20, true)

	// Acct-Interim-Interval 60 from FreeRADIUS: the first update a minute
	// after the Start.
	interim := waitRecord(t, r.primary, 150*time.Second, "Interim-Update of carol", sessionRecord(carol.ID, "Interim-Update"))
	iin, iout := interim.Octets()
	t.Logf("Interim-Update: input %d, output %d octets", iin, iout)
	if iin == 0 || iout == 0 {
		t.Errorf("Interim-Update without traffic: input %d, output %d", iin, iout)
	}

	lost := waitRecord(t, r.primary, 120*time.Second, "Stop of alice (vanished)", sessionRecord(alice.ID, "Stop"))
	t.Logf("vanished client's Stop arrived %.0f s after the kill", time.Since(killed).Seconds())
	if v, _ := lost.Get("Acct-Terminate-Cause"); v != "Lost-Carrier" {
		t.Errorf("vanished client's Acct-Terminate-Cause = %q, want Lost-Carrier", v)
	}

	if err := cs[0].Disconnect(ctx); err != nil {
		t.Fatalf("disconnect: %v", err)
	}
	stop := waitRecord(t, r.primary, 30*time.Second, "Stop of carol", sessionRecord(carol.ID, "Stop"))
	if v, _ := stop.Get("Acct-Terminate-Cause"); v != "User-Request" {
		t.Errorf("hang-up Acct-Terminate-Cause = %q, want User-Request", v)
	}
	in, out := stop.Octets()
	t.Logf("Stop: input %d, output %d octets (iperf3 payload up %d sent / %d received, down %d / %d)", in, out, upSent, upRecv, downSent, downRecv)
	octetsWithin(t, "Acct-Input-Octets (from the client)", in, upRecv, upSent, downSent)
	octetsWithin(t, "Acct-Output-Octets (to the client)", out, downRecv, downSent, upSent)
	if in < iin || out < iout {
		t.Errorf("Stop counts (%d, %d) below the Interim-Update's (%d, %d)", in, out, iin, iout)
	}
	if st, ok := stop.Uint("Acct-Session-Time"); !ok || st < 60 {
		t.Errorf("Acct-Session-Time = %d (%v), want at least the 60 s before the Interim-Update", st, ok)
	}
	class, _ := stop.Get("Class")
	if class != radClass && !strings.EqualFold(class, "0x"+hex.EncodeToString([]byte(radClass))) {
		t.Errorf("Stop has Class %q, want the Access-Accept's %q echoed", class, radClass)
	}
	waitNoSessions(t, d, 20*time.Second)
}

// queueBytes is the size of the records in the daemon's on-disk accounting
// queue: its acct.queue.<generation> files, which are emptied once
// everything was delivered (acct.queue.head always holds the 16-byte head
// pointer).
func queueBytes(d *daemon) int64 {
	files, _ := filepath.Glob(filepath.Join(d.dir, "state", "acct.queue.*"))
	var n int64
	for _, f := range files {
		if strings.HasSuffix(f, ".head") {
			continue
		}
		if fi, err := os.Stat(f); err == nil {
			n += fi.Size()
		}
	}
	return n
}

// labeledValue is the value of the metric name whose labels include every
// one given ("name=\"value\""), or -1.
func labeledValue(text, name string, labels ...string) float64 {
	for _, line := range strings.Split(text, "\n") {
		if !strings.HasPrefix(line, name+"{") {
			continue
		}
		set, value, ok := strings.Cut(line[len(name):], " ")
		if !ok {
			continue
		}
		all := true
		for _, l := range labels {
			all = all && strings.Contains(set, l)
		}
		if v, err := strconv.ParseFloat(value, 64); all && err == nil {
			return v
		}
	}
	return -1
}

// stopDaemon ends l2tpsecd with SIGTERM, as systemd does, and waits until
// it is gone.
func stopDaemon(t *testing.T, d *daemon) {
	t.Helper()
	if err := d.proc.Signal(syscall.SIGTERM); err != nil {
		t.Fatalf("SIGTERM: %v", err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for !errors.Is(d.proc.Signal(syscall.Signal(0)), os.ErrProcessDone) {
		if time.Now().After(deadline) {
			t.Fatal("l2tpsecd did not exit within 30 s of SIGTERM")
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestRADIUSFailoverAndQueue: with the primary stopped, authentication and
// accounting fail over to the secondary; with both stopped the Stop record
// is queued on disk, kept across a SIGTERM and restart of l2tpsecd on the
// same state_dir, and delivered once FreeRADIUS is back.
func TestRADIUSFailoverAndQueue(t *testing.T) {
	r := newRadiusLab(t)
	dc := r.daemonConfig(nil)
	d := r.startDaemon(t, dc)
	l := r.l
	r.stop(t, r.primary)

	c := l.NewClient(t, lab.ClientConfig{PSK: labPSK, User: "alice", Password: radiusPassword("alice")})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	began := time.Now()
	if err := c.Connect(ctx); err != nil {
		t.Fatalf("connect with the primary down: %v", err)
	}
	// Logged, not asserted: the configured timeout is 1 s with one
	// retransmission, so the failover costs about 2 s of the connection.
	t.Logf("connected in %.1f s with the primary RADIUS server down", time.Since(began).Seconds())
	if n := countLogins(r.secondary, "alice"); n == 0 {
		t.Fatal("the secondary FreeRADIUS did not authenticate alice")
	}
	// The primary was asked first and timed out.
	m := d.metrics(t)
	for _, line := range strings.Split(m, "\n") {
		if strings.HasPrefix(line, "l2tpsecd_radius_requests_total{") {
			t.Log(line)
		}
	}
	if v := labeledValue(m, "l2tpsecd_radius_requests_total", `server="`+r.primary.AuthAddr()+`"`, `type="Access-Request"`, `result="timeout"`); v < 1 {
		t.Errorf("Access-Request timeouts counted for the stopped primary: %v, want at least 1", v)
	}
	if err := c.Ping(ctx, l.Server.LANHost); err != nil {
		t.Fatal(err)
	}
	s := sessionOf(t, d, "alice")
	waitRecord(t, r.secondary, 20*time.Second, "Start (failed over)", sessionRecord(s.ID, "Start"))

	r.stop(t, r.secondary)
	if err := c.Disconnect(ctx); err != nil {
		t.Fatalf("disconnect: %v", err)
	}
	waitNoSessions(t, d, 20*time.Second)
	deadline := time.Now().Add(30 * time.Second)
	for queueBytes(d) == 0 {
		if time.Now().After(deadline) {
			t.Fatalf("no accounting queue under %s 30 s after the Stop with both servers down", filepath.Join(d.dir, "state"))
		}
		time.Sleep(250 * time.Millisecond)
	}
	recs := metricValue(d.metrics(t), "l2tpsecd_radius_acct_queue_records")
	t.Logf("accounting queue on disk: %d bytes, %v records", queueBytes(d), recs)
	if recs < 1 {
		t.Errorf("l2tpsecd_radius_acct_queue_records = %v with a Stop queued", recs)
	}

	stopDaemon(t, d)
	if queueBytes(d) == 0 {
		t.Fatal("the accounting queue is gone after the daemon stopped, with no server up")
	}
	d2 := r.startDaemon(t, dc)
	r.start(t, r.primary)
	stop := waitRecord(t, r.primary, 90*time.Second, "queued Stop after the restarts", sessionRecord(s.ID, "Stop"))
	if v, _ := stop.Get("Acct-Terminate-Cause"); v != "User-Request" {
		t.Errorf("queued Stop has Acct-Terminate-Cause %q, want User-Request", v)
	}
	if in, out := stop.Octets(); in == 0 || out == 0 {
		t.Errorf("queued Stop without traffic counts: %d, %d", in, out)
	}
	if delay, ok := stop.Uint("Acct-Delay-Time"); !ok || delay == 0 {
		t.Errorf("queued Stop has Acct-Delay-Time %d (%v), want the time it waited", delay, ok)
	}
	deadline = time.Now().Add(30 * time.Second)
	for queueBytes(d2) != 0 || metricValue(d2.metrics(t), "l2tpsecd_radius_acct_queue_records") != 0 {
		if time.Now().After(deadline) {
			t.Fatalf("accounting queue still %d bytes, %v records after delivery", queueBytes(d2),
				metricValue(d2.metrics(t), "l2tpsecd_radius_acct_queue_records"))
		}
		time.Sleep(250 * time.Millisecond)
	}
}

// TestRADIUSDisconnect: radclient's Disconnect-Request (RFC 5176) with a
// wrong secret is ignored; one for an unknown session is refused; a
// CoA-Request with Session-Timeout ends its session by timeout; a
// Disconnect-Request by Acct-Session-Id and one by Framed-IP-Address end
// their session, free the address and produce a Stop with Admin-Reset.
func TestRADIUSDisconnect(t *testing.T) {
	r := newRadiusLab(t)
	d := r.startDaemon(t, r.daemonConfig(nil))
	l := r.l
	cs := l.NewClients(t,
		lab.ClientConfig{PSK: labPSK, User: "alice", Password: radiusPassword("alice")},
		lab.ClientConfig{PSK: labPSK, User: "carol", Password: radiusPassword("carol"), BehindNAT: true},
		lab.ClientConfig{PSK: labPSK, User: "fixed", Password: radiusPassword("fixed")})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	for i, c := range cs {
		if err := c.Connect(ctx); err != nil {
			t.Fatalf("client %d: %v", i, err)
		}
	}
	alice, carol, fixed := sessionOf(t, d, "alice"), sessionOf(t, d, "carol"), sessionOf(t, d, "fixed")

	out, err := r.radclient(ctx, radDAEAddr, "disconnect", "not-the-dae-secret", `User-Name = "alice"`)
	if err == nil || strings.Contains(out, "Disconnect-ACK") || strings.Contains(out, "Disconnect-NAK") {
		t.Fatalf("a Disconnect-Request with a wrong secret was answered (%v):\n%s", err, out)
	}
	if n := len(d.call(t, control.Request{Cmd: control.CmdSessions}).Sessions); n != 3 {
		t.Fatalf("%d sessions after the forged Disconnect-Request, want 3", n)
	}
	if err := cs[0].Ping(ctx, l.Server.LANHost); err != nil {
		t.Fatalf("alice lost her tunnel to a forged Disconnect-Request: %v", err)
	}

	out, err = r.radclient(ctx, radDAEAddr, "disconnect", daeSecret, `User-Name = "nobody-here"`)
	if !strings.Contains(out, "Disconnect-NAK") || !strings.Contains(out, "Session-Context-Not-Found") {
		t.Errorf("Disconnect-Request for an unknown user (%v):\n%s\nwant Disconnect-NAK with Session-Context-Not-Found", err, out)
	}

	// CoA-Request with Session-Timeout: the session ends that long from
	// now, as a session timeout.
	out, err = r.radclient(ctx, radDAEAddr, "coa", daeSecret, `User-Name = "fixed"`, "Session-Timeout = 3")
	if err != nil || !strings.Contains(out, "CoA-ACK") {
		t.Fatalf("CoA-Request with Session-Timeout (%v):\n%s", err, out)
	}
	d.waitAudit(t, 10*time.Second, `"event":"radius_coa"`, `"fixed"`)
	d.waitAudit(t, 30*time.Second, `"event":"session_ended"`, `"fixed"`)
	stop := waitRecord(t, r.primary, 30*time.Second, "Stop of fixed", sessionRecord(fixed.ID, "Stop"))
	if v, _ := stop.Get("Acct-Terminate-Cause"); v != "Session-Timeout" {
		t.Errorf("Acct-Terminate-Cause %q after a CoA Session-Timeout, want Session-Timeout", v)
	}

	for _, tc := range []struct {
		s    control.SessionInfo
		c    *lab.Client
		attr string
	}{
		{alice, cs[0], fmt.Sprintf("Acct-Session-Id = %q", alice.ID)},
		{carol, cs[1], "Framed-IP-Address = " + carol.Address},
	} {
		out, err := r.radclient(ctx, radDAEAddr, "disconnect", daeSecret, tc.attr)
		if err != nil || !strings.Contains(out, "Disconnect-ACK") {
			t.Fatalf("Disconnect-Request by %s (%v):\n%s", tc.attr, err, out)
		}
		d.waitAudit(t, 10*time.Second, `"event":"radius_disconnect"`, `"`+tc.s.User+`"`)
		d.waitAudit(t, 20*time.Second, `"event":"session_ended"`, `"`+tc.s.User+`"`)
		stop := waitRecord(t, r.primary, 30*time.Second, "Stop of "+tc.s.User, sessionRecord(tc.s.ID, "Stop"))
		if v, _ := stop.Get("Acct-Terminate-Cause"); v != "Admin-Reset" {
			t.Errorf("%s: Acct-Terminate-Cause %q after Disconnect-Request, want Admin-Reset", tc.s.User, v)
		}
		// The client sees its link go: pppd's ip-down removes the marker.
		deadline := time.Now().Add(45 * time.Second)
		for {
			if _, err := tc.c.Guest.Run(ctx, "test ! -e /run/lab-ppp-up"); err == nil {
				break
			}
			if time.Now().After(deadline) {
				t.Errorf("%s's ppp0 is still up 45 s after the Disconnect-ACK", tc.s.User)
				break
			}
			time.Sleep(time.Second)
		}
	}
	waitNoSessions(t, d, 20*time.Second)
}
