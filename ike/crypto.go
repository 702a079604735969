package ike

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/des"
	"crypto/hmac"
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/binary"
	"fmt"
	"hash"
	"net/netip"
)

// HashAlg is the IKEv1 phase-1 Hash Algorithm attribute value (RFC 2409
// Appendix A, RFC 4878 for SHA2). The negotiated PRF is HMAC of this hash
// (RFC 2409 section 5: "the HMAC version of the negotiated hash").
type HashAlg uint16

// Phase-1 hash algorithms.
const (
	HashMD5    HashAlg = 1
	HashSHA1   HashAlg = 2
	HashSHA256 HashAlg = 4
	HashSHA384 HashAlg = 5
	HashSHA512 HashAlg = 6
)

func (h HashAlg) String() string {
	switch h {
	case HashMD5:
		return "MD5"
	case HashSHA1:
		return "SHA1"
	case HashSHA256:
		return "SHA2_256"
	case HashSHA384:
		return "SHA2_384"
	case HashSHA512:
		return "SHA2_512"
	}
	return fmt.Sprintf("HASH(%d)", uint16(h))
}

// New returns a fresh hash.Hash, or nil for an unknown algorithm.
func (h HashAlg) New() hash.Hash {
	if f := h.newFunc(); f != nil {
		return f()
	}
	return nil
}

func (h HashAlg) newFunc() func() hash.Hash {
	switch h {
	case HashMD5:
		return md5.New
	case HashSHA1:
		return sha1.New
	case HashSHA256:
		return sha256.New
	case HashSHA384:
		return sha512.New384
	case HashSHA512:
		return sha512.New
	}
	return nil
}

// Valid reports whether the algorithm is implemented.
func (h HashAlg) Valid() bool { return h.newFunc() != nil }

// Size is the output length in bytes.
func (h HashAlg) Size() int {
	switch h {
	case HashMD5:
		return md5.Size
	case HashSHA1:
		return sha1.Size
	case HashSHA256:
		return sha256.Size
	case HashSHA384:
		return sha512.Size384
	case HashSHA512:
		return sha512.Size
	}
	return 0
}

// Sum hashes the concatenation of parts.
func (h HashAlg) Sum(parts ...[]byte) []byte {
	d := h.New()
	for _, p := range parts {
		d.Write(p)
	}
	return d.Sum(nil)
}

// PRF is HMAC-hash(key, concatenation of parts) (RFC 2409 section 4, "prf").
func (h HashAlg) PRF(key []byte, parts ...[]byte) []byte {
	m := hmac.New(h.newFunc(), key)
	for _, p := range parts {
		m.Write(p)
	}
	return m.Sum(nil)
}

// CipherAlg is the IKEv1 phase-1 Encryption Algorithm attribute value (RFC
// 2409 Appendix A; AES 7 from RFC 3602 section 5).
type CipherAlg uint16

// Phase-1 ciphers (all CBC).
const (
	CipherDES    CipherAlg = 1
	Cipher3DES   CipherAlg = 5
	CipherAESCBC CipherAlg = 7
)

func (c CipherAlg) String() string {
	switch c {
	case CipherDES:
		return "DES_CBC"
	case Cipher3DES:
		return "3DES_CBC"
	case CipherAESCBC:
		return "AES_CBC"
	}
	return fmt.Sprintf("ENCR(%d)", uint16(c))
}

// BlockSize is the cipher block (and IV) length in bytes, 0 when unknown.
func (c CipherAlg) BlockSize() int {
	switch c {
	case CipherDES, Cipher3DES:
		return des.BlockSize
	case CipherAESCBC:
		return aes.BlockSize
	}
	return 0
}

// KeyBytes returns the key length in bytes for a Key Length attribute of
// bits (0 when the attribute was absent). It reports false when the length
// is not allowed: fixed-length ciphers take no key length; AES needs 128,
// 192 or 256 (RFC 3602 section 5).
func (c CipherAlg) KeyBytes(bits int) (int, bool) {
	switch c {
	case CipherDES:
		return 8, bits == 0 || bits == 64
	case Cipher3DES:
		return 24, bits == 0 || bits == 192
	case CipherAESCBC:
		switch bits {
		case 128, 192, 256:
			return bits / 8, true
		}
	}
	return 0, false
}

// NewBlock returns the block cipher for key.
func (c CipherAlg) NewBlock(key []byte) (cipher.Block, error) {
	switch c {
	case CipherDES:
		return des.NewCipher(key)
	case Cipher3DES:
		return des.NewTripleDESCipher(key)
	case CipherAESCBC:
		return aes.NewCipher(key)
	}
	return nil, fmt.Errorf("%w: %v", ErrUnsupportedAlgorithm, c)
}

