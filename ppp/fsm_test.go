package ppp

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/l2tpsecd/l2tpsecd/internal/clock"
)

// rfc1661Table is RFC 1661 section 4.1's state transition table as printed
// there (with the [p] and [r] options and the crossed-connection "x" marks
// removed, which this implementation does not distinguish), transcribed
// separately from the implementation's table.
const rfc1661Table = `
 Up   |    2     irc,scr/6     -         -         -         -          -         -         -           -
 Down |    -         -         0       tls/1       0         1          1         1         1         tld/1
 Open |  tls/1       1     irc,scr/6     3         5         5          6         7         8           9
 Close|    0       tlf/0       2         2         4         4      irc,str/4  irc,str/4  irc,str/4 tld,irc,str/4
  TO+ |    -         -         -         -       str/4     str/5      scr/6     scr/6     scr/8         -
  TO- |    -         -         -         -       tlf/2     tlf/3      tlf/3     tlf/3     tlf/3         -
 RCR+ |    -         -       sta/2 irc,scr,sca/8   4         5        sca/8   sca,tlu/9   sca/8   tld,scr,sca/8
 RCR- |    -         -       sta/2 irc,scr,scn/6   4         5        scn/6     scn/7     scn/6   tld,scr,scn/6
 RCA  |    -         -       sta/2     sta/3       4         5        irc/7     scr/6     irc,tlu/9   tld,scr/6
 RCN  |    -         -       sta/2     sta/3       4         5      irc,scr/6   scr/6     irc,scr/8   tld,scr/6
 RTR  |    -         -       sta/2     sta/3     sta/4     sta/5      sta/6     sta/6     sta/6   tld,zrc,sta/5
 RTA  |    -         -         2         3       tlf/2     tlf/3        6         6         8       tld,scr/6
 RUC  |    -         -       scj/2     scj/3     scj/4     scj/5      scj/6     scj/7     scj/8       scj/9
 RXJ+ |    -         -         2         3         4         5          6         6         8           9
 RXJ- |    -         -       tlf/2     tlf/3     tlf/2     tlf/3      tlf/3     tlf/3     tlf/3   tld,irc,str/5
 RXR  |    -         -         2         3         4         5          6         7         8         ser/9
`

type cell struct {
	valid bool
	next  State
	acts  []string
}

func parseRFCTable(t *testing.T) map[Event][numStates]cell {
	t.Helper()
	events := map[string]Event{"Up": EvUp, "Down": EvDown, "Open": EvOpen, "Close": EvClose, "TO+": EvTOPlus,
		"TO-": EvTOMinus, "RCR+": EvRCRPlus, "RCR-": EvRCRMinus, "RCA": EvRCA, "RCN": EvRCN, "RTR": EvRTR,
		"RTA": EvRTA, "RUC": EvRUC, "RXJ+": EvRXJPlus, "RXJ-": EvRXJMinus, "RXR": EvRXR}
	out := map[Event][numStates]cell{}
	for _, line := range strings.Split(strings.TrimSpace(rfc1661Table), "\n") {
		name, rest, _ := strings.Cut(line, "|")
		e, ok := events[strings.TrimSpace(name)]
		if !ok {
			t.Fatalf("bad row %q", line)
		}
		fields := strings.Fields(rest)
		if len(fields) != int(numStates) {
			t.Fatalf("row %q has %d cells", line, len(fields))
		}
		var row [numStates]cell
		for i, f := range fields {
			if f == "-" {
				continue
			}
			acts, next, found := strings.Cut(f, "/")
			if !found {
				acts, next = "", f
			}
			n, err := strconv.Atoi(next)
			if err != nil {
				t.Fatalf("cell %q: %v", f, err)
			}
			c := cell{valid: true, next: State(n)}
			if acts != "" {
				c.acts = strings.Split(acts, ",")
			}
			row[i] = c
		}
		out[e] = row
	}
	if len(out) != int(numEvents) {
		t.Fatalf("parsed %d rows", len(out))
	}
	return out
}

