package crl

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/l2tpsecd/l2tpsecd/crl/crltest"
	"github.com/l2tpsecd/l2tpsecd/internal/clock"
)

// t0 is the fake clock's start; certificates and CRLs are dated around it.
var t0 = time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)

// testPKI is a root CA, an intermediate, an untrusted CA, an impostor CA
// (same name as the root, other key) and a loopback distribution point.
type testPKI struct {
	t        *testing.T
	clk      *clock.Fake
	dp       *crltest.DistributionPoint
	srv      *httptest.Server
	deadURL  string // a loopback port nobody listens on
	root     *crltest.Identity
	inter    *crltest.Identity
	other    *crltest.Identity
	impostor *crltest.Identity
}

func newPKI(t *testing.T) *testPKI {
	t.Helper()
	p := &testPKI{t: t, clk: clock.NewFake(t0), dp: crltest.NewDistributionPoint()}
	p.srv = httptest.NewServer(p.dp)
	t.Cleanup(p.srv.Close)
	t.Cleanup(p.dp.Release)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p.deadURL = "http://" + l.Addr().String() + "/down.crl"
	l.Close()

	caOpts := crltest.Options{NotBefore: t0.AddDate(-1, 0, 0), NotAfter: t0.AddDate(5, 0, 0)}
	p.root = must(crltest.NewRoot("Test Root CA", caOpts))
	interOpts := caOpts
	interOpts.CRLURLs = []string{p.url("/root.crl")}
	p.inter = must(p.root.Intermediate("Test Intermediate CA", interOpts))
	p.other = must(crltest.NewRoot("Other CA", caOpts))
	p.impostor = must(crltest.NewRoot("Test Root CA", caOpts))
	return p
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

func (p *testPKI) url(path string) string { return p.srv.URL + path }

// leaf issues a user certificate valid around t0 with the given DPs.
func (p *testPKI) leaf(ca *crltest.Identity, cn string, dps ...string) *crltest.Identity {
	p.t.Helper()
	id, err := ca.Leaf(cn, crltest.Options{NotBefore: t0.Add(-24 * time.Hour), NotAfter: t0.AddDate(1, 0, 0),
		CRLURLs: dps, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}})
	if err != nil {
		p.t.Fatal(err)
	}
	return id
}

// crl issues a CRL current at t0 (valid one day) unless o says otherwise.
func (p *testPKI) crl(ca *crltest.Identity, o crltest.CRLOptions) []byte {
	p.t.Helper()
	if o.ThisUpdate.IsZero() {
		o.ThisUpdate = t0.Add(-time.Hour)
	}
	if o.NextUpdate.IsZero() {
		o.NextUpdate = o.ThisUpdate.Add(24 * time.Hour)
	}
	der, err := ca.CRL(o)
	if err != nil {
		p.t.Fatal(err)
	}
	return der
}

func (p *testPKI) checker(mode Mode, mod func(*Config)) *Checker {
	p.t.Helper()
	cfg := Config{Mode: mode, Roots: []*x509.Certificate{p.root.Cert}, Clock: p.clk}
	if mod != nil {
		mod(&cfg)
	}
	c, err := New(cfg)
	if err != nil {
		p.t.Fatal(err)
	}
	p.t.Cleanup(func() { c.Close() })
	return c
}

func verify(t *testing.T, c *Checker, leaf *crltest.Identity, inter ...*crltest.Identity) *Result {
	t.Helper()
	var ic []*x509.Certificate
	for _, i := range inter {
		ic = append(ic, i.Cert)
	}
	var lc *x509.Certificate
	if leaf != nil {
		lc = leaf.Cert
	}
	res, err := c.Verify(context.Background(), lc, ic)
	if res == nil {
		t.Fatal("Verify returned a nil Result")
	}
	if (err != nil) != (res.Outcome == Reject) {
		t.Fatalf("Verify: outcome %s with error %v", res.Outcome, err)
	}
	if err != nil {
		var re *RejectError
		if !errors.As(err, &re) || re.Reason != res.Reason || !errors.Is(err, res.Reason.Err()) {
			t.Fatalf("Verify error %v does not carry reason %s", err, res.Reason)
		}
	}
	return res
}

func expect(t *testing.T, what string, res *Result, o Outcome, r Reason) {
	t.Helper()
	if res.Outcome != o || res.Reason != r {
		t.Errorf("%s: got %s/%s (%s), want %s/%s", what, res.Outcome, res.Reason, res.Detail, o, r)
	}
}

