package l2tp

import (
	"testing"
	"time"

	"github.com/l2tpsecd/l2tpsecd/internal/clock"
)

var t0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

type ccHarness struct {
	clk       *clock.Fake
	c         *controlConn
	sent      []Header // what went out, decoded
	sentAt    []time.Duration
	delivered []uint16
	gaveUp    []MessageType
	keepGoing bool
	stats     counters
}

func newCCHarness(t *testing.T, cfg connConfig) *ccHarness {
	h := &ccHarness{clk: clock.NewFake(t0)}
	c := &controlConn{}
	c.init(cfg)
	c.stats = &h.stats
	c.peerTunnelID = 77
	c.schedule = h.clk.AfterFunc
	c.transmit = func(b []byte) {
		hd, _, err := ParseHeader(b)
		if err != nil {
			t.Fatalf("sent an unparsable message: %v", err)
		}
		h.sent = append(h.sent, hd)
		h.sentAt = append(h.sentAt, h.clk.Now().Sub(t0))
	}
	c.deliver = func(hd Header, b []byte) { h.delivered = append(h.delivered, hd.Ns) }
	c.giveUp = func(typ MessageType) bool { h.gaveUp = append(h.gaveUp, typ); return h.keepGoing }
	h.c = c
	return h
}

var defaultConn = connConfig{rtoInitial: time.Second, rtoMax: 8 * time.Second, maxRetries: 5,
	ackDelay: 100 * time.Millisecond, recvWindow: 4}

