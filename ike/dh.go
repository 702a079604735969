package ike

import (
	"crypto/ecdh"
	"crypto/rand"
	"fmt"
	"io"
	"math/big"
)

// Group is the Diffie-Hellman group number (IKEv1 Group Description
// attribute, IANA "IKE Group Description").
type Group uint16

// Supported groups.
const (
	GroupMODP768  Group = 1  // RFC 2409 section 6.1, insecure
	GroupMODP1024 Group = 2  // RFC 2409 section 6.2, compat
	GroupMODP1536 Group = 5  // RFC 3526 section 2
	GroupMODP2048 Group = 14 // RFC 3526 section 3
	GroupMODP3072 Group = 15 // RFC 3526 section 4
	GroupMODP4096 Group = 16 // RFC 3526 section 5
	GroupECP256   Group = 19 // RFC 5903
	GroupECP384   Group = 20 // RFC 5903
	GroupECP521   Group = 21 // RFC 5903
)

func (g Group) String() string {
	switch g {
	case GroupMODP768:
		return "MODP768"
	case GroupMODP1024:
		return "MODP1024"
	case GroupMODP1536:
		return "MODP1536"
	case GroupMODP2048:
		return "MODP2048"
	case GroupMODP3072:
		return "MODP3072"
	case GroupMODP4096:
		return "MODP4096"
	case GroupECP256:
		return "ECP256"
	case GroupECP384:
		return "ECP384"
	case GroupECP521:
		return "ECP521"
	}
	return fmt.Sprintf("GROUP(%d)", uint16(g))
}

