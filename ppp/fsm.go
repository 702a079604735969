package ppp

import (
	"fmt"
	"time"

	"github.com/l2tpsecd/l2tpsecd/internal/clock"
)

// State is a state of the RFC 1661 section 4 option-negotiation automaton.
type State uint8

// The ten states of RFC 1661 section 4.2.
const (
	StateInitial State = iota
	StateStarting
	StateClosed
	StateStopped
	StateClosing
	StateStopping
	StateReqSent
	StateAckRcvd
	StateAckSent
	StateOpened
	numStates
)

func (s State) String() string {
	switch s {
	case StateInitial:
		return "Initial"
	case StateStarting:
		return "Starting"
	case StateClosed:
		return "Closed"
	case StateStopped:
		return "Stopped"
	case StateClosing:
		return "Closing"
	case StateStopping:
		return "Stopping"
	case StateReqSent:
		return "Req-Sent"
	case StateAckRcvd:
		return "Ack-Rcvd"
	case StateAckSent:
		return "Ack-Sent"
	case StateOpened:
		return "Opened"
	}
	return fmt.Sprintf("state-%d", uint8(s))
}

// timerRuns reports whether the restart timer runs in s (RFC 1661 section
// 4.6: Closing, Stopping, Req-Sent, Ack-Rcvd, Ack-Sent).
func (s State) timerRuns() bool {
	return s == StateClosing || s == StateStopping || s == StateReqSent || s == StateAckRcvd || s == StateAckSent
}

// Event is an event of the automaton (RFC 1661 section 4.3).
type Event uint8

// The sixteen events.
const (
	EvUp       Event = iota // lower layer is Up
	EvDown                  // lower layer is Down
	EvOpen                  // administrative Open
	EvClose                 // administrative Close
	EvTOPlus                // Timeout with counter > 0
	EvTOMinus               // Timeout with counter expired
	EvRCRPlus               // Receive-Configure-Request (Good)
	EvRCRMinus              // Receive-Configure-Request (Bad)
	EvRCA                   // Receive-Configure-Ack
	EvRCN                   // Receive-Configure-Nak/Rej
	EvRTR                   // Receive-Terminate-Request
	EvRTA                   // Receive-Terminate-Ack
	EvRUC                   // Receive-Unknown-Code
	EvRXJPlus               // Receive-Code-Reject or Protocol-Reject (permitted)
	EvRXJMinus              // Receive-Code-Reject or Protocol-Reject (catastrophic)
	EvRXR                   // Receive-Echo-Request, Echo-Reply or Discard-Request
	numEvents
)

func (e Event) String() string {
	names := [...]string{"Up", "Down", "Open", "Close", "TO+", "TO-", "RCR+", "RCR-", "RCA", "RCN", "RTR", "RTA", "RUC", "RXJ+", "RXJ-", "RXR"}
	if int(e) < len(names) {
		return names[e]
	}
	return fmt.Sprintf("event-%d", uint8(e))
}

// Action is an action of the automaton (RFC 1661 section 4.4).
type Action uint8

// The thirteen actions.
const (
	ActTLU Action = iota + 1 // This-Layer-Up
	ActTLD                   // This-Layer-Down
	ActTLS                   // This-Layer-Started
	ActTLF                   // This-Layer-Finished
	ActIRC                   // Initialize-Restart-Count
	ActZRC                   // Zero-Restart-Count
	ActSCR                   // Send-Configure-Request
	ActSCA                   // Send-Configure-Ack
	ActSCN                   // Send-Configure-Nak/Rej
	ActSTR                   // Send-Terminate-Request
	ActSTA                   // Send-Terminate-Ack
	ActSCJ                   // Send-Code-Reject
	ActSER                   // Send-Echo-Reply
)

func (a Action) String() string {
	names := [...]string{"", "tlu", "tld", "tls", "tlf", "irc", "zrc", "scr", "sca", "scn", "str", "sta", "scj", "ser"}
	if int(a) < len(names) && a != 0 {
		return names[a]
	}
	return fmt.Sprintf("action-%d", uint8(a))
}

// Step is one cell of the state transition table.
type Step struct {
	Next    State
	Actions []Action
	// Valid is false for the cells RFC 1661 marks "-" (the event cannot
	// happen in this state); the automaton then ignores the event.
	Valid bool
}

func to(next State, acts ...Action) Step { return Step{Next: next, Actions: acts, Valid: true} }