func hello(t *testing.T) []byte {
	m := Message{Type: MsgHello}
	b, err := m.Append(nil, 77, 0, 0, 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// peerMsg builds a message as the peer would send it.
func peerMsg(t *testing.T, ns, nr uint16) (Header, []byte) {
	m := Message{Type: MsgHello}
	b, err := m.Append(nil, 1, 0, ns, nr, nil)
	if err != nil {
		t.Fatal(err)
	}
	h, _, _ := ParseHeader(b)
	return h, b
}

func zlbFromPeer(ns, nr uint16) (Header, []byte) {
	b, _ := finishControl(appendControlHeader(nil, 1, 0, ns, nr))
	h, _, _ := ParseHeader(b)
	return h, b
}

func TestRetransmitBackoffThenGiveUp(t *testing.T) {
	h := newCCHarness(t, defaultConn)
	h.c.send(hello(t), MsgHello)
	h.clk.Advance(60 * time.Second)
	// First send at 0, retransmissions after 1, 2, 4, 8, 8 (capped) s.
	want := []time.Duration{0, 1, 3, 7, 15, 23}
	if len(h.sentAt) != len(want) {
		t.Fatalf("sent at %v, want %v s", h.sentAt, want)
	}
	for i, w := range want {
		if h.sentAt[i] != w*time.Second || h.sent[i].Ns != 0 {
			t.Errorf("transmission %d at %v ns %d, want %v ns 0", i, h.sentAt[i], h.sent[i].Ns, w*time.Second)
		}
	}
	if len(h.gaveUp) != 1 || h.gaveUp[0] != MsgHello {
		t.Errorf("gave up %v", h.gaveUp)
	}
	if got := h.stats.retransmits.Load(); got != 5 {
		t.Errorf("%d retransmits counted", got)
	}
}

func TestGiveUpAndCarryOnDropsTheMessage(t *testing.T) {
	h := newCCHarness(t, defaultConn)
	h.keepGoing = true
	h.c.send(hello(t), MsgHello)
	h.c.send(hello(t), MsgHello) // queued behind (window 1 in slow start)
	h.clk.Advance(31 * time.Second)
	if len(h.gaveUp) != 1 {
		t.Fatalf("gave up %v", h.gaveUp)
	}
	last := h.sent[len(h.sent)-1]
	if last.Ns != 1 {
		t.Errorf("after giving up on Ns 0 the next message sent has Ns %d", last.Ns)
	}
}

func TestAckStopsRetransmission(t *testing.T) {
	h := newCCHarness(t, defaultConn)
	h.c.send(hello(t), MsgHello)
	h.c.input(zlbFromPeer(0, 1))
	h.clk.Advance(time.Minute)
	if len(h.sent) != 1 || !h.c.idle() {
		t.Errorf("sent %d times, idle %v", len(h.sent), h.c.idle())
	}
}

func TestReorderingDeliversInOrder(t *testing.T) {
	h := newCCHarness(t, defaultConn)
	for _, ns := range []uint16{2, 1, 0, 3} {
		h.c.input(peerMsg(t, ns, 0))
	}
	want := []uint16{0, 1, 2, 3}
	if len(h.delivered) != 4 {
		t.Fatalf("delivered %v", h.delivered)
	}
	for i := range want {
		if h.delivered[i] != want[i] {
			t.Fatalf("delivered %v, want %v", h.delivered, want)
		}
	}
	// One delayed ZLB acknowledges all four.
	h.clk.Advance(time.Second)
	if len(h.sent) != 1 || h.sent[0].Nr != 4 || h.sent[0].Length != controlHeaderLen || h.sent[0].TunnelID != 77 {
		t.Errorf("acks %+v", h.sent)
	}
}

func TestDuplicateIsAckedNotDelivered(t *testing.T) {
	h := newCCHarness(t, defaultConn)
	h.c.input(peerMsg(t, 0, 0))
	h.clk.Advance(time.Second) // delayed ZLB
	h.c.input(peerMsg(t, 0, 0))
	if len(h.delivered) != 1 {
		t.Errorf("delivered %v", h.delivered)
	}
	if len(h.sent) != 2 || h.sent[1].Nr != 1 || h.sentAt[1] != time.Second {
		t.Errorf("duplicate not acknowledged at once: %+v at %v", h.sent, h.sentAt)
	}
	if h.stats.drops[DropDuplicate].Load() != 1 {
		t.Error("duplicate not counted")
	}
}

func TestBeyondReceiveWindowDropped(t *testing.T) {
	h := newCCHarness(t, defaultConn)
	h.c.input(peerMsg(t, 4, 0)) // window 4: Ns 0..3 acceptable
	h.c.input(peerMsg(t, 0, 0))
	h.c.input(peerMsg(t, 1, 0))
	h.c.input(peerMsg(t, 2, 0))
	h.c.input(peerMsg(t, 3, 0))
	if len(h.delivered) != 4 || h.stats.drops[DropOutOfWindow].Load() != 1 {
		t.Errorf("delivered %v, out-of-window drops %d", h.delivered, h.stats.drops[DropOutOfWindow].Load())
	}
}

func TestPiggybackedAckReplacesZLB(t *testing.T) {
	h := newCCHarness(t, defaultConn)
	h.c.input(peerMsg(t, 0, 0))
	h.c.send(hello(t), MsgHello)
	h.c.input(zlbFromPeer(1, 1))
	h.clk.Advance(time.Second)
	if len(h.sent) != 1 || h.sent[0].Nr != 1 || h.sent[0].Length == controlHeaderLen {
		t.Errorf("sent %+v; want only the HELLO carrying Nr 1", h.sent)
	}
}

func TestSendWindowHonoured(t *testing.T) {
	h := newCCHarness(t, defaultConn)
	h.c.setPeerWindow(2)
	for range 5 {
		h.c.send(hello(t), MsgHello)
	}
	// Slow start: one message until the first ack.
	if len(h.sent) != 1 {
		t.Fatalf("sent %d before any ack", len(h.sent))
	}
	h.c.input(zlbFromPeer(0, 1))
	if len(h.sent) != 3 || h.sent[1].Ns != 1 || h.sent[2].Ns != 2 {
		t.Fatalf("after one ack sent %+v", h.sent)
	}
	// The window of 2 is full: nothing more until another ack.
	h.c.input(zlbFromPeer(0, 2))
	if len(h.sent) != 4 || h.c.inflight != 2 {
		t.Fatalf("after two acks sent %d, in flight %d", len(h.sent), h.c.inflight)
	}
	h.c.input(zlbFromPeer(0, 4))
	h.c.input(zlbFromPeer(0, 5))
	if len(h.sent) != 5 || !h.c.idle() {
		t.Fatalf("sent %d, idle %v", len(h.sent), h.c.idle())
	}
	// An ack for something never sent is ignored.
	h.c.send(hello(t), MsgHello)
	h.c.input(zlbFromPeer(0, 9))
	if h.c.idle() {
		t.Error("an ack beyond Ns emptied the queue")
	}
}

func TestSequenceWrap(t *testing.T) {
	h := newCCHarness(t, defaultConn)
	h.c.nr = 0xfffe
	for _, ns := range []uint16{0xffff, 0, 0xfffe} {
		h.c.input(peerMsg(t, ns, 0))
	}
	if len(h.delivered) != 3 || h.delivered[2] != 0 || h.c.nr != 1 {
		t.Errorf("delivered %v nr %d", h.delivered, h.c.nr)
	}
	if !seqLess(0xffff, 0) || seqLess(0, 0xffff) {
		t.Error("seqLess does not wrap")
	}
}