// The MODP primes. Each is a safe prime whose top and bottom 64 bits are
// ones (RFC 2412 Appendix E, RFC 3526); the tests check both properties, so
// a transcription error cannot go unnoticed. The generator is 2 for all.
const (
	modp768Hex  = "FFFFFFFFFFFFFFFFC90FDAA22168C234C4C6628B80DC1CD129024E088A67CC74020BBEA63B139B22514A08798E3404DDEF9519B3CD3A431B302B0A6DF25F14374FE1356D6D51C245E485B576625E7EC6F44C42E9A63A3620FFFFFFFFFFFFFFFF"
	modp1024Hex = "FFFFFFFFFFFFFFFFC90FDAA22168C234C4C6628B80DC1CD129024E088A67CC74020BBEA63B139B22514A08798E3404DDEF9519B3CD3A431B302B0A6DF25F14374FE1356D6D51C245E485B576625E7EC6F44C42E9A637ED6B0BFF5CB6F406B7EDEE386BFB5A899FA5AE9F24117C4B1FE649286651ECE65381FFFFFFFFFFFFFFFF"
	modp1536Hex = "FFFFFFFFFFFFFFFFC90FDAA22168C234C4C6628B80DC1CD129024E088A67CC74020BBEA63B139B22514A08798E3404DDEF9519B3CD3A431B302B0A6DF25F14374FE1356D6D51C245E485B576625E7EC6F44C42E9A637ED6B0BFF5CB6F406B7EDEE386BFB5A899FA5AE9F24117C4B1FE649286651ECE45B3DC2007CB8A163BF0598DA48361C55D39A69163FA8FD24CF5F83655D23DCA3AD961C62F356208552BB9ED529077096966D670C354E4ABC9804F1746C08CA237327FFFFFFFFFFFFFFFF"
	modp2048Hex = "FFFFFFFFFFFFFFFFC90FDAA22168C234C4C6628B80DC1CD129024E088A67CC74020BBEA63B139B22514A08798E3404DDEF9519B3CD3A431B302B0A6DF25F14374FE1356D6D51C245E485B576625E7EC6F44C42E9A637ED6B0BFF5CB6F406B7EDEE386BFB5A899FA5AE9F24117C4B1FE649286651ECE45B3DC2007CB8A163BF0598DA48361C55D39A69163FA8FD24CF5F83655D23DCA3AD961C62F356208552BB9ED529077096966D670C354E4ABC9804F1746C08CA18217C32905E462E36CE3BE39E772C180E86039B2783A2EC07A28FB5C55DF06F4C52C9DE2BCBF6955817183995497CEA956AE515D2261898FA051015728E5A8AACAA68FFFFFFFFFFFFFFFF"
	modp3072Hex = "FFFFFFFFFFFFFFFFC90FDAA22168C234C4C6628B80DC1CD129024E088A67CC74020BBEA63B139B22514A08798E3404DDEF9519B3CD3A431B302B0A6DF25F14374FE1356D6D51C245E485B576625E7EC6F44C42E9A637ED6B0BFF5CB6F406B7EDEE386BFB5A899FA5AE9F24117C4B1FE649286651ECE45B3DC2007CB8A163BF0598DA48361C55D39A69163FA8FD24CF5F83655D23DCA3AD961C62F356208552BB9ED529077096966D670C354E4ABC9804F1746C08CA18217C32905E462E36CE3BE39E772C180E86039B2783A2EC07A28FB5C55DF06F4C52C9DE2BCBF6955817183995497CEA956AE515D2261898FA051015728E5A8AAAC42DAD33170D04507A33A85521ABDF1CBA64ECFB850458DBEF0A8AEA71575D060C7DB3970F85A6E1E4C7ABF5AE8CDB0933D71E8C94E04A25619DCEE3D2261AD2EE6BF12FFA06D98A0864D87602733EC86A64521F2B18177B200CBBE117577A615D6C770988C0BAD946E208E24FA074E5AB3143DB5BFCE0FD108E4B82D120A93AD2CAFFFFFFFFFFFFFFFF"
	modp4096Hex = "FFFFFFFFFFFFFFFFC90FDAA22168C234C4C6628B80DC1CD129024E088A67CC74020BBEA63B139B22514A08798E3404DDEF9519B3CD3A431B302B0A6DF25F14374FE1356D6D51C245E485B576625E7EC6F44C42E9A637ED6B0BFF5CB6F406B7EDEE386BFB5A899FA5AE9F24117C4B1FE649286651ECE45B3DC2007CB8A163BF0598DA48361C55D39A69163FA8FD24CF5F83655D23DCA3AD961C62F356208552BB9ED529077096966D670C354E4ABC9804F1746C08CA18217C32905E462E36CE3BE39E772C180E86039B2783A2EC07A28FB5C55DF06F4C52C9DE2BCBF6955817183995497CEA956AE515D2261898FA051015728E5A8AAAC42DAD33170D04507A33A85521ABDF1CBA64ECFB850458DBEF0A8AEA71575D060C7DB3970F85A6E1E4C7ABF5AE8CDB0933D71E8C94E04A25619DCEE3D2261AD2EE6BF12FFA06D98A0864D87602733EC86A64521F2B18177B200CBBE117577A615D6C770988C0BAD946E208E24FA074E5AB3143DB5BFCE0FD108E4B82D120A92108011A723C12A787E6D788719A10BDBA5B2699C327186AF4E23C1A946834B6150BDA2583E9CA2AD44CE8DBBBC2DB04DE8EF92E8EFC141FBECAA6287C59474E6BC05D99B2964FA090C3A2233BA186515BE7ED1F612970CEE2D7AFB81BDD762170481CD0069127D5B05AA993B4EA988D8FDDC186FFB7DC90A6C08F4DF435C934063199FFFFFFFFFFFFFFFF"
)

type modpParams struct {
	p        *big.Int
	size     int // bytes of a public value
	expBytes int // private exponent length; twice the group's strength (RFC 3526 section 8)
}

var modpGroups = map[Group]*modpParams{
	GroupMODP768:  newMODP(modp768Hex, 32),
	GroupMODP1024: newMODP(modp1024Hex, 32),
	GroupMODP1536: newMODP(modp1536Hex, 32),
	GroupMODP2048: newMODP(modp2048Hex, 40),
	GroupMODP3072: newMODP(modp3072Hex, 48),
	GroupMODP4096: newMODP(modp4096Hex, 64),
}

func newMODP(h string, expBytes int) *modpParams {
	p, ok := new(big.Int).SetString(h, 16)
	if !ok {
		panic("ike: bad MODP prime constant")
	}
	return &modpParams{p: p, size: (p.BitLen() + 7) / 8, expBytes: expBytes}
}

func (g Group) curve() ecdh.Curve {
	switch g {
	case GroupECP256:
		return ecdh.P256()
	case GroupECP384:
		return ecdh.P384()
	case GroupECP521:
		return ecdh.P521()
	}
	return nil
}

// Valid reports whether the group is implemented.
func (g Group) Valid() bool { return modpGroups[g] != nil || g.curve() != nil }