// table is RFC 1661 section 4.1's state transition table, read row by row.
// Options [p] (passive) and [r] (restart) are not implemented: Open in
// Stopped/Closing/Stopping/Opened leaves the state as it is, and TO- in the
// Req-Sent/Ack-Rcvd/Ack-Sent states goes to Stopped with tlf.
//
//	      | State
//	      |    0         1         2         3         4         5          6         7         8           9
//	Events| Initial   Starting  Closed    Stopped   Closing   Stopping   Req-Sent  Ack-Rcvd  Ack-Sent    Opened
//	------+-----------------------------------------------------------------------------------------------------
//	 Up   |    2     irc,scr/6     -         -         -         -          -         -         -           -
//	 Down |    -         -         0       tls/1       0         1          1         1         1         tld/1
//	 Open |  tls/1       1     irc,scr/6     3r        5r        5r         6         7         8           9r
//	 Close|    0       tlf/0       2         2         4         4      irc,str/4  irc,str/4  irc,str/4 tld,irc,str/4
//	  TO+ |    -         -         -         -       str/4     str/5      scr/6     scr/6     scr/8         -
//	  TO- |    -         -         -         -       tlf/2     tlf/3      tlf/3p    tlf/3p    tlf/3p        -
//	 RCR+ |    -         -       sta/2 irc,scr,sca/8   4         5        sca/8   sca,tlu/9   sca/8   tld,scr,sca/8
//	 RCR- |    -         -       sta/2 irc,scr,scn/6   4         5        scn/6     scn/7     scn/6   tld,scr,scn/6
//	 RCA  |    -         -       sta/2     sta/3       4         5        irc/7     scr/6x  irc,tlu/9   tld,scr/6x
//	 RCN  |    -         -       sta/2     sta/3       4         5      irc,scr/6   scr/6x  irc,scr/8   tld,scr/6x
//	 RTR  |    -         -       sta/2     sta/3     sta/4     sta/5      sta/6     sta/6     sta/6   tld,zrc,sta/5
//	 RTA  |    -         -         2         3       tlf/2     tlf/3        6         6         8       tld,scr/6
//	 RUC  |    -         -       scj/2     scj/3     scj/4     scj/5      scj/6     scj/7     scj/8       scj/9
//	 RXJ+ |    -         -         2         3         4         5          6         6         8           9
//	 RXJ- |    -         -       tlf/2     tlf/3     tlf/2     tlf/3      tlf/3     tlf/3     tlf/3   tld,irc,str/5
//	 RXR  |    -         -         2         3         4         5          6         7         8         ser/9
var table = [numEvents][numStates]Step{
	EvUp: {
		StateInitial:  to(StateClosed),
		StateStarting: to(StateReqSent, ActIRC, ActSCR),
	},
	EvDown: {
		StateClosed: to(StateInitial), StateStopped: to(StateStarting, ActTLS),
		StateClosing: to(StateInitial), StateStopping: to(StateStarting),
		StateReqSent: to(StateStarting), StateAckRcvd: to(StateStarting), StateAckSent: to(StateStarting),
		StateOpened: to(StateStarting, ActTLD),
	},
	EvOpen: {
		StateInitial: to(StateStarting, ActTLS), StateStarting: to(StateStarting),
		StateClosed: to(StateReqSent, ActIRC, ActSCR), StateStopped: to(StateStopped),
		StateClosing: to(StateStopping), StateStopping: to(StateStopping),
		StateReqSent: to(StateReqSent), StateAckRcvd: to(StateAckRcvd), StateAckSent: to(StateAckSent),
		StateOpened: to(StateOpened),
	},
	EvClose: {
		StateInitial: to(StateInitial), StateStarting: to(StateInitial, ActTLF),
		StateClosed: to(StateClosed), StateStopped: to(StateClosed),
		StateClosing: to(StateClosing), StateStopping: to(StateClosing),
		StateReqSent: to(StateClosing, ActIRC, ActSTR), StateAckRcvd: to(StateClosing, ActIRC, ActSTR),
		StateAckSent: to(StateClosing, ActIRC, ActSTR), StateOpened: to(StateClosing, ActTLD, ActIRC, ActSTR),
	},
	EvTOPlus: {
		StateClosing: to(StateClosing, ActSTR), StateStopping: to(StateStopping, ActSTR),
		StateReqSent: to(StateReqSent, ActSCR), StateAckRcvd: to(StateReqSent, ActSCR),
		StateAckSent: to(StateAckSent, ActSCR),
	},
	EvTOMinus: {
		StateClosing: to(StateClosed, ActTLF), StateStopping: to(StateStopped, ActTLF),
		StateReqSent: to(StateStopped, ActTLF), StateAckRcvd: to(StateStopped, ActTLF),
		StateAckSent: to(StateStopped, ActTLF),
	},
	EvRCRPlus: {
		StateClosed: to(StateClosed, ActSTA), StateStopped: to(StateAckSent, ActIRC, ActSCR, ActSCA),
		StateClosing: to(StateClosing), StateStopping: to(StateStopping),
		StateReqSent: to(StateAckSent, ActSCA), StateAckRcvd: to(StateOpened, ActSCA, ActTLU),
		StateAckSent: to(StateAckSent, ActSCA), StateOpened: to(StateAckSent, ActTLD, ActSCR, ActSCA),
	},
	EvRCRMinus: {
		StateClosed: to(StateClosed, ActSTA), StateStopped: to(StateReqSent, ActIRC, ActSCR, ActSCN),
		StateClosing: to(StateClosing), StateStopping: to(StateStopping),
		StateReqSent: to(StateReqSent, ActSCN), StateAckRcvd: to(StateAckRcvd, ActSCN),
		StateAckSent: to(StateReqSent, ActSCN), StateOpened: to(StateReqSent, ActTLD, ActSCR, ActSCN),
	},
	EvRCA: {
		StateClosed: to(StateClosed, ActSTA), StateStopped: to(StateStopped, ActSTA),
		StateClosing: to(StateClosing), StateStopping: to(StateStopping),
		StateReqSent: to(StateAckRcvd, ActIRC), StateAckRcvd: to(StateReqSent, ActSCR),
		StateAckSent: to(StateOpened, ActIRC, ActTLU), StateOpened: to(StateReqSent, ActTLD, ActSCR),
	},
	EvRCN: {
		StateClosed: to(StateClosed, ActSTA), StateStopped: to(StateStopped, ActSTA),
		StateClosing: to(StateClosing), StateStopping: to(StateStopping),
		StateReqSent: to(StateReqSent, ActIRC, ActSCR), StateAckRcvd: to(StateReqSent, ActSCR),
		StateAckSent: to(StateAckSent, ActIRC, ActSCR), StateOpened: to(StateReqSent, ActTLD, ActSCR),
	},
	EvRTR: {
		StateClosed: to(StateClosed, ActSTA), StateStopped: to(StateStopped, ActSTA),
		StateClosing: to(StateClosing, ActSTA), StateStopping: to(StateStopping, ActSTA),
		StateReqSent: to(StateReqSent, ActSTA), StateAckRcvd: to(StateReqSent, ActSTA),
		StateAckSent: to(StateReqSent, ActSTA), StateOpened: to(StateStopping, ActTLD, ActZRC, ActSTA),
	},
	EvRTA: {
		StateClosed: to(StateClosed), StateStopped: to(StateStopped),
		StateClosing: to(StateClosed, ActTLF), StateStopping: to(StateStopped, ActTLF),
		StateReqSent: to(StateReqSent), StateAckRcvd: to(StateReqSent),
		StateAckSent: to(StateAckSent), StateOpened: to(StateReqSent, ActTLD, ActSCR),
	},
	EvRUC: {
		StateClosed: to(StateClosed, ActSCJ), StateStopped: to(StateStopped, ActSCJ),
		StateClosing: to(StateClosing, ActSCJ), StateStopping: to(StateStopping, ActSCJ),
		StateReqSent: to(StateReqSent, ActSCJ), StateAckRcvd: to(StateAckRcvd, ActSCJ),
		StateAckSent: to(StateAckSent, ActSCJ), StateOpened: to(StateOpened, ActSCJ),
	},
	EvRXJPlus: {
		StateClosed: to(StateClosed), StateStopped: to(StateStopped),
		StateClosing: to(StateClosing), StateStopping: to(StateStopping),
		StateReqSent: to(StateReqSent), StateAckRcvd: to(StateReqSent),
		StateAckSent: to(StateAckSent), StateOpened: to(StateOpened),
	},
	EvRXJMinus: {
		StateClosed: to(StateClosed, ActTLF), StateStopped: to(StateStopped, ActTLF),
		StateClosing: to(StateClosed, ActTLF), StateStopping: to(StateStopped, ActTLF),
		StateReqSent: to(StateStopped, ActTLF), StateAckRcvd: to(StateStopped, ActTLF),
		StateAckSent: to(StateStopped, ActTLF), StateOpened: to(StateStopping, ActTLD, ActIRC, ActSTR),
	},
	EvRXR: {
		StateClosed: to(StateClosed), StateStopped: to(StateStopped),
		StateClosing: to(StateClosing), StateStopping: to(StateStopping),
		StateReqSent: to(StateReqSent), StateAckRcvd: to(StateAckRcvd),
		StateAckSent: to(StateAckSent), StateOpened: to(StateOpened, ActSER),
	},
}

