package l2tp

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	mrand "math/rand/v2"
	"reflect"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/l2tpsecd/l2tpsecd/internal/clock"
)

// Peer identifies where datagrams come from and go to: the server chooses
// it (typically a key of the ESP SA pair). It must be comparable and must
// not be the outer address alone, since several clients behind one NAT share
// it.
type Peer any

// Sender transmits datagrams the endpoint produces. It is called with a
// tunnel lock held: it must not call back into the Endpoint, and must not
// keep datagram after returning.
type Sender interface {
	SendL2TP(peer Peer, dstPort uint16, datagram []byte)
}

// Handler receives the endpoint's events. See the package documentation for
// the goroutines they run on.
type Handler interface {
	// SessionUp: the call is established; PPP may start. Every SessionUp
	// is followed by exactly one SessionDown.
	SessionUp(s *Session)
	// SessionData delivers one PPP frame, address and control field
	// (FF 03) removed, starting with the protocol field. The frame aliases
	// the datagram passed to Input and is valid only during the call.
	SessionData(s *Session, pppFrame []byte)
	// SessionDown: the session is gone (CDN either way, tunnel down).
	SessionDown(s *Session, cause Cause)
	// TunnelDown: the tunnel is gone, after SessionDown for each of its
	// sessions. It is called once for every tunnel the endpoint created,
	// including ones that never came up.
	TunnelDown(t *Tunnel, cause Cause)
}

// TunnelUpHandler is implemented by a Handler that wants to know when a
// tunnel is established (the load generator uses it to place calls).
type TunnelUpHandler interface {
	TunnelUp(t *Tunnel)
}

// Reason classifies why a tunnel or session ended, for the audit log and a
// metric label.
type Reason uint8

// Reasons.
const (
	ReasonLocal         Reason = iota + 1 // closed through the API
	ReasonPeerStopCCN                     // the peer sent StopCCN
	ReasonPeerCDN                         // the peer sent CDN
	ReasonTimeout                         // retransmissions exhausted
	ReasonHelloTimeout                    // HELLO unanswered and HelloRequired
	ReasonAuthFailed                      // tunnel authentication failed
	ReasonProtocolError                   // malformed or unexpected message
	ReasonTieBreaker                      // lost a tie break
	ReasonTunnelDown                      // the session's tunnel went down
	ReasonShutdown                        // Endpoint.Close
	ReasonSetupTimeout                    // the call was not completed in time
	ReasonIdle                            // tunnel without sessions for EmptyTunnelTimeout
	numReasons
)

var reasonNames = [...]string{
	ReasonLocal: "local", ReasonPeerStopCCN: "peer_stopccn", ReasonPeerCDN: "peer_cdn",
	ReasonTimeout: "timeout", ReasonHelloTimeout: "hello_timeout", ReasonAuthFailed: "auth_failed",
	ReasonProtocolError: "protocol_error", ReasonTieBreaker: "tie_breaker",
	ReasonTunnelDown: "tunnel_down", ReasonShutdown: "shutdown", ReasonSetupTimeout: "setup_timeout", ReasonIdle: "idle",
}

func (r Reason) String() string {
	if int(r) < len(reasonNames) && reasonNames[r] != "" {
		return reasonNames[r]
	}
	return "Reason(" + strconv.Itoa(int(r)) + ")"
}

// Cause says why a tunnel or session ended: the reason, the Result Code
// sent or received, and the PPP Disconnect Cause (RFC 3145) when the peer's
// CDN carried one.
type Cause struct {
	Reason        Reason
	Result        Result
	Disconnect    DisconnectCause
	HasDisconnect bool
}

func (c Cause) String() string {
	s := c.Reason.String() + " (" + c.Result.Code.String()
	if c.Result.Error != CodeNone {
		s += ", " + c.Result.Error.String()
	}
	if c.Result.Message != "" {
		s += ", " + strconv.Quote(c.Result.Message)
	}
	return s + ")"
}

