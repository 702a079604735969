package l2tp

import (
	"bytes"
	"encoding/hex"
	"errors"
	"reflect"
	"strings"
	"testing"
)

func unhex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// fullMessage returns a message of type typ carrying every AVP this
// package knows, with distinct values.
func fullMessage(typ MessageType) Message {
	m := Message{
		Type:                   typ,
		Result:                 Result{Code: 2, Error: CodeNoResources, Message: "busy"},
		ProtocolVersion:        ProtocolVersion{1, 0},
		FramingCapabilities:    FramingSync | FramingAsync,
		BearerCapabilities:     BearerAnalog,
		TieBreaker:             0x0102030405060708,
		FirmwareRevision:       0x0690,
		HostName:               "lac.example",
		VendorName:             "Microsoft",
		AssignedTunnelID:       0x1234,
		ReceiveWindowSize:      8,
		Challenge:              []byte{1, 2, 3, 4, 5, 6, 7, 8},
		Q931Cause:              Q931Cause{Cause: 16, Msg: 0x45, Advisory: "normal"},
		ChallengeResponse:      bytes.Repeat([]byte{0xaa}, 16),
		AssignedSessionID:      0x4321,
		CallSerialNumber:       7,
		MinimumBPS:             9600,
		MaximumBPS:             100_000_000,
		BearerType:             BearerDigital,
		FramingType:            FramingSync,
		CalledNumber:           "198.51.100.1",
		CallingNumber:          "203.0.113.7",
		SubAddress:             "sub",
		TxConnectSpeed:         10_000_000,
		PhysicalChannelID:      3,
		InitialReceivedLCPConf: []byte{1, 4, 5, 0xdc},
		LastSentLCPConf:        []byte{1, 4, 5, 0x78},
		LastReceivedLCPConf:    []byte{1, 4, 5, 0x00},
		ProxyAuthenType:        ProxyAuthCHAP,
		ProxyAuthenName:        "alice",
		ProxyAuthenChallenge:   []byte{9, 9, 9},
		ProxyAuthenID:          42,
		ProxyAuthenResponse:    []byte{8, 8},
		CallErrors:             CallErrors{1, 2, 3, 4, 5, 6},
		ACCM:                   ACCM{0xffffffff, 0},
		RandomVector:           bytes.Repeat([]byte{0x5a}, 16),
		PrivateGroupID:         []byte("grp"),
		RxConnectSpeed:         20_000_000,
		DisconnectCause:        DisconnectCause{Code: 3, Protocol: 0xc021, Direction: 1, Message: "lcp"},
	}
	for t := AVPMessageType; t < 64; t++ {
		if t.known() {
			m.Set(t)
		}
	}
	return m
}

var allMessageTypes = []MessageType{MsgSCCRQ, MsgSCCRP, MsgSCCCN, MsgStopCCN, MsgHello, MsgOCRQ, MsgOCRP,
	MsgOCCN, MsgICRQ, MsgICRP, MsgICCN, MsgCDN, MsgWEN, MsgSLI}

func TestMessageRoundTripEveryTypeAndAVP(t *testing.T) {
	for _, typ := range allMessageTypes {
		for _, hide := range []bool{false, true} {
			m := fullMessage(typ)
			opts := &MarshalOptions{}
			if hide {
				opts = &MarshalOptions{Secret: []byte("s3cret"), Hide: ^AVPSet(0)}
			}
			b, err := m.Append(nil, 0xbeef, 0xcafe, 5, 9, opts)
			if err != nil {
				t.Fatalf("%v: %v", typ, err)
			}
			h, got, err := ParseControl(b, []byte("s3cret"))
			if err != nil {
				t.Fatalf("%v hide=%v: parse: %v", typ, hide, err)
			}
			if h.TunnelID != 0xbeef || h.SessionID != 0xcafe || h.Ns != 5 || h.Nr != 9 || int(h.Length) != len(b) {
				t.Errorf("%v: header %+v", typ, h)
			}
			if !reflect.DeepEqual(got, m) {
				t.Errorf("%v hide=%v: round trip differs\n got %v\nwant %v", typ, hide, got.String(), m.String())
			}
			if hide && bytes.Contains(b, []byte("lac.example")) {
				t.Errorf("%v: host name visible in a hidden message", typ)
			}
		}
	}
}