// The table, end to end: modes 0/1/2 x CRL situations, with real
// certificates, CRLs and a loopback distribution point.
func TestRevocationTableEndToEnd(t *testing.T) {
	p := newPKI(t)
	other := p.leaf(p.other, "other-ca user") // same serial space, other issuer
	type row struct {
		name string
		// setup returns the leaf to verify, after arranging its DP.
		setup func(path string) *crltest.Identity
		want  [3]Reason // per mode; revoked and every non-ok reason of mode 2 reject
		rej   [3]bool
	}
	revokedAt := t0.Add(-3 * time.Hour)
	rows := []row{
		{"not revoked", func(path string) *crltest.Identity {
			p.dp.Set(path, p.crl(p.root, crltest.CRLOptions{}))
			return p.leaf(p.root, "alice", p.url(path))
		}, [3]Reason{ReasonOK, ReasonOK, ReasonOK}, [3]bool{}},
		{"revoked", func(path string) *crltest.Identity {
			l := p.leaf(p.root, "bob", p.url(path))
			p.dp.Set(path, p.crl(p.root, crltest.CRLOptions{Revoked: []crltest.Revoked{crltest.Revoke(l, revokedAt, 1)}}))
			return l
		}, [3]Reason{ReasonOK, ReasonRevoked, ReasonRevoked}, [3]bool{false, true, true}},
		{"revoked, CRL expired", func(path string) *crltest.Identity {
			l := p.leaf(p.root, "carol", p.url(path))
			p.dp.Set(path, crltest.CRLPEM(p.crl(p.root, crltest.CRLOptions{ThisUpdate: t0.Add(-48 * time.Hour), NextUpdate: t0.Add(-24 * time.Hour),
				Revoked: []crltest.Revoked{crltest.Revoke(l, revokedAt, 1)}})))
			return l
		}, [3]Reason{ReasonOK, ReasonRevoked, ReasonRevoked}, [3]bool{false, true, true}},
		{"DP unreachable", func(string) *crltest.Identity {
			return p.leaf(p.root, "dave", p.deadURL)
		}, [3]Reason{ReasonOK, ReasonCRLUnreachable, ReasonCRLUnreachable}, [3]bool{false, false, true}},
		{"DP answers 404", func(path string) *crltest.Identity {
			p.dp.SetStatus(path, http.StatusNotFound)
			return p.leaf(p.root, "erin", p.url(path))
		}, [3]Reason{ReasonOK, ReasonCRLUnreachable, ReasonCRLUnreachable}, [3]bool{false, false, true}},
		{"CRL from wrong issuer (listing the serial)", func(path string) *crltest.Identity {
			l := p.leaf(p.root, "frank", p.url(path))
			p.dp.Set(path, p.crl(p.other, crltest.CRLOptions{Revoked: []crltest.Revoked{crltest.Revoke(l, revokedAt, 1), crltest.Revoke(other, revokedAt, 1)}}))
			return l
		}, [3]Reason{ReasonOK, ReasonCRLIssuerMismatch, ReasonCRLIssuerMismatch}, [3]bool{false, false, true}},
		{"CRL with bad signature (listing the serial)", func(path string) *crltest.Identity {
			l := p.leaf(p.root, "grace", p.url(path))
			p.dp.Set(path, p.crl(p.impostor, crltest.CRLOptions{Revoked: []crltest.Revoked{crltest.Revoke(l, revokedAt, 1)}}))
			return l
		}, [3]Reason{ReasonOK, ReasonCRLBadSignature, ReasonCRLBadSignature}, [3]bool{false, false, true}},
		{"CRL expired", func(path string) *crltest.Identity {
			p.dp.Set(path, p.crl(p.root, crltest.CRLOptions{ThisUpdate: t0.Add(-48 * time.Hour), NextUpdate: t0.Add(-time.Second)}))
			return p.leaf(p.root, "heidi", p.url(path))
		}, [3]Reason{ReasonOK, ReasonCRLExpired, ReasonCRLExpired}, [3]bool{false, false, true}},
		{"CRL not yet valid", func(path string) *crltest.Identity {
			p.dp.Set(path, p.crl(p.root, crltest.CRLOptions{ThisUpdate: t0.Add(time.Hour)}))
			return p.leaf(p.root, "ivan", p.url(path))
		}, [3]Reason{ReasonOK, ReasonCRLNotYetValid, ReasonCRLNotYetValid}, [3]bool{false, false, true}},
		{"no DP", func(string) *crltest.Identity {
			return p.leaf(p.root, "judy")
		}, [3]Reason{ReasonOK, ReasonCRLNoSource, ReasonCRLNoSource}, [3]bool{false, false, true}},
		{"ldap DP only", func(string) *crltest.Identity {
			return p.leaf(p.root, "ken", "ldap://ldap.example/cn=Test%20Root%20CA?certificateRevocationList")
		}, [3]Reason{ReasonOK, ReasonCRLUnsupportedScheme, ReasonCRLUnsupportedScheme}, [3]bool{false, false, true}},
		{"DP serves garbage", func(path string) *crltest.Identity {
			p.dp.Set(path, []byte("<html>not a CRL</html>"))
			return p.leaf(p.root, "leo", p.url(path))
		}, [3]Reason{ReasonOK, ReasonCRLMalformed, ReasonCRLMalformed}, [3]bool{false, false, true}},
		{"delta CRL only", func(path string) *crltest.Identity {
			p.dp.Set(path, p.crl(p.root, crltest.CRLOptions{Number: 5, DeltaOf: 4}))
			return p.leaf(p.root, "mallory", p.url(path))
		}, [3]Reason{ReasonOK, ReasonCRLDeltaWithoutBase, ReasonCRLDeltaWithoutBase}, [3]bool{false, false, true}},
		{"revoked by a delta CRL", func(path string) *crltest.Identity {
			l := p.leaf(p.root, "niaj", p.url(path))
			p.dp.Set(path, p.crl(p.root, crltest.CRLOptions{Number: 5, DeltaOf: 4, Revoked: []crltest.Revoked{crltest.Revoke(l, revokedAt, 4)}}))
			return l
		}, [3]Reason{ReasonOK, ReasonRevoked, ReasonRevoked}, [3]bool{false, true, true}},
		{"one DP down, the next good", func(path string) *crltest.Identity {
			p.dp.Set(path, p.crl(p.root, crltest.CRLOptions{}))
			return p.leaf(p.root, "olivia", p.deadURL, p.url(path))
		}, [3]Reason{ReasonOK, ReasonOK, ReasonOK}, [3]bool{}},
	}
	for i, r := range rows {
		path := "/table/" + string(rune('a'+i)) + ".crl"
		leaf := r.setup(path)
		for mode := ModeOff; mode <= ModeStrict; mode++ {
			c := p.checker(mode, nil)
			res := verify(t, c, leaf)
			o := Accept
			if r.rej[mode] {
				o = Reject
			}
			expect(t, r.name+", mode "+mode.String(), res, o, r.want[mode])
			if mode == ModeOff && len(res.Checks) != 0 {
				t.Errorf("%s: mode 0 checked revocation", r.name)
			}
			if mode != ModeOff && len(res.Checks) != 1 {
				t.Errorf("%s, mode %s: %d checks, want 1 (leaf only; the root is not checked)", r.name, mode, len(res.Checks))
			}
			if res.Reason == ReasonRevoked {
				rv := res.Revocation
				if rv == nil || !rv.Time.Equal(revokedAt) || rv.Serial.Cmp(leaf.Cert.SerialNumber) != 0 || rv.CRL != p.url(path) {
					t.Errorf("%s: revocation %+v", r.name, rv)
				}
			}
		}
	}
	if got := p.dp.Hits("/table/a.crl"); got != 2 {
		t.Errorf("each mode-1/2 checker fetched the good CRL once: %d hits, want 2", got)
	}
}