// Config configures an Endpoint. Zero values take the defaults noted.
//
// Both roles answer SCCRQs and may Dial (RFC 2661 lets either side open
// the control connection); the role decides calls: an LNS accepts ICRQs, a
// LAC places them with Tunnel.Call.
type Config struct {
	Role             Role   // default RoleLNS
	HostName         string // Host Name AVP; default "l2tpsecd"
	VendorName       string // default "l2tpsecd"
	FirmwareRevision uint16

	// Secret enables tunnel authentication (section 5.1.1) and hidden
	// AVPs. It is never logged.
	Secret []byte
	// HideAVPs lists AVP types sent hidden when a Secret is set.
	HideAVPs AVPSet
	// TieBreaker adds a Tie Breaker AVP to the SCCRQs Dial sends.
	TieBreaker bool

	ReceiveWindow        uint16        // advertised; default 16
	RetransmitTimeout    time.Duration // first timeout; default 1s
	RetransmitTimeoutMax time.Duration // backoff cap; default 8s
	MaxRetransmits       int           // per message before giving up; default 5
	AckDelay             time.Duration // ZLB delay; default 100ms, negative acks at once

	// HelloInterval is the control-channel idle time after which a HELLO
	// is sent; default 60s, negative disables HELLO.
	HelloInterval time.Duration
	// HelloRequired tears a tunnel down when a HELLO goes unacknowledged.
	// When false (the default) an unanswered HELLO is given up silently and
	// no HELLO is sent while data is flowing: some phones never answer.
	HelloRequired bool
	// LingerTime keeps a tunnel closed by the peer around to acknowledge
	// retransmitted StopCCNs (section 5.7); default 31s.
	LingerTime time.Duration
	// SessionSetupTimeout bounds ICRQ-to-ICCN (LNS) and ICRQ-to-ICRP
	// (LAC); default 30s, negative disables.
	SessionSetupTimeout time.Duration
	// EmptyTunnelTimeout closes (StopCCN, "no sessions") an established
	// tunnel that has had no session for this long: a client that lost
	// its call but never cleared the tunnel. Zero disables it.
	EmptyTunnelTimeout time.Duration

	MaxTunnels           int // 0: only the ID space limits
	MaxTunnelsPerPeer    int
	MaxSessionsPerTunnel int
	MaxSessions          int

	// DataLengthBit sets the L bit (length field) on data messages sent.
	DataLengthBit bool
	// DataSequencing sends Ns/Nr on data messages from the start; they
	// are also sent when the peer asks with Sequencing Required or sends
	// sequenced data itself.
	DataSequencing bool
}

func (c *Config) setDefaults() {
	if c.Role == 0 {
		c.Role = RoleLNS
	}
	if c.HostName == "" {
		c.HostName = "l2tpsecd"
	}
	if c.VendorName == "" {
		c.VendorName = "l2tpsecd"
	}
	if c.ReceiveWindow == 0 {
		c.ReceiveWindow = 16
	}
	if c.RetransmitTimeout <= 0 {
		c.RetransmitTimeout = time.Second
	}
	if c.RetransmitTimeoutMax < c.RetransmitTimeout {
		c.RetransmitTimeoutMax = max(8*time.Second, c.RetransmitTimeout)
	}
	if c.MaxRetransmits <= 0 {
		c.MaxRetransmits = 5
	}
	if c.AckDelay == 0 {
		c.AckDelay = 100 * time.Millisecond
	}
	if c.HelloInterval == 0 {
		c.HelloInterval = 60 * time.Second
	}
	if c.LingerTime <= 0 {
		c.LingerTime = 31 * time.Second
	}
	if c.SessionSetupTimeout == 0 {
		c.SessionSetupTimeout = 30 * time.Second
	}
}

type peerTunnelKey struct {
	peer     Peer
	remoteID uint16
}