// Phase1Keys holds what RFC 2409 section 5 derives after the DH exchange.
type Phase1Keys struct {
	Hash    HashAlg
	Cipher  CipherAlg
	SKEYID  []byte
	D, A, E []byte // SKEYID_d, SKEYID_a, SKEYID_e
	EncKey  []byte // SKEYID_e expanded/truncated to the cipher key (Appendix B)
	IV      []byte // phase-1 IV: hash(g^xi | g^xr) truncated to the block size
}

// SKEYIDPreShared computes SKEYID = prf(pre-shared-key, Ni_b | Nr_b) (RFC
// 2409 section 5).
func SKEYIDPreShared(h HashAlg, psk, ni, nr []byte) []byte {
	return h.PRF(psk, ni, nr)
}

// SKEYIDSignature computes SKEYID = prf(Ni_b | Nr_b, g^xy) for signature
// authentication (RFC 2409 section 5); the extension point for
// certificates.
func SKEYIDSignature(h HashAlg, ni, nr, gxy []byte) []byte {
	key := make([]byte, 0, len(ni)+len(nr))
	key = append(append(key, ni...), nr...)
	return h.PRF(key, gxy)
}

// DerivePhase1 derives SKEYID_d/a/e, the encryption key and the phase-1 IV
// from SKEYID (RFC 2409 section 5 and Appendix B):
//
//	SKEYID_d = prf(SKEYID, g^xy | CKY-I | CKY-R | 0)
//	SKEYID_a = prf(SKEYID, SKEYID_d | g^xy | CKY-I | CKY-R | 1)
//	SKEYID_e = prf(SKEYID, SKEYID_a | g^xy | CKY-I | CKY-R | 2)
//	IV       = hash(g^xi | g^xr)
func DerivePhase1(h HashAlg, c CipherAlg, keyBytes int, skeyid, gxy, ckyI, ckyR, gxi, gxr []byte) (*Phase1Keys, error) {
	if !h.Valid() || c.BlockSize() == 0 {
		return nil, fmt.Errorf("%w: %v/%v", ErrUnsupportedAlgorithm, h, c)
	}
	k := &Phase1Keys{Hash: h, Cipher: c, SKEYID: skeyid}
	k.D = h.PRF(skeyid, gxy, ckyI, ckyR, []byte{0})
	k.A = h.PRF(skeyid, k.D, gxy, ckyI, ckyR, []byte{1})
	k.E = h.PRF(skeyid, k.A, gxy, ckyI, ckyR, []byte{2})
	k.EncKey = ExpandEncKey(h, k.E, keyBytes)
	k.IV = h.Sum(gxi, gxr)[:c.BlockSize()]
	return k, nil
}

// ExpandEncKey returns the first n bytes of SKEYID_e, or when SKEYID_e is
// too short, of Ka = K1 | K2 | ... with K1 = prf(SKEYID_e, 0) and
// Kn = prf(SKEYID_e, Kn-1) (RFC 2409 Appendix B).
func ExpandEncKey(h HashAlg, skeyidE []byte, n int) []byte {
	if len(skeyidE) >= n {
		return append([]byte(nil), skeyidE[:n]...)
	}
	out := make([]byte, 0, n+h.Size())
	k := h.PRF(skeyidE, []byte{0})
	out = append(out, k...)
	for len(out) < n {
		k = h.PRF(skeyidE, k)
		out = append(out, k...)
	}
	return out[:n]
}

// HashI computes HASH_I = prf(SKEYID, g^xi | g^xr | CKY-I | CKY-R | SAi_b |
// IDii_b) (RFC 2409 section 5). SAi_b and IDii_b are payload bodies without
// the generic header.
func HashI(h HashAlg, skeyid, gxi, gxr, ckyI, ckyR, sai, idii []byte) []byte {
	return h.PRF(skeyid, gxi, gxr, ckyI, ckyR, sai, idii)
}

// HashR computes HASH_R = prf(SKEYID, g^xr | g^xi | CKY-R | CKY-I | SAi_b |
// IDir_b) (RFC 2409 section 5).
func HashR(h HashAlg, skeyid, gxi, gxr, ckyI, ckyR, sai, idir []byte) []byte {
	return h.PRF(skeyid, gxr, gxi, ckyR, ckyI, sai, idir)
}

// Phase2IV is hash(last phase-1 CBC block | M-ID) truncated to the block
// size: the first IV of a Quick Mode or informational exchange (RFC 2409
// Appendix B).
func Phase2IV(h HashAlg, lastPhase1IV []byte, msgID uint32, blockSize int) []byte {
	var mid [4]byte
	binary.BigEndian.PutUint32(mid[:], msgID)
	return h.Sum(lastPhase1IV, mid[:])[:blockSize]
}

