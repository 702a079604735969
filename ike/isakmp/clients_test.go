package isakmp

import (
	"bytes"
	"encoding/binary"
	"testing"
)

// windows10MM1 is a Windows 10 L2TP/IPsec client's first Main Mode message
// (408 bytes), as published in a public VPN-detection study's source: five
// proposals, ECP384/ECP256 first, lifetimes as 4-byte TLVs, and eight
// vendor IDs.
const windows10MM1 = "080fd6f205d3879d00000000000000000110020000000000000001980d0000d40000000100000001000000c801010005" +
	"030000280101000080010007800e0100800200028004001480030001800b0001000c000400007080" +
	"030000280201000080010007800e0080800200028004001380030001800b0001000c000400007080" +
	"030000280301000080010007800e0100800200028004000e80030001800b0001000c000400007080" +
	"030000240401000080010005800200028004000e80030001800b0001000c000400007080" +
	"000000240501000080010005800200028004000280030001800b0001000c000400007080" +
	"0d00001801528bbbc00696121849ab9a1c5b2a5100000001" +
	"0d0000181e2b516905991c7d7c96fcbfb587e46100000009" +
	"0d0000144a131c81070358455c5728f20e95452f" +
	"0d00001490cb80913ebb696e086381b5ec427b1f" +
	"0d0000144048b7d56ebce88525e7de7f00d6c2d3" +
	"0d000014fb1de3cdf341b7ea16b7e5be0855f120" +
	"0d00001426244d38eddb61b3172a36e3d0cfb819" +
	"00000014e3a5966a76379fe707228231e5ce8652"

func TestWindows10MainMode1(t *testing.T) {
	raw := unhex(t, windows10MM1)
	m, err := Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	if got := m.Summary(); got != "MM (SA, VID, VID, VID, VID, VID, VID, VID, VID)" {
		t.Errorf("summary %q", got)
	}
	sa, _ := Find[*SA](m.Payloads)
	if len(sa.Proposals) != 1 || len(sa.Proposals[0].Transforms) != 5 {
		t.Fatalf("SA %+v", sa)
	}
	want := []Phase1{
		{Encryption: EncAES, KeyLength: 256, Hash: HashSHA1, Group: GroupECP384, Auth: AuthPSK, LifeSeconds: 28800},
		{Encryption: EncAES, KeyLength: 128, Hash: HashSHA1, Group: GroupECP256, Auth: AuthPSK, LifeSeconds: 28800},
		{Encryption: EncAES, KeyLength: 256, Hash: HashSHA1, Group: GroupMODP2048, Auth: AuthPSK, LifeSeconds: 28800},
		{Encryption: Enc3DES, Hash: HashSHA1, Group: GroupMODP2048, Auth: AuthPSK, LifeSeconds: 28800},
		{Encryption: Enc3DES, Hash: HashSHA1, Group: GroupMODP1024, Auth: AuthPSK, LifeSeconds: 28800},
	}
	for i := range sa.Proposals[0].Transforms {
		tf := &sa.Proposals[0].Transforms[i]
		got, err := Phase1Attributes(tf)
		if err != nil {
			t.Fatal(err)
		}
		w := want[i]
		if got.Encryption != w.Encryption || got.KeyLength != w.KeyLength || got.Hash != w.Hash || got.Group != w.Group ||
			got.Auth != w.Auth || got.LifeSeconds != w.LifeSeconds || got.Other != nil {
			t.Errorf("transform %d: %+v, want %+v", i+1, got, w)
		}
		// Windows sends the lifetime as a 4-byte TLV; it must survive.
		if a, _ := tf.Attr(uint16(OakleyLifeDuration)); a.Basic || len(a.Data) != 4 {
			t.Errorf("transform %d: life duration %+v", i+1, a)
		}
	}
	wantVIDs := []VendorID{VendorMSKeyMods, VendorMSNT5, VendorRFC3947, VendorNATTDraft02N, VendorFragmentation,
		VendorMSNegotiationDiscovery, VendorMSInitialContact, VendorMSCGA}
	vids := FindAll[*VendorIDPayload](m.Payloads)
	for i, v := range vids {
		if v.Kind() != wantVIDs[i] {
			t.Errorf("vendor ID %d: %v, want %v", i+1, v.Kind(), wantVIDs[i])
		}
	}
	if v := VendorIDVersion(vids[1].Data); !bytes.Equal(v, []byte{0, 0, 0, 9}) {
		t.Errorf("MS NT5 version %x", v)
	}
	out, err := m.Marshal()
	if err != nil || !bytes.Equal(out, raw) {
		t.Errorf("re-marshal differs: %v", err)
	}
}

