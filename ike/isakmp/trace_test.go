package isakmp

import (
	"bytes"
	"strings"
	"testing"
)

func TestSummary(t *testing.T) {
	cases := []struct {
		h    Header
		ps   []Payload
		want string
	}{
		{Header{Exchange: ExchangeMainMode}, []Payload{&SA{}}, "MM (SA)"},
		{Header{Exchange: ExchangeMainMode}, []Payload{&KE{}, &Nonce{}, &NATD{}, &NATD{Draft: true}}, "MM (KE, NON, NATD, NATD)"},
		{Header{Exchange: ExchangeMainMode, Flags: FlagEncryption}, []Payload{&ID{}, &Hash{}}, "MM *(ID, HASH)"},
		{Header{Exchange: ExchangeQuickMode, Flags: FlagEncryption}, []Payload{&Hash{}, &SA{}, &Nonce{}, &ID{}, &ID{}}, "QM *(HASH, SA, NON, ID, ID)"},
		{Header{Exchange: ExchangeInformational, Flags: FlagEncryption}, []Payload{&Hash{}, &Notify{NotifyType: NotifyRUThere}}, "INFO *(HASH, NOTIFY:R-U-THERE)"},
		{Header{Exchange: ExchangeInformational, Flags: FlagEncryption}, []Payload{&Hash{}, &Delete{}}, "INFO *(HASH, DEL)"},
		{Header{Exchange: ExchangeTransaction, Flags: FlagEncryption}, []Payload{&Hash{}, &ModeCfg{}}, "TRANS *(HASH, ATTR)"},
		{Header{Exchange: ExchangeAggressive}, []Payload{&SA{}, &KE{}, &Nonce{}, &ID{}, &Unknown{PayloadType: 200}}, "AM (SA, KE, NON, ID, UNKNOWN:200)"},
		{Header{Exchange: ExchangeMainMode}, []Payload{&Fragment{}}, "MM (FRAG)"},
		{Header{Exchange: 99}, nil, "XCHG(99) ()"},
	}
	for _, c := range cases {
		if got := Summary(&c.h, c.ps); got != c.want {
			t.Errorf("got %q, want %q", got, c.want)
		}
	}
}

func TestDumpNamesAndNoSecrets(t *testing.T) {
	m, err := Parse(unhex(t, windows10MM1))
	if err != nil {
		t.Fatal(err)
	}
	d := m.Dump()
	for _, want := range []string{
		"MM (SA, VID", "080fd6f205d3879d:0000000000000000",
		"proposal #1 ISAKMP transforms=5", "transform #1 KEY_IKE: Encryption Algorithm=AES-CBC, Key Length=256, Hash Algorithm=SHA, Group Description=ECP384, Authentication Method=Pre-Shared Key, Life Type=seconds, Life Duration=28800",
		"Group Description=MODP1024", "VID MS NT5 ISAKMPOAKLEY 1e2b5169", "VID FRAGMENTATION", "VID RFC 3947",
	} {
		if !strings.Contains(d, want) {
			t.Errorf("dump lacks %q:\n%s", want, d)
		}
	}
	ke := bytes.Repeat([]byte{0x5a}, 128)
	nonce := bytes.Repeat([]byte{0xa5}, 32)
	h := Header{Exchange: ExchangeQuickMode, Flags: FlagEncryption}
	sa := &SA{DOI: DOIIPsec, Situation: SituationIdentityOnly, Proposals: []Proposal{{Number: 1, Protocol: ProtoESP, SPI: []byte{0xde, 0xad, 0xbe, 0xef},
		Transforms: []Transform{{Number: 1, ID: uint8(ESPAESCBC), Attributes: Phase2{Encapsulation: EncapUDPTransportDraft, Auth: AuthAlgHMACSHA2256, KeyLength: 256}.Attributes()}}}}}
	d = Dump(&h, []Payload{&Hash{Data: nonce[:20]}, sa, &Nonce{Data: nonce}, &KE{Data: ke},
		NewIDAddr(mustAddr("192.168.1.10"), 17, 1701), NewIDSubnet(mustPrefix("10.0.0.0/8"), 0, 0),
		NewNATOA(mustAddr("192.168.1.10"), true), &Delete{Protocol: ProtoESP, SPISize: 4, SPIs: [][]byte{{1, 2, 3, 4}}},
		&Notify{NotifyType: NotifyInitialContact, Protocol: ProtoISAKMP, SPI: make([]byte, 16)},
		&ModeCfg{CfgType: CfgReply, Attributes: []Attribute{VarAttr(XAuthUserPassword, []byte("hunter2"))}},
		&Fragment{ID: 3, Number: 2, Flags: FragLast, Data: []byte{1}},
		&Cert{Encoding: CertX509Signature, Data: []byte{0x30}}, &CertReq{Encoding: CertX509Signature}, &Sig{Data: ke},
		&NATD{Hash: nonce[:20]}, &VendorIDPayload{Data: []byte{1}}, &Unknown{PayloadType: 77},
	})
	for _, want := range []string{
		"proposal #1 ESP spi=0xdeadbeef", "transform #1 AES-CBC:", "Encapsulation Mode=UDP-Encapsulated-Transport(draft)",
		"Authentication Algorithm=HMAC-SHA2-256", "KE len=128 5a5a5a5a5a5a5a5a…", "NONCE len=32 a5a5a5a5a5a5a5a5…",
		"ID ID_IPV4_ADDR 192.168.1.10 proto=17 port=1701", "ID ID_IPV4_ADDR_SUBNET 10.0.0.0/8",
		"NAT-OA(draft) ID_IPV4_ADDR 192.168.1.10", "D doi=ISAKMP proto=ESP spis=01020304", "N INITIAL-CONTACT",
		"ATTR ISAKMP_CFG_REPLY id=0: XAUTH-USER-PASSWORD", "FRAG id=3 number=2 last=true len=1", "PayloadType(77)",
	} {
		if !strings.Contains(d, want) {
			t.Errorf("dump lacks %q:\n%s", want, d)
		}
	}
	if strings.Contains(d, strings.Repeat("5a", 9)) || strings.Contains(d, strings.Repeat("a5", 9)) {
		t.Errorf("dump shows more than 8 bytes of key exchange or nonce data:\n%s", d)
	}
	if strings.Contains(d, "hunter2") || strings.Contains(d, "68756e74657232") {
		t.Errorf("dump shows an XAUTH password:\n%s", d)
	}
}

