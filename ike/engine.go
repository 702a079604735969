package ike

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/netip"
	"sync"
	"time"

	"github.com/l2tpsecd/l2tpsecd/ike/isakmp"
	"github.com/l2tpsecd/l2tpsecd/internal/clock"
)

// Transport sends IKE datagrams. For port 4500 the caller adds the
// four-byte non-ESP marker (RFC 3948 section 2.2). Send is called without
// the engine's lock, possibly from several goroutines at once (packet
// handlers and timers), and must not keep pkt after it returns.
type Transport interface {
	Send(pkt []byte, local, remote netip.AddrPort) error
}

// EarlyInstaller is an optional extension of Events for a responder that
// installs ESP SAs: Phase2Responding hands over the child SA when Quick
// Mode message 2 is sent, before the initiator's message 3 confirms it, so
// ESP the initiator sends right after message 3 (which may arrive before
// it) finds its SA. Phase2Established follows with the same *ChildSA when
// message 3 arrives; Phase2Abandoned when it never does.
type EarlyInstaller interface {
	Phase2Responding(child *ChildSA)
	Phase2Abandoned(child *ChildSA)
}

// Events receives what the engine negotiates. Methods are called without
// the engine's lock held, in the goroutine that handled the packet or ran
// the timer; they may call back into the engine.
type Events interface {
	Phase1Established(sa Phase1Info)
	Phase1Failed(remote netip.AddrPort, f *Failure)
	Phase2Established(child *ChildSA)
	Phase2Failed(sa Phase1Info, f *Failure)
	ChildSADeleted(child *ChildSA, r Reason)
	IKESADeleted(sa Phase1Info, r Reason)
	PeerDead(sa Phase1Info)
	// InitialContact reports that the peer said INITIAL-CONTACT: the
	// engine has already dropped its older SAs (reported through
	// ChildSADeleted/IKESADeleted with ReasonInitialContact).
	InitialContact(sa Phase1Info)
}

// PSK is one pre-shared key candidate. Keys with Networks are tried first
// for peers inside them; keys without Networks are tried for every peer.
type PSK struct {
	Key      []byte
	Networks []netip.Prefix
}

// Config configures an Engine. Zero values get the documented defaults.
type Config struct {
	Policy Policy
	// PeerPolicy, when set, overrides Policy per peer address (e.g.
	// SHA256Truncated96 for a known old-Android network).
	PeerPolicy func(peer netip.Addr) Policy
	PSKs       []PSK
	// MaxPSKTrials bounds trial decryption of message 5 (default 8).
	MaxPSKTrials int
	// HalfOpenTimeout drops an unfinished negotiation (default 30 s).
	HalfOpenTimeout time.Duration
	// MaxHalfOpen and MaxHalfOpenPerSource bound unfinished phase-1 SAs
	// overall (default 4096) and per source address (default 16).
	MaxHalfOpen          int
	MaxHalfOpenPerSource int
	// DPDInterval is how often an idle peer that announced DPD is probed
	// (default 30 s, negative disables); DPDMaxUnanswered R-U-THEREs
	// without an ACK declare it dead (default 5).
	DPDInterval      time.Duration
	DPDMaxUnanswered int
	// DPDTimeout, when set, gives DPDMaxUnanswered as the number of
	// intervals it spans (the server's dpd_timeout setting).
	DPDTimeout time.Duration
	// DisableFragmentation stops announcing IKE fragmentation support
	// (fragments from peers are reassembled regardless: iOS always sends
	// them).
	DisableFragmentation bool
	// FragmentSize is the largest Main Mode message sent whole to a peer
	// that supports IKE fragmentation (default 1200 bytes).
	FragmentSize int
	// RetransmitInterval and RetransmitTries drive the initiator's
	// retransmissions (defaults 2 s and 5).
	RetransmitInterval time.Duration
	RetransmitTries    int
	// LocalID is the identity we send in Main Mode with pre-shared keys
	// (default: ID_IPV4_ADDR/ID_IPV6_ADDR of the address the peer
	// reached; set it when the server sits behind a NAT and clients check
	// its ID, e.g. to the public address or an FQDN).
	LocalID *isakmp.ID
	// Certs enables certificate authentication (RSA or ECDSA signatures,
	// by the key type). Nil: pre-shared keys only.
	Certs *CertConfig
	// Rand supplies cookies, nonces, SPIs and DH keys (crypto/rand when
	// nil).
	Rand io.Reader
}

