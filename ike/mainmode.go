package ike

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"fmt"
	"io"
	"net/netip"

	"github.com/l2tpsecd/l2tpsecd/ike/isakmp"
)

// Main Mode with pre-shared keys (RFC 2409 section 5.4):
//
//	Initiator                        Responder
//	HDR, SA, VID...          -->                      (MM1)
//	                         <--  HDR, SA, VID...     (MM2)
//	HDR, KE, Ni, NAT-D, NAT-D -->                     (MM3)
//	                         <--  HDR, KE, Nr, NAT-D, NAT-D (MM4)
//	HDR*, IDii, HASH_I [, N(INITIAL-CONTACT)] -->     (MM5)
//	                         <--  HDR*, IDir, HASH_R  (MM6)

// vendor IDs we send. NAT-T is answered in the variant the peer chose.
func ourVendorIDs(natt isakmp.VendorID, frag bool) []isakmp.Payload {
	var p []isakmp.Payload
	if natt != isakmp.VendorUnknown {
		p = append(p, &isakmp.VendorIDPayload{Data: natt.Bytes()})
	}
	p = append(p, &isakmp.VendorIDPayload{Data: isakmp.VendorDPD.Bytes()})
	if frag {
		p = append(p, &isakmp.VendorIDPayload{Data: isakmp.VendorFragmentation.Bytes()})
	}
	return p
}

// peerCaps reads the peer's vendor IDs: the best NAT-T variant (RFC 3947,
// then draft-03, -02\n, -02), DPD, fragmentation, and MS
// Vid-Initial-Contact.
func peerCaps(payloads []isakmp.Payload) (natt isakmp.VendorID, dpd, frag, ic bool) {
	rank := map[isakmp.VendorID]int{isakmp.VendorRFC3947: 4, isakmp.VendorNATTDraft03: 3, isakmp.VendorNATTDraft02N: 2, isakmp.VendorNATTDraft02: 1}
	for _, v := range isakmp.FindAll[*isakmp.VendorIDPayload](payloads) {
		k := v.Kind()
		switch k {
		case isakmp.VendorDPD:
			dpd = true
		case isakmp.VendorFragmentation:
			frag = true
		case isakmp.VendorMSInitialContact:
			ic = true
		}
		if rank[k] > rank[natt] {
			natt = k
		}
	}
	return natt, dpd, frag, ic
}

// phase1Offers turns the initiator's SA payload into offers. Main Mode
// has one ISAKMP proposal (RFC 2409 section 5); a peer that sends several
// gets them flattened, each offer remembering its proposal number.
func phase1Offers(sa *isakmp.SA) ([]Phase1Offer, error) {
	if sa.DOI != isakmp.DOIIPsec || len(sa.Proposals) == 0 {
		return nil, fmt.Errorf("%w: phase-1 SA needs an ISAKMP proposal in the IPsec DOI", ErrMalformed)
	}
	var offers []Phase1Offer
	for _, p := range sa.Proposals {
		if p.Protocol != isakmp.ProtoISAKMP {
			return nil, fmt.Errorf("%w: phase-1 proposal for %v", ErrMalformed, p.Protocol)
		}
		for _, t := range p.Transforms {
			o := decodePhase1Transform(t.Number, t.Attributes)
			o.ProposalNum = p.Number
			if isakmp.IKETransformID(t.ID) != isakmp.KeyIKE {
				o.Problem = "transform " + isakmp.IKETransformID(t.ID).String()
			}
			offers = append(offers, o)
		}
	}
	return offers, nil
}