func TestMessageTypeAndAVPNames(t *testing.T) {
	for _, typ := range allMessageTypes {
		if !typ.Known() || typ.String() == "" || typ.String()[0] == 'M' {
			t.Errorf("type %d named %q", typ, typ.String())
		}
	}
	if MessageType(5).Known() || MessageType(5).String() != "MessageType(5)" {
		t.Errorf("reserved type 5 is %q", MessageType(5).String())
	}
	if AVPType(20).known() || AVPType(46).String() != "PPP Disconnect Cause Code" {
		t.Error("AVP type table is off")
	}
	if StopCCNNotAuthorized.Describe(MsgStopCCN) != "requester not authorized" || CDNNoFacilitiesTemp.Describe(MsgCDN) != "no facilities (temporary)" {
		t.Error("result code descriptions are off")
	}
}

// Bytes captured from prol2tp and published as test vectors in
// katalix/go-l2tp (l2tp/msg_test.go, l2tp/avp_test.go); transcribed here.
func TestCapturedGoL2TPVectors(t *testing.T) {
	hello := unhex(t, "c80200140001000000010001"+"8008000000000006")
	h, m, err := ParseControl(hello, nil)
	if err != nil || m.Type != MsgHello || h.TunnelID != 1 || h.SessionID != 0 || h.Ns != 1 || h.Nr != 1 {
		t.Fatalf("HELLO: %+v %v %v", h, m.Type, err)
	}
	// Re-encoding the HELLO gives the same bytes.
	b, err := m.Append(nil, 1, 0, 1, 1, nil)
	if err != nil || !bytes.Equal(b, hello) {
		t.Errorf("HELLO re-encoded as %x", b)
	}
	zlb := unhex(t, "c802000c0001000000010001")
	h, m, err = ParseControl(zlb, nil)
	if err != nil || m.Type != 0 || h.Length != 12 || h.Nr != 1 {
		t.Errorf("ZLB: %+v %v %v", h, m, err)
	}

	// SCCRQ AVPs: message type, protocol version (M clear), framing
	// capabilities, vendor name.
	sccrqAVPs := "8008000000000001" + "0008000000020100" + "800a00000003 00000003" + "003400000008" +
		hex.EncodeToString([]byte("prol2tp 1.7.3 Linux-3.13.0-71-generic (x86_64)"))
	var msg Message
	if err := msg.parseAVPs(unhex(t, sccrqAVPs), nil); err != nil {
		t.Fatal(err)
	}
	if msg.Type != MsgSCCRQ || msg.ProtocolVersion != (ProtocolVersion{1, 0}) || msg.FramingCapabilities != 3 ||
		msg.VendorName != "prol2tp 1.7.3 Linux-3.13.0-71-generic (x86_64)" {
		t.Errorf("SCCRQ AVPs: %v", msg.String())
	}

	// StopCCN: result code 1 (no error code), assigned tunnel ID 24363.
	msg = Message{}
	if err := msg.parseAVPs(unhex(t, "8008000000000004"+"8008000000010001"+"800800000009 5f2b"), nil); err != nil {
		t.Fatal(err)
	}
	if msg.Type != MsgStopCCN || msg.Result != (Result{Code: 1}) || msg.AssignedTunnelID != 24363 {
		t.Errorf("StopCCN AVPs: %v", msg.String())
	}

	// Result code with error code 3 and message "Invalid Argument".
	msg = Message{}
	if err := msg.parseAVPs(unhex(t, "8008000000000004"+"801a0000000100020003"+hex.EncodeToString([]byte("Invalid Argument"))), nil); err != nil {
		t.Fatal(err)
	}
	if msg.Result != (Result{Code: 2, Error: CodeBadValue, Message: "Invalid Argument"}) {
		t.Errorf("result: %+v", msg.Result)
	}

	// Host name "whoosh", receive window 10, bearer capabilities 3.
	msg = Message{}
	if err := msg.parseAVPs(unhex(t, "8008000000000001"+"800c00000007"+hex.EncodeToString([]byte("whoosh"))+
		"80080000000a000a"+"800a00000004 00000003"), nil); err != nil {
		t.Fatal(err)
	}
	if msg.HostName != "whoosh" || msg.ReceiveWindowSize != 10 || msg.BearerCapabilities != 3 {
		t.Errorf("AVPs: %v", msg.String())
	}
}

