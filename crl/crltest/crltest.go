// Package crltest makes throwaway test PKIs: root and intermediate CAs,
// end-entity (user or server) certificates with chosen validity, key type,
// usages and CRL distribution points, and CRLs (RFC 5280) with chosen
// entries, validity, delta indicator and Freshest CRL pointer, plus PEM
// files for tools such as strongSwan. The unit tests of package crl and the
// certificate lab tests of issue 5 share it. It is test support: keys are
// generated fresh and never protected.
package crltest

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// KeyType selects the key algorithm of a certificate.
type KeyType uint8

// The key types. ECDSA P-256 is the default because it is fast to generate.
const (
	ECDSAP256 KeyType = iota
	ECDSAP384
	RSA2048
)

func (k KeyType) String() string {
	switch k {
	case ECDSAP256:
		return "ecdsa-p256"
	case ECDSAP384:
		return "ecdsa-p384"
	case RSA2048:
		return "rsa-2048"
	}
	return "keytype(" + strconv.Itoa(int(k)) + ")"
}

// ErrNotCA is returned when a certificate that is not a CA is asked to
// issue.
var ErrNotCA = errors.New("crltest: not a CA")

// Options are the chosen properties of a certificate. Zero values take
// defaults.
type Options struct {
	// NotBefore defaults to an hour before time.Now(); NotAfter to 10 years
	// (CAs) or 2 years (end entities) after NotBefore.
	NotBefore, NotAfter time.Time
	// CRLURLs become the CRL distribution points.
	CRLURLs []string
	Key     KeyType
	// KeyUsage defaults to DigitalSignature for end entities and
	// CertSign|CRLSign for CAs.
	KeyUsage x509.KeyUsage
	// ExtKeyUsage is left out when empty (as on many Windows user
	// certificates).
	ExtKeyUsage []x509.ExtKeyUsage
	// OtherEKUs are EKU OIDs crypto/x509 has no constant for (e.g.
	// IKEIntermediate).
	OtherEKUs []asn1.ObjectIdentifier
	// Serial defaults to a random positive 63-bit number.
	Serial         *big.Int
	Organization   string
	DNSNames       []string
	EmailAddresses []string
	IPAddresses    []net.IP
	// FreshestURLs become the certificate's Freshest CRL extension (where
	// the issuer publishes delta CRLs).
	FreshestURLs []string
	// UPNs become Microsoft User Principal Name otherNames in the subject
	// alternative name (with the DNS names, e-mail and IP addresses).
	UPNs []string
	// MaxPathLen for CAs; 0 means unlimited (-1 in crypto/x509 terms is
	// not needed here).
	MaxPathLen int
}

// Identity is a certificate with its private key; a CA identity issues.
type Identity struct {
	Cert *x509.Certificate
	Key  crypto.Signer
}

// NewRoot makes a self-signed root CA named cn.
func NewRoot(cn string, o Options) (*Identity, error) {
	return issue(nil, cn, o, true)
}

// Intermediate makes a CA named cn issued by ca.
func (ca *Identity) Intermediate(cn string, o Options) (*Identity, error) {
	if !ca.Cert.IsCA {
		return nil, ErrNotCA
	}
	return issue(ca, cn, o, true)
}

// Leaf makes an end-entity certificate named cn issued by ca.
func (ca *Identity) Leaf(cn string, o Options) (*Identity, error) {
	if !ca.Cert.IsCA {
		return nil, ErrNotCA
	}
	return issue(ca, cn, o, false)
}

// randomSerial is a positive 63-bit serial, unique in practice across every
// CA of a test run (a CRL of the wrong issuer must not list a certificate
// by accident).
func randomSerial() (*big.Int, error) {
	n, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 63))
	if err != nil {
		return nil, err
	}
	return n.Add(n, big.NewInt(1)), nil
}

func newKey(k KeyType) (crypto.Signer, error) {
	switch k {
	case ECDSAP256:
		return ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	case ECDSAP384:
		return ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	case RSA2048:
		return rsa.GenerateKey(rand.Reader, 2048)
	}
	return nil, fmt.Errorf("crltest: unknown key type %v", k)
}

