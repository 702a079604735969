package ppp

import (
	"bytes"
	"io"
	"log/slog"
	"net/netip"
	"testing"
	"time"

	"github.com/l2tpsecd/l2tpsecd/internal/clock"
)

func quietSession(methods ...AuthMethod) *Session {
	s := NewSession(Config{
		Clock:         clock.NewFake(t0),
		Logger:        slog.New(slog.NewTextHandler(io.Discard, nil)),
		Rand:          &seqReader{},
		AuthMethods:   methods,
		Authenticator: &users{pw: map[string]string{"alice": "s3cret"}},
		Addresses:     &pool{},
		LocalAddr:     netip.MustParseAddr("10.10.0.1"),
		DNS:           [2]netip.Addr{netip.MustParseAddr("10.10.0.53")},
	})
	s.Start()
	return s
}

// checkVerdict asserts RFC 1661's rules for a reply to options req: an Ack
// echoes the request, a Reject carries only options taken from it, and
// every reply is well formed.
func checkVerdict(t *testing.T, req []byte, code Code, reply []byte, nakOK bool) {
	t.Helper()
	if err := checkOptions(reply); err != nil {
		t.Fatalf("malformed reply %x: %v", reply, err)
	}
	switch code {
	case CodeConfAck:
		if !bytes.Equal(reply, req) {
			t.Fatalf("Ack %x of %x", reply, req)
		}
	case CodeConfRej:
		for it := (optionIter{b: reply}); it.next(); {
			if !bytes.Contains(req, it.raw) {
				t.Fatalf("rejected %x, not in request %x", it.raw, req)
			}
		}
	case CodeConfNak:
		if !nakOK {
			t.Fatalf("Nak after Max-Failure")
		}
	default:
		t.Fatalf("code %s", code)
	}
}

func addLCPSeeds(f *testing.F) {
	f.Add(windowsLCPConfReq)
	f.Add(unhex("01 04 05 00 02 06 00 00 00 00 05 06 38 47 e1 fa 07 02 08 02"))
	f.Add(unhex("03 05 c2 23 81 03 04 c0 23 05 06 00 00 00 00"))
	f.Add([]byte{1, 2})
	f.Add([]byte{})
}

func FuzzLCPOptions(f *testing.F) {
	addLCPSeeds(f)
	f.Fuzz(func(t *testing.T, opts []byte) {
		for _, s := range []*link{&quietSession(AuthMSCHAPv2, AuthPAP).l, &NewClient(Config{Clock: clock.NewFake(t0), Rand: &seqReader{}}).l} {
			s.lcpH.ResetOptions()
			if parsed, err := ParseOptions(opts); err == nil {
				if !bytes.Equal(AppendOptions(nil, parsed), opts) {
					t.Fatalf("options do not round-trip: %x", opts)
				}
			} else {
				continue
			}
			for _, nakOK := range []bool{true, false} {
				code, reply := s.lcpH.CheckRequest(opts, nil, nakOK)
				checkVerdict(t, opts, code, reply, nakOK)
			}
			_ = s.lcpH.ReceiveNak(opts)
			_ = s.lcpH.ReceiveReject(opts)
			if err := checkOptions(s.lcpH.AppendRequest(nil)); err != nil {
				t.Fatalf("our own request is malformed after Nak/Reject %x: %v", opts, err)
			}
		}
	})
}

func FuzzIPCPOptions(f *testing.F) {
	f.Add(unhex("03 06 00 00 00 00 81 06 00 00 00 00 82 06 00 00 00 00 83 06 00 00 00 00 84 06 00 00 00 00"))
	f.Add(unhex("02 06 00 2d 0f 01 03 06 00 00 00 00 81 06 00 00 00 00 83 06 00 00 00 00"))
	f.Add(unhex("01 0a 00 00 00 00 00 00 00 00"))
	f.Add([]byte{3, 6, 10, 10, 0, 2})
	f.Fuzz(func(t *testing.T, opts []byte) {
		if checkOptions(opts) != nil {
			return
		}
		srv := &quietSession(AuthPAP).l
		srv.ipcpH.peer = netip.MustParseAddr("10.10.0.2")
		srv.ipcpH.local = netip.MustParseAddr("10.10.0.1")
		srv.ipcpH.dns[0] = netip.MustParseAddr("10.10.0.53")
		cli := &NewClient(Config{Clock: clock.NewFake(t0), Rand: &seqReader{}, WantDNS: true}).l
		for _, l := range []*link{srv, cli} {
			l.ipcpH.ResetOptions()
			for _, nakOK := range []bool{true, false} {
				code, reply := l.ipcpH.CheckRequest(opts, nil, nakOK)
				checkVerdict(t, opts, code, reply, nakOK)
				if l == srv && code == CodeConfNak {
					// Whatever the server Naks to, the peer can ask and get
					// an Ack or a Reject next: no Nak loop.
					if c2, _ := l.ipcpH.CheckRequest(reply, nil, true); c2 == CodeConfNak {
						t.Fatalf("Nak %x of %x is itself Nak'd", reply, opts)
					}
				}
			}
			_ = l.ipcpH.ReceiveNak(opts)
			_ = l.ipcpH.ReceiveReject(opts)
			if err := checkOptions(l.ipcpH.AppendRequest(nil)); err != nil {
				t.Fatalf("own request malformed: %v", err)
			}
		}
	})
}

// FuzzSessionInput feeds a sequence of frames (each prefixed by a length
// byte) to a server session and to an already-open one, with time passing
// in between: no panic, and frames the session sends are well formed.
func FuzzSessionInput(f *testing.F) {
	f.Add(append([]byte{byte(4 + len(windowsLCPConfReq) + 4)}, frame(ProtoLCP, CodeConfReq, 0, windowsLCPConfReq...)...))
	f.Add(append([]byte{10}, frame(ProtoCHAP, chapResp, 1, 1, 2)...))
	f.Add([]byte{6, 0xFF, 0x03, 0x80, 0x21, 0x01, 0x01})
	f.Add([]byte{3, 0xc0, 0x21, 0x09})
	f.Add(append([]byte{11}, frame(ProtoEAP, Code(EAPResponse), 1, byte(EAPTypeIdentity), 'a', 'b')...))
	f.Fuzz(func(t *testing.T, data []byte) {
		s := quietSession(AuthMSCHAPv2, AuthCHAPMD5, AuthPAP, AuthEAP)
		s.l.cfg.Authenticator = &eapRADIUS{pw: map[string]string{"alice": "s3cret"}}
		w := newWire(t, []AuthMethod{AuthPAP}, nil, "")
		w.start()
		// And one waiting in the authentication phase.
		h := newSrv(t, AuthMSCHAPv2)
		h.send(frame(ProtoLCP, CodeConfReq, 0, unhex("05 06 2f 7c 1f 4f")...))
		h.ackServerLCP()
		var bad []byte
		check := func(buf []byte, start int) {
			fr := buf[start:]
			p, payload, err := SplitFrame(fr)
			if err != nil || p == ProtoIPv4 {
				return
			}
			if _, err := ParsePacket(payload); err != nil {
				bad = append([]byte(nil), fr...)
			}
		}
		s.l.cfg.Output = check
		for len(data) > 0 {
			n := int(data[0])
			data = data[1:]
			n = min(n, len(data))
			fr := data[:n]
			data = data[n:]
			_ = s.Input(fr)
			_ = w.srv.Input(fr)
			_ = h.s.Input(fr)
			s.l.clk.(*clock.Fake).Advance(time.Second)
			w.pump()
		}
		if bad != nil {
			t.Fatalf("session sent a malformed frame %x", bad)
		}
	})
}
