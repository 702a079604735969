package isakmp

import (
	"bufio"
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net/netip"
	"os"
	"reflect"
	"regexp"
	"strings"
	"testing"

	"github.com/l2tpsecd/l2tpsecd/internal/testutil"
)

// udpDatagram is one UDP datagram read from a capture.
type udpDatagram struct {
	src, dst netip.AddrPort
	payload  []byte
}

// readPcapUDP is a minimal reader for classic little- or big-endian pcap
// files with Ethernet framing, returning IPv4/UDP datagrams. A truncated
// final record ends the list (the ferozbaig96 capture is cut short).
func readPcapUDP(t testing.TB, path string) []udpDatagram {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(raw) < 24 {
		t.Fatalf("%s: no pcap header", path)
	}
	var bo binary.ByteOrder
	switch binary.LittleEndian.Uint32(raw) {
	case 0xa1b2c3d4:
		bo = binary.LittleEndian
	case 0xd4c3b2a1:
		bo = binary.BigEndian
	default:
		t.Fatalf("%s: not a classic pcap file", path)
	}
	if lt := bo.Uint32(raw[20:]); lt != 1 {
		t.Fatalf("%s: link type %d, want Ethernet", path, lt)
	}
	var out []udpDatagram
	for off := 24; off+16 <= len(raw); {
		incl := int(bo.Uint32(raw[off+8:]))
		off += 16
		if off+incl > len(raw) {
			break
		}
		frame := raw[off : off+incl]
		off += incl
		if len(frame) < 14+20 || binary.BigEndian.Uint16(frame[12:]) != 0x0800 {
			continue
		}
		ip := frame[14:]
		ihl := int(ip[0]&0x0f) * 4
		total := int(binary.BigEndian.Uint16(ip[2:]))
		if ip[9] != 17 || len(ip) < total || total < ihl+8 {
			continue
		}
		udp := ip[ihl:total]
		src := netip.AddrPortFrom(netip.AddrFrom4([4]byte(ip[12:16])), binary.BigEndian.Uint16(udp[0:]))
		dst := netip.AddrPortFrom(netip.AddrFrom4([4]byte(ip[16:20])), binary.BigEndian.Uint16(udp[2:]))
		out = append(out, udpDatagram{src: src, dst: dst, payload: udp[8:]})
	}
	return out
}

// ikeMessagesFromCapture returns the UDP/500 payloads of the Openswan capture.
func ikeMessagesFromCapture(t testing.TB) [][]byte {
	t.Helper()
	var msgs [][]byte
	for _, d := range readPcapUDP(t, testutil.SharedTestdata(t, "ferozbaig96__isakmp.pcap")) {
		if d.src.Port() == PortIKE || d.dst.Port() == PortIKE {
			msgs = append(msgs, d.payload)
		}
	}
	return msgs
}

// openswanTrace holds the values of ikev1_mainmode_psk_openswan_real_trace.json
// that this package can check, by their keys in that file (some keys hold
// commas, which struct tags cannot express).
type openswanTrace map[string]any

func (tr openswanTrace) get(t testing.TB, key string) string {
	t.Helper()
	s, ok := tr[key].(string)
	if !ok {
		t.Fatalf("trace has no string %q", key)
	}
	return s
}

func loadTrace(t testing.TB) openswanTrace {
	t.Helper()
	raw, err := os.ReadFile(testutil.SharedTestdata(t, "ikev1_mainmode_psk_openswan_real_trace.json"))
	if err != nil {
		t.Fatal(err)
	}
	var tr openswanTrace
	if err := json.Unmarshal(raw, &tr); err != nil {
		t.Fatal(err)
	}
	return tr
}

func unhex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		t.Fatalf("bad hex %q: %v", s, err)
	}
	return b
}

func payloadTypes(ps []Payload) []PayloadType {
	out := make([]PayloadType, len(ps))
	for i, p := range ps {
		out[i] = p.Type()
	}
	return out
}

