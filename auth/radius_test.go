package auth

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/md5"
	"encoding/hex"
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"layeh.com/radius"
	"layeh.com/radius/rfc2759"
	"layeh.com/radius/rfc2865"
	"layeh.com/radius/rfc2866"
	"layeh.com/radius/rfc2868"
	"layeh.com/radius/rfc2869"
	"layeh.com/radius/rfc3162"
	"layeh.com/radius/vendors/microsoft"

	"github.com/l2tpsecd/l2tpsecd/internal/clock"
)

var t0 = time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)

func testConfig(clk clock.Clock, servers ...string) RadiusConfig {
	cfg := RadiusConfig{Timeout: time.Second, Retries: 2, DeadAfter: 2, DeadTime: time.Minute, Clock: clk}
	for _, s := range servers {
		cfg.Servers = append(cfg.Servers, RadiusServer{Addr: s, Secret: []byte("secret")})
	}
	return cfg
}

func addrs(s []*serverState) []string {
	var out []string
	for _, x := range s {
		out = append(out, x.Addr)
	}
	return out
}

func TestServerSetDeadAndBack(t *testing.T) {
	clk := clock.NewFake(t0)
	cfg := testConfig(clk, "a:1812", "b:1812")
	if err := cfg.setDefaults(); err != nil {
		t.Fatal(err)
	}
	s := newServerSet("auth", &cfg)
	a := s.servers[0]
	if got := addrs(s.candidates()); len(got) != 2 || got[0] != "a:1812" {
		t.Fatalf("candidates %v", got)
	}
	s.report(a, false)
	if s.dead(0) {
		t.Fatal("dead after one timeout, DeadAfter is 2")
	}
	s.report(a, true) // an answer resets the count
	s.report(a, false)
	if s.dead(0) {
		t.Fatal("count not reset by an answer")
	}
	s.report(a, false)
	if !s.dead(0) {
		t.Fatal("not dead after two timeouts in a row")
	}
	if got := addrs(s.candidates()); len(got) != 1 || got[0] != "b:1812" {
		t.Fatalf("dead server still a candidate: %v", got)
	}
	// Late failures of requests sent before do not extend the hold.
	clk.Advance(30 * time.Second)
	s.report(a, false)
	if metricValue(cfg.Metrics.DeadServers.WithLabelValues("auth")) != 1 {
		t.Error("dead servers gauge not 1")
	}
	clk.Advance(30*time.Second - time.Second)
	if len(s.candidates()) != 1 {
		t.Fatal("retried before the hold time")
	}
	clk.Advance(time.Second)
	if got := addrs(s.candidates()); len(got) != 2 || got[0] != "a:1812" {
		t.Fatalf("not retried after the hold time: %v", got)
	}
	// Its second chance fails: dead again at once, not after DeadAfter.
	s.report(a, false)
	if !s.dead(0) {
		t.Fatal("a server failing its second chance is not held off again")
	}
	clk.Advance(time.Minute)
	s.report(a, true)
	if s.dead(0) || metricValue(cfg.Metrics.DeadServers.WithLabelValues("auth")) != 0 {
		t.Fatal("an answer does not revive the server")
	}
}

// The per-try timeout runs on the injected clock: a server that never
// answers gets Retries+1 copies of the same packet, then is marked dead,
// and the caller gets ReasonBackendUnavailable.
func TestExchangeTimeoutOnFakeClock(t *testing.T) {
	hole, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer hole.Close()
	clk := clock.NewFake(t0)
	cfg := testConfig(clk, hole.LocalAddr().String())
	cfg.DeadAfter = 1
	a, err := NewRadiusAuth(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ch := make(chan Result, 1)
	a.Authenticate(context.Background(), Request{Method: MethodPAP, User: "u", Password: []byte("p")}, func(r Result) { ch <- r })
	var got [][]byte
	buf := make([]byte, 4096)
	for len(got) < 3 {
		n, _, err := hole.ReadFrom(buf)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, append([]byte(nil), buf[:n]...))
		// Each copy arms one timer; fire it.
		for clk.Pending() == 0 {
			time.Sleep(time.Millisecond)
		}
		clk.Advance(cfg.Timeout)
	}
	r := <-ch
	if r.Accepted || r.Reason != ReasonBackendUnavailable {
		t.Fatalf("result %+v", r)
	}
	if string(got[0]) != string(got[1]) || string(got[1]) != string(got[2]) {
		t.Error("retransmissions differ from the first copy")
	}
	if !a.c.servers.dead(0) {
		t.Error("server not marked dead")
	}
	// While dead it is not tried: the next request fails at once.
	a.Authenticate(context.Background(), Request{Method: MethodPAP, User: "u", Password: []byte("p")}, func(r Result) { ch <- r })
	if r := <-ch; r.Reason != ReasonBackendUnavailable {
		t.Fatalf("second result %+v", r)
	}
	// After the hold time it gets one try only, without retransmission.
	clk.Advance(cfg.DeadTime)
	a.Authenticate(context.Background(), Request{Method: MethodPAP, User: "u", Password: []byte("p")}, func(r Result) { ch <- r })
	if _, _, err := hole.ReadFrom(buf); err != nil {
		t.Fatal(err)
	}
	for clk.Pending() == 0 {
		time.Sleep(time.Millisecond)
	}
	clk.Advance(cfg.Timeout)
	if r := <-ch; r.Reason != ReasonBackendUnavailable || !a.c.servers.dead(0) {
		t.Fatalf("probation result %+v", r)
	}
}

