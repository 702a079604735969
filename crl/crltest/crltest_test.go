package crltest

import (
	"crypto/x509"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestPKI(t *testing.T) {
	now := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	for _, kt := range []KeyType{ECDSAP256, ECDSAP384, RSA2048} {
		root, err := NewRoot("Root "+kt.String(), Options{Key: kt, NotBefore: now.AddDate(-1, 0, 0)})
		if err != nil {
			t.Fatal(err)
		}
		inter, err := root.Intermediate("Inter", Options{Key: kt, NotBefore: now.AddDate(-1, 0, 0), CRLURLs: []string{"http://127.0.0.1/root.crl"}})
		if err != nil {
			t.Fatal(err)
		}
		leaf, err := inter.Leaf("user", Options{Key: kt, NotBefore: now, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}})
		if err != nil {
			t.Fatal(err)
		}
		roots, inters := x509.NewCertPool(), x509.NewCertPool()
		roots.AddCert(root.Cert)
		inters.AddCert(inter.Cert)
		if _, err := leaf.Cert.Verify(x509.VerifyOptions{Roots: roots, Intermediates: inters, CurrentTime: now.Add(time.Hour),
			KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}}); err != nil {
			t.Errorf("%s: chain does not verify: %v", kt, err)
		}
		if leaf.Cert.IsCA || !inter.Cert.IsCA || inter.Cert.CRLDistributionPoints[0] != "http://127.0.0.1/root.crl" {
			t.Errorf("%s: CA flags or DPs wrong", kt)
		}
		if _, err := leaf.Leaf("x", Options{}); err != ErrNotCA {
			t.Errorf("a leaf issued: %v", err)
		}
		der, err := inter.CRL(CRLOptions{ThisUpdate: now, Revoked: []Revoked{Revoke(leaf, now, 1)}})
		if err != nil {
			t.Fatal(err)
		}
		l, err := x509.ParseRevocationList(der)
		if err != nil || l.CheckSignatureFrom(inter.Cert) != nil || len(l.RevokedCertificateEntries) != 1 ||
			l.RevokedCertificateEntries[0].SerialNumber.Cmp(leaf.Cert.SerialNumber) != 0 || !l.NextUpdate.Equal(now.Add(24*time.Hour)) {
			t.Errorf("%s: CRL wrong: %v", kt, err)
		}
		if leaf.Cert.SerialNumber.Cmp(inter.Cert.SerialNumber) == 0 {
			t.Errorf("%s: serials repeat", kt)
		}
	}
}

func TestWriteFiles(t *testing.T) {
	dir := t.TempDir()
	root, _ := NewRoot("W", Options{})
	c, k, err := root.WriteFiles(dir, "root")
	if err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(k); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("key file mode: %v %v", fi.Mode(), err)
	}
	data, _ := os.ReadFile(c)
	if string(data) != string(root.CertPEM()) {
		t.Error("certificate file differs from CertPEM")
	}
	der, _ := root.CRL(CRLOptions{})
	p := filepath.Join(dir, "root.crl")
	if err := WriteCRL(p, der, true); err != nil {
		t.Fatal(err)
	}
	if data, _ := os.ReadFile(p); string(data) != string(CRLPEM(der)) {
		t.Error("PEM CRL file differs")
	}
}

func TestDistributionPoint(t *testing.T) {
	dp := NewDistributionPoint()
	srv := httptest.NewServer(dp)
	defer srv.Close()
	defer dp.Release()
	dp.Set("/a", []byte("crl"))
	dp.SetStatus("/b", http.StatusNotFound)
	get := func(path string) (int, string) {
		resp, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if c, b := get("/a"); c != 200 || b != "crl" {
		t.Errorf("/a: %d %q", c, b)
	}
	if c, _ := get("/b"); c != 404 {
		t.Errorf("/b: %d", c)
	}
	if c, _ := get("/unknown"); c != 404 {
		t.Errorf("/unknown: %d", c)
	}
	dp.SetHang("/h")
	done := make(chan int)
	go func() { c, _ := get("/h"); done <- c }()
	if p := <-dp.Arrived(); p != "/a" {
		t.Errorf("first arrival %q", p)
	}
	for p := range dp.Arrived() {
		if p == "/h" {
			break
		}
	}
	dp.Set("/h", []byte("late"))
	dp.Release()
	if c := <-done; c != 200 {
		t.Errorf("released request: %d", c)
	}
	if dp.Hits("/a") != 1 || dp.Hits("/h") != 1 {
		t.Errorf("hits %d %d", dp.Hits("/a"), dp.Hits("/h"))
	}
}
