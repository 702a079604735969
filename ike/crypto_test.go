package ike

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"math/big"
	"net/netip"
	"os"
	"testing"

	"github.com/l2tpsecd/l2tpsecd/internal/testutil"
)

func unhex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatalf("bad hex %q: %v", s, err)
	}
	return b
}

// openswanTrace holds the values of a real Openswan 2.6.43 Main Mode (PSK,
// AES-128/SHA1/MODP1024) + Quick Mode (ESP AES-128/HMAC-SHA1, PFS MODP1024),
// transcribed from ferozbaig96/pcaps isakmp.log (pluto plutodebug=all). The
// PSK is not in the log, so the test starts after SKEYID.
var openswanTrace = struct {
	ckyI, ckyR, ni, nr, xi, gxi, gxr, gxy                                 string
	skeyid, skeyidD, skeyidA, skeyidE, iv1, sai, idii, hashI, idir, hashR string
	mm5, mm5Plain, mm6, mm6Plain                                          string
	qmMsgID                                                               uint32
	iv2, qm1, qm1Plain, hash1, qm2, qm2Plain, hash2, hash3                string
	qmNi, qmNr, qmXi, qmGxi, qmGxr, qmGxy                                 string
	spiIn, spiOut                                                         uint32
	keymatIn, keymatOut                                                   string
}{
	ckyI:     "82b65d315015ab45",
	ckyR:     "b093d9e160b095f2",
	ni:       "1272cab4b2266dc71abe8cc65988477a",
	nr:       "3ee29d0970895041bdd6387f48398c1f",
	xi:       "4e6f6f910760fc6f4a27ae3e99f4dbbc0028f5986f417378127a231e65c66603",
	gxi:      "42b78549e1bafdb778f93188d1a5a1aa5b64321d2447cf383ce4468b11100cab626ca4f2a8de84046160a2f566bbc67800242add6b380b61ca9745467f3754ec0c9ec03a3bbdb99aae7cf789b386ac1f4866e6f95e0eb2ee1655e651799b814e87dde07a9e7a777ac483447274c1058b3a34609cea07e5f9124237cdfec011b3",
	gxr:      "f6ea36cd3a789b7860e4ab7d76a0b9da33c9205a3356482a830b75965181a5238029cf76aa78e1f2de958b60f6925d64e9bca20356b4f6696c32777ccc1975822271c08c803203f9a65d8e89854ae65cefcacc17536eea99ccb85257d53b1baa984b75932222bd1b3ae6b5c4eaea5d5f0075d67ab0a79fc183854c18460ee187",
	gxy:      "ea265c6e02c3d2a0d8df29174c6f0dac345d19e808b694cf6c1b912357f347a5d622412e8032016cfc9e7a1e21fec25659f7689f621af33302761f19e8ec5292fc6c7c802908b0055ca6a23d104ac20be2e7abca4866ed4742f5bda8b650a988efcdd5ee9900455d7ff33e30a31f27dce0cc4b7b2a57f458000c2f63668a4f84",
	skeyid:   "1c2601394a75f6105aa4dc78f347d99c7789c574",
	skeyidD:  "b37ae6ff8e6ae4581a1f7694acc65316ed47245c",
	skeyidA:  "6d402c790ea0c0660b95a1cf2ed9f28dd2969f60",
	skeyidE:  "03cb3effcc6f12dd51ba0778537bbdfd0658c9ed",
	iv1:      "3aef7fabfb0d55794819bd27b48971a2",
	sai:      "00000001000000010000002c000100010000002400010000800b0001800c708080010007800200028003000180040002800e0080",
	idii:     "0100000036a50bb6",
	hashI:    "a21d61115d8fc2302d5957eccc6a801f4fbc8154",
	idir:     "01000000cfaba7ea",
	hashR:    "8ff458db7d1124f08c5e32dbd925de1c696d21eb",
	mm5:      "82b65d315015ab45b093d9e160b095f205100201000000000000004ce10140d947fc679f9b0b46342ba9108adf928e993cf237585b8b863fc91783fd940bcf18c8eddca4a33888a588905932",
	mm5Plain: "0800000c0100000036a50bb600000018a21d61115d8fc2302d5957eccc6a801f4fbc8154000000000000000000000000",
	mm6:      "82b65d315015ab45b093d9e160b095f205100201000000000000004c54cb584720f342414f900c0413afb5fa88320bcd91243d567d85ff1d713243cf9fe0dadd187335ac68be40025b927ac3",
	mm6Plain: "0800000c01000000cfaba7ea000000188ff458db7d1124f08c5e32dbd925de1c696d21eb000000000000000000000000",
	qmMsgID:  0x4872aa0f,
	iv2:      "fcfe532cab4bb23d3e284d46f3e425c6",
	qm1:      "82b65d315015ab45b093d9e160b095f2081020014872aa0f0000012ce43d3c7b06d8a00a8f3e3163c5357f8dca5e472cde5c2a24b887c5c97467a48307b5a9ad226ad22ef229cf6aabf39426e1679eb8e19414630e5e814b4973d4f8fb9b3d80bc406fdee00d7a7528c0db8e4face6f55ab155b510006b7476a7b35b505c0ceeb5ec424177a2514f6294e43c2e60b479c9673ef9d2b401271b1690e64243f3e6b83013c6a7f1b66a24dae132db0a64b6a67304fc98cb4b8d7f338433af8bb56dff019f1f7af93765fc8d48addcc558cf29c1031a338028119c75964c14e31a0387844bee63a2b3d835920973b9ad8dfdf3ec644833bc485d42659bb4bf1e946974a4aa34259f6986d65c109076b1f0d51f7c58a49f5f6002d98ad16060f14239a78d3fb8c19241ec1a7f5aa9",
	qm1Plain: "010000182fac28584aac269c034ce53b73a60679a04c9e380a00003800000001000000010000002c000304017e99675000000020000c000080030002800400018001000180020e10800500028006008004000014ccb596a5273823187165917d588e488105000084a2323285d022c7c29f9d47c9e1d3e7c117036bb4ee97f859b6d45f40a87a4df02b5e389140a26529ed88dc4586b91ca473ca2e8830d9956b064704c16856d5cd298a0c394dfd9b59c991a1dd966ff6790f0756c3e7dcbf2dc25ab823ac429be38458b7339aeb747396129be637369cefd6ff7889e77c4db96a5ab9d86072b9ac05000010040000000a000000ffff00000000001004000000ac1f0000ffff0000",
	hash1:    "2fac28584aac269c034ce53b73a60679a04c9e38",
	qm2:      "82b65d315015ab45b093d9e160b095f2081020014872aa0f0000012c4fc3ed8bb934fc80a4c40478e0157276bf1888bb217792d1620a39ec7cd5e65d8063e83ec966311199d52b9a7397edd515373b0f776f12a02bd2f65bcc303d0448619baa3cb7b6cf73d055f59921c7989846ebd5e99098a55f543df5e89c74ff1ac8aa0d016daf5d5dca9ffafe90840fec4165b747cf33e34b334ab617710f6cebf0c0c4a16daeb77c3a70416b0fd6a7b3b7c342bbb8fdbbf654eb8d99a5b9e776b169db65a21766419545100ffb8839e965480fc1eaee31dc96c8e1b3dd23efbbb152721392e1135bbe746ab0f92747dd3b4930e51aa124cca5eff34cf0db2f86af1ec51996acae8f8cbf864cfacd4e73966786bb95f529d3e57008a731a7c154d5505fb6f9d9fd7614d3c37df6c68e",
	qm2Plain: "0100001847de9b7a51e55a956c4b9d61b8cb1e0d4dd4c71c0a00003800000001000000010000002c00030401dee4d1d800000020000c000080030002800400018001000180020e1080050002800600800400001476ddfa5b3e73e2fc3da17f9f4353be4005000084a1775fa555738bc81eaedef8e97ab25827d274c584a27403f19b9b154af636df189a74740a3847dbc869f716743077f92fcc7904bea5b7672cf8e5fc7ecaf6ab4338153b4287cbeeaf7ba4c9a9ab4548f394439e9f08968b7d7f244aff9d742430dabc54a579695542c3633176bfadf4f62685b44548e3d496ddeceebbe5caad05000010040000000a000000ffff00000000001004000000ac1f0000ffff00000000000000000000",
	hash2:    "47de9b7a51e55a956c4b9d61b8cb1e0d4dd4c71c",
	hash3:    "d8559edfcc1925bbcfc12f4e3d5316839ca80124",
	qmNi:     "ccb596a5273823187165917d588e4881",
	qmNr:     "76ddfa5b3e73e2fc3da17f9f4353be40",
	qmXi:     "edccba3043844cc6d543ec73b6e61a72f7e550bd1c6201eb1f344282b665cde1",
	qmGxi:    "a2323285d022c7c29f9d47c9e1d3e7c117036bb4ee97f859b6d45f40a87a4df02b5e389140a26529ed88dc4586b91ca473ca2e8830d9956b064704c16856d5cd298a0c394dfd9b59c991a1dd966ff6790f0756c3e7dcbf2dc25ab823ac429be38458b7339aeb747396129be637369cefd6ff7889e77c4db96a5ab9d86072b9ac",
	qmGxr:    "a1775fa555738bc81eaedef8e97ab25827d274c584a27403f19b9b154af636df189a74740a3847dbc869f716743077f92fcc7904bea5b7672cf8e5fc7ecaf6ab4338153b4287cbeeaf7ba4c9a9ab4548f394439e9f08968b7d7f244aff9d742430dabc54a579695542c3633176bfadf4f62685b44548e3d496ddeceebbe5caad",
	qmGxy:    "1e11bb84f5bc882dcf24f54bf62c9fe9b4cf6ba4a3f482ff9730d2445f34458a5f87e40fc388ce149585225f0d4579037cc8ed71d32d2b3bdd39fd43d8cdd52c1beba913d176e68ad609affd62c56f5e429966e5fe36067f8631bf41a44a11820f5cf0bd31396b2b9c0509a1a49b59dfd978b4e077475ab3da251d91eefca5e6",
	spiIn:    0x7e996750, // chosen by the initiator (Openswan): its inbound
	spiOut:   0xdee4d1d8,
	// KEYMAT for each SPI: AES-128 key (16) then HMAC-SHA1 key (20).
	keymatIn:  "c5f755c8b4089f37158dcff77bc4123259049755e3e4f03747ee82b6029a01be9d6f0f39",
	keymatOut: "479449b867b94d941b835573cab720b16a84f34bd8bd6890a33e8145bbca70df9a43c40e",
}

