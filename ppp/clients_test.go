package ppp

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"io"
	"log/slog"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/l2tpsecd/l2tpsecd/internal/clock"
)

// srv drives a server Session with hand-built frames and collects its answers.
type srv struct {
	t   *testing.T
	clk *clock.Fake
	s   *Session
	rec recorder
	out [][]byte
	all [][]byte
	u   *users
}

func newSrv(t *testing.T, methods ...AuthMethod) *srv {
	h := &srv{t: t, clk: clock.NewFake(t0)}
	h.u = &users{pw: map[string]string{"alice": "s3cret"}}
	h.s = NewSession(Config{
		Output: func(buf []byte, start int) {
			f := append([]byte(nil), buf[start:]...)
			h.out = append(h.out, f)
			h.all = append(h.all, f)
		},
		Handler:       &h.rec,
		Clock:         h.clk,
		Logger:        slog.New(slog.NewTextHandler(io.Discard, nil)),
		Rand:          &seqReader{},
		AuthMethods:   methods,
		Authenticator: h.u,
		Addresses:     &pool{},
		LocalAddr:     netip.MustParseAddr("10.10.0.1"),
		DNS:           [2]netip.Addr{netip.MustParseAddr("10.10.0.53"), netip.MustParseAddr("10.10.0.54")},
		WINS:          [2]netip.Addr{netip.MustParseAddr("10.10.0.137")},
	})
	h.s.Start()
	return h
}

// send feeds a frame and returns what the server answered, as packets.
func (h *srv) send(frame []byte) []sent {
	h.t.Helper()
	h.out = nil
	_ = h.s.Input(frame)
	return h.drain()
}

type sent struct {
	proto Protocol
	pkt   Packet
}

func (h *srv) drain() []sent {
	var r []sent
	for _, f := range h.out {
		if !bytes.HasPrefix(f, []byte{0xFF, 0x03}) {
			h.t.Fatalf("server frame without FF 03: %x", f)
		}
		p, payload, err := SplitFrame(f)
		if err != nil {
			h.t.Fatal(err)
		}
		pk, err := ParsePacket(payload)
		if err != nil {
			h.t.Fatal(err)
		}
		r = append(r, sent{p, pk})
	}
	h.out = nil
	return r
}

func frame(p Protocol, code Code, id uint8, data ...byte) []byte {
	b := []byte{0xFF, 0x03, byte(p >> 8), byte(p)}
	return AppendPacket(b, code, id, data)
}

func find(t *testing.T, got []sent, p Protocol, c Code) Packet {
	t.Helper()
	for _, s := range got {
		if s.proto == p && s.pkt.Code == c {
			return s.pkt
		}
	}
	t.Fatalf("no %s %s among %v", p, c, got)
	return Packet{}
}

// ackServerLCP acknowledges the server's first LCP Configure-Request.
func (h *srv) ackServerLCP() []sent {
	h.t.Helper()
	var req Packet
	for _, f := range h.all {
		if p, payload, _ := SplitFrame(f); p == ProtoLCP {
			if pk, _ := ParsePacket(payload); pk.Code == CodeConfReq {
				req = pk
			}
		}
	}
	if req.Code != CodeConfReq {
		h.t.Fatalf("server sent no LCP ConfReq")
	}
	return h.send(frame(ProtoLCP, CodeConfAck, req.ID, req.Data...))
}

func unhex(s string) []byte {
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		panic(err)
	}
	return b
}

// Windows' LCP Configure-Request on L2TP: MRU 1400, magic, PFC, ACFC,
// Callback (CBCP, operation 6), MRRU 1614 and an endpoint discriminator
// (class 1). The option set is the one pppd logs for Windows dial-ins
// ("<mru 1400> <magic ...> <pcomp> <accomp> <callback CBCP> <mrru 1614>
// <endpoint [local:...]>"); MRRU 1614 is Windows' documented default
// (MikroTik MLPPP manual, cited in nm-l2tp/NetworkManager-l2tp#158), and
// CLIENTS.md lists MRRU as what Windows asks for.
var windowsLCPConfReq = unhex("01 04 05 78" + "05 06 2f 7c 1f 4f" + "07 02" + "08 02" +
	"0d 03 06" + "11 04 06 4e" + "13 17 01 d1 e2 f3 04 15 26 37 48 59 6a 7b 8c 9d ae bf c0 d1 e2 f3 04")