func issue(parent *Identity, cn string, o Options, isCA bool) (*Identity, error) {
	key, err := newKey(o.Key)
	if err != nil {
		return nil, err
	}
	nb := o.NotBefore
	if nb.IsZero() {
		nb = time.Now().Add(-time.Hour)
	}
	na := o.NotAfter
	if na.IsZero() {
		na = nb.AddDate(2, 0, 0)
		if isCA {
			na = nb.AddDate(10, 0, 0)
		}
	}
	serial := o.Serial
	if serial == nil {
		if serial, err = randomSerial(); err != nil {
			return nil, err
		}
	}
	ku := o.KeyUsage
	if ku == 0 {
		ku = x509.KeyUsageDigitalSignature
		if isCA {
			ku = x509.KeyUsageCertSign | x509.KeyUsageCRLSign
		}
	}
	subj := pkix.Name{CommonName: cn}
	if o.Organization != "" {
		subj.Organization = []string{o.Organization}
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               subj,
		NotBefore:             nb,
		NotAfter:              na,
		KeyUsage:              ku,
		ExtKeyUsage:           o.ExtKeyUsage,
		UnknownExtKeyUsage:    o.OtherEKUs,
		BasicConstraintsValid: true,
		IsCA:                  isCA,
		MaxPathLen:            o.MaxPathLen,
		MaxPathLenZero:        false,
		CRLDistributionPoints: o.CRLURLs,
		DNSNames:              o.DNSNames,
		EmailAddresses:        o.EmailAddresses,
		IPAddresses:           o.IPAddresses,
	}
	if len(o.UPNs) > 0 {
		san, err := subjectAltName(o)
		if err != nil {
			return nil, err
		}
		tmpl.ExtraExtensions = append(tmpl.ExtraExtensions, pkix.Extension{Id: oidSubjectAltName, Value: san})
	}
	if len(o.FreshestURLs) > 0 {
		v, err := freshestCRL(o.FreshestURLs)
		if err != nil {
			return nil, err
		}
		tmpl.ExtraExtensions = append(tmpl.ExtraExtensions, pkix.Extension{Id: oidFreshestCRL, Value: v})
	}
	signer, parentCert := key, tmpl
	if parent != nil {
		signer, parentCert = parent.Key, parent.Cert
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parentCert, key.Public(), signer)
	if err != nil {
		return nil, fmt.Errorf("crltest: %s: %w", cn, err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, err
	}
	return &Identity{Cert: cert, Key: key}, nil
}

// Revoked is one CRL entry.
type Revoked struct {
	Serial *big.Int
	Time   time.Time
	// Reason is the RFC 5280 reason code; 0 (unspecified) is still
	// written.
	Reason int
}

// Revoke makes the CRL entry for id, revoked at t with reason.
func Revoke(id *Identity, t time.Time, reason int) Revoked {
	return Revoked{Serial: id.Cert.SerialNumber, Time: t, Reason: reason}
}

// CRLOptions are the chosen properties of a CRL.
type CRLOptions struct {
	// ThisUpdate defaults to time.Now() (minus a minute); NextUpdate to a
	// day after ThisUpdate.
	ThisUpdate, NextUpdate time.Time
	Revoked                []Revoked
	// Number defaults to 1.
	Number int64
	// DeltaOf, when positive, makes a delta CRL on base CRL number DeltaOf
	// (critical Delta CRL Indicator).
	DeltaOf int64
	// FreshestURL, when set, adds the Freshest CRL extension (where deltas
	// are published).
	FreshestURL string
}

// IKEIntermediate is the "IP security IKE intermediate" EKU
// (1.3.6.1.5.5.8.2.2) that Windows clients look for on a VPN server's
// certificate.
var IKEIntermediate = asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 8, 2, 2}

var (
	oidSubjectAltName    = asn1.ObjectIdentifier{2, 5, 29, 17}
	oidUPN               = asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 311, 20, 2, 3}
	oidDeltaCRLIndicator = asn1.ObjectIdentifier{2, 5, 29, 27}
	oidFreshestCRL       = asn1.ObjectIdentifier{2, 5, 29, 46}
)

type distributionPointName struct {
	FullName []asn1.RawValue `asn1:"optional,tag:0"`
}

type distributionPoint struct {
	DistributionPoint distributionPointName `asn1:"optional,tag:0"`
}

// CRL issues a DER CRL signed by ca.
func (ca *Identity) CRL(o CRLOptions) ([]byte, error) {
	tu := o.ThisUpdate
	if tu.IsZero() {
		tu = time.Now().Add(-time.Minute)
	}
	nu := o.NextUpdate
	if nu.IsZero() {
		nu = tu.Add(24 * time.Hour)
	}
	num := o.Number
	if num == 0 {
		num = 1
	}
	tmpl := &x509.RevocationList{ThisUpdate: tu, NextUpdate: nu, Number: big.NewInt(num)}
	for _, r := range o.Revoked {
		tmpl.RevokedCertificateEntries = append(tmpl.RevokedCertificateEntries, x509.RevocationListEntry{
			SerialNumber: r.Serial, RevocationTime: r.Time, ReasonCode: r.Reason,
		})
	}
	if o.DeltaOf > 0 {
		v, err := asn1.Marshal(big.NewInt(o.DeltaOf))
		if err != nil {
			return nil, err
		}
		tmpl.ExtraExtensions = append(tmpl.ExtraExtensions, pkix.Extension{Id: oidDeltaCRLIndicator, Critical: true, Value: v})
	}
	if o.FreshestURL != "" {
		v, err := freshestCRL([]string{o.FreshestURL})
		if err != nil {
			return nil, err
		}
		tmpl.ExtraExtensions = append(tmpl.ExtraExtensions, pkix.Extension{Id: oidFreshestCRL, Value: v})
	}
	der, err := x509.CreateRevocationList(rand.Reader, tmpl, ca.Cert, ca.Key)
	if err != nil {
		return nil, fmt.Errorf("crltest: CRL of %s: %w", ca.Cert.Subject, err)
	}
	return der, nil
}