func midBytes(msgID uint32) []byte {
	var mid [4]byte
	binary.BigEndian.PutUint32(mid[:], msgID)
	return mid[:]
}

// QMHash1 computes HASH(1) = prf(SKEYID_a, M-ID | SA | Ni [| KE] [| IDci |
// IDcr]) where rest is every payload (with generic headers) after the HASH
// payload (RFC 2409 section 5.5).
func QMHash1(h HashAlg, skeyidA []byte, msgID uint32, rest []byte) []byte {
	return h.PRF(skeyidA, midBytes(msgID), rest)
}

// QMHash2 computes HASH(2) = prf(SKEYID_a, M-ID | Ni_b | SA | Nr [| KE] [|
// IDci | IDcr]) (RFC 2409 section 5.5).
func QMHash2(h HashAlg, skeyidA []byte, msgID uint32, ni, rest []byte) []byte {
	return h.PRF(skeyidA, midBytes(msgID), ni, rest)
}

// QMHash3 computes HASH(3) = prf(SKEYID_a, 0 | M-ID | Ni_b | Nr_b) (RFC 2409
// section 5.5).
func QMHash3(h HashAlg, skeyidA []byte, msgID uint32, ni, nr []byte) []byte {
	return h.PRF(skeyidA, []byte{0}, midBytes(msgID), ni, nr)
}

// InfoHash computes the informational HASH(1) = prf(SKEYID_a, M-ID | N/D)
// (RFC 2409 section 5.7).
func InfoHash(h HashAlg, skeyidA []byte, msgID uint32, rest []byte) []byte {
	return h.PRF(skeyidA, midBytes(msgID), rest)
}

// Keymat derives n bytes of KEYMAT for one direction of a phase-2 SA (RFC
// 2409 section 5.5):
//
//	KEYMAT = K1 | K2 | ...
//	K1 = prf(SKEYID_d, [g(qm)^xy |] protocol | SPI | Ni_b | Nr_b)
//	Kn = prf(SKEYID_d, Kn-1 | [g(qm)^xy |] protocol | SPI | Ni_b | Nr_b)
//
// gqm is nil without PFS. spi is the SPI chosen by the receiving side of
// the direction.
func Keymat(h HashAlg, skeyidD, gqm []byte, protocol uint8, spi uint32, ni, nr []byte, n int) []byte {
	var sp [4]byte
	binary.BigEndian.PutUint32(sp[:], spi)
	proto := []byte{protocol}
	out := make([]byte, 0, n+h.Size())
	var k []byte
	for len(out) < n {
		k = h.PRF(skeyidD, k, gqm, proto, sp[:], ni, nr)
		out = append(out, k...)
	}
	return out[:n]
}

// NATDHash computes the NAT-D payload data hash(CKY-I | CKY-R | IP | Port)
// (RFC 3947 section 3.2) with the negotiated hash.
func NATDHash(h HashAlg, ckyI, ckyR []byte, ap netip.AddrPort) []byte {
	var port [2]byte
	binary.BigEndian.PutUint16(port[:], ap.Port())
	ip := ap.Addr().Unmap().AsSlice()
	return h.Sum(ckyI, ckyR, ip, port[:])
}

// encryptCBC pads plain with zeros to the block size and encrypts it with
// iv; it returns the ciphertext and the next IV (the last cipher block,
// RFC 2409 Appendix B).
func encryptCBC(c CipherAlg, key, iv, plain []byte) (ct, next []byte, err error) {
	b, err := c.NewBlock(key)
	if err != nil {
		return nil, nil, err
	}
	bs := b.BlockSize()
	n := (len(plain) + bs - 1) / bs * bs
	if n == 0 {
		n = bs
	}
	ct = make([]byte, n)
	copy(ct, plain)
	cipher.NewCBCEncrypter(b, iv).CryptBlocks(ct, ct)
	return ct, append([]byte(nil), ct[n-bs:]...), nil
}

// decryptCBC decrypts ct with iv; it returns the plaintext (with padding)
// and the next IV.
func decryptCBC(c CipherAlg, key, iv, ct []byte) (plain, next []byte, err error) {
	b, err := c.NewBlock(key)
	if err != nil {
		return nil, nil, err
	}
	bs := b.BlockSize()
	if len(ct) == 0 || len(ct)%bs != 0 {
		return nil, nil, fmt.Errorf("%w: %d bytes is not a multiple of the %d-byte block", ErrMalformed, len(ct), bs)
	}
	next = append([]byte(nil), ct[len(ct)-bs:]...)
	plain = make([]byte, len(ct))
	cipher.NewCBCDecrypter(b, iv).CryptBlocks(plain, ct)
	return plain, next, nil
}