// TestWindowsQuickMode builds the Quick Mode 1 body a Windows client behind
// NAT sends (draft NAT-T numbering: UDP-encapsulated transport 61444, two
// NAT-OA payloads numbered 131) and the RFC 3947 variant, and decodes them.
func TestWindowsQuickMode(t *testing.T) {
	for _, draft := range []bool{true, false} {
		encap := EncapUDPTransport
		if draft {
			encap = EncapUDPTransportDraft
		}
		p2 := func(id ESPTransformID, keyLen uint16) Transform {
			v := Phase2{Encapsulation: encap, Auth: AuthAlgHMACSHA1, KeyLength: keyLen, LifeSeconds: 3600, LifeKilobytes: 250000}
			return Transform{ID: uint8(id), Attributes: v.Attributes()}
		}
		sa := &SA{DOI: DOIIPsec, Situation: SituationIdentityOnly}
		for i, tf := range []Transform{p2(ESPAESCBC, 256), p2(ESPAESCBC, 128), p2(ESP3DES, 0)} {
			tf.Number = 1
			sa.Proposals = append(sa.Proposals, Proposal{Number: uint8(i + 1), Protocol: ProtoESP, SPI: []byte{0x4a, 0, 0, byte(i)}, Transforms: []Transform{tf}})
		}
		client := mustAddr("192.168.1.10")
		server := mustAddr("203.0.113.5")
		ps := []Payload{
			&Hash{Data: make([]byte, 20)}, sa, &Nonce{Data: make([]byte, 32)},
			NewIDAddr(client, 17, 1701), NewIDAddr(server, 17, 1701),
			NewNATOA(client, draft), NewNATOA(mustAddr("198.51.100.7"), draft),
		}
		body, first, err := MarshalBody(ps)
		if err != nil {
			t.Fatal(err)
		}
		h := Header{Exchange: ExchangeQuickMode, Flags: FlagEncryption, NextPayload: first, MessageID: 0x01020304}
		b, err := ParseBody(first, append(body, make([]byte, 8)...))
		if err != nil {
			t.Fatal(err)
		}
		if got := Summary(&h, b.Payloads); got != "QM *(HASH, SA, NON, ID, ID, NATOA, NATOA)" {
			t.Errorf("summary %q", got)
		}
		gotSA, _ := Find[*SA](b.Payloads)
		if g := gotSA.ProposalGroups(); len(g) != 3 {
			t.Errorf("%d proposal groups, want 3", len(g))
		}
		v, err := Phase2Attributes(&gotSA.Proposals[0].Transforms[0])
		if err != nil {
			t.Fatal(err)
		}
		if v.Encapsulation != encap || !v.Encapsulation.IsTransport() || !v.Encapsulation.IsUDPEncapsulated() ||
			v.Auth != AuthAlgHMACSHA1 || v.KeyLength != 256 || v.LifeSeconds != 3600 || v.LifeKilobytes != 250000 {
			t.Errorf("draft=%v: phase 2 %+v", draft, v)
		}
		// 250000 KB does not fit 16 bits: it must have gone out as a TLV.
		var lifeTLV bool
		for _, a := range gotSA.Proposals[0].Transforms[0].Attributes {
			if a.Type == uint16(IPsecSALifeDuration) && !a.Basic {
				lifeTLV = true
			}
		}
		if !lifeTLV {
			t.Error("250000 KB lifetime was not sent as a TLV")
		}
		ids := FindAll[*ID](b.Payloads)
		if a, _ := ids[0].Addr(); a != client || ids[0].ProtocolID != 17 || ids[0].Port != 1701 {
			t.Errorf("IDci %+v", ids[0])
		}
		oas := FindAll[*NATOA](b.Payloads)
		if len(oas) != 2 || oas[0].Draft != draft {
			t.Fatalf("NAT-OA %+v", oas)
		}
		if a, _ := oas[1].Addr(); a != mustAddr("198.51.100.7") {
			t.Errorf("NAT-OA 2: %v", a)
		}
	}
}