// Hidden AVP known answers computed independently (Python hashlib) from
// RFC 2661 section 4.3: MD5(type || secret || RV) xor (length || value),
// chained with MD5(secret || previous ciphertext block).
func TestHiddenAVPKnownAnswer(t *testing.T) {
	rv := make([]byte, 16)
	for i := range rv {
		rv[i] = byte(i)
	}
	cases := []struct {
		typ   AVPType
		value []byte
		want  string
	}{
		{AVPAssignedSessionID, []byte{0x12, 0x34}, "3b5bf16b"},
		{AVPCallingNumber, []byte("0123456789012345678"), "75d637c7a01b817e7ed24f2f2f502bc7469d287b09"},
	}
	for _, c := range cases {
		got := hideAVP(c.typ, []byte("secret"), rv, c.value)
		if hex.EncodeToString(got) != c.want {
			t.Errorf("%v hidden = %x, want %s", c.typ, got, c.want)
		}
		back, err := revealAVP(c.typ, []byte("secret"), rv, got)
		if err != nil || !bytes.Equal(back, c.value) {
			t.Errorf("%v revealed = %x, %v", c.typ, back, err)
		}
	}
	// A wrong secret yields garbage, usually caught by the length check.
	if v, err := revealAVP(AVPCallingNumber, []byte("other"), rv, unhex(t, cases[1].want)); err == nil && bytes.Equal(v, cases[1].value) {
		t.Error("wrong secret revealed the value")
	}
}

func TestHiddenAVPNeedsRandomVectorAndSecret(t *testing.T) {
	m := Message{Type: MsgICRQ, AssignedSessionID: 7}
	m.Set(AVPAssignedSessionID)
	b, err := m.Append(nil, 1, 0, 0, 0, &MarshalOptions{Secret: []byte("k"), Hide: AVPSet(0).With(AVPAssignedSessionID)})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := ParseControl(b, nil); !errors.Is(err, ErrHidden) {
		t.Errorf("no secret: %v", err)
	}
	// Drop the Random Vector AVP (right after the Message Type).
	noRV := append(append([]byte(nil), b[:20]...), b[20+22:]...)
	noRV[2], noRV[3] = 0, byte(len(noRV))
	if _, _, err := ParseControl(noRV, []byte("k")); !errors.Is(err, ErrHidden) {
		t.Errorf("no RV: %v", err)
	}
	_, got, err := ParseControl(b, []byte("k"))
	if err != nil || got.AssignedSessionID != 7 {
		t.Errorf("with secret: %v %v", got.AssignedSessionID, err)
	}
}

func TestChallengeResponseKnownAnswer(t *testing.T) {
	ch := make([]byte, 16)
	for i := range ch {
		ch[i] = byte(16 + i)
	}
	// MD5(ID || secret || challenge), ID the response's message type.
	if got := hex.EncodeToString(challengeResponse(MsgSCCRP, []byte("secret"), ch)); got != "83abc767118632beb4d21abef105de01" {
		t.Errorf("SCCRP response %s", got)
	}
	if got := hex.EncodeToString(challengeResponse(MsgSCCCN, []byte("secret"), ch)); got != "9b613fbb2d625c525dc1858730432128" {
		t.Errorf("SCCCN response %s", got)
	}
}

