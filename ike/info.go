package ike

import (
	"bytes"
	"crypto/hmac"
	"encoding/binary"
	"fmt"
	"net/netip"

	"github.com/l2tpsecd/l2tpsecd/ike/isakmp"
	"github.com/l2tpsecd/l2tpsecd/internal/clock"
)

// Informational exchanges (RFC 2408 section 4.8, RFC 2409 section 5.7):
// HDR*, HASH(1), N/D with HASH(1) = prf(SKEYID_a, M-ID | N/D). DPD (RFC
// 3706) rides on them: R-U-THERE and R-U-THERE-ACK carry the cookie pair
// as SPI and a 32-bit sequence number.

func (e *Engine) informationalLocked(sa *ikeSA, h isakmp.Header, body []byte) error {
	if !h.Encrypted() {
		// Unprotected notifications are believed only while phase 1 is
		// unauthenticated, and only to end it (e.g. NO-PROPOSAL-CHOSEN).
		if sa.state == p1Established || sa.keys != nil {
			return fmt.Errorf("%w: unprotected informational after phase 1", ErrUnexpected)
		}
		b, err := isakmp.ParseBody(h.NextPayload, body)
		if err != nil {
			return fmt.Errorf("%w: %w", ErrMalformed, err)
		}
		e.traceMsgLocked(sa, false, &h, b.Payloads, sa.remote)
		for _, n := range isakmp.FindAll[*isakmp.Notify](b.Payloads) {
			if n.NotifyType.IsError() && sa.initiator {
				f := &Failure{Reason: ReasonNotifyFromPeer, Detail: n.NotifyType.String(), KeyIndex: -1}
				if n.NotifyType == isakmp.NotifyNoProposalChosen {
					f.Reason = ReasonNoProposalChosen
				}
				remote := sa.remote
				e.removeSALocked(sa, f.Reason, false)
				e.countPhase(false, false, f.Reason)
				e.emit(func() { e.events.Phase1Failed(remote, f) })
				return nil
			}
		}
		return nil
	}
	if sa.keys == nil || sa.lastP1IV == nil {
		return fmt.Errorf("%w: protected informational before phase 1", ErrUnexpected)
	}
	iv := Phase2IV(sa.suite.Hash, sa.lastP1IV, h.MessageID, sa.keys.Cipher.BlockSize())
	b, plain, _, err := sa.decrypt(h, body, iv)
	if err != nil {
		return err
	}
	hp, rest, err := hashFirst(b, plain)
	if err != nil {
		return err
	}
	if !hmac.Equal(hp.Data, InfoHash(sa.suite.Hash, sa.keys.A, h.MessageID, rest)) {
		return &Failure{Reason: ReasonBadHash, Detail: "informational HASH(1)", KeyIndex: sa.keyIndex}
	}
	e.traceMsgLocked(sa, false, &h, b.Payloads, sa.remote)
	cookies := append(sa.ckyI[:], sa.ckyR[:]...)
	for _, p := range b.Payloads[1:] {
		switch v := p.(type) {
		case *isakmp.Notify:
			switch v.NotifyType {
			case isakmp.NotifyRUThere:
				if len(v.Data) == 4 {
					e.sendInfoLocked(sa, []isakmp.Payload{&isakmp.Notify{DOI: isakmp.DOIIPsec, Protocol: isakmp.ProtoISAKMP,
						NotifyType: isakmp.NotifyRUThereAck, SPI: cookies, Data: append([]byte(nil), v.Data...)}})
				}
			case isakmp.NotifyRUThereAck:
				if len(v.Data) == 4 && binary.BigEndian.Uint32(v.Data) == sa.dpdSeq {
					sa.dpdOutstanding = 0
				}
			case isakmp.NotifyInitialContact:
				e.initialContactLocked(sa)
			default:
				e.traceLocked(sa, "notification from peer: "+v.NotifyType.String(), sa.remote)
				if v.NotifyType.IsError() {
					e.failInitiatorQMsLocked(sa, v.NotifyType)
				}
			}
		case *isakmp.Delete:
			e.peerDeleteLocked(sa, v, cookies)
		}
	}
	return nil
}

// failInitiatorQMsLocked ends our pending Quick Modes when the responder
// refuses one (it names no message ID, so all pending ones end).
func (e *Engine) failInitiatorQMsLocked(sa *ikeSA, n isakmp.NotifyType) {
	for _, q := range sa.qms {
		if q.state != qmInitSentQM1 {
			continue
		}
		q.setState(qmFailed)
		f := &Failure{Reason: ReasonNotifyFromPeer, Detail: n.String(), KeyIndex: sa.keyIndex}
		if n == isakmp.NotifyNoProposalChosen {
			f.Reason = ReasonNoProposalChosen
		}
		e.countPhase(true, false, f.Reason)
		info := sa.info()
		e.emit(func() { e.events.Phase2Failed(info, f) })
	}
}

// peerDeleteLocked handles a Delete payload: the peer deletes the ISAKMP
// SA (SPI = cookie pair) or its inbound ESP SAs, which are our outbound
// ones; we drop the pair.
func (e *Engine) peerDeleteLocked(sa *ikeSA, d *isakmp.Delete, cookies []byte) {
	switch d.Protocol {
	case isakmp.ProtoISAKMP:
		for _, spi := range d.SPIs {
			if bytes.Equal(spi, cookies) {
				e.traceLocked(sa, "peer deleted the ISAKMP SA", sa.remote)
				e.removeSALocked(sa, ReasonPeerDeleted, false)
				return
			}
		}
	case isakmp.ProtoESP:
		for _, spi := range d.SPIs {
			if len(spi) != 4 {
				continue
			}
			out := binary.BigEndian.Uint32(spi)
			for _, c := range sa.children {
				if c.Out.SPI == out {
					e.traceLocked(sa, "peer deleted ESP SA", sa.remote, "spi_out", hexID(out), "spi_in", hexID(c.In.SPI))
					e.removeChildLocked(c, ReasonPeerDeleted, false)
					break
				}
			}
		}
	}
}