// responderMM1Locked handles a Main Mode message 1: choose a proposal and
// answer with message 2 (RFC 2409 section 5.4).
func (e *Engine) responderMM1Locked(pkt []byte, h isakmp.Header, body []byte, local, remote netip.AddrPort) error {
	key := halfOpenKey{h.InitiatorCookie, remote}
	if sa := e.byInit[key]; sa != nil {
		// A retransmitted message 1: answer from cache (the cookie pair is
		// already chosen).
		if sa.lastRecv == sha256Sum(pkt) && len(sa.lastReply) > 0 && sa.state == p1RespSentMM2 {
			e.resendLocked(sa)
			e.countRetransmit()
			return nil
		}
		return fmt.Errorf("%w: second message 1 with initiator cookie %x", ErrUnexpected, h.InitiatorCookie[:])
	}
	src := remote.Addr().Unmap()
	if e.nHalf >= e.cfg.MaxHalfOpen || e.halfOpen[src] >= e.cfg.MaxHalfOpenPerSource {
		return fmt.Errorf("%w: %d half-open overall, %d from %v", ErrHalfOpenLimit, e.nHalf, e.halfOpen[src], src)
	}
	m, err := isakmp.Parse(pkt)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	sap, ok := isakmp.Find[*isakmp.SA](m.Payloads)
	if !ok {
		return fmt.Errorf("%w: message 1 without SA", ErrMalformed)
	}
	sa := &ikeSA{
		ckyI: h.InitiatorCookie, local: local, remote: remote, created: e.clock.Now(),
		policy: e.policyFor(src), keyIndex: -1,
	}
	e.traceMsgLocked(sa, false, &m.Header, m.Payloads, remote)
	offers, err := phase1Offers(sap)
	if err != nil {
		return err
	}
	e.traceLocked(sa, "phase-1 proposals offered", remote, "offered", describeP1(offers), "policy", sa.policy.Level.String())
	choice, fail := sa.policy.SelectPhase1(offers, e.authMethods())
	if fail != nil {
		fail.KeyIndex = -1
		e.traceLocked(sa, "phase-1 refused: "+fail.Error(), remote)
		e.sendNotifyClearLocked(h, isakmp.NotifyNoProposalChosen, local, remote)
		e.countPhase(false, false, fail.Reason)
		e.emit(func() { e.events.Phase1Failed(remote, fail) })
		return fail
	}
	for i, p := range m.Payloads {
		if p.Type() == isakmp.PayloadSA {
			sa.saiB = m.Raw[i]
		}
	}
	sa.natt, sa.dpd, sa.frag, sa.initialContact = peerCaps(m.Payloads)
	sa.suite, sa.lifetime = choice.Offer.Suite, choice.Lifetime
	sa.ckyR = e.newCookie()
	e.traceLocked(sa, "phase-1 chosen", remote, "suite", sa.suite.String(), "lifetime", sa.lifetime.String(), "natt", sa.natt.String())

	reply := []isakmp.Payload{&isakmp.SA{DOI: isakmp.DOIIPsec, Situation: isakmp.SituationIdentityOnly, Proposals: []isakmp.Proposal{{
		Number: choice.Offer.ProposalNum, Protocol: isakmp.ProtoISAKMP,
		Transforms: []isakmp.Transform{{Number: choice.Offer.TransformNum, ID: uint8(isakmp.KeyIKE), Attributes: choice.Offer.Raw}},
	}}}}
	reply = append(reply, ourVendorIDs(sa.natt, !e.cfg.DisableFragmentation)...)
	rh := sa.header(isakmp.ExchangeMainMode, 0)
	out := &isakmp.Message{Header: rh}
	out.Payloads = reply
	b, err := out.Marshal()
	if err != nil {
		return err
	}
	e.addSALocked(sa)
	sa.halfOpen, sa.initKey = true, key
	e.byInit[key] = sa
	e.halfOpen[src]++
	e.nHalf++
	sa.setState(p1RespSentMM2)
	sa.lastRecv = sha256Sum(pkt)
	sa.expire = e.clock.AfterFunc(e.cfg.HalfOpenTimeout, func() { e.halfOpenExpired(sa) })
	e.traceMsgLocked(sa, true, &out.Header, reply, remote)
	e.replyLocked(sa, b)
	return nil
}

func (e *Engine) addSALocked(sa *ikeSA) {
	e.sas[pairOf(sa.ckyI, sa.ckyR)] = sa
	if e.metrics != nil {
		e.metrics.IKESAs.Inc()
	}
}

