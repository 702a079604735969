package l2tp

import (
	"encoding/binary"
	"strconv"
	"sync"
	"sync/atomic"

	"github.com/l2tpsecd/l2tpsecd/internal/clock"
)

// sessionState is the call state of RFC 2661 section 7.4 (incoming calls).
//
//	LAC: idle --send ICRQ--> waitReply --ICRP/send ICCN--> established
//	LNS: idle --ICRQ/send ICRP--> waitConnect --ICCN--> established
//	any --CDN sent or received, tunnel down--> (removed)
type sessionState uint8

const (
	sessionIdle sessionState = iota
	sessionWaitTunnel
	sessionWaitReply
	sessionWaitConnect
	sessionEstablished
	sessionClosed
)

var sessionStateNames = [...]string{"idle", "wait-tunnel", "wait-reply", "wait-connect", "established", "closed"}

func (s sessionState) String() string {
	if int(s) < len(sessionStateNames) {
		return sessionStateNames[s]
	}
	return "sessionState(" + strconv.Itoa(int(s)) + ")"
}

// Session is one call (one PPP link) inside a tunnel.
type Session struct {
	t       *Tunnel
	localID uint16

	// Set before txReady is published and never changed afterwards.
	peerTunnelID, peerID uint16

	txReady    atomic.Bool // SendPPP allowed
	rxReady    atomic.Bool // data delivered to the handler
	downQueued atomic.Bool
	userData   atomic.Value

	// Guarded by t.mu.
	state         sessionState
	announced     bool
	serial        uint32
	callingNumber string
	calledNumber  string
	seqRequired   bool
	setupTimer    clock.Timer

	// Data sequencing (section 5.4), guarded by dmu.
	dmu     sync.Mutex
	txSeq   bool
	txNs    uint16
	rxNext  uint16
	rxValid bool
}

// Tunnel returns the session's tunnel.
func (s *Session) Tunnel() *Tunnel { return s.t }

// Peer returns the tunnel's peer key.
func (s *Session) Peer() Peer { return s.t.peer }

// LocalID returns our session ID.
func (s *Session) LocalID() uint16 { return s.localID }

// PeerID returns the peer's session ID (0 before it is known).
func (s *Session) PeerID() uint16 {
	s.t.mu.RLock()
	defer s.t.mu.RUnlock()
	return s.peerID
}

// CallingNumber returns the Calling Number AVP of the ICRQ (Windows puts
// the client's address there), or "".
func (s *Session) CallingNumber() string {
	s.t.mu.RLock()
	defer s.t.mu.RUnlock()
	return s.callingNumber
}

// SetUserData attaches a value of the server's (its PPP state); UserData
// returns it. Safe from any goroutine.
func (s *Session) SetUserData(v any) { s.userData.Store(&v) }

// UserData returns what SetUserData stored, or nil.
func (s *Session) UserData() any {
	p, _ := s.userData.Load().(*any)
	if p == nil {
		return nil
	}
	return *p
}

func (s *Session) String() string {
	return "l2tp session " + strconv.Itoa(int(s.t.localID)) + "/" + strconv.Itoa(int(s.localID))
}

// acceptSeq applies the data sequence check: frames older than the last
// one seen are dropped (section 5.4 permits dropping out-of-order data).
// Sequenced data from the peer also turns sequencing on for our data.
func (s *Session) acceptSeq(ns uint16) bool {
	s.dmu.Lock()
	defer s.dmu.Unlock()
	if s.rxValid && seqLess(ns, s.rxNext) {
		return false
	}
	s.rxNext = ns + 1
	s.rxValid = true
	s.txSeq = true
	return true
}

// AppendPPP appends to dst the data message carrying one PPP frame, with
// the FF 03 address and control field that Windows and the Linux pppol2tp
// driver send (added if frame lacks it). It advances the data sequence
// number when sequencing is on. It does not allocate when dst has room
// (frame length + MaxDataHeaderLen + 2).
func (s *Session) AppendPPP(dst, frame []byte) ([]byte, error) {
	if !s.txReady.Load() {
		return dst, ErrNotEstablished
	}
	h := Header{TunnelID: s.peerTunnelID, SessionID: s.peerID, HasLength: s.t.e.cfg.DataLengthBit}
	s.dmu.Lock()
	if s.txSeq {
		h.HasSeq = true
		h.Ns = s.txNs
		s.txNs++
	}
	s.dmu.Unlock()
	start := len(dst)
	if len(frame) >= 2 && frame[0] == 0xff && frame[1] == 0x03 {
		return AppendData(dst, h, frame), nil
	}
	dst = AppendData(dst, h, nil)
	dst = append(dst, 0xff, 0x03)
	dst = append(dst, frame...)
	if h.HasLength {
		// AppendData wrote the length of the bare header.
		dst[start+2] = byte((len(dst) - start) >> 8)
		dst[start+3] = byte(len(dst) - start)
	}
	return dst, nil
}

