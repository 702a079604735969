package isakmp

import (
	"encoding/binary"
	"errors"
	"testing"
)

// validMM1 returns a small well-formed Main Mode 1: SA(1 proposal, 1
// transform, 2 attributes) + VID.
func validMM1(t *testing.T) []byte {
	t.Helper()
	m := &Message{Header: Header{InitiatorCookie: Cookie{1}, Exchange: ExchangeMainMode}}
	m.Payloads = []Payload{
		&SA{DOI: DOIIPsec, Situation: SituationIdentityOnly, Proposals: []Proposal{{Number: 1, Protocol: ProtoISAKMP,
			Transforms: []Transform{{Number: 1, ID: 1, Attributes: []Attribute{BasicAttr(OakleyEncryption, 7), NumAttrTLV(OakleyLifeDuration, 28800)}}}}}},
		&VendorIDPayload{Data: VendorDPD.Bytes()},
	}
	b, err := m.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// Offsets inside validMM1.
const (
	offSA        = HeaderLen            // SA generic header
	offSADOI     = offSA + 4            // DOI
	offSASit     = offSA + 8            // situation
	offProp      = offSA + 12           // proposal generic header
	offPropNT    = offProp + 7          // number of transforms
	offTrans     = offProp + 8          // transform generic header
	offAttr2     = offTrans + 8 + 4     // second attribute (the TLV)
	offAttr2Len  = offAttr2 + 2         // its length
	offVID       = offTrans + 8 + 4 + 8 // VID generic header
	lenValidMM1  = offVID + 4 + 16
	offSALen     = offSA + 2
	offTransNext = offTrans
)

func TestParseErrors(t *testing.T) {
	base := validMM1(t)
	if len(base) != lenValidMM1 {
		t.Fatalf("fixture is %d bytes, offsets assume %d", len(base), lenValidMM1)
	}
	if _, err := Parse(base); err != nil {
		t.Fatalf("fixture does not parse: %v", err)
	}
	mut := func(f func(b []byte) []byte) []byte { return f(append([]byte(nil), base...)) }
	put16 := func(off int, v uint16) []byte {
		return mut(func(b []byte) []byte { binary.BigEndian.PutUint16(b[off:], v); return b })
	}
	put32 := func(off int, v uint32) []byte {
		return mut(func(b []byte) []byte { binary.BigEndian.PutUint32(b[off:], v); return b })
	}
	setLen := func(b []byte) []byte { binary.BigEndian.PutUint32(b[24:], uint32(len(b))); return b }
	cases := []struct {
		name   string
		data   []byte
		err    error
		notify NotifyType
	}{
		{"short", base[:27], ErrShort, NotifyPayloadMalformed},
		{"length > datagram", put32(24, uint32(len(base)+1)), ErrMessageLength, NotifyUnequalPayloadLengths},
		{"length < datagram", put32(24, uint32(len(base)-4)), ErrMessageLength, NotifyUnequalPayloadLengths},
		{"major version 2", mut(func(b []byte) []byte { b[17] = 0x20; return b }), ErrMajorVersion, NotifyInvalidMajorVersion},
		{"encrypted", mut(func(b []byte) []byte { b[19] = byte(FlagEncryption); return b }), ErrEncrypted, NotifyInvalidFlags},
		{"payload overruns message", put16(offSALen, 0x400), ErrPayloadLength, NotifyPayloadMalformed},
		{"payload length below 4", put16(offSALen, 3), ErrPayloadLength, NotifyPayloadMalformed},
		{"SA DOI 2", put32(offSADOI, 2), ErrDOI, NotifyDOINotSupported},
		{"SA DOI ISAKMP", put32(offSADOI, 0), ErrDOI, NotifyDOINotSupported},
		{"SA secrecy", put32(offSASit, 3), ErrSituation, NotifySituationNotSupported},
		{"transform count", mut(func(b []byte) []byte { b[offPropNT] = 2; return b }), ErrProposalSyntax, NotifyBadProposalSyntax},
		{"transform next = ID", mut(func(b []byte) []byte { b[offTransNext] = byte(PayloadID); return b }), ErrProposalSyntax, NotifyBadProposalSyntax},
		{"proposal next = SA", mut(func(b []byte) []byte { b[offProp] = byte(PayloadSA); return b }), ErrProposalSyntax, NotifyBadProposalSyntax},
		{"attribute overruns transform", put16(offAttr2Len, 5), ErrAttribute, NotifyPayloadMalformed},
		{"top-level proposal", mut(func(b []byte) []byte { b[16] = byte(PayloadProposal); return b }), ErrPayloadType, NotifyInvalidPayloadType},
		{"trailing bytes", mut(func(b []byte) []byte { return setLen(append(b, 0, 0, 0)) }), ErrTrailingData, NotifyPayloadMalformed},
		{"chain stops early", mut(func(b []byte) []byte { b[offSA] = 0; return b }), ErrTrailingData, NotifyPayloadMalformed},
		{"chain runs past end", mut(func(b []byte) []byte { b[offVID] = byte(PayloadVendorID); return b }), ErrPayloadLength, NotifyPayloadMalformed},
	}
	for _, c := range cases {
		_, err := Parse(c.data)
		if !errors.Is(err, c.err) {
			t.Errorf("%s: error %v, want %v", c.name, err, c.err)
			continue
		}
		if n := NotifyFor(err); n != c.notify {
			t.Errorf("%s: notify %v, want %v", c.name, n, c.notify)
		}
		var pe *ParseError
		if !errors.As(err, &pe) || pe.Error() == "" {
			t.Errorf("%s: not a *ParseError: %T", c.name, err)
		}
	}
}

func TestParseBodyErrors(t *testing.T) {
	cases := []struct {
		name  string
		first PayloadType
		body  string
		err   error
	}{
		{"notify truncated", PayloadNotify, "00000007" + "00000001", ErrTruncated},
		{"notify SPI overruns", PayloadNotify, "0000000c" + "00000001" + "0110" + "6000", ErrSPI},
		{"delete count mismatch", PayloadDelete, "00000010" + "00000001" + "0304" + "0002" + "11223344", ErrSPI},
		{"delete SPI size 0", PayloadDelete, "0000000c" + "00000001" + "0300" + "0005", ErrSPI},
		{"ID truncated", PayloadID, "00000007" + "010000", ErrTruncated},
		{"NAT-OA truncated", PayloadNATOA, "00000006" + "0100", ErrTruncated},
		{"frag truncated", PayloadFragment, "00000007" + "000101", ErrTruncated},
		{"cert truncated", PayloadCert, "00000004", ErrTruncated},
		{"modecfg attr truncated", PayloadAttr, "0000000a" + "01000001" + "8001", ErrAttribute},
		{"transform top level", PayloadTransform, "00000004", ErrPayloadType},
		{"empty body", PayloadHash, "", ErrPayloadLength},
		{"header truncated", PayloadHash, "0000", ErrPayloadLength},
	}
	for _, c := range cases {
		_, err := ParseBody(c.first, unhex(t, c.body))
		if !errors.Is(err, c.err) {
			t.Errorf("%s: %v, want %v", c.name, err, c.err)
		}
	}
	// A chain of more than MaxPayloads payloads.
	var long []byte
	for i := 0; i <= MaxPayloads; i++ {
		long = append(long, byte(PayloadVendorID), 0, 0, 4)
	}
	if _, err := ParseBody(PayloadVendorID, long); !errors.Is(err, ErrTooManyPayloads) {
		t.Errorf("long chain: %v", err)
	}
}

func TestMarshalErrors(t *testing.T) {
	cases := map[string][]Payload{
		"delete SPI size":  {&Delete{SPISize: 4, SPIs: [][]byte{{1, 2}}}},
		"payload too long": {&KE{Data: make([]byte, 70000)}},
		"attr too long":    {&ModeCfg{Attributes: []Attribute{VarAttr(CfgApplicationVersion, make([]byte, 70000))}}},
		"proposal payload": {&Unknown{PayloadType: PayloadProposal}},
		"spi too long":     {&Notify{SPI: make([]byte, 256)}},
	}
	for name, ps := range cases {
		if _, _, err := MarshalBody(ps); err == nil {
			t.Errorf("%s: marshalled", name)
		}
	}
}

func TestIDAccessors(t *testing.T) {
	id := NewIDSubnet(mustPrefix("10.1.0.0/16"), 17, 1701)
	if hexs(id.Data) != "0a010000ffff0000" || id.IDType != IDIPv4AddrSubnet {
		t.Errorf("subnet ID %x", id.Data)
	}
	if p, err := id.Subnet(); err != nil || p != mustPrefix("10.1.0.0/16") {
		t.Errorf("Subnet %v %v", p, err)
	}
	if _, err := id.Addr(); !errors.Is(err, ErrIDInfo) || NotifyFor(err) != NotifyInvalidIDInformation {
		t.Errorf("Addr on a subnet: %v", err)
	}
	v6 := NewIDSubnet(mustPrefix("2001:db8::/33"), 0, 0)
	if p, err := v6.Subnet(); err != nil || p != mustPrefix("2001:db8::/33") {
		t.Errorf("v6 subnet %v %v", p, err)
	}
	bad := &ID{IDType: IDIPv4AddrSubnet, Data: unhex(t, "0a000000ff00ff00")}
	if _, err := bad.Subnet(); err == nil {
		t.Error("non-contiguous mask accepted")
	}
	r := &ID{IDType: IDIPv4AddrRange, Data: unhex(t, "0a0000010a0000ff")}
	if lo, hi, err := r.Range(); err != nil || lo != mustAddr("10.0.0.1") || hi != mustAddr("10.0.0.255") {
		t.Errorf("range %v %v %v", lo, hi, err)
	}
	if a, err := NewIDAddr(mustAddr("::ffff:192.0.2.1"), 0, 0).Addr(); err != nil || a != mustAddr("192.0.2.1") {
		t.Errorf("mapped address: %v %v", a, err)
	}
	if a, err := NewIDAddr(mustAddr("2001:db8::1"), 0, 0).Addr(); err != nil || a != mustAddr("2001:db8::1") {
		t.Errorf("v6 address: %v %v", a, err)
	}
	if s, err := NewIDFQDN("vpn.example.org").FQDN(); err != nil || s != "vpn.example.org" {
		t.Errorf("FQDN %q %v", s, err)
	}
	if _, err := NewIDFQDN("x").DN(); err == nil {
		t.Error("DN of an FQDN")
	}
	if dn, err := (&ID{IDType: IDDERASN1DN, Data: []byte{0x30, 0}}).DN(); err != nil || len(dn) != 2 {
		t.Errorf("DN %x %v", dn, err)
	}
	oa := &NATOA{IDType: IDIPv4Addr, Address: []byte{1, 2, 3}}
	if _, err := oa.Addr(); err == nil {
		t.Error("3-byte NAT-OA address accepted")
	}
}
