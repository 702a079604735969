package auth

import (
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"strings"
	"unicode/utf16"

	"layeh.com/radius/rfc2759"
)

// NTHash is the NT password hash, MD4 of the UTF-16LE password (RFC 2759
// section 8.3, NtPasswordHash). It is what the users file's nt_hash holds.
func NTHash(password string) [16]byte {
	u := utf16.Encode([]rune(password))
	b := make([]byte, 2*len(u))
	for i, c := range u {
		b[2*i] = byte(c)
		b[2*i+1] = byte(c >> 8)
	}
	var h [16]byte
	copy(h[:], rfc2759.NTPasswordHash(b))
	return h
}

// NTHashHex is NTHash as 32 upper-case hex digits, for the users file.
func NTHashHex(password string) string {
	h := NTHash(password)
	return strings.ToUpper(hex.EncodeToString(h[:]))
}

// equalSecret compares two secrets in time that depends on neither their
// contents nor their lengths.
func equalSecret(a, b []byte) bool {
	ha, hb := sha256.Sum256(a), sha256.Sum256(b)
	return subtle.ConstantTimeCompare(ha[:], hb[:]) == 1
}

// chapMD5 is the CHAP response MD5(Identifier || secret || Challenge), RFC
// 1994 section 4.1.
func chapMD5(id uint8, secret, challenge []byte) [16]byte {
	h := md5.New()
	h.Write([]byte{id})
	h.Write(secret)
	h.Write(challenge)
	var out [16]byte
	h.Sum(out[:0])
	return out
}

// mschapUserName is the name that enters ChallengeHash: RFC 2759 section
// 8.2 takes the user name without any domain prefix ("DOMAIN\user" ->
// "user"), as Windows and pppd do.
func mschapUserName(name string) string {
	if i := strings.LastIndexByte(name, '\\'); i >= 0 {
		return name[i+1:]
	}
	return name
}

// ntResponse computes the 24-byte MS-CHAPv2 NT-Response from the NT hash
// (RFC 2759 sections 8.1, 8.2, 8.5) with rfc2759's hash-based helpers, so
// that users stored as a hash need no password.
func ntResponse(hash [16]byte, authChallenge, peerChallenge []byte, user string) []byte {
	ch := rfc2759.ChallengeHash(peerChallenge, authChallenge, []byte(mschapUserName(user)))
	return rfc2759.ChallengeResponse(ch, hash[:])
}

// The two constants of GenerateAuthenticatorResponse, RFC 2759 section 8.7.
var (
	authRespMagic1 = []byte("Magic server to client signing constant")
	authRespMagic2 = []byte("Pad to make it do more than one iteration")
)

// authenticatorResponse is GenerateAuthenticatorResponse (RFC 2759 section
// 8.7) computed from the NT hash rather than the password, which
// rfc2759.GenerateAuthenticatorResponse requires:
//
//	PasswordHashHash = MD4(PasswordHash)
//	Digest = SHA1(PasswordHashHash || NT-Response || Magic1)
//	Digest = SHA1(Digest || ChallengeHash || Magic2)
//	"S=" || upper-case hex(Digest)
func authenticatorResponse(hash [16]byte, ntResp, authChallenge, peerChallenge []byte, user string) string {
	hashHash := rfc2759.NTPasswordHash(hash[:])
	h := sha1.New()
	h.Write(hashHash)
	h.Write(ntResp)
	h.Write(authRespMagic1)
	digest := h.Sum(nil)
	h.Reset()
	h.Write(digest)
	h.Write(rfc2759.ChallengeHash(peerChallenge, authChallenge, []byte(mschapUserName(user))))
	h.Write(authRespMagic2)
	return "S=" + strings.ToUpper(hex.EncodeToString(h.Sum(nil)))
}