// EncapsulateInPlace writes the data header for the PPP frame buf[start:]
// into the headroom buf[start-n:start] and returns start-n: the datagram is
// buf[off:], to be sent to Peer() at PeerPort() through the SA. It is the
// copy-free path for frames that ppp.Session.WriteIP builds in a buffer with
// headroom (it writes FF 03 itself; unlike SendPPP nothing is added here).
// buf needs MaxDataHeaderLen bytes before start. It does not allocate.
func (s *Session) EncapsulateInPlace(buf []byte, start int) (off int, err error) {
	if !s.txReady.Load() {
		return 0, ErrNotEstablished
	}
	if start < MaxDataHeaderLen || start > len(buf) {
		return 0, ErrShort
	}
	h := Header{TunnelID: s.peerTunnelID, SessionID: s.peerID, HasLength: s.t.e.cfg.DataLengthBit}
	n := 6
	if h.HasLength {
		n += 2
	}
	s.dmu.Lock()
	if s.txSeq {
		h.HasSeq = true
		h.Ns = s.txNs
		s.txNs++
		n += 4
	}
	s.dmu.Unlock()
	off = start - n
	AppendData(buf[off:off], h, nil)
	if h.HasLength {
		binary.BigEndian.PutUint16(buf[off+2:], uint16(len(buf)-off))
	}
	s.t.e.stats.dataTx.Add(1)
	return off, nil
}

// PeerPort returns the UDP port the peer's L2TP uses (RFC 3193: replies go
// to the port the peer sent from).
func (s *Session) PeerPort() uint16 { return s.t.peerPort }

var dataBufPool = sync.Pool{New: func() any { b := make([]byte, 0, 2048); return &b }}

// SendPPP sends one PPP frame to the peer. Safe from any goroutine except
// inside Sender.SendL2TP; it does not allocate in the steady state.
func (s *Session) SendPPP(frame []byte) error {
	bp := dataBufPool.Get().(*[]byte)
	b, err := s.AppendPPP((*bp)[:0], frame)
	if err == nil {
		s.t.e.stats.dataTx.Add(1)
		s.t.e.sender.SendL2TP(s.t.peer, s.t.peerPort, b)
	}
	*bp = b[:0]
	dataBufPool.Put(bp)
	return err
}

// Close ends the session with a CDN carrying res (section 5.7). With
// stopTunnelIfLast, a tunnel left without sessions is closed with StopCCN
// too (what Windows' own LAC does when it hangs up).
func (s *Session) Close(res Result, stopTunnelIfLast bool) {
	t := s.t
	t.mu.Lock()
	if s.state != sessionClosed && t.sessions[s.localID] == s {
		t.closeSessionLocked(s, Cause{Reason: ReasonLocal, Result: res}, true)
		if stopTunnelIfLast && len(t.sessions) == 0 {
			t.closeLocked(Cause{Reason: ReasonLocal, Result: Result{Code: StopCCNClear}})
		}
	}
	t.unlockAndDispatch()
}

// CallOptions are the LAC's ICRQ/ICCN parameters.
type CallOptions struct {
	CallingNumber, CalledNumber string
	SequencingRequired          bool // ask the LNS to sequence data
}

// Call places an incoming call on a tunnel the LAC dialed (section 5.2.1:
// ICRQ, ICRP, ICCN). SessionUp follows when the LNS answers.
func (t *Tunnel) Call(opts CallOptions) (*Session, error) {
	if t.e.cfg.Role != RoleLAC {
		return nil, ErrRole
	}
	t.mu.Lock()
	defer t.unlockAndDispatch()
	if t.state > tunnelEstablished {
		return nil, ErrClosed
	}
	s, _, err := t.newSessionLocked()
	if err != nil {
		return nil, err
	}
	s.callingNumber, s.calledNumber, s.seqRequired = opts.CallingNumber, opts.CalledNumber, opts.SequencingRequired
	t.callSerial++
	s.serial = t.callSerial
	if t.state == tunnelEstablished {
		t.sendICRQLocked(s)
	} else {
		s.state = sessionWaitTunnel
		t.pendingCalls = append(t.pendingCalls, s)
	}
	return s, nil
}