// Endpoint is one L2TP node: the tunnels and sessions of every peer the
// server feeds it.
type Endpoint struct {
	cfg     Config
	clk     clock.Clock
	log     *slog.Logger
	sender  Sender
	handler Handler
	stats   counters
	trace   atomic.Pointer[slog.Logger]
	mopts   MarshalOptions

	mu       sync.RWMutex
	tunnels  map[uint16]*Tunnel
	byRemote map[peerTunnelKey]*Tunnel
	perPeer  map[Peer]int
	closed   bool

	// randID draws tunnel and session IDs; tests make it deterministic.
	randID func() uint32
}

// NewEndpoint returns an endpoint; clk drives every timer, log receives
// warnings (nil discards them).
func NewEndpoint(cfg Config, clk clock.Clock, log *slog.Logger, s Sender, h Handler) (*Endpoint, error) {
	if clk == nil || s == nil || h == nil {
		return nil, errors.New("l2tp: clock, sender and handler are required")
	}
	if cfg.Role != 0 && cfg.Role != RoleLNS && cfg.Role != RoleLAC {
		return nil, fmt.Errorf("l2tp: bad role %v", cfg.Role)
	}
	cfg.setDefaults()
	cfg.Secret = append([]byte(nil), cfg.Secret...)
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	e := &Endpoint{
		cfg: cfg, clk: clk, log: log, sender: s, handler: h,
		tunnels:  make(map[uint16]*Tunnel),
		byRemote: make(map[peerTunnelKey]*Tunnel),
		perPeer:  make(map[Peer]int),
		randID:   mrand.Uint32,
	}
	e.mopts = MarshalOptions{Secret: cfg.Secret, Hide: cfg.HideAVPs}
	return e, nil
}

// Stats returns a snapshot of the counters.
func (e *Endpoint) Stats() Stats { return e.stats.snapshot() }

// SetTrace switches the control-message trace on (l non-nil) or off at run
// time. The trace logs every control message sent and received, decoded;
// challenges, responses and the secret are never logged.
func (e *Endpoint) SetTrace(l *slog.Logger) { e.trace.Store(l) }

func (e *Endpoint) traceMsg(dir string, t *Tunnel, h Header, m *Message) {
	l := e.trace.Load()
	if l == nil {
		return
	}
	l.LogAttrs(context.Background(), slog.LevelInfo, "l2tp "+dir,
		slog.String("peer", fmt.Sprint(t.peer)),
		slog.Uint64("tunnel", uint64(t.localID)),
		slog.Uint64("hdr_tunnel", uint64(h.TunnelID)),
		slog.Uint64("hdr_session", uint64(h.SessionID)),
		slog.Uint64("ns", uint64(h.Ns)), slog.Uint64("nr", uint64(h.Nr)),
		slog.String("type", m.Type.String()),
		slog.String("avps", m.summary()))
}

// Tunnels returns the tunnels that are not yet down.
func (e *Endpoint) Tunnels() []*Tunnel {
	e.mu.RLock()
	defer e.mu.RUnlock()
	out := make([]*Tunnel, 0, len(e.tunnels))
	for _, t := range e.tunnels {
		if !t.isDown.Load() {
			out = append(out, t)
		}
	}
	return out
}

// Input processes one L2TP datagram that arrived from peer (inside its ESP
// SA) from UDP source port srcPort. It returns an error when the datagram
// was dropped; the drop is already counted.
func (e *Endpoint) Input(peer Peer, srcPort uint16, datagram []byte) error {
	h, payload, err := ParseHeader(datagram)
	if err != nil {
		e.stats.drop(DropMalformed)
		return err
	}
	if !h.Control {
		return e.inputData(peer, h, payload)
	}
	e.stats.controlRx.Add(1)
	if h.TunnelID == 0 {
		return e.inputTunnelZero(peer, srcPort, h, datagram)
	}
	e.mu.RLock()
	t := e.tunnels[h.TunnelID]
	e.mu.RUnlock()
	if t == nil {
		e.stats.drop(DropUnknownTunnel)
		return ErrUnknownTunnel
	}
	if t.peer != peer {
		e.stats.drop(DropWrongPeer)
		return ErrWrongPeer
	}
	t.mu.Lock()
	t.inputLocked(h, datagram)
	t.unlockAndDispatch()
	return nil
}