func (e *Engine) releaseHalfOpenLocked(sa *ikeSA) {
	if !sa.halfOpen {
		return
	}
	sa.halfOpen = false
	// The key recorded at message 1: the peer may have floated since.
	src := sa.initKey.remote.Addr().Unmap()
	if n := e.halfOpen[src] - 1; n > 0 {
		e.halfOpen[src] = n
	} else {
		delete(e.halfOpen, src)
	}
	e.nHalf--
	if e.byInit[sa.initKey] == sa {
		delete(e.byInit, sa.initKey)
	}
}

func (e *Engine) halfOpenExpired(sa *ikeSA) {
	e.lock()
	defer e.unlock()
	if sa.state == p1Established || sa.state == p1Deleted {
		return
	}
	f := &Failure{Reason: ReasonTimeout, Detail: "negotiation stalled in " + sa.state.String(), KeyIndex: -1}
	e.traceLocked(sa, "phase-1 timed out in "+sa.state.String(), sa.remote)
	reportable := sa.state != p1RespSentMM2 // a lone message 1 is scan noise
	e.removeSALocked(sa, ReasonTimeout, false)
	if reportable || sa.initiator {
		e.countPhase(false, false, ReasonTimeout)
		remote := sa.remote
		e.emit(func() { e.events.Phase1Failed(remote, f) })
	}
}

// natdPayloads builds NAT-D payloads: first the hash of the receiver's
// address, then the sender's (RFC 3947 section 3.2).
func (sa *ikeSA) natdPayloads() []isakmp.Payload {
	if sa.natt == isakmp.VendorUnknown {
		return nil
	}
	d := sa.draftNATT()
	return []isakmp.Payload{
		&isakmp.NATD{Draft: d, Hash: NATDHash(sa.suite.Hash, sa.ckyI[:], sa.ckyR[:], sa.remote)},
		&isakmp.NATD{Draft: d, Hash: NATDHash(sa.suite.Hash, sa.ckyI[:], sa.ckyR[:], sa.local)},
	}
}

// detectNAT compares the peer's NAT-D payloads with our addresses (RFC
// 3947 section 3.2): the first must be the hash of our address as the
// peer sent to it, one of the others the hash of the peer's address as
// we see it.
func (sa *ikeSA) detectNAT(payloads []isakmp.Payload) {
	if sa.natt == isakmp.VendorUnknown {
		return
	}
	ds := isakmp.FindAll[*isakmp.NATD](payloads)
	if len(ds) < 2 {
		sa.natt = isakmp.VendorUnknown // the peer did not do NAT-T after all
		return
	}
	me := NATDHash(sa.suite.Hash, sa.ckyI[:], sa.ckyR[:], sa.local)
	peer := NATDHash(sa.suite.Hash, sa.ckyI[:], sa.ckyR[:], sa.remote)
	sa.natLocal = !hmac.Equal(ds[0].Hash, me)
	sa.natRemote = true
	for _, d := range ds[1:] {
		if hmac.Equal(d.Hash, peer) {
			sa.natRemote = false
		}
	}
}

func (e *Engine) mainModeLocked(sa *ikeSA, pkt []byte, h isakmp.Header, body []byte, sum [32]byte) error {
	switch sa.state {
	case p1RespSentMM2:
		return e.responderMM3Locked(sa, pkt, sum)
	case p1RespSentMM4:
		if isSignature(sa.suite.Auth) {
			return e.responderMM5SigLocked(sa, h, body, sum)
		}
		return e.responderMM5Locked(sa, h, body, sum)
	case p1RespVerifying:
		return errIgnore // message 5 again while its certificate is checked
	case p1RespComputing:
		return errIgnore // message 3 again while its DH is computed
	case p1InitSentMM1:
		return e.initiatorMM2Locked2(sa, pkt)
	case p1InitSentMM3:
		return e.initiatorMM4Locked(sa, pkt)
	case p1InitSentMM5:
		return e.initiatorMM6Locked(sa, h, body)
	}
	return fmt.Errorf("%w: Main Mode message in state %v", ErrUnexpected, sa.state)
}

