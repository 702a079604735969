package auth

import (
	"bytes"
	"context"
	"crypto/md5"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"layeh.com/radius/rfc2759"
	"time"
)

// freeRADIUS is a FreeRADIUS 3.2 server run by a test, with its own
// configuration directory (testdata/radius/radiusd.conf.tmpl and users) and
// ports.
type freeRADIUS struct {
	t        testing.TB
	dir      string
	secret   string
	authPort int
	acctPort int

	mu     sync.Mutex
	out    bytes.Buffer
	cmd    *exec.Cmd
	exited chan struct{}
}

// needFreeRADIUS skips t when freeradius is not installed, unless
// L2TPSECD_LAB=require, which makes it a failure.
func needFreeRADIUS(t testing.TB) {
	t.Helper()
	for _, bin := range []string{"freeradius", "radclient"} {
		if _, err := exec.LookPath(bin); err != nil {
			if os.Getenv("L2TPSECD_LAB") == "require" {
				t.Fatalf("%s not installed (apt-get install freeradius freeradius-utils) and L2TPSECD_LAB=require", bin)
			}
			t.Skipf("%s not installed (apt-get install freeradius freeradius-utils); set L2TPSECD_LAB=require to make this a failure", bin)
		}
	}
}

// freeUDPPort returns a port that was free on 127.0.0.1 a moment ago.
func freeUDPPort(t testing.TB) int {
	t.Helper()
	c, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	return c.LocalAddr().(*net.UDPAddr).Port
}