// Transition is the automaton's pure transition function: the cell of the
// RFC 1661 table for state s and event e.
func Transition(s State, e Event) Step {
	if s >= numStates || e >= numEvents {
		return Step{Next: s}
	}
	st := table[e][s]
	if !st.Valid {
		st.Next = s
	}
	return st
}

// OptionHandler is what one protocol (LCP, IPCP, ...) plugs into the
// automaton: which options to request, how to judge the peer's, how to react
// to Nak and Reject, and the This-Layer-* actions.
type OptionHandler interface {
	// ResetOptions starts a fresh negotiation (before the first
	// Configure-Request of a negotiation, not before retransmissions).
	ResetOptions()
	// AppendRequest appends the options of our Configure-Request.
	AppendRequest(b []byte) []byte
	// CheckRequest judges the peer's Configure-Request options (well formed,
	// already checked) and appends the reply's options to reply: the request
	// itself with CodeConfAck, or the options to Nak or Reject. With nakOK
	// false (Max-Failure reached) it must not answer CodeConfNak.
	CheckRequest(opts, reply []byte, nakOK bool) (Code, []byte)
	// ReceiveAck reports whether an Ack matches what we requested; a
	// mismatch is discarded (RFC 1661 section 5.2).
	ReceiveAck(opts []byte) bool
	// ReceiveNak and ReceiveReject adjust what we will request next; an error
	// discards the packet.
	ReceiveNak(opts []byte) error
	ReceiveReject(opts []byte) error
	// This-Layer-Up/Down/Started/Finished.
	LayerUp()
	LayerDown()
	LayerStarted()
	LayerFinished()
}