// computeDH makes our key and the shared secret; it touches no engine
// state, so it runs without the lock.
func computeDH(g Group, rnd io.Reader, peer []byte) (*DHKey, []byte, error) {
	k, err := GenerateDH(g, rnd)
	if err != nil {
		return nil, nil, err
	}
	gxy, err := k.Shared(peer)
	return k, gxy, err
}

// keNonce reads and checks the KE and nonce payloads of messages 3 and 4.
func keNonce(g Group, payloads []isakmp.Payload) (ke, nonce []byte, err error) {
	k, ok1 := isakmp.Find[*isakmp.KE](payloads)
	n, ok2 := isakmp.Find[*isakmp.Nonce](payloads)
	if !ok1 || !ok2 {
		return nil, nil, fmt.Errorf("%w: KE or nonce missing", ErrMalformed)
	}
	if len(k.Data) != g.PublicSize() {
		return nil, nil, &Failure{Reason: ReasonInvalidKE, Detail: fmt.Sprintf("%v KE of %d bytes", g, len(k.Data)), KeyIndex: -1}
	}
	if len(n.Data) < 8 || len(n.Data) > 256 {
		return nil, nil, fmt.Errorf("%w: nonce of %d bytes", ErrMalformed, len(n.Data))
	}
	return append([]byte(nil), k.Data...), append([]byte(nil), n.Data...), nil
}

// responderMM3Locked: compute g^xy once and answer with KE, Nr, NAT-D.
func (e *Engine) responderMM3Locked(sa *ikeSA, pkt []byte, sum [32]byte) error {
	m, err := isakmp.Parse(pkt)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	e.traceMsgLocked(sa, false, &m.Header, m.Payloads, sa.remote)
	ke, ni, err := keNonce(sa.suite.Group, m.Payloads)
	if err != nil {
		return err
	}
	// The DH computation (up to milliseconds for MODP) runs without the
	// engine's lock so that other peers are served meanwhile; the SA waits
	// in p1RespComputing, which ignores a retransmitted message 3.
	sa.setState(p1RespComputing)
	e.mu.Unlock()
	dh, gxy, err := computeDH(sa.suite.Group, e.cfg.Rand, ke)
	e.mu.Lock()
	if sa.state != p1RespComputing {
		return fmt.Errorf("%w: SA removed during the DH computation", ErrUnknownSA)
	}
	sa.setState(p1RespSentMM2)
	e.countDH()
	if err != nil {
		return &Failure{Reason: ReasonInvalidKE, Detail: err.Error(), KeyIndex: -1}
	}
	sa.dh = dh
	sa.gxi, sa.gxr, sa.gxy, sa.ni, sa.nr = ke, sa.dh.Public(), gxy, ni, e.random(32)
	sa.detectNAT(m.Payloads)
	if sa.natDetected() {
		e.traceLocked(sa, "NAT detected", sa.remote, "local_behind_nat", sa.natLocal, "peer_behind_nat", sa.natRemote)
	}
	reply := []isakmp.Payload{&isakmp.KE{Data: sa.gxr}, &isakmp.Nonce{Data: sa.nr}}
	if isSignature(sa.suite.Auth) {
		// With signatures the keys do not depend on a secret we must
		// guess: derive them now, and ask for the peer's certificate.
		sa.certs = e.cfg.Certs
		skeyid := SKEYIDSignature(sa.suite.Hash, sa.ni, sa.nr, sa.gxy)
		if sa.keys, err = DerivePhase1(sa.suite.Hash, sa.suite.Cipher, sa.suite.KeyBytes(), skeyid, sa.gxy, sa.ckyI[:], sa.ckyR[:], sa.gxi, sa.gxr); err != nil {
			return err
		}
		reply = append(reply, certReqPayloads(sa.certs)...)
	}
	reply = append(reply, sa.natdPayloads()...)
	out := &isakmp.Message{Header: sa.header(isakmp.ExchangeMainMode, 0), Body: isakmp.Body{Payloads: reply}}
	b, err := out.Marshal()
	if err != nil {
		return err
	}
	sa.setState(p1RespSentMM4)
	sa.lastRecv = sum
	e.traceMsgLocked(sa, true, &out.Header, reply, sa.remote)
	e.replyLocked(sa, b)
	return nil
}

