package ike

import (
	"context"
	"crypto/hmac"
	"encoding/binary"
	"fmt"
	"net/netip"
	"time"

	"github.com/l2tpsecd/l2tpsecd/ike/isakmp"
)

// DialConfig is what an initiator negotiates (tests and the load
// generator; the daemon itself only responds).
type DialConfig struct {
	PSK []byte
	// Phase1 suites to offer, best first (default: every suite of Policy).
	Phase1   []Phase1Suite
	Lifetime time.Duration // default 8 h
	// Phase2 suites to offer once phase 1 is up; nil stops after phase 1.
	// Their Encap is ignored: transport, or UDP transport when a NAT is
	// detected.
	Phase2         []Phase2Suite
	PFS            Group
	Phase2Lifetime uint64 // seconds, default 3600
	// L2TPPort is our phase-2 ID port (default 1701; any port is legal,
	// RFC 3193).
	L2TPPort       uint16
	InitialContact bool
	// NATT selects the NAT-T vendor ID to announce (default RFC 3947;
	// VendorNATTDraft02 etc. to play an old client); NoNATT announces none.
	NATT   isakmp.VendorID
	NoNATT bool
	// DPD announces dead peer detection.
	DPD bool
	// Fragmentation announces IKE fragmentation support (as iOS and
	// Windows do), so the responder may fragment its big messages.
	Fragmentation bool
	// Certs authenticates with a certificate instead of PSK (the offered
	// suites get the method of Certs.Key). The initiator verifies the
	// responder's chain synchronously.
	Certs *CertConfig
	// NATTPort is the responder's NAT-T port to float to (default 4500;
	// tests against a reference server may use another).
	NATTPort uint16
}

// Dial starts Main Mode toward remote from local as the initiator. The
// outcome arrives through Events (Phase1Established, then
// Phase2Established when Phase2 is set). It returns the initiator cookie.
func (e *Engine) Dial(local, remote netip.AddrPort, dc DialConfig) (isakmp.Cookie, error) {
	e.lock()
	defer e.unlock()
	if dc.Lifetime == 0 {
		dc.Lifetime = DefaultPhase1Lifetime
	}
	if dc.Phase1 == nil {
		dc.Phase1 = e.cfg.Policy.Phase1Suites()
	}
	if dc.Phase2Lifetime == 0 {
		dc.Phase2Lifetime = 3600
	}
	if dc.L2TPPort == 0 {
		dc.L2TPPort = L2TPPort
	}
	if dc.NATTPort == 0 {
		dc.NATTPort = isakmp.PortNATT
	}
	if !dc.NoNATT && dc.NATT == isakmp.VendorUnknown {
		dc.NATT = isakmp.VendorRFC3947
	}
	if dc.Certs != nil {
		m := dc.Certs.method()
		if m == 0 || len(dc.Certs.Chain) == 0 || dc.Certs.Verifier == nil {
			return isakmp.Cookie{}, fmt.Errorf("ike: certificate configuration needs a chain, an RSA or ECDSA key and a verifier")
		}
		suites := append([]Phase1Suite(nil), dc.Phase1...)
		for i := range suites {
			suites[i].Auth = m
		}
		dc.Phase1 = suites
	}
	if len(dc.Phase1) == 0 || len(dc.Phase1) > 255 {
		return isakmp.Cookie{}, fmt.Errorf("ike: %d phase-1 suites to offer", len(dc.Phase1))
	}
	sa := &ikeSA{initiator: true, ckyI: e.newCookie(), local: local, remote: remote, created: e.clock.Now(),
		policy: e.cfg.Policy, keyIndex: -1, psk: dc.PSK, dial: &dc, certs: dc.Certs}
	var ts []isakmp.Transform
	for i, s := range dc.Phase1 {
		ts = append(ts, isakmp.Transform{Number: uint8(i + 1), ID: uint8(isakmp.KeyIKE), Attributes: encodePhase1Transform(s, dc.Lifetime)})
	}
	sap := &isakmp.SA{DOI: isakmp.DOIIPsec, Situation: isakmp.SituationIdentityOnly,
		Proposals: []isakmp.Proposal{{Number: 1, Protocol: isakmp.ProtoISAKMP, Transforms: ts}}}
	payloads := []isakmp.Payload{sap}
	if !dc.NoNATT {
		payloads = append(payloads, &isakmp.VendorIDPayload{Data: dc.NATT.Bytes()})
	}
	if dc.DPD {
		payloads = append(payloads, &isakmp.VendorIDPayload{Data: isakmp.VendorDPD.Bytes()})
	}
	if dc.Fragmentation {
		payloads = append(payloads, &isakmp.VendorIDPayload{Data: isakmp.VendorFragmentation.Bytes()[:16]})
	}
	m := &isakmp.Message{Header: sa.header(isakmp.ExchangeMainMode, 0), Body: isakmp.Body{Payloads: payloads}}
	pkt, err := m.Marshal()
	if err != nil {
		return isakmp.Cookie{}, err
	}
	body, _, _ := isakmp.MarshalBody([]isakmp.Payload{sap})
	sa.saiB = body[4:]
	sa.setState(p1InitSentMM1)
	e.sas[pairOf(sa.ckyI, isakmp.Cookie{})] = sa
	if e.metrics != nil {
		e.metrics.IKESAs.Inc()
	}
	sa.expire = e.clock.AfterFunc(e.cfg.HalfOpenTimeout, func() { e.halfOpenExpired(sa) })
	e.traceMsgLocked(sa, true, &m.Header, payloads, remote)
	e.sendRequestLocked(sa, pkt)
	return sa.ckyI, nil
}