func TestRevocationDetails(t *testing.T) {
	p := newPKI(t)
	l := p.leaf(p.root, "victor", p.url("/v.crl"))
	p.dp.Set("/v.crl", p.crl(p.root, crltest.CRLOptions{ThisUpdate: t0.Add(-48 * time.Hour), NextUpdate: t0.Add(-24 * time.Hour),
		Revoked: []crltest.Revoked{crltest.Revoke(l, t0.Add(-30*time.Hour), int(ReasonCodeKeyCompromise))}}))
	res := verify(t, p.checker(ModeRevokedOnly, nil), l)
	expect(t, "revoked in expired CRL", res, Reject, ReasonRevoked)
	rv := res.Revocation
	if rv == nil || rv.ReasonCode != ReasonCodeKeyCompromise || rv.CRLFreshness != Expired || rv.Subject != "CN=victor" {
		t.Fatalf("revocation = %+v", rv)
	}
	if !strings.Contains(res.Detail, "keyCompromise") || !strings.Contains(res.Detail, "/v.crl") {
		t.Errorf("detail %q lacks the reason code or CRL", res.Detail)
	}
	attrs := res.LogValue().Group()
	var sawRev bool
	for _, a := range attrs {
		if a.Key == "revocation" {
			sawRev = true
		}
	}
	if !sawRev {
		t.Errorf("LogValue lacks the revocation group: %v", attrs)
	}
}