func equalTypes(a, b []PayloadType) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// TestCaptureOpenswan decodes every IKE packet of the real Openswan 2.6.43
// Main Mode + Quick Mode capture and checks it against pluto's own log and
// the values extracted from it.
func TestCaptureOpenswan(t *testing.T) {
	msgs := ikeMessagesFromCapture(t)
	tr := loadTrace(t)
	if len(msgs) != 9 {
		t.Fatalf("capture has %d IKE datagrams, want 9 (MM1-6, QM1-3)", len(msgs))
	}
	type want struct {
		exchange  ExchangeType
		encrypted bool
		msgID     uint32
		types     []PayloadType // cleartext only
		summary   string
	}
	wants := []want{
		{ExchangeMainMode, false, 0, []PayloadType{PayloadSA, PayloadVendorID, PayloadVendorID}, "MM (SA, VID, VID)"},
		{ExchangeMainMode, false, 0, []PayloadType{PayloadSA, PayloadVendorID}, "MM (SA, VID)"},
		{ExchangeMainMode, false, 0, []PayloadType{PayloadKE, PayloadNonce}, "MM (KE, NON)"},
		{ExchangeMainMode, false, 0, []PayloadType{PayloadKE, PayloadNonce}, "MM (KE, NON)"},
		{ExchangeMainMode, true, 0, nil, "MM *()"},
		{ExchangeMainMode, true, 0, nil, "MM *()"},
		{ExchangeQuickMode, true, 0x4872aa0f, nil, "QM *()"},
		{ExchangeQuickMode, true, 0x4872aa0f, nil, "QM *()"},
		{ExchangeQuickMode, true, 0x4872aa0f, nil, "QM *()"},
	}
	icky, rcky := unhex(t, tr.get(t, "CKY_I")), unhex(t, tr.get(t, "CKY_R"))
	var parsed []*Message
	for i, raw := range msgs {
		w := wants[i]
		m, err := Parse(raw)
		if w.encrypted {
			if !errors.Is(err, ErrEncrypted) || m == nil {
				t.Fatalf("message %d: got %v, want ErrEncrypted with the header", i+1, err)
			}
		} else if err != nil {
			t.Fatalf("message %d: %v", i+1, err)
		}
		if !bytes.Equal(m.InitiatorCookie[:], icky) {
			t.Errorf("message %d: initiator cookie %x, want %x", i+1, m.InitiatorCookie, icky)
		}
		if i > 0 && !bytes.Equal(m.ResponderCookie[:], rcky) {
			t.Errorf("message %d: responder cookie %x, want %x", i+1, m.ResponderCookie, rcky)
		}
		if m.Exchange != w.exchange || m.Encrypted() != w.encrypted || m.MessageID != w.msgID || int(m.Length) != len(raw) {
			t.Errorf("message %d: header %+v", i+1, m.Header)
		}
		if !w.encrypted && !equalTypes(payloadTypes(m.Payloads), w.types) {
			t.Errorf("message %d: payloads %v, want %v", i+1, payloadTypes(m.Payloads), w.types)
		}
		if got := m.Summary(); got != w.summary {
			t.Errorf("message %d: summary %q, want %q", i+1, got, w.summary)
		}
		if !w.encrypted {
			out, err := m.Marshal()
			if err != nil || !bytes.Equal(out, raw) {
				t.Errorf("message %d: re-marshal differs (%v)\n got %x\nwant %x", i+1, err, out, raw)
			}
		}
		parsed = append(parsed, m)
	}
	if m := parsed[0]; m.ResponderCookie != (Cookie{}) {
		t.Errorf("MM1 responder cookie %x, want zero", m.ResponderCookie)
	}

	// MM1: the SA body is SAi_b; the proposal is pluto's
	// AES-128/SHA1/PSK/MODP1024/28800 s; vendor IDs are Openswan and DPD.
	mm1 := parsed[0]
	if !bytes.Equal(mm1.Raw[0], unhex(t, tr.get(t, "SAi_b(from MM1 frame 2)"))) {
		t.Errorf("MM1 SA raw body %x, want SAi_b %x", mm1.Raw[0], tr.get(t, "SAi_b(from MM1 frame 2)"))
	}
	sa, ok := Find[*SA](mm1.Payloads)
	if !ok || len(sa.Proposals) != 1 || sa.Proposals[0].Protocol != ProtoISAKMP || len(sa.Proposals[0].Transforms) != 1 {
		t.Fatalf("MM1 SA %+v", sa)
	}
	tf := &sa.Proposals[0].Transforms[0]
	if IKETransformID(tf.ID) != KeyIKE {
		t.Errorf("transform ID %d", tf.ID)
	}
	p1, err := Phase1Attributes(tf)
	if err != nil {
		t.Fatal(err)
	}
	wantP1 := Phase1{Encryption: EncAES, KeyLength: 128, Hash: HashSHA1, Auth: AuthPSK, Group: GroupMODP1024, LifeSeconds: 28800}
	if p1.Encryption != wantP1.Encryption || p1.KeyLength != wantP1.KeyLength || p1.Hash != wantP1.Hash ||
		p1.Auth != wantP1.Auth || p1.Group != wantP1.Group || p1.LifeSeconds != wantP1.LifeSeconds || len(p1.Other) != 0 {
		t.Errorf("MM1 phase 1 %+v, want %+v", p1, wantP1)
	}
	vids := FindAll[*VendorIDPayload](mm1.Payloads)
	if vids[0].Kind() != VendorOpenswan || string(vids[0].Data) != "OSW{UGAoLgKd" || vids[1].Kind() != VendorDPD {
		t.Errorf("MM1 vendor IDs %v %v", vids[0].Kind(), vids[1].Kind())
	}
	if k, _ := Find[*VendorIDPayload](parsed[1].Payloads); k.Kind() != VendorDPD {
		t.Errorf("MM2 vendor ID %v, want DPD", k.Kind())
	}

	// MM3/MM4: KE and nonce values as in the trace.
	checkData := func(m *Message, gx, n string) {
		t.Helper()
		ke, _ := Find[*KE](m.Payloads)
		no, _ := Find[*Nonce](m.Payloads)
		if ke == nil || no == nil || !bytes.Equal(ke.Data, unhex(t, gx)) || !bytes.Equal(no.Data, unhex(t, n)) {
			t.Errorf("KE/nonce of %s differ from the trace", m.Summary())
		}
	}
	checkData(parsed[2], tr.get(t, "g^xi"), tr.get(t, "Ni_b"))
	checkData(parsed[3], tr.get(t, "g^xr"), tr.get(t, "Nr_b"))

	// MM5 decrypts, with the trace's key and IV, to ID + HASH_I + padding.
	key := unhex(t, tr.get(t, "enc_key(AES-128)=SKEYID_e[0:16]"))
	h5, ct5, err := ParseHeader(msgs[4])
	if err != nil {
		t.Fatal(err)
	}
	pt5 := cbcDecrypt(t, key, unhex(t, tr.get(t, "IV_phase1=SHA1(g^xi|g^xr)[0:16]")), ct5)
	if !bytes.Equal(pt5, unhex(t, tr.get(t, "MM5_plaintext(decrypted, incl padding)"))) {
		t.Fatalf("MM5 decrypts to %x, want %x", pt5, tr.get(t, "MM5_plaintext(decrypted, incl padding)"))
	}
	b5, err := ParseBody(h5.NextPayload, pt5)
	if err != nil {
		t.Fatal(err)
	}
	if got := Summary(&h5, b5.Payloads); got != "MM *(ID, HASH)" {
		t.Errorf("MM5 summary %q", got)
	}
	if !bytes.Equal(b5.Raw[0], unhex(t, tr.get(t, "IDii_b"))) || b5.Len != 36 {
		t.Errorf("MM5 IDii_b %x len %d", b5.Raw[0], b5.Len)
	}
	id, _ := Find[*ID](b5.Payloads)
	if a, err := id.Addr(); err != nil || a != netip.MustParseAddr("54.165.11.182") {
		t.Errorf("MM5 ID %v %v", a, err)
	}
	if hsh, _ := Find[*Hash](b5.Payloads); !bytes.Equal(hsh.Data, unhex(t, tr.get(t, "HASH_I"))) {
		t.Errorf("MM5 HASH_I %x", hsh.Data)
	}

	// QM1 decrypts with the phase-2 IV to the body pluto logged.
	h7, ct7, err := ParseHeader(msgs[6])
	if err != nil {
		t.Fatal(err)
	}
	if h7.MessageID != binary.BigEndian.Uint32(unhex(t, tr.get(t, "QM_message_id"))) {
		t.Errorf("QM message ID %08x", h7.MessageID)
	}
	pt7 := cbcDecrypt(t, key, unhex(t, tr.get(t, "Phase2_IV=SHA1(last_MM6_cipher_block|M-ID)[0:16]")), ct7)
	b7, err := ParseBody(h7.NextPayload, pt7)
	if err != nil {
		t.Fatal(err)
	}
	if got := Summary(&h7, b7.Payloads); got != "QM *(HASH, SA, NON, KE, ID, ID)" {
		t.Errorf("QM1 summary %q", got)
	}
	if b7.Len != 264 {
		t.Errorf("QM1 chain length %d, pluto says 264 unpadded", b7.Len)
	}
}