// sendRequestLocked sends an initiator's request and retransmits it until
// answered (RFC 2408 section 5 leaves the schedule to the implementation).
func (e *Engine) sendRequestLocked(sa *ikeSA, pkt []byte) {
	sa.retries = 0
	e.replyLocked(sa, pkt)
	if sa.retrans != nil {
		sa.retrans.Stop()
	}
	state := sa.state
	var tick func()
	tick = func() {
		e.lock()
		defer e.unlock()
		if sa.state != state || len(sa.lastReply) == 0 {
			return
		}
		if sa.retries >= e.cfg.RetransmitTries {
			return // halfOpenExpired reports the failure
		}
		sa.retries++
		e.resendLocked(sa)
		sa.retrans = e.clock.AfterFunc(e.cfg.RetransmitInterval, tick)
	}
	sa.retrans = e.clock.AfterFunc(e.cfg.RetransmitInterval, tick)
}

// initiatorMM2Locked finds our half-open initiator SA for the responder's
// first answer, which carries the new responder cookie, and re-files it.
func (e *Engine) initiatorMM2Locked(h isakmp.Header, remote netip.AddrPort) *ikeSA {
	sa := e.sas[pairOf(h.InitiatorCookie, isakmp.Cookie{})]
	if sa == nil || !sa.initiator || sa.state != p1InitSentMM1 || h.Exchange != isakmp.ExchangeMainMode && h.Exchange != isakmp.ExchangeInformational {
		return nil
	}
	return sa
}

func (e *Engine) initiatorMM2Locked2(sa *ikeSA, pkt []byte) error {
	m, err := isakmp.Parse(pkt)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	e.traceMsgLocked(sa, false, &m.Header, m.Payloads, sa.remote)
	sap, ok := isakmp.Find[*isakmp.SA](m.Payloads)
	if !ok {
		return fmt.Errorf("%w: message 2 without SA", ErrMalformed)
	}
	offers, err := phase1Offers(sap)
	if err != nil || len(offers) != 1 || offers[0].Problem != "" {
		return fmt.Errorf("%w: message 2 must choose one transform", ErrMalformed)
	}
	chosen := offers[0].Suite
	okSuite := false
	for _, s := range sa.dial.Phase1 {
		okSuite = okSuite || s == chosen
	}
	if !okSuite {
		return fmt.Errorf("%w: responder chose %v, which we did not offer", ErrUnexpected, chosen)
	}
	delete(e.sas, pairOf(sa.ckyI, isakmp.Cookie{}))
	sa.ckyR = m.ResponderCookie
	e.sas[pairOf(sa.ckyI, sa.ckyR)] = sa
	sa.suite, sa.lifetime = chosen, sa.dial.Lifetime
	if offers[0].Lifetime > 0 && offers[0].Lifetime < sa.lifetime {
		sa.lifetime = offers[0].Lifetime
	}
	natt, dpd, frag, _ := peerCaps(m.Payloads)
	if sa.dial.NoNATT {
		natt = isakmp.VendorUnknown
	} else if natt != isakmp.VendorUnknown {
		natt = sa.dial.NATT // speak the variant we announced
	}
	sa.natt, sa.dpd, sa.frag = natt, dpd && sa.dial.DPD, frag
	if sa.dh, err = GenerateDH(sa.suite.Group, e.cfg.Rand); err != nil {
		return err
	}
	sa.gxi, sa.ni = sa.dh.Public(), e.random(32)
	payloads := []isakmp.Payload{&isakmp.KE{Data: sa.gxi}, &isakmp.Nonce{Data: sa.ni}}
	if isSignature(sa.suite.Auth) {
		payloads = append(payloads, certReqPayloads(sa.certs)...)
	}
	payloads = append(payloads, sa.natdPayloads()...)
	out := &isakmp.Message{Header: sa.header(isakmp.ExchangeMainMode, 0), Body: isakmp.Body{Payloads: payloads}}
	b, err := out.Marshal()
	if err != nil {
		return err
	}
	sa.setState(p1InitSentMM3)
	e.traceMsgLocked(sa, true, &out.Header, payloads, sa.remote)
	e.sendRequestLocked(sa, b)
	return nil
}