func TestUnknownAVPs(t *testing.T) {
	base := "8008000000000006" // HELLO
	cases := []struct {
		name    string
		avp     string
		wantErr error
		ignored int
	}{
		{"vendor AVP without M is skipped", "000a01370001deadbeef", nil, 1},
		{"vendor AVP with M tears down", "800a01370001deadbeef", ErrUnknownAVP, 0},
		{"unknown IETF AVP without M is skipped", "0008000000630001", nil, 1},
		{"unknown IETF AVP with M tears down", "8008000000630001", ErrUnknownAVP, 0},
		{"reserved bits set count as unrecognised", "8408000000090001", ErrUnknownAVP, 0},
	}
	for _, c := range cases {
		b := unhex(t, "c80200000001000000000000"+base+c.avp)
		b[3] = byte(len(b))
		_, m, err := ParseControl(b, nil)
		if !errors.Is(err, c.wantErr) {
			t.Errorf("%s: err %v, want %v", c.name, err, c.wantErr)
		}
		var pe *ProtocolError
		if c.wantErr != nil && (!errors.As(err, &pe) || pe.Code != CodeUnknownMandatory || pe.Result != 2) {
			t.Errorf("%s: error %v does not carry result 2 / error 8", c.name, err)
		}
		if len(m.Ignored) != c.ignored {
			t.Errorf("%s: %d ignored", c.name, len(m.Ignored))
		}
	}
	// An unknown message type with M set is a protocol error; without M it
	// is ignored.
	b := unhex(t, "c80200140001000000000000 8008000000000063")
	if _, _, err := ParseControl(b, nil); !errors.Is(err, ErrMessageType) {
		t.Errorf("unknown mandatory type: %v", err)
	}
}

func TestMalformedControl(t *testing.T) {
	cases := map[string]string{
		"short":               "c802",
		"version 3":           "c8030014000100000000000080080000000000 06",
		"length beyond":       "c80200ff0001000000000000",
		"no L bit":            "880200140001000000000000",
		"AVP length 4":        "c80200140001000000000000" + "80040000",
		"AVP overruns":        "c80200140001000000000000" + "80ff000000000006",
		"first not msg type":  "c80200140001000000000000" + "8008000000090006",
		"hidden message type": "c80200140001000000000000" + "c008000000000006",
		"bad result length":   "c802001d0001000000000000" + "8008000000000004" + "800900000001 000102",
	}
	for name, s := range cases {
		b := unhex(t, s)
		if _, _, err := ParseControl(b, nil); err == nil {
			t.Errorf("%s: parsed", name)
		}
	}
}

func TestDataHeaderVariants(t *testing.T) {
	payload := []byte{0xff, 0x03, 0xc0, 0x21, 1, 2, 3}
	for _, h := range []Header{
		{TunnelID: 1, SessionID: 2},
		{TunnelID: 1, SessionID: 2, HasLength: true},
		{TunnelID: 1, SessionID: 2, HasSeq: true, Ns: 7, Nr: 0},
		{TunnelID: 1, SessionID: 2, HasLength: true, HasSeq: true, Ns: 0xffff, HasOffset: true, OffsetSize: 3},
		{TunnelID: 1, SessionID: 2, HasOffset: true, Priority: true},
	} {
		b := AppendData(nil, h, payload)
		got, p, err := ParseData(b)
		if err != nil {
			t.Fatalf("%+v: %v", h, err)
		}
		want := h
		if h.HasLength {
			want.Length = uint16(len(b))
		}
		if got != want || !bytes.Equal(p, payload) {
			t.Errorf("got %+v %x, want %+v", got, p, want)
		}
	}
	// Windows-style data: L bit clear, no sequence numbers (transcribed
	// layout of RFC 2661 section 3.1).
	h, p, err := ParseData(unhex(t, "000212340001ff03c021"))
	if err != nil || h.TunnelID != 0x1234 || h.SessionID != 1 || !bytes.Equal(p, []byte{0xff, 0x03, 0xc0, 0x21}) {
		t.Errorf("%+v %x %v", h, p, err)
	}
	if _, _, err := ParseData(unhex(t, "c802000c0001000000010001")); !errors.Is(err, ErrNotData) {
		t.Errorf("control as data: %v", err)
	}
	if _, _, err := ParseData(unhex(t, "02020001000200ff")); !errors.Is(err, ErrShort) {
		t.Errorf("offset beyond: %v", err)
	}
}

func TestParseDataDoesNotAllocate(t *testing.T) {
	b := AppendData(nil, Header{TunnelID: 9, SessionID: 8, HasLength: true, HasSeq: true}, make([]byte, 1400))
	allocs := testing.AllocsPerRun(1000, func() {
		h, p, err := ParseData(b)
		if err != nil || h.TunnelID != 9 || len(p) != 1400 {
			panic("bad parse")
		}
	})
	if allocs != 0 {
		t.Errorf("ParseData allocates %v times", allocs)
	}
}

