package ike

import (
	"crypto/hmac"
	"encoding/binary"
	"fmt"
	"net/netip"
	"time"

	"github.com/l2tpsecd/l2tpsecd/ike/isakmp"
	"github.com/l2tpsecd/l2tpsecd/internal/clock"
)

// Quick Mode (RFC 2409 section 5.5), for L2TP/IPsec ESP transport mode
// protecting UDP/1701 on the server's side (RFC 3193):
//
//	Initiator                        Responder
//	HDR*, HASH(1), SA, Ni [, KE] [, IDci, IDcr] [, NAT-OA, NAT-OA] -->
//	                   <-- HDR*, HASH(2), SA, Nr [, KE] [, IDci, IDcr] [, N(RESPONDER-LIFETIME)]
//	HDR*, HASH(3) -->

// maxQuickModes bounds the Quick Mode exchanges kept per IKE SA.
const maxQuickModes = 32

// L2TPPort is the L2TP port the server protects (RFC 3193).
const L2TPPort = 1701

const protoUDP = 17

// childState is the engine's record of a child SA.
type childState struct {
	child  *ChildSA
	parent *ikeSA
	timer  clock.Timer
}

func (e *Engine) quickModeLocked(sa *ikeSA, pkt []byte, h isakmp.Header, body []byte, sum [32]byte) error {
	if sa.state != p1Established || sa.keys == nil {
		return fmt.Errorf("%w: Quick Mode before phase 1 is complete", ErrUnexpected)
	}
	if h.MessageID == 0 {
		return fmt.Errorf("%w: Quick Mode with message ID 0", ErrMalformed)
	}
	if q := sa.qms[h.MessageID]; q != nil {
		if q.lastRecv == sum && q.lastReply != nil {
			e.sendLocked(q.lastReply, sa.local, sa.remote)
			e.countRetransmit()
			return nil
		}
		switch q.state {
		case qmRespSentQM2:
			return e.responderQM3Locked(sa, q, h, body)
		case qmInitSentQM1:
			return e.initiatorQM2Locked(sa, q, h, body, sum)
		}
		return fmt.Errorf("%w: Quick Mode %08x already done", ErrUnexpected, h.MessageID)
	}
	return e.responderQM1Locked(sa, h, body, sum)
}

// hashFirst returns the HASH payload that must lead a protected message
// and the bytes the hash covers: every payload after it, padding excluded.
func hashFirst(b *isakmp.Body, plain []byte) (*isakmp.Hash, []byte, error) {
	if len(b.Payloads) == 0 {
		return nil, nil, fmt.Errorf("%w: empty protected message", ErrMalformed)
	}
	hp, ok := b.Payloads[0].(*isakmp.Hash)
	if !ok {
		return nil, nil, fmt.Errorf("%w: protected message does not start with HASH", ErrMalformed)
	}
	start := 4 + len(b.Raw[0])
	if start > b.Len || b.Len > len(plain) {
		return nil, nil, fmt.Errorf("%w: payload chain bounds", ErrMalformed)
	}
	return hp, plain[start:b.Len], nil
}

// phase2Offers lists the ESP transforms of a Quick Mode SA. AND-ed
// proposals (ESP with AH or IPCOMP) are kept with a Problem so that the
// refusal names them.
func phase2Offers(sa *isakmp.SA) ([]Phase2Offer, error) {
	if sa.DOI != isakmp.DOIIPsec {
		return nil, fmt.Errorf("%w: DOI %v", ErrMalformed, sa.DOI)
	}
	var offers []Phase2Offer
	for _, g := range sa.ProposalGroups() {
		for _, p := range g {
			if p.Protocol != isakmp.ProtoESP {
				continue
			}
			if len(p.SPI) != 4 {
				return nil, fmt.Errorf("%w: ESP SPI of %d bytes", ErrMalformed, len(p.SPI))
			}
			spi := binary.BigEndian.Uint32(p.SPI)
			for _, t := range p.Transforms {
				o := decodePhase2Transform(p.Number, t.Number, spi, isakmp.ESPTransformID(t.ID), t.Attributes)
				if len(g) > 1 {
					o.Problem = fmt.Sprintf("AND-ed with %d other protocols", len(g)-1)
				}
				offers = append(offers, o)
			}
		}
	}
	return offers, nil
}

