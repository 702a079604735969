package l2tp

import (
	"time"

	"github.com/l2tpsecd/l2tpsecd/internal/clock"
)

// seqLess reports whether a comes before b in 16-bit sequence space
// (RFC 2661 section 5.8: comparisons are modulo 2^16).
func seqLess(a, b uint16) bool { return int16(a-b) < 0 }

// connConfig holds the reliable-delivery parameters of a control
// connection.
type connConfig struct {
	rtoInitial time.Duration // first retransmission timeout
	rtoMax     time.Duration // cap of the exponential backoff
	maxRetries int           // retransmissions of one message before giving up
	ackDelay   time.Duration // how long to wait for a piggyback before sending a ZLB
	recvWindow uint16        // our receive window: out-of-order messages held
}

// outMsg is a queued control message; Ns is fixed when it is queued, Nr is
// refreshed on every (re)transmission.
type outMsg struct {
	b   []byte
	ns  uint16
	typ MessageType
}

// controlConn is the reliable delivery of RFC 2661 section 5.8 and
// Appendix A for one tunnel: Ns/Nr, the send queue limited by the peer's
// receive window and a congestion window (slow start, congestion
// avoidance), retransmission with capped exponential backoff, delayed ZLB
// acknowledgements, duplicate acknowledgement and in-order delivery of
// messages that arrive early.
//
// It has no lock of its own: every method runs under the owner's lock, and
// the schedule function must take that lock before calling back.
type controlConn struct {
	cfg      connConfig
	schedule func(d time.Duration, f func()) clock.Timer
	// transmit sends one datagram (control message or ZLB).
	transmit func(b []byte)
	// deliver hands over the next in-order message (the whole datagram).
	deliver func(h Header, b []byte)
	// giveUp is called when the head of the queue was retransmitted
	// maxRetries times without an ack. It returns true to drop that
	// message and carry on (an unanswered HELLO from a tolerated peer),
	// false when the owner tears the connection down.
	giveUp func(typ MessageType) bool
	stats  *counters

	peerTunnelID uint16 // header tunnel ID of our ZLBs
	ns, nr       uint16
	peerWindow   int
	cwnd         int
	ssthresh     int
	ackCount     int

	queue    []*outMsg // unacknowledged messages in Ns order
	inflight int       // queue[:inflight] have been transmitted
	held     map[uint16][]byte

	rtxTimer   clock.Timer
	rtxGen     uint64
	rto        time.Duration
	retries    int
	ackTimer   clock.Timer
	ackGen     uint64
	ackPending bool
	stopped    bool
}

func (c *controlConn) init(cfg connConfig) {
	c.cfg = cfg
	c.peerWindow = 4 // RFC 2661 section 4.4.3: the default when the AVP is absent
	c.cwnd = 1
	c.ssthresh = c.peerWindow
	c.rto = cfg.rtoInitial
}

// setPeerWindow applies the peer's Receive Window Size AVP.
func (c *controlConn) setPeerWindow(w uint16) {
	if w == 0 {
		return // zero is invalid; keep the default
	}
	c.peerWindow = int(w)
	c.ssthresh = int(w)
}

func (c *controlConn) window() int {
	return max(1, min(c.cwnd, c.peerWindow))
}

// idle reports whether every queued message has been acknowledged.
func (c *controlConn) idle() bool { return len(c.queue) == 0 }

// send queues a marshalled message and transmits it when the window allows.
func (c *controlConn) send(b []byte, typ MessageType) {
	if c.stopped {
		return
	}
	c.queue = append(c.queue, &outMsg{b: b, ns: c.ns, typ: typ})
	c.ns++
	c.pump()
}

// pump transmits queued messages while the window has room.
func (c *controlConn) pump() {
	for c.inflight < len(c.queue) && c.inflight < c.window() {
		c.xmit(c.queue[c.inflight])
		c.inflight++
	}
	if c.inflight > 0 && c.rtxTimer == nil {
		c.armRetransmit()
	}
}

func (c *controlConn) xmit(m *outMsg) {
	setSeq(m.b, m.ns, c.nr)
	c.stats.controlTx.Add(1)
	c.cancelAck() // this message carries the acknowledgement
	c.transmit(m.b)
}

func (c *controlConn) armRetransmit() {
	c.rtxGen++
	gen := c.rtxGen
	if c.rtxTimer != nil {
		c.rtxTimer.Stop()
	}
	c.rtxTimer = c.schedule(c.rto, func() { c.onRetransmitTimer(gen) })
}

func (c *controlConn) stopRetransmit() {
	c.rtxGen++
	if c.rtxTimer != nil {
		c.rtxTimer.Stop()
		c.rtxTimer = nil
	}
}