func TestOpenswanMainModeKnownAnswers(t *testing.T) {
	tr := openswanTrace
	h := func(s string) []byte { return unhex(t, s) }

	// DH (RFC 2409 section 6.2 group 2): the initiator's exponent from the
	// log reproduces g^xi and, with the responder's g^xr, g^xy.
	k, err := dhKeyFromPrivate(GroupMODP1024, h(tr.xi))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(k.Public(), h(tr.gxi)) {
		t.Errorf("g^xi = %x", k.Public())
	}
	gxy, err := k.Shared(h(tr.gxr))
	if err != nil || !bytes.Equal(gxy, h(tr.gxy)) {
		t.Fatalf("g^xy = %x, %v", gxy, err)
	}

	keys, err := DerivePhase1(HashSHA1, CipherAESCBC, 16, h(tr.skeyid), gxy, h(tr.ckyI), h(tr.ckyR), h(tr.gxi), h(tr.gxr))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name      string
		got, want []byte
	}{
		{"SKEYID_d", keys.D, h(tr.skeyidD)},
		{"SKEYID_a", keys.A, h(tr.skeyidA)},
		{"SKEYID_e", keys.E, h(tr.skeyidE)},
		{"enc key", keys.EncKey, h(tr.skeyidE)[:16]},
		{"phase-1 IV", keys.IV, h(tr.iv1)},
		{"HASH_I", HashI(HashSHA1, keys.SKEYID, h(tr.gxi), h(tr.gxr), h(tr.ckyI), h(tr.ckyR), h(tr.sai), h(tr.idii)), h(tr.hashI)},
		{"HASH_R", HashR(HashSHA1, keys.SKEYID, h(tr.gxi), h(tr.gxr), h(tr.ckyI), h(tr.ckyR), h(tr.sai), h(tr.idir)), h(tr.hashR)},
	} {
		if !bytes.Equal(c.got, c.want) {
			t.Errorf("%s = %x, want %x", c.name, c.got, c.want)
		}
	}

	// IV chaining: message 5 is encrypted with the phase-1 IV, message 6
	// with the last block of message 5, and the last block of message 6 is
	// the "last phase-1 IV" from which Quick Mode's IV is derived.
	mm5, mm6 := h(tr.mm5), h(tr.mm6)
	ct, next, err := encryptCBC(CipherAESCBC, keys.EncKey, keys.IV, h(tr.mm5Plain)[:36])
	if err != nil || !bytes.Equal(ct, mm5[28:]) {
		t.Fatalf("message 5 encrypts to %x, %v; want %x", ct, err, mm5[28:])
	}
	plain, next, err := decryptCBC(CipherAESCBC, keys.EncKey, next, mm6[28:])
	if err != nil || !bytes.Equal(plain, h(tr.mm6Plain)) {
		t.Fatalf("message 6 decrypts to %x, %v", plain, err)
	}
	if got := Phase2IV(HashSHA1, next, tr.qmMsgID, 16); !bytes.Equal(got, h(tr.iv2)) {
		t.Errorf("phase-2 IV = %x, want %x", got, tr.iv2)
	}
}