// inputData is the data fast path: lookups under read locks, no allocation.
func (e *Endpoint) inputData(peer Peer, h Header, payload []byte) error {
	e.mu.RLock()
	t := e.tunnels[h.TunnelID]
	e.mu.RUnlock()
	if t == nil {
		e.stats.drop(DropUnknownTunnel)
		return ErrUnknownTunnel
	}
	if t.peer != peer {
		e.stats.drop(DropWrongPeer)
		return ErrWrongPeer
	}
	t.mu.RLock()
	s := t.sessions[h.SessionID]
	t.mu.RUnlock()
	if s == nil {
		e.stats.drop(DropUnknownSession)
		return ErrUnknownSession
	}
	if !s.rxReady.Load() {
		e.stats.drop(DropSessionNotUp)
		return ErrNotEstablished
	}
	if h.HasSeq && !s.acceptSeq(h.Ns) {
		e.stats.drop(DropDataOutOfOrder)
		return nil
	}
	// Accept PPP frames with and without the address and control field:
	// RFC 2661 section 5 carries the HDLC-less PPP frame, but Windows and
	// the Linux pppol2tp driver send FF 03.
	if len(payload) >= 2 && payload[0] == 0xff && payload[1] == 0x03 {
		payload = payload[2:]
	}
	t.dataSeen.Store(true)
	e.stats.dataRx.Add(1)
	e.handler.SessionData(s, payload)
	return nil
}

// inputTunnelZero handles control messages whose header tunnel ID is 0: an
// SCCRQ (or its retransmission); anything else is dropped.
func (e *Endpoint) inputTunnelZero(peer Peer, srcPort uint16, h Header, datagram []byte) error {
	if int(h.Length) <= controlHeaderLen {
		e.stats.drop(DropUnknownTunnel) // a ZLB for no tunnel
		return ErrUnknownTunnel
	}
	_, m, err := ParseControl(datagram, e.cfg.Secret)
	if err != nil || m.Type != MsgSCCRQ {
		if err == nil {
			err = fmt.Errorf("%w: %v to tunnel 0", ErrUnknownTunnel, m.Type)
		}
		e.stats.drop(DropMalformed)
		return err
	}
	if peer == nil || !reflect.TypeOf(peer).Comparable() {
		e.stats.drop(DropMalformed)
		return ErrPeerNotHashable
	}
	if !m.Has(AVPAssignedTunnelID) || m.AssignedTunnelID == 0 {
		e.refuseSCCRQ(peer, srcPort, &m, Result{Code: StopCCNGeneralError, Error: CodeBadValue, Message: "Assigned Tunnel ID missing"})
		return ErrMissingAVP
	}
	key := peerTunnelKey{peer, m.AssignedTunnelID}
	e.mu.RLock()
	t := e.byRemote[key]
	e.mu.RUnlock()
	if t == nil {
		if res, ok := e.checkSCCRQ(&m); !ok {
			e.refuseSCCRQ(peer, srcPort, &m, res)
			return fmt.Errorf("l2tp: SCCRQ refused: %v", res.Code.Describe(MsgStopCCN))
		}
		if e.tieBreak(peer, &m) {
			e.refuseSCCRQ(peer, srcPort, &m, Result{Code: StopCCNAlreadyExists, Message: "tie breaker lost"})
			return nil
		}
		var res Result
		t, res, err = e.newTunnel(peer, srcPort, key.remoteID)
		if err != nil {
			e.refuseSCCRQ(peer, srcPort, &m, res)
			return err
		}
	}
	t.mu.Lock()
	t.inputLocked(h, datagram)
	t.unlockAndDispatch()
	return nil
}

