package ike

import (
	"crypto/x509"
	"fmt"
	"net/netip"
	"time"

	"github.com/l2tpsecd/l2tpsecd/ike/isakmp"
	"github.com/l2tpsecd/l2tpsecd/internal/clock"
)

// p1State is the state of an IKE SA. Responder and initiator share the
// enum; setState is the only place that changes it.
//
//	responder: p1None -MM1/MM2-> p1RespSentMM2 -MM3-> p1RespComputing -DH done/MM4-> p1RespSentMM4 -MM5/MM6-> p1Established
//	           (certificates: p1RespSentMM4 -MM5-> p1RespVerifying -chain ok/MM6-> p1Established)
//	initiator: p1None -MM1-> p1InitSentMM1 -MM2/MM3-> p1InitSentMM3 -MM4/MM5-> p1InitSentMM5 -MM6-> p1Established
//	any -> p1Deleted (Delete, expiry, DPD, INITIAL-CONTACT, failure)
type p1State uint8

const (
	p1None p1State = iota
	p1RespSentMM2
	p1RespComputing // message 3 received, DH being computed outside the engine lock
	p1RespSentMM4
	p1RespVerifying // message 5 checked, the peer's certificate chain is being verified
	p1InitSentMM1
	p1InitSentMM3
	p1InitSentMM5
	p1Established
	p1Deleted
)

var p1StateNames = [...]string{"none", "resp_sent_mm2", "resp_computing", "resp_sent_mm4", "resp_verifying", "init_sent_mm1", "init_sent_mm3", "init_sent_mm5", "established", "deleted"}

func (s p1State) String() string {
	if int(s) < len(p1StateNames) {
		return p1StateNames[s]
	}
	return fmt.Sprintf("p1state(%d)", uint8(s))
}

// ikeSA is one phase-1 SA and its Quick Mode exchanges.
type ikeSA struct {
	state     p1State
	initiator bool
	ckyI      isakmp.Cookie
	ckyR      isakmp.Cookie
	local     netip.AddrPort
	remote    netip.AddrPort
	created   time.Time
	// ecdsaRaw: the peer's ECDSA SIG was over HASH_I itself (strongSwan),
	// so ours is made the same way.
	ecdsaRaw bool
	started  time.Time // message 1 (set when established; created then becomes the establishment time)
	policy   Policy

	// Main Mode material.
	saiB           []byte // SAi_b: the initiator's SA payload body
	suite          Phase1Suite
	lifetime       time.Duration
	dh             *DHKey
	gxi, gxr       []byte
	ni, nr         []byte
	gxy            []byte // wiped once phase 1 is established
	keys           *Phase1Keys
	iv             []byte // CBC chain of the Main Mode messages
	lastP1IV       []byte // last Main Mode cipher block: the base of phase-2 IVs
	keyIndex       int
	psk            []byte // initiator only
	peerID         *isakmp.ID
	peerCert       *x509.Certificate
	certs          *CertConfig // ours, for signature authentication
	initialContact bool

	// Peer capabilities from its vendor IDs.
	natt                isakmp.VendorID
	dpd                 bool
	frag                bool
	natLocal, natRemote bool

	// Retransmission handling: the last request's hash and our answer
	// (one datagram, or its IKE fragments).
	lastRecv  [32]byte
	lastReply [][]byte
	fragID    uint16
	retrans   clock.Timer
	retries   int

	qms      map[uint32]*quickMode
	children []*ChildSA
	halfOpen bool
	initKey  halfOpenKey // responder: how message 1 arrived

	expire   clock.Timer
	dpdTimer clock.Timer
	dpdSeq   uint32
	// dpdOutstanding counts R-U-THEREs sent since the peer was last heard.
	dpdOutstanding int
	lastSeen       time.Time

	dial *DialConfig // initiator: what to do once phase 1 is up
}

func (sa *ikeSA) setState(s p1State) { sa.state = s }

func (sa *ikeSA) info() Phase1Info {
	i := Phase1Info{
		ICookie: sa.ckyI, RCookie: sa.ckyR, Local: sa.local, Remote: sa.remote,
		Initiator: sa.initiator, Suite: sa.suite, Lifetime: sa.lifetime, KeyIndex: sa.keyIndex,
		NATLocal: sa.natLocal, NATRemote: sa.natRemote, NATT: sa.natt, DPD: sa.dpd,
	}
	if sa.peerID != nil {
		i.PeerID = idString(sa.peerID)
	}
	i.PeerCert = sa.peerCert
	i.Started = sa.started
	if sa.state == p1Established {
		i.Established = sa.created
	}
	return i
}