// pskCandidates lists the indexes of the keys to try for a peer: keys for
// its networks first, then keys for everyone, at most MaxPSKTrials.
func (e *Engine) pskCandidates(peer netip.Addr) []int {
	peer = peer.Unmap()
	var specific, general []int
	for i, k := range e.cfg.PSKs {
		if len(k.Networks) == 0 {
			general = append(general, i)
			continue
		}
		for _, n := range k.Networks {
			if n.Contains(peer) {
				specific = append(specific, i)
				break
			}
		}
	}
	c := append(specific, general...)
	if len(c) > e.cfg.MaxPSKTrials {
		c = c[:e.cfg.MaxPSKTrials]
	}
	return c
}

// responderMM5Locked finds the PSK by trial decryption of message 5 and
// checks HASH_I, then answers with IDir and HASH_R (RFC 2409 section 5.4).
func (e *Engine) responderMM5Locked(sa *ikeSA, h isakmp.Header, body []byte, sum [32]byte) error {
	if !h.Encrypted() {
		return fmt.Errorf("%w: message 5 not encrypted", ErrMalformed)
	}
	cands := e.pskCandidates(sa.remote.Addr())
	var (
		keys  *Phase1Keys
		pb    *isakmp.Body
		next  []byte
		found = -1
	)
	for _, idx := range cands {
		skeyid := SKEYIDPreShared(sa.suite.Hash, e.cfg.PSKs[idx].Key, sa.ni, sa.nr)
		k, err := DerivePhase1(sa.suite.Hash, sa.suite.Cipher, sa.suite.KeyBytes(), skeyid, sa.gxy, sa.ckyI[:], sa.ckyR[:], sa.gxi, sa.gxr)
		if err != nil {
			return err
		}
		trial := &ikeSA{keys: k}
		b, _, n, err := trial.decrypt(h, body, k.IV)
		if err != nil {
			continue
		}
		id, idRaw, hash := mm56Payloads(b)
		if id == nil || hash == nil {
			continue
		}
		want := HashI(sa.suite.Hash, skeyid, sa.gxi, sa.gxr, sa.ckyI[:], sa.ckyR[:], sa.saiB, idRaw)
		if hmac.Equal(hash.Data, want) {
			keys, pb, next, found = k, b, n, idx
			break
		}
	}
	if found < 0 {
		return e.failPhase1Locked(sa, &Failure{Reason: ReasonPSKMismatch, Detail: fmt.Sprintf("message 5 matched none of %d candidate keys", len(cands))})
	}
	sa.keys, sa.keyIndex = keys, found
	rh := h
	e.traceMsgLocked(sa, false, &rh, pb.Payloads, sa.remote)
	sa.peerID, _, _ = mm56Payloads(pb)
	sa.peerID = copyID(sa.peerID)
	for _, n := range isakmp.FindAll[*isakmp.Notify](pb.Payloads) {
		if n.NotifyType == isakmp.NotifyInitialContact {
			sa.initialContact = true
		}
	}
	idr := isakmp.NewIDAddr(sa.local.Addr().Unmap(), 0, 0)
	if e.cfg.LocalID != nil {
		idr = copyID(e.cfg.LocalID)
	}
	idrRaw, err := idBody(idr)
	if err != nil {
		return err
	}
	hashR := HashR(sa.suite.Hash, keys.SKEYID, sa.gxi, sa.gxr, sa.ckyI[:], sa.ckyR[:], sa.saiB, idrRaw)
	reply := []isakmp.Payload{idr, &isakmp.Hash{Data: hashR}}
	oh := sa.header(isakmp.ExchangeMainMode, 0)
	b, last, err := sa.encrypt(oh, reply, next)
	if err != nil {
		return err
	}
	oh.Flags |= isakmp.FlagEncryption
	e.traceMsgLocked(sa, true, &oh, reply, sa.remote)
	sa.lastRecv = sum
	sa.iv, sa.lastP1IV = last, last
	e.replyLocked(sa, b)
	e.establishLocked(sa)
	return nil
}