func (e *Engine) initiatorMM4Locked(sa *ikeSA, pkt []byte) error {
	m, err := isakmp.Parse(pkt)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	e.traceMsgLocked(sa, false, &m.Header, m.Payloads, sa.remote)
	ke, nr, err := keNonce(sa.suite.Group, m.Payloads)
	if err != nil {
		return err
	}
	e.countDH()
	gxy, err := sa.dh.Shared(ke)
	if err != nil {
		return &Failure{Reason: ReasonInvalidKE, Detail: err.Error(), KeyIndex: -1}
	}
	sa.gxr, sa.nr = ke, nr
	skeyid := SKEYIDPreShared(sa.suite.Hash, sa.psk, sa.ni, sa.nr)
	if isSignature(sa.suite.Auth) {
		skeyid = SKEYIDSignature(sa.suite.Hash, sa.ni, sa.nr, gxy)
	}
	if sa.keys, err = DerivePhase1(sa.suite.Hash, sa.suite.Cipher, sa.suite.KeyBytes(), skeyid, gxy, sa.ckyI[:], sa.ckyR[:], sa.gxi, sa.gxr); err != nil {
		return err
	}
	sa.detectNAT(m.Payloads)
	if sa.natDetected() {
		// Float to UDP/4500 from message 5 on (RFC 3947 section 4).
		sa.local = netip.AddrPortFrom(sa.local.Addr(), isakmp.PortNATT)
		sa.remote = netip.AddrPortFrom(sa.remote.Addr(), sa.dial.NATTPort)
		e.traceLocked(sa, "NAT detected, floating to 4500", sa.remote, "local_behind_nat", sa.natLocal, "peer_behind_nat", sa.natRemote)
	}
	id := isakmp.NewIDAddr(sa.local.Addr().Unmap(), 0, 0)
	if isSignature(sa.suite.Auth) {
		id = idForCert(sa.certs.Chain[0])
	}
	idRaw, err := idBody(id)
	if err != nil {
		return err
	}
	hashI := HashI(sa.suite.Hash, skeyid, sa.gxi, sa.gxr, sa.ckyI[:], sa.ckyR[:], sa.saiB, idRaw)
	payloads := []isakmp.Payload{id, &isakmp.Hash{Data: hashI}}
	if isSignature(sa.suite.Auth) {
		hashI = HashI(signatureHash(sa.suite.Hash, sa.suite.Auth), skeyid, sa.gxi, sa.gxr, sa.ckyI[:], sa.ckyR[:], sa.saiB, idRaw)
		sig, err := signHash(sa.certs.Key, sa.suite.Auth, hashI)
		if err != nil {
			return err
		}
		payloads = append(append([]isakmp.Payload{id}, certPayloads(sa.certs.Chain)...), &isakmp.Sig{Data: sig})
	}
	if sa.dial.InitialContact {
		payloads = append(payloads, &isakmp.Notify{DOI: isakmp.DOIIPsec, Protocol: isakmp.ProtoISAKMP,
			NotifyType: isakmp.NotifyInitialContact, SPI: append(sa.ckyI[:], sa.ckyR[:]...)})
	}
	h := sa.header(isakmp.ExchangeMainMode, 0)
	b, next, err := sa.encrypt(h, payloads, sa.keys.IV)
	if err != nil {
		return err
	}
	h.Flags |= isakmp.FlagEncryption
	sa.iv = next
	sa.setState(p1InitSentMM5)
	e.traceMsgLocked(sa, true, &h, payloads, sa.remote)
	e.sendRequestLocked(sa, b)
	return nil
}