// IsECP reports whether the group is an elliptic curve group.
func (g Group) IsECP() bool { return g.curve() != nil }

// PublicSize is the length of the KE payload data: the prime's length for
// MODP, x|y (two coordinates) for ECP (RFC 5903 section 7).
func (g Group) PublicSize() int {
	if m := modpGroups[g]; m != nil {
		return m.size
	}
	switch g {
	case GroupECP256:
		return 64
	case GroupECP384:
		return 96
	case GroupECP521:
		return 132
	}
	return 0
}

// DHKey is one side's ephemeral Diffie-Hellman key.
type DHKey struct {
	group Group
	x     *big.Int // MODP
	ec    *ecdh.PrivateKey
	pub   []byte
}

// GenerateDH makes an ephemeral key for g from rnd (crypto/rand when nil).
func GenerateDH(g Group, rnd io.Reader) (*DHKey, error) {
	if rnd == nil {
		rnd = rand.Reader
	}
	if m := modpGroups[g]; m != nil {
		b := make([]byte, m.expBytes)
		if _, err := io.ReadFull(rnd, b); err != nil {
			return nil, err
		}
		b[0] |= 0x80 // full-length exponent
		return newMODPKey(g, m, b), nil
	}
	if c := g.curve(); c != nil {
		k, err := c.GenerateKey(rnd)
		if err != nil {
			return nil, err
		}
		return newECPKey(g, k), nil
	}
	return nil, fmt.Errorf("%w: DH %v", ErrUnsupportedAlgorithm, g)
}

// dhKeyFromPrivate builds a key from a known private value (known-answer
// tests).
func dhKeyFromPrivate(g Group, priv []byte) (*DHKey, error) {
	if m := modpGroups[g]; m != nil {
		return newMODPKey(g, m, priv), nil
	}
	if c := g.curve(); c != nil {
		k, err := c.NewPrivateKey(priv)
		if err != nil {
			return nil, err
		}
		return newECPKey(g, k), nil
	}
	return nil, fmt.Errorf("%w: DH %v", ErrUnsupportedAlgorithm, g)
}

func newMODPKey(g Group, m *modpParams, priv []byte) *DHKey {
	x := new(big.Int).SetBytes(priv)
	y := new(big.Int).Exp(big.NewInt(2), x, m.p)
	return &DHKey{group: g, x: x, pub: y.FillBytes(make([]byte, m.size))}
}

func newECPKey(g Group, k *ecdh.PrivateKey) *DHKey {
	// crypto/ecdh encodes 0x04|x|y; IKE carries x|y (RFC 5903 section 7).
	return &DHKey{group: g, ec: k, pub: k.PublicKey().Bytes()[1:]}
}

// Group returns the key's group.
func (k *DHKey) Group() Group { return k.group }

// Public returns the KE payload data, left-padded to the group size.
func (k *DHKey) Public() []byte { return k.pub }

// Shared computes g^xy from the peer's KE data. For MODP it is left-padded
// to the prime's length; for ECP it is the x-coordinate only (RFC 5903
// section 9). Invalid peer values (wrong length, 0, 1, p-1, >= p, points
// off the curve) are errors.
func (k *DHKey) Shared(peer []byte) ([]byte, error) {
	if len(peer) != k.group.PublicSize() {
		return nil, fmt.Errorf("%w: %v public value has %d bytes, want %d", ErrInvalidKE, k.group, len(peer), k.group.PublicSize())
	}
	if k.ec != nil {
		pk, err := k.ec.Curve().NewPublicKey(append([]byte{4}, peer...))
		if err != nil {
			return nil, fmt.Errorf("%w: %v", ErrInvalidKE, err)
		}
		s, err := k.ec.ECDH(pk)
		if err != nil {
			return nil, fmt.Errorf("%w: %v", ErrInvalidKE, err)
		}
		return s, nil
	}
	m := modpGroups[k.group]
	y := new(big.Int).SetBytes(peer)
	pm1 := new(big.Int).Sub(m.p, big.NewInt(1))
	if y.Cmp(big.NewInt(1)) <= 0 || y.Cmp(pm1) >= 0 {
		return nil, fmt.Errorf("%w: %v public value out of range", ErrInvalidKE, k.group)
	}
	s := new(big.Int).Exp(y, k.x, m.p)
	return s.FillBytes(make([]byte, m.size)), nil
}