func TestTransitionTableMatchesRFC1661(t *testing.T) {
	rfc := parseRFCTable(t)
	for e := Event(0); e < numEvents; e++ {
		for s := State(0); s < numStates; s++ {
			want := rfc[e][s]
			got := Transition(s, e)
			var acts []string
			for _, a := range got.Actions {
				acts = append(acts, a.String())
			}
			if got.Valid != want.valid || (want.valid && got.Next != want.next) || strings.Join(acts, ",") != strings.Join(want.acts, ",") {
				t.Errorf("%s in %s: got %v %s %v, RFC says %v %s %v", e, s, got.Valid, got.Next, acts, want.valid, want.next, want.acts)
			}
		}
	}
}

// fsmProbe records what the automaton does.
type fsmProbe struct {
	log      []string
	verdict  Code
	ackMatch bool
}

func (p *fsmProbe) ResetOptions()                 {}
func (p *fsmProbe) AppendRequest(b []byte) []byte { return append(b, 1, 4, 5, 0xdc) }
func (p *fsmProbe) CheckRequest(opts, reply []byte, nakOK bool) (Code, []byte) {
	if p.verdict == CodeConfAck {
		return CodeConfAck, append(reply, opts...)
	}
	return p.verdict, append(reply, 1, 4, 5, 0xdc)
}
func (p *fsmProbe) ReceiveAck(opts []byte) bool     { return p.ackMatch }
func (p *fsmProbe) ReceiveNak(opts []byte) error    { return nil }
func (p *fsmProbe) ReceiveReject(opts []byte) error { return nil }
func (p *fsmProbe) LayerUp()                        { p.log = append(p.log, "tlu") }
func (p *fsmProbe) LayerDown()                      { p.log = append(p.log, "tld") }
func (p *fsmProbe) LayerStarted()                   { p.log = append(p.log, "tls") }
func (p *fsmProbe) LayerFinished()                  { p.log = append(p.log, "tlf") }

func newProbe(clk clock.Clock) (*Automaton, *fsmProbe) {
	p := &fsmProbe{verdict: CodeConfAck, ackMatch: true}
	send := func(c Code, id uint8, d []byte) {
		name := map[Code]string{CodeConfReq: "scr", CodeConfAck: "sca", CodeConfNak: "scn", CodeConfRej: "scn",
			CodeTermReq: "str", CodeTermAck: "sta", CodeCodeRej: "scj", CodeEchoRep: "ser"}[c]
		p.log = append(p.log, name)
	}
	a := NewAutomaton(ProtoLCP, p, FSMConfig{}, send, clk.AfterFunc)
	a.OnEchoRequest = func(pk Packet) { send(CodeEchoRep, pk.ID, nil) }
	return a, p
}

// raise delivers event e through the automaton's real entry points.
func raise(clk *clock.Fake, a *Automaton, p *fsmProbe, e Event) {
	pkt := func(c Code, id uint8, data ...byte) (Packet, []byte) {
		raw := AppendPacket(nil, c, id, data)
		pk, _ := ParsePacket(raw)
		return pk, raw
	}
	switch e {
	case EvUp:
		a.Up()
	case EvDown:
		a.Down()
	case EvOpen:
		a.Open()
	case EvClose:
		a.Close()
	case EvTOPlus:
		a.restart = 2
		clk.Advance(a.cfg.RestartTimer)
	case EvTOMinus:
		a.restart = 0
		clk.Advance(a.cfg.RestartTimer)
	case EvRCRPlus, EvRCRMinus:
		p.verdict = CodeConfAck
		if e == EvRCRMinus {
			p.verdict = CodeConfNak
		}
		a.Input(pkt(CodeConfReq, 7, 1, 4, 5, 0xdc))
	case EvRCA:
		a.Input(pkt(CodeConfAck, a.reqID, 1, 4, 5, 0xdc))
	case EvRCN:
		a.Input(pkt(CodeConfNak, a.reqID, 1, 4, 5, 0xdc))
	case EvRTR:
		a.Input(pkt(CodeTermReq, 9))
	case EvRTA:
		a.Input(pkt(CodeTermAck, 9))
	case EvRUC:
		a.UnknownCode(pkt(Code(42), 3))
	case EvRXJPlus:
		a.Input(pkt(CodeCodeRej, 4, byte(CodeEchoReq), 1, 0, 8, 0, 0, 0, 0))
	case EvRXJMinus:
		a.Input(pkt(CodeCodeRej, 4, byte(CodeConfReq), 1, 0, 4))
	case EvRXR:
		a.EchoOrDiscard(pkt(CodeEchoReq, 5, 0, 0, 0, 0))
	}
}