// newFreeRADIUS writes a configuration and starts the server; it is
// stopped in t.Cleanup.
func newFreeRADIUS(t testing.TB, secret string) *freeRADIUS {
	t.Helper()
	needFreeRADIUS(t)
	f := &freeRADIUS{t: t, dir: t.TempDir(), secret: secret, authPort: freeUDPPort(t), acctPort: freeUDPPort(t)}
	tmpl, err := os.ReadFile(filepath.Join("testdata", "radius", "radiusd.conf.tmpl"))
	if err != nil {
		t.Fatal(err)
	}
	conf := strings.NewReplacer("@DIR@", f.dir, "@AUTHPORT@", fmt.Sprint(f.authPort),
		"@ACCTPORT@", fmt.Sprint(f.acctPort), "@SECRET@", secret).Replace(string(tmpl))
	users, err := os.ReadFile(filepath.Join("testdata", "radius", "users"))
	if err != nil {
		t.Fatal(err)
	}
	for name, data := range map[string][]byte{"radiusd.conf": []byte(conf), "users": users, "acct_users": nil} {
		if err := os.WriteFile(filepath.Join(f.dir, name), data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	f.start()
	t.Cleanup(f.stop)
	return f
}

type lockedWriter struct{ f *freeRADIUS }

func (w lockedWriter) Write(p []byte) (int, error) {
	w.f.mu.Lock()
	defer w.f.mu.Unlock()
	return w.f.out.Write(p)
}

func (f *freeRADIUS) output() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.out.String()
}

// start runs freeradius in the foreground and waits until it says it is
// ready.
func (f *freeRADIUS) start() {
	f.t.Helper()
	f.mu.Lock()
	mark := f.out.Len()
	f.mu.Unlock()
	cmd := exec.Command("freeradius", "-X", "-d", f.dir)
	cmd.Stdout, cmd.Stderr = lockedWriter{f}, lockedWriter{f}
	if err := cmd.Start(); err != nil {
		f.t.Fatal(err)
	}
	f.cmd = cmd
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	// A readiness wait, not a timed assertion: FreeRADIUS starts in well
	// under a second; 20 s only bounds a broken configuration.
	deadline := time.Now().Add(20 * time.Second)
	for !strings.Contains(f.output()[mark:], "Ready to process requests") {
		select {
		case <-exited:
			f.cmd = nil
			f.t.Fatalf("freeradius exited:\n%s", f.output())
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			f.t.Fatalf("freeradius not ready:\n%s", f.output())
		}
	}
	f.exited = exited
}

// stop ends the process by its PID and waits for it.
func (f *freeRADIUS) stop() {
	if f.cmd == nil {
		return
	}
	f.cmd.Process.Kill()
	<-f.exited
	f.cmd = nil
}

func (f *freeRADIUS) authServer() RadiusServer {
	return RadiusServer{Addr: fmt.Sprintf("127.0.0.1:%d", f.authPort), Secret: []byte(f.secret)}
}

func (f *freeRADIUS) acctServer() RadiusServer {
	return RadiusServer{Addr: fmt.Sprintf("127.0.0.1:%d", f.acctPort), Secret: []byte(f.secret)}
}

// detail returns the records of the detail file, each as its attribute
// lines.
func (f *freeRADIUS) detail() []map[string]string {
	b, _ := os.ReadFile(filepath.Join(f.dir, "detail"))
	var recs []map[string]string
	for _, block := range strings.Split(string(b), "\n\n") {
		lines := strings.Split(strings.TrimSpace(block), "\n")
		if len(lines) < 2 {
			continue
		}
		rec := map[string]string{}
		for _, l := range lines[1:] {
			k, v, ok := strings.Cut(strings.TrimSpace(l), " = ")
			if ok {
				rec[k] = strings.Trim(v, `"`)
			}
		}
		recs = append(recs, rec)
	}
	return recs
}

// authSync runs one authentication and waits for its result.
func authSync(t *testing.T, a *RadiusAuth, req Request) RadiusReply {
	t.Helper()
	ch := make(chan RadiusReply, 1)
	a.AuthenticateRadius(context.Background(), req, func(r RadiusReply) { ch <- r })
	return <-ch
}

func newTestAuth(t *testing.T, servers ...RadiusServer) *RadiusAuth {
	t.Helper()
	a, err := NewRadiusAuth(RadiusConfig{
		Servers: servers, NASIdentifier: "l2tpsecd-test",
		Timeout: 300 * time.Millisecond, Retries: 1, DeadAfter: 1, DeadTime: time.Minute,
	})
	if err != nil {
		t.Fatal(err)
	}
	return a
}

var testSession = SessionInfo{
	SessionID:      "0000002a",
	CallingStation: netip.MustParseAddrPort("203.0.113.7:4500"),
	NASPort:        42,
}

func TestFreeRADIUSPAP(t *testing.T) {
	fr := newFreeRADIUS(t, "s3cret-pap")
	a := newTestAuth(t, fr.authServer())

	r := authSync(t, a, Request{Method: MethodPAP, User: "alice", Password: []byte("alice-secret"), Session: testSession})
	if !r.Accepted || r.Reason != ReasonOK || r.ReplyMessage != "hello alice" {
		t.Fatalf("alice: %+v", r)
	}
	r = authSync(t, a, Request{Method: MethodPAP, User: "alice", Password: []byte("wrong"), Session: testSession})
	if r.Accepted || r.Reason != ReasonRejected || !strings.Contains(r.Detail, "Access-Reject") {
		t.Fatalf("wrong password: %+v", r)
	}
	// FreeRADIUS's debug output shows every attribute the issue asks for.
	out := fr.output()
	for _, want := range []string{
		`User-Name = "alice"`, `NAS-Identifier = "l2tpsecd-test"`, `NAS-Port-Type = Virtual`, `NAS-Port = 42`,
		`Service-Type = Framed-User`, `Framed-Protocol = PPP`, `Calling-Station-Id = "203.0.113.7"`,
		`Tunnel-Client-Endpoint:0 = "203.0.113.7"`, `Tunnel-Type:0 = L2TP`, `Tunnel-Medium-Type:0 = IPv4`,
		`Acct-Session-Id = "0000002a"`, `Message-Authenticator = 0x`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("FreeRADIUS did not receive %s", want)
		}
	}
	if t.Failed() {
		t.Logf("freeradius output:\n%s", out)
	}
}