func TestAuthenticateCanceled(t *testing.T) {
	hole, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer hole.Close()
	a, err := NewRadiusAuth(testConfig(clock.NewFake(t0), hole.LocalAddr().String()))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	ch := make(chan Result, 1)
	a.Authenticate(ctx, Request{Method: MethodPAP, User: "u", Password: []byte("p")}, func(r Result) { ch <- r })
	buf := make([]byte, 4096)
	hole.ReadFrom(buf) // the request is out
	cancel()
	if r := <-ch; r.Reason != ReasonCanceled {
		t.Fatalf("result %+v", r)
	}
}

func TestMessageAuthenticatorRoundTrip(t *testing.T) {
	secret := []byte("xyzzy5461")
	p := radius.New(radius.CodeAccessRequest, secret)
	rfc2865.UserName_SetString(p, "nemo")
	rfc2869.EAPMessage_Set(p, make([]byte, 600)) // three attributes
	req, err := encodeRequest(p)
	if err != nil {
		t.Fatal(err)
	}
	if present, err := checkMsgAuth(req, req[4:20], secret); !present || err != nil {
		t.Fatalf("request Message-Authenticator: %v %v", present, err)
	}
	parsed, _ := radius.Parse(req, secret)
	if eap, _ := rfc2869.EAPMessage_Lookup(parsed); len(eap) != 600 {
		t.Fatalf("EAP-Message split and joined to %d bytes", len(eap))
	}

	reply := func(withMA bool, mutate func([]byte)) []byte {
		q := parsed.Response(radius.CodeAccessChallenge)
		rfc2865.State_Set(q, []byte("st"))
		if withMA {
			rfc2869.MessageAuthenticator_Set(q, make([]byte, 16))
			raw, _ := q.MarshalBinary()
			off, _ := findAttr(raw, rfc2869.MessageAuthenticator_Type)
			mac := hmacMD5(secret, raw)
			copy(raw[off:], mac)
			rfc2869.MessageAuthenticator_Set(q, mac)
		}
		b, _ := q.Encode()
		if mutate != nil {
			mutate(b)
		}
		return b
	}
	if _, err := checkReply(reply(true, nil), req, secret, false); err != nil {
		t.Fatalf("good reply refused: %v", err)
	}
	if _, err := checkReply(reply(false, nil), req, secret, false); err == nil {
		t.Error("reply to EAP without Message-Authenticator accepted")
	}
	if _, err := checkReply(reply(true, func(b []byte) { b[len(b)-1] ^= 1 }), req, secret, false); err == nil {
		t.Error("tampered reply accepted")
	}
	if _, err := checkReply(reply(true, nil), req, []byte("other"), false); err == nil {
		t.Error("reply checked with the wrong secret accepted")
	}
	other := append([]byte(nil), req...)
	other[1]++
	if _, err := checkReply(reply(true, nil), other, secret, false); err == nil {
		t.Error("reply with another identifier accepted")
	}
}

func hmacMD5(key, data []byte) []byte {
	m := hmac.New(md5.New, key)
	m.Write(data)
	return m.Sum(nil)
}