// CertPEM is the certificate in PEM.
func (id *Identity) CertPEM() []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: id.Cert.Raw})
}

// KeyPEM is the private key in PKCS #8 PEM ("PRIVATE KEY").
func (id *Identity) KeyPEM() ([]byte, error) {
	der, err := x509.MarshalPKCS8PrivateKey(id.Key)
	if err != nil {
		return nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), nil
}

// CRLPEM wraps a DER CRL in PEM ("X509 CRL").
func CRLPEM(der []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "X509 CRL", Bytes: der})
}

// ChainPEM concatenates the certificates' PEM, e.g. a leaf followed by its
// intermediates.
func ChainPEM(ids ...*Identity) []byte {
	var out []byte
	for _, id := range ids {
		out = append(out, id.CertPEM()...)
	}
	return out
}

// WriteFiles writes dir/name.crt (PEM certificate) and dir/name.key (PEM
// PKCS #8 key, mode 0600) and returns their paths.
func (id *Identity) WriteFiles(dir, name string) (certPath, keyPath string, err error) {
	certPath = filepath.Join(dir, name+".crt")
	keyPath = filepath.Join(dir, name+".key")
	if err = os.WriteFile(certPath, id.CertPEM(), 0o644); err != nil {
		return "", "", err
	}
	k, err := id.KeyPEM()
	if err != nil {
		return "", "", err
	}
	if err = os.WriteFile(keyPath, k, 0o600); err != nil {
		return "", "", err
	}
	return certPath, keyPath, nil
}

// WriteCRL writes a DER CRL to path, as PEM when pemFormat is set.
func WriteCRL(path string, der []byte, pemFormat bool) error {
	data := der
	if pemFormat {
		data = CRLPEM(der)
	}
	return os.WriteFile(path, data, 0o644)
}

// subjectAltName encodes the GeneralNames of o (RFC 5280 4.2.1.6), with
// UPNs as otherName [0] { OID, [0] EXPLICIT UTF8String }.
func subjectAltName(o Options) ([]byte, error) {
	var b cryptobyte.Builder
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		for _, u := range o.UPNs {
			b.AddASN1(cbasn1.Tag(0).ContextSpecific().Constructed(), func(b *cryptobyte.Builder) {
				b.AddASN1ObjectIdentifier(oidUPN)
				b.AddASN1(cbasn1.Tag(0).ContextSpecific().Constructed(), func(b *cryptobyte.Builder) {
					b.AddASN1(cbasn1.UTF8String, func(b *cryptobyte.Builder) { b.AddBytes([]byte(u)) })
				})
			})
		}
		for _, e := range o.EmailAddresses {
			b.AddASN1(cbasn1.Tag(1).ContextSpecific(), func(b *cryptobyte.Builder) { b.AddBytes([]byte(e)) })
		}
		for _, d := range o.DNSNames {
			b.AddASN1(cbasn1.Tag(2).ContextSpecific(), func(b *cryptobyte.Builder) { b.AddBytes([]byte(d)) })
		}
		for _, ip := range o.IPAddresses {
			if v4 := ip.To4(); v4 != nil {
				ip = v4
			}
			b.AddASN1(cbasn1.Tag(7).ContextSpecific(), func(b *cryptobyte.Builder) { b.AddBytes(ip) })
		}
	})
	return b.Bytes()
}

// freshestCRL encodes a Freshest CRL extension value (CRLDistributionPoints
// syntax, RFC 5280 4.2.1.15) with one fullName URI per distribution point.
func freshestCRL(urls []string) ([]byte, error) {
	dps := make([]distributionPoint, len(urls))
	for i, u := range urls {
		dps[i].DistributionPoint.FullName = []asn1.RawValue{{Tag: 6, Class: asn1.ClassContextSpecific, Bytes: []byte(u)}}
	}
	return asn1.Marshal(dps)
}
