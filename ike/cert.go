package ike

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"fmt"
	"math/big"
	"net/netip"
	"strings"

	"github.com/l2tpsecd/l2tpsecd/ike/isakmp"
)

// Certificate (signature) authentication in Main Mode, RFC 2409 section
// 5.1 with the RFC 4945 profile:
//
//	HDR, KE, Ni [, CERTREQ]          -->
//	                                 <-- HDR, KE, Nr, CERTREQ
//	HDR*, IDii, [CERT,] SIG_I        -->
//	                                 <-- HDR*, IDir, [CERT,] SIG_R
//
// SKEYID = prf(Ni_b | Nr_b, g^xy); SIG_I and SIG_R sign HASH_I and HASH_R.
// RSA (method 3) signs the raw hash with PKCS#1 v1.5 padding and no
// DigestInfo, as every IKEv1 implementation does; ECDSA (RFC 4754,
// methods 9-11) signs SHA-256/384/512 of the hash and encodes r|s.

// CertVerifier checks a peer's certificate chain: path to a trusted root,
// validity, key usage and revocation. The crl package's Checker is meant
// to back it (the server adapts it); ike defines the interface so that it
// does not import crl. It may block (CRL fetches): the engine calls it
// without its lock, in a goroutine of its own per negotiation.
type CertVerifier interface {
	VerifyChain(ctx context.Context, leaf *x509.Certificate, intermediates []*x509.Certificate) error
}

// CertConfig enables certificate authentication.
type CertConfig struct {
	// Chain is our certificate chain, leaf first, sent in CERT payloads.
	Chain []*x509.Certificate
	// Key is the leaf's private key.
	Key crypto.Signer
	// Verifier checks the peer's chain.
	Verifier CertVerifier
	// CASubjects are the DER subjects of the CAs we trust, named in
	// CERTREQ payloads (none: one CERTREQ without a name).
	CASubjects [][]byte
}

// method is the phase-1 authentication method our key signs with.
func (c *CertConfig) method() isakmp.AuthMethod {
	if c == nil || c.Key == nil {
		return 0
	}
	m, _ := authMethodFor(c.Key.Public())
	return m
}

func authMethodFor(pub crypto.PublicKey) (isakmp.AuthMethod, bool) {
	switch k := pub.(type) {
	case *rsa.PublicKey:
		return isakmp.AuthRSASig, true
	case *ecdsa.PublicKey:
		switch k.Curve {
		case elliptic.P256():
			return isakmp.AuthECDSA256, true
		case elliptic.P384():
			return isakmp.AuthECDSA384, true
		case elliptic.P521():
			return isakmp.AuthECDSA521, true
		}
	}
	return 0, false
}

// isSignature reports whether a method authenticates with signatures.
func isSignature(m isakmp.AuthMethod) bool {
	switch m {
	case isakmp.AuthRSASig, isakmp.AuthECDSA256, isakmp.AuthECDSA384, isakmp.AuthECDSA521:
		return true
	}
	return false
}

// ecdsaSize is the size of r and of s for the curve of an ECDSA method.
func ecdsaSize(m isakmp.AuthMethod) int {
	switch m {
	case isakmp.AuthECDSA384:
		return 48
	case isakmp.AuthECDSA521:
		return 66
	}
	return 32
}

// signatureHash is the hash HASH_I/HASH_R are computed with under
// signature authentication: the negotiated one, except for ECDSA, where RFC
// 4754 section 7 ties it to the curve (SHA-256 for P-256, SHA-384, SHA-512)
// whatever phase 1 negotiated; strongSwan's keymat_v1 does the same. The
// ECDSA signature is then made over that value as the digest, unhashed.
func signatureHash(negotiated HashAlg, m isakmp.AuthMethod) HashAlg {
	switch m {
	case isakmp.AuthECDSA256:
		return HashSHA256
	case isakmp.AuthECDSA384:
		return HashSHA384
	case isakmp.AuthECDSA521:
		return HashSHA512
	}
	return negotiated
}

// signHash produces SIG_I or SIG_R over HASH_I or HASH_R (computed with
// signatureHash): PKCS#1 v1.5 without a DigestInfo for RSA (RFC 2409
// section 5.1), r|s over the hash as the digest for ECDSA (RFC 4754).
func signHash(key crypto.Signer, m isakmp.AuthMethod, hash []byte) ([]byte, error) {
	if m == isakmp.AuthRSASig {
		return key.Sign(rand.Reader, hash, crypto.Hash(0))
	}
	size := ecdsaSize(m)
	der, err := key.Sign(rand.Reader, hash, crypto.Hash(0))
	if err != nil {
		return nil, err
	}
	var rs struct{ R, S *big.Int }
	if _, err := asn1.Unmarshal(der, &rs); err != nil {
		return nil, err
	}
	out := make([]byte, 2*size)
	rs.R.FillBytes(out[:size])
	rs.S.FillBytes(out[size:])
	return out, nil
}