// TestStrings checks that every typed constant has a name and unknown
// values print their number.
func TestStrings(t *testing.T) {
	named := []interface{ String() string }{
		ExchangeQuickMode, PayloadNATOADraft, FlagEncryption | FlagCommit, DOIIPsec, SituationIdentityOnly, ProtoESP,
		KeyIKE, ESPAESGCM16, AHSHA2256, IPCompDeflate, OakleyGroupOrder, EncAES, HashSHA2512, AuthXAUTHRespRSARevisedEnc,
		GroupCurve25519, GroupTypeECP, LifeKilobytes, IPsecKeyRounds, EncapUDPTunnelDraft, AuthAlgHMACSHA2512,
		NotifyRUThereAck, IDKeyID, CertCRL, CfgAck, XAuthStatus, VendorOpenswan, UDP4500ESP,
	}
	for _, v := range named {
		if s := v.String(); s == "" || strings.Contains(s, "(") && !strings.Contains(s, "draft") {
			t.Errorf("%T %v has no proper name: %q", v, v, s)
		}
	}
	unknown := map[string]string{
		ExchangeType(77).String():     "ExchangeType(77)",
		PayloadType(250).String():     "PayloadType(250)",
		NotifyType(9999).String():     "NotifyType(9999)",
		ESPTransformID(17).String():   "ESPTransformID(17)",
		GroupDescription(99).String(): "Group(99)",
		VendorID(200).String():        "VendorID(200)",
		Flags(0x18).String():          "0x18",
		Flags(0).String():             "none",
	}
	for got, want := range unknown {
		if got != want {
			t.Errorf("got %q, want %q", got, want)
		}
	}
	if !NotifyInvalidSPI.IsError() || NotifyInitialContact.IsError() {
		t.Error("IsError")
	}
}

func TestUDP4500(t *testing.T) {
	ike := append([]byte{0, 0, 0, 0}, make([]byte, HeaderLen)...)
	cases := []struct {
		b    []byte
		want UDP4500Kind
	}{
		{[]byte{0xff}, UDP4500Keepalive},
		{ike, UDP4500IKE},
		{ike[:20], UDP4500Invalid},
		{[]byte{0xde, 0xad, 0xbe, 0xef, 0, 0, 0, 1, 9, 9}, UDP4500ESP},
		{[]byte{0xde, 0xad}, UDP4500Invalid},
		{nil, UDP4500Invalid},
		{[]byte{0xfe}, UDP4500Invalid},
	}
	for _, c := range cases {
		if got := ClassifyUDP4500(c.b); got != c.want {
			t.Errorf("%x: %v, want %v", c.b, got, c.want)
		}
	}
	if b, ok := StripNonESPMarker(ike); !ok || len(b) != HeaderLen {
		t.Error("StripNonESPMarker")
	}
	if _, ok := StripNonESPMarker([]byte{0, 0, 0, 1, 5}); ok {
		t.Error("stripped a marker from ESP")
	}
	if got := AppendNonESPMarker([]byte{}); !bytes.Equal(got, []byte{0, 0, 0, 0}) {
		t.Error("AppendNonESPMarker")
	}
	if IsNATKeepalive([]byte{0xff, 0}) || !IsNATKeepalive([]byte{0xff}) {
		t.Error("IsNATKeepalive")
	}
}
