package ike

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"math/big"
	"net"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/l2tpsecd/l2tpsecd/ike/isakmp"
)

// testPKI is a root CA with leaf certificates made on demand.
type testPKI struct {
	root    *x509.Certificate
	rootKey crypto.Signer
	serial  int64
}

func newTestPKI(t testing.TB, cn string) *testPKI {
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: cn},
		NotBefore: t0.Add(-time.Hour), NotAfter: t0.Add(24 * time.Hour), IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		t.Fatal(err)
	}
	root, _ := x509.ParseCertificate(der)
	return &testPKI{root: root, rootKey: key, serial: 1}
}

var rsaKeyOnce = sync.OnceValue(func() *rsa.PrivateKey {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	return k
})

func (p *testPKI) leaf(t testing.TB, cn string, useRSA bool, ips ...net.IP) *CertConfig {
	var key crypto.Signer
	if useRSA {
		key = rsaKeyOnce()
	} else {
		key, _ = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	}
	p.serial++
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(p.serial), Subject: pkix.Name{CommonName: cn, Organization: []string{"l2tpsecd test"}},
		NotBefore: t0.Add(-time.Hour), NotAfter: t0.Add(24 * time.Hour), KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}, IPAddresses: ips}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, p.root, key.Public(), p.rootKey)
	if err != nil {
		t.Fatal(err)
	}
	c, _ := x509.ParseCertificate(der)
	return &CertConfig{Chain: []*x509.Certificate{c}, Key: key, Verifier: p.verifier(nil), CASubjects: [][]byte{p.root.RawSubject}}
}

// poolVerifier verifies chains against one root at the test's time; it
// refuses the serials listed as revoked.
type poolVerifier struct {
	roots   *x509.CertPool
	revoked map[int64]bool
}

func (p *testPKI) verifier(revoked map[int64]bool) *poolVerifier {
	pool := x509.NewCertPool()
	pool.AddCert(p.root)
	return &poolVerifier{roots: pool, revoked: revoked}
}

func (v *poolVerifier) VerifyChain(_ context.Context, leaf *x509.Certificate, inter []*x509.Certificate) error {
	ip := x509.NewCertPool()
	for _, c := range inter {
		ip.AddCert(c)
	}
	if _, err := leaf.Verify(x509.VerifyOptions{Roots: v.roots, Intermediates: ip, CurrentTime: t0, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}}); err != nil {
		return err
	}
	if v.revoked[leaf.SerialNumber.Int64()] {
		return errors.New("revoked")
	}
	return nil
}

func TestCertificateAuthentication(t *testing.T) {
	for _, useRSA := range []bool{true, false} {
		name := "ECDSA-P256"
		if useRSA {
			name = "RSA"
		}
		t.Run(name, func(t *testing.T) {
			pki := newTestPKI(t, "Test Root CA")
			cfg := Config{Certs: pki.leaf(t, "vpn.example.net", useRSA)}
			p := newPair(t, cfg, true)
			client := pki.leaf(t, "alice", useRSA)
			p.dial(t, DialConfig{Certs: client, Phase2: Policy{}.Phase2Suites(isakmp.EncapTransport)[:1]})
			if len(p.srvEv.p2) != 1 || len(p.cEv.p2) != 1 {
				t.Fatalf("child SAs %d/%d; failures %v %v", len(p.srvEv.p2), len(p.cEv.p2), p.srvEv.p1fail, p.cEv.p1fail)
			}
			mirrored(t, p.srvEv.p2[0], p.cEv.p2[0])
			info := p.srvEv.p1[0]
			want := isakmp.AuthECDSA256
			if useRSA {
				want = isakmp.AuthRSASig
			}
			if info.Suite.Auth != want || info.PeerCert == nil || info.PeerCert.Subject.CommonName != "alice" || !strings.Contains(info.PeerID, "CN=alice") {
				t.Errorf("phase 1: auth %v, peer %q", info.Suite.Auth, info.PeerID)
			}
			if c := p.cEv.p1[0].PeerCert; c == nil || c.Subject.CommonName != "vpn.example.net" {
				t.Errorf("client saw server certificate %v", c)
			}
		})
	}
}