func TestOpenswanQuickModeKnownAnswers(t *testing.T) {
	tr := openswanTrace
	h := func(s string) []byte { return unhex(t, s) }
	skeyidA, skeyidD := h(tr.skeyidA), h(tr.skeyidD)
	encKey := h(tr.skeyidE)[:16]

	// Message 1: encrypted with the phase-2 IV; HASH(1) covers every
	// payload after the HASH payload (the 24-byte HASH payload comes first).
	qm1, qm1Plain := h(tr.qm1), h(tr.qm1Plain)
	ct, next, err := encryptCBC(CipherAESCBC, encKey, h(tr.iv2), qm1Plain)
	if err != nil || !bytes.Equal(ct, qm1[28:]) {
		t.Fatalf("QM1 encrypts to %x, %v", ct, err)
	}
	if got := QMHash1(HashSHA1, skeyidA, tr.qmMsgID, qm1Plain[24:]); !bytes.Equal(got, h(tr.hash1)) {
		t.Errorf("HASH(1) = %x", got)
	}
	// Message 2 chains on from message 1's last block; its HASH(2) covers
	// Ni_b then the payloads after HASH (the zero padding excluded).
	qm2Plain := h(tr.qm2Plain)
	plain, _, err := decryptCBC(CipherAESCBC, encKey, next, h(tr.qm2)[28:])
	if err != nil || !bytes.Equal(plain, qm2Plain) {
		t.Fatalf("QM2 decrypts to %x, %v", plain, err)
	}
	if got := QMHash2(HashSHA1, skeyidA, tr.qmMsgID, h(tr.qmNi), qm2Plain[24:len(qm2Plain)-8]); !bytes.Equal(got, h(tr.hash2)) {
		t.Errorf("HASH(2) = %x", got)
	}
	if got := QMHash3(HashSHA1, skeyidA, tr.qmMsgID, h(tr.qmNi), h(tr.qmNr)); !bytes.Equal(got, h(tr.hash3)) {
		t.Errorf("HASH(3) = %x", got)
	}
	// PFS: the initiator's QM exponent from the log.
	k, err := dhKeyFromPrivate(GroupMODP1024, h(tr.qmXi))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(k.Public(), h(tr.qmGxi)) {
		t.Errorf("QM g^xi = %x", k.Public())
	}
	gqm, err := k.Shared(h(tr.qmGxr))
	if err != nil || !bytes.Equal(gqm, h(tr.qmGxy)) {
		t.Fatalf("QM g^xy = %x, %v", gqm, err)
	}
	// KEYMAT, ESP (protocol 3), 16 + 20 bytes per direction.
	if got := Keymat(HashSHA1, skeyidD, gqm, 3, tr.spiIn, h(tr.qmNi), h(tr.qmNr), 36); !bytes.Equal(got, h(tr.keymatIn)) {
		t.Errorf("KEYMAT(in) = %x", got)
	}
	if got := Keymat(HashSHA1, skeyidD, gqm, 3, tr.spiOut, h(tr.qmNi), h(tr.qmNr), 36); !bytes.Equal(got, h(tr.keymatOut)) {
		t.Errorf("KEYMAT(out) = %x", got)
	}
}

