package crl

import (
	"crypto/x509/pkix"
	"encoding/asn1"
	"net"
	"slices"
	"testing"

	"github.com/l2tpsecd/l2tpsecd/crl/crltest"
)

func TestCertIdentities(t *testing.T) {
	ca := must(crltest.NewRoot("ID CA", crltest.Options{NotBefore: t0.AddDate(-1, 0, 0)}))
	leaf := must(ca.Leaf("Alice Smith", crltest.Options{NotBefore: t0,
		UPNs: []string{"alice@corp.example"}, EmailAddresses: []string{"alice.smith@example.com"},
		DNSNames: []string{"alice-laptop.example"}, IPAddresses: []net.IP{net.ParseIP("203.0.113.7")}}))
	id, err := CertIdentities(leaf.Cert)
	if err != nil {
		t.Fatal(err)
	}
	if id.CommonName != "Alice Smith" || !slices.Equal(id.UPNs, []string{"alice@corp.example"}) || !slices.Equal(id.Emails, []string{"alice.smith@example.com"}) {
		t.Fatalf("identities = %+v", id)
	}
	// crypto/x509 still sees the other SAN types crltest wrote by hand.
	if !slices.Equal(leaf.Cert.DNSNames, []string{"alice-laptop.example"}) || !leaf.Cert.IPAddresses[0].Equal(net.ParseIP("203.0.113.7")) {
		t.Fatalf("SAN DNS/IP: %v %v", leaf.Cert.DNSNames, leaf.Cert.IPAddresses)
	}
	for user, want := range map[string]bool{
		"Alice Smith":             true,
		"alice smith":             true,
		"alice@corp.example":      true,
		"ALICE@CORP.EXAMPLE":      true,
		"alice.smith@example.com": true,
		`CORP\alice`:              true,
		`CORP\Alice Smith`:        true,
		"alice":                   false,
		"bob@corp.example":        false,
		`CORP\bob`:                false,
		`CORP\`:                   false,
		"":                        false,
	} {
		if got := id.MatchUser(user); got != want {
			t.Errorf("MatchUser(%q) = %v, want %v", user, got, want)
		}
	}
}

func TestSubjectEmailAddress(t *testing.T) {
	ca := must(crltest.NewRoot("ID CA", crltest.Options{NotBefore: t0.AddDate(-1, 0, 0)}))
	leaf := must(ca.Leaf("bob", crltest.Options{NotBefore: t0}))
	leaf.Cert.Subject.Names = append(leaf.Cert.Subject.Names, pkix.AttributeTypeAndValue{Type: oidEmailAddress, Value: "bob@example.com"})
	id, err := CertIdentities(leaf.Cert)
	if err != nil || !id.MatchUser("bob@example.com") {
		t.Fatalf("%+v %v", id, err)
	}
}

func TestParseUPNsMalformed(t *testing.T) {
	for _, in := range [][]byte{nil, {0x30}, {0x30, 0x02, 0xa0, 0x00}, {0x30, 0x05, 0xa0, 0x03, 0x06, 0x01, 0x2a}} {
		if _, err := parseUPNs(in); err == nil {
			t.Errorf("parseUPNs(%x) accepted malformed input", in)
		}
	}
}

func FuzzParseUPNs(f *testing.F) {
	san := must(crltest.NewRoot("F", crltest.Options{NotBefore: t0, UPNs: []string{"a@b", "c@d"}, EmailAddresses: []string{"e@f"}}))
	for _, ext := range san.Cert.Extensions {
		if ext.Id.Equal(oidSubjectAltName) {
			f.Add(ext.Value)
		}
	}
	f.Add([]byte{0x30, 0x00})
	f.Fuzz(func(t *testing.T, data []byte) {
		upns, err := parseUPNs(data)
		if err != nil && upns != nil {
			t.Fatal("names returned with an error")
		}
	})
}

func TestIDPayloadMatches(t *testing.T) {
	ca := must(crltest.NewRoot("ID CA", crltest.Options{NotBefore: t0.AddDate(-1, 0, 0)}))
	leaf := must(ca.Leaf("vpn-user", crltest.Options{NotBefore: t0, Organization: "Example",
		DNSNames: []string{"host.example.org"}, EmailAddresses: []string{"user@example.org"},
		IPAddresses: []net.IP{net.ParseIP("203.0.113.9")}}))
	other := must(ca.Leaf("someone-else", crltest.Options{NotBefore: t0}))
	if !MatchesDN(leaf.Cert, leaf.Cert.RawSubject) || MatchesDN(leaf.Cert, other.Cert.RawSubject) {
		t.Error("MatchesDN on raw subjects")
	}
	// The same name re-encoded (UTF8String instead of PrintableString).
	reenc, err := asn1.Marshal(pkix.RDNSequence{
		{{Type: asn1.ObjectIdentifier{2, 5, 4, 10}, Value: asn1.RawValue{Tag: asn1.TagUTF8String, Bytes: []byte("Example")}}},
		{{Type: asn1.ObjectIdentifier{2, 5, 4, 3}, Value: asn1.RawValue{Tag: asn1.TagUTF8String, Bytes: []byte("vpn-user")}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if !MatchesDN(leaf.Cert, reenc) {
		t.Errorf("MatchesDN does not see through the encoding: %x vs %x", reenc, leaf.Cert.RawSubject)
	}
	if MatchesDN(leaf.Cert, []byte{0x30, 0x00}) || MatchesDN(leaf.Cert, []byte("junk")) {
		t.Error("MatchesDN accepted an empty or malformed DN")
	}
	if !MatchesFQDN(leaf.Cert, "HOST.example.org.") || MatchesFQDN(leaf.Cert, "other.example.org") || MatchesFQDN(leaf.Cert, "") {
		t.Error("MatchesFQDN")
	}
	if !MatchesUserFQDN(leaf.Cert, "User@Example.org") || MatchesUserFQDN(leaf.Cert, "other@example.org") {
		t.Error("MatchesUserFQDN")
	}
	if !MatchesIP(leaf.Cert, net.ParseIP("203.0.113.9").To4()) || MatchesIP(leaf.Cert, net.ParseIP("203.0.113.10")) {
		t.Error("MatchesIP")
	}
}