// checkIDs validates the phase-2 identities: host addresses (transport
// mode), and UDP or any protocol on our side.
func checkIDs(idci, idcr *isakmp.ID) error {
	for _, id := range []*isakmp.ID{idci, idcr} {
		if _, err := hostOf(id); err != nil {
			return err
		}
		if id.ProtocolID != 0 && id.ProtocolID != protoUDP {
			return fmt.Errorf("protocol %d is not UDP", id.ProtocolID)
		}
	}
	return nil
}

// hostOf returns the address of a host ID (an address or a /32 or /128
// subnet).
func hostOf(id *isakmp.ID) (netip.Addr, error) {
	switch id.IDType {
	case isakmp.IDIPv4Addr, isakmp.IDIPv6Addr:
		return id.Addr()
	case isakmp.IDIPv4AddrSubnet, isakmp.IDIPv6AddrSubnet:
		p, err := id.Subnet()
		if err != nil {
			return netip.Addr{}, err
		}
		if !p.IsSingleIP() {
			return netip.Addr{}, fmt.Errorf("subnet %v is not a host (transport mode only)", p)
		}
		return p.Addr(), nil
	}
	return netip.Addr{}, fmt.Errorf("ID type %v in phase 2", id.IDType)
}

// responderQM1Locked: check HASH(1), choose a transform, answer with QM2.
func (e *Engine) responderQM1Locked(sa *ikeSA, h isakmp.Header, body []byte, sum [32]byte) error {
	if len(sa.qms) >= maxQuickModes {
		return fmt.Errorf("%w: %d Quick Modes in progress", ErrUnexpected, len(sa.qms))
	}
	iv := Phase2IV(sa.suite.Hash, sa.lastP1IV, h.MessageID, sa.keys.Cipher.BlockSize())
	b, plain, next, err := sa.decrypt(h, body, iv)
	if err != nil {
		return err
	}
	hp, rest, err := hashFirst(b, plain)
	if err != nil {
		return err
	}
	if !hmac.Equal(hp.Data, QMHash1(sa.suite.Hash, sa.keys.A, h.MessageID, rest)) {
		return &Failure{Reason: ReasonBadHash, Detail: "Quick Mode HASH(1)", KeyIndex: sa.keyIndex}
	}
	e.traceMsgLocked(sa, false, &h, b.Payloads, sa.remote)
	fail := func(f *Failure) error {
		f.KeyIndex = sa.keyIndex
		e.traceLocked(sa, "phase-2 refused: "+f.Error(), sa.remote, "msgid", hexID(h.MessageID))
		if n := f.Reason.Notify(); n != 0 {
			e.sendInfoLocked(sa, []isakmp.Payload{&isakmp.Notify{DOI: isakmp.DOIIPsec, Protocol: isakmp.ProtoESP, NotifyType: n}})
		}
		e.countPhase(true, false, f.Reason)
		info := sa.info()
		e.emit(func() { e.events.Phase2Failed(info, f) })
		return f
	}
	sap, ok := isakmp.Find[*isakmp.SA](b.Payloads)
	nonce, ok2 := isakmp.Find[*isakmp.Nonce](b.Payloads)
	if !ok || !ok2 || len(nonce.Data) < 8 || len(nonce.Data) > 256 {
		return fmt.Errorf("%w: Quick Mode without SA or nonce", ErrMalformed)
	}
	offers, err := phase2Offers(sap)
	if err != nil {
		return err
	}
	e.traceLocked(sa, "phase-2 proposals offered", sa.remote, "msgid", hexID(h.MessageID), "offered", describeP2(offers, sa.policy, sa.natDetected()))
	choice, f := sa.policy.SelectPhase2(offers, sa.natDetected())
	if f != nil {
		return fail(f)
	}
	q := &quickMode{msgID: h.MessageID, ni: append([]byte(nil), nonce.Data...), nr: e.random(32), choice: choice,
		peerSPI: choice.Offer.SPI, created: e.clock.Now()}
	ids := isakmp.FindAll[*isakmp.ID](b.Payloads)
	switch len(ids) {
	case 0:
		// RFC 2409 section 5.5: absent IDs mean the ISAKMP peers' addresses.
		q.idci = isakmp.NewIDAddr(sa.remote.Addr().Unmap(), 0, 0)
		q.idcr = isakmp.NewIDAddr(sa.local.Addr().Unmap(), 0, 0)
	case 2:
		q.idci, q.idcr = copyID(ids[0]), copyID(ids[1])
	default:
		return fail(&Failure{Reason: ReasonInvalidID, Detail: fmt.Sprintf("%d phase-2 IDs", len(ids))})
	}
	if err := checkIDs(q.idci, q.idcr); err == nil && q.idcr.Port != 0 && q.idcr.Port != L2TPPort {
		err = fmt.Errorf("our side must be UDP/%d, not port %d", L2TPPort, q.idcr.Port)
		return fail(&Failure{Reason: ReasonInvalidID, Detail: err.Error()})
	} else if err != nil {
		return fail(&Failure{Reason: ReasonInvalidID, Detail: err.Error()})
	}
	oas := isakmp.FindAll[*isakmp.NATOA](b.Payloads)
	if len(oas) > 0 {
		q.natoaI, _ = oas[0].Addr()
	}
	if len(oas) > 1 {
		q.natoaR, _ = oas[1].Addr()
	}
	if g := choice.Offer.Suite.PFS; g != 0 {
		ke, ok := isakmp.Find[*isakmp.KE](b.Payloads)
		if !ok || len(ke.Data) != g.PublicSize() {
			return fail(&Failure{Reason: ReasonInvalidKE, Detail: "PFS without a valid KE"})
		}
		if q.dh, err = GenerateDH(g, e.cfg.Rand); err != nil {
			return err
		}
		e.countDH()
		if q.gqm, err = q.dh.Shared(ke.Data); err != nil {
			return fail(&Failure{Reason: ReasonInvalidKE, Detail: err.Error()})
		}
	}
	q.ourSPI = e.newSPILocked()
	var spi [4]byte
	binary.BigEndian.PutUint32(spi[:], q.ourSPI)
	o := choice.Offer
	reply := []isakmp.Payload{
		&isakmp.SA{DOI: isakmp.DOIIPsec, Situation: isakmp.SituationIdentityOnly, Proposals: []isakmp.Proposal{{
			Number: o.ProposalNum, Protocol: isakmp.ProtoESP, SPI: spi[:],
			Transforms: []isakmp.Transform{{Number: o.TransformNum, ID: uint8(o.Suite.Transform), Attributes: o.Raw}},
		}}},
		&isakmp.Nonce{Data: q.nr},
	}
	if q.dh != nil {
		reply = append(reply, &isakmp.KE{Data: q.dh.Public()})
	}
	if len(ids) == 2 {
		reply = append(reply, q.idci, q.idcr)
	}
	if choice.Capped {
		var peerSPI [4]byte
		binary.BigEndian.PutUint32(peerSPI[:], q.peerSPI)
		reply = append(reply, &isakmp.Notify{DOI: isakmp.DOIIPsec, Protocol: isakmp.ProtoESP,
			NotifyType: isakmp.NotifyResponderLifetime, SPI: peerSPI[:], Data: lifetimeAttrs(choice.LifeSeconds, choice.LifeKB)})
	}
	restOut, _, err := isakmp.MarshalBody(reply)
	if err != nil {
		return err
	}
	all := append([]isakmp.Payload{&isakmp.Hash{Data: QMHash2(sa.suite.Hash, sa.keys.A, q.msgID, q.ni, restOut)}}, reply...)
	oh := sa.header(isakmp.ExchangeQuickMode, q.msgID)
	pkt, last, err := sa.encrypt(oh, all, next)
	if err != nil {
		return err
	}
	oh.Flags |= isakmp.FlagEncryption
	q.iv = last
	q.lastRecv, q.lastReply = sum, pkt
	q.setState(qmRespSentQM2)
	if sa.qms == nil {
		sa.qms = make(map[uint32]*quickMode)
	}
	sa.qms[q.msgID] = q
	e.traceLocked(sa, "phase-2 chosen", sa.remote, "msgid", hexID(q.msgID), "suite", o.Suite.String(), "mode", o.Suite.Encap.String(),
		"life_s", choice.LifeSeconds, "spi_in", hexID(q.ourSPI), "spi_out", hexID(q.peerSPI))
	e.traceMsgLocked(sa, true, &oh, all, sa.remote)
	e.sendLocked(pkt, sa.local, sa.remote)
	if ei, ok := e.events.(EarlyInstaller); ok {
		// The initiator may send ESP as soon as it has our message 2 (its
		// first L2TP message often overtakes message 3 on the way in), so
		// the inbound SA is made ready now, as pluto does.
		c := e.buildChildLocked(sa, q, false)
		q.early = c
		e.emitBeforeSend(func() { ei.Phase2Responding(c) })
	}
	e.forgetQMLater(sa, q)
	return nil
}