func TestWindowsLCP(t *testing.T) {
	h := newSrv(t, AuthMSCHAPv2, AuthCHAPMD5, AuthPAP)
	got := h.send(frame(ProtoLCP, CodeConfReq, 0, windowsLCPConfReq...))
	rej := find(t, got, ProtoLCP, CodeConfRej)
	if want := unhex("0d 03 06" + "11 04 06 4e" + "13 17 01 d1 e2 f3 04 15 26 37 48 59 6a 7b 8c 9d ae bf c0 d1 e2 f3 04"); rej.ID != 0 || !bytes.Equal(rej.Data, want) {
		t.Fatalf("ConfRej id=%d %x, want callback+MRRU+endpoint %x", rej.ID, rej.Data, want)
	}
	// Windows asks again without them: acknowledged verbatim (PFC/ACFC
	// accepted).
	again := unhex("01 04 05 78" + "05 06 2f 7c 1f 4f" + "07 02" + "08 02")
	got = h.send(frame(ProtoLCP, CodeConfReq, 1, again...))
	ack := find(t, got, ProtoLCP, CodeConfAck)
	if ack.ID != 1 || !bytes.Equal(ack.Data, again) {
		t.Fatalf("ConfAck %x", ack.Data)
	}
	got = h.ackServerLCP()
	// LCP is open, MS-CHAPv2 starts with a 16-byte challenge.
	ch := find(t, got, ProtoCHAP, chapChall)
	if cv, err := ParseCHAPValue(ch.Data); err != nil || len(cv.Value) != 16 || string(cv.Name) != "l2tpsecd" {
		t.Fatalf("challenge %x (%v)", ch.Data, err)
	}
	if h.rec.info.PeerMRU != 1400 || h.rec.info.Auth != AuthMSCHAPv2 {
		t.Fatalf("link info %+v", h.rec.info)
	}
	// Windows sends CCP (MPPE) and IPV6CP right away, and PPP frames of
	// unknown NCPs; all are Protocol-Rejected with the packet echoed.
	for _, c := range []struct {
		p    Protocol
		data []byte
	}{
		{ProtoCCP, unhex("01 01 00 0a 12 06 01 00 00 40")}, // <mppe +H -M +S -L -D -C> as pppd prints it
		{ProtoIPV6CP, unhex("01 01 00 0e 01 0a 11 22 33 44 55 66 77 88")},
		{Protocol(0x8281), unhex("01 01 00 04")}, // MPLSCP, seen in xelerance/xl2tpd#123
		{ProtoBACP, unhex("01 01 00 04")},
		{ProtoMPPE, unhex("90 00 01 02 03")},
		{ProtoEAP, unhex("02 01 00 05 01")},
	} {
		f := append([]byte{0xFF, 0x03, byte(c.p >> 8), byte(c.p)}, c.data...)
		got := h.send(f)
		pr := find(t, got, ProtoLCP, CodeProtoRej)
		if !bytes.Equal(pr.Data, append([]byte{byte(c.p >> 8), byte(c.p)}, c.data...)) {
			t.Errorf("%s: ProtRej %x", c.p, pr.Data)
		}
	}
}

