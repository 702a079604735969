package ike

import (
	"fmt"
	"time"

	"github.com/l2tpsecd/l2tpsecd/ike/isakmp"
)

// decodePhase1Transform reads a KEY_IKE transform's attributes (RFC 2409
// Appendix A) into an offer. Anything it cannot honour is recorded in
// Problem, which makes SelectPhase1 skip the transform.
func decodePhase1Transform(num uint8, attrs []isakmp.Attribute) Phase1Offer {
	o := Phase1Offer{TransformNum: num, Raw: attrs}
	lifeType := isakmp.LifeType(0)
	problem := func(format string, a ...any) {
		if o.Problem == "" {
			o.Problem = fmt.Sprintf(format, a...)
		}
	}
	for _, a := range attrs {
		v, ok := a.Uint()
		if !ok {
			problem("attribute %v too long", isakmp.OakleyAttr(a.Type))
			continue
		}
		switch isakmp.OakleyAttr(a.Type) {
		case isakmp.OakleyEncryption:
			o.Suite.Cipher = CipherAlg(v)
		case isakmp.OakleyHash:
			o.Suite.Hash = HashAlg(v)
		case isakmp.OakleyAuthMethod:
			o.Suite.Auth = isakmp.AuthMethod(v)
		case isakmp.OakleyGroup:
			o.Suite.Group = Group(v)
		case isakmp.OakleyKeyLength:
			o.Suite.KeyBits = int(v)
		case isakmp.OakleyLifeType:
			lifeType = isakmp.LifeType(v)
		case isakmp.OakleyLifeDuration:
			switch lifeType {
			case isakmp.LifeSeconds:
				if v > uint64(1<<31) {
					v = 1 << 31
				}
				o.Lifetime = time.Duration(v) * time.Second
			case isakmp.LifeKilobytes:
				o.LifeKB = v
			default:
				problem("life duration without a life type")
			}
		default:
			problem("unsupported attribute %v", isakmp.OakleyAttr(a.Type))
		}
	}
	if o.Suite.Cipher == CipherAESCBC && o.Suite.KeyBits == 0 {
		o.Suite.KeyBits = 128 // absent Key Length means the default key size
	}
	if _, ok := o.Suite.Cipher.KeyBytes(o.Suite.KeyBits); !ok {
		problem("key length %d", o.Suite.KeyBits)
	}
	if !o.Suite.Hash.Valid() || !o.Suite.Group.Valid() {
		problem("unsupported hash or group")
	}
	return o
}

// encodePhase1Transform builds the attributes an initiator offers.
func encodePhase1Transform(s Phase1Suite, lifetime time.Duration) []isakmp.Attribute {
	attrs := []isakmp.Attribute{
		isakmp.BasicAttr(isakmp.OakleyEncryption, uint16(s.Cipher)),
	}
	if s.Cipher == CipherAESCBC {
		attrs = append(attrs, isakmp.BasicAttr(isakmp.OakleyKeyLength, uint16(s.KeyBits)))
	}
	attrs = append(attrs,
		isakmp.BasicAttr(isakmp.OakleyHash, uint16(s.Hash)),
		isakmp.BasicAttr(isakmp.OakleyAuthMethod, uint16(s.Auth)),
		isakmp.BasicAttr(isakmp.OakleyGroup, uint16(s.Group)),
		isakmp.BasicAttr(isakmp.OakleyLifeType, uint16(isakmp.LifeSeconds)),
		isakmp.NumAttrTLV(isakmp.OakleyLifeDuration, uint64(lifetime/time.Second)),
	)
	return attrs
}