// FSMConfig holds the counters and timer of RFC 1661 section 4.6.
type FSMConfig struct {
	RestartTimer time.Duration // default 3 s
	MaxTerminate int           // default 2
	MaxConfigure int           // default 10
	MaxFailure   int           // default 5
}

func (c FSMConfig) withDefaults() FSMConfig {
	if c.RestartTimer <= 0 {
		c.RestartTimer = 3 * time.Second
	}
	if c.MaxTerminate <= 0 {
		c.MaxTerminate = 2
	}
	if c.MaxConfigure <= 0 {
		c.MaxConfigure = 10
	}
	if c.MaxFailure <= 0 {
		c.MaxFailure = 5
	}
	return c
}

// SendFunc transmits one packet of the automaton's protocol.
type SendFunc func(code Code, id uint8, data []byte)

// Automaton is the RFC 1661 option-negotiation automaton for one protocol.
// It is not safe for concurrent use: its owner serialises every call and the
// timer callbacks (the after function it is given wraps them in the owner's
// lock).
type Automaton struct {
	proto Protocol
	h     OptionHandler
	cfg   FSMConfig
	send  SendFunc
	after func(d time.Duration, f func()) clock.Timer

	state    State
	restart  int
	failures int
	nextID   uint8
	reqID    uint8
	timer    clock.Timer
	timerGen uint64

	// The packet being processed, for sca/scn/sta/scj/ser.
	rx        Packet
	rxRaw     []byte
	replyCode Code
	reply     []byte
	buf       []byte

	timerFired bool
	seenReply  bool
	busy       bool
	queued     []Event

	// OnEchoRequest builds the Echo-Reply (LCP only: it needs the magic
	// number); nil means the automaton never sends one.
	OnEchoRequest func(p Packet)
}