// Windows' IPCP request: address, primary DNS, primary WINS, secondary DNS,
// secondary WINS, all 0.0.0.0 (CLIENTS.md; pppd logs it as "<addr 0.0.0.0>
// <ms-dns1 0.0.0.0> <ms-wins 0.0.0.0> <ms-dns3 0.0.0.0> <ms-wins 0.0.0.0>").
func TestWindowsIPCP(t *testing.T) {
	h := newSrv(t, AuthPAP)
	h.send(frame(ProtoLCP, CodeConfReq, 0, unhex("01 04 05 78 05 06 2f 7c 1f 4f")...))
	h.ackServerLCP()
	got := h.send(frame(ProtoPAP, papAuthReq, 1, appendPAPRequest(nil, "alice", "s3cret")...))
	find(t, got, ProtoPAP, papAuthAck)
	req := find(t, got, ProtoIPCP, CodeConfReq)
	if !bytes.Equal(req.Data, unhex("03 06 0a 0a 00 01")) {
		t.Fatalf("server IPCP request %x", req.Data)
	}
	win := unhex("03 06 00 00 00 00" + "81 06 00 00 00 00" + "82 06 00 00 00 00" + "83 06 00 00 00 00" + "84 06 00 00 00 00")
	got = h.send(frame(ProtoIPCP, CodeConfReq, 1, win...))
	// Secondary WINS is not configured: rejected, alone.
	rej := find(t, got, ProtoIPCP, CodeConfRej)
	if !bytes.Equal(rej.Data, unhex("84 06 00 00 00 00")) {
		t.Fatalf("ConfRej %x", rej.Data)
	}
	win = win[:24]
	got = h.send(frame(ProtoIPCP, CodeConfReq, 2, win...))
	nak := find(t, got, ProtoIPCP, CodeConfNak)
	want := unhex("03 06 0a 0a 00 02" + "81 06 0a 0a 00 35" + "82 06 0a 0a 00 89" + "83 06 0a 0a 00 36")
	if !bytes.Equal(nak.Data, want) {
		t.Fatalf("ConfNak %x, want %x", nak.Data, want)
	}
	got = h.send(frame(ProtoIPCP, CodeConfReq, 3, want...))
	if ack := find(t, got, ProtoIPCP, CodeConfAck); !bytes.Equal(ack.Data, want) {
		t.Fatalf("ConfAck %x", ack.Data)
	}
	h.send(frame(ProtoIPCP, CodeConfAck, req.ID, req.Data...))
	if !h.s.NetworkUp() || !h.rec.has("NetworkUp 10.10.0.2") {
		t.Fatalf("events %s", &h.rec)
	}
	// A client insisting on another address is Nak'd back to its own.
	got = h.send(frame(ProtoIPCP, CodeConfReq, 4, unhex("03 06 c0 a8 01 05")...))
	if nak := find(t, got, ProtoIPCP, CodeConfNak); !bytes.Equal(nak.Data, unhex("03 06 0a 0a 00 02")) {
		t.Fatalf("Nak of a wrong address: %x", nak.Data)
	}
}

