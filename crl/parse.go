package crl

import (
	"bytes"
	"crypto/sha256"
	"crypto/x509"
	"encoding/asn1"
	"encoding/pem"
	"fmt"
	"math/big"
	"os"
	"sync"
)

var (
	oidDeltaCRLIndicator = asn1.ObjectIdentifier{2, 5, 29, 27}
	oidFreshestCRL       = asn1.ObjectIdentifier{2, 5, 29, 46}
)

// CRL is a parsed CRL with an index of its entries by serial number.
type CRL struct {
	List *x509.RevocationList
	// Source names where it came from (URL or file path), for the audit log.
	Source string
	// Delta is set when the CRL carries the Delta CRL Indicator.
	Delta bool
	// AnnouncesDelta is set when the CRL carries the Freshest CRL extension.
	AnnouncesDelta bool

	bySerial map[string]int // serialKey -> index in List.RevokedCertificateEntries

	mu    sync.Mutex
	sigOK map[[32]byte]error // issuer certificate digest -> CheckSignatureFrom result
}

// ParseCRL parses one CRL, DER or PEM ("X509 CRL" block). Malformed input
// returns an error wrapping ErrNotCRL; it never panics.
func ParseCRL(data []byte, source string) (*CRL, error) {
	der := data
	if bytes.HasPrefix(bytes.TrimLeft(data, " \t\r\n"), []byte("-----BEGIN")) {
		der = nil
		rest := data
		for {
			var b *pem.Block
			b, rest = pem.Decode(rest)
			if b == nil {
				break
			}
			if b.Type == "X509 CRL" {
				der = b.Bytes
				break
			}
		}
		if der == nil {
			return nil, fmt.Errorf("%w: %s: no X509 CRL PEM block", ErrNotCRL, source)
		}
	}
	list, err := x509.ParseRevocationList(der)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrNotCRL, source, err)
	}
	c := &CRL{List: list, Source: source, bySerial: make(map[string]int, len(list.RevokedCertificateEntries))}
	for _, ext := range list.Extensions {
		switch {
		case ext.Id.Equal(oidDeltaCRLIndicator):
			c.Delta = true
		case ext.Id.Equal(oidFreshestCRL):
			c.AnnouncesDelta = true
		}
	}
	for i, e := range list.RevokedCertificateEntries {
		if e.SerialNumber == nil {
			continue
		}
		k := serialKey(e.SerialNumber)
		if _, dup := c.bySerial[k]; !dup {
			c.bySerial[k] = i
		}
	}
	return c, nil
}

// ParseCRLFile reads and parses a CRL file (PEM or DER).
func ParseCRLFile(path string) (*CRL, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("crl: %w", err)
	}
	return ParseCRL(data, path)
}

func serialKey(n *big.Int) string {
	if n.Sign() < 0 {
		return "-" + string(n.Bytes())
	}
	return string(n.Bytes())
}

// Lookup returns the entry for serial, if the CRL lists it as revoked. An
// entry with reason removeFromCRL (only meaningful in delta CRLs) is not a
// revocation.
func (c *CRL) Lookup(serial *big.Int) (x509.RevocationListEntry, bool) {
	if serial == nil {
		return x509.RevocationListEntry{}, false
	}
	// Build the key on the stack: the map lookup with string(b) does not
	// allocate.
	var buf [64]byte
	n := (serial.BitLen() + 7) / 8
	var i int
	var ok bool
	switch {
	case n >= len(buf):
		i, ok = c.bySerial[serialKey(serial)]
	case serial.Sign() < 0:
		buf[0] = '-'
		serial.FillBytes(buf[1 : 1+n])
		i, ok = c.bySerial[string(buf[:1+n])]
	default:
		serial.FillBytes(buf[:n])
		i, ok = c.bySerial[string(buf[:n])]
	}
	if !ok {
		return x509.RevocationListEntry{}, false
	}
	e := c.List.RevokedCertificateEntries[i]
	if RevocationReason(e.ReasonCode) == ReasonCodeRemoveFromCRL {
		return x509.RevocationListEntry{}, false
	}
	return e, true
}

// IssuedBy classifies c against a certificate issuer: SituationIssuerCRL
// (or SituationDeltaOnly) when issuer's name is the CRL issuer and its key
// signed it, SituationIssuerMismatch when the names differ,
// SituationBadSignature when the signature does not verify. The signature
// result is remembered per issuer certificate.
func (c *CRL) IssuedBy(issuer *x509.Certificate) Situation {
	if !sameName(c.List.RawIssuer, issuer.RawSubject, c.List.Issuer.String(), issuer.Subject.String()) {
		return SituationIssuerMismatch
	}
	key := sha256.Sum256(issuer.Raw)
	c.mu.Lock()
	err, done := c.sigOK[key]
	c.mu.Unlock()
	if !done {
		err = c.List.CheckSignatureFrom(issuer)
		c.mu.Lock()
		if c.sigOK == nil {
			c.sigOK = make(map[[32]byte]error)
		}
		c.sigOK[key] = err
		c.mu.Unlock()
	}
	if err != nil {
		return SituationBadSignature
	}
	if c.Delta {
		return SituationDeltaOnly
	}
	return SituationIssuerCRL
}

// verified reports whether some issuer's signature check on c succeeded.
func (c *CRL) verified() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, err := range c.sigOK {
		if err == nil {
			return true
		}
	}
	return false
}

// sameName compares two distinguished names: byte-equal encodings, or, as
// CAs sometimes re-encode the same name with other string types, equal
// RFC 4514 renderings.
func sameName(rawA, rawB []byte, a, b string) bool {
	return bytes.Equal(rawA, rawB) || (a != "" && a == b)
}

// ParseCertificates parses DER certificates or a PEM bundle of
// "CERTIFICATE" blocks.
func ParseCertificates(data []byte) ([]*x509.Certificate, error) {
	if !bytes.HasPrefix(bytes.TrimLeft(data, " \t\r\n"), []byte("-----BEGIN")) {
		certs, err := x509.ParseCertificates(data)
		if err != nil {
			return nil, fmt.Errorf("crl: %w", err)
		}
		if len(certs) == 0 {
			return nil, ErrNoCertificates
		}
		return certs, nil
	}
	var certs []*x509.Certificate
	rest := data
	for {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			break
		}
		if b.Type != "CERTIFICATE" {
			continue
		}
		c, err := x509.ParseCertificate(b.Bytes)
		if err != nil {
			return nil, fmt.Errorf("crl: %w", err)
		}
		certs = append(certs, c)
	}
	if len(certs) == 0 {
		return nil, ErrNoCertificates
	}
	return certs, nil
}

// LoadCertificates reads a PEM bundle or a DER certificate file.
func LoadCertificates(path string) ([]*x509.Certificate, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("crl: %w", err)
	}
	certs, err := ParseCertificates(data)
	if err != nil {
		return nil, fmt.Errorf("%w (%s)", err, path)
	}
	return certs, nil
}