// NewAutomaton returns an automaton in the Initial state. after schedules the
// restart timer (wrap clock.AfterFunc with the owner's lock).
func NewAutomaton(proto Protocol, h OptionHandler, cfg FSMConfig, send SendFunc, after func(time.Duration, func()) clock.Timer) *Automaton {
	return &Automaton{proto: proto, h: h, cfg: cfg.withDefaults(), send: send, after: after, nextID: 1}
}

// State returns the current state.
func (a *Automaton) State() State { return a.state }

// Protocol returns the protocol the automaton negotiates.
func (a *Automaton) Protocol() Protocol { return a.proto }

// Up signals that the lower layer is up.
func (a *Automaton) Up() { a.event(EvUp) }

// Down signals that the lower layer went down.
func (a *Automaton) Down() { a.event(EvDown) }

// Open is the administrative Open.
func (a *Automaton) Open() { a.event(EvOpen) }

// Close is the administrative Close.
func (a *Automaton) Close() { a.event(EvClose) }

// Rejected is RXJ-: the peer Protocol-Rejected this protocol.
func (a *Automaton) Rejected() { a.event(EvRXJMinus) }

// Input processes a packet of the automaton's protocol. It handles codes 1
// to 7 and reports false for any other code, which the caller (LCP) handles
// or passes to UnknownCode.
func (a *Automaton) Input(p Packet, raw []byte) bool {
	a.rx, a.rxRaw = p, raw
	switch p.Code {
	case CodeConfReq:
		a.receiveConfReq(p)
	case CodeConfAck:
		if a.state == StateClosed || a.state == StateStopped {
			a.event(EvRCA) // answered with Terminate-Ack
			return true
		}
		if p.ID != a.reqID || a.seenReply || !a.expectingReply() {
			return true // stale, foreign or duplicate
		}
		if checkOptions(p.Data) != nil || !a.h.ReceiveAck(p.Data) {
			return true
		}
		a.seenReply = true
		a.event(EvRCA)
	case CodeConfNak, CodeConfRej:
		if a.state == StateClosed || a.state == StateStopped {
			a.event(EvRCN)
			return true
		}
		if p.ID != a.reqID || a.seenReply || !a.expectingReply() || checkOptions(p.Data) != nil {
			return true
		}
		var err error
		if p.Code == CodeConfNak {
			err = a.h.ReceiveNak(p.Data)
		} else {
			err = a.h.ReceiveReject(p.Data)
		}
		if err != nil {
			return true
		}
		a.seenReply = true
		a.event(EvRCN)
	case CodeTermReq:
		a.event(EvRTR)
	case CodeTermAck:
		a.event(EvRTA)
	case CodeCodeRej:
		// Rejecting a code we need for negotiation is catastrophic.
		if len(p.Data) > 0 && Code(p.Data[0]) >= CodeConfReq && Code(p.Data[0]) <= CodeCodeRej {
			a.event(EvRXJMinus)
		} else {
			a.event(EvRXJPlus)
		}
	default:
		return false
	}
	return true
}

// expectingReply: Ack/Nak/Rej only count in states where a request of ours
// may be outstanding; elsewhere the table still answers (sta) for Closed and
// Stopped.
func (a *Automaton) expectingReply() bool {
	switch a.state {
	case StateInitial, StateStarting:
		return false
	}
	return true
}

// UnknownCode is RUC: answered with Code-Reject.
func (a *Automaton) UnknownCode(p Packet, raw []byte) {
	a.rx, a.rxRaw = p, raw
	a.event(EvRUC)
}

// EchoOrDiscard is RXR (LCP Echo-Request, Echo-Reply, Discard-Request).
func (a *Automaton) EchoOrDiscard(p Packet, raw []byte) {
	a.rx, a.rxRaw = p, raw
	if p.Code != CodeEchoReq {
		// Only Echo-Request gets an answer; the table's ser applies to it.
		return
	}
	a.event(EvRXR)
}

// CodeRejectPlus is RXJ+ coming from LCP's Protocol-Reject of a protocol
// that is not essential.
func (a *Automaton) CodeRejectPlus() { a.event(EvRXJPlus) }

func (a *Automaton) receiveConfReq(p Packet) {
	if a.state == StateInitial || a.state == StateStarting {
		return // the table has "-": not possible before the lower layer is up
	}
	if err := checkOptions(p.Data); err != nil {
		return // malformed: discard
	}
	if a.state == StateClosed || a.state == StateClosing || a.state == StateStopping {
		// Closed answers sta, Closing/Stopping ignore: no need to judge.
		a.event(EvRCRPlus)
		return
	}
	nakOK := a.failures < a.cfg.MaxFailure
	a.replyCode, a.reply = a.h.CheckRequest(p.Data, a.reply[:0], nakOK)
	if a.replyCode == CodeConfAck {
		a.event(EvRCRPlus)
	} else {
		a.event(EvRCRMinus)
	}
}