func BenchmarkParseData(b *testing.B) {
	pkt := AppendData(nil, Header{TunnelID: 9, SessionID: 8}, make([]byte, 1400))
	b.SetBytes(int64(len(pkt)))
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := ParseData(pkt); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkAppendData(b *testing.B) {
	frame := make([]byte, 1400)
	buf := make([]byte, 0, 2048)
	b.SetBytes(int64(len(frame)))
	b.ReportAllocs()
	for b.Loop() {
		buf = AppendData(buf[:0], Header{TunnelID: 9, SessionID: 8, HasSeq: true}, frame)
	}
}

func FuzzParseControl(f *testing.F) {
	f.Add(unhex(f, "c80200140001000000010001"+"8008000000000006"))
	f.Add(unhex(f, "c802000c0001000000010001"))
	for _, typ := range []MessageType{MsgSCCRQ, MsgICRQ, MsgCDN} {
		m := fullMessage(typ)
		b, _ := m.Append(nil, 1, 2, 3, 4, &MarshalOptions{Secret: []byte("k"), Hide: AVPSet(0).With(AVPHostName)})
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		h, m, err := ParseControl(b, []byte("k"))
		if err != nil || m.Type == 0 {
			return
		}
		// Whatever parses re-encodes and parses to the same message.
		out, err := m.Append(nil, h.TunnelID, h.SessionID, h.Ns, h.Nr, nil)
		if err != nil {
			return
		}
		_, m2, err := ParseControl(out, nil)
		if err != nil {
			t.Fatalf("re-encoded message does not parse: %v", err)
		}
		m.Ignored, m2.Ignored = nil, nil
		if m.Has(AVPRandomVector) != m2.Has(AVPRandomVector) || m.Type != m2.Type || m.Present != m2.Present {
			t.Fatalf("round trip changed the message:\n%v\n%v", m.String(), m2.String())
		}
	})
}

func FuzzAVPs(f *testing.F) {
	m := fullMessage(MsgICCN)
	b, _ := m.Append(nil, 1, 2, 3, 4, nil)
	f.Add(b[controlHeaderLen:], false)
	b, _ = m.Append(nil, 1, 2, 3, 4, &MarshalOptions{Secret: []byte("k"), Hide: ^AVPSet(0)})
	f.Add(b[controlHeaderLen:], true)
	f.Fuzz(func(t *testing.T, avps []byte, withSecret bool) {
		var secret []byte
		if withSecret {
			secret = []byte("k")
		}
		var m Message
		if err := m.parseAVPs(avps, secret); err != nil {
			return
		}
		out, err := m.Append(nil, 0, 0, 0, 0, &MarshalOptions{Secret: []byte("k"), Hide: m.Present &^ AVPSet(0).With(AVPMessageType)})
		if err != nil {
			return
		}
		_, m2, err := ParseControl(out, []byte("k"))
		if err != nil {
			t.Fatalf("re-encoded AVPs do not parse: %v", err)
		}
		if m2.Present&^AVPSet(0).With(AVPRandomVector) != m.Present&^AVPSet(0).With(AVPRandomVector) {
			t.Fatalf("AVP set changed: %x vs %x", m.Present, m2.Present)
		}
	})
}

func TestBitSetNames(t *testing.T) {
	cases := map[string]string{
		(FramingSync | FramingAsync).String(): "sync|async",
		Framing(0).String():                   "none",
		BearerAnalog.String():                 "analog",
		Bearer(5).String():                    "digital|0x4",
		ProxyAuthCHAP.String():                "CHAP",
		Role(9).String():                      "Role(9)",
		DropWrongPeer.String():                "wrong_peer",
		ReasonHelloTimeout.String():           "hello_timeout",
		CodeUnknownMandatory.String():         "unknown mandatory AVP",
	}
	for got, want := range cases {
		if got != want {
			t.Errorf("got %q, want %q", got, want)
		}
	}
}
