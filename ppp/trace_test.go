package ppp

import (
	"strings"
	"testing"
)

func TestDescribe(t *testing.T) {
	resp := appendCHAPValue(nil, []byte("SECRETRESPONSE!!"), "alice")
	for _, c := range []struct {
		p    Protocol
		pkt  []byte
		want string
	}{
		{ProtoLCP, AppendPacket(nil, CodeConfReq, 1, unhex("01 04 05 78 03 05 c2 23 81 05 06 12 34 56 78 07 02 08 02 11 04 06 4e")),
			"[LCP ConfReq id=0x1 <mru 1400> <auth chap MS-v2> <magic 0x12345678> <pcomp> <accomp> <mrru 1614>]"},
		{ProtoLCP, AppendPacket(nil, CodeEchoReq, 0, unhex("12 34 56 78")), "[LCP EchoReq id=0x0 magic=0x12345678]"},
		{ProtoLCP, AppendPacket(nil, CodeTermReq, 2, []byte("User request")), `[LCP TermReq id=0x2 "User request"]`},
		{ProtoIPCP, AppendPacket(nil, CodeConfNak, 3, unhex("03 06 0a 0a 00 02 81 06 0a 0a 00 35 02 06 00 2d 0f 01")),
			"[IPCP ConfNak id=0x3 <addr 10.10.0.2> <ms-dns1 10.10.0.53> <compress 002d0f01>]"},
		{ProtoCHAP, AppendPacket(nil, chapResp, 4, resp), `[CHAP Response id=0x4 <hidden>, name = "alice"]`},
		{ProtoCHAP, AppendPacket(nil, chapFailure, 4, []byte("E=691 R=0")), `[CHAP Failure id=0x4 "E=691 R=0"]`},
		{ProtoPAP, AppendPacket(nil, papAuthReq, 5, appendPAPRequest(nil, "bob", "pw123")), `[PAP AuthReq id=0x5 user="bob" password=<hidden>]`},
		{ProtoPAP, AppendPacket(nil, papAuthReq, 5, []byte{3, 'b', 'o', 'b', 9, 'p', 'w'}), `[PAP AuthReq id=0x5 <malformed>]`},
		{ProtoLCP, []byte{1, 2}, "[LCP malformed 2 bytes]"},
	} {
		got := Describe(c.p, c.pkt)
		if got != c.want {
			t.Errorf("got  %s\nwant %s", got, c.want)
		}
		if strings.Contains(got, "SECRET") || strings.Contains(got, "pw") {
			t.Errorf("secret in %s", got)
		}
	}
}

func TestStrings(t *testing.T) {
	var all []string
	for s := State(0); s < numStates; s++ {
		all = append(all, s.String())
	}
	for e := Event(0); e < numEvents; e++ {
		all = append(all, e.String())
	}
	for a := ActTLU; a <= ActSER; a++ {
		all = append(all, a.String())
	}
	for r := ReasonNone; r <= ReasonLoopback; r++ {
		all = append(all, r.String())
	}
	for p := PhaseDead; p <= PhaseTerminate; p++ {
		all = append(all, p.String())
	}
	for m := AuthNone; m <= AuthEAP; m++ {
		all = append(all, m.String())
	}
	for c := CodeConfReq; c <= CodeResetAck; c++ {
		all = append(all, c.String())
	}
	seen := map[string]bool{}
	for _, s := range all {
		if s == "" || strings.Contains(s, "-?") || seen[s] && !isShared(s) {
			t.Errorf("bad or duplicate name %q", s)
		}
		seen[s] = true
	}
	if Protocol(0x1234).String() != "proto-0x1234" || ProtoCCP.String() != "CCP" || LCPOptMRRU.String() != "mrru" ||
		IPCPOptWINS2.String() != "ms-wins2" || PAPAuthNak.String() != "AuthNak" || CHAPSuccess.String() != "Success" {
		t.Error("protocol-number names")
	}
}

// isShared lists names legitimately used by two different enums.
func isShared(s string) bool { return s == "none" || s == "Down" }