// event runs one transition and its actions in order. An event raised by an
// action's callback (a handler closing the link from This-Layer-Up, say) is
// queued and runs after the current transition has finished.
func (a *Automaton) event(e Event) {
	if a.busy {
		a.queued = append(a.queued, e)
		return
	}
	a.busy = true
	a.step(e)
	for len(a.queued) > 0 {
		next := a.queued[0]
		a.queued = a.queued[1:]
		a.step(next)
	}
	a.queued = a.queued[:0]
	a.busy = false
}

func (a *Automaton) step(e Event) {
	st := Transition(a.state, e)
	if !st.Valid {
		return
	}
	prev := a.state
	a.state = st.Next
	for i, act := range st.Actions {
		a.do(act, prev, st.Actions[i+1:])
	}
	if !a.state.timerRuns() {
		a.stopTimer()
	}
}

func (a *Automaton) do(act Action, prev State, rest []Action) {
	switch act {
	case ActTLU:
		a.h.LayerUp()
	case ActTLD:
		a.h.LayerDown()
	case ActTLS:
		a.h.LayerStarted()
	case ActTLF:
		a.h.LayerFinished()
	case ActIRC:
		a.restart = a.cfg.MaxConfigure
		for _, r := range rest {
			if r == ActSTR {
				a.restart = a.cfg.MaxTerminate
			}
		}
	case ActZRC:
		a.restart = 0
		a.startTimer()
	case ActSCR:
		a.sendConfReq(prev)
	case ActSCA:
		a.failures = 0
		a.send(CodeConfAck, a.rx.ID, a.reply)
	case ActSCN:
		if a.replyCode == CodeConfNak {
			a.failures++
		}
		a.send(a.replyCode, a.rx.ID, a.reply)
	case ActSTR:
		a.restart--
		a.send(CodeTermReq, a.newID(), nil)
		a.startTimer()
	case ActSTA:
		a.send(CodeTermAck, a.rx.ID, nil)
	case ActSCJ:
		// The rejected packet, truncated so the reply stays small.
		data := a.rxRaw
		if len(data) > 1400 {
			data = data[:1400]
		}
		a.send(CodeCodeRej, a.newID(), data)
	case ActSER:
		if a.OnEchoRequest != nil {
			a.OnEchoRequest(a.rx)
		}
	}
}

func (a *Automaton) newID() uint8 {
	id := a.nextID
	a.nextID++
	return id
}

// sendConfReq is scr. A request sent from outside the negotiating states
// starts a fresh negotiation (options reset); a retransmission on TO+ keeps
// the same options and identifier.
func (a *Automaton) sendConfReq(prev State) {
	retransmit := a.rx.Code == 0 && prev.timerRuns() && a.timerFired
	if !prev.timerRuns() {
		a.h.ResetOptions()
		a.failures = 0
	}
	if !retransmit {
		a.reqID = a.newID()
	}
	a.buf = a.h.AppendRequest(a.buf[:0])
	// One reply per transmission: a duplicated Ack (or Nak) of a request
	// already answered must not renegotiate an open link (pppd's seen_ack).
	a.seenReply = false
	a.restart--
	a.send(CodeConfReq, a.reqID, a.buf)
	a.startTimer()
}

func (a *Automaton) startTimer() {
	a.stopTimer()
	gen := a.timerGen
	a.timer = a.after(a.cfg.RestartTimer, func() { a.timeout(gen) })
}

func (a *Automaton) stopTimer() {
	a.timerGen++
	if a.timer != nil {
		a.timer.Stop()
		a.timer = nil
	}
}

func (a *Automaton) timeout(gen uint64) {
	if gen != a.timerGen || !a.state.timerRuns() {
		return // stale: stopped or restarted since
	}
	a.timer = nil
	a.rx, a.rxRaw = Packet{}, nil
	a.timerFired = true
	defer func() { a.timerFired = false }()
	if a.restart > 0 {
		a.event(EvTOPlus)
	} else {
		a.event(EvTOMinus)
	}
}
