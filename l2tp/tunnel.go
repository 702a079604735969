package l2tp

import (
	"crypto/md5"
	"crypto/subtle"
	"errors"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/l2tpsecd/l2tpsecd/internal/clock"
)

// tunnelState is the control connection state of RFC 2661 section 7.2.
//
//	LAC (initiator)                         LNS (responder)
//	idle --send SCCRQ--> waitCtlReply       idle --SCCRQ/send SCCRP--> waitCtlConn
//	waitCtlReply --SCCRP/send SCCCN--> established
//	                                        waitCtlConn --SCCCN--> established
//	any --local close/send StopCCN--> closing --acked or timed out--> dead
//	any --StopCCN received--> closed (lingers to ack retransmissions) --> dead
//	any --retransmissions exhausted--> dead
type tunnelState uint8

const (
	tunnelIdle tunnelState = iota
	tunnelWaitCtlReply
	tunnelWaitCtlConn
	tunnelEstablished
	tunnelClosing
	tunnelClosed
	tunnelDead
)

var tunnelStateNames = [...]string{"idle", "wait-ctl-reply", "wait-ctl-conn", "established", "closing", "closed", "dead"}

func (s tunnelState) String() string {
	if int(s) < len(tunnelStateNames) {
		return tunnelStateNames[s]
	}
	return "tunnelState(" + strconv.Itoa(int(s)) + ")"
}

type eventKind uint8

const (
	evSessionUp eventKind = iota + 1
	evSessionDown
	evTunnelUp
	evTunnelDown
)

type event struct {
	kind  eventKind
	s     *Session
	cause Cause
}

// Tunnel is one control connection with a peer.
type Tunnel struct {
	e       *Endpoint
	peer    Peer
	localID uint16

	dataSeen atomic.Bool // data received since the last HELLO tick
	isDown   atomic.Bool

	mu sync.RWMutex
	// Guarded by mu. sessions is also read (RLock) by the data path.
	state          tunnelState
	peerID         uint16
	peerPort       uint16 // fixed at creation: read without the lock
	peerHostName   string
	peerVendor     string
	cc             controlConn
	sessions       map[uint16]*Session
	challenge      []byte // ours, awaiting the peer's response
	tieBreaker     uint64
	sentTieBreaker bool
	ctlSeen        bool // control message received since the last HELLO tick
	helloTimer     clock.Timer
	emptyTimer     clock.Timer
	lingerTimer    clock.Timer
	pendingCalls   []*Session // LAC calls placed before the tunnel was up
	callSerial     uint32
	events         []event
	dispatching    bool
}

func newTunnel(e *Endpoint, peer Peer, port, id uint16) *Tunnel {
	t := &Tunnel{e: e, peer: peer, localID: id, peerPort: port, sessions: make(map[uint16]*Session)}
	c := &t.cc
	c.init(connConfig{
		rtoInitial: e.cfg.RetransmitTimeout, rtoMax: e.cfg.RetransmitTimeoutMax,
		maxRetries: e.cfg.MaxRetransmits, ackDelay: e.cfg.AckDelay, recvWindow: e.cfg.ReceiveWindow,
	})
	c.stats = &e.stats
	c.schedule = t.schedule
	c.transmit = func(b []byte) { e.sender.SendL2TP(t.peer, t.peerPort, b) }
	c.deliver = t.handleLocked
	c.giveUp = t.giveUpLocked
	return t
}

// schedule runs f under the tunnel lock after d, then delivers events.
func (t *Tunnel) schedule(d time.Duration, f func()) clock.Timer {
	return t.e.clk.AfterFunc(d, func() {
		t.mu.Lock()
		f()
		t.unlockAndDispatch()
	})
}

// Peer returns the key the server gave for this tunnel's datagrams.
func (t *Tunnel) Peer() Peer { return t.peer }

// LocalID returns our tunnel ID.
func (t *Tunnel) LocalID() uint16 { return t.localID }

// Info describes a tunnel for the control API.
type TunnelInfo struct {
	LocalID, PeerID uint16
	PeerPort        uint16
	State           string
	PeerHostName    string
	PeerVendor      string
	Sessions        int
}