func TestFreeRADIUSCHAPMD5(t *testing.T) {
	fr := newFreeRADIUS(t, "s3cret-chap")
	a := newTestAuth(t, fr.authServer())
	challenge := []byte("0123456789abcdefXYZ")
	r := authSync(t, a, Request{Method: MethodCHAPMD5, User: "carol", CHAPID: 7, Challenge: challenge,
		Response: chapResp(7, "carol-secret", challenge), Session: testSession})
	if !r.Accepted {
		t.Fatalf("carol: %+v\n%s", r, fr.output())
	}
	if r.SessionTimeout != time.Hour || r.InterimInterval != time.Minute || len(r.Class) != 1 || string(r.Class[0]) != "contract-42" {
		t.Fatalf("carol's attributes not honoured: %+v", r)
	}
	r = authSync(t, a, Request{Method: MethodCHAPMD5, User: "carol", CHAPID: 7, Challenge: challenge,
		Response: chapResp(8, "carol-secret", challenge), Session: testSession})
	if r.Accepted || r.Reason != ReasonRejected {
		t.Fatalf("bad CHAP id accepted: %+v", r)
	}
}

func TestFreeRADIUSMSCHAPv2(t *testing.T) {
	fr := newFreeRADIUS(t, "s3cret-mschap")
	a := newTestAuth(t, fr.authServer())
	authChallenge := []byte("authchallenge-16")
	peerChallenge := []byte("peer-challenge16")
	nt, err := rfc2759.GenerateNTResponse(authChallenge, peerChallenge, []byte("bob"), []byte("bob-secret"))
	if err != nil {
		t.Fatal(err)
	}
	want, err := rfc2759.GenerateAuthenticatorResponse(authChallenge, peerChallenge, nt, []byte("bob"), []byte("bob-secret"))
	if err != nil {
		t.Fatal(err)
	}
	req := Request{Method: MethodMSCHAPv2, User: "bob", CHAPID: 3, Challenge: authChallenge,
		PeerChallenge: peerChallenge, NTResponse: nt, Session: testSession}
	r := authSync(t, a, req)
	if !r.Accepted || r.AuthenticatorResponse != want {
		t.Fatalf("bob: %+v, want S= %s\n%s", r, want, fr.output())
	}
	if r.StaticAddr != netip.MustParseAddr("10.77.0.42") || r.Pool != "staff" || r.IdleTimeout != 10*time.Minute ||
		len(r.DNS) != 2 || r.DNS[0] != netip.MustParseAddr("10.77.0.1") || r.DNS[1] != netip.MustParseAddr("10.77.0.2") {
		t.Fatalf("bob's attributes not honoured: %+v", r)
	}
	if len(r.MPPESendKey) == 0 || len(r.MPPERecvKey) == 0 {
		t.Errorf("MPPE keys not decrypted: %+v", r)
	}

	bad, _ := rfc2759.GenerateNTResponse(authChallenge, peerChallenge, []byte("bob"), []byte("not-bob"))
	req.NTResponse = bad
	r = authSync(t, a, req)
	if r.Accepted || r.Reason != ReasonBadPassword || r.MSCHAPError != 691 || r.Reason.MSCHAPError() != 691 {
		t.Fatalf("wrong password: %+v", r)
	}
}

// eapPacket builds an EAP packet (RFC 3748 section 4).
func eapPacket(code, id, typ byte, data []byte) []byte {
	n := 5 + len(data)
	b := []byte{code, id, byte(n >> 8), byte(n), typ}
	return append(b, data...)
}