// replyLocked sends a Main Mode message and keeps it for answering
// retransmissions. It is cut into IKE fragments when the peer announced
// fragmentation and the message would not fit one datagram (certificate
// chains), since NATs often drop IP fragments.
func (e *Engine) replyLocked(sa *ikeSA, pkt []byte) {
	sa.lastReply = [][]byte{pkt}
	if sa.frag && !e.cfg.DisableFragmentation && len(pkt) > e.cfg.FragmentSize {
		sa.fragID++
		if frags, err := isakmp.SplitFragments(pkt, sa.fragID, e.cfg.FragmentSize); err == nil {
			sa.lastReply = frags
		}
	}
	e.resendLocked(sa)
}

func (e *Engine) resendLocked(sa *ikeSA) {
	for _, p := range sa.lastReply {
		e.sendLocked(p, sa.local, sa.remote)
	}
}

// failPhase1Locked ends a negotiation that failed after message 1 and
// reports why.
func (e *Engine) failPhase1Locked(sa *ikeSA, f *Failure) *Failure {
	f.KeyIndex = -1
	e.traceLocked(sa, "phase-1 failed: "+f.Error(), sa.remote)
	remote := sa.remote
	e.removeSALocked(sa, f.Reason, false)
	e.countPhase(false, false, f.Reason)
	e.emit(func() { e.events.Phase1Failed(remote, f) })
	return f
}

// responderMM5SigLocked checks message 5 with signature authentication:
// the SIG over HASH_I with the sent certificate's key and the ID against
// the certificate here, then the chain (which may need CRL fetches)
// without the lock; message 6 follows when it passes.
func (e *Engine) responderMM5SigLocked(sa *ikeSA, h isakmp.Header, body []byte, sum [32]byte) error {
	b, _, next, err := sa.decrypt(h, body, sa.keys.IV)
	if err != nil {
		return err
	}
	e.traceMsgLocked(sa, false, &h, b.Payloads, sa.remote)
	id, idRaw, _ := mm56Payloads(b)
	sig, ok := isakmp.Find[*isakmp.Sig](b.Payloads)
	if id == nil || !ok {
		return e.failPhase1Locked(sa, &Failure{Reason: ReasonMalformed, Detail: "message 5 without ID or SIG"})
	}
	leaf, inter, err := parseCerts(b.Payloads)
	if err != nil {
		return e.failPhase1Locked(sa, &Failure{Reason: ReasonCertificate, Detail: err.Error()})
	}
	hashI := HashI(signatureHash(sa.suite.Hash, sa.suite.Auth), sa.keys.SKEYID, sa.gxi, sa.gxr, sa.ckyI[:], sa.ckyR[:], sa.saiB, idRaw)
	if err := verifyHash(leaf.PublicKey, sa.suite.Auth, hashI, sig.Data); err != nil {
		return e.failPhase1Locked(sa, &Failure{Reason: ReasonBadSignature, Detail: err.Error()})
	}
	if err := checkIDAgainstCert(id, leaf); err != nil {
		return e.failPhase1Locked(sa, &Failure{Reason: ReasonInvalidID, Detail: err.Error()})
	}
	sa.peerID, sa.peerCert = copyID(id), leaf
	for _, n := range isakmp.FindAll[*isakmp.Notify](b.Payloads) {
		if n.NotifyType == isakmp.NotifyInitialContact {
			sa.initialContact = true
		}
	}
	sa.setState(p1RespVerifying)
	sa.lastRecv, sa.lastReply = sum, nil
	verifier := sa.certs.Verifier
	e.pending.Add(1)
	go func() {
		defer e.pending.Done()
		err := verifier.VerifyChain(context.Background(), leaf, inter)
		e.lock()
		defer e.unlock()
		if sa.state != p1RespVerifying {
			return // timed out or deleted meanwhile
		}
		if err != nil {
			e.failPhase1Locked(sa, &Failure{Reason: ReasonCertificate, Detail: fmt.Sprintf("%q: %v", leaf.Subject.String(), err)})
			return
		}
		if err := e.responderMM6SigLocked(sa, next); err != nil {
			e.failPhase1Locked(sa, &Failure{Reason: ReasonCertificate, Detail: "signing message 6: " + err.Error()})
		}
	}()
	return nil
}