func TestCertificateRefusals(t *testing.T) {
	pki := newTestPKI(t, "Test Root CA")
	other := newTestPKI(t, "Some Other CA")
	server := pki.leaf(t, "vpn.example.net", false)
	revokedClient := pki.leaf(t, "mallory", false)
	server.Verifier = pki.verifier(map[int64]bool{revokedClient.Chain[0].SerialNumber.Int64(): true})
	for _, c := range []struct {
		name   string
		client *CertConfig
		want   string
	}{
		{"revoked", revokedClient, "revoked"},
		{"untrusted", other.leaf(t, "eve", false), "unknown authority"},
	} {
		t.Run(c.name, func(t *testing.T) {
			p := newPair(t, Config{Certs: server}, false)
			c.client.Verifier = pki.verifier(nil)
			p.dial(t, DialConfig{Certs: c.client})
			if len(p.srvEv.p1) != 0 || len(p.srvEv.p1fail) != 1 {
				t.Fatalf("established %d, failures %v", len(p.srvEv.p1), p.srvEv.p1fail)
			}
			f := p.srvEv.p1fail[0]
			if f.Reason != ReasonCertificate || !strings.Contains(f.Error(), c.want) {
				t.Errorf("failure %v", f)
			}
		})
	}
	// A PSK client meets a certificate-only server: told apart from a
	// proposal mismatch.
	p := newPair(t, Config{Certs: server}, false)
	p.dial(t, DialConfig{PSK: []byte("some psk value")})
	if len(p.srvEv.p1fail) != 1 || p.srvEv.p1fail[0].Reason != ReasonAuthMethod {
		t.Errorf("PSK client: %v", p.srvEv.p1fail)
	}
}

func TestCheckIDAgainstCert(t *testing.T) {
	pki := newTestPKI(t, "Test Root CA")
	c := pki.leaf(t, "host", false, net.ParseIP("198.51.100.9")).Chain[0]
	c.DNSNames, c.EmailAddresses = []string{"host.example.net"}, []string{"alice@example.net"}
	ok := []*isakmp.ID{
		idForCert(c),
		isakmp.NewIDFQDN("HOST.example.net"),
		{IDType: isakmp.IDUserFQDN, Data: []byte("alice@example.net")},
		isakmp.NewIDAddr(netip.MustParseAddr("198.51.100.9"), 0, 0),
	}
	for _, id := range ok {
		if err := checkIDAgainstCert(id, c); err != nil {
			t.Errorf("%v: %v", id.IDType, err)
		}
	}
	bad := []*isakmp.ID{
		{IDType: isakmp.IDDERASN1DN, Data: pki.root.RawSubject},
		isakmp.NewIDFQDN("other.example.net"),
		isakmp.NewIDAddr(clientAddr, 0, 0),
		{IDType: isakmp.IDKeyID, Data: []byte("x")},
	}
	for _, id := range bad {
		if err := checkIDAgainstCert(id, c); err == nil {
			t.Errorf("%v %x accepted", id.IDType, id.Data)
		}
	}
}

func TestSignatureFormats(t *testing.T) {
	hash := HashSHA1.Sum([]byte("HASH_I"))
	for _, curve := range []elliptic.Curve{elliptic.P256(), elliptic.P384(), elliptic.P521()} {
		k, _ := ecdsa.GenerateKey(curve, rand.Reader)
		m, _ := authMethodFor(k.Public())
		sig, err := signHash(k, m, hash)
		if err != nil {
			t.Fatal(err)
		}
		size := ecdsaSize(m)
		if len(sig) != 2*size {
			t.Errorf("%v: signature of %d bytes, want r|s of %d", m, len(sig), 2*size)
		}
		if err := verifyHash(k.Public(), m, hash, sig); err != nil {
			t.Errorf("%v: %v", m, err)
		}
		sig[3] ^= 1
		if verifyHash(k.Public(), m, hash, sig) == nil {
			t.Errorf("%v: a corrupted signature verified", m)
		}
	}
	k := rsaKeyOnce()
	sig, err := signHash(k, isakmp.AuthRSASig, hash)
	if err != nil {
		t.Fatal(err)
	}
	// PKCS#1 v1.5 over the raw hash: decrypting the signature shows the
	// hash right after the padding, with no DigestInfo.
	m := new(big.Int).Exp(new(big.Int).SetBytes(sig), big.NewInt(int64(k.E)), k.N).FillBytes(make([]byte, k.Size()))
	if string(m[len(m)-len(hash):]) != string(hash) || m[len(m)-len(hash)-1] != 0 {
		t.Errorf("RSA signature is not PKCS#1 v1.5 over the bare hash: %x", m[len(m)-40:])
	}
	if err := verifyHash(k.Public(), isakmp.AuthRSASig, hash, sig); err != nil {
		t.Error(err)
	}
}

