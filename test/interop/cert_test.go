package interop

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"math/big"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/l2tpsecd/l2tpsecd/test/lab"
)

// TestLinuxReferenceCertificates checks the lab's certificate parameters
// (issue 5) against the Linux reference server: a strongSwan client with a
// user certificate from the server's CA connects (then MS-CHAPv2 for the
// user) and passes traffic; a client whose certificate comes from another CA
// is refused in IPsec.
func TestLinuxReferenceCertificates(t *testing.T) {
	dir := t.TempDir()
	ca := newCA(t, "lab root CA")
	other := newCA(t, "untrusted CA")
	srvCert, srvKey := ca.issue(t, dir, "server", "lab-reference", net.ParseIP("198.51.100.3"), x509.ExtKeyUsageServerAuth)
	goodCert, goodKey := ca.issue(t, dir, "alice", "alice", nil, x509.ExtKeyUsageClientAuth)
	badCert, badKey := other.issue(t, dir, "mallory", "mallory", nil, x509.ExtKeyUsageClientAuth)
	caFile := ca.write(t, dir, "ca")

	l := lab.New(t)
	srv := l.StartLinuxServer(t, lab.LinuxServerConfig{User: refUser, Password: refPassword,
		Cert: &lab.CertAuth{CertFile: srvCert, KeyFile: srvKey, CAFile: caFile}})
	cs := l.NewClients(t,
		lab.ClientConfig{Server: srv.Addr, Cert: &lab.CertAuth{CertFile: goodCert, KeyFile: goodKey, CAFile: caFile},
			User: refUser, Password: refPassword, Routes: []netip.Prefix{}},
		lab.ClientConfig{Server: srv.Addr, Cert: &lab.CertAuth{CertFile: badCert, KeyFile: badKey, CAFile: caFile},
			User: refUser, Password: refPassword, Routes: []netip.Prefix{}},
	)
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	if err := cs[0].Connect(ctx); err != nil {
		t.Fatalf("client with a certificate from the server's CA: %v", err)
	}
	if err := cs[0].Ping(ctx, srv.Local); err != nil {
		t.Fatalf("no traffic over the certificate-authenticated tunnel: %v", err)
	}
	t.Logf("certificate client got %v", cs[0].Addr())
	if err := cs[1].Connect(ctx); !errors.Is(err, lab.ErrIPsec) {
		t.Fatalf("client with an untrusted certificate: %v, want ErrIPsec", err)
	}
}

type testCA struct {
	cert *x509.Certificate
	key  *rsa.PrivateKey
	der  []byte
}

func newCA(t *testing.T, cn string) *testCA {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: cn, Organization: []string{"l2tpsecd lab"}},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	return &testCA{cert: cert, key: key, der: der}
}

func (ca *testCA) write(t *testing.T, dir, name string) string {
	t.Helper()
	p := filepath.Join(dir, name+".pem")
	if err := os.WriteFile(p, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: ca.der}), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// issue makes a certificate and PKCS#1 RSA key signed by ca and returns
// their paths.
func (ca *testCA) issue(t *testing.T, dir, name, cn string, ip net.IP, eku x509.ExtKeyUsage) (certPath, keyPath string) {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	serial, _ := rand.Int(rand.Reader, big.NewInt(1<<62))
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: cn, Organization: []string{"l2tpsecd lab"}},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment,
		ExtKeyUsage:  []x509.ExtKeyUsage{eku},
	}
	if ip != nil {
		tmpl.IPAddresses = []net.IP{ip}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	certPath = filepath.Join(dir, name+".pem")
	keyPath = filepath.Join(dir, name+".key")
	if err := os.WriteFile(certPath, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyPath, pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)}), 0o600); err != nil {
		t.Fatal(err)
	}
	return certPath, keyPath
}