// Delta CRLs (RFC 5280 5.2.4): announced by the complete CRL's or the
// certificate's Freshest CRL extension, applied when their base number
// fits; a delta that cannot be applied is tolerated in mode 1 and fatal in
// mode 2.
func TestDeltaCRLs(t *testing.T) {
	p := newPKI(t)
	day := 24 * time.Hour
	type row struct {
		name  string
		setup func(dir string) (*crltest.Identity, []crltest.Revoked)
		want  [2]Reason // modes 1, 2
	}
	hold := func(l *crltest.Identity) crltest.Revoked {
		return crltest.Revoke(l, t0.Add(-2*time.Hour), int(ReasonCodeCertificateHold))
	}
	// base sets dir/b.crl (number 10, announcing dir/d.crl) listing base;
	// delta sets dir/d.crl (number 11 on base 10) listing delta.
	base := func(dir string, o crltest.CRLOptions) {
		o.Number = 10
		if o.FreshestURL == "" {
			o.FreshestURL = p.url(dir + "/d.crl")
		}
		p.dp.Set(dir+"/b.crl", p.crl(p.root, o))
	}
	delta := func(dir string, ca *crltest.Identity, o crltest.CRLOptions) {
		o.Number = 11
		if o.DeltaOf == 0 {
			o.DeltaOf = 10
		}
		p.dp.Set(dir+"/d.crl", p.crl(ca, o))
	}
	rows := []row{
		{"delta lists it", func(dir string) (*crltest.Identity, []crltest.Revoked) {
			l := p.leaf(p.root, "d1", p.url(dir+"/b.crl"))
			base(dir, crltest.CRLOptions{})
			r := crltest.Revoke(l, t0.Add(-time.Hour), int(ReasonCodeKeyCompromise))
			delta(dir, p.root, crltest.CRLOptions{Revoked: []crltest.Revoked{r}})
			return l, []crltest.Revoked{r}
		}, [2]Reason{ReasonRevoked, ReasonRevoked}},
		{"listed in neither", func(dir string) (*crltest.Identity, []crltest.Revoked) {
			l := p.leaf(p.root, "d2", p.url(dir+"/b.crl"))
			base(dir, crltest.CRLOptions{})
			delta(dir, p.root, crltest.CRLOptions{})
			return l, nil
		}, [2]Reason{ReasonOK, ReasonOK}},
		{"hold in the base, released by the delta", func(dir string) (*crltest.Identity, []crltest.Revoked) {
			l := p.leaf(p.root, "d3", p.url(dir+"/b.crl"))
			base(dir, crltest.CRLOptions{Revoked: []crltest.Revoked{hold(l)}})
			delta(dir, p.root, crltest.CRLOptions{Revoked: []crltest.Revoked{crltest.Revoke(l, t0.Add(-time.Hour), int(ReasonCodeRemoveFromCRL))}})
			return l, nil
		}, [2]Reason{ReasonOK, ReasonOK}},
		{"base expired, delta current", func(dir string) (*crltest.Identity, []crltest.Revoked) {
			l := p.leaf(p.root, "d4", p.url(dir+"/b.crl"))
			base(dir, crltest.CRLOptions{ThisUpdate: t0.Add(-7 * day), NextUpdate: t0.Add(-time.Hour)})
			delta(dir, p.root, crltest.CRLOptions{})
			return l, nil
		}, [2]Reason{ReasonOK, ReasonOK}},
		{"delta unreachable", func(dir string) (*crltest.Identity, []crltest.Revoked) {
			l := p.leaf(p.root, "d5", p.url(dir+"/b.crl"))
			base(dir, crltest.CRLOptions{})
			p.dp.SetStatus(dir+"/d.crl", http.StatusNotFound)
			return l, nil
		}, [2]Reason{ReasonCRLUnreachable, ReasonCRLUnreachable}},
		{"delta unreachable, listed in the base", func(dir string) (*crltest.Identity, []crltest.Revoked) {
			l := p.leaf(p.root, "d6", p.url(dir+"/b.crl"))
			r := hold(l)
			base(dir, crltest.CRLOptions{Revoked: []crltest.Revoked{r}})
			p.dp.SetStatus(dir+"/d.crl", http.StatusNotFound)
			return l, []crltest.Revoked{r}
		}, [2]Reason{ReasonRevoked, ReasonRevoked}},
		{"delta from another CA", func(dir string) (*crltest.Identity, []crltest.Revoked) {
			l := p.leaf(p.root, "d7", p.url(dir+"/b.crl"))
			base(dir, crltest.CRLOptions{})
			delta(dir, p.other, crltest.CRLOptions{Revoked: []crltest.Revoked{crltest.Revoke(l, t0, 1)}})
			return l, nil
		}, [2]Reason{ReasonCRLIssuerMismatch, ReasonCRLIssuerMismatch}},
		{"delta on a newer base", func(dir string) (*crltest.Identity, []crltest.Revoked) {
			l := p.leaf(p.root, "d8", p.url(dir+"/b.crl"))
			base(dir, crltest.CRLOptions{})
			delta(dir, p.root, crltest.CRLOptions{DeltaOf: 12})
			return l, nil
		}, [2]Reason{ReasonCRLBaseTooOld, ReasonCRLBaseTooOld}},
		{"delta expired", func(dir string) (*crltest.Identity, []crltest.Revoked) {
			l := p.leaf(p.root, "d9", p.url(dir+"/b.crl"))
			base(dir, crltest.CRLOptions{})
			delta(dir, p.root, crltest.CRLOptions{ThisUpdate: t0.Add(-2 * day), NextUpdate: t0.Add(-day)})
			return l, nil
		}, [2]Reason{ReasonCRLExpired, ReasonCRLExpired}},
		{"delta announced by the certificate", func(dir string) (*crltest.Identity, []crltest.Revoked) {
			l := must(p.root.Leaf("d10", crltest.Options{NotBefore: t0.Add(-day), CRLURLs: []string{p.url(dir + "/b.crl")},
				FreshestURLs: []string{"ldap://ldap.example/delta", p.url(dir + "/d.crl")}}))
			p.dp.Set(dir+"/b.crl", p.crl(p.root, crltest.CRLOptions{Number: 10}))
			r := crltest.Revoke(l, t0.Add(-time.Hour), 1)
			delta(dir, p.root, crltest.CRLOptions{Revoked: []crltest.Revoked{r}})
			return l, []crltest.Revoked{r}
		}, [2]Reason{ReasonRevoked, ReasonRevoked}},
	}
	for i, r := range rows {
		dir := fmt.Sprintf("/delta%d", i)
		leaf, revoked := r.setup(dir)
		for mi, mode := range []Mode{ModeRevokedOnly, ModeStrict} {
			res := verify(t, p.checker(mode, nil), leaf)
			want := r.want[mi]
			o := Accept
			if want == ReasonRevoked || (mode == ModeStrict && want != ReasonOK) {
				o = Reject
			}
			expect(t, r.name+", mode "+mode.String(), res, o, want)
			if want == ReasonRevoked && (res.Revocation == nil || !res.Revocation.Time.Equal(revoked[0].Time) || int(res.Revocation.ReasonCode) != revoked[0].Reason) {
				t.Errorf("%s: revocation %+v, want %+v", r.name, res.Revocation, revoked[0])
			}
			if want == ReasonOK && res.Checks[0].DeltaCRL != p.url(dir+"/d.crl") {
				t.Errorf("%s: delta CRL applied = %q", r.name, res.Checks[0].DeltaCRL)
			}
		}
	}
}

