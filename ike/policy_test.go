package ike

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/l2tpsecd/l2tpsecd/ike/isakmp"
)

func p1(c CipherAlg, bits int, h HashAlg, g Group) Phase1Suite {
	return Phase1Suite{Cipher: c, KeyBits: bits, Hash: h, Group: g, Auth: isakmp.AuthPSK}
}

var psk = []isakmp.AuthMethod{isakmp.AuthPSK}

func TestSelectPhase1Preference(t *testing.T) {
	// Windows 10/11 order (CLIENTS.md): ECP384, ECP256, then MODP.
	offers := []Phase1Offer{
		{TransformNum: 1, Suite: p1(CipherAESCBC, 256, HashSHA1, GroupMODP2048), Lifetime: 28800 * time.Second},
		{TransformNum: 2, Suite: p1(CipherAESCBC, 128, HashSHA1, GroupECP256), Lifetime: 28800 * time.Second},
		{TransformNum: 3, Suite: p1(CipherAESCBC, 256, HashSHA1, GroupECP384), Lifetime: 28800 * time.Second},
		{TransformNum: 4, Suite: p1(Cipher3DES, 0, HashSHA1, GroupMODP1024)},
	}
	c, f := Policy{}.SelectPhase1(offers, psk)
	if f != nil {
		t.Fatal(f)
	}
	if c.Offer.TransformNum != 3 {
		t.Errorf("chose %v, want AES256-SHA1-ECP384", c.Offer.Suite)
	}
	if c.Lifetime != 8*time.Hour {
		t.Errorf("lifetime %v", c.Lifetime)
	}
	c, _ = Policy{MaxPhase1Lifetime: time.Hour}.SelectPhase1(offers, psk)
	if c.Lifetime != time.Hour {
		t.Errorf("capped lifetime %v", c.Lifetime)
	}
}

func TestSelectPhase1Levels(t *testing.T) {
	old := []Phase1Offer{
		{TransformNum: 1, Suite: p1(Cipher3DES, 0, HashSHA1, GroupMODP1024)},
		{TransformNum: 2, Suite: p1(CipherAESCBC, 256, HashSHA1, GroupMODP1024)},
	}
	_, f := Policy{Level: LevelModern}.SelectPhase1(old, psk)
	if f == nil {
		t.Fatal("compat proposals accepted under modern")
	}
	if f.Reason != ReasonNoProposalChosen || !errors.Is(f, ErrNoProposalChosen) {
		t.Errorf("reason %v", f.Reason)
	}
	want := "offered: 3DES-SHA1-MODP1024, AES256-SHA1-MODP1024; policy modern"
	if !strings.Contains(f.Error(), want) {
		t.Errorf("error %q does not contain %q", f.Error(), want)
	}
	c, f := Policy{Level: LevelCompat}.SelectPhase1(old, psk)
	if f != nil || c.Offer.TransformNum != 2 {
		t.Errorf("compat chose %v, %v; want AES256-SHA1-MODP1024", c.Offer.Suite, f)
	}
	des := []Phase1Offer{{Suite: p1(CipherDES, 0, HashMD5, GroupMODP768)}}
	if _, f := (Policy{Level: LevelCompat}).SelectPhase1(des, psk); f == nil {
		t.Error("DES accepted under compat")
	}
	if _, f := (Policy{Level: LevelInsecure}).SelectPhase1(des, psk); f != nil {
		t.Errorf("DES refused under insecure: %v", f)
	}
	rsa := []Phase1Offer{{Suite: Phase1Suite{Cipher: CipherAESCBC, KeyBits: 128, Hash: HashSHA1, Group: GroupMODP2048, Auth: isakmp.AuthRSASig}}}
	if _, f := (Policy{}).SelectPhase1(rsa, psk); f == nil {
		t.Error("RSA signature accepted without certificate support")
	}
}

