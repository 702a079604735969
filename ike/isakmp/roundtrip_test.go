package isakmp

import (
	"bytes"
	"math/rand/v2"
	"reflect"
	"testing"
)

// gen builds random but well-formed payloads. Empty byte slices are nil,
// as the parser returns them.
type gen struct{ r *rand.Rand }

func (g gen) bytes(max int) []byte {
	n := g.r.IntN(max + 1)
	if n == 0 {
		return nil
	}
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(g.r.Uint32())
	}
	return b
}

func (g gen) attr() Attribute {
	t := uint16(g.r.IntN(0x8000))
	switch g.r.IntN(4) {
	case 0:
		return BasicAttr(t, uint16(g.r.Uint32()))
	case 1:
		// Life durations: TV or 4-byte TLV depending on size.
		return NumAttr(t, uint64(g.r.Uint32()))
	case 2:
		return NumAttrTLV(t, uint64(g.r.IntN(0x10000)))
	}
	return VarAttr(t, g.bytes(40))
}

func (g gen) attrs(max int) []Attribute {
	n := g.r.IntN(max + 1)
	if n == 0 {
		return nil
	}
	a := make([]Attribute, n)
	for i := range a {
		a[i] = g.attr()
	}
	return a
}

func (g gen) sa() *SA {
	sa := &SA{DOI: DOIIPsec, Situation: SituationIdentityOnly}
	np := 1 + g.r.IntN(4)
	for i := 0; i < np; i++ {
		p := Proposal{Number: uint8(1 + i/2), Protocol: ProtocolID(1 + g.r.IntN(4))}
		if g.r.IntN(2) == 0 {
			p.SPI = g.bytes(16)
		}
		nt := 1 + g.r.IntN(5)
		for j := 0; j < nt; j++ {
			p.Transforms = append(p.Transforms, Transform{Number: uint8(j + 1), ID: uint8(g.r.IntN(256)), Attributes: g.attrs(8)})
		}
		sa.Proposals = append(sa.Proposals, p)
	}
	return sa
}

func (g gen) payload(kind int) Payload {
	switch kind {
	case 0:
		return g.sa()
	case 1:
		return &KE{Data: g.bytes(256)}
	case 2:
		return &ID{IDType: IDType(g.r.IntN(12)), ProtocolID: uint8(g.r.IntN(256)), Port: uint16(g.r.Uint32()), Data: g.bytes(32)}
	case 3:
		return &Cert{Encoding: CertEncoding(g.r.IntN(14)), Data: g.bytes(300)}
	case 4:
		return &CertReq{Encoding: CertEncoding(g.r.IntN(14)), Authority: g.bytes(60)}
	case 5:
		return &Hash{Data: g.bytes(64)}
	case 6:
		return &Sig{Data: g.bytes(128)}
	case 7:
		return &Nonce{Data: g.bytes(64)}
	case 8:
		return &Notify{DOI: DOI(g.r.IntN(2)), Protocol: ProtocolID(g.r.IntN(5)), NotifyType: NotifyType(g.r.Uint32()), SPI: g.bytes(16), Data: g.bytes(20)}
	case 9:
		size := uint8(g.r.IntN(17))
		d := &Delete{DOI: DOIIPsec, Protocol: ProtocolID(1 + g.r.IntN(4)), SPISize: size}
		if size > 0 {
			for i := g.r.IntN(4); i > 0; i-- {
				spi := make([]byte, size)
				for j := range spi {
					spi[j] = byte(g.r.Uint32())
				}
				d.SPIs = append(d.SPIs, spi)
			}
		}
		return d
	case 10:
		return &VendorIDPayload{Data: g.bytes(20)}
	case 11:
		return &NATD{Draft: g.r.IntN(2) == 0, Hash: g.bytes(48)}
	case 12:
		oa := &NATOA{Draft: g.r.IntN(2) == 0, IDType: IDIPv4Addr, Address: g.bytes(4)}
		if g.r.IntN(2) == 0 {
			oa.IDType, oa.Address = IDIPv6Addr, g.bytes(16)
		}
		return oa
	case 13:
		return &ModeCfg{CfgType: ModeCfgType(1 + g.r.IntN(4)), Identifier: uint16(g.r.Uint32()), Attributes: g.attrs(6)}
	case 14:
		return &Fragment{ID: uint16(g.r.Uint32()), Number: uint8(g.r.Uint32()), Flags: uint8(g.r.IntN(2)), Data: g.bytes(200)}
	}
	// Unknown: any type this package does not decode.
	unknown := []PayloadType{15, 16, 17, 18, 19, 22, 33, 46, 127, 128, 129, 133, 200, 255}
	return &Unknown{PayloadType: unknown[g.r.IntN(len(unknown))], Data: g.bytes(40)}
}

const payloadKinds = 16

// TestRoundTripPayloads: parse(marshal(x)) == x for every payload kind,
// alone and in random chains, inside cleartext messages and as bodies.
func TestRoundTripPayloads(t *testing.T) {
	g := gen{rand.New(rand.NewPCG(1, 2))}
	for kind := 0; kind < payloadKinds; kind++ {
		for i := 0; i < 200; i++ {
			checkRoundTrip(t, []Payload{g.payload(kind)})
		}
	}
	for i := 0; i < 500; i++ {
		n := 1 + g.r.IntN(8)
		ps := make([]Payload, n)
		for j := range ps {
			ps[j] = g.payload(g.r.IntN(payloadKinds))
		}
		checkRoundTrip(t, ps)
	}
}

