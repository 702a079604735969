package l2tp

import (
	"encoding/binary"
	"sync/atomic"
	"testing"
	"time"

	"github.com/l2tpsecd/l2tpsecd/internal/clock"
)

type nopSender struct{ n atomic.Int64 }

func (s *nopSender) SendL2TP(Peer, uint16, []byte) { s.n.Add(1) }

type nopHandler struct{}

func (nopHandler) SessionUp(*Session)           {}
func (nopHandler) SessionData(*Session, []byte) {}
func (nopHandler) SessionDown(*Session, Cause)  {}
func (nopHandler) TunnelDown(*Tunnel, Cause)    {}

func counterIDs() func() uint32 {
	var n uint32
	return func() uint32 { n++; return n }
}

// lacTranscript records what a LAC sends to an LNS for a tunnel, a call and
// one PPP frame, with IDs drawn from a counter on both sides.
func lacTranscript(t testing.TB) [][]byte {
	l := &lab{clk: clock.NewFake(t0), net: &memNet{}, hl: &recHandler{}, hc: &recHandler{}}
	sl := &memSender{n: l.net, self: &l.lns, routes: map[Peer]memRoute{"sa-1": {&l.lac, "lns"}}}
	sc := &memSender{n: l.net, self: &l.lac, routes: map[Peer]memRoute{"lns": {&l.lns, "sa-1"}}}
	l.lns, _ = NewEndpoint(Config{}, l.clk, nil, sl, l.hl)
	l.lac, _ = NewEndpoint(Config{Role: RoleLAC}, l.clk, nil, sc, l.hc)
	l.lns.randID, l.lac.randID = counterIDs(), counterIDs()
	tun, _ := l.lac.Dial("lns", 1701)
	tun.Call(CallOptions{})
	for range 5 {
		for len(l.net.q) > 0 {
			p := l.net.q[0]
			l.net.q = l.net.q[1:]
			p.to.Input(p.peer, 1701, p.b)
		}
		l.clk.Advance(200 * time.Millisecond)
	}
	if len(l.hc.up) == 1 {
		l.hc.up[0].SendPPP([]byte{0xc0, 0x21, 1, 1, 0, 4})
	}
	var out [][]byte
	for _, p := range l.net.wire {
		if p.from == l.lac {
			out = append(out, p.b)
		}
	}
	return out
}

func joinDatagrams(ds [][]byte) []byte {
	var b []byte
	for _, d := range ds {
		b = binary.BigEndian.AppendUint16(b, uint16(len(d)))
		b = append(b, d...)
	}
	return b
}

// FuzzInput feeds sequences of datagrams (each prefixed with a 2-octet
// length) to an LNS, advancing its clock between them.
func FuzzInput(f *testing.F) {
	tr := lacTranscript(f)
	f.Add(joinDatagrams(tr))
	if len(tr) > 2 {
		f.Add(joinDatagrams(tr[:2]))
	}
	f.Add(joinDatagrams([][]byte{unhex(f, "c80200140001000000010001 8008000000000006")}))
	f.Fuzz(func(t *testing.T, in []byte) {
		clk := clock.NewFake(t0)
		snd := &nopSender{}
		var cfg Config
		if len(in)%2 == 1 {
			// Odd lengths run with a secret: authentication and hidden
			// AVPs.
			cfg.Secret = []byte("k")
		}
		e, err := NewEndpoint(cfg, clk, nil, snd, nopHandler{})
		if err != nil {
			t.Fatal(err)
		}
		e.randID = counterIDs()
		for len(in) >= 2 {
			n := int(binary.BigEndian.Uint16(in))
			in = in[2:]
			if n > len(in) {
				n = len(in)
			}
			e.Input("sa-1", 1701, in[:n])
			in = in[n:]
			clk.Advance(700 * time.Millisecond)
		}
		clk.Advance(2 * time.Minute)
		st := e.Stats()
		if st.Tunnels < 0 || st.Sessions < 0 {
			t.Fatalf("negative gauges: %+v", st)
		}
	})
}

func TestFuzzSeedTranscriptBringsASessionUp(t *testing.T) {
	tr := lacTranscript(t)
	clk := clock.NewFake(t0)
	h := &recHandler{}
	e, _ := NewEndpoint(Config{}, clk, nil, &nopSender{}, h)
	e.randID = counterIDs()
	for _, d := range tr {
		e.Input("sa-1", 1701, d)
	}
	if len(h.up) != 1 || len(h.data) != 1 {
		t.Fatalf("transcript of %d datagrams: %d sessions up, %d frames", len(tr), len(h.up), len(h.data))
	}
}