func TestDecodePhase1Transform(t *testing.T) {
	attrs := []isakmp.Attribute{
		isakmp.BasicAttr(isakmp.OakleyEncryption, 7),
		isakmp.BasicAttr(isakmp.OakleyKeyLength, 256),
		isakmp.BasicAttr(isakmp.OakleyHash, 2),
		isakmp.BasicAttr(isakmp.OakleyAuthMethod, 1),
		isakmp.BasicAttr(isakmp.OakleyGroup, 20),
		isakmp.BasicAttr(isakmp.OakleyLifeType, 1),
		isakmp.NumAttrTLV(isakmp.OakleyLifeDuration, 28800), // Windows sends a 4-byte TLV
	}
	o := decodePhase1Transform(1, attrs)
	if o.Problem != "" || o.Suite != p1(CipherAESCBC, 256, HashSHA1, GroupECP384) || o.Lifetime != 8*time.Hour {
		t.Errorf("decoded %+v", o)
	}
	bad := append([]isakmp.Attribute(nil), attrs...)
	bad[1] = isakmp.BasicAttr(isakmp.OakleyKeyLength, 100)
	if o := decodePhase1Transform(1, bad); o.Problem == "" {
		t.Error("AES key length 100 accepted")
	}
	rt := decodePhase1Transform(1, encodePhase1Transform(o.Suite, time.Hour))
	if rt.Suite != o.Suite || rt.Lifetime != time.Hour {
		t.Errorf("round trip %+v", rt)
	}
}

func p2(tr isakmp.ESPTransformID, bits int, a isakmp.AuthAlgorithm, enc isakmp.EncapsulationMode) Phase2Suite {
	return Phase2Suite{Transform: tr, KeyBits: bits, Auth: a, Encap: enc}
}

func TestSelectPhase2(t *testing.T) {
	win := []Phase2Offer{
		{ProposalNum: 1, Suite: p2(isakmp.ESPAESCBC, 256, isakmp.AuthAlgHMACSHA1, isakmp.EncapUDPTransportDraft), LifeSeconds: 3600},
		{ProposalNum: 2, Suite: p2(isakmp.ESPAESCBC, 128, isakmp.AuthAlgHMACSHA1, isakmp.EncapUDPTransportDraft)},
		{ProposalNum: 3, Suite: p2(isakmp.ESP3DES, 0, isakmp.AuthAlgHMACSHA1, isakmp.EncapUDPTransportDraft)},
	}
	c, f := Policy{}.SelectPhase2(win, true)
	if f != nil || c.Offer.ProposalNum != 1 || c.LifeSeconds != 3600 || c.Capped {
		t.Fatalf("chose %+v, %v", c, f)
	}
	if _, f := (Policy{}).SelectPhase2(win, false); f == nil || !strings.Contains(f.Error(), "UDP encapsulation without NAT-T") {
		t.Errorf("UDP encapsulation accepted without NAT-T: %v", f)
	}
	c, _ = Policy{MaxPhase2Lifetime: 20 * time.Minute, MaxPhase2Kilobytes: 1000}.SelectPhase2(win, true)
	if c.LifeSeconds != 1200 || c.LifeKB != 1000 || !c.Capped {
		t.Errorf("capped %+v", c)
	}
	gcm := []Phase2Offer{
		{ProposalNum: 1, Suite: p2(isakmp.ESPAESCBC, 128, isakmp.AuthAlgHMACSHA2256, isakmp.EncapTransport)},
		{ProposalNum: 2, Suite: p2(isakmp.ESPAESGCM16, 128, 0, isakmp.EncapTransport)},
	}
	if c, f := (Policy{}).SelectPhase2(gcm, false); f != nil || c.Offer.ProposalNum != 2 {
		t.Errorf("GCM not preferred: %+v %v", c, f)
	}
	md5 := []Phase2Offer{{Suite: p2(isakmp.ESP3DES, 0, isakmp.AuthAlgHMACMD5, isakmp.EncapTransport)}}
	if _, f := (Policy{}).SelectPhase2(md5, false); f == nil {
		t.Error("3DES-MD5 accepted under modern")
	}
	if _, f := (Policy{Level: LevelCompat}).SelectPhase2(md5, false); f != nil {
		t.Errorf("3DES-MD5 refused under compat: %v", f)
	}
	tunnel := []Phase2Offer{{Suite: p2(isakmp.ESPAESCBC, 128, isakmp.AuthAlgHMACSHA1, isakmp.EncapTunnel)}}
	if _, f := (Policy{}).SelectPhase2(tunnel, false); f == nil {
		t.Error("tunnel mode accepted")
	}
}