func (e *Engine) initiatorMM6Locked(sa *ikeSA, h isakmp.Header, body []byte) error {
	if !h.Encrypted() {
		// The responder answered a retransmission of our message 3 with
		// message 4 again after we had moved on: drop it, as a
		// responder drops repeats. It says nothing about the key.
		return fmt.Errorf("%w: clear Main Mode message after message 5 (a repeated message 4)", ErrUnexpected)
	}
	b, _, next, err := sa.decrypt(h, body, sa.iv)
	if err == nil {
		id, idRaw, hash := mm56Payloads(b)
		if id != nil && isSignature(sa.suite.Auth) {
			return e.initiatorMM6SigLocked(sa, h, b, id, idRaw, next)
		}
		if id != nil && hash != nil && hmac.Equal(hash.Data, HashR(sa.suite.Hash, sa.keys.SKEYID, sa.gxi, sa.gxr, sa.ckyI[:], sa.ckyR[:], sa.saiB, idRaw)) {
			e.traceMsgLocked(sa, false, &h, b.Payloads, sa.remote)
			sa.peerID = copyID(id)
			sa.iv, sa.lastP1IV = next, next
			sa.lastReply = nil
			sa.keyIndex = 0
			e.establishLocked(sa)
			return nil
		}
	}
	f := &Failure{Reason: ReasonPSKMismatch, Detail: "message 6 did not authenticate", KeyIndex: -1}
	remote := sa.remote
	e.removeSALocked(sa, ReasonPSKMismatch, false)
	e.countPhase(false, false, f.Reason)
	e.emit(func() { e.events.Phase1Failed(remote, f) })
	return f
}

// initiatorMM6SigLocked checks the responder's SIG_R, ID and chain
// (synchronously: the initiator serves tests and the load generator).
func (e *Engine) initiatorMM6SigLocked(sa *ikeSA, h isakmp.Header, b *isakmp.Body, id *isakmp.ID, idRaw, next []byte) error {
	e.traceMsgLocked(sa, false, &h, b.Payloads, sa.remote)
	sig, ok := isakmp.Find[*isakmp.Sig](b.Payloads)
	if !ok {
		return e.failPhase1Locked(sa, &Failure{Reason: ReasonMalformed, Detail: "message 6 without SIG"})
	}
	leaf, inter, err := parseCerts(b.Payloads)
	if err != nil {
		return e.failPhase1Locked(sa, &Failure{Reason: ReasonCertificate, Detail: err.Error()})
	}
	hashR := HashR(signatureHash(sa.suite.Hash, sa.suite.Auth), sa.keys.SKEYID, sa.gxi, sa.gxr, sa.ckyI[:], sa.ckyR[:], sa.saiB, idRaw)
	if err := verifyHash(leaf.PublicKey, sa.suite.Auth, hashR, sig.Data); err != nil {
		return e.failPhase1Locked(sa, &Failure{Reason: ReasonBadSignature, Detail: err.Error()})
	}
	if err := checkIDAgainstCert(id, leaf); err != nil {
		return e.failPhase1Locked(sa, &Failure{Reason: ReasonInvalidID, Detail: err.Error()})
	}
	if err := sa.certs.Verifier.VerifyChain(context.Background(), leaf, inter); err != nil {
		return e.failPhase1Locked(sa, &Failure{Reason: ReasonCertificate, Detail: err.Error()})
	}
	sa.peerID, sa.peerCert = copyID(id), leaf
	sa.iv, sa.lastP1IV = next, next
	sa.lastReply = nil
	e.establishLocked(sa)
	return nil
}

// QuickMode starts a new Quick Mode on an established IKE SA that we
// initiated (a rekey, or another pair of ESP SAs).
func (e *Engine) QuickMode(ckyI, ckyR isakmp.Cookie) error {
	e.lock()
	defer e.unlock()
	sa := e.sas[pairOf(ckyI, ckyR)]
	if sa == nil || sa.state != p1Established || !sa.initiator || sa.dial == nil || sa.dial.Phase2 == nil {
		return fmt.Errorf("%w: no established initiator SA with phase-2 suites", ErrUnknownSA)
	}
	return e.startQuickModeLocked(sa)
}