// Info returns a snapshot of the tunnel.
func (t *Tunnel) Info() TunnelInfo {
	t.mu.RLock()
	defer t.mu.RUnlock()
	return TunnelInfo{
		LocalID: t.localID, PeerID: t.peerID, PeerPort: t.peerPort, State: t.state.String(),
		PeerHostName: t.peerHostName, PeerVendor: t.peerVendor, Sessions: len(t.sessions),
	}
}

// Sessions returns the tunnel's sessions.
func (t *Tunnel) Sessions() []*Session {
	t.mu.RLock()
	defer t.mu.RUnlock()
	out := make([]*Session, 0, len(t.sessions))
	for _, s := range t.sessions {
		out = append(out, s)
	}
	return out
}

// Close tears the tunnel down with a StopCCN carrying res (section 5.7).
func (t *Tunnel) Close(res Result) {
	t.close(Cause{Reason: ReasonLocal, Result: res}, true)
}

func (t *Tunnel) close(c Cause, sendStop bool) {
	t.mu.Lock()
	if sendStop {
		t.closeLocked(c)
	} else if t.state < tunnelClosing {
		t.downLocked(c)
		t.reapLocked()
	}
	t.unlockAndDispatch()
}

// unlockAndDispatch releases mu and delivers queued events in order; if
// another goroutine (or an outer frame of this one) is already delivering,
// it leaves them to it.
func (t *Tunnel) unlockAndDispatch() {
	if t.dispatching || len(t.events) == 0 {
		t.mu.Unlock()
		return
	}
	t.dispatching = true
	for len(t.events) > 0 {
		evs := t.events
		t.events = nil
		t.mu.Unlock()
		for _, ev := range evs {
			t.deliver(ev)
		}
		t.mu.Lock()
	}
	t.dispatching = false
	t.mu.Unlock()
}

func (t *Tunnel) deliver(ev event) {
	h := t.e.handler
	switch ev.kind {
	case evSessionUp:
		h.SessionUp(ev.s)
		if !ev.s.downQueued.Load() {
			ev.s.rxReady.Store(true)
		}
	case evSessionDown:
		h.SessionDown(ev.s, ev.cause)
	case evTunnelUp:
		if u, ok := h.(TunnelUpHandler); ok {
			u.TunnelUp(t)
		}
	case evTunnelDown:
		h.TunnelDown(t, ev.cause)
	}
}

// sendLocked marshals m and queues it on the reliable channel.
func (t *Tunnel) sendLocked(m *Message, hdrSession uint16) {
	b, err := m.Append(nil, t.peerID, hdrSession, 0, 0, &t.e.mopts)
	if err != nil {
		t.e.log.Warn("l2tp: cannot encode control message", "type", m.Type.String(), "err", err)
		return
	}
	if m.Type == MsgHello {
		t.e.stats.helloTx.Add(1)
	}
	t.e.traceMsg("tx", t, Header{Control: true, TunnelID: t.peerID, SessionID: hdrSession, Ns: t.cc.ns, Nr: t.cc.nr}, m)
	t.cc.send(b, m.Type)
}

// inputLocked feeds a control datagram whose header parsed into the
// reliable channel, which delivers in-order messages to handleLocked.
func (t *Tunnel) inputLocked(h Header, b []byte) {
	if t.state == tunnelDead {
		t.e.stats.drop(DropClosed)
		return
	}
	t.ctlSeen = true
	t.cc.input(h, b)
	t.checkClosedLocked()
}

// checkClosedLocked finishes a local close once the StopCCN is acked.
func (t *Tunnel) checkClosedLocked() {
	if t.state == tunnelClosing && t.cc.idle() {
		t.reapLocked()
	}
}

func (t *Tunnel) giveUpLocked(typ MessageType) bool {
	if typ == MsgHello && !t.e.cfg.HelloRequired && t.state == tunnelEstablished {
		t.e.stats.helloUnanswered.Add(1)
		return true
	}
	if t.state == tunnelClosing {
		t.reapLocked()
		return false
	}
	reason := ReasonTimeout
	if typ == MsgHello {
		reason = ReasonHelloTimeout
	}
	t.downLocked(Cause{Reason: reason, Result: Result{Code: StopCCNGeneralError, Message: "peer does not acknowledge " + typ.String()}})
	t.reapLocked()
	return false
}

