package ike

import (
	"net/netip"

	"github.com/l2tpsecd/l2tpsecd/ike/isakmp"
)

// IKESAs lists the IKE SAs (half-open ones included) for the control API.
func (e *Engine) IKESAs() []Phase1Info {
	e.lock()
	defer e.unlock()
	out := make([]Phase1Info, 0, len(e.sas))
	for _, sa := range e.sas {
		out = append(out, sa.info())
	}
	return out
}

// ChildSAs lists the established child SAs. The values are shared, not
// copies: treat them as read-only.
func (e *Engine) ChildSAs() []*ChildSA {
	e.lock()
	defer e.unlock()
	out := make([]*ChildSA, 0, len(e.spis))
	for _, cs := range e.spis {
		if cs != nil {
			out = append(out, cs.child)
		}
	}
	return out
}

// Touch tells the engine that authenticated ESP traffic arrived on the
// child SA with the given inbound SPI, so DPD does not probe a busy peer
// (RFC 3706 section 5.4: probe only when idle). The datapath should call
// it at most about once a second per SA.
func (e *Engine) Touch(inSPI uint32) {
	e.lock()
	defer e.unlock()
	if cs := e.spis[inSPI]; cs != nil && cs.parent.state == p1Established {
		cs.parent.lastSeen = e.clock.Now()
		cs.parent.dpdOutstanding = 0
	}
}

// SignatureAuth is the extension point for certificate authentication
// (RSA/ECDSA signatures with CERT/CERTREQ, issue 5). With signatures,
// SKEYID = prf(Ni_b | Nr_b, g^xy) (SKEYIDSignature) and message 5/6
// carry SIG (and CERT) instead of HASH, signed over HASH_I/HASH_R. The
// engine negotiates PSK only until an implementation is configured in
// Config.Signatures; it is not wired yet.
type SignatureAuth interface {
	// Methods lists the phase-1 authentication methods offered (e.g.
	// isakmp.AuthRSASig, isakmp.AuthECDSA256).
	Methods() []isakmp.AuthMethod
	// Sign signs our HASH_R (or HASH_I) and returns the signature and our
	// certificate chain (DER, leaf first).
	Sign(m isakmp.AuthMethod, hash []byte) (sig []byte, chain [][]byte, err error)
	// Verify checks the peer's chain (including revocation, through the
	// crl package's checker) and its signature over hash. peer is for the
	// audit log only.
	Verify(m isakmp.AuthMethod, chain [][]byte, hash, sig []byte, peer netip.Addr) error
}