func (t *Tunnel) sendICRQLocked(s *Session) {
	s.state = sessionWaitReply
	m := Message{
		Type: MsgICRQ, AssignedSessionID: s.localID, CallSerialNumber: s.serial,
		BearerType: BearerAnalog, CallingNumber: s.callingNumber, CalledNumber: s.calledNumber,
	}
	m.Set(AVPAssignedSessionID)
	m.Set(AVPCallSerialNumber)
	m.Set(AVPBearerType)
	if s.callingNumber != "" {
		m.Set(AVPCallingNumber)
	}
	if s.calledNumber != "" {
		m.Set(AVPCalledNumber)
	}
	t.sendLocked(&m, 0)
	t.armSetupTimerLocked(s)
}

// newSessionLocked allocates a session ID within limits; on failure it
// returns the CDN result to refuse with.
func (t *Tunnel) newSessionLocked() (*Session, Result, error) {
	cfg := &t.e.cfg
	if cfg.MaxSessionsPerTunnel > 0 && len(t.sessions) >= cfg.MaxSessionsPerTunnel {
		return nil, Result{Code: CDNNoFacilitiesTemp, Message: "session limit per tunnel reached"}, ErrLimit
	}
	if cfg.MaxSessions > 0 && t.e.stats.sessions.Load() >= int64(cfg.MaxSessions) {
		return nil, Result{Code: CDNNoFacilitiesTemp, Message: "session limit reached"}, ErrLimit
	}
	id, ok := allocID(t.e.randID, func(id uint16) bool { _, used := t.sessions[id]; return used }, len(t.sessions))
	if !ok {
		return nil, Result{Code: CDNNoFacilitiesTemp, Message: "no session IDs left"}, ErrNoIDs
	}
	s := &Session{t: t, localID: id}
	s.txSeq = cfg.DataSequencing
	t.sessions[id] = s
	t.e.stats.sessions.Add(1)
	return s, Result{}, nil
}

func (t *Tunnel) armSetupTimerLocked(s *Session) {
	if t.e.cfg.SessionSetupTimeout < 0 {
		return
	}
	s.setupTimer = t.schedule(t.e.cfg.SessionSetupTimeout, func() {
		if s.state == sessionWaitReply || s.state == sessionWaitConnect {
			t.closeSessionLocked(s, Cause{Reason: ReasonSetupTimeout, Result: Result{Code: CDNTimeout}}, true)
		}
	})
}

// refuseCallLocked answers an ICRQ/OCRQ that gets no session with a CDN
// addressed to the peer's session ID.
func (t *Tunnel) refuseCallLocked(peerSession uint16, res Result) {
	t.e.stats.sessionsRefused.Add(1)
	m := Message{Type: MsgCDN, Result: res, AssignedSessionID: 0}
	m.Set(AVPResultCode)
	m.Set(AVPAssignedSessionID)
	t.sendLocked(&m, peerSession)
}

// onICRQ is the LNS side of section 5.2.1: allocate a session, send ICRP.
func (t *Tunnel) onICRQ(h Header, m *Message) {
	if !m.Has(AVPAssignedSessionID) || m.AssignedSessionID == 0 {
		t.refuseCallLocked(0, Result{Code: CDNGeneralError, Error: CodeBadValue, Message: "Assigned Session ID missing"})
		return
	}
	switch {
	case t.state != tunnelEstablished:
		t.refuseCallLocked(m.AssignedSessionID, Result{Code: CDNGeneralError, Error: CodeNoControlConn, Message: "control connection not established"})
		return
	case t.e.cfg.Role != RoleLNS:
		t.refuseCallLocked(m.AssignedSessionID, Result{Code: CDNNoFacilitiesPerm, Message: "not an LNS"})
		return
	}
	for _, s := range t.sessions {
		if s.peerID == m.AssignedSessionID {
			// The peer reuses a session ID it already has with us.
			t.refuseCallLocked(m.AssignedSessionID, Result{Code: CDNGeneralError, Error: CodeInvalidSession, Message: "session ID in use"})
			return
		}
	}
	s, res, err := t.newSessionLocked()
	if err != nil {
		t.refuseCallLocked(m.AssignedSessionID, res)
		return
	}
	s.peerID = m.AssignedSessionID
	s.serial = m.CallSerialNumber
	s.callingNumber, s.calledNumber = m.CallingNumber, m.CalledNumber
	s.state = sessionWaitConnect
	r := Message{Type: MsgICRP, AssignedSessionID: s.localID}
	r.Set(AVPAssignedSessionID)
	t.sendLocked(&r, s.peerID)
	t.armSetupTimerLocked(s)
}