func TestFreeRADIUSEAPMD5(t *testing.T) {
	fr := newFreeRADIUS(t, "s3cret-eap")
	a := newTestAuth(t, fr.authServer())
	round := func(req EAPRequest) EAPResult {
		ch := make(chan EAPResult, 1)
		a.AuthenticateEAP(context.Background(), req, func(r EAPResult) { ch <- r })
		return <-ch
	}
	// Identity, then the MD5-Challenge FreeRADIUS sends back.
	r := round(EAPRequest{User: "alice", EAPMessage: eapPacket(2, 1, 1, []byte("alice")), Session: testSession})
	if !r.Continue || len(r.State) == 0 || len(r.EAPMessage) < 6 || r.EAPMessage[0] != 1 || r.EAPMessage[4] != 4 {
		t.Fatalf("first round: %+v\n%s", r, fr.output())
	}
	id := r.EAPMessage[1]
	vlen := int(r.EAPMessage[5])
	challenge := r.EAPMessage[6 : 6+vlen]
	resp := append([]byte{16}, chapResp(id, "alice-secret", challenge)...)
	r = round(EAPRequest{User: "alice", EAPMessage: eapPacket(2, id, 4, resp), State: r.State, Session: testSession})
	if r.Continue || !r.Accepted || len(r.EAPMessage) < 4 || r.EAPMessage[0] != 3 {
		t.Fatalf("second round: %+v\n%s", r, fr.output())
	}

	// A wrong password ends in Access-Reject with EAP-Failure.
	r = round(EAPRequest{User: "alice", EAPMessage: eapPacket(2, 1, 1, []byte("alice")), Session: testSession})
	id, challenge = r.EAPMessage[1], r.EAPMessage[6:6+int(r.EAPMessage[5])]
	resp = append([]byte{16}, chapResp(id, "wrong", challenge)...)
	r = round(EAPRequest{User: "alice", EAPMessage: eapPacket(2, id, 4, resp), State: r.State, Session: testSession})
	if r.Continue || r.Accepted || r.Reason != ReasonRejected || len(r.EAPMessage) < 4 || r.EAPMessage[0] != 4 {
		t.Fatalf("wrong password: %+v", r)
	}
}

func TestFreeRADIUSFailover(t *testing.T) {
	first := newFreeRADIUS(t, "s3cret-one")
	second := newFreeRADIUS(t, "s3cret-two")
	first.stop()
	m := NewRadiusMetrics(nil)
	a, err := NewRadiusAuth(RadiusConfig{
		Servers: []RadiusServer{first.authServer(), second.authServer()},
		Timeout: 200 * time.Millisecond, Retries: 1, DeadAfter: 1, DeadTime: time.Hour, Metrics: m,
	})
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 2; i++ {
		r := authSync(t, a, Request{Method: MethodPAP, User: "alice", Password: []byte("alice-secret"), Session: testSession})
		if !r.Accepted || r.Server != second.authServer().Addr {
			t.Fatalf("try %d: %+v", i, r)
		}
	}
	// The first server was tried once, then held off as dead.
	if got := metricValue(m.Requests.WithLabelValues(first.authServer().Addr, "Access-Request", "timeout")); got != 1 {
		t.Errorf("timeouts on the stopped server = %v, want 1", got)
	}
	if got := metricValue(m.DeadServers.WithLabelValues("auth")); got != 1 {
		t.Errorf("dead servers = %v, want 1", got)
	}
}

// metricValue reads a counter or gauge.
func metricValue(m prometheus.Metric) float64 {
	var d dto.Metric
	if err := m.Write(&d); err != nil {
		return -1
	}
	if d.Counter != nil {
		return d.Counter.GetValue()
	}
	return d.Gauge.GetValue()
}

// chapResp is the CHAP-MD5 response (RFC 1994 section 4.1) as a slice.
func chapResp(id byte, password string, challenge []byte) []byte {
	h := md5.Sum(append(append([]byte{id}, password...), challenge...))
	return h[:]
}