func TestPhase2KeyLengths(t *testing.T) {
	for _, c := range []struct {
		s         Phase2Suite
		enc, auth int
		icv       int
	}{
		{p2(isakmp.ESPAESCBC, 128, isakmp.AuthAlgHMACSHA1, 0), 16, 20, 96},
		{p2(isakmp.ESPAESCBC, 256, isakmp.AuthAlgHMACSHA2256, 0), 32, 32, 128},
		{p2(isakmp.ESPAESCBC, 256, isakmp.AuthAlgHMACSHA2512, 0), 32, 64, 256},
		{p2(isakmp.ESPAESGCM16, 256, 0, 0), 36, 0, 128},
		{p2(isakmp.ESP3DES, 0, isakmp.AuthAlgHMACMD5, 0), 24, 16, 96},
	} {
		if c.s.EncKeyBytes() != c.enc || c.s.AuthKeyBytes() != c.auth || c.s.ICVBits(false) != c.icv {
			t.Errorf("%v: %d/%d/%d", c.s, c.s.EncKeyBytes(), c.s.AuthKeyBytes(), c.s.ICVBits(false))
		}
	}
	if n := p2(isakmp.ESPAESCBC, 128, isakmp.AuthAlgHMACSHA2256, 0).ICVBits(true); n != 96 {
		t.Errorf("SHA2-256 with the Android option: %d-bit ICV", n)
	}
}

func TestDecodePhase2Transform(t *testing.T) {
	s := Phase2Suite{Transform: isakmp.ESPAESGCM16, KeyBits: 256, PFS: GroupECP256, Encap: isakmp.EncapUDPTransport}
	o := decodePhase2Transform(1, 1, 0x1234, s.Transform, encodePhase2Transform(s, 100000))
	if o.Problem != "" || o.Suite != s || o.LifeSeconds != 100000 || o.SPI != 0x1234 {
		t.Errorf("round trip %+v", o)
	}
	o = decodePhase2Transform(1, 1, 1, isakmp.ESP3DES, []isakmp.Attribute{isakmp.BasicAttr(isakmp.IPsecKeyLength, 128)})
	if o.Problem == "" {
		t.Error("3DES with a key length accepted")
	}
}

func TestSuiteLists(t *testing.T) {
	m := Policy{}.Phase1Suites()
	if len(m) != 6*2*4 || m[0] != p1(CipherAESCBC, 256, HashSHA256, GroupECP521) {
		t.Errorf("modern phase 1: %d suites, first %v", len(m), m[0])
	}
	if n := len(Policy{Level: LevelCompat}.Phase1Suites()); n != 8*3*5 {
		t.Errorf("compat phase 1: %d suites", n)
	}
	if n := len(Policy{}.Phase2Suites(isakmp.EncapTransport)); n != 2+2*3 {
		t.Errorf("modern phase 2: %d suites", n)
	}
}

// A client whose algorithms are fine but whose authentication method the
// server is not set up for is told apart from a proposal mismatch.
func TestSelectPhase1AuthMethodMismatch(t *testing.T) {
	offers := []Phase1Offer{{Suite: p1(CipherAESCBC, 256, HashSHA1, GroupMODP2048)}}
	_, f := Policy{Level: LevelModern}.SelectPhase1(offers, []isakmp.AuthMethod{isakmp.AuthRSASig})
	if f == nil || f.Reason != ReasonAuthMethod || !strings.Contains(f.Detail, "pre-shared key") || !strings.Contains(f.Detail, "RSA") {
		t.Fatalf("PSK offer against a certificate-only server: %+v", f)
	}
	if f.Reason.Notify() != isakmp.NotifyNoProposalChosen {
		t.Errorf("notify %v", f.Reason.Notify())
	}
	// Algorithms refused as well: still "no proposal chosen".
	old := []Phase1Offer{{Suite: p1(Cipher3DES, 0, HashMD5, GroupMODP1024)}}
	if _, f := (Policy{Level: LevelModern}).SelectPhase1(old, []isakmp.AuthMethod{isakmp.AuthRSASig}); f == nil || f.Reason != ReasonNoProposalChosen {
		t.Fatalf("weak PSK offer: %+v", f)
	}
}
