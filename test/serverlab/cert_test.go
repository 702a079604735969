package serverlab

// The issue-5 acceptance in the real-client lab: strongSwan + xl2tpd + pppd
// clients authenticate IPsec with X.509 certificates (RFC 2409 signature
// authentication, RFC 4945 profile) against l2tpsecd, which checks their
// chains and revocation (RFC 5280 CRLs fetched from a distribution point
// that the test serves inside the lab's server namespace) in each
// strong_crl_check mode, and audits every verdict with its reason.

import (
	"context"
	"crypto/ecdsa"
	"crypto/rsa"
	"crypto/x509"
	"encoding/asn1"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/l2tpsecd/l2tpsecd/crl/crltest"
	"github.com/l2tpsecd/l2tpsecd/test/lab"
)

// crlPort is where the test's distribution point listens on the server's
// public address; crlDownPort is a port where nothing listens.
const (
	crlPort     = "8080"
	crlDownPort = "8081"
)

// certEnv is one lab with the test PKI written to files and its CRL
// distribution point served from the server namespace, where the daemon
// (and the clients, for the server's certificate) fetch CRLs.
type certEnv struct {
	l    *lab.Lab
	pki  *crltest.Lab
	dp   *crltest.DistributionPoint
	dir  string // PEM files for the daemon and the clients
	base string // http://198.51.100.1:8080
	key  crltest.KeyType
	now  time.Time
}

func newCertEnv(t *testing.T, key crltest.KeyType) *certEnv {
	t.Helper()
	l := lab.New(t)
	_, srvNS, _, _ := l.Namespaces()
	addr := l.Server.PublicAddr.String()
	ln, err := l.ListenIn(srvNS, "tcp", net.JoinHostPort(addr, crlPort))
	if err != nil {
		t.Fatalf("CRL distribution point: %v", err)
	}
	e := &certEnv{l: l, dp: crltest.NewDistributionPoint(), dir: filepath.Join(l.Dir, "pki"),
		base: "http://" + net.JoinHostPort(addr, crlPort), key: key, now: time.Now()}
	hs := &http.Server{Handler: e.dp, ReadHeaderTimeout: 10 * time.Second}
	go hs.Serve(ln)
	t.Cleanup(func() { hs.Close() })
	e.pki, err = crltest.NewLab(crltest.LabOptions{CRLBaseURL: e.base, ServerIPs: []net.IP{net.IP(l.Server.PublicAddr.AsSlice())},
		Key: key, Now: e.now})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.pki.Serve(e.dp, crltest.CRLCurrent); err != nil {
		t.Fatal(err)
	}
	if err := e.pki.WriteFiles(e.dir); err != nil {
		t.Fatal(err)
	}
	l.AddLogHook("CRL distribution point hits", func() string {
		var b strings.Builder
		for _, p := range []string{"/root.crl", "/intermediate.crl"} {
			fmt.Fprintf(&b, "%s: %d\n", p, e.dp.Hits(p))
		}
		return b.String()
	})
	return e
}

// certServer is the daemon's [cert] section.
type certServer struct {
	mode          int
	intermediates []string // intermediate CA files for the server to complete chains
	userMatch     bool
	crlFiles      []string
	// serverCert and serverKey replace the root-issued server certificate.
	serverCert, serverKey string
}

func (e *certEnv) extra(s certServer) string {
	var b strings.Builder
	b.WriteString("[cert]\n")
	if s.serverCert == "" {
		s.serverCert, s.serverKey = filepath.Join(e.dir, "server.crt"), filepath.Join(e.dir, "server.key")
	}
	fmt.Fprintf(&b, "certificate = %q\nkey = %q\n", s.serverCert, s.serverKey)
	fmt.Fprintf(&b, "ca_certs = [%q]\n", filepath.Join(e.dir, "root-ca.crt"))
	if len(s.intermediates) > 0 {
		fmt.Fprintf(&b, "intermediate_certs = [%s]\n", quoteList(s.intermediates))
	}
	if len(s.crlFiles) > 0 {
		fmt.Fprintf(&b, "crl_files = [%s]\n", quoteList(s.crlFiles))
	}
	fmt.Fprintf(&b, "strong_crl_check = %d\ncrl_fetch_timeout = \"2s\"\nrequire_user_match = %v\n", s.mode, s.userMatch)
	return b.String()
}

// clientCert writes id's certificate (followed by chain) and its key for a
// strongSwan client. The key is written in the traditional PEM form (PKCS
// #1 "RSA PRIVATE KEY" or SEC 1 "EC PRIVATE KEY") that ipsec.secrets' RSA
// and ECDSA keywords load.
func (e *certEnv) clientCert(t *testing.T, name string, id *crltest.Identity, chain ...*crltest.Identity) *lab.CertAuth {
	t.Helper()
	var block *pem.Block
	switch k := id.Key.(type) {
	case *rsa.PrivateKey:
		block = &pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(k)}
	case *ecdsa.PrivateKey:
		der, err := x509.MarshalECPrivateKey(k)
		if err != nil {
			t.Fatal(err)
		}
		block = &pem.Block{Type: "EC PRIVATE KEY", Bytes: der}
	default:
		t.Fatalf("key of %s: unsupported type %T", name, id.Key)
	}
	ca := &lab.CertAuth{CertFile: filepath.Join(e.dir, "client-"+name+".crt"), KeyFile: filepath.Join(e.dir, "client-"+name+".key"),
		CAFile: filepath.Join(e.dir, "root-ca.crt")}
	if err := os.WriteFile(ca.CertFile, crltest.ChainPEM(append([]*crltest.Identity{id}, chain...)...), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(ca.KeyFile, pem.EncodeToMemory(block), 0o600); err != nil {
		t.Fatal(err)
	}
	return ca
}

