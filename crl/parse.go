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

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
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
	// Delta is set when the CRL carries the Delta CRL Indicator; BaseNumber
	// is then the number of the complete CRL it updates (RFC 5280 5.2.4).
	Delta      bool
	BaseNumber *big.Int
	// AnnouncesDelta is set when the CRL carries the Freshest CRL extension
	// (RFC 5280 5.2.6); DeltaURLs are its http/file/other URIs.
	AnnouncesDelta bool
	DeltaURLs      []string

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
			c.BaseNumber = new(big.Int)
			in := cryptobyte.String(ext.Value)
			if !in.ReadASN1Integer(c.BaseNumber) || !in.Empty() || c.BaseNumber.Sign() < 0 {
				return nil, fmt.Errorf("%w: %s: malformed delta CRL indicator", ErrNotCRL, source)
			}
		case ext.Id.Equal(oidFreshestCRL):
			c.AnnouncesDelta = true
			urls, err := parseDPURLs(ext.Value)
			if err != nil {
				return nil, fmt.Errorf("%w: %s: malformed Freshest CRL extension", ErrNotCRL, source)
			}
			c.DeltaURLs = urls
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

// parseDPURLs reads the URIs of a CRLDistributionPoints-syntax extension
// (the Freshest CRL extension of CRLs and certificates, RFC 5280 4.2.1.15):
//
//	DistributionPoint ::= SEQUENCE {
//	    distributionPoint [0] DistributionPointName OPTIONAL, ... }
//	DistributionPointName ::= CHOICE { fullName [0] GeneralNames, ... }
//
// Only fullName uniformResourceIdentifiers ([6]) are returned.
func parseDPURLs(der []byte) ([]string, error) {
	in := cryptobyte.String(der)
	var dps cryptobyte.String
	if !in.ReadASN1(&dps, cbasn1.SEQUENCE) || !in.Empty() {
		return nil, ErrNotCRL
	}
	tag0 := cbasn1.Tag(0).ContextSpecific().Constructed()
	uri := cbasn1.Tag(6).ContextSpecific()
	var out []string
	for !dps.Empty() {
		var dp, name, full cryptobyte.String
		var has bool
		if !dps.ReadASN1(&dp, cbasn1.SEQUENCE) || !dp.ReadOptionalASN1(&name, &has, tag0) {
			return nil, ErrNotCRL
		}
		if !has {
			continue
		}
		if !name.ReadOptionalASN1(&full, &has, tag0) {
			return nil, ErrNotCRL
		}
		for has && !full.Empty() {
			var gn cryptobyte.String
			var tag cbasn1.Tag
			if !full.ReadAnyASN1(&gn, &tag) {
				return nil, ErrNotCRL
			}
			if tag == uri {
				out = append(out, string(gn))
			}
		}
	}
	return out, nil
}

// certDeltaURLs are the Freshest CRL URIs of a certificate (malformed
// extensions are ignored: the certificate's signature already vouches for
// it, and revocation then rests on the complete CRL).
func certDeltaURLs(cert *x509.Certificate) []string {
	for _, ext := range cert.Extensions {
		if ext.Id.Equal(oidFreshestCRL) {
			urls, _ := parseDPURLs(ext.Value)
			return urls
		}
	}
	return nil
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
	e, ok := c.lookupEntry(serial)
	if !ok || RevocationReason(e.ReasonCode) == ReasonCodeRemoveFromCRL {
		return x509.RevocationListEntry{}, false
	}
	return e, true
}

// lookupEntry returns the entry for serial whatever its reason.
func (c *CRL) lookupEntry(serial *big.Int) (x509.RevocationListEntry, bool) {
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
	return c.List.RevokedCertificateEntries[i], true
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