// checkSCCRQ applies the checks that refuse a tunnel before any state is
// kept (section 5.1: version, authentication possible).
func (e *Endpoint) checkSCCRQ(m *Message) (Result, bool) {
	if !m.Has(AVPProtocolVersion) || m.ProtocolVersion != (ProtocolVersion{1, 0}) {
		return Result{Code: StopCCNBadVersion, Message: "only L2TP version 1.0 is supported"}, false
	}
	if !m.Has(AVPHostName) || !m.Has(AVPFramingCapabilities) {
		return Result{Code: StopCCNGeneralError, Error: CodeBadValue, Message: "required AVP missing"}, false
	}
	if m.Has(AVPChallenge) && len(e.cfg.Secret) == 0 {
		return Result{Code: StopCCNNotAuthorized, Message: "challenge without a configured secret"}, false
	}
	return Result{}, true
}

// refuseSCCRQ answers an SCCRQ that gets no tunnel with a one-shot StopCCN
// (Ns 0, acknowledging the SCCRQ); a lost one is answered again when the
// peer retransmits.
func (e *Endpoint) refuseSCCRQ(peer Peer, port uint16, req *Message, res Result) {
	e.stats.tunnelsRefused.Add(1)
	m := Message{Type: MsgStopCCN, Result: res}
	m.Set(AVPResultCode)
	m.Set(AVPAssignedTunnelID)
	b, err := m.Append(nil, req.AssignedTunnelID, 0, 0, 1, nil)
	if err != nil {
		return
	}
	if l := e.trace.Load(); l != nil {
		l.Info("l2tp tx", "peer", fmt.Sprint(peer), "type", m.Type.String(), "avps", m.summary())
	}
	e.stats.controlTx.Add(1)
	e.sender.SendL2TP(peer, port, b)
}

// tieBreak resolves an SCCRQ that races one we sent to the same peer
// (section 4.4.3, Tie Breaker AVP): the lower value wins, and on equal
// values both lose. It reports whether the incoming request must be
// refused.
func (e *Endpoint) tieBreak(peer Peer, m *Message) (refuse bool) {
	if !m.Has(AVPTieBreaker) {
		return false
	}
	for _, t := range e.Tunnels() {
		if t.peer != peer {
			continue
		}
		t.mu.Lock()
		if t.state != tunnelWaitCtlReply || !t.sentTieBreaker {
			t.mu.Unlock()
			continue
		}
		ours := t.tieBreaker
		if ours <= m.TieBreaker {
			refuse = true
		}
		if ours >= m.TieBreaker {
			t.closeLocked(Cause{Reason: ReasonTieBreaker, Result: Result{Code: StopCCNAlreadyExists, Message: "tie breaker lost"}})
		}
		t.unlockAndDispatch()
	}
	return refuse
}

// newTunnel allocates a tunnel ID and registers a tunnel for peer.
func (e *Endpoint) newTunnel(peer Peer, port, remoteID uint16) (*Tunnel, Result, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	full := Result{Code: StopCCNGeneralError, Error: CodeNoResources, Message: "tunnel limit reached"}
	if e.closed {
		return nil, Result{Code: StopCCNShuttingDown}, ErrClosed
	}
	if e.cfg.MaxTunnels > 0 && len(e.tunnels) >= e.cfg.MaxTunnels {
		return nil, full, ErrLimit
	}
	if e.cfg.MaxTunnelsPerPeer > 0 && e.perPeer[peer] >= e.cfg.MaxTunnelsPerPeer {
		return nil, full, ErrLimit
	}
	id, ok := allocID(e.randID, func(id uint16) bool { _, used := e.tunnels[id]; return used }, len(e.tunnels))
	if !ok {
		full.Message = "no tunnel IDs left"
		return nil, full, ErrNoIDs
	}
	t := newTunnel(e, peer, port, id)
	e.tunnels[id] = t
	e.perPeer[peer]++
	if remoteID != 0 {
		t.peerID = remoteID
		t.cc.peerTunnelID = remoteID
		e.byRemote[peerTunnelKey{peer, remoteID}] = t
	}
	e.stats.tunnels.Add(1)
	return t, Result{}, nil
}