// lifetimeAttrs encodes a RESPONDER-LIFETIME notification's data: SA Life
// Type/Duration attribute pairs (RFC 2407 section 4.6.3.1).
func lifetimeAttrs(secs, kb uint64) []byte {
	var b []byte
	add := func(t isakmp.LifeType, v uint64) {
		b = binary.BigEndian.AppendUint16(b, 0x8000|uint16(isakmp.IPsecSALifeType))
		b = binary.BigEndian.AppendUint16(b, uint16(t))
		b = binary.BigEndian.AppendUint16(b, uint16(isakmp.IPsecSALifeDuration))
		b = binary.BigEndian.AppendUint16(b, 4)
		b = binary.BigEndian.AppendUint32(b, uint32(min(v, 0xffffffff)))
	}
	add(isakmp.LifeSeconds, secs)
	if kb > 0 {
		add(isakmp.LifeKilobytes, kb)
	}
	return b
}

// responderQM3Locked: check HASH(3) and hand over the child SA.
func (e *Engine) responderQM3Locked(sa *ikeSA, q *quickMode, h isakmp.Header, body []byte) error {
	b, plain, _, err := sa.decrypt(h, body, q.iv)
	if err != nil {
		return err
	}
	hp, _, err := hashFirst(b, plain)
	if err != nil {
		return err
	}
	if !hmac.Equal(hp.Data, QMHash3(sa.suite.Hash, sa.keys.A, q.msgID, q.ni, q.nr)) {
		return &Failure{Reason: ReasonBadHash, Detail: "Quick Mode HASH(3)", KeyIndex: sa.keyIndex}
	}
	e.traceMsgLocked(sa, false, &h, b.Payloads, sa.remote)
	q.setState(qmDone)
	e.installChildLocked(sa, q, false)
	return nil
}