// TestAutomatonEveryCell puts the automaton in every state, raises every
// event through its packet and API entry points, and compares the observable
// actions (layer callbacks and packets sent) and the next state with the
// RFC's cell. irc and zrc are checked through the restart counter.
func TestAutomatonEveryCell(t *testing.T) {
	rfc := parseRFCTable(t)
	for e := Event(0); e < numEvents; e++ {
		for s := State(0); s < numStates; s++ {
			clk := clock.NewFake(t0)
			a, p := newProbe(clk)
			a.state = s
			a.reqID = 3
			if s.timerRuns() {
				a.startTimer() // as it would be in this state
			}
			raise(clk, a, p, e)
			want := rfc[e][s]
			var wantObs []string
			wantRestart := -1
			for i, act := range want.acts {
				switch act {
				case "irc":
					max := a.cfg.MaxConfigure
					if strings.Contains(strings.Join(want.acts[i:], ","), "str") {
						max = a.cfg.MaxTerminate
					}
					wantRestart = max
				case "zrc":
					wantRestart = 0
				case "scr", "str":
					if wantRestart > 0 {
						wantRestart--
					}
					wantObs = append(wantObs, act)
				default:
					wantObs = append(wantObs, act)
				}
			}
			wantNext := s
			if want.valid {
				wantNext = want.next
			}
			if a.state != wantNext || strings.Join(p.log, ",") != strings.Join(wantObs, ",") {
				t.Errorf("%s in %s: got %s %v, want %s %v", e, s, a.state, p.log, wantNext, wantObs)
			}
			if wantRestart >= 0 && a.restart != wantRestart {
				t.Errorf("%s in %s: restart counter %d, want %d", e, s, a.restart, wantRestart)
			}
			// The restart timer runs exactly in the states RFC 1661 4.6 says.
			running := clk.Pending() > 0
			if running != a.state.timerRuns() {
				t.Errorf("%s in %s -> %s: timer running=%v", e, s, a.state, running)
			}
		}
	}
}

func TestAutomatonRestartAndGiveUp(t *testing.T) {
	clk := clock.NewFake(t0)
	a, p := newProbe(clk)
	a.Open()
	a.Up()
	// No answer: Max-Configure requests, then This-Layer-Finished.
	clk.Advance(time.Minute)
	n := strings.Count(strings.Join(p.log, ","), "scr")
	if n != a.cfg.MaxConfigure || a.State() != StateStopped || p.log[len(p.log)-1] != "tlf" {
		t.Fatalf("sent %d requests, state %s, log %v", n, a.State(), p.log)
	}
	// Closing: Max-Terminate Terminate-Requests, then Closed.
	a, p = newProbe(clk)
	a.Open()
	a.Up()
	a.Close()
	clk.Advance(time.Minute)
	if n := strings.Count(strings.Join(p.log, ","), "str"); n != a.cfg.MaxTerminate || a.State() != StateClosed {
		t.Fatalf("sent %d terminate requests, state %s", n, a.State())
	}
	if clk.Pending() != 0 {
		t.Fatalf("timer still running in %s", a.State())
	}
}