func TestMapReply(t *testing.T) {
	secret := []byte("s")
	p := radius.New(radius.CodeAccessAccept, secret)
	rfc2865.FramedIPAddress_Set(p, net.IPv4(10, 1, 2, 3))
	rfc2869.FramedPool_SetString(p, "staff")
	rfc2865.SessionTimeout_Set(p, 7200)
	rfc2865.IdleTimeout_Set(p, 300)
	rfc2869.AcctInterimInterval_Set(p, 120)
	rfc2865.Class_Add(p, []byte("c1"))
	rfc2865.Class_Add(p, []byte("c2"))
	microsoft.MSPrimaryDNSServer_Set(p, net.IPv4(10, 0, 0, 53))
	microsoft.MSCHAP2Success_Set(p, []byte("\x07S=0123456789ABCDEF0123456789ABCDEF01234567 M=welcome"))
	rfc2868.TunnelPrivateGroupID_AddString(p, 0, "ignored")
	p.Add(radius.Type(250), []byte("unknown attribute"))
	b, err := p.Encode()
	if err != nil {
		t.Fatal(err)
	}
	q, err := radius.Parse(b, secret)
	if err != nil {
		t.Fatal(err)
	}
	r := mapReply(q, "alice", [16]byte{})
	if !r.Accepted || r.StaticAddr != netip.MustParseAddr("10.1.2.3") || r.Pool != "staff" ||
		r.SessionTimeout != 2*time.Hour || r.IdleTimeout != 5*time.Minute || r.InterimInterval != 2*time.Minute ||
		len(r.Class) != 2 || string(r.Class[1]) != "c2" || len(r.DNS) != 1 || r.DNS[0] != netip.MustParseAddr("10.0.0.53") ||
		r.AuthenticatorResponse != "S=0123456789ABCDEF0123456789ABCDEF01234567" {
		t.Fatalf("%+v", r)
	}

	// Framed-IP-Address 255.255.255.254 means "the NAS chooses".
	p = radius.New(radius.CodeAccessAccept, secret)
	rfc2865.FramedIPAddress_Set(p, net.IPv4(255, 255, 255, 254))
	if r := mapReply(p, "u", [16]byte{}); r.StaticAddr.IsValid() {
		t.Errorf("special address taken as static: %v", r.StaticAddr)
	}

	for _, c := range []struct {
		msg    string
		reason Reason
		code   int
	}{
		{"\x01E=691 R=1 C=00 V=3 M=bad", ReasonBadPassword, 691},
		{"\x01E=647 R=0 V=3", ReasonDisabled, 647},
		{"\x01E=649 R=0 V=3", ReasonRejected, 649},
		{"", ReasonRejected, 0},
	} {
		p = radius.New(radius.CodeAccessReject, secret)
		if c.msg != "" {
			microsoft.MSCHAPError_SetString(p, c.msg)
		}
		r := mapReply(p, "u", [16]byte{})
		if r.Accepted || r.Reason != c.reason || r.MSCHAPError != c.code {
			t.Errorf("%q: %+v", c.msg, r)
		}
	}
}