func (e *Engine) udpEncapMode(sa *ikeSA) isakmp.EncapsulationMode {
	if !sa.natDetected() {
		return isakmp.EncapTransport
	}
	if sa.draftNATT() {
		return isakmp.EncapUDPTransportDraft
	}
	return isakmp.EncapUDPTransport
}

func (e *Engine) startQuickModeLocked(sa *ikeSA) error {
	dc := sa.dial
	if len(dc.Phase2) == 0 || len(dc.Phase2) > 255 {
		return fmt.Errorf("ike: %d phase-2 suites to offer", len(dc.Phase2))
	}
	var mid uint32
	for mid == 0 || sa.qms[mid] != nil {
		mid = binary.BigEndian.Uint32(e.random(4))
	}
	q := &quickMode{msgID: mid, ni: e.random(32), created: e.clock.Now()}
	q.ourSPI = e.newSPILocked()
	var spi [4]byte
	binary.BigEndian.PutUint32(spi[:], q.ourSPI)
	mode := e.udpEncapMode(sa)
	var ts []isakmp.Transform
	for i, s := range dc.Phase2 {
		s.Encap, s.PFS = mode, dc.PFS
		q.offered = append(q.offered, s)
		ts = append(ts, isakmp.Transform{Number: uint8(i + 1), ID: uint8(s.Transform), Attributes: encodePhase2Transform(s, dc.Phase2Lifetime)})
	}
	payloads := []isakmp.Payload{
		&isakmp.SA{DOI: isakmp.DOIIPsec, Situation: isakmp.SituationIdentityOnly,
			Proposals: []isakmp.Proposal{{Number: 1, Protocol: isakmp.ProtoESP, SPI: spi[:], Transforms: ts}}},
		&isakmp.Nonce{Data: q.ni},
	}
	if dc.PFS != 0 {
		var err error
		if q.dh, err = GenerateDH(dc.PFS, e.cfg.Rand); err != nil {
			return err
		}
		payloads = append(payloads, &isakmp.KE{Data: q.dh.Public()})
	}
	q.idci = isakmp.NewIDAddr(sa.local.Addr().Unmap(), protoUDP, dc.L2TPPort)
	q.idcr = isakmp.NewIDAddr(sa.remote.Addr().Unmap(), protoUDP, L2TPPort)
	payloads = append(payloads, q.idci, q.idcr)
	if sa.natDetected() {
		// As Windows does: our original address, then the responder's.
		q.natoaI, q.natoaR = sa.local.Addr().Unmap(), sa.remote.Addr().Unmap()
		d := sa.draftNATT()
		payloads = append(payloads, isakmp.NewNATOA(q.natoaI, d), isakmp.NewNATOA(q.natoaR, d))
	}
	rest, _, err := isakmp.MarshalBody(payloads)
	if err != nil {
		return err
	}
	all := append([]isakmp.Payload{&isakmp.Hash{Data: QMHash1(sa.suite.Hash, sa.keys.A, mid, rest)}}, payloads...)
	h := sa.header(isakmp.ExchangeQuickMode, mid)
	iv := Phase2IV(sa.suite.Hash, sa.lastP1IV, mid, sa.keys.Cipher.BlockSize())
	pkt, next, err := sa.encrypt(h, all, iv)
	if err != nil {
		return err
	}
	h.Flags |= isakmp.FlagEncryption
	q.iv = next
	q.lastReply = pkt
	q.setState(qmInitSentQM1)
	if sa.qms == nil {
		sa.qms = make(map[uint32]*quickMode)
	}
	sa.qms[mid] = q
	e.traceMsgLocked(sa, true, &h, all, sa.remote)
	e.sendLocked(pkt, sa.local, sa.remote)
	e.retransmitQMLocked(sa, q)
	e.forgetQMLater(sa, q)
	return nil
}

func (e *Engine) retransmitQMLocked(sa *ikeSA, q *quickMode) {
	tries := 0
	var tick func()
	tick = func() {
		e.lock()
		defer e.unlock()
		if q.state != qmInitSentQM1 || sa.state != p1Established || tries >= e.cfg.RetransmitTries {
			return
		}
		tries++
		e.sendLocked(q.lastReply, sa.local, sa.remote)
		e.clock.AfterFunc(e.cfg.RetransmitInterval, tick)
	}
	e.clock.AfterFunc(e.cfg.RetransmitInterval, tick)
}