// The JSON trace in ../shared/testdata carries the same values; check the
// transcription above against it when it is there.
func TestOpenswanTraceTranscription(t *testing.T) {
	p := testutil.SharedTestdata(t, "ikev1_mainmode_psk_openswan_real_trace.json")
	raw, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	var j map[string]any
	if err := json.Unmarshal(raw, &j); err != nil {
		t.Fatal(err)
	}
	tr := openswanTrace
	for k, want := range map[string]string{
		"CKY_I": tr.ckyI, "CKY_R": tr.ckyR, "Ni_b": tr.ni, "Nr_b": tr.nr, "g^xi": tr.gxi, "g^xr": tr.gxr,
		"g^xy": tr.gxy, "SKEYID": tr.skeyid, "SKEYID_d": tr.skeyidD, "SKEYID_a": tr.skeyidA, "SKEYID_e": tr.skeyidE,
		"IDii_b": tr.idii, "HASH_I": tr.hashI, "IDir_b": tr.idir, "HASH_R": tr.hashR,
		"SAi_b(from MM1 frame 2)": tr.sai, "MM5_plaintext(decrypted, incl padding)": tr.mm5Plain,
		"Phase2_IV=SHA1(last_MM6_cipher_block|M-ID)[0:16]": tr.iv2, "IV_phase1=SHA1(g^xi|g^xr)[0:16]": tr.iv1,
	} {
		if got, _ := j[k].(string); got != want {
			t.Errorf("%s: JSON has %q, test table has %q", k, got, want)
		}
	}
}

