package crl

import (
	"bytes"
	"crypto/x509"
	"encoding/asn1"
	"errors"
	"math/big"
	"testing"
	"time"

	"github.com/l2tpsecd/l2tpsecd/crl/crltest"
)

// Round trip: CRLs made by crltest parse back with every entry, reason code
// and revocation date, the delta flags, and the same DER; PEM and DER give
// the same CRL.
func TestCRLRoundTrip(t *testing.T) {
	ca := must(crltest.NewRoot("RT CA", crltest.Options{NotBefore: t0.AddDate(-1, 0, 0)}))
	var entries []crltest.Revoked
	for i := range 40 {
		entries = append(entries, crltest.Revoked{
			Serial: new(big.Int).Lsh(big.NewInt(int64(i+1)), uint(i*3)), // up to ~120-bit serials
			Time:   t0.Add(-time.Duration(i) * time.Hour), Reason: []int{0, 1, 2, 3, 4, 5, 6, 9, 10}[i%9],
		})
	}
	for _, o := range []crltest.CRLOptions{
		{ThisUpdate: t0, NextUpdate: t0.Add(time.Hour), Revoked: entries, Number: 7},
		{ThisUpdate: t0, NextUpdate: t0.Add(time.Hour), Number: 8, DeltaOf: 7, Revoked: entries[:3]},
		{ThisUpdate: t0, NextUpdate: t0.Add(time.Hour), Number: 9, FreshestURL: "http://127.0.0.1/delta.crl"},
	} {
		der, err := ca.CRL(o)
		if err != nil {
			t.Fatal(err)
		}
		for _, data := range [][]byte{der, crltest.CRLPEM(der), append([]byte("\r\n\n"), crltest.CRLPEM(der)...)} {
			c, err := ParseCRL(data, "rt")
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(c.List.Raw, der) || c.Delta != (o.DeltaOf > 0) || c.AnnouncesDelta != (o.FreshestURL != "") {
				t.Fatalf("round trip of %+v: delta %v announces %v", o, c.Delta, c.AnnouncesDelta)
			}
			if !c.List.ThisUpdate.Equal(o.ThisUpdate) || !c.List.NextUpdate.Equal(o.NextUpdate) || c.List.Number.Int64() != o.Number {
				t.Fatalf("dates/number: %v %v %v", c.List.ThisUpdate, c.List.NextUpdate, c.List.Number)
			}
			for _, e := range o.Revoked {
				got, ok := c.Lookup(e.Serial)
				if !ok || !got.RevocationTime.Equal(e.Time) || got.ReasonCode != e.Reason {
					t.Fatalf("entry %v: %+v %v", e.Serial, got, ok)
				}
			}
			if _, ok := c.Lookup(big.NewInt(123456789)); ok {
				t.Fatal("lookup of an absent serial succeeded")
			}
			if _, ok := c.Lookup(nil); ok {
				t.Fatal("lookup of nil succeeded")
			}
			if len(c.bySerial) != len(o.Revoked) {
				t.Fatalf("index has %d entries, want %d", len(c.bySerial), len(o.Revoked))
			}
		}
	}
}

// removeFromCRL entries (delta CRLs) are not revocations.
func TestRemoveFromCRLIsNotRevoked(t *testing.T) {
	ca := must(crltest.NewRoot("RF CA", crltest.Options{NotBefore: t0.AddDate(-1, 0, 0)}))
	der := must(ca.CRL(crltest.CRLOptions{ThisUpdate: t0, DeltaOf: 1, Number: 2,
		Revoked: []crltest.Revoked{{Serial: big.NewInt(5), Time: t0, Reason: int(ReasonCodeRemoveFromCRL)}}}))
	c := must(ParseCRL(der, "rf"))
	if _, ok := c.Lookup(big.NewInt(5)); ok {
		t.Fatal("removeFromCRL counted as revoked")
	}
}

func TestIssuedBy(t *testing.T) {
	root := must(crltest.NewRoot("IB CA", crltest.Options{NotBefore: t0.AddDate(-1, 0, 0)}))
	impostor := must(crltest.NewRoot("IB CA", crltest.Options{NotBefore: t0.AddDate(-1, 0, 0)}))
	other := must(crltest.NewRoot("IB Other", crltest.Options{NotBefore: t0.AddDate(-1, 0, 0)}))
	noCRLSign := must(crltest.NewRoot("IB CA", crltest.Options{NotBefore: t0.AddDate(-1, 0, 0), KeyUsage: x509.KeyUsageCertSign}))
	c := must(ParseCRL(must(root.CRL(crltest.CRLOptions{ThisUpdate: t0})), "ib"))
	cases := []struct {
		issuer *crltest.Identity
		want   Situation
	}{{root, SituationIssuerCRL}, {impostor, SituationBadSignature}, {other, SituationIssuerMismatch}, {noCRLSign, SituationBadSignature}}
	for i := 0; i < 2; i++ { // the second pass uses the remembered results
		for _, tc := range cases {
			if got := c.IssuedBy(tc.issuer.Cert); got != tc.want {
				t.Errorf("IssuedBy(%s) = %s, want %s", tc.issuer.Cert.Subject, got, tc.want)
			}
		}
	}
	if !c.verified() {
		t.Error("verified() false after a good signature check")
	}
}

func TestParseErrors(t *testing.T) {
	for _, in := range [][]byte{nil, []byte("x"), []byte("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"), {0x30, 0x03, 0x02, 0x01, 0x01}} {
		if _, err := ParseCRL(in, "bad"); !errors.Is(err, ErrNotCRL) {
			t.Errorf("ParseCRL(%q) = %v, want ErrNotCRL", in, err)
		}
	}
	if _, err := ParseCertificates(nil); !errors.Is(err, ErrNoCertificates) {
		t.Errorf("ParseCertificates(nil) = %v", err)
	}
}

