package crl

import (
	"crypto/x509"
	"encoding/asn1"
	"fmt"
	"strings"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

var (
	oidSubjectAltName = asn1.ObjectIdentifier{2, 5, 29, 17}
	// Microsoft's User Principal Name otherName (szOID_NT_PRINCIPAL_NAME).
	oidUPN = asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 311, 20, 2, 3}
	// PKCS #9 emailAddress in the subject, as Windows CAs still write it.
	oidEmailAddress = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 1}
)

// Identities are the names a certificate vouches for, used to bind the
// PPP user to the IPsec certificate (issue 5: a stolen group certificate
// must not serve another user's password).
type Identities struct {
	CommonName string
	// UPNs are the SAN otherName User Principal Names (Windows user
	// certificates: user@realm).
	UPNs []string
	// Emails are the SAN rfc822Names and subject emailAddress attributes.
	Emails []string
}

// CertIdentities extracts the identities of cert. A malformed
// subjectAltName returns an error (crypto/x509 has parsed the other SAN
// types already; only otherName is read here).
func CertIdentities(cert *x509.Certificate) (Identities, error) {
	id := Identities{CommonName: cert.Subject.CommonName}
	id.Emails = append(id.Emails, cert.EmailAddresses...)
	for _, atv := range cert.Subject.Names {
		if atv.Type.Equal(oidEmailAddress) {
			if s, ok := atv.Value.(string); ok {
				id.Emails = append(id.Emails, s)
			}
		}
	}
	for _, ext := range cert.Extensions {
		if !ext.Id.Equal(oidSubjectAltName) {
			continue
		}
		upns, err := parseUPNs(ext.Value)
		if err != nil {
			return id, err
		}
		id.UPNs = append(id.UPNs, upns...)
	}
	return id, nil
}

// parseUPNs reads the UPN otherNames of a GeneralNames (RFC 5280 4.2.1.6):
//
//	OtherName ::= SEQUENCE { type-id OBJECT IDENTIFIER,
//	                         value [0] EXPLICIT ANY DEFINED BY type-id }
//
// carried as the [0] IMPLICIT alternative of GeneralName; a UPN's value is
// a UTF8String.
func parseUPNs(der []byte) ([]string, error) {
	in := cryptobyte.String(der)
	var names cryptobyte.String
	if !in.ReadASN1(&names, cbasn1.SEQUENCE) || !in.Empty() {
		return nil, fmt.Errorf("crl: malformed subjectAltName")
	}
	otherName := cbasn1.Tag(0).ContextSpecific().Constructed()
	explicit0 := cbasn1.Tag(0).ContextSpecific().Constructed()
	var out []string
	for !names.Empty() {
		var gn cryptobyte.String
		var tag cbasn1.Tag
		if !names.ReadAnyASN1(&gn, &tag) {
			return nil, fmt.Errorf("crl: malformed subjectAltName entry")
		}
		if tag != otherName {
			continue
		}
		var typ asn1.ObjectIdentifier
		var val, s cryptobyte.String
		if !gn.ReadASN1ObjectIdentifier(&typ) || !gn.ReadASN1(&val, explicit0) {
			return nil, fmt.Errorf("crl: malformed subjectAltName otherName")
		}
		if !typ.Equal(oidUPN) {
			continue
		}
		if !val.ReadASN1(&s, cbasn1.UTF8String) {
			return nil, fmt.Errorf("crl: UPN is not a UTF8String")
		}
		out = append(out, string(s))
	}
	return out, nil
}

// MatchUser reports whether a PPP user name names the certificate's
// holder, comparing case-insensitively with the common name, the UPNs and
// the e-mail addresses. A Windows-style "DOMAIN\name" also matches when
// name equals the common name or the part of a UPN before the '@' (the
// domain part is not checked: it names a Windows domain, not a DNS realm).
func (id Identities) MatchUser(user string) bool {
	if user == "" {
		return false
	}
	cands := append(append([]string{id.CommonName}, id.UPNs...), id.Emails...)
	for _, c := range cands {
		if c != "" && strings.EqualFold(c, user) {
			return true
		}
	}
	i := strings.LastIndexByte(user, '\\')
	if i < 0 || i == len(user)-1 {
		return false
	}
	name := user[i+1:]
	if id.CommonName != "" && strings.EqualFold(id.CommonName, name) {
		return true
	}
	for _, u := range id.UPNs {
		if at := strings.LastIndexByte(u, '@'); at > 0 && strings.EqualFold(u[:at], name) {
			return true
		}
	}
	return false
}