func TestBuildAcct(t *testing.T) {
	cfg := RadiusConfig{NASIPAddress: netip.MustParseAddr("198.51.100.1")}
	rec := sessionRecords("b-1", t0)[2]
	p, err := buildAcct(rec, []byte("s"), &cfg, rec.Time.Add(42*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	if rfc2866.AcctStatusType_Get(p) != rfc2866.AcctStatusType_Value_Stop ||
		rfc2866.AcctInputOctets_Get(p) != 1234 || rfc2869.AcctInputGigawords_Get(p) != 5 ||
		rfc2866.AcctOutputOctets_Get(p) != 99 || rfc2869.AcctOutputGigawords_Get(p) != 3 ||
		rfc2866.AcctSessionTime_Get(p) != 90 || rfc2866.AcctDelayTime_Get(p) != 42 ||
		rfc2866.AcctTerminateCause_Get(p) != rfc2866.AcctTerminateCause_Value_LostCarrier ||
		!rfc2869.EventTimestamp_Get(p).Equal(rec.Time) ||
		!rfc2865.NASIPAddress_Get(p).Equal(net.IPv4(198, 51, 100, 1)) || rfc2865.NASIdentifier_Get(p) != nil ||
		string(rfc2865.Class_Get(p)) != "contract-42" {
		t.Fatalf("Stop attributes wrong: %v", p.Attributes)
	}
	start := sessionRecords("b-1", t0)[0]
	p, _ = buildAcct(start, []byte("s"), &cfg, start.Time)
	if _, err := rfc2866.AcctInputOctets_Lookup(p); err == nil {
		t.Error("Start carries octet counters")
	}
	if _, err := rfc2866.AcctDelayTime_Lookup(p); err == nil {
		t.Error("Acct-Delay-Time on a record sent at once")
	}
}

// recorder is an Accounter that keeps what it is given.
type recorder struct{ recs []AcctRecord }

func (r *recorder) Account(rec AcctRecord) { r.recs = append(r.recs, rec) }

func TestInterims(t *testing.T) {
	clk := clock.NewFake(t0)
	rec := &recorder{}
	start := sessionRecords("i-1", t0)[0]
	var in uint64
	it := StartInterims(clk, rec, time.Minute, start, func() Counters { in += 100; return Counters{InOctets: in} })
	clk.Advance(59 * time.Second)
	if len(rec.recs) != 0 {
		t.Fatal("interim before the interval")
	}
	clk.Advance(2 * time.Minute)
	it.Stop()
	clk.Advance(time.Hour)
	if len(rec.recs) != 2 {
		t.Fatalf("%d interims, want 2", len(rec.recs))
	}
	r := rec.recs[1]
	if r.Status != AcctInterim || r.SessionTime != 2*time.Minute || r.InOctets != 200 || r.Session.SessionID != "i-1" || string(r.Class[0]) != "contract-42" {
		t.Fatalf("%+v", r)
	}
	if StartInterims(clk, rec, 0, start, nil) != nil {
		t.Error("interims with a zero interval")
	}
	if InterimInterval(10*time.Minute, 0) != 10*time.Minute || InterimInterval(10*time.Minute, 5*time.Minute) != 5*time.Minute ||
		InterimInterval(0, 10*time.Second) != time.Minute {
		t.Error("InterimInterval")
	}
}

func TestConfigErrors(t *testing.T) {
	if _, err := NewRadiusAuth(RadiusConfig{}); err == nil {
		t.Error("no servers accepted")
	}
	if _, err := NewRadiusAuth(RadiusConfig{Servers: []RadiusServer{{Addr: "x:1"}}}); err == nil {
		t.Error("server without secret accepted")
	}
	if _, err := NewRadiusAcct(testConfig(nil, "x:1"), AcctConfig{}); err == nil {
		t.Error("accounting without state directory accepted")
	}
}

func BenchmarkEncodeAccessRequest(b *testing.B) {
	a, _ := NewRadiusAuth(testConfig(nil, "x:1"))
	req := Request{Method: MethodPAP, User: "alice", Password: []byte("alice-secret"), Session: testSession}
	b.ReportAllocs()
	for b.Loop() {
		p := radius.New(radius.CodeAccessRequest, []byte("secret"))
		a.addCommon(p, req.User, req.Session)
		addCredentials(p, req)
		if _, err := encodeRequest(p); err != nil {
			b.Fatal(err)
		}
	}
}

// A server that never answers holds no caller: every Authenticate returns
// at once, and beyond MaxOutstanding requests fail at once instead of
// queuing behind it.
func TestDeadServerBlocksNobody(t *testing.T) {
	hole, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer hole.Close()
	clk := clock.NewFake(t0)
	cfg := testConfig(clk, hole.LocalAddr().String())
	cfg.MaxOutstanding = 4
	a, err := NewRadiusAuth(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	ch := make(chan Result, 5)
	for i := 0; i < 5; i++ {
		a.Authenticate(ctx, Request{Method: MethodPAP, User: "u", Password: []byte("p")}, func(r Result) { ch <- r })
	}
	// The fifth is refused without waiting for the clock.
	if r := <-ch; r.Reason != ReasonBackendUnavailable || r.Detail != ErrTooBusy.Error() {
		t.Fatalf("fifth: %+v", r)
	}
	cancel()
	for i := 0; i < 4; i++ {
		if r := <-ch; r.Reason != ReasonCanceled {
			t.Fatalf("pending %d: %+v", i, r)
		}
	}
}

func TestAddNAS(t *testing.T) {
	for _, c := range []struct {
		cfg    RadiusConfig
		v4, v6 bool
		ident  string
	}{
		{RadiusConfig{}, false, false, "l2tpsecd"},
		{RadiusConfig{NASIPAddress: netip.MustParseAddr("198.51.100.1")}, true, false, ""},
		{RadiusConfig{NASIPAddress: netip.MustParseAddr("2001:db8::1"), NASIdentifier: "n"}, false, true, "n"},
	} {
		p := radius.New(radius.CodeAccessRequest, []byte("s"))
		addNAS(p, &c.cfg)
		_, e4 := rfc2865.NASIPAddress_Lookup(p)
		_, e6 := rfc3162.NASIPv6Address_Lookup(p)
		if (e4 == nil) != c.v4 || (e6 == nil) != c.v6 || rfc2865.NASIdentifier_GetString(p) != c.ident {
			t.Errorf("%+v: %v", c.cfg, p.Attributes)
		}
	}
}

func TestMetricsRegistered(t *testing.T) {
	reg := prometheus.NewRegistry()
	m := NewRadiusMetrics(reg)
	m.Requests.WithLabelValues("a", "Access-Request", "accept").Inc()
	m.Latency.WithLabelValues("a", "Access-Request").Observe(0.01)
	m.DeadServers.WithLabelValues("auth").Set(1)
	m.QueueDrops.WithLabelValues("interim-update").Inc()
	m.DAE.WithLabelValues("Disconnect-Request", "ack").Inc()
	fams, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]bool{}
	for _, f := range fams {
		names[f.GetName()] = true
	}
	for _, n := range []string{"l2tpsecd_radius_requests_total", "l2tpsecd_radius_latency_seconds", "l2tpsecd_radius_dead_servers",
		"l2tpsecd_radius_acct_queue_records", "l2tpsecd_radius_acct_queue_dropped_total", "l2tpsecd_radius_dae_requests_total"} {
		if !names[n] {
			t.Errorf("%s not registered", n)
		}
	}
}

// An Access-Request for an MS-CHAPv2 login and FreeRADIUS 3.2.1's
// Access-Accept to it, captured with the secret "capture-secret" (user bob
// of testdata/radius/users, Identifier 0x42, Request Authenticator
// "fixed-req-auth16").
const (
	capturedMSCHAPRequest = "014200d566697865642d7265712d6175746831360105626f62200f6c327470736563642d746573743d060000000505060000002a0606000000020706000000011f0d3230332e302e3131332e37420e003230332e302e3131332e374006000000034106000000012c0a30303030303032611a18000001370b12617574686368616c6c656e67652d31361a3a0000013719340300706565722d6368616c6c656e67653136000000000000000045be5ca40379bec930294210e5a8be2ef6b5aa0a3531d46e501280c8e3de81985d2d3fd3f9d8dda4dd3b"
	capturedMSCHAPAccept  = "024200de1268ac58ba30a27cd95ac7d9306da7ee08060a4d002a580773746166661a0c000001371c060a4d00011a0c000001371d060a4d00021c06000002581a33000001371a2d03533d384634423238303844453431424344453044373334363035393235333837464336433337423431361a2a00000137112485251acdc108b1eac9f8e295434e0a7cf1085d0f2bdf638776864478ca5c5d5128951a2a000001371024897c8f560114e643f3257714717f585d3547d43c872645fbdf802ba6c819868968171a0c000001370706000000011a0c00000137080600000006"
)

func TestCapturedMSCHAPv2Exchange(t *testing.T) {
	secret := []byte("capture-secret")
	req, _ := hex.DecodeString(capturedMSCHAPRequest)
	rep, _ := hex.DecodeString(capturedMSCHAPAccept)

	// Our encoder produces exactly the captured request from the same
	// inputs.
	authChallenge, peerChallenge := []byte("authchallenge-16"), []byte("peer-challenge16")
	nt, _ := rfc2759.GenerateNTResponse(authChallenge, peerChallenge, []byte("bob"), []byte("bob-secret"))
	a, _ := NewRadiusAuth(RadiusConfig{Servers: []RadiusServer{{Addr: "x:1", Secret: secret}}, NASIdentifier: "l2tpsecd-test"})
	p := radius.New(radius.CodeAccessRequest, secret)
	p.Identifier = 0x42
	copy(p.Authenticator[:], "fixed-req-auth16")
	r := Request{Method: MethodMSCHAPv2, User: "bob", CHAPID: 3, Challenge: authChallenge, PeerChallenge: peerChallenge, NTResponse: nt, Session: testSession}
	a.addCommon(p, r.User, r.Session)
	addCredentials(p, r)
	wire, err := encodeRequest(p)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(wire, req) {
		t.Fatalf("encoded\n%x\nwant\n%x", wire, req)
	}

	q, err := checkReply(rep, req, secret, false)
	if err != nil {
		t.Fatal(err)
	}
	var reqAuth [16]byte
	copy(reqAuth[:], req[4:20])
	got := mapReply(q, "bob", reqAuth)
	wantS, _ := rfc2759.GenerateAuthenticatorResponse(authChallenge, peerChallenge, nt, []byte("bob"), []byte("bob-secret"))
	if !got.Accepted || got.AuthenticatorResponse != wantS || got.StaticAddr != netip.MustParseAddr("10.77.0.42") ||
		got.Pool != "staff" || got.IdleTimeout != 10*time.Minute || len(got.DNS) != 2 ||
		len(got.MPPESendKey) != 16 || len(got.MPPERecvKey) != 16 {
		t.Fatalf("%+v", got)
	}
	// FreeRADIUS 3.2.1 sends no Message-Authenticator outside EAP: with
	// the BlastRADIUS defence on, the reply is refused.
	if _, err := checkReply(rep, req, secret, true); err != ErrMissingMsgAuth {
		t.Errorf("reply without Message-Authenticator under RequireMessageAuthenticator: %v", err)
	}
	// The reply is bound to its request and the secret.
	if _, err := checkReply(rep, req, []byte("other"), false); err == nil {
		t.Error("reply accepted with another secret")
	}
	req[10] ^= 1
	if _, err := checkReply(rep, req, secret, false); err == nil {
		t.Error("reply accepted for another request")
	}
}

// Replies come from the network: whatever passes the checks must map
// without panicking.
func FuzzReply(f *testing.F) {
	secret := []byte("capture-secret")
	req, _ := hex.DecodeString(capturedMSCHAPRequest)
	rep, _ := hex.DecodeString(capturedMSCHAPAccept)
	f.Add(rep)
	f.Add(rep[:40])
	f.Fuzz(func(t *testing.T, b []byte) {
		checkReply(b, req, secret, false)
		if len(b) < 20 || len(b) > radius.MaxPacketLength {
			return
		}
		// Sign a copy as a reply to req so that the mapping is reached.
		s := append([]byte(nil), b...)
		s[0] = byte(radius.CodeAccessAccept) + s[0]%3 // Accept, Reject or Challenge
		if s[0] == 4 {
			s[0] = byte(radius.CodeAccessChallenge)
		}
		s[1] = req[1]
		s[2], s[3] = byte(len(s)>>8), byte(len(s))
		copy(s[4:20], req[4:20])
		sum := md5.Sum(append(append([]byte(nil), s...), secret...))
		copy(s[4:20], sum[:])
		p, err := checkReply(s, req, secret, false)
		if err != nil {
			return
		}
		var ra [16]byte
		copy(ra[:], req[4:20])
		r := mapReply(p, "bob", ra)
		if r.Accepted != (p.Code == radius.CodeAccessAccept) {
			t.Fatalf("%v mapped to Accepted=%v", p.Code, r.Accepted)
		}
	})
}

func TestServerSetProbe(t *testing.T) {
	clk := clock.NewFake(t0)
	cfg := testConfig(clk, "a:1812", "b:1812")
	cfg.DeadAfter = 1
	cfg.setDefaults()
	s := newServerSet("auth", &cfg)
	probed := make(chan *serverState, 1)
	s.probe = func(srv *serverState) { probed <- srv }
	a := s.servers[0]
	s.report(a, false)
	clk.Advance(cfg.DeadTime - time.Second)
	select {
	case <-probed:
		t.Fatal("probed before the hold time")
	default:
	}
	clk.Advance(time.Second)
	if srv := <-probed; srv != a {
		t.Fatal("probed the wrong server")
	}
	// While probing, the dead server is never a candidate, even after the
	// hold time.
	if got := addrs(s.candidates()); len(got) != 1 || got[0] != "b:1812" {
		t.Fatalf("candidates %v", got)
	}
	s.report(a, false) // the probe failed: another hold, another probe
	clk.Advance(cfg.DeadTime)
	<-probed
	s.report(a, true)
	if got := addrs(s.candidates()); len(got) != 2 {
		t.Fatalf("not revived: %v", got)
	}
}