// handleLocked processes one in-order control message.
func (t *Tunnel) handleLocked(h Header, b []byte) {
	_, m, err := ParseControl(b, t.e.cfg.Secret)
	if t.state == tunnelClosed || t.state == tunnelClosing {
		return // only acknowledged while closing
	}
	if err != nil {
		t.protocolErrorLocked(h, &m, err)
		return
	}
	t.e.traceMsg("rx", t, h, &m)
	switch m.Type {
	case MsgSCCRQ:
		t.onSCCRQ(&m)
	case MsgSCCRP:
		t.onSCCRP(&m)
	case MsgSCCCN:
		t.onSCCCN(&m)
	case MsgStopCCN:
		t.onStopCCN(&m)
	case MsgHello:
		// Acknowledged by the reliable channel; nothing else to do.
	case MsgICRQ:
		t.onICRQ(h, &m)
	case MsgICRP:
		t.onICRP(h, &m)
	case MsgICCN:
		t.onICCN(h, &m)
	case MsgCDN:
		t.onCDN(h, &m)
	case MsgOCRQ:
		t.refuseCallLocked(m.AssignedSessionID, Result{Code: CDNNoFacilitiesPerm, Message: "outgoing calls are not supported"})
	case MsgWEN, MsgSLI, MsgOCRP, MsgOCCN:
		// WEN and SLI are informational for an LNS (ACCM is
		// irrelevant to PPP over L2TP); OCRP/OCCN answer OCRQs we never
		// send.
	}
}

// protocolErrorLocked answers a message that failed to parse: a CDN for a
// session-scoped message, StopCCN otherwise (section 4.2 for unknown
// mandatory AVPs).
func (t *Tunnel) protocolErrorLocked(h Header, m *Message, err error) {
	t.e.stats.drop(DropMalformed)
	var pe *ProtocolError
	if !errors.As(err, &pe) {
		return // e.g. an unknown message type without the M bit: ignored
	}
	res := Result{Code: pe.Result, Error: pe.Code, Message: pe.Message}
	if m.Type.sessionScoped() && t.state == tunnelEstablished {
		if s := t.sessions[h.SessionID]; s != nil && h.SessionID != 0 {
			t.closeSessionLocked(s, Cause{Reason: ReasonProtocolError, Result: res}, true)
			return
		}
		if m.Type == MsgICRQ && m.Has(AVPAssignedSessionID) {
			t.refuseCallLocked(m.AssignedSessionID, res)
			return
		}
	}
	t.closeLocked(Cause{Reason: ReasonProtocolError, Result: res})
}

// baseSCCRx builds the AVPs common to SCCRQ and SCCRP (section 6.1, 6.2).
func (t *Tunnel) baseSCCRx(typ MessageType) Message {
	cfg := &t.e.cfg
	m := Message{
		Type:                typ,
		ProtocolVersion:     ProtocolVersion{1, 0},
		FramingCapabilities: FramingSync | FramingAsync,
		BearerCapabilities:  0,
		FirmwareRevision:    cfg.FirmwareRevision,
		HostName:            cfg.HostName,
		VendorName:          cfg.VendorName,
		AssignedTunnelID:    t.localID,
		ReceiveWindowSize:   cfg.ReceiveWindow,
	}
	for _, a := range [...]AVPType{AVPProtocolVersion, AVPFramingCapabilities, AVPBearerCapabilities,
		AVPFirmwareRevision, AVPHostName, AVPVendorName, AVPAssignedTunnelID, AVPReceiveWindowSize} {
		m.Set(a)
	}
	return m
}

// challengeResponse computes MD5(ID || secret || challenge) where ID is the
// low octet of the message type carrying the response (section 4.4.3).
func challengeResponse(typ MessageType, secret, challenge []byte) []byte {
	h := md5.New()
	h.Write([]byte{byte(typ)})
	h.Write(secret)
	h.Write(challenge)
	return h.Sum(nil)
}

func (t *Tunnel) notAuthorizedLocked(msg string) {
	t.closeLocked(Cause{Reason: ReasonAuthFailed, Result: Result{Code: StopCCNNotAuthorized, Message: msg}})
}