// onICRP is the LAC side: record the LNS's session ID, send ICCN.
func (t *Tunnel) onICRP(h Header, m *Message) {
	s := t.sessions[h.SessionID]
	if s == nil || s.state != sessionWaitReply {
		t.e.stats.drop(DropUnexpected)
		return
	}
	if !m.Has(AVPAssignedSessionID) || m.AssignedSessionID == 0 {
		t.closeSessionLocked(s, Cause{Reason: ReasonProtocolError, Result: Result{Code: CDNGeneralError, Error: CodeBadValue, Message: "Assigned Session ID missing"}}, true)
		return
	}
	s.peerID = m.AssignedSessionID
	r := Message{Type: MsgICCN, TxConnectSpeed: 100_000_000, FramingType: FramingSync}
	r.Set(AVPTxConnectSpeed)
	r.Set(AVPFramingType)
	if s.seqRequired {
		r.Set(AVPSequencingRequired)
	}
	t.sendLocked(&r, s.peerID)
	t.establishSessionLocked(s)
}

// onICCN is the LNS side: the call is connected.
func (t *Tunnel) onICCN(h Header, m *Message) {
	s := t.sessions[h.SessionID]
	if s == nil || s.state != sessionWaitConnect {
		t.e.stats.drop(DropUnexpected)
		return
	}
	if m.Has(AVPSequencingRequired) {
		s.dmu.Lock()
		s.txSeq = true
		s.dmu.Unlock()
	}
	t.establishSessionLocked(s)
}

func (t *Tunnel) establishSessionLocked(s *Session) {
	s.state = sessionEstablished
	if s.setupTimer != nil {
		s.setupTimer.Stop()
	}
	s.peerTunnelID = t.peerID
	s.announced = true
	s.txReady.Store(true)
	t.e.stats.sessionsOpened.Add(1)
	t.events = append(t.events, event{kind: evSessionUp, s: s})
}

// onCDN: the peer disconnects a call (section 5.7). The header carries our
// session ID, or 0 when the peer never learnt it; then the Assigned
// Session ID (the peer's own) finds it.
func (t *Tunnel) onCDN(h Header, m *Message) {
	s := t.sessions[h.SessionID]
	if s == nil && h.SessionID == 0 && m.AssignedSessionID != 0 {
		for _, c := range t.sessions {
			if c.peerID == m.AssignedSessionID {
				s = c
				break
			}
		}
	}
	if s == nil {
		t.e.stats.drop(DropUnknownSession)
		return
	}
	c := Cause{Reason: ReasonPeerCDN, Result: m.Result}
	if m.Has(AVPPPPDisconnectCause) {
		c.Disconnect, c.HasDisconnect = m.DisconnectCause, true
	}
	t.closeSessionLocked(s, c, false)
}

// closeSessionLocked removes s and, with sendCDN, tells the peer.
func (t *Tunnel) closeSessionLocked(s *Session, c Cause, sendCDN bool) {
	if sendCDN && t.state == tunnelEstablished && s.state != sessionWaitTunnel {
		m := Message{Type: MsgCDN, Result: c.Result, AssignedSessionID: s.localID}
		m.Set(AVPResultCode)
		m.Set(AVPAssignedSessionID)
		t.sendLocked(&m, s.peerID)
	}
	t.removeSessionLocked(s, c)
}

func (t *Tunnel) removeSessionLocked(s *Session, c Cause) {
	if s.state == sessionClosed {
		return
	}
	s.state = sessionClosed
	if s.setupTimer != nil {
		s.setupTimer.Stop()
	}
	s.txReady.Store(false)
	s.rxReady.Store(false)
	s.downQueued.Store(true)
	delete(t.sessions, s.localID)
	t.e.stats.sessions.Add(-1)
	t.armEmptyLocked()
	if s.announced {
		if c.Reason < numReasons {
			t.e.stats.sessionsClosed[c.Reason].Add(1)
		}
		t.events = append(t.events, event{kind: evSessionDown, s: s, cause: c})
	}
}