// pppd (xl2tpd's LAC with "mru 1280") asks "<mru 1280> <asyncmap 0x0>
// <magic ...> <pcomp> <accomp>" and, in IPCP, "<compress VJ 0f 01>
// <addr 0.0.0.0> <ms-dns1 0.0.0.0> <ms-dns2 0.0.0.0>" (logs in
// espressif/esp-protocols#565 and joukewitteveen/netctl#162).
func TestPppdRequests(t *testing.T) {
	h := newSrv(t, AuthCHAPMD5)
	lcp := unhex("01 04 05 00" + "02 06 00 00 00 00" + "05 06 38 47 e1 fa" + "07 02" + "08 02")
	got := h.send(frame(ProtoLCP, CodeConfReq, 1, lcp...))
	if ack := find(t, got, ProtoLCP, CodeConfAck); !bytes.Equal(ack.Data, lcp) {
		t.Fatalf("LCP ConfAck %x", ack.Data)
	}
	got = h.ackServerLCP()
	ch := find(t, got, ProtoCHAP, chapChall)
	cv, _ := ParseCHAPValue(ch.Data)
	resp := appendCHAPValue(nil, CHAPMD5Response(ch.ID, []byte("s3cret"), cv.Value), "alice")
	got = h.send(frame(ProtoCHAP, chapResp, ch.ID, resp...))
	find(t, got, ProtoCHAP, chapSuccess)
	// pppd retransmits its Response when the Success is lost: the same
	// Success comes back and the back end is not asked again.
	got = h.send(frame(ProtoCHAP, chapResp, ch.ID, resp...))
	find(t, got, ProtoCHAP, chapSuccess)
	if len(h.u.reqs) != 1 {
		t.Fatalf("back end asked %d times", len(h.u.reqs))
	}
	ipcp := unhex("02 06 00 2d 0f 01" + "03 06 00 00 00 00" + "81 06 00 00 00 00" + "83 06 00 00 00 00")
	got = h.send(frame(ProtoIPCP, CodeConfReq, 1, ipcp...))
	if rej := find(t, got, ProtoIPCP, CodeConfRej); !bytes.Equal(rej.Data, unhex("02 06 00 2d 0f 01")) {
		t.Fatalf("VJ not rejected alone: %x", rej.Data)
	}
	got = h.send(frame(ProtoIPCP, CodeConfReq, 2, ipcp[6:]...))
	if nak := find(t, got, ProtoIPCP, CodeConfNak); !bytes.Equal(nak.Data, unhex("03 06 0a 0a 00 02 81 06 0a 0a 00 35 83 06 0a 0a 00 36")) {
		t.Fatalf("Nak %x", nak.Data)
	}
	// The deprecated IP-Addresses option is rejected.
	got = h.send(frame(ProtoIPCP, CodeConfReq, 3, unhex("01 0a 00 00 00 00 00 00 00 00")...))
	if rej := find(t, got, ProtoIPCP, CodeConfRej); rej.Data[0] != 1 {
		t.Fatalf("IP-Addresses: %x", rej.Data)
	}
}

func TestLCPPeerOptionEdgeCases(t *testing.T) {
	h := newSrv(t, AuthMSCHAPv2, AuthPAP)
	cases := []struct {
		name     string
		req, nak string
		code     Code
	}{
		{"mru too small", "01 04 01 f4", "01 04 05 00", CodeConfNak},
		{"mru too big", "01 04 23 28", "01 04 05 dc", CodeConfNak},
		{"zero magic", "05 06 00 00 00 00", "", CodeConfNak},
		{"peer asks us to authenticate", "03 04 c0 23", "03 04 c0 23", CodeConfRej},
		{"quality protocol", "04 08 c0 25 00 00 00 0a", "04 08 c0 25 00 00 00 0a", CodeConfRej},
		{"short sequence", "12 02", "12 02", CodeConfRej},
		{"unknown", "7f 03 01", "7f 03 01", CodeConfRej},
		{"bad mru length", "01 03 05", "01 03 05", CodeConfRej},
	}
	for i, c := range cases {
		got := h.send(frame(ProtoLCP, CodeConfReq, uint8(10+i), unhex(c.req)...))
		p := find(t, got, ProtoLCP, c.code)
		if c.nak != "" && !bytes.Equal(p.Data, unhex(c.nak)) {
			t.Errorf("%s: %s %x, want %s", c.name, c.code, p.Data, c.nak)
		}
		if c.name == "zero magic" && (len(p.Data) != 6 || binary.BigEndian.Uint32(p.Data[2:]) == 0) {
			t.Errorf("zero magic Nak'd with %x", p.Data)
		}
	}
}