// installChildLocked completes a child SA (built now, or at message 2 for
// an EarlyInstaller) and reports it.
func (e *Engine) installChildLocked(sa *ikeSA, q *quickMode, initiator bool) {
	c := q.early
	if c == nil {
		c = e.buildChildLocked(sa, q, initiator)
	}
	c.Established = e.clock.Now()
	s := c.Phase2
	cs := &childState{child: c, parent: sa}
	if c.LifeSeconds > 0 {
		cs.timer = e.clock.AfterFunc(time.Duration(c.LifeSeconds)*time.Second, func() { e.expireChild(cs) })
	}
	e.spis[c.In.SPI] = cs
	sa.children = append(sa.children, c)
	if e.metrics != nil {
		e.metrics.ChildSAs.Inc()
	}
	e.countPhase(true, true, ReasonNone)
	e.traceLocked(sa, "phase-2 established", sa.remote, "msgid", hexID(q.msgID), "spi_in", hexID(c.In.SPI), "spi_out", hexID(c.Out.SPI), "suite", s.String())
	e.emit(func() { e.events.Phase2Established(c) })
}

// buildChildLocked derives KEYMAT for both directions (RFC 2409 section
// 5.5) and describes the child SA.
func (e *Engine) buildChildLocked(sa *ikeSA, q *quickMode, initiator bool) *ChildSA {
	s := q.choice.Offer.Suite
	encN, authN := s.EncKeyBytes(), s.AuthKeyBytes()
	km := func(spi uint32) ESPKeys {
		k := Keymat(sa.suite.Hash, sa.keys.D, q.gqm, uint8(isakmp.ProtoESP), spi, q.ni, q.nr, encN+authN)
		return ESPKeys{SPI: spi, EncKey: k[:encN:encN], AuthKey: k[encN:]}
	}
	c := &ChildSA{
		In: km(q.ourSPI), Out: km(q.peerSPI),
		Transform: s.Transform, KeyBits: s.KeyBits, Auth: s.Auth, ICVBits: s.ICVBits(sa.policy.SHA256Truncated96),
		Mode: s.Encap, Local: sa.local, Remote: sa.remote,
		NATOAInitiator: q.natoaI, NATOAResponder: q.natoaR,
		LifeSeconds: q.choice.LifeSeconds, LifeKB: q.choice.LifeKB,
		ICookie: sa.ckyI, RCookie: sa.ckyR, MessageID: q.msgID, Initiator: initiator,
		Phase1: sa.suite, Phase2: s, Established: e.clock.Now(),
	}
	if s.Encap.IsUDPEncapsulated() {
		c.Encap = EncapUDP
	}
	c.ClientID, _ = hostOf(q.idci)
	c.ServerID, _ = hostOf(q.idcr)
	c.ClientL2TPPort, c.ServerL2TPPort = q.idci.Port, q.idcr.Port
	q.gqm, q.dh = nil, nil
	return c
}