func TestChainThroughIntermediate(t *testing.T) {
	p := newPKI(t)
	p.dp.Set("/root.crl", p.crl(p.root, crltest.CRLOptions{}))
	p.dp.Set("/inter.crl", p.crl(p.inter, crltest.CRLOptions{}))
	leaf := p.leaf(p.inter, "yvonne", p.url("/inter.crl"))

	res := verify(t, p.checker(ModeStrict, nil), leaf, p.inter)
	expect(t, "intermediate sent by the client", res, Accept, ReasonOK)
	if len(res.Chain) != 3 || len(res.Checks) != 2 || res.Checks[1].Subject != "CN=Test Intermediate CA" {
		t.Fatalf("chain %d certs, checks %+v", len(res.Chain), res.Checks)
	}

	c := p.checker(ModeStrict, func(cfg *Config) { cfg.Intermediates = []*x509.Certificate{p.inter.Cert} })
	expect(t, "intermediate configured", verify(t, c, leaf), Accept, ReasonOK)

	expect(t, "intermediate missing", verify(t, p.checker(ModeStrict, nil), leaf), Reject, ReasonUntrustedIssuer)

	// The root revokes the intermediate: the leaf is refused for it.
	io := crltest.Options{NotBefore: t0.AddDate(-1, 0, 0), NotAfter: t0.AddDate(5, 0, 0), CRLURLs: []string{p.url("/root2.crl")}}
	inter2 := must(p.root.Intermediate("Revoked Intermediate CA", io))
	p.dp.Set("/root2.crl", p.crl(p.root, crltest.CRLOptions{Revoked: []crltest.Revoked{crltest.Revoke(inter2, t0.Add(-time.Hour), int(ReasonCodeCACompromise))}}))
	p.dp.Set("/inter2.crl", p.crl(inter2, crltest.CRLOptions{}))
	leaf2 := p.leaf(inter2, "zoe", p.url("/inter2.crl"))
	res = verify(t, p.checker(ModeRevokedOnly, nil), leaf2, inter2)
	expect(t, "intermediate revoked by the root", res, Reject, ReasonRevoked)
	if res.Revocation == nil || res.Revocation.Subject != "CN=Revoked Intermediate CA" || res.Revocation.ReasonCode != ReasonCodeCACompromise {
		t.Errorf("revocation = %+v", res.Revocation)
	}
	if res.Checks[0].Reason != ReasonOK {
		t.Errorf("the leaf itself is not revoked: %+v", res.Checks[0])
	}
}