func (c *Config) setDefaults() {
	if c.MaxPSKTrials <= 0 {
		c.MaxPSKTrials = 8
	}
	if c.HalfOpenTimeout <= 0 {
		c.HalfOpenTimeout = 30 * time.Second
	}
	if c.MaxHalfOpen <= 0 {
		c.MaxHalfOpen = 4096
	}
	if c.MaxHalfOpenPerSource <= 0 {
		c.MaxHalfOpenPerSource = 16
	}
	if c.DPDInterval == 0 {
		c.DPDInterval = 30 * time.Second
	}
	if c.DPDTimeout > 0 && c.DPDInterval > 0 {
		c.DPDMaxUnanswered = int((c.DPDTimeout + c.DPDInterval - 1) / c.DPDInterval)
	}
	if c.DPDMaxUnanswered <= 0 {
		c.DPDMaxUnanswered = 5
	}
	if c.FragmentSize <= 0 {
		c.FragmentSize = 1200
	}
	if c.RetransmitInterval <= 0 {
		c.RetransmitInterval = 2 * time.Second
	}
	if c.RetransmitTries <= 0 {
		c.RetransmitTries = 5
	}
	if c.Rand == nil {
		c.Rand = rand.Reader
	}
}

// Phase1Info describes an IKE SA to the caller.
type Phase1Info struct {
	ICookie, RCookie isakmp.Cookie
	Local, Remote    netip.AddrPort
	Initiator        bool
	Suite            Phase1Suite
	Lifetime         time.Duration
	// KeyIndex is the index in Config.PSKs of the key that matched.
	KeyIndex int
	// PeerID is the peer's phase-1 identity as text (for display only:
	// Windows sends its private address).
	PeerID string
	// NATLocal / NATRemote report a NAT in front of us / the peer.
	NATLocal, NATRemote bool
	NATT                isakmp.VendorID // NAT-T variant in use, VendorUnknown if none
	DPD                 bool
	// Started is when the negotiation began (message 1); Established
	// when it completed.
	Started     time.Time
	Established time.Time
	// PeerCert is the peer's verified certificate with signature
	// authentication (for binding the PPP user to it).
	PeerCert *x509.Certificate
}

// ESPKeys are the keys of one direction of a child SA.
type ESPKeys struct {
	SPI uint32
	// EncKey is the cipher key; for AES-GCM it is key || 4-byte salt
	// (RFC 4106 section 8.1).
	EncKey  []byte
	AuthKey []byte
}

// Encapsulation says how ESP travels.
type Encapsulation uint8

// Encapsulations.
const (
	EncapNone Encapsulation = iota // raw ESP, IP protocol 50
	EncapUDP                       // ESP in UDP/4500 (RFC 3948)
)

func (e Encapsulation) String() string {
	if e == EncapUDP {
		return "udp"
	}
	return "none"
}