// forgetQMLater drops a Quick Mode's state once retransmissions of it can
// no longer arrive.
func (e *Engine) forgetQMLater(sa *ikeSA, q *quickMode) {
	e.clock.AfterFunc(e.cfg.HalfOpenTimeout, func() {
		e.lock()
		defer e.unlock()
		if sa.qms[q.msgID] == q {
			delete(sa.qms, q.msgID)
			if q.state != qmDone {
				if s, ok := e.spis[q.ourSPI]; ok && s == nil {
					delete(e.spis, q.ourSPI)
				}
				if c := q.early; c != nil {
					if ei, ok := e.events.(EarlyInstaller); ok {
						e.emit(func() { ei.Phase2Abandoned(c) })
					}
				}
			}
		}
	})
}

func (e *Engine) expireChild(cs *childState) {
	e.lock()
	defer e.unlock()
	if e.spis[cs.child.In.SPI] != cs {
		return
	}
	e.traceLocked(cs.parent, "phase-2 lifetime expired", cs.child.Remote, "spi_in", hexID(cs.child.In.SPI))
	e.removeChildLocked(cs.child, ReasonExpired, true)
}

// removeChildLocked forgets a child SA; with notify the peer gets a Delete
// for our inbound SPI when the parent IKE SA is still up.
func (e *Engine) removeChildLocked(c *ChildSA, r Reason, notify bool) {
	cs := e.spis[c.In.SPI]
	if cs == nil || cs.child != c {
		return
	}
	if cs.timer != nil {
		cs.timer.Stop()
	}
	delete(e.spis, c.In.SPI)
	sa := cs.parent
	for i, x := range sa.children {
		if x == c {
			sa.children = append(sa.children[:i:i], sa.children[i+1:]...)
			break
		}
	}
	if notify && sa.state == p1Established {
		var spi [4]byte
		binary.BigEndian.PutUint32(spi[:], c.In.SPI)
		e.sendDeleteLocked(sa, isakmp.ProtoESP, [][]byte{spi[:]})
	}
	if e.metrics != nil {
		e.metrics.ChildSAs.Dec()
	}
	e.emit(func() { e.events.ChildSADeleted(c, r) })
}

// DeleteChildSA deletes the child SA with the given inbound SPI and tells
// the peer. It reports whether the SA existed.
func (e *Engine) DeleteChildSA(inSPI uint32) bool {
	e.lock()
	defer e.unlock()
	cs := e.spis[inSPI]
	if cs == nil {
		return false
	}
	e.removeChildLocked(cs.child, ReasonAdmin, true)
	return true
}

// DeleteIKESA deletes an IKE SA (and tells the peer); its child SAs stay.
func (e *Engine) DeleteIKESA(ckyI, ckyR isakmp.Cookie) bool {
	e.lock()
	defer e.unlock()
	sa := e.sas[pairOf(ckyI, ckyR)]
	if sa == nil {
		return false
	}
	e.removeSALocked(sa, ReasonAdmin, true)
	return true
}
