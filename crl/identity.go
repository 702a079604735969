package crl

import (
	"bytes"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"fmt"
	"net"
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

// The checks of the IKE ID payload against the peer's certificate (RFC
// 4945 3.1). The IKE engine maps its ID types onto them: ID_DER_ASN1_DN to
// MatchesDN, ID_FQDN to MatchesFQDN, ID_USER_FQDN to MatchesUserFQDN,
// ID_IPV4_ADDR/ID_IPV6_ADDR to MatchesIP. Note that Windows sends its
// private address as ID_IPV4_ADDR behind NAT, so policy should prefer the
// DN.

// MatchesDN reports whether der, a DER-encoded distinguished name (the body
// of an ID_DER_ASN1_DN payload), is the certificate's subject (RFC 4945
// 3.1.5): the same encoding, or the same name once parsed.
func MatchesDN(cert *x509.Certificate, der []byte) bool {
	if bytes.Equal(cert.RawSubject, der) {
		return true
	}
	var rdns pkix.RDNSequence
	rest, err := asn1.Unmarshal(der, &rdns)
	if err != nil || len(rest) != 0 || len(rdns) == 0 {
		return false
	}
	var n pkix.Name
	n.FillFromRDNSequence(&rdns)
	return n.String() == cert.Subject.String()
}

// MatchesFQDN reports whether name (ID_FQDN) is a dNSName of the
// certificate's subjectAltName (RFC 4945 3.1.2), ignoring case and a
// trailing dot.
func MatchesFQDN(cert *x509.Certificate, name string) bool {
	name = strings.TrimSuffix(name, ".")
	if name == "" {
		return false
	}
	for _, d := range cert.DNSNames {
		if strings.EqualFold(strings.TrimSuffix(d, "."), name) {
			return true
		}
	}
	return false
}

// MatchesUserFQDN reports whether addr (ID_USER_FQDN) is an rfc822Name of
// the certificate's subjectAltName (RFC 4945 3.1.3) or, as older CAs write
// it, the subject's emailAddress; case is ignored.
func MatchesUserFQDN(cert *x509.Certificate, addr string) bool {
	if addr == "" {
		return false
	}
	for _, e := range cert.EmailAddresses {
		if strings.EqualFold(e, addr) {
			return true
		}
	}
	for _, atv := range cert.Subject.Names {
		if s, ok := atv.Value.(string); ok && atv.Type.Equal(oidEmailAddress) && strings.EqualFold(s, addr) {
			return true
		}
	}
	return false
}

// MatchesIP reports whether ip (ID_IPV4_ADDR or ID_IPV6_ADDR) is an
// iPAddress of the certificate's subjectAltName (RFC 4945 3.1.1).
func MatchesIP(cert *x509.Certificate, ip net.IP) bool {
	for _, a := range cert.IPAddresses {
		if a.Equal(ip) {
			return true
		}
	}
	return false
}