func TestChainFailures(t *testing.T) {
	p := newPKI(t)
	c := p.checker(ModeOff, nil)
	dated := func(nb, na time.Time) *crltest.Identity {
		return must(p.root.Leaf("dated", crltest.Options{NotBefore: nb, NotAfter: na}))
	}
	expect(t, "no certificate", verify(t, c, nil), Reject, ReasonNoCertificate)
	expect(t, "untrusted CA", verify(t, c, p.leaf(p.other, "u")), Reject, ReasonUntrustedIssuer)
	expect(t, "expired", verify(t, c, dated(t0.AddDate(-2, 0, 0), t0.Add(-time.Second))), Reject, ReasonCertExpired)
	expect(t, "not yet valid", verify(t, c, dated(t0.Add(time.Hour), t0.AddDate(1, 0, 0))), Reject, ReasonCertNotYetValid)
	expect(t, "forged signature", verify(t, c, p.leaf(p.impostor, "forged")), Reject, ReasonCertBadSignature)
	// The client sends the impostor CA itself: the leaf is signed by a CA
	// of that name, which is just not trusted.
	expect(t, "impostor CA sent along", verify(t, c, p.leaf(p.impostor, "forged"), p.impostor), Reject, ReasonUntrustedIssuer)

	expiredInter := must(p.root.Intermediate("Old CA", crltest.Options{NotBefore: t0.AddDate(-3, 0, 0), NotAfter: t0.AddDate(-1, 0, 0)}))
	l := must(expiredInter.Leaf("old", crltest.Options{NotBefore: t0.AddDate(-2, 0, 0), NotAfter: t0.AddDate(1, 0, 0)}))
	expect(t, "expired intermediate", verify(t, c, l, expiredInter), Reject, ReasonCertExpired)

	ke := must(p.root.Leaf("encipher-only", crltest.Options{NotBefore: t0.Add(-time.Hour), KeyUsage: x509.KeyUsageKeyEncipherment}))
	expect(t, "key usage without digitalSignature", verify(t, c, ke), Reject, ReasonCertInvalid)

	// User certificates with clientAuth only, with no EKU, and with
	// serverAuth only are all accepted (ExtKeyUsageAny).
	for _, eku := range [][]x509.ExtKeyUsage{nil, {x509.ExtKeyUsageClientAuth}, {x509.ExtKeyUsageServerAuth}, {x509.ExtKeyUsageEmailProtection}} {
		u := must(p.root.Leaf("user", crltest.Options{NotBefore: t0.Add(-time.Hour), ExtKeyUsage: eku}))
		expect(t, "EKU variant", verify(t, c, u), Accept, ReasonOK)
	}
	// An intermediate that is not a CA cannot issue.
	notCA := must(p.root.Leaf("Not A CA", crltest.Options{NotBefore: t0.Add(-time.Hour), KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature}))
	notCA.Cert.IsCA = true // let crltest sign with it; the certificate itself says CA:FALSE
	fake := must(notCA.Leaf("under-a-leaf", crltest.Options{NotBefore: t0.Add(-time.Hour)}))
	notCA.Cert.IsCA = false
	res := verify(t, c, fake, notCA)
	if res.Outcome != Reject || (res.Reason != ReasonCertInvalid && res.Reason != ReasonUntrustedIssuer) {
		t.Errorf("leaf under a non-CA: %s/%s", res.Outcome, res.Reason)
	}
}

