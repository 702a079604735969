package isakmp

import (
	"crypto/hmac"
	"encoding/binary"
	"hash"
	"net/netip"
	"strconv"
)

// Phase1 is the typed view of a KEY_IKE transform's attributes
// (RFC 2409 appendix A). Absent attributes are zero.
type Phase1 struct {
	Encryption    EncryptionAlgorithm
	KeyLength     uint16 // bits; 0 when absent (fixed-size ciphers)
	Hash          HashAlgorithm
	PRF           uint16 // 0 when absent: the HMAC of Hash is the PRF
	Auth          AuthMethod
	Group         GroupDescription
	GroupType     GroupType
	LifeSeconds   uint64 // 0 when not given
	LifeKilobytes uint64 // 0 when not given
	// Other holds attributes not interpreted here (custom group
	// parameters, private types), in order.
	Other []Attribute
}

// Phase2 is the typed view of an ESP/AH transform's attributes
// (RFC 2407 §4.5).
type Phase2 struct {
	Encapsulation EncapsulationMode // 0 when absent (RFC 2407 default is tunnel)
	Auth          AuthAlgorithm
	KeyLength     uint16 // bits
	KeyRounds     uint16
	Group         GroupDescription // PFS group; 0 without PFS
	LifeSeconds   uint64
	LifeKilobytes uint64
	Other         []Attribute
}

// lifeTracker pairs Life Type with the Life Duration that follows it; a
// transform may give both a seconds and a kilobytes lifetime.
type lifeTracker struct {
	pending LifeType
	seconds uint64
	kbytes  uint64
	hasType bool
}

func (l *lifeTracker) setType(v uint64, ctx string) error {
	if l.hasType {
		return perr(ErrAttribute, ctx+": life type without a duration")
	}
	l.pending, l.hasType = LifeType(v), true
	return nil
}

func (l *lifeTracker) setDuration(v uint64, ctx string) error {
	if !l.hasType {
		return perr(ErrAttribute, ctx+": life duration without a life type")
	}
	l.hasType = false
	switch l.pending {
	case LifeSeconds:
		l.seconds = v
	case LifeKilobytes:
		l.kbytes = v
	default:
		return perr(ErrAttrMissing, ctx+": life type "+l.pending.String())
	}
	return nil
}

func (l *lifeTracker) done(ctx string) error {
	if l.hasType {
		return perr(ErrAttribute, ctx+": life type without a duration")
	}
	return nil
}

// attrNumber reads a numeric attribute and rejects a second occurrence.
func attrNumber(a Attribute, seen map[uint16]bool, ctx string) (uint64, error) {
	v, ok := a.Uint()
	if !ok {
		return 0, perr(ErrAttribute, ctx+": attribute "+strconv.Itoa(int(a.Type))+" is not a number")
	}
	if seen[a.Type] {
		return 0, perr(ErrProposalSyntax, ctx+": attribute "+strconv.Itoa(int(a.Type))+" given twice")
	}
	seen[a.Type] = true
	return v, nil
}

// Phase1Attributes interprets a KEY_IKE transform. Numeric attributes may
// come in either form; duplicates and unpaired life attributes are errors.
func Phase1Attributes(t *Transform) (Phase1, error) {
	var p Phase1
	var life lifeTracker
	seen := make(map[uint16]bool, 8)
	ctx := "phase 1 transform #" + strconv.Itoa(int(t.Number))
	for _, a := range t.Attributes {
		at := OakleyAttr(a.Type)
		switch at {
		case OakleyLifeType, OakleyLifeDuration:
			v, ok := a.Uint()
			if !ok {
				return p, perr(ErrAttribute, ctx+": "+at.String()+" is not a number")
			}
			var err error
			if at == OakleyLifeType {
				err = life.setType(v, ctx)
			} else {
				err = life.setDuration(v, ctx)
			}
			if err != nil {
				return p, err
			}
			continue
		case OakleyEncryption, OakleyHash, OakleyAuthMethod, OakleyGroup, OakleyGroupType, OakleyPRF, OakleyKeyLength:
		default:
			p.Other = append(p.Other, a)
			continue
		}
		v, err := attrNumber(a, seen, ctx)
		if err != nil {
			return p, err
		}
		if v > 0xffff {
			return p, perr(ErrAttribute, ctx+": "+at.String()+" out of range")
		}
		switch at {
		case OakleyEncryption:
			p.Encryption = EncryptionAlgorithm(v)
		case OakleyHash:
			p.Hash = HashAlgorithm(v)
		case OakleyAuthMethod:
			p.Auth = AuthMethod(v)
		case OakleyGroup:
			p.Group = GroupDescription(v)
		case OakleyGroupType:
			p.GroupType = GroupType(v)
		case OakleyPRF:
			p.PRF = uint16(v)
		case OakleyKeyLength:
			p.KeyLength = uint16(v)
		}
	}
	if err := life.done(ctx); err != nil {
		return p, err
	}
	p.LifeSeconds, p.LifeKilobytes = life.seconds, life.kbytes
	return p, nil
}

