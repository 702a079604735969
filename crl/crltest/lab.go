package crltest

import (
	"crypto/x509"
	"encoding/asn1"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"time"
)

// LabOptions configure NewLab.
type LabOptions struct {
	// CRLBaseURL is where the lab's HTTP server publishes CRLs, e.g.
	// "http://198.51.100.1:8080"; certificates name CRLBaseURL+"/root.crl"
	// (issued by the root) and CRLBaseURL+"/intermediate.crl".
	CRLBaseURL string
	// ServerNames and ServerIPs go into the server certificate's SAN.
	ServerNames []string
	ServerIPs   []net.IP
	// Key is the key type of every certificate (strongSwan handles RSA and
	// ECDSA alike).
	Key KeyType
	// Now dates everything (time.Now() when zero).
	Now time.Time
}

// Lab is the test PKI of the issue-5 acceptance: a root CA and an
// intermediate, an untrusted CA, the server's certificate, and user
// certificates for each case. Client certificates carry no EKU (as many
// Windows user certificates) and a UPN.
type Lab struct {
	Root, Intermediate, Other *Identity
	Server                    *Identity
	// Valid, Revoked, Expired and NotYetValid are issued by the root;
	// ViaIntermediate by the intermediate; Untrusted by Other.
	Valid, Revoked, Expired, NotYetValid, ViaIntermediate, Untrusted *Identity

	now     time.Time
	baseURL string
}

// NewLab issues the lab PKI.
func NewLab(o LabOptions) (*Lab, error) {
	now := o.Now
	if now.IsZero() {
		now = time.Now()
	}
	l := &Lab{now: now, baseURL: o.CRLBaseURL}
	rootDP := []string{o.CRLBaseURL + "/root.crl"}
	ca := Options{Key: o.Key, NotBefore: now.AddDate(-1, 0, 0), NotAfter: now.AddDate(9, 0, 0)}
	user := func(ca *Identity, cn string, nb, na time.Time, dp []string) (*Identity, error) {
		return ca.Leaf(cn, Options{Key: o.Key, NotBefore: nb, NotAfter: na, CRLURLs: dp, UPNs: []string{cn + "@lab.example"}})
	}
	var err error
	step := func(f func() (*Identity, error), dst **Identity) {
		if err == nil {
			*dst, err = f()
		}
	}
	step(func() (*Identity, error) { return NewRoot("l2tpsecd Lab Root CA", ca) }, &l.Root)
	step(func() (*Identity, error) {
		io := ca
		io.CRLURLs = rootDP
		return l.Root.Intermediate("l2tpsecd Lab Intermediate CA", io)
	}, &l.Intermediate)
	step(func() (*Identity, error) { return NewRoot("Untrusted Lab CA", ca) }, &l.Other)
	step(func() (*Identity, error) {
		return l.Root.Leaf("vpn.lab.example", Options{Key: o.Key, NotBefore: now.Add(-time.Hour), NotAfter: now.AddDate(2, 0, 0),
			DNSNames: append([]string{"vpn.lab.example"}, o.ServerNames...), IPAddresses: o.ServerIPs,
			ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, OtherEKUs: []asn1.ObjectIdentifier{IKEIntermediate},
			CRLURLs: rootDP})
	}, &l.Server)
	valid := now.AddDate(1, 0, 0)
	step(func() (*Identity, error) { return user(l.Root, "valid", now.Add(-time.Hour), valid, rootDP) }, &l.Valid)
	step(func() (*Identity, error) { return user(l.Root, "revoked", now.Add(-time.Hour), valid, rootDP) }, &l.Revoked)
	step(func() (*Identity, error) {
		return user(l.Root, "expired", now.AddDate(0, -2, 0), now.AddDate(0, -1, 0), rootDP)
	}, &l.Expired)
	step(func() (*Identity, error) { return user(l.Root, "notyetvalid", now.AddDate(0, 1, 0), valid, rootDP) }, &l.NotYetValid)
	step(func() (*Identity, error) {
		return user(l.Intermediate, "intermediate-user", now.Add(-time.Hour), valid, []string{o.CRLBaseURL + "/intermediate.crl"})
	}, &l.ViaIntermediate)
	step(func() (*Identity, error) { return user(l.Other, "untrusted", now.Add(-time.Hour), valid, nil) }, &l.Untrusted)
	if err != nil {
		return nil, err
	}
	return l, nil
}