// RFC 5903 section 8: ECP known answers; the IKE KE data is x|y and the
// shared secret is the x-coordinate only.
func TestECPRFC5903(t *testing.T) {
	for _, c := range []struct {
		g                           Group
		i, gix, giy, r, grx, gry, z string
	}{
		{GroupECP256,
			"c88f01f510d9ac3f70a292daa2316de544e9aab8afe84049c62a9c57862d1433",
			"dad0b65394221cf9b051e1feca5787d098dfe637fc90b9ef945d0c3772581180",
			"5271a0461cdb8252d61f1c456fa3e59ab1f45b33accf5f58389e0577b8990bb3",
			"c6ef9c5d78ae012a011164acb397ce2088685d8f06bf9be0b283ab46476bee53",
			"d12dfb5289c8d4f81208b70270398c342296970a0bccb74c736fc7554494bf63",
			"56fbf3ca366cc23e8157854c13c58d6aac23f046ada30f8353e74f33039872ab",
			"d6840f6b42f6edafd13116e0e12565202fef8e9ece7dce03812464d04b9442de"},
		{GroupECP384,
			"099f3c7034d4a2c699884d73a375a67f7624ef7c6b3c0f160647b67414dce655e35b538041e649ee3faef896783ab194",
			"667842d7d180ac2cde6f74f37551f55755c7645c20ef73e31634fe72b4c55ee6de3ac808acb4bdb4c88732aee95f41aa",
			"9482ed1fc0eeb9cafc4984625ccfc23f65032149e0e144ada024181535a0f38eeb9fcff3c2c947dae69b4c634573a81c",
			"41cb0779b4bdb85d47846725fbec3c9430fab46cc8dc5060855cc9bda0aa2942e0308312916b8ed2960e4bd55a7448fc",
			"e558dbef53eecde3d3fccfc1aea08a89a987475d12fd950d83cfa41732bc509d0d1ac43a0336def96fda41d0774a3571",
			"dcfbec7aacf3196472169e838430367f66eebe3c6e70c416dd5f0c68759dd1fff83fa40142209dff5eaad96db9e6386c",
			"11187331c279962d93d604243fd592cb9d0a926f422e47187521287e7156c5c4d603135569b9e9d09cf5d4a270f59746"},
		{GroupECP521,
			"0037ade9319a89f4dabdb3ef411aaccca5123c61acab57b5393dce47608172a095aa85a30fe1c2952c6771d937ba9777f5957b2639bab072462f68c27a57382d4a52",
			"0015417e84dbf28c0ad3c278713349dc7df153c897a1891bd98bab4357c9ecbee1e3bf42e00b8e380aeae57c2d107564941885942af5a7f4601723c4195d176ced3e",
			"017cae20b6641d2eeb695786d8c946146239d099e18e1d5a514c739d7cb4a10ad8a788015ac405d7799dc75e7b7d5b6cf2261a6a7f1507438bf01beb6ca3926f9582",
			"0145ba99a847af43793fdd0e872e7cdfa16be30fdc780f97bccc3f078380201e9c677d600b343757a3bdbf2a3163e4c2f869cca7458aa4a4effc311f5cb151685eb9",
			"00d0b3975ac4b799f5bea16d5e13e9af971d5e9b984c9f39728b5e5739735a219b97c356436adc6e95bb0352f6be64a6c2912d4ef2d0433ced2b6171640012d9460f",
			"015c68226383956e3bd066e797b623c27ce0eac2f551a10c2c724d9852077b87220b6536c5c408a1d2aebb8e86d678ae49cb57091f4732296579ab44fcd17f0fc56a",
			"01144c7d79ae6956bc8edb8e7c787c4521cb086fa64407f97894e5e6b2d79b04d1427e73ca4baa240a34786859810c06b3c715a3a8cc3151f2bee417996d19f3ddea"},
	} {
		t.Run(c.g.String(), func(t *testing.T) {
			ki, err := dhKeyFromPrivate(c.g, unhex(t, c.i))
			if err != nil {
				t.Fatal(err)
			}
			kr, err := dhKeyFromPrivate(c.g, unhex(t, c.r))
			if err != nil {
				t.Fatal(err)
			}
			if want := unhex(t, c.gix+c.giy); !bytes.Equal(ki.Public(), want) || len(want) != c.g.PublicSize() {
				t.Errorf("g^i = %x", ki.Public())
			}
			if want := unhex(t, c.grx+c.gry); !bytes.Equal(kr.Public(), want) {
				t.Errorf("g^r = %x", kr.Public())
			}
			for _, s := range []struct {
				k    *DHKey
				peer []byte
			}{{ki, kr.Public()}, {kr, ki.Public()}} {
				z, err := s.k.Shared(s.peer)
				if err != nil || !bytes.Equal(z, unhex(t, c.z)) {
					t.Errorf("g^ir = %x, %v; want x-coordinate %s", z, err, c.z)
				}
			}
			bad := append([]byte(nil), kr.Public()...)
			bad[len(bad)-1] ^= 1
			if _, err := ki.Shared(bad); err == nil {
				t.Error("a point off the curve was accepted")
			}
		})
	}
}