// initiatorQM2Locked: check HASH(2) and the chosen transform, answer with
// HASH(3) and hand over the child SA.
func (e *Engine) initiatorQM2Locked(sa *ikeSA, q *quickMode, h isakmp.Header, body []byte, sum [32]byte) error {
	b, plain, next, err := sa.decrypt(h, body, q.iv)
	if err != nil {
		return err
	}
	hp, rest, err := hashFirst(b, plain)
	if err != nil {
		return err
	}
	if !hmac.Equal(hp.Data, QMHash2(sa.suite.Hash, sa.keys.A, q.msgID, q.ni, rest)) {
		return &Failure{Reason: ReasonBadHash, Detail: "Quick Mode HASH(2)", KeyIndex: sa.keyIndex}
	}
	e.traceMsgLocked(sa, false, &h, b.Payloads, sa.remote)
	sap, ok := isakmp.Find[*isakmp.SA](b.Payloads)
	nonce, ok2 := isakmp.Find[*isakmp.Nonce](b.Payloads)
	if !ok || !ok2 {
		return fmt.Errorf("%w: Quick Mode reply without SA or nonce", ErrMalformed)
	}
	offers, err := phase2Offers(sap)
	if err != nil || len(offers) != 1 || offers[0].Problem != "" {
		return fmt.Errorf("%w: Quick Mode reply must choose one ESP transform", ErrMalformed)
	}
	o := offers[0]
	found := false
	for _, s := range q.offered {
		found = found || s == o.Suite
	}
	if !found {
		return fmt.Errorf("%w: responder chose %v, which we did not offer", ErrUnexpected, o.Suite)
	}
	q.nr = append([]byte(nil), nonce.Data...)
	q.peerSPI = o.SPI
	q.choice = Phase2Choice{Offer: o, LifeSeconds: sa.dial.Phase2Lifetime}
	for _, n := range isakmp.FindAll[*isakmp.Notify](b.Payloads) {
		if n.NotifyType == isakmp.NotifyResponderLifetime {
			if s := responderLifetime(n.Data); s > 0 && s < q.choice.LifeSeconds {
				q.choice.LifeSeconds = s
			}
		}
	}
	if q.dh != nil {
		ke, ok := isakmp.Find[*isakmp.KE](b.Payloads)
		if !ok {
			return &Failure{Reason: ReasonInvalidKE, Detail: "PFS reply without KE", KeyIndex: sa.keyIndex}
		}
		e.countDH()
		if q.gqm, err = q.dh.Shared(ke.Data); err != nil {
			return &Failure{Reason: ReasonInvalidKE, Detail: err.Error(), KeyIndex: sa.keyIndex}
		}
	}
	all := []isakmp.Payload{&isakmp.Hash{Data: QMHash3(sa.suite.Hash, sa.keys.A, q.msgID, q.ni, q.nr)}}
	oh := sa.header(isakmp.ExchangeQuickMode, q.msgID)
	pkt, _, err := sa.encrypt(oh, all, next)
	if err != nil {
		return err
	}
	oh.Flags |= isakmp.FlagEncryption
	q.lastRecv, q.lastReply = sum, pkt
	q.setState(qmDone)
	e.traceMsgLocked(sa, true, &oh, all, sa.remote)
	e.sendLocked(pkt, sa.local, sa.remote)
	e.installChildLocked(sa, q, true)
	return nil
}

// responderLifetime reads the seconds from RESPONDER-LIFETIME data.
func responderLifetime(data []byte) uint64 {
	var secs uint64
	var typ uint16
	for len(data) >= 4 {
		t, v := binary.BigEndian.Uint16(data), binary.BigEndian.Uint16(data[2:])
		data = data[4:]
		var val uint64
		if t&0x8000 != 0 {
			val = uint64(v)
		} else {
			if int(v) > len(data) || v > 8 {
				return 0
			}
			for _, c := range data[:v] {
				val = val<<8 | uint64(c)
			}
			data = data[v:]
		}
		switch isakmp.IPsecAttr(t &^ 0x8000) {
		case isakmp.IPsecSALifeType:
			typ = uint16(val)
		case isakmp.IPsecSALifeDuration:
			if isakmp.LifeType(typ) == isakmp.LifeSeconds {
				secs = val
			}
		}
	}
	return secs
}