// ChildSA is the result of Quick Mode: the pair of ESP SAs to install.
// In is what we receive (its SPI is the one we chose), Out what we send.
type ChildSA struct {
	In, Out   ESPKeys
	Transform isakmp.ESPTransformID
	KeyBits   int
	Auth      isakmp.AuthAlgorithm // 0 for AES-GCM
	ICVBits   int                  // 96 for SHA2-256 with the old-Android option
	Mode      isakmp.EncapsulationMode
	Encap     Encapsulation
	// Local and Remote are the outer addresses (Remote's port is the
	// NAT-mapped one after floating to 4500).
	Local, Remote netip.AddrPort
	// ClientL2TPPort is the port of the client's phase-2 ID (0: any);
	// ServerL2TPPort ours (normally 1701).
	ClientL2TPPort, ServerL2TPPort uint16
	// ClientID and ServerID are the phase-2 identities' addresses.
	ClientID, ServerID netip.Addr
	// NATOAInitiator and NATOAResponder are the NAT-OA payloads' addresses
	// (the initiator's and responder's original addresses), when sent.
	NATOAInitiator, NATOAResponder netip.Addr
	LifeSeconds, LifeKB            uint64
	ICookie, RCookie               isakmp.Cookie
	MessageID                      uint32
	Initiator                      bool
	Phase1                         Phase1Suite
	Phase2                         Phase2Suite
	Established                    time.Time
}

// String is a one-line description for logs (no keys).
func (c *ChildSA) String() string {
	return fmt.Sprintf("ESP in=%08x out=%08x %s %s %v<->%v", c.In.SPI, c.Out.SPI, c.Phase2, c.Mode, c.Local, c.Remote)
}

type cookiePair [16]byte

func pairOf(i, r isakmp.Cookie) cookiePair {
	var p cookiePair
	copy(p[:8], i[:])
	copy(p[8:], r[:])
	return p
}

type halfOpenKey struct {
	cky    isakmp.Cookie
	remote netip.AddrPort
}

// Engine is the IKEv1 engine: it owns IKE SAs keyed by cookies. All
// methods are safe for concurrent use.
type Engine struct {
	cfg       Config
	transport Transport
	events    Events
	clock     clock.Clock
	log       *slog.Logger
	metrics   *Metrics
	stats     Stats
	frags     *isakmp.Reassembler
	// pending counts certificate verifications running outside the lock.
	pending sync.WaitGroup

	mu       sync.Mutex // guards everything below
	sas      map[cookiePair]*ikeSA
	byInit   map[halfOpenKey]*ikeSA // responder SAs by initiator cookie, for MM1 retransmissions
	halfOpen map[netip.Addr]int
	nHalf    int
	spis     map[uint32]*childState // by inbound SPI; nil while reserved
	trace    traceSwitch
	out      []outPacket // sent after the lock is released
	evq      []func()    // events emitted after the lock is released
	preq     []func()    // events delivered before the queued packets are sent
}

type outPacket struct {
	pkt           []byte
	local, remote netip.AddrPort
}

// NewEngine makes an engine. log, metrics and events may be nil.
func NewEngine(cfg Config, t Transport, ev Events, clk clock.Clock, log *slog.Logger, m *Metrics) *Engine {
	cfg.setDefaults()
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if ev == nil {
		ev = NopEvents{}
	}
	e := &Engine{
		cfg: cfg, transport: t, events: ev, clock: clk, log: log, metrics: m,
		sas:      make(map[cookiePair]*ikeSA),
		byInit:   make(map[halfOpenKey]*ikeSA),
		halfOpen: make(map[netip.Addr]int),
		spis:     make(map[uint32]*childState),
	}
	e.frags = newReassembler(clk)
	return e
}

// Stats returns the engine's counters.
func (e *Engine) Stats() *Stats { return &e.stats }

// NopEvents ignores every event.
type NopEvents struct{}

func (NopEvents) Phase1Established(Phase1Info)          {}
func (NopEvents) Phase1Failed(netip.AddrPort, *Failure) {}
func (NopEvents) Phase2Established(*ChildSA)            {}
func (NopEvents) Phase2Failed(Phase1Info, *Failure)     {}
func (NopEvents) ChildSADeleted(*ChildSA, Reason)       {}
func (NopEvents) IKESADeleted(Phase1Info, Reason)       {}
func (NopEvents) PeerDead(Phase1Info)                   {}
func (NopEvents) InitialContact(Phase1Info)             {}

// lock/unlock bracket every entry point; unlock flushes the packets and
// events queued while the lock was held.
func (e *Engine) lock() { e.mu.Lock() }