// decodePhase2Transform reads an ESP transform's IPsec DOI attributes (RFC
// 2407 section 4.5).
func decodePhase2Transform(prop, num uint8, spi uint32, id isakmp.ESPTransformID, attrs []isakmp.Attribute) Phase2Offer {
	o := Phase2Offer{ProposalNum: prop, TransformNum: num, SPI: spi, Raw: attrs}
	o.Suite.Transform = id
	lifeType := isakmp.LifeType(0)
	problem := func(format string, a ...any) {
		if o.Problem == "" {
			o.Problem = fmt.Sprintf(format, a...)
		}
	}
	for _, a := range attrs {
		v, ok := a.Uint()
		if !ok {
			problem("attribute %v too long", isakmp.IPsecAttr(a.Type))
			continue
		}
		switch isakmp.IPsecAttr(a.Type) {
		case isakmp.IPsecSALifeType:
			lifeType = isakmp.LifeType(v)
		case isakmp.IPsecSALifeDuration:
			switch lifeType {
			case isakmp.LifeSeconds:
				o.LifeSeconds = v
			case isakmp.LifeKilobytes:
				o.LifeKB = v
			default:
				problem("life duration without a life type")
			}
		case isakmp.IPsecGroup:
			o.Suite.PFS = Group(v)
		case isakmp.IPsecEncapsulationMode:
			o.Suite.Encap = isakmp.EncapsulationMode(v)
		case isakmp.IPsecAuthAlgorithm:
			o.Suite.Auth = isakmp.AuthAlgorithm(v)
		case isakmp.IPsecKeyLength:
			o.Suite.KeyBits = int(v)
		default:
			problem("unsupported attribute %v", isakmp.IPsecAttr(a.Type))
		}
	}
	if o.Suite.Encap == 0 {
		// RFC 2407 section 4.5: unspecified means host-dependent; for
		// L2TP/IPsec that is transport.
		o.Suite.Encap = isakmp.EncapTransport
	}
	switch id {
	case isakmp.ESPAESCBC, isakmp.ESPAESGCM16:
		if o.Suite.KeyBits == 0 {
			o.Suite.KeyBits = 128
		}
		if o.Suite.KeyBits != 128 && o.Suite.KeyBits != 192 && o.Suite.KeyBits != 256 {
			problem("key length %d", o.Suite.KeyBits)
		}
	case isakmp.ESP3DES, isakmp.ESPDES:
		if o.Suite.KeyBits != 0 {
			problem("key length %d for a fixed-length cipher", o.Suite.KeyBits)
		}
	}
	if o.Suite.PFS != 0 && !o.Suite.PFS.Valid() {
		problem("PFS group %v", o.Suite.PFS)
	}
	return o
}

// encodePhase2Transform builds the attributes an initiator offers.
func encodePhase2Transform(s Phase2Suite, lifeSeconds uint64) []isakmp.Attribute {
	attrs := []isakmp.Attribute{
		isakmp.BasicAttr(isakmp.IPsecSALifeType, uint16(isakmp.LifeSeconds)),
		isakmp.NumAttr(isakmp.IPsecSALifeDuration, lifeSeconds),
	}
	if s.PFS != 0 {
		attrs = append(attrs, isakmp.BasicAttr(isakmp.IPsecGroup, uint16(s.PFS)))
	}
	attrs = append(attrs, isakmp.BasicAttr(isakmp.IPsecEncapsulationMode, uint16(s.Encap)))
	if s.Auth != 0 {
		attrs = append(attrs, isakmp.BasicAttr(isakmp.IPsecAuthAlgorithm, uint16(s.Auth)))
	}
	if s.KeyBits != 0 {
		attrs = append(attrs, isakmp.BasicAttr(isakmp.IPsecKeyLength, uint16(s.KeyBits)))
	}
	return attrs
}

// Phase1Suites lists every phase-1 suite the level accepts, best first
// (for PSK); an initiator offers them all.
func (p Policy) Phase1Suites() []Phase1Suite {
	var out []Phase1Suite
	for _, g := range p1Groups {
		for _, c := range p1Ciphers {
			for _, h := range p1Hashes {
				s := Phase1Suite{Cipher: c.c, KeyBits: c.bits, Hash: h, Group: g, Auth: isakmp.AuthPSK}
				if p.acceptP1(s, []isakmp.AuthMethod{isakmp.AuthPSK}) == "" {
					out = append(out, s)
				}
			}
		}
	}
	return out
}

// Phase2Suites lists every ESP suite the level accepts without PFS, best
// first, in the given encapsulation mode.
func (p Policy) Phase2Suites(encap isakmp.EncapsulationMode) []Phase2Suite {
	var out []Phase2Suite
	for _, c := range p2Ciphers {
		for _, a := range p2Auths {
			s := Phase2Suite{Transform: c.t, KeyBits: c.bits, Auth: a, Encap: encap}
			if p.acceptP2(s, encap != isakmp.EncapTransport) == "" {
				out = append(out, s)
			}
		}
	}
	return out
}