// Phase2Attributes interprets an ESP or AH transform.
func Phase2Attributes(t *Transform) (Phase2, error) {
	var p Phase2
	var life lifeTracker
	seen := make(map[uint16]bool, 8)
	ctx := "phase 2 transform #" + strconv.Itoa(int(t.Number))
	for _, a := range t.Attributes {
		at := IPsecAttr(a.Type)
		switch at {
		case IPsecSALifeType, IPsecSALifeDuration:
			v, ok := a.Uint()
			if !ok {
				return p, perr(ErrAttribute, ctx+": "+at.String()+" is not a number")
			}
			var err error
			if at == IPsecSALifeType {
				err = life.setType(v, ctx)
			} else {
				err = life.setDuration(v, ctx)
			}
			if err != nil {
				return p, err
			}
			continue
		case IPsecGroup, IPsecEncapsulationMode, IPsecAuthAlgorithm, IPsecKeyLength, IPsecKeyRounds:
		default:
			p.Other = append(p.Other, a)
			continue
		}
		v, err := attrNumber(a, seen, ctx)
		if err != nil {
			return p, err
		}
		if v > 0xffff {
			return p, perr(ErrAttribute, ctx+": "+at.String()+" out of range")
		}
		switch at {
		case IPsecGroup:
			p.Group = GroupDescription(v)
		case IPsecEncapsulationMode:
			p.Encapsulation = EncapsulationMode(v)
		case IPsecAuthAlgorithm:
			p.Auth = AuthAlgorithm(v)
		case IPsecKeyLength:
			p.KeyLength = uint16(v)
		case IPsecKeyRounds:
			p.KeyRounds = uint16(v)
		}
	}
	if err := life.done(ctx); err != nil {
		return p, err
	}
	p.LifeSeconds, p.LifeKilobytes = life.seconds, life.kbytes
	return p, nil
}

// Attributes encodes the view back into attributes in the order most
// implementations use. Lifetimes use NumAttr (TV when they fit 16 bits).
func (p Phase1) Attributes() []Attribute {
	var a []Attribute
	if p.Encryption != 0 {
		a = append(a, BasicAttr(OakleyEncryption, uint16(p.Encryption)))
	}
	if p.KeyLength != 0 {
		a = append(a, BasicAttr(OakleyKeyLength, p.KeyLength))
	}
	if p.Hash != 0 {
		a = append(a, BasicAttr(OakleyHash, uint16(p.Hash)))
	}
	if p.Auth != 0 {
		a = append(a, BasicAttr(OakleyAuthMethod, uint16(p.Auth)))
	}
	if p.Group != 0 {
		a = append(a, BasicAttr(OakleyGroup, uint16(p.Group)))
	}
	if p.GroupType != 0 {
		a = append(a, BasicAttr(OakleyGroupType, uint16(p.GroupType)))
	}
	if p.PRF != 0 {
		a = append(a, BasicAttr(OakleyPRF, p.PRF))
	}
	if p.LifeSeconds != 0 {
		a = append(a, BasicAttr(OakleyLifeType, uint16(LifeSeconds)), NumAttr(OakleyLifeDuration, p.LifeSeconds))
	}
	if p.LifeKilobytes != 0 {
		a = append(a, BasicAttr(OakleyLifeType, uint16(LifeKilobytes)), NumAttr(OakleyLifeDuration, p.LifeKilobytes))
	}
	return append(a, p.Other...)
}

// Attributes encodes the view back into attributes.
func (p Phase2) Attributes() []Attribute {
	var a []Attribute
	if p.LifeSeconds != 0 {
		a = append(a, BasicAttr(IPsecSALifeType, uint16(LifeSeconds)), NumAttr(IPsecSALifeDuration, p.LifeSeconds))
	}
	if p.LifeKilobytes != 0 {
		a = append(a, BasicAttr(IPsecSALifeType, uint16(LifeKilobytes)), NumAttr(IPsecSALifeDuration, p.LifeKilobytes))
	}
	if p.Group != 0 {
		a = append(a, BasicAttr(IPsecGroup, uint16(p.Group)))
	}
	if p.Encapsulation != 0 {
		a = append(a, BasicAttr(IPsecEncapsulationMode, uint16(p.Encapsulation)))
	}
	if p.Auth != 0 {
		a = append(a, BasicAttr(IPsecAuthAlgorithm, uint16(p.Auth)))
	}
	if p.KeyLength != 0 {
		a = append(a, BasicAttr(IPsecKeyLength, p.KeyLength))
	}
	if p.KeyRounds != 0 {
		a = append(a, BasicAttr(IPsecKeyRounds, p.KeyRounds))
	}
	return append(a, p.Other...)
}

// NATDigest computes a NAT-D hash, HASH(CKY-I | CKY-R | IP | Port)
// (RFC 3947 §3.2), with the negotiated phase-1 hash (not its HMAC).
func NATDigest(newHash func() hash.Hash, icookie, rcookie Cookie, ap netip.AddrPort) []byte {
	h := newHash()
	h.Write(icookie[:])
	h.Write(rcookie[:])
	h.Write(ap.Addr().Unmap().AsSlice())
	var port [2]byte
	binary.BigEndian.PutUint16(port[:], ap.Port())
	h.Write(port[:])
	return h.Sum(nil)
}

// NATDMatches reports whether any of the received NAT-D hashes equals want,
// in constant time per comparison.
func NATDMatches(received []*NATD, want []byte) bool {
	for _, d := range received {
		if hmac.Equal(d.Hash, want) {
			return true
		}
	}
	return false
}