// userCert issues a user certificate from the root whose only CRL
// distribution point is url.
func (e *certEnv) userCert(t *testing.T, cn, url string) *crltest.Identity {
	t.Helper()
	id, err := e.pki.Root.Leaf(cn, crltest.Options{Key: e.key, NotBefore: e.now.AddDate(0, 0, -30), NotAfter: e.now.AddDate(1, 0, 0),
		CRLURLs: []string{url}, UPNs: []string{cn + "@lab.example"}})
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// auditRecord is one line of the daemon's audit log.
type auditRecord struct {
	Event  string         `json:"event"`
	Reason string         `json:"reason"`
	Detail string         `json:"detail"`
	Peer   string         `json:"peer"`
	ID     string         `json:"id"`
	User   string         `json:"user"`
	Fields map[string]any `json:"fields"`
}

func (r auditRecord) String() string {
	b, _ := json.Marshal(r)
	return string(b)
}

// auditRecords returns the audit log's records that match.
func (d *daemon) auditRecords(match func(auditRecord) bool) []auditRecord {
	data, _ := os.ReadFile(d.audit)
	var out []auditRecord
	for _, line := range strings.Split(string(data), "\n") {
		var r auditRecord
		if line == "" || json.Unmarshal([]byte(line), &r) != nil {
			continue
		}
		if match(r) {
			out = append(out, r)
		}
	}
	return out
}

// waitAuditRecord waits until the audit log has a record that matches.
func (d *daemon) waitAuditRecord(t *testing.T, timeout time.Duration, what string, match func(auditRecord) bool) auditRecord {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		if rs := d.auditRecords(match); len(rs) > 0 {
			return rs[0]
		}
		if time.Now().After(deadline) {
			t.Fatalf("no audit record %s within %s", what, timeout)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// certRecord is the audit record of the verification of the certificate
// named cn. When there is none, the failure names the phase-1 failures of
// the client (peer), which say what went wrong before the certificate check.
func (d *daemon) certRecord(t *testing.T, cn, peer string) auditRecord {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		if rs := d.auditRecords(func(r auditRecord) bool {
			return strings.HasPrefix(r.Event, "certificate_") && r.ID == "CN="+cn
		}); len(rs) > 0 {
			return rs[0]
		}
		if time.Now().After(deadline) {
			fails := d.auditRecords(func(r auditRecord) bool { return r.Event == "phase1_failed" && strings.HasPrefix(r.Peer, peer) })
			t.Fatalf("no audit record certificate_* for CN=%s within 10 s; phase-1 failures of %s: %v", cn, peer, fails)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// peerOf is the audit log's peer prefix of a client: its own address when
// it connects directly; behind the NAT it is the NAT's, which every
// prefix matches (scenarios have one client behind the NAT at most).
func peerOf(c *lab.Client) string {
	if c.Guest.BehindNAT {
		return ""
	}
	return c.Guest.Addr.Addr().String() + ":"
}

// verdict is the expected audit of one certificate verification.
type verdict struct {
	accept  bool
	reasons []string // any of them
}

func accepted(reason string) verdict    { return verdict{true, []string{reason}} }
func refused(reasons ...string) verdict { return verdict{false, reasons} }
func (v verdict) event() string {
	return map[bool]string{true: "certificate_accepted", false: "certificate_refused"}[v.accept]
}
func (v verdict) wants(reason string) bool { return slices.Contains(v.reasons, reason) }

// checkVerdict checks the client's outcome and the audit records of its
// certificate and of phase 1 against want, with the mode that applied.
func checkVerdict(t *testing.T, d *daemon, c *lab.Client, cn string, mode int, want verdict, connErr error) auditRecord {
	t.Helper()
	rec := d.certRecord(t, cn, peerOf(c))
	if rec.Event != want.event() || !want.wants(rec.Reason) {
		t.Errorf("%s: audit %s, want %s with reason %v", cn, rec, want.event(), want.reasons)
	}
	if m, ok := rec.Fields["strong_crl_check"].(float64); !ok || int(m) != mode {
		t.Errorf("%s: audit %s does not name strong_crl_check %d", cn, rec, mode)
	}
	peer := peerOf(c)
	if want.accept {
		if connErr != nil {
			t.Errorf("%s: connect: %v", cn, connErr)
			return rec
		}
		p1 := d.waitAuditRecord(t, 5*time.Second, "phase1_established from "+peer, func(r auditRecord) bool {
			return r.Event == "phase1_established" && strings.HasPrefix(r.Peer, peer)
		})
		if !strings.Contains(p1.ID, cn) {
			t.Errorf("%s: phase1_established %s does not name the certificate", cn, p1)
		}
		return rec
	}
	if !errors.Is(connErr, lab.ErrIPsec) {
		t.Errorf("%s: connect = %v, want an IPsec failure", cn, connErr)
	}
	d.waitAuditRecord(t, 5*time.Second, "phase1_failed (certificate_rejected) from "+peer, func(r auditRecord) bool {
		return r.Event == "phase1_failed" && strings.HasPrefix(r.Peer, peer) && r.Reason == "certificate_rejected"
	})
	if est := d.auditRecords(func(r auditRecord) bool {
		return r.Event == "phase1_established" && strings.HasPrefix(r.Peer, peer)
	}); len(est) > 0 {
		t.Errorf("%s: refused certificate, yet phase 1 established: %s", cn, est[0])
	}
	return rec
}

// certConnectAll connects every client at once and returns each one's error.
func certConnectAll(ctx context.Context, t *testing.T, cs []*lab.Client) []error {
	errs := make([]error, len(cs))
	var wg sync.WaitGroup
	for i, c := range cs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = certConnect(ctx, t, c)
		}()
	}
	wg.Wait()
	return errs
}

// clientSignFailure is what charon logs when the client itself cannot sign
// Main Mode message 5: its gcrypt plugin fails now and then on a key that
// signs fine on the next try ("creating pkcs1 signature failed: Invalid
// argument", seen about once in 80 connections). The server never sees
// that attempt.
const clientSignFailure = "signature failed"

// certConnect connects c, once more when the first attempt failed on the
// client's own signature (clientSignFailure), which says nothing about the
// server.
func certConnect(ctx context.Context, t *testing.T, c *lab.Client) error {
	logPath := filepath.Join(c.Guest.ShareDir(), "log", "charon.log")
	count := func() int {
		b, _ := os.ReadFile(logPath)
		return strings.Count(string(b), clientSignFailure)
	}
	before := count()
	err := c.Connect(ctx)
	if err != nil && errors.Is(err, lab.ErrIPsec) && count() > before {
		t.Logf("%s: the client failed to sign its own Main Mode message 5 (%q in charon.log); trying once more", c.Guest.Name, clientSignFailure)
		err = c.Connect(ctx)
	}
	return err
}

// certSteps logs the time since the scenario started.
func certSteps(t *testing.T) func(string, ...any) {
	start := time.Now()
	return func(what string, args ...any) {
		t.Helper()
		t.Logf("%6.1fs "+what, append([]any{time.Since(start).Seconds()}, args...)...)
	}
}

// TestCertConnect: a strongSwan client with a valid user certificate (and
// MS-CHAPv2 for the user) connects end to end: directly with RSA
// signatures; behind the NAT (Main Mode moves to UDP/4500 before the
// certificates) to a server whose certificate the intermediate CA issued, so
// that the server must send its chain; and with ECDSA signatures. The
// daemon fetched the CRL named by the certificate, and the audit log has the
// accepted certificate and phase 1 with its identity. A PSK is configured
// too: certificates and keys work side by side.
func TestCertConnect(t *testing.T) {
	cases := []struct {
		name                string
		key                 crltest.KeyType
		nat, serverViaInter bool
	}{
		{"rsa/direct", crltest.RSA2048, false, false},
		{"rsa/nat/server-chain", crltest.RSA2048, true, true},
		{"ecdsa/direct", crltest.ECDSAP256, false, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			step := certSteps(t)
			e := newCertEnv(t, tc.key)
			srv := certServer{mode: 1}
			if tc.serverViaInter {
				srv.serverCert, srv.serverKey = e.serverViaIntermediate(t)
			}
			d := startDaemon(t, e.l, daemonConfig{PSKs: []string{labPSK}, Users: []user{{Name: labUser, Password: labPassword}},
				Extra: e.extra(srv)})
			step("l2tpsecd ready")
			c := e.l.NewClient(t, lab.ClientConfig{BehindNAT: tc.nat, Cert: e.clientCert(t, "valid", e.pki.Valid), User: labUser, Password: labPassword})
			step("guest booted")
			ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
			defer cancel()
			if tc.key != crltest.RSA2048 {
				requireOpenSSLPlugin(ctx, t, c)
			}
			err := certConnect(ctx, t, c)
			checkVerdict(t, d, c, "valid", 1, accepted("ok"), err)
			if err != nil {
				t.FailNow()
			}
			step("connected, address %v", c.Addr())
			if !e.l.Server.Pool.Contains(c.Addr()) {
				t.Fatalf("client address %v is not from the pool %v", c.Addr(), e.l.Server.Pool)
			}
			if err := c.Ping(ctx, e.l.Server.LANHost); err != nil {
				t.Fatalf("ping LAN host: %v", err)
			}
			step("pinged %v", e.l.Server.LANHost)
			if n := e.dp.Hits("/root.crl"); n == 0 {
				t.Errorf("the daemon never fetched the certificate's CRL")
			}
			p1 := d.waitAuditRecord(t, time.Second, "phase1_established", func(r auditRecord) bool { return r.Event == "phase1_established" })
			t.Logf("audit: %s", p1)
			if nat, _ := p1.Fields["nat_peer"].(bool); nat != tc.nat {
				t.Errorf("phase 1 nat_peer = %v, want %v", nat, tc.nat)
			}
			if tc.serverViaInter {
				// strongSwan trusts only the root: it verified the server
				// through the intermediate the server sent.
				log, _ := os.ReadFile(filepath.Join(c.Guest.ShareDir(), "log", "charon.log"))
				if !strings.Contains(string(log), "l2tpsecd Lab Intermediate CA") {
					t.Errorf("the client's charon log never mentions the intermediate CA the server should have sent")
				}
			}
			d.waitAudit(t, 5*time.Second, `"event":"session_started"`, labUser, c.Addr().String())
		})
	}
}

// serverViaIntermediate issues a server certificate from the intermediate
// CA and writes it followed by the intermediate (the chain the server
// sends), and its key.
func (e *certEnv) serverViaIntermediate(t *testing.T) (certFile, keyFile string) {
	t.Helper()
	id, err := e.pki.Intermediate.Leaf("vpn2.lab.example", crltest.Options{Key: e.key, NotBefore: e.now.Add(-time.Hour), NotAfter: e.now.AddDate(1, 0, 0),
		DNSNames: []string{"vpn2.lab.example"}, IPAddresses: []net.IP{net.IP(e.l.Server.PublicAddr.AsSlice())},
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, OtherEKUs: []asn1.ObjectIdentifier{crltest.IKEIntermediate},
		CRLURLs: []string{e.base + "/intermediate.crl"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, keyFile, err = id.WriteFiles(e.dir, "server-via-intermediate"); err != nil {
		t.Fatal(err)
	}
	certFile = filepath.Join(e.dir, "server-via-intermediate-chain.crt")
	if err := os.WriteFile(certFile, crltest.ChainPEM(id, e.pki.Intermediate), 0o644); err != nil {
		t.Fatal(err)
	}
	return certFile, keyFile
}

// requireOpenSSLPlugin skips the test unless the guest's charon has the
// openssl plugin, the only one of Debian's strongSwan plugins that does
// ECDSA (gmp and gcrypt do RSA only); it comes with the package
// libstrongswan-standard-plugins.
func requireOpenSSLPlugin(ctx context.Context, t *testing.T, c *lab.Client) {
	t.Helper()
	out, err := c.Guest.Run(ctx, "for i in $(seq 1 50); do grep -q 'loaded plugins:' /lab/log/charon.log && break; sleep 0.1; done; grep 'loaded plugins:' /lab/log/charon.log")
	if err != nil {
		t.Fatalf("charon's plugin list: %v\n%s", err, out)
	}
	if !strings.Contains(out+" ", " openssl ") {
		t.Skipf("the strongSwan guest image has no openssl plugin, so charon cannot load ECDSA keys or certificates (add libstrongswan-standard-plugins to the image): %s", strings.TrimSpace(out))
	}
}

// crlCase is one CRL situation of the revocation matrix: the user
// certificate it applies to gets its own distribution point URL, so the
// daemon's CRL cache (keyed by URL) cannot carry one situation into
// another.
type crlCase struct {
	name string
	// closed names a port where nothing listens instead of the
	// distribution point.
	closed bool
	// publish sets up the distribution point for the certificate at path
	// and returns the revocation the audit must report (nil when none).
	publish func(e *certEnv, path string, cert *crltest.Identity) *crltest.Revoked
	want    [3]verdict // by mode
}

func revokeAt(e *certEnv, id *crltest.Identity, ago time.Duration, reason int) crltest.Revoked {
	return crltest.Revoke(id, e.now.Add(-ago).Truncate(time.Second), reason)
}

// The issue's table. Mode 0 accepts everything without a check; mode 1
// refuses only a certificate its issuer's CRL lists (also an expired CRL)
// and assumes an unreachable distribution point or a foreign CRL fine; mode
// 2 refuses every one of these.
var crlCases = []crlCase{
	{"current-unlisted", false, func(e *certEnv, path string, id *crltest.Identity) *crltest.Revoked {
		der := mustCRL(e.pki.Root.CRL(crltest.CRLOptions{ThisUpdate: e.now.Add(-time.Hour), NextUpdate: e.now.Add(7 * 24 * time.Hour),
			Revoked: []crltest.Revoked{revokeAt(e, e.pki.Revoked, time.Hour, 1)}}))
		e.dp.Set(path, der)
		return nil
	}, [3]verdict{accepted("ok"), accepted("ok"), accepted("ok")}},
	{"revoked", false, func(e *certEnv, path string, id *crltest.Identity) *crltest.Revoked {
		rv := revokeAt(e, id, 2*time.Hour, 1) // keyCompromise
		e.dp.Set(path, mustCRL(e.pki.Root.CRL(crltest.CRLOptions{ThisUpdate: e.now.Add(-time.Hour), NextUpdate: e.now.Add(7 * 24 * time.Hour),
			Revoked: []crltest.Revoked{rv}})))
		return &rv
	}, [3]verdict{accepted("ok"), refused("revoked"), refused("revoked")}},
	{"dp-closed", true, func(*certEnv, string, *crltest.Identity) *crltest.Revoked { return nil }, [3]verdict{accepted("ok"), accepted("crl_unreachable"), refused("crl_unreachable")}},
	{"dp-refusing", false, func(e *certEnv, path string, id *crltest.Identity) *crltest.Revoked {
		e.dp.SetStatus(path, http.StatusServiceUnavailable)
		return nil
	}, [3]verdict{accepted("ok"), accepted("crl_unreachable"), refused("crl_unreachable")}},
	{"dp-hanging", false, func(e *certEnv, path string, id *crltest.Identity) *crltest.Revoked {
		// Never answers: crl_fetch_timeout (2 s) bounds the wait, and the
		// other clients, connecting at the same time, are not held up.
		e.dp.SetHang(path)
		return nil
	}, [3]verdict{accepted("ok"), accepted("crl_unreachable"), refused("crl_unreachable")}},
	{"other-ca", false, func(e *certEnv, path string, id *crltest.Identity) *crltest.Revoked {
		// A foreign CA's CRL that lists the certificate's serial: it
		// must not count as a revocation.
		e.dp.Set(path, mustCRL(e.pki.Other.CRL(crltest.CRLOptions{ThisUpdate: e.now.Add(-time.Hour), NextUpdate: e.now.Add(7 * 24 * time.Hour),
			Revoked: []crltest.Revoked{revokeAt(e, id, 2*time.Hour, 1)}})))
		return nil
	}, [3]verdict{accepted("ok"), accepted("crl_issuer_mismatch"), refused("crl_issuer_mismatch", "crl_bad_signature")}},
	{"expired-listed", false, func(e *certEnv, path string, id *crltest.Identity) *crltest.Revoked {
		rv := revokeAt(e, id, 20*24*time.Hour, 3) // affiliationChanged
		e.dp.Set(path, mustCRL(e.pki.Root.CRL(crltest.CRLOptions{ThisUpdate: e.now.Add(-14 * 24 * time.Hour), NextUpdate: e.now.Add(-7 * 24 * time.Hour),
			Revoked: []crltest.Revoked{rv}})))
		return &rv
	}, [3]verdict{accepted("ok"), refused("revoked"), refused("revoked")}},
	{"expired-unlisted", false, func(e *certEnv, path string, id *crltest.Identity) *crltest.Revoked {
		e.dp.Set(path, mustCRL(e.pki.Root.CRL(crltest.CRLOptions{ThisUpdate: e.now.Add(-14 * 24 * time.Hour), NextUpdate: e.now.Add(-7 * 24 * time.Hour),
			Revoked: []crltest.Revoked{revokeAt(e, e.pki.Revoked, 20*24*time.Hour, 1)}})))
		return nil
	}, [3]verdict{accepted("ok"), accepted("crl_expired"), refused("crl_expired")}},
}

func mustCRL(b []byte, err error) []byte {
	if err != nil {
		panic(err)
	}
	return b
}

// TestCertRevocation runs the CRL situations against one daemon per
// strong_crl_check mode: every situation is a client of its own (they
// connect at once), with a certificate whose distribution point serves that
// situation. The control situation (a current CRL that does not list the
// certificate) shows that a refusing mode still admits a good certificate.
func TestCertRevocation(t *testing.T) {
	for mode := 0; mode <= 2; mode++ {
		t.Run(fmt.Sprintf("mode%d", mode), func(t *testing.T) {
			step := certSteps(t)
			e := newCertEnv(t, crltest.RSA2048)
			type row struct {
				c    crlCase
				cn   string
				path string
				rev  *crltest.Revoked
			}
			var (
				rows []row
				cfgs []lab.ClientConfig
			)
			for _, cc := range crlCases {
				cn := fmt.Sprintf("m%d-%s", mode, cc.name)
				path := "/" + cn + ".crl"
				url := e.base + path
				if cc.closed {
					url = "http://" + net.JoinHostPort(e.l.Server.PublicAddr.String(), crlDownPort) + path
				}
				id := e.userCert(t, cn, url)
				rev := cc.publish(e, path, id)
				rows = append(rows, row{cc, cn, path, rev})
				cfgs = append(cfgs, lab.ClientConfig{Cert: e.clientCert(t, cn, id), User: labUser, Password: labPassword})
			}
			d := startDaemon(t, e.l, daemonConfig{Users: []user{{Name: labUser, Password: labPassword}}, Extra: e.extra(certServer{mode: mode})})
			step("l2tpsecd ready (strong_crl_check %d)", mode)
			cs := e.l.NewClients(t, cfgs...)
			step("%d guests booted", len(cs))
			ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
			defer cancel()
			errs := certConnectAll(ctx, t, cs)
			step("connections done")
			counted := map[string]int{} // metric series -> audited verdicts
			for i, r := range rows {
				want := r.c.want[mode]
				rec := checkVerdict(t, d, cs[i], r.cn, mode, want, errs[i])
				outcome := map[bool]string{true: "accept", false: "reject"}[rec.Event == "certificate_accepted"]
				counted[fmt.Sprintf(`l2tpsecd_crl_certificate_checks_total{mode="%d",outcome="%s",reason="%s"}`, mode, outcome, rec.Reason)]++
				t.Logf("%-18s %s %s", r.c.name, rec.Event, rec.Reason)
				if hits := e.dp.Hits(r.path); mode == 0 && hits > 0 {
					t.Errorf("%s: mode 0 fetched the CRL (%d requests)", r.cn, hits)
				} else if mode > 0 && !r.c.closed && hits == 0 {
					t.Errorf("%s: mode %d never asked the distribution point", r.cn, mode)
				}
				if r.rev != nil && rec.Reason == "revoked" {
					checkRevocation(t, r.cn, rec, *r.rev, r.path)
				}
			}
			// The metrics count the same verdicts as the audit log.
			m := d.metrics(t)
			for series, n := range counted {
				if v := metricValue(m, series); v != float64(n) {
					t.Errorf("%s = %v, want %d\n%s", series, v, n, linesWith(m, "l2tpsecd_crl_certificate_checks_total"))
				}
			}
		})
	}
}

// checkRevocation checks that a revoked certificate's audit record names
// the revocation date and reason code of the CRL entry, and the CRL (its
// URL or file, which contains source).
func checkRevocation(t *testing.T, cn string, rec auditRecord, rv crltest.Revoked, source string) {
	t.Helper()
	s, _ := rec.Fields["revoked_at"].(string)
	at, err := time.Parse(time.RFC3339Nano, s)
	if err != nil || !at.Equal(rv.Time) {
		t.Errorf("%s: revoked_at %q, want %s", cn, s, rv.Time.UTC().Format(time.RFC3339))
	}
	wantReason := map[int]string{1: "keyCompromise", 2: "cACompromise", 3: "affiliationChanged", 4: "superseded"}[rv.Reason]
	if got, _ := rec.Fields["revocation_reason"].(string); got != wantReason {
		t.Errorf("%s: revocation_reason %q, want %q", cn, got, wantReason)
	}
	if u, _ := rec.Fields["crl"].(string); !strings.Contains(u, source) {
		t.Errorf("%s: audit names CRL %q, want %s", cn, u, source)
	}
}

// TestCertChain: a user certificate issued by the intermediate CA works
// (the client sends only its own certificate, as Windows does; the server
// completes the chain with its configured intermediate and checks the
// intermediate's CRL too); an untrusted, an expired and a not-yet-valid
// certificate are refused with their reasons, and so are a certificate
// revoked on a CRL file of the configuration, one revoked on the CRL its
// file:// distribution point names, and one whose intermediate CA the root
// has revoked.
func TestCertChain(t *testing.T) {
	step := certSteps(t)
	e := newCertEnv(t, crltest.RSA2048)
	// A certificate without a distribution point, revoked on a CRL file
	// that the configuration names (an offline setup).
	offline, err := e.pki.Root.Leaf("file-revoked", crltest.Options{Key: e.key, NotBefore: e.now.AddDate(0, 0, -30), NotAfter: e.now.AddDate(1, 0, 0)})
	if err != nil {
		t.Fatal(err)
	}
	rv := revokeAt(e, offline, 3*time.Hour, 4) // superseded
	crlFile := filepath.Join(e.dir, "offline-root.crl")
	if err := crltest.WriteCRL(crlFile, mustCRL(e.pki.Root.CRL(crltest.CRLOptions{ThisUpdate: e.now.Add(-time.Hour),
		NextUpdate: e.now.Add(7 * 24 * time.Hour), Revoked: []crltest.Revoked{rv}})), true); err != nil {
		t.Fatal(err)
	}
	// A second intermediate that the root has revoked: its users are
	// refused although their own certificate is on no CRL, since every
	// certificate of the chain but the root is checked.
	badCA, err := e.pki.Root.Intermediate("Revoked Lab Intermediate CA", crltest.Options{Key: e.key, NotBefore: e.now.AddDate(-1, 0, 0),
		NotAfter: e.now.AddDate(5, 0, 0), CRLURLs: []string{e.base + "/root.crl"}})
	if err != nil {
		t.Fatal(err)
	}
	underBad, err := badCA.Leaf("under-revoked-ca", crltest.Options{Key: e.key, NotBefore: e.now.AddDate(0, 0, -30), NotAfter: e.now.AddDate(1, 0, 0),
		CRLURLs: []string{e.base + "/revoked-ca.crl"}})
	if err != nil {
		t.Fatal(err)
	}
	badRV := revokeAt(e, badCA, 5*time.Hour, 2) // cACompromise
	e.dp.Set("/root.crl", mustCRL(e.pki.Root.CRL(crltest.CRLOptions{ThisUpdate: e.now.Add(-time.Hour), NextUpdate: e.now.Add(7 * 24 * time.Hour),
		Number: 2, Revoked: []crltest.Revoked{revokeAt(e, e.pki.Revoked, time.Hour, 1), badRV}})))
	e.dp.Set("/revoked-ca.crl", mustCRL(badCA.CRL(crltest.CRLOptions{ThisUpdate: e.now.Add(-time.Hour), NextUpdate: e.now.Add(7 * 24 * time.Hour)})))
	badCAFile := filepath.Join(e.dir, "revoked-intermediate-ca.crt")
	if err := os.WriteFile(badCAFile, badCA.CertPEM(), 0o644); err != nil {
		t.Fatal(err)
	}

	// A certificate whose distribution point is a file:// URL (offline
	// setups), revoked there.
	fileDPCRL := filepath.Join(e.dir, "file-dp-root.crl")
	fileDP, err := e.pki.Root.Leaf("file-dp-revoked", crltest.Options{Key: e.key, NotBefore: e.now.AddDate(0, 0, -30),
		NotAfter: e.now.AddDate(1, 0, 0), CRLURLs: []string{"file://" + fileDPCRL}})
	if err != nil {
		t.Fatal(err)
	}
	fileDPRV := revokeAt(e, fileDP, 90*time.Minute, 1) // keyCompromise
	if err := crltest.WriteCRL(fileDPCRL, mustCRL(e.pki.Root.CRL(crltest.CRLOptions{ThisUpdate: e.now.Add(-time.Hour),
		NextUpdate: e.now.Add(7 * 24 * time.Hour), Number: 3, Revoked: []crltest.Revoked{fileDPRV}})), false); err != nil {
		t.Fatal(err)
	}

	d := startDaemon(t, e.l, daemonConfig{Users: []user{{Name: labUser, Password: labPassword}},
		Extra: e.extra(certServer{mode: 1, intermediates: []string{filepath.Join(e.dir, "intermediate-ca.crt"), badCAFile},
			crlFiles: []string{crlFile}})})
	step("l2tpsecd ready")
	type row struct {
		cn   string
		id   *crltest.Identity
		want verdict
	}
	rows := []row{
		{"intermediate-user", e.pki.ViaIntermediate, accepted("ok")},
		{"untrusted", e.pki.Untrusted, refused("untrusted_issuer")},
		{"expired", e.pki.Expired, refused("cert_expired")},
		{"notyetvalid", e.pki.NotYetValid, refused("cert_not_yet_valid")},
		{"file-revoked", offline, refused("revoked")},
		{"under-revoked-ca", underBad, refused("revoked")},
		{"file-dp-revoked", fileDP, refused("revoked")},
	}
	var cfgs []lab.ClientConfig
	for _, r := range rows {
		cfgs = append(cfgs, lab.ClientConfig{Cert: e.clientCert(t, r.cn, r.id), User: labUser, Password: labPassword})
	}
	cs := e.l.NewClients(t, cfgs...)
	step("%d guests booted", len(cs))
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	errs := certConnectAll(ctx, t, cs)
	step("connections done")
	for i, r := range rows {
		rec := checkVerdict(t, d, cs[i], r.cn, 1, r.want, errs[i])
		t.Logf("%-18s %s %s %s", r.cn, rec.Event, rec.Reason, rec.Detail)
		switch r.id {
		case offline:
			checkRevocation(t, r.cn, rec, rv, crlFile)
		case underBad:
			checkRevocation(t, r.cn, rec, badRV, "/root.crl")
		case fileDP:
			checkRevocation(t, r.cn, rec, fileDPRV, fileDPCRL)
		}
	}
	if n := e.dp.Hits("/intermediate.crl"); n == 0 {
		t.Errorf("the intermediate's CRL was never fetched for its user's certificate")
	}
	if errs[0] == nil {
		if err := cs[0].Ping(ctx, e.l.Server.LANHost); err != nil {
			t.Errorf("intermediate-user: ping LAN host: %v", err)
		}
	}
}

// TestCertNoCertificate: a client that authenticates with a pre-shared key,
// and so sends no certificate, is refused by a server that has
// certificates only, and the audit log says why in terms an administrator
// can act on: the client offered pre-shared key authentication, which this
// server does not accept (not only "no proposal chosen" with the same
// algorithms the server would accept with a certificate).
func TestCertNoCertificate(t *testing.T) {
	step := certSteps(t)
	e := newCertEnv(t, crltest.RSA2048)
	d := startDaemon(t, e.l, daemonConfig{Users: []user{{Name: labUser, Password: labPassword}}, Extra: e.extra(certServer{mode: 1})})
	step("l2tpsecd ready")
	c := e.l.NewClient(t, lab.ClientConfig{PSK: labPSK, User: labUser, Password: labPassword})
	step("guest booted")
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	err := c.Connect(ctx)
	step("connect: %v", err != nil)
	if !errors.Is(err, lab.ErrIPsec) {
		t.Errorf("PSK client against a certificate-only server: connect = %v, want an IPsec failure", err)
	}
	p1 := d.waitAuditRecord(t, 5*time.Second, "phase1_failed of the PSK client", func(r auditRecord) bool {
		return r.Event == "phase1_failed" && strings.HasPrefix(r.Peer, peerOf(c))
	})
	t.Logf("audit: %s", p1)
	if p1.Reason != "auth_method_unsupported" && p1.Reason != "no_proposal_chosen" {
		t.Errorf("PSK client: %s, want reason auth_method_unsupported (or no_proposal_chosen naming the method)", p1)
	}
	all := strings.ToLower(p1.Reason + " " + p1.Detail + " " + fmt.Sprint(p1.Fields))
	if !strings.Contains(all, "pre-shared") && !strings.Contains(all, "psk") {
		t.Errorf("PSK client: %s does not say that the client offered pre-shared key authentication", p1)
	}
	if est := d.auditRecords(func(r auditRecord) bool { return r.Event == "phase1_established" }); len(est) > 0 {
		t.Errorf("phase 1 established without a certificate: %s", est[0])
	}
}

// TestCertUserMatch: with require_user_match the PPP user must name the
// certificate's holder. The holder connects; the same certificate with
// another valid user's password is refused at PPP authentication.
func TestCertUserMatch(t *testing.T) {
	step := certSteps(t)
	e := newCertEnv(t, crltest.RSA2048)
	const holderPassword = "holder-of-valid-1"
	d := startDaemon(t, e.l, daemonConfig{Users: []user{{Name: "valid", Password: holderPassword}, {Name: labUser, Password: labPassword}},
		Extra: e.extra(certServer{mode: 1, userMatch: true})})
	step("l2tpsecd ready")
	cert := e.clientCert(t, "valid", e.pki.Valid)
	cs := e.l.NewClients(t,
		lab.ClientConfig{Cert: cert, User: "valid", Password: holderPassword},
		lab.ClientConfig{Cert: cert, User: labUser, Password: labPassword})
	step("guests booted")
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()

	// The other user's attempt: pppd retries nothing once refused, so
	// stop waiting for ppp0 as soon as both sides have said so.
	thief := make(chan error, 1)
	tctx, tcancel := context.WithCancel(ctx)
	defer tcancel()
	go func() { thief <- certConnect(tctx, t, cs[1]) }()

	if err := certConnect(ctx, t, cs[0]); err != nil {
		t.Fatalf("the certificate's holder: %v", err)
	}
	if err := cs[0].Ping(ctx, e.l.Server.LANHost); err != nil {
		t.Fatalf("the certificate's holder: ping: %v", err)
	}
	step("holder connected, address %v", cs[0].Addr())
	d.waitAudit(t, 5*time.Second, `"event":"user_authenticated"`, `"user":"valid"`)

	rec := d.waitAuditRecord(t, 60*time.Second, "user_refused for "+labUser, func(r auditRecord) bool {
		return r.Event == "user_refused" && r.User == labUser
	})
	t.Logf("audit: %s", rec)
	if !strings.Contains(rec.Reason+rec.Detail, "certificate_user_mismatch") {
		t.Errorf("refusal %s does not say certificate_user_mismatch", rec)
	}
	if !strings.HasPrefix(rec.Peer, peerOf(cs[1])) {
		t.Errorf("refusal %s: peer is not the other user's client %s", rec, peerOf(cs[1]))
	}
	if ok := d.auditRecords(func(r auditRecord) bool {
		return r.Event == "user_authenticated" && r.User == "valid" && strings.HasPrefix(r.Peer, peerOf(cs[0]))
	}); len(ok) != 1 {
		t.Errorf("the holder's authentication from %s: %d audit records, want 1", peerOf(cs[0]), len(ok))
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		log, _ := os.ReadFile(filepath.Join(cs[1].Guest.ShareDir(), "log", "pppd.log"))
		if strings.Contains(string(log), "authentication failed") {
			break
		}
		if time.Now().After(deadline) {
			t.Errorf("the client's pppd log does not show the refused authentication:\n%s", log)
			break
		}
		time.Sleep(250 * time.Millisecond)
	}
	tcancel()
	if err := <-thief; err == nil || cs[1].Addr().IsValid() {
		t.Errorf("another user with the holder's certificate got connected (%v)", cs[1].Addr())
	}
	if n := len(d.auditRecords(func(r auditRecord) bool { return r.Event == "session_started" })); n != 1 {
		t.Errorf("%d sessions started, want only the holder's", n)
	}
	step("the other user was refused")
}

// TestCertCRLCache: strong_crl_check 2 with the CRL cached on disk under
// state_dir. After a restart of the daemon the distribution point refuses,
// yet the client is admitted on the cached CRL, which is still current; the
// metrics count fetches by source and checks by mode, outcome and reason.
func TestCertCRLCache(t *testing.T) {
	step := certSteps(t)
	e := newCertEnv(t, crltest.RSA2048)
	dc := daemonConfig{Users: []user{{Name: labUser, Password: labPassword}}, Extra: e.extra(certServer{mode: 2})}
	d := startDaemon(t, e.l, dc)
	step("l2tpsecd ready")
	c := e.l.NewClient(t, lab.ClientConfig{Cert: e.clientCert(t, "valid", e.pki.Valid), User: labUser, Password: labPassword})
	step("guest booted")
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	err := certConnect(ctx, t, c)
	checkVerdict(t, d, c, "valid", 2, accepted("ok"), err)
	if err != nil {
		t.FailNow()
	}
	step("connected with the CRL fetched")
	m := d.metrics(t)
	if v := metricValue(m, `l2tpsecd_crl_fetches_total{result="ok",source="http"}`); v < 1 {
		t.Errorf("CRL fetches over HTTP = %v, want at least 1", v)
	}
	if v := metricValue(m, `l2tpsecd_crl_certificate_checks_total{mode="2",outcome="accept",reason="ok"}`); v != 1 {
		t.Errorf("accepted checks in mode 2 = %v, want 1", v)
	}
	if err := c.Disconnect(ctx); err != nil {
		t.Fatal(err)
	}
	waitNoSessions(t, d, 20*time.Second)
	// The killed pppd may still hold ppp0 (it waits for a Terminate-Ack
	// that cannot come); a new pppd would take ppp1, while the lab's
	// Connect routes through ppp0.
	if out, err := c.Guest.Run(ctx, "for i in $(seq 1 100); do pidof pppd >/dev/null || ip link show ppp0 >/dev/null 2>&1 || exit 0; sleep 0.2; done; pidof pppd; ip link show; exit 1"); err != nil {
		t.Fatalf("the client's old pppd did not go away: %v\n%s", err, out)
	}

	if err := d.proc.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(15 * time.Second)
	for d.proc.Signal(syscall.Signal(0)) == nil {
		if time.Now().After(deadline) {
			t.Fatal("l2tpsecd still running 15 s after SIGTERM")
		}
		time.Sleep(100 * time.Millisecond)
	}
	e.dp.SetStatus("/root.crl", http.StatusServiceUnavailable)
	d = startDaemon(t, e.l, dc)
	step("l2tpsecd restarted; the distribution point now answers 503")
	if err := certConnect(ctx, t, c); err != nil {
		t.Fatalf("connect on the cached CRL: %v", err)
	}
	step("connected on the cached CRL")
	recs := d.auditRecords(func(r auditRecord) bool { return strings.HasPrefix(r.Event, "certificate_") && r.ID == "CN=valid" })
	if len(recs) != 2 || recs[1].Event != "certificate_accepted" || recs[1].Reason != "ok" {
		t.Errorf("certificate audit records %v, want a second certificate_accepted with reason ok", recs)
	}
	m = d.metrics(t)
	if v := metricValue(m, `l2tpsecd_crl_fetches_total{result="ok",source="disk_cache"}`); v < 1 {
		t.Errorf("CRL reads from the disk cache = %v, want at least 1\n%s", v, linesWith(m, "l2tpsecd_crl_"))
	}
}

// linesWith returns the lines of text that contain s.
func linesWith(text, s string) string {
	var out []string
	for _, l := range strings.Split(text, "\n") {
		if strings.Contains(l, s) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// TestCertIdentities: the phase-1 identity may be another name the
// certificate carries (RFC 4945 section 3.1) — an e-mail address
// (ID_USER_FQDN) or a DNS name (ID_FQDN) from its subjectAltName — rather
// than its subject DN; and a client with the pre-shared key connects to the
// same server beside the certificate clients.
func TestCertIdentities(t *testing.T) {
	step := certSteps(t)
	e := newCertEnv(t, crltest.RSA2048)
	d := startDaemon(t, e.l, daemonConfig{PSKs: []string{labPSK}, Users: []user{{Name: labUser, Password: labPassword}},
		Extra: e.extra(certServer{mode: 1})})
	step("l2tpsecd ready")
	leaf := func(cn string, o crltest.Options) *crltest.Identity {
		o.Key, o.NotBefore, o.NotAfter, o.CRLURLs = e.key, e.now.Add(-time.Hour), e.now.AddDate(1, 0, 0), []string{e.base + "/root.crl"}
		id, err := e.pki.Root.Leaf(cn, o)
		if err != nil {
			t.Fatal(err)
		}
		return id
	}
	rows := []struct {
		cn, leftid, want string // want: the identity phase 1 reports
	}{
		{"id-email", "id-email@lab.example", "id-email@lab.example"},
		{"id-fqdn", "@id-fqdn.lab.example", "id-fqdn.lab.example"},
	}
	var cfgs []lab.ClientConfig
	for _, r := range rows {
		id := leaf(r.cn, crltest.Options{EmailAddresses: []string{r.cn + "@lab.example"}, DNSNames: []string{r.cn + ".lab.example"}})
		cfgs = append(cfgs, lab.ClientConfig{Cert: e.clientCert(t, r.cn, id), IPsecExtra: []string{"leftid=" + r.leftid},
			User: labUser, Password: labPassword})
	}
	cfgs = append(cfgs, lab.ClientConfig{PSK: labPSK, User: labUser, Password: labPassword})
	cs := e.l.NewClients(t, cfgs...)
	step("%d guests booted", len(cs))
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	errs := certConnectAll(ctx, t, cs)
	step("connections done")
	for i, r := range rows {
		checkVerdict(t, d, cs[i], r.cn, 1, accepted("ok"), errs[i])
		p1 := d.auditRecords(func(a auditRecord) bool {
			return a.Event == "phase1_established" && strings.HasPrefix(a.Peer, peerOf(cs[i]))
		})
		if len(p1) == 0 || !strings.Contains(p1[0].ID, r.want) {
			t.Errorf("%s: phase 1 %v, want the identity %s", r.cn, p1, r.want)
		} else {
			t.Logf("%s: %s", r.cn, p1[0])
		}
	}
	psk := cs[len(rows)]
	if err := errs[len(rows)]; err != nil {
		t.Fatalf("PSK client beside certificates: %v", err)
	}
	if err := psk.Ping(ctx, e.l.Server.LANHost); err != nil {
		t.Errorf("PSK client: ping: %v", err)
	}
	p1 := d.waitAuditRecord(t, 5*time.Second, "phase1_established of the PSK client", func(a auditRecord) bool {
		return a.Event == "phase1_established" && strings.HasPrefix(a.Peer, peerOf(psk))
	})
	if name, _ := p1.Fields["psk"].(string); name != "key0" {
		t.Errorf("PSK client: phase 1 %s does not name the key", p1)
	}
}

// TestCertReload: a reload (SIGHUP) that raises strong_crl_check from 1 to
// 2 applies to the next negotiation — a certificate whose distribution
// point is down, accepted before, is refused after — while the session
// admitted before the reload keeps working.
func TestCertReload(t *testing.T) {
	step := certSteps(t)
	e := newCertEnv(t, crltest.RSA2048)
	down := "http://" + net.JoinHostPort(e.l.Server.PublicAddr.String(), crlDownPort)
	before, after := e.userCert(t, "reload-before", down+"/before.crl"), e.userCert(t, "reload-after", down+"/after.crl")
	dc := daemonConfig{Users: []user{{Name: labUser, Password: labPassword}}, Extra: e.extra(certServer{mode: 1})}
	d := startDaemon(t, e.l, dc)
	step("l2tpsecd ready (strong_crl_check 1)")
	cs := e.l.NewClients(t,
		lab.ClientConfig{Cert: e.clientCert(t, "reload-before", before), User: labUser, Password: labPassword},
		lab.ClientConfig{Cert: e.clientCert(t, "reload-after", after), User: labUser, Password: labPassword})
	step("guests booted")
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	err := certConnect(ctx, t, cs[0])
	checkVerdict(t, d, cs[0], "reload-before", 1, accepted("crl_unreachable"), err)
	if err != nil {
		t.FailNow()
	}
	step("connected under strong_crl_check 1 with the distribution point down")

	dc.Extra = e.extra(certServer{mode: 2})
	d.writeConfig(t, dc)
	if err := d.proc.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	d.waitAudit(t, 10*time.Second, `"event":"config_reloaded"`)
	step("reloaded with strong_crl_check 2")
	err = certConnect(ctx, t, cs[1])
	checkVerdict(t, d, cs[1], "reload-after", 2, refused("crl_unreachable"), err)
	if err := cs[0].Ping(ctx, e.l.Server.LANHost); err != nil {
		t.Errorf("the session admitted before the reload: %v", err)
	}
	step("refused after the reload; the earlier session still works")
}

// TestCertDeltaCRL: under strong_crl_check 2, a certificate whose
// revocation is published only in a delta CRL (RFC 5280 5.2.4, found
// through the certificate's Freshest CRL extension) is refused, and one
// that neither the complete nor the delta CRL lists is accepted.
func TestCertDeltaCRL(t *testing.T) {
	step := certSteps(t)
	e := newCertEnv(t, crltest.RSA2048)
	issue := func(cn string) *crltest.Identity {
		id, err := e.pki.Root.Leaf(cn, crltest.Options{Key: e.key, NotBefore: e.now.AddDate(0, 0, -30), NotAfter: e.now.AddDate(1, 0, 0),
			CRLURLs: []string{e.base + "/" + cn + "-base.crl"}, FreshestURLs: []string{e.base + "/" + cn + "-delta.crl"}})
		if err != nil {
			t.Fatal(err)
		}
		return id
	}
	revoked, clean := issue("delta-revoked"), issue("delta-clean")
	rv := revokeAt(e, revoked, 30*time.Minute, 4) // superseded
	publish := func(cn string, entries []crltest.Revoked) {
		e.dp.Set("/"+cn+"-base.crl", mustCRL(e.pki.Root.CRL(crltest.CRLOptions{ThisUpdate: e.now.Add(-24 * time.Hour),
			NextUpdate: e.now.Add(6 * 24 * time.Hour), Number: 5})))
		e.dp.Set("/"+cn+"-delta.crl", mustCRL(e.pki.Root.CRL(crltest.CRLOptions{ThisUpdate: e.now.Add(-time.Hour),
			NextUpdate: e.now.Add(24 * time.Hour), Number: 6, DeltaOf: 5, Revoked: entries})))
	}
	publish("delta-revoked", []crltest.Revoked{rv})
	publish("delta-clean", nil)
	d := startDaemon(t, e.l, daemonConfig{Users: []user{{Name: labUser, Password: labPassword}}, Extra: e.extra(certServer{mode: 2})})
	step("l2tpsecd ready (strong_crl_check 2)")
	cs := e.l.NewClients(t,
		lab.ClientConfig{Cert: e.clientCert(t, "delta-revoked", revoked), User: labUser, Password: labPassword},
		lab.ClientConfig{Cert: e.clientCert(t, "delta-clean", clean), User: labUser, Password: labPassword})
	step("guests booted")
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	errs := certConnectAll(ctx, t, cs)
	step("connections done")
	rec := checkVerdict(t, d, cs[0], "delta-revoked", 2, refused("revoked"), errs[0])
	t.Logf("delta-revoked: %s %s %s", rec.Event, rec.Reason, rec.Detail)
	if rec.Reason == "revoked" {
		checkRevocation(t, "delta-revoked", rec, rv, "delta-revoked-delta.crl")
	}
	checkVerdict(t, d, cs[1], "delta-clean", 2, accepted("ok"), errs[1])
	for _, p := range []string{"/delta-revoked-delta.crl", "/delta-clean-delta.crl"} {
		if e.dp.Hits(p) == 0 {
			t.Errorf("the delta CRL %s was never fetched", p)
		}
	}
}