// responderMM6SigLocked answers with IDir, our chain and SIG_R.
func (e *Engine) responderMM6SigLocked(sa *ikeSA, iv []byte) error {
	idr := idForCert(sa.certs.Chain[0])
	idrRaw, err := idBody(idr)
	if err != nil {
		return err
	}
	hashR := HashR(signatureHash(sa.suite.Hash, sa.suite.Auth), sa.keys.SKEYID, sa.gxi, sa.gxr, sa.ckyI[:], sa.ckyR[:], sa.saiB, idrRaw)
	sigR, err := signHash(sa.certs.Key, sa.suite.Auth, hashR)
	if err != nil {
		return err
	}
	reply := append(append([]isakmp.Payload{idr}, certPayloads(sa.certs.Chain)...), &isakmp.Sig{Data: sigR})
	oh := sa.header(isakmp.ExchangeMainMode, 0)
	pkt, last, err := sa.encrypt(oh, reply, iv)
	if err != nil {
		return err
	}
	oh.Flags |= isakmp.FlagEncryption
	e.traceMsgLocked(sa, true, &oh, reply, sa.remote)
	sa.iv, sa.lastP1IV = last, last
	e.replyLocked(sa, pkt)
	e.establishLocked(sa)
	return nil
}

// mm56Payloads returns the ID payload, its raw body and the HASH payload
// of message 5 or 6.
func mm56Payloads(b *isakmp.Body) (*isakmp.ID, []byte, *isakmp.Hash) {
	var (
		id   *isakmp.ID
		raw  []byte
		hash *isakmp.Hash
	)
	for i, p := range b.Payloads {
		switch v := p.(type) {
		case *isakmp.ID:
			if id == nil {
				id, raw = v, b.Raw[i]
			}
		case *isakmp.Hash:
			if hash == nil {
				hash = v
			}
		}
	}
	return id, raw, hash
}

func copyID(id *isakmp.ID) *isakmp.ID {
	if id == nil {
		return nil
	}
	c := *id
	c.Data = append([]byte(nil), id.Data...)
	return &c
}

// idBody is an ID payload's body as it goes on the wire (IDii_b/IDir_b).
func idBody(id *isakmp.ID) ([]byte, error) {
	b, _, err := isakmp.MarshalBody([]isakmp.Payload{id})
	if err != nil {
		return nil, err
	}
	return b[4:], nil
}

// establishLocked completes phase 1 on either side.
func (e *Engine) establishLocked(sa *ikeSA) {
	sa.setState(p1Established)
	e.releaseHalfOpenLocked(sa)
	// Until now created was the first message's arrival.
	sa.started = sa.created
	if e.metrics != nil && !sa.created.IsZero() {
		e.metrics.Phase1Seconds.Observe(e.clock.Now().Sub(sa.created).Seconds())
	}
	sa.created = e.clock.Now()
	sa.lastSeen = sa.created
	sa.gxy, sa.dh = nil, nil
	if sa.expire != nil {
		sa.expire.Stop()
	}
	sa.expire = e.clock.AfterFunc(sa.lifetime, func() { e.expireIKESA(sa) })
	if sa.dpd && e.cfg.DPDInterval > 0 {
		sa.dpdTimer = e.clock.AfterFunc(e.cfg.DPDInterval, func() { e.dpdTick(sa) })
	}
	if sa.retrans != nil {
		sa.retrans.Stop()
	}
	e.countPhase(false, true, ReasonNone)
	info := sa.info()
	e.traceLocked(sa, "phase-1 established", sa.remote, "suite", sa.suite.String(), "key_index", sa.keyIndex, "peer_id", info.PeerID)
	e.emit(func() { e.events.Phase1Established(info) })
	if sa.initialContact {
		e.initialContactLocked(sa)
	}
	if sa.initiator && sa.dial != nil && sa.dial.Phase2 != nil {
		if err := e.startQuickModeLocked(sa); err != nil {
			e.log.Debug("ike: quick mode start failed", "err", err)
		}
	}
}