func (e *Engine) unlock() {
	out, evq, pre := e.out, e.evq, e.preq
	e.out, e.evq, e.preq = nil, nil, nil
	e.mu.Unlock()
	for _, f := range pre {
		f()
	}
	for _, p := range out {
		if err := e.transport.Send(p.pkt, p.local, p.remote); err != nil {
			e.log.Debug("ike send failed", "remote", p.remote, "err", err)
		}
	}
	for _, f := range evq {
		f()
	}
}

func (e *Engine) emit(f func()) { e.evq = append(e.evq, f) }

// emitBeforeSend queues an event that must be delivered before the packets
// queued with it leave (an SA the answer makes the peer use).
func (e *Engine) emitBeforeSend(f func()) { e.preq = append(e.preq, f) }

func (e *Engine) sendLocked(pkt []byte, local, remote netip.AddrPort) {
	e.out = append(e.out, outPacket{pkt: pkt, local: local, remote: remote})
}

// authMethods lists what the responder can authenticate with.
func (e *Engine) authMethods() []isakmp.AuthMethod {
	var m []isakmp.AuthMethod
	if len(e.cfg.PSKs) > 0 {
		m = append(m, isakmp.AuthPSK)
	}
	if c := e.cfg.Certs.method(); c != 0 && e.cfg.Certs.Verifier != nil && len(e.cfg.Certs.Chain) > 0 {
		m = append(m, c)
	}
	return m
}

func (e *Engine) policyFor(peer netip.Addr) Policy {
	if e.cfg.PeerPolicy != nil {
		return e.cfg.PeerPolicy(peer)
	}
	return e.cfg.Policy
}

func (e *Engine) random(n int) []byte {
	b := make([]byte, n)
	if _, err := io.ReadFull(e.cfg.Rand, b); err != nil {
		panic("ike: random source failed: " + err.Error())
	}
	return b
}

func (e *Engine) newCookie() isakmp.Cookie {
	var c isakmp.Cookie
	for c == (isakmp.Cookie{}) {
		copy(c[:], e.random(8))
	}
	return c
}

// newSPILocked picks an unused inbound SPI (values below 256 are reserved,
// RFC 4303 section 2.1).
func (e *Engine) newSPILocked() uint32 {
	for {
		s := binary.BigEndian.Uint32(e.random(4))
		if s < 256 {
			continue
		}
		if _, used := e.spis[s]; !used {
			e.spis[s] = nil // reserved until the child SA exists
			return s
		}
	}
}

// HandlePacket processes one datagram received on UDP/500, or on UDP/4500
// with the non-ESP marker already stripped. Replies go out through the
// Transport. Malformed or unexpected input returns an error (the caller
// counts and drops it); it never panics.
func (e *Engine) HandlePacket(pkt []byte, local, remote netip.AddrPort) error {
	if len(pkt) == 1 && pkt[0] == 0xff {
		return nil // NAT keepalive (RFC 3948 section 2.3)
	}
	e.lock()
	defer e.unlock()
	err := e.handleLocked(pkt, local, remote, 0)
	if err != nil {
		var f *Failure
		reason := "malformed"
		switch {
		case errors.As(err, &f):
			reason = f.Reason.String()
		case errors.Is(err, ErrUnknownSA):
			reason = "unknown_sa"
		case errors.Is(err, ErrHalfOpenLimit):
			reason = "half_open_limit"
		case errors.Is(err, ErrUnexpected):
			reason = "unexpected"
		}
		e.countDrop(reason)
	}
	return err
}