// TestClientVendorIDs classifies the vendor ID sets of the clients in
// CLIENTS.md, including suffixed and bare forms.
func TestClientVendorIDs(t *testing.T) {
	cases := []struct {
		hex  string
		want VendorID
	}{
		{"4a131c81070358455c5728f20e95452f", VendorRFC3947},
		{"7d9419a65310ca6f2c179d9215529d56", VendorNATTDraft03},
		{"cd60464335df21f87cfdb2fc68b6a448", VendorNATTDraft02},
		{"90cb80913ebb696e086381b5ec427b1f", VendorNATTDraft02N},
		{"4485152d18b6bbcd0be8a8469579ddcc", VendorNATTDraft00},
		{"afcad71368a1f1c96b8696fc77570100", VendorDPD},
		{"4048b7d56ebce88525e7de7f00d6c2d3", VendorFragmentation},         // Windows, iOS
		{"4048b7d56ebce88525e7de7f00d6c2d380000000", VendorFragmentation}, // strongSwan
		{"1e2b516905991c7d7c96fcbfb587e46100000008", VendorMSNT5},
		{"1e2b516905991c7d7c96fcbfb587e46100000009", VendorMSNT5},
		{"26244d38eddb61b3172a36e3d0cfb819", VendorMSInitialContact},
		{"fb1de3cdf341b7ea16b7e5be0855f120", VendorMSNegotiationDiscovery},
		{"e3a5966a76379fe707228231e5ce8652", VendorMSCGA},
		{"01528bbbc00696121849ab9a1c5b2a5100000002", VendorMSKeyMods},
		{"12f5f28c457168a9702d9fe274cc0100", VendorCiscoUnity},
		{"09002689dfd6b712", VendorXAUTH},
		{"882fe56d6fd20dbc2251613b2ebe5beb", VendorStrongSwan},
		{hexs([]byte("OE-Libreswan-4.10")), VendorLibreswan},
		{hexs([]byte("OSW{UGAoLgKd")), VendorOpenswan},
		{"4a131c81070358455c5728f20e9545", VendorUnknown},               // truncated
		{"4a131c81070358455c5728f20e95452f00", VendorUnknown},           // RFC 3947 takes no suffix
		{"4048b7d56ebce88525e7de7f00d6c2d3800000000000", VendorUnknown}, // too long a suffix
		{"", VendorUnknown},
	}
	for _, c := range cases {
		if got := ClassifyVendorID(unhex(t, c.hex)); got != c.want {
			t.Errorf("%s: %v, want %v", c.hex, got, c.want)
		}
	}
	for v := VendorRFC3947; v < vendorCount; v++ {
		if b := v.Bytes(); b != nil && ClassifyVendorID(b) != v {
			t.Errorf("%v.Bytes() classifies as %v", v, ClassifyVendorID(b))
		}
		if v.String() == "" {
			t.Errorf("vendor %d has no name", v)
		}
	}
	if !bytes.Equal(VendorDPD.Bytes(), unhex(t, "afcad71368a1f1c96b8696fc77570100")) {
		t.Error("DPD vendor ID bytes")
	}
}