// onSCCRQ is the responder's step 1 (section 5.1): answer with SCCRP.
func (t *Tunnel) onSCCRQ(m *Message) {
	if t.state != tunnelIdle {
		t.e.stats.drop(DropUnexpected)
		return
	}
	t.peerHostName, t.peerVendor = m.HostName, m.VendorName
	if m.Has(AVPReceiveWindowSize) {
		t.cc.setPeerWindow(m.ReceiveWindowSize)
	}
	r := t.baseSCCRx(MsgSCCRP)
	secret := t.e.cfg.Secret
	if m.Has(AVPChallenge) {
		r.ChallengeResponse = challengeResponse(MsgSCCRP, secret, m.Challenge)
		r.Set(AVPChallengeResponse)
	}
	if len(secret) > 0 {
		t.challenge = newChallenge()
		r.Challenge = t.challenge
		r.Set(AVPChallenge)
	}
	t.state = tunnelWaitCtlConn
	t.sendLocked(&r, 0)
}

// onSCCRP is the initiator's step 2: check the response, send SCCCN.
func (t *Tunnel) onSCCRP(m *Message) {
	if t.state != tunnelWaitCtlReply {
		t.e.stats.drop(DropUnexpected)
		return
	}
	if !m.Has(AVPAssignedTunnelID) || m.AssignedTunnelID == 0 || !m.Has(AVPProtocolVersion) {
		t.closeLocked(Cause{Reason: ReasonProtocolError, Result: Result{Code: StopCCNGeneralError, Error: CodeBadValue, Message: "SCCRP lacks required AVPs"}})
		return
	}
	t.peerID = m.AssignedTunnelID
	t.cc.peerTunnelID = m.AssignedTunnelID
	t.e.mu.Lock()
	t.e.byRemote[peerTunnelKey{t.peer, t.peerID}] = t
	t.e.mu.Unlock()
	t.peerHostName, t.peerVendor = m.HostName, m.VendorName
	if m.Has(AVPReceiveWindowSize) {
		t.cc.setPeerWindow(m.ReceiveWindowSize)
	}
	secret := t.e.cfg.Secret
	if t.challenge != nil {
		want := challengeResponse(MsgSCCRP, secret, t.challenge)
		if !m.Has(AVPChallengeResponse) || subtle.ConstantTimeCompare(want, m.ChallengeResponse) != 1 {
			t.notAuthorizedLocked("challenge response mismatch")
			return
		}
	}
	r := Message{Type: MsgSCCCN}
	if m.Has(AVPChallenge) {
		if len(secret) == 0 {
			t.notAuthorizedLocked("challenge without a configured secret")
			return
		}
		r.ChallengeResponse = challengeResponse(MsgSCCCN, secret, m.Challenge)
		r.Set(AVPChallengeResponse)
	}
	t.sendLocked(&r, 0)
	t.establishLocked()
}

// onSCCCN is the responder's step 3: verify the response, established.
func (t *Tunnel) onSCCCN(m *Message) {
	if t.state != tunnelWaitCtlConn {
		t.e.stats.drop(DropUnexpected)
		return
	}
	if t.challenge != nil {
		want := challengeResponse(MsgSCCCN, t.e.cfg.Secret, t.challenge)
		if !m.Has(AVPChallengeResponse) || subtle.ConstantTimeCompare(want, m.ChallengeResponse) != 1 {
			t.notAuthorizedLocked("challenge response mismatch")
			return
		}
	}
	t.establishLocked()
}

func (t *Tunnel) establishLocked() {
	t.state = tunnelEstablished
	t.challenge = nil
	t.e.stats.tunnelsOpened.Add(1)
	t.armHelloLocked()
	t.armEmptyLocked()
	t.events = append(t.events, event{kind: evTunnelUp})
	for _, s := range t.pendingCalls {
		t.sendICRQLocked(s)
	}
	t.pendingCalls = nil
}

func (t *Tunnel) armHelloLocked() {
	if t.e.cfg.HelloInterval < 0 {
		return
	}
	t.helloTimer = t.schedule(t.e.cfg.HelloInterval, t.onHelloTimer)
}