// sendInfoLocked sends a protected informational exchange.
func (e *Engine) sendInfoLocked(sa *ikeSA, payloads []isakmp.Payload) {
	if sa.keys == nil || sa.lastP1IV == nil {
		return
	}
	mid := binary.BigEndian.Uint32(e.random(4)) | 1
	rest, _, err := isakmp.MarshalBody(payloads)
	if err != nil {
		return
	}
	all := append([]isakmp.Payload{&isakmp.Hash{Data: InfoHash(sa.suite.Hash, sa.keys.A, mid, rest)}}, payloads...)
	h := sa.header(isakmp.ExchangeInformational, mid)
	iv := Phase2IV(sa.suite.Hash, sa.lastP1IV, mid, sa.keys.Cipher.BlockSize())
	pkt, _, err := sa.encrypt(h, all, iv)
	if err != nil {
		return
	}
	h.Flags |= isakmp.FlagEncryption
	e.traceMsgLocked(sa, true, &h, all, sa.remote)
	e.sendLocked(pkt, sa.local, sa.remote)
}

func (e *Engine) sendDeleteLocked(sa *ikeSA, proto isakmp.ProtocolID, spis [][]byte) {
	e.sendInfoLocked(sa, []isakmp.Payload{&isakmp.Delete{DOI: isakmp.DOIIPsec, Protocol: proto, SPISize: uint8(len(spis[0])), SPIs: spis}})
}

// sendNotifyClearLocked answers a message that has no SA yet with an
// unprotected notification (RFC 2408 section 5.1).
func (e *Engine) sendNotifyClearLocked(h isakmp.Header, n isakmp.NotifyType, local, remote netip.AddrPort) {
	m := &isakmp.Message{Header: isakmp.Header{InitiatorCookie: h.InitiatorCookie, ResponderCookie: h.ResponderCookie,
		Exchange: isakmp.ExchangeInformational}}
	m.Payloads = []isakmp.Payload{&isakmp.Notify{DOI: isakmp.DOIIPsec, Protocol: isakmp.ProtoISAKMP, NotifyType: n}}
	b, err := m.Marshal()
	if err != nil {
		return
	}
	e.traceMsgLocked(nil, true, &m.Header, m.Payloads, remote)
	e.sendLocked(b, local, remote)
}

// dpdTick probes the peer (RFC 3706 section 5) and declares it dead after
// DPDMaxUnanswered probes without an answer.
func (e *Engine) dpdTick(sa *ikeSA) {
	e.lock()
	defer e.unlock()
	if sa.state != p1Established {
		return
	}
	if sa.dpdOutstanding >= e.cfg.DPDMaxUnanswered {
		e.traceLocked(sa, fmt.Sprintf("DPD: %d R-U-THERE unanswered, peer dead", sa.dpdOutstanding), sa.remote)
		info := sa.info()
		e.emit(func() { e.events.PeerDead(info) })
		e.removeSALocked(sa, ReasonDeadPeer, false)
		return
	}
	if sa.dpdOutstanding == 0 && e.clock.Now().Sub(sa.lastSeen) < e.cfg.DPDInterval {
		// Heard from recently: no probe needed yet (RFC 3706 section 5.4).
		sa.dpdTimer.Reset(e.cfg.DPDInterval - e.clock.Now().Sub(sa.lastSeen))
		return
	}
	if sa.dpdSeq == 0 {
		sa.dpdSeq = binary.BigEndian.Uint32(e.random(4)) & 0x7fffffff
	}
	sa.dpdSeq++
	var seq [4]byte
	binary.BigEndian.PutUint32(seq[:], sa.dpdSeq)
	e.sendInfoLocked(sa, []isakmp.Payload{&isakmp.Notify{DOI: isakmp.DOIIPsec, Protocol: isakmp.ProtoISAKMP,
		NotifyType: isakmp.NotifyRUThere, SPI: append(sa.ckyI[:], sa.ckyR[:]...), Data: seq[:]}})
	sa.dpdOutstanding++
	sa.dpdTimer.Reset(e.cfg.DPDInterval)
}

// handleFragmentLocked feeds an IKE fragment to the reassembler and
// processes the message once complete.
func (e *Engine) handleFragmentLocked(h isakmp.Header, body []byte, local, remote netip.AddrPort) error {
	b, err := isakmp.ParseBody(h.NextPayload, body)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	f, ok := isakmp.Find[*isakmp.Fragment](b.Payloads)
	if !ok {
		return fmt.Errorf("%w: no fragment payload", ErrMalformed)
	}
	whole, err := e.frags.Add(remote, &h, f)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	if whole == nil {
		return nil
	}
	err = e.handleLocked(whole, local, remote, 1)
	// A peer that fragments (iOS does, announced or not) can take
	// fragments back.
	sa := e.sas[pairOf(h.InitiatorCookie, h.ResponderCookie)]
	if sa == nil {
		sa = e.byInit[halfOpenKey{h.InitiatorCookie, remote}]
	}
	if sa != nil {
		sa.frag = true
	}
	return err
}

func newReassembler(clk clock.Clock) *isakmp.Reassembler {
	return isakmp.NewReassembler(clk, isakmp.ReassemblerConfig{})
}