// initialContactLocked drops every other SA of this peer (RFC 2407
// section 4.6.3.3). Behind a NAT several clients share the public address
// (and, behind a carrier-grade NAT, even their private one, which is
// what Windows sends as its ID), so there only the same NAT mapping
// counts; without a NAT the address is the peer.
func (e *Engine) initialContactLocked(sa *ikeSA) {
	info := sa.info()
	for _, o := range e.sas {
		if o == sa || o.state == p1Deleted || o.remote.Addr() != sa.remote.Addr() {
			continue
		}
		if o.remote == sa.remote || !o.natRemote && !sa.natRemote {
			e.traceLocked(o, "INITIAL-CONTACT: dropping the peer's older SA", o.remote)
			e.removeSALocked(o, ReasonInitialContact, false)
		}
	}
	e.emit(func() { e.events.InitialContact(info) })
}

// expireIKESA ends a phase-1 SA at the end of its lifetime.
func (e *Engine) expireIKESA(sa *ikeSA) {
	e.lock()
	defer e.unlock()
	if sa.state != p1Established {
		return
	}
	e.traceLocked(sa, "phase-1 lifetime expired", sa.remote)
	e.removeSALocked(sa, ReasonExpired, true)
}

// removeSALocked deletes an IKE SA. With notify, the peer is told with a
// Delete payload. Its child SAs stay installed until they expire or the
// peer deletes them (IKEv1 children outlive their parent), except on
// INITIAL-CONTACT, DPD death and shutdown, which take them too.
func (e *Engine) removeSALocked(sa *ikeSA, r Reason, notify bool) {
	if sa.state == p1Deleted {
		return
	}
	wasEstablished := sa.state == p1Established
	takeChildren := r == ReasonInitialContact || r == ReasonDeadPeer || r == ReasonShutdown
	if takeChildren {
		for _, c := range append([]*ChildSA(nil), sa.children...) {
			e.removeChildLocked(c, r, r == ReasonShutdown)
		}
	}
	if notify && wasEstablished {
		// After the children's Deletes, which need this SA to be sent.
		e.sendDeleteLocked(sa, isakmp.ProtoISAKMP, [][]byte{append(sa.ckyI[:], sa.ckyR[:]...)})
	}
	sa.setState(p1Deleted)
	e.releaseHalfOpenLocked(sa)
	for _, t := range []interface{ Stop() bool }{sa.expire, sa.dpdTimer, sa.retrans} {
		if t != nil {
			t.Stop()
		}
	}
	for _, k := range []cookiePair{pairOf(sa.ckyI, sa.ckyR), pairOf(sa.ckyI, isakmp.Cookie{})} {
		if e.sas[k] == sa {
			delete(e.sas, k)
		}
	}
	if e.metrics != nil {
		e.metrics.IKESAs.Dec()
	}
	sa.gxy, sa.dh, sa.keys = nil, nil, nil
	if wasEstablished {
		info := sa.info()
		e.emit(func() { e.events.IKESADeleted(info, r) })
	}
}

// Shutdown deletes every SA, telling the peers.
func (e *Engine) Shutdown() {
	e.lock()
	defer e.unlock()
	for _, sa := range e.sas {
		e.removeSALocked(sa, ReasonShutdown, true)
	}
}

func sha256Sum(b []byte) [32]byte { return sha256.Sum256(b) }