// armEmptyLocked starts the empty-tunnel timer when the tunnel has no
// session; a session arriving before it fires makes it a no-op.
func (t *Tunnel) armEmptyLocked() {
	d := t.e.cfg.EmptyTunnelTimeout
	if d <= 0 || len(t.sessions) > 0 || t.state != tunnelEstablished {
		return
	}
	if t.emptyTimer != nil {
		t.emptyTimer.Stop()
	}
	t.emptyTimer = t.schedule(d, func() {
		if t.state == tunnelEstablished && len(t.sessions) == 0 {
			t.closeLocked(Cause{Reason: ReasonIdle, Result: Result{Code: StopCCNClear, Message: "no sessions"}})
		}
	})
}

// onHelloTimer sends a HELLO after an interval without control traffic
// (section 6.5). Data traffic counts as liveness unless HelloRequired.
func (t *Tunnel) onHelloTimer() {
	if t.state != tunnelEstablished {
		return
	}
	t.armHelloLocked()
	ctl, data := t.ctlSeen, t.dataSeen.Swap(false)
	t.ctlSeen = false
	if ctl || (data && !t.e.cfg.HelloRequired) || !t.cc.idle() {
		return
	}
	m := Message{Type: MsgHello}
	t.sendLocked(&m, 0)
}

// onStopCCN: the peer clears the control connection (section 5.7). The
// reliable channel acknowledges it; the tunnel lingers to acknowledge
// retransmissions.
func (t *Tunnel) onStopCCN(m *Message) {
	t.downLocked(Cause{Reason: ReasonPeerStopCCN, Result: m.Result})
	t.state = tunnelClosed
	t.cc.queue, t.cc.inflight = nil, 0
	t.cc.stopRetransmit()
	t.lingerTimer = t.schedule(t.e.cfg.LingerTime, t.reapLocked)
}

// closeLocked sends StopCCN and tears everything down locally; the tunnel
// is reaped when the StopCCN is acknowledged or retransmissions run out.
func (t *Tunnel) closeLocked(c Cause) {
	if t.state >= tunnelClosing {
		return
	}
	t.downLocked(c)
	if t.peerID == 0 {
		// The peer has not told us its tunnel ID (no SCCRP yet): a
		// StopCCN could not be addressed, so just forget the tunnel.
		t.reapLocked()
		return
	}
	m := Message{Type: MsgStopCCN, Result: c.Result, AssignedTunnelID: t.localID}
	m.Set(AVPResultCode)
	m.Set(AVPAssignedTunnelID)
	t.state = tunnelClosing
	t.sendLocked(&m, 0)
	t.checkClosedLocked()
}

// downLocked ends every session and queues TunnelDown; it runs once.
func (t *Tunnel) downLocked(c Cause) {
	if t.isDown.Swap(true) {
		return
	}
	sc := Cause{Reason: ReasonTunnelDown, Result: Result{Code: CDNAdministrative, Message: "tunnel closed"}}
	// The sessions of a tunnel that the peer cleared or that timed out
	// end for that reason (the RADIUS Acct-Terminate-Cause depends on it).
	switch c.Reason {
	case ReasonLocal, ReasonShutdown, ReasonPeerStopCCN, ReasonTimeout, ReasonHelloTimeout:
		sc.Reason = c.Reason
	}
	for _, s := range t.sessions {
		t.removeSessionLocked(s, sc)
	}
	t.pendingCalls = nil
	if t.helloTimer != nil {
		t.helloTimer.Stop()
	}
	if t.emptyTimer != nil {
		t.emptyTimer.Stop()
	}
	t.e.tunnelDown(t)
	if c.Reason < numReasons {
		t.e.stats.tunnelsClosed[c.Reason].Add(1)
	}
	// A new SCCRQ that reuses the peer's tunnel ID must start a new
	// tunnel, not be taken for a retransmission to this one.
	t.e.unregister(t, false)
	t.events = append(t.events, event{kind: evTunnelDown, cause: c})
}

// reapLocked forgets the tunnel.
func (t *Tunnel) reapLocked() {
	if t.state == tunnelDead {
		return
	}
	t.downLocked(Cause{Reason: ReasonTimeout})
	t.state = tunnelDead
	t.cc.stop()
	if t.lingerTimer != nil {
		t.lingerTimer.Stop()
	}
	t.e.unregister(t, true)
}