func FuzzParseCRL(f *testing.F) {
	ca := must(crltest.NewRoot("Fuzz CA", crltest.Options{NotBefore: t0.AddDate(-1, 0, 0)}))
	der := must(ca.CRL(crltest.CRLOptions{ThisUpdate: t0, Revoked: []crltest.Revoked{{Serial: big.NewInt(3), Time: t0, Reason: 1}}, FreshestURL: "http://127.0.0.1/d"}))
	delta := must(ca.CRL(crltest.CRLOptions{ThisUpdate: t0, DeltaOf: 1, Number: 2}))
	f.Add(der)
	f.Add(delta)
	f.Add(crltest.CRLPEM(der))
	f.Add([]byte("-----BEGIN X509 CRL-----\n-----END X509 CRL-----\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := ParseCRL(data, "fuzz")
		if err != nil {
			if !errors.Is(err, ErrNotCRL) {
				t.Fatalf("error %v does not wrap ErrNotCRL", err)
			}
			return
		}
		for _, e := range c.List.RevokedCertificateEntries {
			c.Lookup(e.SerialNumber)
		}
		c.IssuedBy(ca.Cert)
		FreshnessAt(t0, c.List.ThisUpdate, c.List.NextUpdate)
	})
}

func FuzzParseCertificates(f *testing.F) {
	ca := must(crltest.NewRoot("Fuzz CA", crltest.Options{NotBefore: t0.AddDate(-1, 0, 0)}))
	leaf := must(ca.Leaf("fuzz", crltest.Options{NotBefore: t0, CRLURLs: []string{"http://127.0.0.1/x.crl"}}))
	f.Add(leaf.Cert.Raw)
	f.Add(crltest.ChainPEM(leaf, ca))
	f.Fuzz(func(t *testing.T, data []byte) {
		certs, err := ParseCertificates(data)
		if err == nil && len(certs) == 0 {
			t.Fatal("no error and no certificate")
		}
	})
}

// Negative and very long serials (seen from broken CAs) are found too, and
// are not confused with their absolute values.
func TestLookupOddSerials(t *testing.T) {
	ca := must(crltest.NewRoot("Odd CA", crltest.Options{NotBefore: t0.AddDate(-1, 0, 0)}))
	long := new(big.Int).Lsh(big.NewInt(1), 600)
	der, err := ca.CRL(crltest.CRLOptions{ThisUpdate: t0, Revoked: []crltest.Revoked{{Serial: big.NewInt(-5), Time: t0}, {Serial: long, Time: t0}}})
	if err != nil {
		t.Skipf("crypto/x509 refuses such serials: %v", err)
	}
	c := must(ParseCRL(der, "odd"))
	for _, tc := range []struct {
		n    *big.Int
		want bool
	}{{big.NewInt(-5), true}, {big.NewInt(5), false}, {long, true}, {new(big.Int).Neg(long), false}} {
		if _, ok := c.Lookup(tc.n); ok != tc.want {
			t.Errorf("Lookup(%v) = %v, want %v", tc.n, ok, tc.want)
		}
	}
}

func TestParseDPURLs(t *testing.T) {
	ca := must(crltest.NewRoot("DP CA", crltest.Options{NotBefore: t0.AddDate(-1, 0, 0)}))
	leaf := must(ca.Leaf("dp", crltest.Options{NotBefore: t0, FreshestURLs: []string{"http://127.0.0.1/a.crl", "file:///tmp/b.crl"}}))
	got := certDeltaURLs(leaf.Cert)
	if len(got) != 2 || got[0] != "http://127.0.0.1/a.crl" || got[1] != "file:///tmp/b.crl" {
		t.Fatalf("certDeltaURLs = %q", got)
	}
	// crypto/x509 parses CRLDistributionPoints with the same syntax: our
	// reader must agree with it on a certificate's CDP extension.
	leaf2 := must(ca.Leaf("dp2", crltest.Options{NotBefore: t0, CRLURLs: []string{"http://127.0.0.1/c.crl", "ldap://x/y"}}))
	for _, ext := range leaf2.Cert.Extensions {
		if ext.Id.Equal(asn1.ObjectIdentifier{2, 5, 29, 31}) {
			urls, err := parseDPURLs(ext.Value)
			if err != nil || len(urls) != 2 || urls[0] != leaf2.Cert.CRLDistributionPoints[0] || urls[1] != leaf2.Cert.CRLDistributionPoints[1] {
				t.Fatalf("parseDPURLs(CDP) = %q, %v; crypto/x509 says %q", urls, err, leaf2.Cert.CRLDistributionPoints)
			}
		}
	}
	for _, bad := range [][]byte{nil, {0x30, 0x02, 0x04, 0x00}, {0x30, 0x04, 0x30, 0x02, 0xa0, 0x05}} {
		if _, err := parseDPURLs(bad); err == nil {
			t.Errorf("parseDPURLs(%x) accepted malformed input", bad)
		}
	}
}

func FuzzParseDPURLs(f *testing.F) {
	ca := must(crltest.NewRoot("DP CA", crltest.Options{NotBefore: t0.AddDate(-1, 0, 0), FreshestURLs: []string{"http://127.0.0.1/a.crl"}, CRLURLs: []string{"http://127.0.0.1/b.crl"}}))
	for _, ext := range ca.Cert.Extensions {
		f.Add(ext.Value)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		urls, err := parseDPURLs(data)
		if err != nil && urls != nil {
			t.Fatal("URLs returned with an error")
		}
	})
}