// Every MODP prime is a safe prime with 64 one bits at each end (RFC 3526
// section 1), so a transcription slip fails here.
func TestMODPPrimes(t *testing.T) {
	bits := map[Group]int{GroupMODP768: 768, GroupMODP1024: 1024, GroupMODP1536: 1536, GroupMODP2048: 2048, GroupMODP3072: 3072, GroupMODP4096: 4096}
	for g, n := range bits {
		p := modpGroups[g].p
		if p.BitLen() != n || g.PublicSize() != n/8 {
			t.Errorf("%v: %d bits", g, p.BitLen())
		}
		ones := new(big.Int).Sub(new(big.Int).Lsh(big.NewInt(1), 64), big.NewInt(1))
		if new(big.Int).And(p, ones).Cmp(ones) != 0 || new(big.Int).Rsh(p, uint(n-64)).Cmp(ones) != 0 {
			t.Errorf("%v: not 64 ones at both ends", g)
		}
		q := new(big.Int).Rsh(p, 1)
		if !p.ProbablyPrime(8) || !q.ProbablyPrime(8) {
			t.Errorf("%v: not a safe prime", g)
		}
	}
}

func TestMODPRoundTripAndBounds(t *testing.T) {
	for _, g := range []Group{GroupMODP768, GroupMODP1024, GroupMODP1536, GroupMODP2048, GroupMODP3072, GroupMODP4096, GroupECP256, GroupECP384, GroupECP521} {
		a, err := GenerateDH(g, nil)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := GenerateDH(g, nil)
		s1, err1 := a.Shared(b.Public())
		s2, err2 := b.Shared(a.Public())
		if err1 != nil || err2 != nil || !bytes.Equal(s1, s2) {
			t.Errorf("%v: shared secrets differ (%v, %v)", g, err1, err2)
		}
		if len(a.Public()) != g.PublicSize() {
			t.Errorf("%v: public value %d bytes", g, len(a.Public()))
		}
		if _, err := a.Shared(b.Public()[1:]); err == nil {
			t.Errorf("%v: short public value accepted", g)
		}
		if !g.IsECP() {
			one := make([]byte, g.PublicSize())
			one[len(one)-1] = 1
			if _, err := a.Shared(one); err == nil {
				t.Errorf("%v: public value 1 accepted", g)
			}
			if _, err := a.Shared(modpGroups[g].p.FillBytes(make([]byte, g.PublicSize()))); err == nil {
				t.Errorf("%v: public value p accepted", g)
			}
		}
	}
}