func TestLCPAuthNakWalksPreferences(t *testing.T) {
	h := newSrv(t, AuthMSCHAPv2, AuthCHAPMD5, AuthPAP)
	req := find(t, h.drain(), ProtoLCP, CodeConfReq)
	if !bytes.Contains(req.Data, unhex("03 05 c2 23 81")) {
		t.Fatalf("first request %x does not ask MS-CHAPv2", req.Data)
	}
	// An old client Naks with MS-CHAPv1: we never offer it, so we move on
	// to the next method of ours.
	got := h.send(frame(ProtoLCP, CodeConfNak, req.ID, unhex("03 05 c2 23 80")...))
	req = find(t, got, ProtoLCP, CodeConfReq)
	if !bytes.Contains(req.Data, unhex("03 05 c2 23 05")) {
		t.Fatalf("after Nak: %x", req.Data)
	}
	// Nak suggesting PAP: straight to PAP.
	got = h.send(frame(ProtoLCP, CodeConfNak, req.ID, unhex("03 04 c0 23")...))
	req = find(t, got, ProtoLCP, CodeConfReq)
	if !bytes.Contains(req.Data, unhex("03 04 c0 23")) {
		t.Fatalf("after Nak to PAP: %x", req.Data)
	}
	// Rejecting authentication altogether ends the link.
	got = h.send(frame(ProtoLCP, CodeConfRej, req.ID, unhex("03 04 c0 23")...))
	find(t, got, ProtoLCP, CodeTermReq)
	h.clk.Advance(10 * 1e9)
	if len(h.rec.down) != 1 || h.rec.down[0] != ReasonAuthRefused {
		t.Fatalf("down %v", h.rec.down)
	}
}

func TestLCPMiscCodes(t *testing.T) {
	h := newSrv(t, AuthPAP)
	// Before LCP is open, other protocols are silently discarded.
	if got := h.send(frame(ProtoCCP, CodeConfReq, 1)); len(got) != 0 {
		t.Fatalf("answered CCP before LCP opened: %v", got)
	}
	h.send(frame(ProtoLCP, CodeConfReq, 0, unhex("05 06 2f 7c 1f 4f")...))
	h.ackServerLCP()
	// Echo-Request: Echo-Reply with our magic and the data copied.
	got := h.send(frame(ProtoLCP, CodeEchoReq, 0x42, unhex("2f 7c 1f 4f 01 02 03")...))
	rep := find(t, got, ProtoLCP, CodeEchoRep)
	if rep.ID != 0x42 || len(rep.Data) != 7 || !bytes.Equal(rep.Data[4:], []byte{1, 2, 3}) || binary.BigEndian.Uint32(rep.Data) != h.s.l.lcpH.magic {
		t.Fatalf("EchoRep %x", rep.Data)
	}
	// Discard-Request, Identification, Time-Remaining: silence.
	for _, c := range []Code{CodeDiscardReq, CodeIdentify, CodeTimeRemain} {
		if got := h.send(frame(ProtoLCP, c, 1, unhex("2f 7c 1f 4f 41")...)); len(got) != 0 {
			t.Errorf("%s answered: %v", c, got)
		}
	}
	// Unknown code: Code-Reject carrying the packet.
	got = h.send(frame(ProtoLCP, Code(0x20), 7, 0xAA))
	cr := find(t, got, ProtoLCP, CodeCodeRej)
	if !bytes.Equal(cr.Data, unhex("20 07 00 05 aa")) {
		t.Fatalf("CodeRej %x", cr.Data)
	}
	// IPCP before authentication is discarded (RFC 1661 3.5).
	if got := h.send(frame(ProtoIPCP, CodeConfReq, 1, unhex("03 06 00 00 00 00")...)); len(got) != 0 {
		t.Fatalf("IPCP answered before authentication: %v", got)
	}
	// IP before IPCP is dropped and counted.
	before := h.s.Counters().Dropped.Load()
	if err := h.s.Input(append([]byte{0xFF, 0x03, 0x00, 0x21}, 0x45, 0, 0, 20)); err == nil || h.s.Counters().Dropped.Load() != before+1 {
		t.Fatalf("IP before network: err %v", err)
	}
}

