package crl

import (
	"crypto/x509"
	"net/http"
	"os"
	"path/filepath"
	"testing"

	"github.com/l2tpsecd/l2tpsecd/crl/crltest"
)

// The issue-5 acceptance matrix on crltest's lab PKI, without the lab: the
// same certificates and CRL situations the strongSwan clients will meet,
// checked here against a loopback distribution point.
func TestLabMatrix(t *testing.T) {
	p := newPKI(t)
	lab, err := crltest.NewLab(crltest.LabOptions{CRLBaseURL: p.srv.URL, Now: t0})
	if err != nil {
		t.Fatal(err)
	}
	type cell struct {
		o Outcome
		r Reason
	}
	A := func(r Reason) cell { return cell{Accept, r} }
	R := func(r Reason) cell { return cell{Reject, r} }
	ok := A(ReasonOK)
	const down = crltest.LabCRL(99)
	rows := []struct {
		crl    crltest.LabCRL
		client *crltest.Identity
		want   [3]cell
	}{
		{crltest.CRLCurrent, lab.Valid, [3]cell{ok, ok, ok}},
		{crltest.CRLCurrent, lab.Revoked, [3]cell{ok, R(ReasonRevoked), R(ReasonRevoked)}},
		{crltest.CRLCurrent, lab.ViaIntermediate, [3]cell{ok, ok, ok}},
		{crltest.CRLExpired, lab.Valid, [3]cell{ok, A(ReasonCRLExpired), R(ReasonCRLExpired)}},
		{crltest.CRLExpired, lab.Revoked, [3]cell{ok, R(ReasonRevoked), R(ReasonRevoked)}},
		{crltest.CRLOtherCA, lab.Valid, [3]cell{ok, A(ReasonCRLIssuerMismatch), R(ReasonCRLIssuerMismatch)}},
		{crltest.CRLOtherCA, lab.Revoked, [3]cell{ok, A(ReasonCRLIssuerMismatch), R(ReasonCRLIssuerMismatch)}},
		{down, lab.Valid, [3]cell{ok, A(ReasonCRLUnreachable), R(ReasonCRLUnreachable)}},
		{down, lab.Revoked, [3]cell{ok, A(ReasonCRLUnreachable), R(ReasonCRLUnreachable)}},
		{crltest.CRLCurrent, lab.Untrusted, [3]cell{R(ReasonUntrustedIssuer), R(ReasonUntrustedIssuer), R(ReasonUntrustedIssuer)}},
		{crltest.CRLCurrent, lab.Expired, [3]cell{R(ReasonCertExpired), R(ReasonCertExpired), R(ReasonCertExpired)}},
		{crltest.CRLCurrent, lab.NotYetValid, [3]cell{R(ReasonCertNotYetValid), R(ReasonCertNotYetValid), R(ReasonCertNotYetValid)}},
		{crltest.CRLCurrent, nil, [3]cell{R(ReasonNoCertificate), R(ReasonNoCertificate), R(ReasonNoCertificate)}},
	}
	for _, row := range rows {
		if row.crl == down {
			p.dp.SetStatus("/root.crl", http.StatusServiceUnavailable)
		} else if err := lab.Serve(p.dp, row.crl); err != nil {
			t.Fatal(err)
		}
		name := "none"
		if row.client != nil {
			name = row.client.Cert.Subject.CommonName
		}
		for mode := ModeOff; mode <= ModeStrict; mode++ {
			c := p.checker(mode, func(cfg *Config) { cfg.Roots = []*x509.Certificate{lab.Root.Cert} })
			var sent []*crltest.Identity
			if row.client == lab.ViaIntermediate {
				sent = append(sent, lab.Intermediate)
			}
			res := verify(t, c, row.client, sent...)
			w := row.want[mode]
			expect(t, name+" with CRL "+row.crl.String()+", mode "+mode.String(), res, w.o, w.r)
		}
	}
	// The server certificate verifies too, and the files are written.
	expect(t, "server certificate", verify(t, p.checker(ModeOff, func(cfg *Config) { cfg.Roots = []*x509.Certificate{lab.Root.Cert} }), lab.Server), Accept, ReasonOK)
	dir := t.TempDir()
	if err := lab.WriteFiles(dir); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"root-ca.crt", "server.key", "revoked.crt", "intermediate-user-chain.crt"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Error(err)
		}
	}
	certs, err := LoadCertificates(filepath.Join(dir, "intermediate-user-chain.crt"))
	if err != nil || len(certs) != 2 {
		t.Errorf("chain file: %d certs, %v", len(certs), err)
	}
}