func newTestAcct(t *testing.T, dir string, servers ...RadiusServer) *RadiusAcct {
	t.Helper()
	a, err := NewRadiusAcct(RadiusConfig{
		Servers: servers, NASIdentifier: "l2tpsecd-test",
		Timeout: 100 * time.Millisecond, Retries: 1, DeadAfter: 1, DeadTime: 200 * time.Millisecond,
	}, AcctConfig{StateDir: dir, RetryInterval: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// waitFor polls cond: a wait for delivery, bounded so that a broken
// sender fails instead of hanging; not a timed assertion.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// sessionRecords are a session's Start, Interim-Update and Stop.
func sessionRecords(id string, start time.Time) []AcctRecord {
	base := AcctRecord{
		Session: SessionInfo{SessionID: id, CallingStation: netip.MustParseAddrPort("203.0.113.9:1701"), NASPort: 9},
		User:    "carol", Class: [][]byte{[]byte("contract-42")}, FramedAddr: netip.MustParseAddr("10.77.0.9"),
	}
	s, i, e := base, base, base
	s.Status, s.Time = AcctStart, start
	i.Status, i.Time, i.SessionTime = AcctInterim, start.Add(time.Minute), time.Minute
	i.InOctets, i.OutOctets, i.InPackets, i.OutPackets = 1000, 2000, 10, 20
	e.Status, e.Time, e.SessionTime = AcctStop, start.Add(90*time.Second), 90*time.Second
	e.InOctets, e.OutOctets, e.InPackets, e.OutPackets = 5<<32+1234, 3<<32+99, 4000000, 3000000
	e.Cause = CauseLostCarrier
	return []AcctRecord{s, i, e}
}

func checkDetail(t *testing.T, recs []map[string]string, id string) {
	t.Helper()
	var got []map[string]string
	for _, r := range recs {
		if r["Acct-Session-Id"] == id {
			got = append(got, r)
		}
	}
	if len(got) != 3 {
		t.Fatalf("session %s: %d records in the detail file, want 3: %v", id, len(got), recs)
	}
	want := []map[string]string{
		{"Acct-Status-Type": "Start", "User-Name": "carol", "Class": "0x636f6e74726163742d3432", "Framed-IP-Address": "10.77.0.9",
			"Calling-Station-Id": "203.0.113.9", "NAS-Port-Type": "Virtual", "NAS-Identifier": "l2tpsecd-test"},
		{"Acct-Status-Type": "Interim-Update", "Acct-Session-Time": "60", "Acct-Input-Octets": "1000", "Acct-Output-Octets": "2000",
			"Acct-Input-Gigawords": "0", "Acct-Input-Packets": "10", "Acct-Output-Packets": "20"},
		{"Acct-Status-Type": "Stop", "Acct-Session-Time": "90", "Acct-Input-Octets": "1234", "Acct-Input-Gigawords": "5",
			"Acct-Output-Octets": "99", "Acct-Output-Gigawords": "3", "Acct-Terminate-Cause": "Lost-Carrier",
			"Class": "0x636f6e74726163742d3432"},
	}
	for i, w := range want {
		for k, v := range w {
			if got[i][k] != v {
				t.Errorf("record %d %s = %q, want %q", i, k, got[i][k], v)
			}
		}
		if got[i]["Event-Timestamp"] == "" {
			t.Errorf("record %d has no Event-Timestamp", i)
		}
	}
}

func TestFreeRADIUSAccounting(t *testing.T) {
	fr := newFreeRADIUS(t, "s3cret-acct")
	a := newTestAcct(t, t.TempDir(), fr.acctServer())
	defer a.Close()
	a.Account(AcctRecord{Status: AcctOn})
	for _, r := range sessionRecords("acct-1", time.Now()) {
		a.Account(r)
	}
	a.Account(AcctRecord{Status: AcctOff})
	waitFor(t, "five records in the detail file", func() bool { return len(fr.detail()) >= 5 })
	recs := fr.detail()
	checkDetail(t, recs, "acct-1")
	if recs[0]["Acct-Status-Type"] != "Accounting-On" || recs[4]["Acct-Status-Type"] != "Accounting-Off" ||
		recs[0]["NAS-Identifier"] != "l2tpsecd-test" || recs[0]["User-Name"] != "" {
		t.Errorf("Accounting-On/Off: %v, %v", recs[0], recs[4])
	}
}

// Both servers down: the records go to disk; the accounter is re-created
// (a daemon restart) and delivers them, in order, once a server is back.
func TestFreeRADIUSAccountingQueue(t *testing.T) {
	one := newFreeRADIUS(t, "s3cret-q")
	two := newFreeRADIUS(t, "s3cret-q")
	one.stop()
	two.stop()
	dir := t.TempDir()
	a := newTestAcct(t, dir, one.acctServer(), two.acctServer())
	start := time.Now().Add(-10 * time.Minute) // every record is in the past
	for _, r := range sessionRecords("queued-1", start) {
		a.Account(r)
	}
	waitFor(t, "records queued on disk", func() bool { d, m := a.Queued(); return d == 3 && m == 0 })
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}

	b := newTestAcct(t, dir, one.acctServer(), two.acctServer())
	defer b.Close()
	if d, _ := b.Queued(); d != 3 {
		t.Fatalf("after restart %d records queued, want 3", d)
	}
	// A record of another session, accounted while still down, must come
	// after the queued ones.
	later := sessionRecords("queued-2", start)[0]
	b.Account(later)
	two.start()
	waitFor(t, "queue drained", func() bool { d, m := b.Queued(); return d == 0 && m == 0 })
	recs := two.detail()
	checkDetail(t, recs, "queued-1")
	if len(recs) != 4 || recs[3]["Acct-Session-Id"] != "queued-2" {
		t.Fatalf("order: %v", recs)
	}
	for i, r := range recs {
		if r["Acct-Delay-Time"] == "" || r["Acct-Delay-Time"] == "0" {
			t.Errorf("record %d delivered late without Acct-Delay-Time: %v", i, r)
		}
	}
	if entries, _ := os.ReadDir(dir); len(entries) > 2 {
		t.Errorf("state directory holds leftovers: %v", entries)
	}
}

// With ProbeDeadServers a dead primary gets no user request; FreeRADIUS
// answers Status-Server once it is back, and takes the traffic again.
func TestFreeRADIUSStatusServerProbe(t *testing.T) {
	first := newFreeRADIUS(t, "s3cret-probe")
	second := newFreeRADIUS(t, "s3cret-probe")
	first.stop()
	a, err := NewRadiusAuth(RadiusConfig{
		Servers: []RadiusServer{first.authServer(), second.authServer()},
		Timeout: 100 * time.Millisecond, Retries: 1, DeadAfter: 1, DeadTime: 100 * time.Millisecond,
		ProbeDeadServers: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	pap := Request{Method: MethodPAP, User: "alice", Password: []byte("alice-secret"), Session: testSession}
	if r := authSync(t, a, pap); !r.Accepted || r.Server != second.authServer().Addr {
		t.Fatalf("failover: %+v", r)
	}
	if !a.c.servers.dead(0) && !a.c.servers.onProbation(a.c.servers.servers[0]) {
		t.Fatal("primary not marked dead")
	}
	// Still dead: requests go straight to the second server.
	if r := authSync(t, a, pap); r.Server != second.authServer().Addr {
		t.Fatalf("while dead: %+v", r)
	}
	first.start()
	waitFor(t, "the probe to revive the primary", func() bool { return !a.c.servers.onProbation(a.c.servers.servers[0]) })
	if r := authSync(t, a, pap); !r.Accepted || r.Server != first.authServer().Addr {
		t.Fatalf("after revival: %+v", r)
	}
	if !strings.Contains(first.output(), "Status-Server") {
		t.Error("FreeRADIUS saw no Status-Server")
	}
}
