package ppp

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"os"
	"testing"

	"github.com/l2tpsecd/l2tpsecd/internal/testutil"
)

// RFC 2759 section 9.2, transcribed.
var rfc2759Example = struct {
	user, password                                string
	authChallenge, peerChallenge                  string
	passwordHash, challenge, ntResponse, authResp string
}{
	user:          "User",
	password:      "clientPass",
	authChallenge: "5B5D7C7D7B3F2F3E3C2C602132262628",
	peerChallenge: "21402324255E262A28295F2B3A337C7E",
	passwordHash:  "44EBBA8D5312B8D611474411F56989AE",
	challenge:     "D02E4386BCE91226",
	ntResponse:    "82309ECD8D708B5EA08FAA3981CD83544233114A3D85D6DF",
	authResp:      "S=407A5589115FD0D6209F510FE9C04566932CDA56",
}

func mustHex(t *testing.T, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestMSCHAPv2RFC2759Example(t *testing.T) {
	e := rfc2759Example
	if got := NTHash(e.password); !bytes.Equal(got, mustHex(t, e.passwordHash)) {
		t.Fatalf("NTHash %X", got)
	}
	ac, pc := mustHex(t, e.authChallenge), mustHex(t, e.peerChallenge)
	nt, ar, err := MSCHAPv2Response(ac, pc, e.user, e.password)
	if err != nil || !bytes.Equal(nt, mustHex(t, e.ntResponse)) || ar != e.authResp {
		t.Fatalf("client side: %X %s %v", nt, ar, err)
	}
	got, ok := VerifyMSCHAPv2(mustHex(t, e.passwordHash), ac, pc, e.user, mustHex(t, e.ntResponse))
	if !ok || got != e.authResp {
		t.Fatalf("verify: %q %v", got, ok)
	}
	// A domain prefix is not part of the hashed name (RFC 2759 8.2).
	if got, ok := VerifyMSCHAPv2(mustHex(t, e.passwordHash), ac, pc, `EXAMPLE\User`, mustHex(t, e.ntResponse)); !ok || got != e.authResp {
		t.Fatalf("with domain: %q %v", got, ok)
	}
	// Any flipped bit fails.
	bad := mustHex(t, e.ntResponse)
	bad[5] ^= 1
	if _, ok := VerifyMSCHAPv2(mustHex(t, e.passwordHash), ac, pc, e.user, bad); ok {
		t.Fatal("accepted a corrupted NT-Response")
	}
	if _, ok := VerifyMSCHAPv2(NTHash("other"), ac, pc, e.user, mustHex(t, e.ntResponse)); ok {
		t.Fatal("accepted the wrong password")
	}
	if _, ok := VerifyMSCHAPv2(nil, ac, pc, e.user, nil); ok {
		t.Fatal("accepted empty input")
	}
}

// The same example read from the shared test data file, so a transcription
// slip above would show.
func TestMSCHAPv2SharedVector(t *testing.T) {
	path := testutil.SharedTestdata(t, "mschapv2_rfc2759_rfc3079.json")
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var v struct {
		Inputs   map[string]string `json:"inputs"`
		Expected map[string]string `json:"expected"`
	}
	if err := json.Unmarshal(raw, &v); err != nil {
		t.Fatal(err)
	}
	in, ex := v.Inputs, v.Expected
	ac, pc := mustHex(t, in["AuthenticatorChallenge"]), mustHex(t, in["PeerChallenge"])
	nt, ar, err := MSCHAPv2Response(ac, pc, in["UserName"], in["Password"])
	if err != nil || hex.EncodeToString(nt) != hex.EncodeToString(mustHex(t, ex["NT_Response"])) || ar != ex["AuthenticatorResponse"] {
		t.Fatalf("got %X %s", nt, ar)
	}
	got, ok := VerifyMSCHAPv2(NTHash(in["Password"]), ac, pc, in["UserName"], nt)
	if !ok || got != ex["AuthenticatorResponse"] {
		t.Fatalf("verify %s %v", got, ok)
	}
}

// RFC 1994 has no vector; this checks the definition MD5(id||secret||chal)
// against a value computed with Python's hashlib.
func TestCHAPMD5(t *testing.T) {
	chal := make([]byte, 16)
	for i := range chal {
		chal[i] = byte(i)
	}
	r := CHAPMD5Response(1, []byte("secret"), chal)
	if !VerifyCHAPMD5(1, []byte("secret"), chal, r) || VerifyCHAPMD5(2, []byte("secret"), chal, r) || VerifyCHAPMD5(1, []byte("Secret"), chal, r) {
		t.Fatal("CHAP-MD5 verify")
	}
	// python3: hashlib.md5(bytes([1])+b'secret'+bytes(range(16))).hexdigest()
	if hex.EncodeToString(r) != "740e86463bda3a4d7017d6e0fba0699d" {
		t.Fatalf("CHAP-MD5 response %x", r)
	}
}

func TestMSCHAPv2Messages(t *testing.T) {
	c := mustHex(t, "0123456789ABCDEF0123456789ABCDEF")
	if got := MSCHAPv2Failure(c, "bad"); got != "E=691 R=0 C=0123456789ABCDEF0123456789ABCDEF V=3 M=bad" {
		t.Fatal(got)
	}
	if got := MSCHAPv2FailureCode(647, c[:2], "disabled"); got != "E=647 R=0 C=0123 V=3 M=disabled" {
		t.Fatal(got)
	}
	if got := MSCHAPv2Success(rfc2759Example.authResp, "ok"); got != rfc2759Example.authResp+" M=ok" {
		t.Fatal(got)
	}
}