func TestPAPRetransmitAndTrace(t *testing.T) {
	h := newSrv(t, AuthPAP)
	var trace bytes.Buffer
	h.s.SetTrace(slog.New(slog.NewTextHandler(&trace, nil)))
	h.send(frame(ProtoLCP, CodeConfReq, 0, unhex("05 06 2f 7c 1f 4f")...))
	h.ackServerLCP()
	got := h.send(frame(ProtoPAP, papAuthReq, 5, appendPAPRequest(nil, "alice", "s3cret")...))
	find(t, got, ProtoPAP, papAuthAck)
	got = h.send(frame(ProtoPAP, papAuthReq, 6, appendPAPRequest(nil, "alice", "s3cret")...))
	if ack := find(t, got, ProtoPAP, papAuthAck); ack.ID != 6 {
		t.Fatalf("retransmitted Ack id %d", ack.ID)
	}
	if len(h.u.reqs) != 1 {
		t.Fatalf("back end asked %d times", len(h.u.reqs))
	}
	tr := trace.String()
	if strings.Contains(tr, "s3cret") || !strings.Contains(tr, `rcvd [PAP AuthReq id=0x5 user=\"alice\" password=<hidden>]`) {
		t.Fatalf("trace:\n%s", tr)
	}
	if !strings.Contains(tr, "rcvd [LCP ConfReq id=0x0 <magic 0x2f7c1f4f>]") {
		t.Fatalf("trace:\n%s", tr)
	}
	h.s.SetTrace(nil)
	trace.Reset()
	h.send(frame(ProtoLCP, CodeEchoReq, 1, 0, 0, 0, 0))
	if trace.Len() != 0 {
		t.Fatalf("trace still on: %s", trace.String())
	}
}

// Closing from inside This-Layer-Up (no authentication, no address) runs
// after the transition that opened LCP: the link terminates cleanly.
func TestCloseFromLayerUp(t *testing.T) {
	h := newSrv(t) // no authentication
	h.s.l.cfg.Addresses = &pool{fail: true}
	h.send(frame(ProtoLCP, CodeConfReq, 0, unhex("05 06 2f 7c 1f 4f")...))
	got := h.ackServerLCP()
	find(t, got, ProtoLCP, CodeTermReq)
	if h.s.Info().LCP != StateClosing {
		t.Fatalf("LCP %s", h.s.Info().LCP)
	}
	got = h.send(frame(ProtoLCP, CodeTermAck, got[len(got)-1].pkt.ID))
	if len(h.rec.down) != 1 || h.rec.down[0] != ReasonNoAddress {
		t.Fatalf("down %v", h.rec.down)
	}
}

func TestIPCPPeerOmitsAddressAndRejectsIPCP(t *testing.T) {
	h := newSrv(t, AuthPAP)
	h.send(frame(ProtoLCP, CodeConfReq, 0, unhex("05 06 2f 7c 1f 4f")...))
	h.ackServerLCP()
	got := h.send(frame(ProtoPAP, papAuthReq, 1, appendPAPRequest(nil, "alice", "s3cret")...))
	req := find(t, got, ProtoIPCP, CodeConfReq)
	// No address option at all: the Nak tells the peer which to use.
	got = h.send(frame(ProtoIPCP, CodeConfReq, 1))
	if nak := find(t, got, ProtoIPCP, CodeConfNak); !bytes.Equal(nak.Data, unhex("03 06 0a 0a 00 02")) {
		t.Fatalf("Nak %x", nak.Data)
	}
	// The peer then Protocol-Rejects IPCP altogether: no network layer,
	// the link ends.
	rej := append([]byte{0x80, 0x21}, AppendPacket(nil, CodeConfReq, req.ID, req.Data)...)
	h.send(frame(ProtoLCP, CodeProtoRej, 9, rej...))
	h.clk.Advance(30 * time.Second)
	if len(h.rec.down) != 1 || h.rec.down[0] != ReasonNegotiationFailed {
		t.Fatalf("down %v, events %s", h.rec.down, &h.rec)
	}
}