func idString(id *isakmp.ID) string {
	switch id.IDType {
	case isakmp.IDIPv4Addr, isakmp.IDIPv6Addr:
		if a, err := id.Addr(); err == nil {
			return a.String()
		}
	case isakmp.IDFQDN, isakmp.IDUserFQDN:
		return string(id.Data)
	case isakmp.IDDERASN1DN:
		if s := dnString(id.Data); s != "" {
			return s
		}
	}
	return fmt.Sprintf("%v:%x", id.IDType, id.Data)
}

// natDetected reports whether a NAT is in the path, so ESP must be
// UDP-encapsulated.
func (sa *ikeSA) natDetected() bool {
	return sa.natt != isakmp.VendorUnknown && (sa.natLocal || sa.natRemote)
}

// draftNATT reports whether the NAT-T draft payload numbers (130/131) and
// encapsulation modes (61443/61444) are in use.
func (sa *ikeSA) draftNATT() bool {
	return sa.natt != isakmp.VendorUnknown && sa.natt != isakmp.VendorRFC3947
}

// noteAddressesLocked follows the peer to UDP/4500 after NAT detection
// (RFC 3947 section 4) and to a new NAT mapping. Child SAs already handed
// over keep their addresses: the ESP datapath follows authenticated ESP
// packets itself (RFC 3948 section 2.2 leaves this to the receiver).
func (sa *ikeSA) noteAddressesLocked(local, remote netip.AddrPort) error {
	if remote.Addr() != sa.remote.Addr() && !sa.natRemote {
		return fmt.Errorf("%w: cookies of %v used from %v", ErrUnknownSA, sa.remote, remote)
	}
	sa.local, sa.remote = local, remote
	return nil
}

// encrypt encrypts the payload chain with the SA's key and the given
// IV; it returns the datagram and the next IV.
func (sa *ikeSA) encrypt(h isakmp.Header, payloads []isakmp.Payload, iv []byte) ([]byte, []byte, error) {
	body, first, err := isakmp.MarshalBody(payloads)
	if err != nil {
		return nil, nil, err
	}
	ct, next, err := encryptCBC(sa.keys.Cipher, sa.keys.EncKey, iv, body)
	if err != nil {
		return nil, nil, err
	}
	h.NextPayload = first
	h.Flags |= isakmp.FlagEncryption
	pkt, err := h.MarshalHeader(ct)
	return pkt, next, err
}

// decrypt decrypts an encrypted body and parses its payload chain.
func (sa *ikeSA) decrypt(h isakmp.Header, body, iv []byte) (*isakmp.Body, []byte, []byte, error) {
	if !h.Encrypted() {
		return nil, nil, nil, fmt.Errorf("%w: %v message not encrypted", ErrMalformed, h.Exchange)
	}
	plain, next, err := decryptCBC(sa.keys.Cipher, sa.keys.EncKey, iv, body)
	if err != nil {
		return nil, nil, nil, err
	}
	b, err := isakmp.ParseBody(h.NextPayload, plain)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	return b, plain, next, nil
}

func (sa *ikeSA) header(ex isakmp.ExchangeType, msgID uint32) isakmp.Header {
	return isakmp.Header{InitiatorCookie: sa.ckyI, ResponderCookie: sa.ckyR, Exchange: ex, MessageID: msgID}
}

// quickMode is one Quick Mode exchange.
//
//	responder: qmNone -QM1/QM2-> qmRespSentQM2 -QM3-> qmDone
//	initiator: qmNone -QM1-> qmInitSentQM1 -QM2/QM3-> qmDone
//	           qmInitSentQM1 -error notification-> qmFailed
type qmState uint8

const (
	qmNone qmState = iota
	qmRespSentQM2
	qmInitSentQM1
	qmDone
	qmFailed
)

func (s qmState) String() string {
	return [...]string{"none", "resp_sent_qm2", "init_sent_qm1", "done", "failed"}[s]
}

type quickMode struct {
	state     qmState
	msgID     uint32
	iv        []byte
	ni, nr    []byte
	dh        *DHKey
	gqm       []byte
	choice    Phase2Choice
	offered   []Phase2Suite // initiator
	ourSPI    uint32
	peerSPI   uint32
	idci      *isakmp.ID
	idcr      *isakmp.ID
	natoaI    netip.Addr
	natoaR    netip.Addr
	lastRecv  [32]byte
	lastReply []byte
	created   time.Time
	// early is the child SA handed to an EarlyInstaller when message 2
	// was sent (responder), completed when message 3 arrives.
	early *ChildSA
}

func (q *quickMode) setState(s qmState) { q.state = s }
