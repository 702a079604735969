package ppp

import (
	"crypto/md5"
	"crypto/sha1"
	"crypto/subtle"
	"encoding/hex"
	"strconv"
	"strings"
	"unicode/utf16"

	"layeh.com/radius/rfc2759"
)

// Sizes of MS-CHAPv2 fields (RFC 2759 section 4).
const (
	MSCHAPv2ChallengeLen = 16
	MSCHAPv2ResponseLen  = 49 // peer challenge 16, reserved 8, NT-Response 24, flags 1
	ntResponseLen        = 24
	ntHashLen            = 16
	chapMD5ChallengeLen  = 16
)

// RFC 2759 section 8.7 constants ("Magic server to client signing
// constant" and "Pad to make it do more than one iteration").
var (
	authMagic1 = []byte("Magic server to client signing constant")
	authMagic2 = []byte("Pad to make it do more than one iteration")
)

// NTHash is MD4 of the UTF-16LE password (RFC 2759 section 8.3,
// NtPasswordHash): what a users file may store instead of the password.
func NTHash(password string) []byte {
	u := utf16.Encode([]rune(password))
	b := make([]byte, 2*len(u))
	for i, c := range u {
		b[2*i], b[2*i+1] = byte(c), byte(c>>8)
	}
	return rfc2759.NTPasswordHash(b)
}

// mschapUser drops a "DOMAIN\" prefix: RFC 2759 section 8.2 hashes the user
// name without the domain.
func mschapUser(user string) string {
	if i := strings.LastIndexByte(user, '\\'); i >= 0 {
		return user[i+1:]
	}
	return user
}

// VerifyMSCHAPv2 checks an MS-CHAPv2 NT-Response against the user's NT hash
// (RFC 2759 sections 8.1-8.7) and returns the authenticator response
// "S=<40 upper-case hex digits>" to put in the Success packet. Back ends that
// hold a password call it with NTHash(password).
func VerifyMSCHAPv2(ntHash, authChallenge, peerChallenge []byte, user string, ntResponse []byte) (string, bool) {
	if len(ntHash) != ntHashLen || len(authChallenge) != MSCHAPv2ChallengeLen ||
		len(peerChallenge) != MSCHAPv2ChallengeLen || len(ntResponse) != ntResponseLen {
		return "", false
	}
	u := []byte(mschapUser(user))
	challenge := rfc2759.ChallengeHash(peerChallenge, authChallenge, u)
	want := rfc2759.ChallengeResponse(challenge, ntHash)
	if subtle.ConstantTimeCompare(want, ntResponse) != 1 {
		return "", false
	}
	return authenticatorResponse(ntHash, ntResponse, challenge), true
}

// authenticatorResponse is GenerateAuthenticatorResponse of RFC 2759 8.7
// from the NT hash (layeh's version wants the password).
func authenticatorResponse(ntHash, ntResponse, challenge []byte) string {
	hh := rfc2759.NTPasswordHash(ntHash)
	h := sha1.New()
	h.Write(hh)
	h.Write(ntResponse)
	h.Write(authMagic1)
	digest := h.Sum(nil)
	h.Reset()
	h.Write(digest)
	h.Write(challenge)
	h.Write(authMagic2)
	return "S=" + strings.ToUpper(hex.EncodeToString(h.Sum(nil)))
}

// MSCHAPv2Response computes the peer's NT-Response and the authenticator
// response it should expect (client role), with layeh.com/radius/rfc2759.
func MSCHAPv2Response(authChallenge, peerChallenge []byte, user, password string) (ntResponse []byte, authResp string, err error) {
	u := []byte(mschapUser(user))
	ntResponse, err = rfc2759.GenerateNTResponse(authChallenge, peerChallenge, u, []byte(password))
	if err != nil {
		return nil, "", err
	}
	authResp, err = rfc2759.GenerateAuthenticatorResponse(authChallenge, peerChallenge, ntResponse, u, []byte(password))
	return ntResponse, authResp, err
}

// CHAPMD5Response is MD5(Identifier || secret || challenge) (RFC 1994
// section 4.1).
func CHAPMD5Response(id uint8, secret, challenge []byte) []byte {
	h := md5.New()
	h.Write([]byte{id})
	h.Write(secret)
	h.Write(challenge)
	return h.Sum(nil)
}

// VerifyCHAPMD5 checks a CHAP-MD5 response in constant time.
func VerifyCHAPMD5(id uint8, secret, challenge, response []byte) bool {
	return subtle.ConstantTimeCompare(CHAPMD5Response(id, secret, challenge), response) == 1
}

// MSCHAPv2Failure formats the Failure message Windows understands (RFC 2759
// section 6): E=691 makes it show error 691; R=0 forbids a retry.
func MSCHAPv2Failure(challenge []byte, msg string) string {
	return MSCHAPv2FailureCode(691, challenge, msg)
}

// MSCHAPv2FailureCode is MSCHAPv2Failure with another Windows error code
// (646 restricted hours, 647 account disabled, 648 password expired, 649 no
// dial-in permission).
func MSCHAPv2FailureCode(code int, challenge []byte, msg string) string {
	return "E=" + strconv.Itoa(code) + " R=0 C=" + strings.ToUpper(hex.EncodeToString(challenge)) + " V=3 M=" + msg
}

// MSCHAPv2Success formats the Success message (RFC 2759 section 5).
func MSCHAPv2Success(authResp, msg string) string {
	return authResp + " M=" + msg
}