func (e *Engine) handleLocked(pkt []byte, local, remote netip.AddrPort, depth int) error {
	h, body, err := isakmp.ParseHeader(pkt)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	if h.NextPayload == isakmp.PayloadFragment && depth == 0 {
		return e.handleFragmentLocked(h, body, local, remote)
	}
	if h.InitiatorCookie == (isakmp.Cookie{}) {
		return fmt.Errorf("%w: zero initiator cookie", ErrMalformed)
	}
	if h.ResponderCookie == (isakmp.Cookie{}) && h.Exchange == isakmp.ExchangeInformational {
		// A notification about our message 1 (e.g. NO-PROPOSAL-CHOSEN).
		sa := e.sas[pairOf(h.InitiatorCookie, isakmp.Cookie{})]
		if sa == nil || !sa.initiator || sa.remote.Addr() != remote.Addr() {
			return fmt.Errorf("%w: informational without a responder cookie", ErrUnknownSA)
		}
		return e.informationalLocked(sa, h, body)
	}
	if h.ResponderCookie == (isakmp.Cookie{}) {
		if h.Exchange != isakmp.ExchangeMainMode || h.MessageID != 0 {
			return fmt.Errorf("%w: %v without a responder cookie", ErrUnexpected, h.Exchange)
		}
		return e.responderMM1Locked(pkt, h, body, local, remote)
	}
	sa := e.sas[pairOf(h.InitiatorCookie, h.ResponderCookie)]
	if sa == nil {
		if sa = e.initiatorMM2Locked(h, remote); sa == nil {
			return fmt.Errorf("%w: cookies %x/%x from %v", ErrUnknownSA, h.InitiatorCookie[:], h.ResponderCookie[:], remote)
		}
	}
	if sa.state == p1Deleted {
		return fmt.Errorf("%w: deleted", ErrUnknownSA)
	}
	// Retransmission: the same request again gets the same answer,
	// without recomputing anything (RFC 2408 section 5.1 leaves replay
	// handling to the implementation; strongSwan does the same).
	sum := sha256.Sum256(pkt)
	if sum == sa.lastRecv && len(sa.lastReply) > 0 {
		e.traceLocked(sa, "RECEIVED <<< (retransmission) answered from the last reply", remote)
		e.resendLocked(sa)
		e.countRetransmit()
		return nil
	}
	// The peer may have floated to 4500 or got a new NAT mapping; the new
	// addresses are kept only if the message authenticates.
	oldLocal, oldRemote := sa.local, sa.remote
	if err := sa.noteAddressesLocked(local, remote); err != nil {
		return err
	}
	switch h.Exchange {
	case isakmp.ExchangeMainMode:
		if h.MessageID != 0 {
			return fmt.Errorf("%w: Main Mode with message ID %08x", ErrMalformed, h.MessageID)
		}
		err = e.mainModeLocked(sa, pkt, h, body, sum)
	case isakmp.ExchangeQuickMode:
		err = e.quickModeLocked(sa, pkt, h, body, sum)
	case isakmp.ExchangeInformational:
		err = e.informationalLocked(sa, h, body)
	default:
		err = fmt.Errorf("%w: exchange %v", ErrUnexpected, h.Exchange)
	}
	if err != nil {
		if sa.state != p1Deleted {
			sa.local, sa.remote = oldLocal, oldRemote
		}
		if errors.Is(err, errIgnore) {
			return nil
		}
		return err
	}
	if oldLocal != sa.local || oldRemote != sa.remote {
		e.traceLocked(sa, fmt.Sprintf("peer moved %v -> %v (local %v -> %v)", oldRemote, sa.remote, oldLocal, sa.local), sa.remote)
	}
	sa.lastSeen = e.clock.Now()
	sa.dpdOutstanding = 0
	return nil
}

// SetPSKs replaces the pre-shared keys (a configuration reload). SAs
// already established are not touched; negotiations that reach message 5
// afterwards are checked against the new keys.
func (e *Engine) SetPSKs(keys []PSK) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.cfg.PSKs = append([]PSK(nil), keys...)
}

// SetPolicy replaces the proposal policy for negotiations that start
// afterwards (a configuration reload).
func (e *Engine) SetPolicy(p Policy) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.cfg.Policy = p
}

// SetCerts replaces the certificate configuration (a reload: a new server
// certificate, trusted CAs or revocation settings). Negotiations already
// past message 3 keep the configuration they started with.
func (e *Engine) SetCerts(c *CertConfig) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.cfg.Certs = c
}