// LabCRL chooses what the root's distribution point serves.
type LabCRL uint8

// The CRL situations of the acceptance. Every one of them that the root
// signs lists Lab.Revoked.
const (
	// CRLCurrent: the root's CRL, current.
	CRLCurrent LabCRL = iota
	// CRLExpired: the root's CRL, past its nextUpdate.
	CRLExpired
	// CRLOtherCA: a CRL of the untrusted CA at the root's URL, listing the
	// revoked certificate's serial too.
	CRLOtherCA
)

func (c LabCRL) String() string {
	switch c {
	case CRLCurrent:
		return "current"
	case CRLExpired:
		return "expired"
	case CRLOtherCA:
		return "other_ca"
	}
	return "labcrl(?)"
}

// RootCRL issues what the root's distribution point serves in situation s
// (DER).
func (l *Lab) RootCRL(s LabCRL) ([]byte, error) {
	rev := []Revoked{Revoke(l.Revoked, l.now.Add(-time.Hour), 1)}
	switch s {
	case CRLCurrent:
		return l.Root.CRL(CRLOptions{ThisUpdate: l.now.Add(-time.Hour), NextUpdate: l.now.Add(7 * 24 * time.Hour), Revoked: rev})
	case CRLExpired:
		return l.Root.CRL(CRLOptions{ThisUpdate: l.now.Add(-14 * 24 * time.Hour), NextUpdate: l.now.Add(-7 * 24 * time.Hour), Revoked: rev})
	case CRLOtherCA:
		return l.Other.CRL(CRLOptions{ThisUpdate: l.now.Add(-time.Hour), NextUpdate: l.now.Add(7 * 24 * time.Hour), Revoked: rev})
	}
	return nil, fmt.Errorf("crltest: unknown lab CRL situation %d", s)
}

// IntermediateCRL is the intermediate's current CRL (empty).
func (l *Lab) IntermediateCRL() ([]byte, error) {
	return l.Intermediate.CRL(CRLOptions{ThisUpdate: l.now.Add(-time.Hour), NextUpdate: l.now.Add(7 * 24 * time.Hour)})
}

// Serve publishes the situation on a DistributionPoint: root.crl as
// chosen and intermediate.crl current. For "distribution point down", do
// not serve (or SetStatus).
func (l *Lab) Serve(dp *DistributionPoint, s LabCRL) error {
	root, err := l.RootCRL(s)
	if err != nil {
		return err
	}
	inter, err := l.IntermediateCRL()
	if err != nil {
		return err
	}
	dp.Set("/root.crl", root)
	dp.Set("/intermediate.crl", inter)
	return nil
}

// WriteFiles writes the PKI for the server and the strongSwan clients:
// root-ca.crt, intermediate-ca.crt, untrusted-ca.crt, server.crt/.key,
// and NAME.crt/.key plus NAME-chain.crt (leaf and intermediates) for every
// client: valid, revoked, expired, notyetvalid, intermediate-user,
// untrusted.
func (l *Lab) WriteFiles(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	for name, id := range map[string]*Identity{"root-ca": l.Root, "intermediate-ca": l.Intermediate, "untrusted-ca": l.Other} {
		if err := os.WriteFile(filepath.Join(dir, name+".crt"), id.CertPEM(), 0o644); err != nil {
			return err
		}
	}
	leaves := map[string]*Identity{"server": l.Server, "valid": l.Valid, "revoked": l.Revoked, "expired": l.Expired,
		"notyetvalid": l.NotYetValid, "intermediate-user": l.ViaIntermediate, "untrusted": l.Untrusted}
	for name, id := range leaves {
		if _, _, err := id.WriteFiles(dir, name); err != nil {
			return err
		}
		chain := id.CertPEM()
		if id == l.ViaIntermediate {
			chain = ChainPEM(id, l.Intermediate)
		}
		if err := os.WriteFile(filepath.Join(dir, name+"-chain.crt"), chain, 0o644); err != nil {
			return err
		}
	}
	return nil
}