func cbcDecrypt(t testing.TB, key, iv, ct []byte) []byte {
	t.Helper()
	blk, err := aes.NewCipher(key)
	if err != nil {
		t.Fatal(err)
	}
	if len(ct)%16 != 0 {
		t.Fatalf("ciphertext of %d bytes", len(ct))
	}
	pt := make([]byte, len(ct))
	cipher.NewCBCDecrypter(blk, iv).CryptBlocks(pt, ct)
	return pt
}

// logBlocks returns the hex dumps that follow "encrypting:" and
// "decrypted:" lines in pluto's debug log: the plaintext bodies of the
// encrypted messages.
func logBlocks(t testing.TB) [][]byte {
	t.Helper()
	f, err := os.Open(testutil.SharedTestdata(t, "ferozbaig96__isakmp.log"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	hexLine := regexp.MustCompile(`^\|\s+((?:[0-9a-f]{2}\s*)+)$`)
	var blocks [][]byte
	var cur []byte
	in := false
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasSuffix(line, "| encrypting:") || strings.HasSuffix(line, "| decrypted:") {
			in, cur = true, nil
			continue
		}
		if !in {
			continue
		}
		if m := hexLine.FindStringSubmatch(line); m != nil {
			cur = append(cur, unhex(t, strings.Join(strings.Fields(m[1]), ""))...)
			continue
		}
		blocks = append(blocks, cur)
		in = false
	}
	return blocks
}

// TestCaptureLogBodies parses the decrypted bodies from pluto's log: both
// identification messages, the three Quick Mode messages and the two
// Informational deletes, checking the fields pluto printed.
func TestCaptureLogBodies(t *testing.T) {
	blocks := logBlocks(t)
	cases := []struct {
		first PayloadType
		types []PayloadType
	}{
		{PayloadID, []PayloadType{PayloadID, PayloadHash}},                                                  // MM5 sent
		{PayloadID, []PayloadType{PayloadID, PayloadHash}},                                                  // MM6 received
		{PayloadHash, []PayloadType{PayloadHash, PayloadSA, PayloadNonce, PayloadKE, PayloadID, PayloadID}}, // QM1
		{PayloadHash, []PayloadType{PayloadHash, PayloadSA, PayloadNonce, PayloadKE, PayloadID, PayloadID}}, // QM2
		{PayloadHash, []PayloadType{PayloadHash}},                                                           // QM3
		{PayloadHash, []PayloadType{PayloadHash, PayloadDelete}},                                            // delete ESP
		{PayloadHash, []PayloadType{PayloadHash, PayloadDelete}},                                            // delete ISAKMP
	}
	if len(blocks) != len(cases) {
		t.Fatalf("log has %d plaintext dumps, want %d", len(blocks), len(cases))
	}
	var bodies []*Body
	for i, c := range cases {
		b, err := ParseBody(c.first, blocks[i])
		if err != nil {
			t.Fatalf("dump %d: %v", i+1, err)
		}
		if !equalTypes(payloadTypes(b.Payloads), c.types) {
			t.Errorf("dump %d: %v, want %v", i+1, payloadTypes(b.Payloads), c.types)
		}
		// Re-marshalling reproduces the chain byte for byte (padding aside).
		out, first, err := MarshalBody(b.Payloads)
		if err != nil || first != c.first || !bytes.Equal(out, blocks[i][:b.Len]) {
			t.Errorf("dump %d: re-marshal differs: %v", i+1, err)
		}
		bodies = append(bodies, b)
	}
	// QM1 (ours) offers ESP AES-128/HMAC-SHA1, tunnel, PFS MODP1024, 3600 s,
	// SPI 7e996750, between 10.0.0.0/16 and 172.31.0.0/16.
	for i, spi := range []string{"7e996750", "dee4d1d8"} {
		b := bodies[2+i]
		sa, _ := Find[*SA](b.Payloads)
		pr := sa.Proposals[0]
		if pr.Protocol != ProtoESP || hex.EncodeToString(pr.SPI) != spi || ESPTransformID(pr.Transforms[0].ID) != ESPAESCBC {
			t.Errorf("QM%d proposal %+v", i+1, pr)
		}
		p2, err := Phase2Attributes(&pr.Transforms[0])
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(p2, Phase2{Encapsulation: EncapTunnel, Auth: AuthAlgHMACSHA1, KeyLength: 128, Group: GroupMODP1024, LifeSeconds: 3600}) {
			t.Errorf("QM%d phase 2 %+v", i+1, p2)
		}
		ids := FindAll[*ID](b.Payloads)
		for j, want := range []string{"10.0.0.0/16", "172.31.0.0/16"} {
			if p, err := ids[j].Subnet(); err != nil || p.String() != want || ids[j].ProtocolID != 0 || ids[j].Port != 0 {
				t.Errorf("QM%d ID %d: %v %v", i+1, j, p, err)
			}
		}
	}
	d, _ := Find[*Delete](bodies[5].Payloads)
	if d.Protocol != ProtoESP || d.SPISize != 4 || len(d.SPIs) != 1 || hex.EncodeToString(d.SPIs[0]) != "7e996750" {
		t.Errorf("ESP delete %+v", d)
	}
	d, _ = Find[*Delete](bodies[6].Payloads)
	if d.Protocol != ProtoISAKMP || d.SPISize != 16 || hex.EncodeToString(d.SPIs[0]) != "82b65d315015ab45b093d9e160b095f2" {
		t.Errorf("ISAKMP delete %+v", d)
	}
	if bodies[1].Len != 36 {
		t.Errorf("MM6 chain ends at %d, want 36 (12 bytes of padding follow)", bodies[1].Len)
	}
}