// A certificate chain makes message 6 big; a peer that announced IKE
// fragmentation gets it in fragments, and retransmissions repeat them.
func TestBigRepliesFragmented(t *testing.T) {
	pki := newTestPKI(t, "Test Root CA")
	cfg := Config{Certs: pki.leaf(t, "vpn.example.net", true), FragmentSize: 300}
	cfg.Certs.Chain = append(cfg.Certs.Chain, pki.root) // a longer chain
	p := newPair(t, cfg, false)
	p.dial(t, DialConfig{Certs: pki.leaf(t, "alice", true), Fragmentation: true,
		Phase2: Policy{}.Phase2Suites(isakmp.EncapTransport)[:1]})
	if len(p.cEv.p2) != 1 {
		t.Fatalf("no child SA: %v %v", p.srvEv.p1fail, p.cEv.p1fail)
	}
	frags := 0
	for _, d := range p.net.log {
		if d.src.Addr() == serverAddr && d.pkt[16] == byte(isakmp.PayloadFragment) {
			frags++
			if len(d.pkt) > 300 {
				t.Errorf("fragment of %d bytes", len(d.pkt))
			}
		}
	}
	if frags < 4 {
		t.Errorf("%d fragments from the server", frags)
	}
}

// ECDSA in IKEv1 (RFC 4754 section 7, and strongSwan): HASH_I is computed
// with the curve's SHA-2 and signed as the digest; a signature made that
// way by another implementation verifies, and ours verifies with a plain
// ECDSA check over the hash.
func TestECDSASignatureOverHash(t *testing.T) {
	for _, c := range []struct {
		curve elliptic.Curve
		m     isakmp.AuthMethod
		size  int
		h     HashAlg
	}{{elliptic.P256(), isakmp.AuthECDSA256, 32, HashSHA256}, {elliptic.P384(), isakmp.AuthECDSA384, 48, HashSHA384}} {
		if got := signatureHash(HashSHA1, c.m); got != c.h {
			t.Fatalf("%v: HASH_I computed with %v, want %v", c.m, got, c.h)
		}
		if got := signatureHash(HashSHA1, isakmp.AuthRSASig); got != HashSHA1 {
			t.Fatalf("RSA: HASH_I computed with %v, want the negotiated SHA1", got)
		}
		k, err := ecdsa.GenerateKey(c.curve, rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		hash := make([]byte, c.size)
		rand.Read(hash)
		r, s, err := ecdsa.Sign(rand.Reader, k, hash)
		if err != nil {
			t.Fatal(err)
		}
		sig := make([]byte, 2*c.size)
		r.FillBytes(sig[:c.size])
		s.FillBytes(sig[c.size:])
		if err := verifyHash(k.Public(), c.m, hash, sig); err != nil {
			t.Fatalf("%v: a signature over the hash: %v", c.m, err)
		}
		ours, err := signHash(k, c.m, hash)
		if err != nil {
			t.Fatal(err)
		}
		r2, s2 := new(big.Int).SetBytes(ours[:c.size]), new(big.Int).SetBytes(ours[c.size:])
		if !ecdsa.Verify(&k.PublicKey, hash, r2, s2) {
			t.Fatalf("%v: our signature is not over the hash", c.m)
		}
		sig[5] ^= 1
		if verifyHash(k.Public(), c.m, hash, sig) == nil {
			t.Fatalf("%v: a corrupted signature verified", c.m)
		}
	}
}