func TestHMACVectors(t *testing.T) {
	p := testutil.SharedTestdata(t, "hmac_rfc2202_rfc4231.json")
	raw, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	var f struct {
		Cases []struct {
			Alg, Key, Data, Mac string
			Case                int
		}
	}
	if err := json.Unmarshal(raw, &f); err != nil {
		t.Fatal(err)
	}
	algs := map[string]HashAlg{"HMAC-MD5": HashMD5, "HMAC-SHA1": HashSHA1, "HMAC-SHA256": HashSHA256, "HMAC-SHA384": HashSHA384, "HMAC-SHA512": HashSHA512}
	n := 0
	for _, c := range f.Cases {
		h, ok := algs[c.Alg]
		if !ok {
			continue
		}
		n++
		got := h.PRF(unhex(t, c.Key), unhex(t, c.Data))
		if want := unhex(t, c.Mac); !bytes.Equal(got[:len(want)], want) {
			t.Errorf("%s case %d = %x", c.Alg, c.Case, got)
		}
	}
	if n < 20 {
		t.Errorf("only %d HMAC cases ran", n)
	}
}

// RFC 2409 Appendix B: a key longer than SKEYID_e is K1|K2|... with
// K1 = prf(SKEYID_e, 0), Kn = prf(SKEYID_e, Kn-1).
func TestExpandEncKey(t *testing.T) {
	e := bytes.Repeat([]byte{7}, 16) // MD5-sized SKEYID_e
	got := ExpandEncKey(HashMD5, e, 24)
	k1 := HashMD5.PRF(e, []byte{0})
	k2 := HashMD5.PRF(e, k1)
	if want := append(append([]byte(nil), k1...), k2...)[:24]; !bytes.Equal(got, want) {
		t.Errorf("expanded = %x, want %x", got, want)
	}
	if got := ExpandEncKey(HashSHA1, bytes.Repeat([]byte{1}, 20), 16); !bytes.Equal(got, bytes.Repeat([]byte{1}, 16)) {
		t.Errorf("truncated = %x", got)
	}
}

func TestNATDHash(t *testing.T) {
	ci, cr := []byte{1, 2, 3, 4, 5, 6, 7, 8}, []byte{9, 10, 11, 12, 13, 14, 15, 16}
	ap := netip.MustParseAddrPort("198.51.100.7:4500")
	want := HashSHA1.Sum(ci, cr, []byte{198, 51, 100, 7}, []byte{0x11, 0x94})
	if got := NATDHash(HashSHA1, ci, cr, ap); !bytes.Equal(got, want) {
		t.Errorf("NAT-D = %x, want %x", got, want)
	}
	mapped := netip.AddrPortFrom(netip.AddrFrom16(ap.Addr().As16()), 4500)
	if got := NATDHash(HashSHA1, ci, cr, mapped); !bytes.Equal(got, want) {
		t.Error("an IPv4-mapped address hashes differently from the IPv4 one")
	}
}