// TestOtherClientProposals decodes offers shaped like macOS/iOS, Android
// and strongSwan (NetworkManager-l2tp) main mode proposals.
func TestOtherClientProposals(t *testing.T) {
	type suite struct {
		enc  EncryptionAlgorithm
		klen uint16
		hash HashAlgorithm
		grp  GroupDescription
	}
	clients := map[string][]suite{
		"macOS":      {{EncAES, 256, HashSHA2256, GroupMODP2048}, {EncAES, 128, HashSHA2256, GroupMODP2048}, {EncAES, 256, HashSHA1, GroupMODP1536}, {Enc3DES, 0, HashSHA1, GroupMODP1024}, {Enc3DES, 0, HashMD5, GroupMODP1024}},
		"Android":    {{EncAES, 256, HashSHA2256, GroupMODP1024}, {EncAES, 256, HashSHA2384, GroupMODP1024}, {EncAES, 128, HashSHA1, GroupMODP1024}},
		"strongSwan": {{EncAES, 256, HashSHA2256, GroupMODP2048}, {EncAES, 256, HashSHA1, GroupECP384}, {EncAES, 128, HashSHA1, GroupECP256}, {Enc3DES, 0, HashSHA1, GroupMODP1024}},
	}
	for name, suites := range clients {
		p := Proposal{Number: 1, Protocol: ProtoISAKMP}
		for i, s := range suites {
			v := Phase1{Encryption: s.enc, KeyLength: s.klen, Hash: s.hash, Auth: AuthPSK, Group: s.grp, LifeSeconds: 28800}
			p.Transforms = append(p.Transforms, Transform{Number: uint8(i + 1), ID: uint8(KeyIKE), Attributes: v.Attributes()})
		}
		m := &Message{Header: Header{InitiatorCookie: Cookie{9}, Exchange: ExchangeMainMode}}
		m.Payloads = []Payload{
			&SA{DOI: DOIIPsec, Situation: SituationIdentityOnly, Proposals: []Proposal{p}},
			&VendorIDPayload{Data: VendorRFC3947.Bytes()}, &VendorIDPayload{Data: VendorDPD.Bytes()},
			&VendorIDPayload{Data: append(VendorFragmentation.Bytes(), 0x80, 0, 0, 0)},
		}
		raw, err := m.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		got, err := Parse(raw)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		sa, _ := Find[*SA](got.Payloads)
		for i, s := range suites {
			v, err := Phase1Attributes(&sa.Proposals[0].Transforms[i])
			if err != nil || v.Encryption != s.enc || v.KeyLength != s.klen || v.Hash != s.hash || v.Group != s.grp || v.LifeSeconds != 28800 {
				t.Errorf("%s transform %d: %+v %v", name, i+1, v, err)
			}
		}
		for i, want := range []VendorID{VendorRFC3947, VendorDPD, VendorFragmentation} {
			if k := FindAll[*VendorIDPayload](got.Payloads)[i].Kind(); k != want {
				t.Errorf("%s VID %d: %v", name, i, k)
			}
		}
	}
}

func TestPhase1AttributeErrors(t *testing.T) {
	cases := map[string][]Attribute{
		"duplicate":          {BasicAttr(OakleyEncryption, 7), BasicAttr(OakleyEncryption, 5)},
		"duration only":      {NumAttr(OakleyLifeDuration, 100)},
		"type only":          {BasicAttr(OakleyLifeType, 1)},
		"two types":          {BasicAttr(OakleyLifeType, 1), BasicAttr(OakleyLifeType, 2), NumAttr(OakleyLifeDuration, 1)},
		"bad life type":      {BasicAttr(OakleyLifeType, 9), NumAttr(OakleyLifeDuration, 1)},
		"enc not a number":   {VarAttr(OakleyEncryption, []byte{1, 0, 0, 0, 0, 0, 0, 0, 0})},
		"enc out of range":   {NumAttrTLV(OakleyEncryption, 0x10000)},
		"empty TLV duration": {BasicAttr(OakleyLifeType, 1), VarAttr(OakleyLifeDuration, nil)},
	}
	for name, attrs := range cases {
		if _, err := Phase1Attributes(&Transform{ID: 1, Attributes: attrs}); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	// Both lifetimes together are fine.
	v, err := Phase1Attributes(&Transform{Attributes: []Attribute{
		BasicAttr(OakleyLifeType, 1), NumAttrTLV(OakleyLifeDuration, 3600),
		BasicAttr(OakleyLifeType, 2), NumAttr(OakleyLifeDuration, 1000000),
	}})
	if err != nil || v.LifeSeconds != 3600 || v.LifeKilobytes != 1000000 {
		t.Errorf("two lifetimes: %+v %v", v, err)
	}
}

// TestNATDigest checks HASH(CKY-I | CKY-R | IP | Port) input layout with an
// identity "hash" that records what was written.
func TestNATDigest(t *testing.T) {
	ap := mustAddrPort("203.0.113.9:4500")
	got := NATDigest(newRecorder, Cookie{1, 2, 3, 4, 5, 6, 7, 8}, Cookie{9, 10, 11, 12, 13, 14, 15, 16}, ap)
	want := []byte{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 203, 0, 113, 9}
	want = binary.BigEndian.AppendUint16(want, 4500)
	if !bytes.Equal(got, want) {
		t.Errorf("NAT-D input %x, want %x", got, want)
	}
	if !NATDMatches([]*NATD{{Hash: []byte{1}}, {Hash: want}}, want) || NATDMatches([]*NATD{{Hash: []byte{1}}}, want) {
		t.Error("NATDMatches")
	}
}