// allocID picks a random non-zero 16-bit ID for which used is false.
func allocID(rnd func() uint32, used func(uint16) bool, n int) (uint16, bool) {
	if n >= 0xffff {
		return 0, false
	}
	for range 64 {
		id := uint16(rnd())
		if id != 0 && !used(id) {
			return id, true
		}
	}
	// Dense table: scan from a random start.
	start := uint16(rnd())
	for i := range 0x10000 {
		id := start + uint16(i)
		if id != 0 && !used(id) {
			return id, true
		}
	}
	return 0, false
}

// unregister removes t from the tables (called with t.mu held; the order
// tunnel-then-endpoint is the only one used).
func (e *Endpoint) unregister(t *Tunnel, remove bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if t.peerID != 0 && e.byRemote[peerTunnelKey{t.peer, t.peerID}] == t {
		delete(e.byRemote, peerTunnelKey{t.peer, t.peerID})
	}
	if remove && e.tunnels[t.localID] == t {
		delete(e.tunnels, t.localID)
	}
}

func (e *Endpoint) tunnelDown(t *Tunnel) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if n := e.perPeer[t.peer] - 1; n > 0 {
		e.perPeer[t.peer] = n
	} else {
		delete(e.perPeer, t.peer)
	}
	e.stats.tunnels.Add(-1)
}

// Dial opens a tunnel to peer as the initiator (the LAC side, or an LNS
// initiating the control connection): it sends an SCCRQ to dstPort. The
// tunnel is usable for calls once established; Tunnel.Call may be used at
// once and sends its ICRQ after the SCCCN.
func (e *Endpoint) Dial(peer Peer, dstPort uint16) (*Tunnel, error) {
	if peer == nil || !reflect.TypeOf(peer).Comparable() {
		return nil, ErrPeerNotHashable
	}
	t, _, err := e.newTunnel(peer, dstPort, 0)
	if err != nil {
		return nil, err
	}
	t.mu.Lock()
	t.state = tunnelWaitCtlReply
	m := t.baseSCCRx(MsgSCCRQ)
	if e.cfg.TieBreaker {
		t.tieBreaker = mrand.Uint64()
		t.sentTieBreaker = true
		m.TieBreaker = t.tieBreaker
		m.Set(AVPTieBreaker)
	}
	if len(e.cfg.Secret) > 0 {
		t.challenge = newChallenge()
		m.Challenge = t.challenge
		m.Set(AVPChallenge)
	}
	t.sendLocked(&m, 0)
	t.unlockAndDispatch()
	return t, nil
}

// ClosePeer tears down every tunnel of peer (the ESP SA pair is gone). With
// sendStop false no StopCCN is sent: there is no SA left to carry it.
func (e *Endpoint) ClosePeer(peer Peer, cause Cause, sendStop bool) {
	for _, t := range e.Tunnels() {
		if t.peer == peer {
			t.close(cause, sendStop)
		}
	}
}

// Close sends StopCCN (requester shutting down) on every tunnel and refuses
// new ones. Tunnels finish closing on the clock.
func (e *Endpoint) Close() {
	e.mu.Lock()
	e.closed = true
	e.mu.Unlock()
	for _, t := range e.Tunnels() {
		t.close(Cause{Reason: ReasonShutdown, Result: Result{Code: StopCCNShuttingDown}}, true)
	}
}

func newChallenge() []byte {
	c := make([]byte, 16)
	rand.Read(c)
	return c
}

// FindSession returns the session with our IDs tunnelID/sessionID, or nil
// (for the control API's "kick").
func (e *Endpoint) FindSession(tunnelID, sessionID uint16) *Session {
	e.mu.RLock()
	t := e.tunnels[tunnelID]
	e.mu.RUnlock()
	if t == nil {
		return nil
	}
	t.mu.RLock()
	defer t.mu.RUnlock()
	return t.sessions[sessionID]
}