func TestAutomatonMaxFailure(t *testing.T) {
	clk := clock.NewFake(t0)
	a, p := newProbe(clk)
	a.Open()
	a.Up()
	p.verdict = CodeConfNak
	var naks []bool
	for i := 0; i < 8; i++ {
		raw := AppendPacket(nil, CodeConfReq, uint8(i), []byte{1, 4, 5, 0xdc})
		pk, _ := ParsePacket(raw)
		var nakOK bool
		a.h = &nakSpy{fsmProbe: p, saw: &nakOK}
		a.Input(pk, raw)
		naks = append(naks, nakOK)
	}
	for i, ok := range naks {
		if want := i < a.cfg.MaxFailure; ok != want {
			t.Errorf("request %d: nakOK=%v, want %v (Max-Failure %d)", i, ok, want, a.cfg.MaxFailure)
		}
	}
}

type nakSpy struct {
	*fsmProbe
	saw *bool
}

func (n *nakSpy) CheckRequest(opts, reply []byte, nakOK bool) (Code, []byte) {
	*n.saw = nakOK
	if !nakOK {
		return CodeConfRej, append(reply, opts...)
	}
	return CodeConfNak, append(reply, opts...)
}

func TestAutomatonIgnoresStaleAndForeignReplies(t *testing.T) {
	clk := clock.NewFake(t0)
	a, p := newProbe(clk)
	a.Open()
	a.Up()
	// An Ack with the wrong identifier is discarded.
	raw := AppendPacket(nil, CodeConfAck, a.reqID+1, []byte{1, 4, 5, 0xdc})
	pk, _ := ParsePacket(raw)
	a.Input(pk, raw)
	if a.State() != StateReqSent {
		t.Fatalf("state %s after a foreign Ack", a.State())
	}
	// An Ack whose options differ from the request is discarded too.
	p.ackMatch = false
	raw = AppendPacket(nil, CodeConfAck, a.reqID, []byte{1, 4, 5, 0xdd})
	pk, _ = ParsePacket(raw)
	a.Input(pk, raw)
	if a.State() != StateReqSent {
		t.Fatalf("state %s after a mismatched Ack", a.State())
	}
	// A malformed Configure-Request is discarded.
	raw = AppendPacket(nil, CodeConfReq, 1, []byte{1, 9, 5})
	pk, _ = ParsePacket(raw)
	before := len(p.log)
	a.Input(pk, raw)
	if len(p.log) != before {
		t.Fatalf("answered a malformed request: %v", p.log[before:])
	}
}

func TestAutomatonDuplicateAckDoesNotRenegotiate(t *testing.T) {
	clk := clock.NewFake(t0)
	a, p := newProbe(clk)
	a.Open()
	a.Up()
	ack := AppendPacket(nil, CodeConfAck, a.reqID, []byte{1, 4, 5, 0xdc})
	pk, _ := ParsePacket(ack)
	a.Input(pk, ack)
	req := AppendPacket(nil, CodeConfReq, 9, []byte{1, 4, 5, 0xdc})
	rp, _ := ParsePacket(req)
	a.Input(rp, req)
	if a.State() != StateOpened {
		t.Fatalf("state %s", a.State())
	}
	before := len(p.log)
	a.Input(pk, ack) // the same Ack again
	if a.State() != StateOpened || len(p.log) != before {
		t.Fatalf("duplicate Ack: state %s, actions %v", a.State(), p.log[before:])
	}
	// In Ack-Rcvd a retransmitted request may be acknowledged again.
	a, _ = newProbe(clk)
	a.Open()
	a.Up()
	pk, _ = ParsePacket(AppendPacket(nil, CodeConfAck, a.reqID, []byte{1, 4, 5, 0xdc}))
	a.Input(pk, nil)
	if a.State() != StateAckRcvd {
		t.Fatalf("state %s", a.State())
	}
	clk.Advance(a.cfg.RestartTimer) // TO+: scr with the same identifier
	if a.State() != StateReqSent {
		t.Fatalf("state %s after timeout", a.State())
	}
	pk, _ = ParsePacket(AppendPacket(nil, CodeConfAck, a.reqID, []byte{1, 4, 5, 0xdc}))
	a.Input(pk, nil)
	if a.State() != StateAckRcvd {
		t.Fatalf("Ack of the retransmission ignored: %s", a.State())
	}
}