func checkRoundTrip(t *testing.T, ps []Payload) {
	t.Helper()
	m := &Message{Header: Header{InitiatorCookie: Cookie{1, 2, 3, 4, 5, 6, 7, 8}, Exchange: ExchangeMainMode, MessageID: 7}}
	m.Payloads = ps
	wire, err := m.Marshal()
	if err != nil {
		t.Fatalf("marshal %v: %v", payloadTypes(ps), err)
	}
	got, err := Parse(wire)
	if err != nil {
		t.Fatalf("parse %v: %v", payloadTypes(ps), err)
	}
	if !reflect.DeepEqual(got.Payloads, ps) {
		t.Fatalf("round trip differs for %v:\n got %#v\nwant %#v", payloadTypes(ps), got.Payloads[0], ps[0])
	}
	if got.Header != m.Header {
		t.Fatalf("header %+v, want %+v", got.Header, m.Header)
	}
	again, err := got.Marshal()
	if err != nil || !bytes.Equal(again, wire) {
		t.Fatalf("second marshal differs: %v", err)
	}
	// The same chain as an encrypted body followed by padding.
	body, first, err := MarshalBody(ps)
	if err != nil || first != ps[0].Type() {
		t.Fatalf("MarshalBody: %v %v", first, err)
	}
	padded := append(append([]byte(nil), body...), make([]byte, 15)...)
	padded[len(padded)-1] = 15 // RFC 2409 pad-length byte
	b, err := ParseBody(first, padded)
	if err != nil || b.Len != len(body) || !reflect.DeepEqual(b.Payloads, ps) {
		t.Fatalf("ParseBody with padding: len %d/%d err %v", b.Len, len(body), err)
	}
}

// TestAttributeForms checks the TV/TLV choice and the uniform numeric view.
func TestAttributeForms(t *testing.T) {
	cases := []struct {
		a    Attribute
		wire string
		val  uint64
		ok   bool
	}{
		{NumAttr(OakleyLifeDuration, 28800), "800c7080", 28800, true},
		{NumAttr(OakleyLifeDuration, 86400), "000c000400015180", 86400, true},
		{NumAttrTLV(OakleyLifeDuration, 28800), "000c000400007080", 28800, true},
		{NumAttr(IPsecSALifeDuration, 1<<40), "000200080000010000000000", 1 << 40, true},
		{BasicAttr(IPsecEncapsulationMode, uint16(EncapUDPTransportDraft)), "8004f004", 61444, true},
		{VarAttr(OakleyGroupPrime, bytes.Repeat([]byte{0xff}, 9)), "00060009ffffffffffffffffff", 0, false},
		{VarAttr(OakleyLifeDuration, []byte{0, 0, 0, 0, 0, 0, 0, 0, 0, 1}), "000c000a00000000000000000001", 1, true},
	}
	for _, c := range cases {
		wire, err := c.a.appendTo(nil)
		if err != nil || hexs(wire) != c.wire {
			t.Errorf("%+v encodes as %x (%v), want %s", c.a, wire, err, c.wire)
		}
		v, ok := c.a.Uint()
		if ok != c.ok || v != c.val {
			t.Errorf("%+v: Uint = %d %v, want %d %v", c.a, v, ok, c.val, c.ok)
		}
		back, err := parseAttributes(wire, "")
		if err != nil || !reflect.DeepEqual(back, []Attribute{c.a}) {
			t.Errorf("%s parses as %+v (%v)", c.wire, back, err)
		}
	}
	if _, err := (Attribute{Type: 0x8001, Basic: true}).appendTo(nil); err == nil {
		t.Error("an attribute type with the AF bit set must not encode")
	}
}

// TestNATNumberings checks that both NAT-D and NAT-OA numberings encode to
// their own payload numbers with the same layout.
func TestNATNumberings(t *testing.T) {
	for _, draft := range []bool{false, true} {
		oa := NewNATOA(mustAddr("192.168.1.10"), draft)
		d := &NATD{Draft: draft, Hash: bytes.Repeat([]byte{0xab}, 20)}
		body, first, err := MarshalBody([]Payload{d, oa})
		if err != nil {
			t.Fatal(err)
		}
		wantD, wantOA := PayloadNATD, PayloadNATOA
		if draft {
			wantD, wantOA = PayloadNATDDraft, PayloadNATOADraft
		}
		if first != wantD || PayloadType(body[0]) != wantOA {
			t.Errorf("draft=%v: types %v %v", draft, first, PayloadType(body[0]))
		}
		// NAT-OA body: ID type, 3 reserved bytes, address.
		if got := hexs(body[24+4:]); got != "01000000c0a8010a" {
			t.Errorf("draft=%v: NAT-OA body %s", draft, got)
		}
		b, err := ParseBody(first, body)
		if err != nil {
			t.Fatal(err)
		}
		got := b.Payloads[1].(*NATOA)
		if a, err := got.Addr(); err != nil || a != mustAddr("192.168.1.10") || got.Draft != draft {
			t.Errorf("draft=%v: NAT-OA %v %v", draft, a, err)
		}
	}
}