// onRetransmitTimer runs under the owner's lock.
func (c *controlConn) onRetransmitTimer(gen uint64) {
	if c.stopped || gen != c.rtxGen {
		return
	}
	c.rtxTimer = nil
	if c.inflight == 0 {
		return
	}
	if c.retries >= c.cfg.maxRetries {
		head := c.queue[0]
		if !c.giveUp(head.typ) || c.stopped {
			return
		}
		// The owner chose to carry on without this message: treat it as
		// acknowledged so the rest of the queue can move.
		c.dropHead()
		c.retries = 0
		c.rto = c.cfg.rtoInitial
		c.pump()
		return
	}
	c.retries++
	// Appendix A: on a timeout halve the threshold and restart slow
	// start from one message.
	c.ssthresh = max(c.cwnd/2, 1)
	c.cwnd = 1
	c.ackCount = 0
	c.stats.retransmits.Add(1)
	c.xmit(c.queue[0])
	c.rto = min(c.rto*2, c.cfg.rtoMax)
	c.armRetransmit()
}

func (c *controlConn) dropHead() {
	c.queue[0] = nil
	c.queue = c.queue[1:]
	if c.inflight > 0 {
		c.inflight--
	}
}

// processAck removes the messages acknowledged by nr.
func (c *controlConn) processAck(nr uint16) {
	// nr may acknowledge at most what we have sent.
	if c.inflight == 0 || seqLess(c.ns, nr) {
		return
	}
	acked := 0
	for c.inflight > 0 && seqLess(c.queue[0].ns, nr) {
		c.dropHead()
		acked++
		if c.cwnd < c.ssthresh {
			c.cwnd++
		} else {
			c.ackCount++
			if c.ackCount >= c.cwnd {
				c.cwnd++
				c.ackCount = 0
			}
		}
	}
	c.cwnd = min(c.cwnd, c.peerWindow)
	if acked == 0 {
		return
	}
	c.retries = 0
	c.rto = c.cfg.rtoInitial
	c.stopRetransmit()
	c.pump()
}

// input processes one received control message or ZLB with a valid
// header. raw is the whole datagram; it is copied if held.
func (c *controlConn) input(h Header, raw []byte) {
	if c.stopped {
		return
	}
	c.processAck(h.Nr)
	if int(h.Length) <= controlHeaderLen {
		return // a ZLB only acknowledges
	}
	switch {
	case h.Ns == c.nr:
		c.nr++
		c.deliver(h, raw)
		for !c.stopped {
			b, ok := c.held[c.nr]
			if !ok {
				break
			}
			delete(c.held, c.nr)
			hh, _, _ := ParseHeader(b)
			c.nr++
			c.deliver(hh, b)
		}
		if !c.stopped {
			c.scheduleAck()
		}
	case seqLess(h.Ns, c.nr):
		// A duplicate: our ack was lost, so acknowledge again at once
		// (section 5.8) and do not process it twice.
		c.stats.drop(DropDuplicate)
		c.sendZLB()
	default:
		if uint16(h.Ns-c.nr) >= c.cfg.recvWindow {
			c.stats.drop(DropOutOfWindow)
			return
		}
		if c.held == nil {
			c.held = make(map[uint16][]byte)
		}
		if _, dup := c.held[h.Ns]; dup {
			c.stats.drop(DropDuplicate)
			return
		}
		c.held[h.Ns] = append([]byte(nil), raw...)
	}
}

// scheduleAck arranges for a ZLB unless a message carries the ack first.
func (c *controlConn) scheduleAck() {
	if c.ackPending {
		return
	}
	if c.cfg.ackDelay <= 0 {
		c.sendZLB()
		return
	}
	c.ackPending = true
	c.ackGen++
	gen := c.ackGen
	c.ackTimer = c.schedule(c.cfg.ackDelay, func() {
		if c.stopped || gen != c.ackGen || !c.ackPending {
			return
		}
		c.ackTimer = nil
		c.sendZLB()
	})
}

func (c *controlConn) cancelAck() {
	if !c.ackPending {
		return
	}
	c.ackPending = false
	c.ackGen++
	if c.ackTimer != nil {
		c.ackTimer.Stop()
		c.ackTimer = nil
	}
}

// sendZLB sends a Zero-Length Body acknowledgement (section 5.8).
func (c *controlConn) sendZLB() {
	c.cancelAck()
	b := appendControlHeader(make([]byte, 0, controlHeaderLen), c.peerTunnelID, 0, c.ns, c.nr)
	b, _ = finishControl(b)
	c.stats.zlbTx.Add(1)
	c.transmit(b)
}

// stop cancels every timer and forgets queued messages.
func (c *controlConn) stop() {
	c.stopped = true
	c.stopRetransmit()
	c.cancelAck()
	c.queue = nil
	c.inflight = 0
	c.held = nil
}