// verifyHash checks SIG_I or SIG_R with the peer's public key.
func verifyHash(pub crypto.PublicKey, m isakmp.AuthMethod, hash, sig []byte) error {
	if got, ok := authMethodFor(pub); !ok || got != m {
		return fmt.Errorf("certificate key does not fit method %v", m)
	}
	if k, ok := pub.(*rsa.PublicKey); ok {
		return rsa.VerifyPKCS1v15(k, crypto.Hash(0), hash, sig)
	}
	size := ecdsaSize(m)
	if len(sig) != 2*size {
		return fmt.Errorf("ECDSA signature of %d bytes, want %d", len(sig), 2*size)
	}
	r, s := new(big.Int).SetBytes(sig[:size]), new(big.Int).SetBytes(sig[size:])
	if !ecdsa.Verify(pub.(*ecdsa.PublicKey), hash, r, s) {
		return errors.New("ECDSA signature does not verify")
	}
	return nil
}

// idForCert is the identity we send with a certificate: its subject DN
// (what strongSwan and Windows expect by default).
func idForCert(c *x509.Certificate) *isakmp.ID {
	return &isakmp.ID{IDType: isakmp.IDDERASN1DN, Data: c.RawSubject}
}

// checkIDAgainstCert applies RFC 4945 section 3.1: the phase-1 identity
// must be found in the certificate (subject DN, or a subjectAltName of the
// ID's type).
func checkIDAgainstCert(id *isakmp.ID, c *x509.Certificate) error {
	switch id.IDType {
	case isakmp.IDDERASN1DN:
		if bytes.Equal(id.Data, c.RawSubject) {
			return nil
		}
		if dnString(id.Data) != "" && dnString(id.Data) == dnString(c.RawSubject) {
			return nil
		}
		return fmt.Errorf("ID_DER_ASN1_DN does not equal the certificate subject %q", c.Subject.String())
	case isakmp.IDFQDN:
		for _, n := range c.DNSNames {
			if strings.EqualFold(n, string(id.Data)) {
				return nil
			}
		}
		return fmt.Errorf("ID_FQDN %q is not a DNS name of the certificate", id.Data)
	case isakmp.IDUserFQDN:
		for _, n := range c.EmailAddresses {
			if strings.EqualFold(n, string(id.Data)) {
				return nil
			}
		}
		return fmt.Errorf("ID_USER_FQDN %q is not an e-mail address of the certificate", id.Data)
	case isakmp.IDIPv4Addr, isakmp.IDIPv6Addr:
		a, err := id.Addr()
		if err != nil {
			return err
		}
		for _, ip := range c.IPAddresses {
			if b, ok := netip.AddrFromSlice(ip); ok && b.Unmap() == a.Unmap() {
				return nil
			}
		}
		return fmt.Errorf("ID address %v is not in the certificate", a)
	}
	return fmt.Errorf("ID type %v cannot be checked against a certificate", id.IDType)
}

// dnString is a DN's RFC 2253 form, so that DNs that differ only in
// string encoding compare equal; "" when it does not parse.
func dnString(der []byte) string {
	var rdn pkix.RDNSequence
	if rest, err := asn1.Unmarshal(der, &rdn); err != nil || len(rest) != 0 {
		return ""
	}
	var n pkix.Name
	n.FillFromRDNSequence(&rdn)
	return n.String()
}

// parseCerts reads the X.509 CERT payloads: the first certificate whose
// public key fits the method is the leaf, the rest are intermediates.
func parseCerts(payloads []isakmp.Payload) (*x509.Certificate, []*x509.Certificate, error) {
	var all []*x509.Certificate
	for _, c := range isakmp.FindAll[*isakmp.Cert](payloads) {
		if c.Encoding != isakmp.CertX509Signature {
			continue
		}
		if len(all) >= 8 {
			return nil, nil, errors.New("more than 8 certificates")
		}
		x, err := x509.ParseCertificate(c.Data)
		if err != nil {
			return nil, nil, fmt.Errorf("CERT payload: %w", err)
		}
		all = append(all, x)
	}
	if len(all) == 0 {
		return nil, nil, errors.New("no certificate sent")
	}
	return all[0], all[1:], nil
}

func certPayloads(chain []*x509.Certificate) []isakmp.Payload {
	var p []isakmp.Payload
	for _, c := range chain {
		p = append(p, &isakmp.Cert{Encoding: isakmp.CertX509Signature, Data: c.Raw})
	}
	return p
}

func certReqPayloads(c *CertConfig) []isakmp.Payload {
	if len(c.CASubjects) == 0 {
		return []isakmp.Payload{&isakmp.CertReq{Encoding: isakmp.CertX509Signature}}
	}
	var p []isakmp.Payload
	for _, s := range c.CASubjects {
		p = append(p, &isakmp.CertReq{Encoding: isakmp.CertX509Signature, Authority: s})
	}
	return p
}