func TestConfiguredCRLFiles(t *testing.T) {
	p := newPKI(t)
	dir := t.TempDir()
	l := p.leaf(p.root, "offline") // no DP: only the configured file covers it
	revoked := p.leaf(p.root, "offline-revoked")
	der := p.crl(p.root, crltest.CRLOptions{Revoked: []crltest.Revoked{crltest.Revoke(revoked, t0.Add(-time.Hour), 0)}})
	pemPath, derPath := filepath.Join(dir, "root.pem"), filepath.Join(dir, "root.der")
	if err := crltest.WriteCRL(pemPath, der, true); err != nil {
		t.Fatal(err)
	}
	if err := crltest.WriteCRL(derPath, der, false); err != nil {
		t.Fatal(err)
	}
	otherPath := filepath.Join(dir, "other.pem")
	if err := crltest.WriteCRL(otherPath, p.crl(p.other, crltest.CRLOptions{}), true); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{pemPath, derPath} {
		c := p.checker(ModeStrict, func(cfg *Config) { cfg.CRLFiles = []string{otherPath, path} })
		expect(t, "configured CRL "+filepath.Base(path), verify(t, c, l), Accept, ReasonOK)
		expect(t, "configured CRL lists it "+filepath.Base(path), verify(t, c, revoked), Reject, ReasonRevoked)
	}
	// file:// distribution point.
	fl := p.leaf(p.root, "file-dp", "file://"+derPath)
	expect(t, "file:// DP", verify(t, p.checker(ModeStrict, nil), fl), Accept, ReasonOK)
	fr := must(p.root.Leaf("file-dp-revoked", crltest.Options{NotBefore: t0.Add(-time.Hour), Serial: revoked.Cert.SerialNumber, CRLURLs: []string{"file://" + pemPath}}))
	expect(t, "file:// DP lists it", verify(t, p.checker(ModeStrict, nil), fr), Reject, ReasonRevoked)
	missing := p.leaf(p.root, "file-dp-missing", "file://"+filepath.Join(dir, "nope.crl"))
	expect(t, "file:// DP missing", verify(t, p.checker(ModeStrict, nil), missing), Reject, ReasonCRLUnreachable)

	if _, err := New(Config{Roots: []*x509.Certificate{p.root.Cert}, CRLFiles: []string{filepath.Join(dir, "nope.crl")}}); err == nil {
		t.Error("New accepted a missing CRL file")
	}
}

func TestNewValidates(t *testing.T) {
	p := newPKI(t)
	if _, err := New(Config{Mode: 3, Roots: []*x509.Certificate{p.root.Cert}}); !errors.Is(err, ErrBadMode) {
		t.Errorf("mode 3: %v", err)
	}
	if _, err := New(Config{Mode: 1}); !errors.Is(err, ErrNoRoots) {
		t.Errorf("no roots: %v", err)
	}
	c := p.checker(ModeRevokedOnly, nil)
	if subj := c.CASubjects(); len(subj) != 1 || string(subj[0]) != string(p.root.Cert.RawSubject) {
		t.Errorf("CASubjects = %x", subj)
	}
}