func TestClientPAPGivesUp(t *testing.T) {
	var frames int
	c := NewClient(Config{Clock: clock.NewFake(t0), Rand: &seqReader{}, User: "u", Password: "p",
		Output: func([]byte, int) { frames++ }, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	rec := &recorder{}
	c.l.h = rec
	c.Start()
	// The server asks for PAP and acknowledges our options, then says nothing.
	_ = c.Input(frame(ProtoLCP, CodeConfReq, 1, unhex("03 04 c0 23 05 06 11 22 33 44")...))
	c.l.mu.Lock()
	req := c.l.lcpH.AppendRequest(nil)
	id := c.l.lcp.reqID
	c.l.unlock()
	_ = c.Input(frame(ProtoLCP, CodeConfAck, id, req...))
	if c.Info().Auth != AuthPAP {
		t.Fatalf("info %+v", c.Info())
	}
	c.l.clk.(*clock.Fake).Advance(2 * time.Minute)
	if len(rec.down) != 1 || rec.down[0] != ReasonAuthTimeout {
		t.Fatalf("down %v", rec.down)
	}
}

// A whole Windows-style connection, frame by frame: LCP with the options
// Windows adds, MS-CHAPv2 with a "DOMAIN\user" name, then CCP, IPV6CP and
// IPCP sent together right after the Success (as Windows does).
func TestWindowsFullSequence(t *testing.T) {
	h := newSrv(t, AuthMSCHAPv2)
	h.u.pw[`CORP\bob`] = "hunter2"
	h.send(frame(ProtoLCP, CodeConfReq, 0, windowsLCPConfReq...))
	h.send(frame(ProtoLCP, CodeConfReq, 1, unhex("01 04 05 78 05 06 2f 7c 1f 4f 07 02 08 02")...))
	got := h.ackServerLCP()
	ch := find(t, got, ProtoCHAP, chapChall)
	cv, _ := ParseCHAPValue(ch.Data)
	// Windows identifies itself (RFC 1570) before answering.
	h.send(frame(ProtoLCP, CodeIdentify, 2, unhex("2f 7c 1f 4f")...))
	peer := unhex("21402324255E262A28295F2B3A337C7E")
	nt, wantS, err := MSCHAPv2Response(cv.Value, peer, `CORP\bob`, "hunter2")
	if err != nil {
		t.Fatal(err)
	}
	value := append(append(append([]byte{}, peer...), make([]byte, 8)...), nt...)
	value = append(value, 0)
	got = h.send(frame(ProtoCHAP, chapResp, ch.ID, appendCHAPValue(nil, value, `CORP\bob`)...))
	ok := find(t, got, ProtoCHAP, chapSuccess)
	if !strings.HasPrefix(string(ok.Data), wantS+" M=") {
		t.Fatalf("Success %q, want authenticator %s", ok.Data, wantS)
	}
	srvIPCP := find(t, got, ProtoIPCP, CodeConfReq)
	got = h.send(frame(ProtoCCP, CodeConfReq, 3, unhex("12 06 01 00 00 40")...))
	find(t, got, ProtoLCP, CodeProtoRej)
	got = h.send(frame(ProtoIPV6CP, CodeConfReq, 4, unhex("01 0a 11 22 33 44 55 66 77 88")...))
	find(t, got, ProtoLCP, CodeProtoRej)
	win := unhex("03 06 00 00 00 00 81 06 00 00 00 00 82 06 00 00 00 00 83 06 00 00 00 00 84 06 00 00 00 00")
	find(t, h.send(frame(ProtoIPCP, CodeConfReq, 5, win...)), ProtoIPCP, CodeConfRej)
	nak := find(t, h.send(frame(ProtoIPCP, CodeConfReq, 6, win[:24]...)), ProtoIPCP, CodeConfNak)
	find(t, h.send(frame(ProtoIPCP, CodeConfReq, 7, nak.Data...)), ProtoIPCP, CodeConfAck)
	h.send(frame(ProtoIPCP, CodeConfAck, srvIPCP.ID, srvIPCP.Data...))
	if !h.s.NetworkUp() || h.s.Info().User != `CORP\bob` {
		t.Fatalf("events %s, info %+v", &h.rec, h.s.Info())
	}
	// Windows hangs up with a Terminate-Request carrying text.
	got = h.send(frame(ProtoLCP, CodeTermReq, 8, []byte("User request")...))
	find(t, got, ProtoLCP, CodeTermAck)
	h.clk.Advance(5 * time.Second)
	if len(h.rec.down) != 1 || h.rec.down[0] != ReasonUserRequest {
		t.Fatalf("down %v", h.rec.down)
	}
}