// The certificate files crltest writes load back.
func TestLoadCertificates(t *testing.T) {
	p := newPKI(t)
	dir := t.TempDir()
	leaf := p.leaf(p.inter, "bundle")
	path := filepath.Join(dir, "chain.pem")
	if err := os.WriteFile(path, crltest.ChainPEM(leaf, p.inter, p.root), 0o644); err != nil {
		t.Fatal(err)
	}
	certs, err := LoadCertificates(path)
	if err != nil || len(certs) != 3 || !certs[1].Equal(p.inter.Cert) {
		t.Fatalf("LoadCertificates: %d certs, %v", len(certs), err)
	}
	certPath, keyPath, err := leaf.WriteFiles(dir, "leaf")
	if err != nil {
		t.Fatal(err)
	}
	if certs, err := LoadCertificates(certPath); err != nil || !certs[0].Equal(leaf.Cert) {
		t.Fatalf("LoadCertificates(%s): %v", certPath, err)
	}
	if _, err := LoadCertificates(keyPath); !errors.Is(err, ErrNoCertificates) {
		t.Errorf("a key file: %v", err)
	}
	derPath := filepath.Join(dir, "leaf.der")
	os.WriteFile(derPath, leaf.Cert.Raw, 0o644)
	if certs, err := LoadCertificates(derPath); err != nil || len(certs) != 1 {
		t.Errorf("DER: %v", err)
	}
}

// VerifyChain has the shape of the IKE engine's CertVerifier, and OnResult
// sees every outcome, including mode 1's tolerated conditions.
func TestVerifyChainAndOnResult(t *testing.T) {
	p := newPKI(t)
	var seen []*Result
	c := p.checker(ModeRevokedOnly, func(cfg *Config) { cfg.OnResult = func(r *Result) { seen = append(seen, r) } })
	var v interface {
		VerifyChain(context.Context, *x509.Certificate, []*x509.Certificate) error
	} = c
	if err := v.VerifyChain(context.Background(), p.leaf(p.root, "vc", p.deadURL).Cert, nil); err != nil {
		t.Fatalf("mode 1, DP down: %v", err)
	}
	err := v.VerifyChain(context.Background(), p.leaf(p.other, "vc-untrusted").Cert, nil)
	var re *RejectError
	if !errors.As(err, &re) || re.Reason != ReasonUntrustedIssuer || re.Mode != ModeRevokedOnly || !errors.Is(err, ErrUntrustedIssuer) {
		t.Fatalf("untrusted: %v", err)
	}
	if len(seen) != 2 || seen[0].Reason != ReasonCRLUnreachable || seen[0].Outcome != Accept || seen[1].Reason != ReasonUntrustedIssuer {
		t.Fatalf("OnResult saw %d results: %+v", len(seen), seen)
	}
}

// Every read of a distribution point is reported to OnFetch (the daemon
// audits it): a good CRL with its contents, a failure with its result.
func TestOnFetchReportsEveryRead(t *testing.T) {
	p := newPKI(t)
	var mu sync.Mutex
	var events []FetchEvent
	c := p.checker(ModeRevokedOnly, func(cfg *Config) {
		cfg.OnFetch = func(e FetchEvent) { mu.Lock(); events = append(events, e); mu.Unlock() }
	})
	p.dp.Set("/good.crl", p.crl(p.root, crltest.CRLOptions{}))
	good := p.leaf(p.root, "fetch-good", p.url("/good.crl"))
	if _, err := c.Verify(context.Background(), good.Cert, nil); err != nil {
		t.Fatal(err)
	}
	p.dp.SetStatus("/missing.crl", http.StatusNotFound)
	bad := p.leaf(p.root, "fetch-bad", p.url("/missing.crl"))
	if _, err := c.Verify(context.Background(), bad.Cert, nil); err != nil {
		t.Fatal(err) // mode 1 assumes valid
	}
	mu.Lock()
	defer mu.Unlock()
	if len(events) != 2 {
		t.Fatalf("events %+v", events)
	}
	if e := events[0]; e.Result != FetchOK || e.CRL == nil || e.URL != p.url("/good.crl") || e.Source != SourceHTTP {
		t.Errorf("good fetch: %+v", e)
	}
	if e := events[1]; e.Result != FetchHTTPStatus || e.Err == nil || e.CRL != nil {
		t.Errorf("failed fetch: %+v", e)
	}
}
