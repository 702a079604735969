package ike

import (
	"fmt"
	"strings"
	"time"

	"github.com/l2tpsecd/l2tpsecd/ike/isakmp"
)

// Level is a proposal policy level: which suites the server accepts.
type Level uint8

// Policy levels. Each includes the one before.
const (
	// LevelModern (default): IKE AES-CBC-128/256 with SHA1/SHA2, DH 14, 19,
	// 20 (and the stronger 15, 16, 21); ESP AES-CBC-128/256 with HMAC-SHA1-96/SHA2-256-128/SHA2-512-256
	// and AES-GCM-16.
	LevelModern Level = iota
	// LevelCompat adds 3DES, MODP1024 (group 2), MODP1536 (group 5) and
	// MD5 for old clients.
	LevelCompat
	// LevelInsecure adds DES and MODP768 (group 1).
	LevelInsecure
)

func (l Level) String() string {
	switch l {
	case LevelModern:
		return "modern"
	case LevelCompat:
		return "compat"
	case LevelInsecure:
		return "insecure"
	}
	return fmt.Sprintf("level(%d)", uint8(l))
}

// ParseLevel reads a level name as written in the configuration.
func ParseLevel(s string) (Level, error) {
	for _, l := range []Level{LevelModern, LevelCompat, LevelInsecure} {
		if s == l.String() {
			return l, nil
		}
	}
	return 0, fmt.Errorf("ike: unknown proposal policy %q (want modern, compat or insecure)", s)
}

// Default lifetimes when a proposal carries none (RFC 2407 section 4.5,
// RFC 2409 Appendix A: 28800 s).
const (
	DefaultPhase1Lifetime = 8 * time.Hour
	DefaultPhase2Lifetime = 8 * time.Hour
)

// Policy says what the server accepts and how long SAs may live.
type Policy struct {
	Level Level
	// MaxPhase1Lifetime and MaxPhase2Lifetime cap the client's lifetimes
	// (0: 8 h and 1 h).
	MaxPhase1Lifetime time.Duration
	MaxPhase2Lifetime time.Duration
	// MaxPhase2Kilobytes caps a phase-2 kilobyte lifetime (0: no cap).
	MaxPhase2Kilobytes uint64
	// SHA256Truncated96 treats HMAC-SHA2-256 as 96-bit truncated (the
	// pre-RFC 4868 behaviour of Android 6/7); set per peer.
	SHA256Truncated96 bool
}

func (p Policy) maxP1() time.Duration {
	if p.MaxPhase1Lifetime > 0 {
		return p.MaxPhase1Lifetime
	}
	return 8 * time.Hour
}

func (p Policy) maxP2() time.Duration {
	if p.MaxPhase2Lifetime > 0 {
		return p.MaxPhase2Lifetime
	}
	return time.Hour
}

// Server preference orders, best first. Group ranks first (it bounds the
// security of everything else), then cipher, then hash.
var (
	p1Groups  = []Group{GroupECP521, GroupECP384, GroupECP256, GroupMODP4096, GroupMODP3072, GroupMODP2048, GroupMODP1536, GroupMODP1024, GroupMODP768}
	p1Ciphers = []struct {
		c    CipherAlg
		bits int
	}{{CipherAESCBC, 256}, {CipherAESCBC, 128}, {Cipher3DES, 0}, {CipherDES, 0}}
	p1Hashes = []HashAlg{HashSHA256, HashSHA384, HashSHA512, HashSHA1, HashMD5}
)

func groupLevel(g Group) (Level, bool) {
	switch g {
	case GroupMODP2048, GroupMODP3072, GroupMODP4096, GroupECP256, GroupECP384, GroupECP521:
		return LevelModern, true
	case GroupMODP1024, GroupMODP1536:
		return LevelCompat, true
	case GroupMODP768:
		return LevelInsecure, true
	}
	return 0, false
}

func cipherLevel(c CipherAlg, bits int) (Level, bool) {
	switch {
	case c == CipherAESCBC && (bits == 128 || bits == 256):
		return LevelModern, true
	case c == Cipher3DES:
		return LevelCompat, true
	case c == CipherDES:
		return LevelInsecure, true
	}
	return 0, false
}

func hashLevel(h HashAlg) (Level, bool) {
	switch h {
	case HashSHA1, HashSHA256, HashSHA384, HashSHA512:
		return LevelModern, true
	case HashMD5:
		return LevelCompat, true
	}
	return 0, false
}

// Phase1Suite is a negotiated (or offered) IKE SA suite.
type Phase1Suite struct {
	Cipher  CipherAlg
	KeyBits int // 0 for fixed-length ciphers
	Hash    HashAlg
	Group   Group
	Auth    isakmp.AuthMethod
}

// String names the suite as logs and the audit log show it, e.g.
// "AES256-SHA1-MODP2048".
func (s Phase1Suite) String() string {
	c := s.Cipher.String()
	switch s.Cipher {
	case CipherAESCBC:
		c = fmt.Sprintf("AES%d", s.KeyBits)
	case Cipher3DES:
		c = "3DES"
	case CipherDES:
		c = "DES"
	}
	h := s.Hash.String()
	switch s.Hash {
	case HashSHA256:
		h = "SHA256"
	case HashSHA384:
		h = "SHA384"
	case HashSHA512:
		h = "SHA512"
	}
	out := c + "-" + h + "-" + s.Group.String()
	if s.Auth != 0 && s.Auth != isakmp.AuthPSK {
		out += "-" + s.Auth.String()
	}
	return out
}

// KeyBytes is the cipher key length in bytes.
func (s Phase1Suite) KeyBytes() int {
	n, _ := s.Cipher.KeyBytes(s.KeyBits)
	return n
}

// Phase1Offer is one transform of the client's phase-1 proposal.
type Phase1Offer struct {
	ProposalNum  uint8
	TransformNum uint8
	Suite        Phase1Suite
	Lifetime     time.Duration // 0 when not given
	LifeKB       uint64
	// Problem is set when the transform could not be understood (unknown
	// attribute, bad key length); the transform is then refused.
	Problem string
	// Raw is the transform's attributes as received, echoed in the reply.
	Raw []isakmp.Attribute
}

// Phase1Choice is the selected transform and the lifetime the SA gets.
type Phase1Choice struct {
	Offer    Phase1Offer
	Lifetime time.Duration
}

// Accepts reports whether the policy allows the phase-1 suite with the
// given authentication methods; when it does not, why not.
func (p Policy) acceptP1(s Phase1Suite, auths []isakmp.AuthMethod) string {
	if l, ok := groupLevel(s.Group); !ok || l > p.Level {
		return "group " + s.Group.String()
	}
	if l, ok := cipherLevel(s.Cipher, s.KeyBits); !ok || l > p.Level {
		return "cipher " + s.Cipher.String()
	}
	if l, ok := hashLevel(s.Hash); !ok || l > p.Level {
		return "hash " + s.Hash.String()
	}
	for _, a := range auths {
		if s.Auth == a {
			return ""
		}
	}
	return "auth " + s.Auth.String()
}

func authName(a isakmp.AuthMethod) string {
	if a == isakmp.AuthPSK {
		return "pre-shared key (PSK)"
	}
	return a.String()
}

func authNames(as []isakmp.AuthMethod) string {
	if len(as) == 0 {
		return "nothing (no PSK and no certificate configured)"
	}
	names := make([]string, len(as))
	for i, a := range as {
		names[i] = authName(a)
	}
	return strings.Join(names, " or ")
}

func p1Rank(s Phase1Suite) int {
	r := 0
	for gi, g := range p1Groups {
		for ci, c := range p1Ciphers {
			for hi, h := range p1Hashes {
				if s.Group == g && s.Cipher == c.c && (c.bits == 0 || s.KeyBits == c.bits) && s.Hash == h {
					return r + (gi*len(p1Ciphers)+ci)*len(p1Hashes) + hi
				}
			}
		}
	}
	return 1 << 30
}

// SelectPhase1 picks the best transform by the server's preference among
// those the policy allows, and caps the client's lifetime. auths lists the
// authentication methods the server can do (PSK now; certificates later).
func (p Policy) SelectPhase1(offers []Phase1Offer, auths []isakmp.AuthMethod) (Phase1Choice, *Failure) {
	best, bestRank := -1, 1<<31
	for i, o := range offers {
		if o.Problem != "" || p.acceptP1(o.Suite, auths) != "" {
			continue
		}
		if r := p1Rank(o.Suite); r < bestRank {
			best, bestRank = i, r
		}
	}
	if best < 0 {
		f := &Failure{Reason: ReasonNoProposalChosen, Offered: describeP1(offers), Policy: p.Level}
		// Algorithms we accept, offered only with an authentication method
		// we are not set up for (a PSK client against a certificate-only
		// server, or the reverse): say that, not "no proposal".
		for _, o := range offers {
			if o.Problem == "" && strings.HasPrefix(p.acceptP1(o.Suite, auths), "auth ") {
				f.Reason = ReasonAuthMethod
				f.Detail = fmt.Sprintf("the client offers %s authentication; the server accepts %s", authName(o.Suite.Auth), authNames(auths))
				break
			}
		}
		return Phase1Choice{}, f
	}
	o := offers[best]
	lt := o.Lifetime
	if lt <= 0 {
		lt = DefaultPhase1Lifetime
	}
	if lt > p.maxP1() {
		lt = p.maxP1()
	}
	return Phase1Choice{Offer: o, Lifetime: lt}, nil
}

// maxDescribed bounds how many offers a refusal lists (a fuzzing or
// generous client may send hundreds).
const maxDescribed = 24

func describeP1(offers []Phase1Offer) string {
	var b strings.Builder
	for i, o := range offers {
		if i == maxDescribed {
			fmt.Fprintf(&b, ", and %d more", len(offers)-i)
			break
		}
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(o.Suite.String())
		if o.Problem != "" {
			b.WriteString(" (" + o.Problem + ")")
		}
	}
	return b.String()
}

// Phase2Suite is a negotiated (or offered) ESP suite.
type Phase2Suite struct {
	Transform isakmp.ESPTransformID
	KeyBits   int
	Auth      isakmp.AuthAlgorithm // 0 for AES-GCM
	PFS       Group                // 0 without PFS
	Encap     isakmp.EncapsulationMode
}

// String names the suite, e.g. "AES256-SHA1" or "AES128GCM16-MODP2048".
func (s Phase2Suite) String() string {
	var c string
	switch s.Transform {
	case isakmp.ESPAESCBC:
		c = fmt.Sprintf("AES%d", s.KeyBits)
	case isakmp.ESPAESGCM16:
		c = fmt.Sprintf("AES%dGCM16", s.KeyBits)
	case isakmp.ESP3DES:
		c = "3DES"
	case isakmp.ESPDES:
		c = "DES"
	default:
		c = s.Transform.String()
	}
	switch s.Auth {
	case 0:
	case isakmp.AuthAlgHMACMD5:
		c += "-MD5"
	case isakmp.AuthAlgHMACSHA1:
		c += "-SHA1"
	case isakmp.AuthAlgHMACSHA2256:
		c += "-SHA256"
	case isakmp.AuthAlgHMACSHA2384:
		c += "-SHA384"
	case isakmp.AuthAlgHMACSHA2512:
		c += "-SHA512"
	default:
		c += "-" + s.Auth.String()
	}
	if s.PFS != 0 {
		c += "-" + s.PFS.String()
	}
	return c
}

// EncKeyBytes is the ESP encryption key length, including the 4-byte salt
// for AES-GCM (RFC 4106 section 8.1).
func (s Phase2Suite) EncKeyBytes() int {
	switch s.Transform {
	case isakmp.ESPAESCBC:
		return s.KeyBits / 8
	case isakmp.ESPAESGCM16:
		return s.KeyBits/8 + 4
	case isakmp.ESP3DES:
		return 24
	case isakmp.ESPDES:
		return 8
	}
	return 0
}

// AuthKeyBytes is the ESP integrity key length (RFC 2403, 2404, 4868).
func (s Phase2Suite) AuthKeyBytes() int {
	switch s.Auth {
	case isakmp.AuthAlgHMACMD5:
		return 16
	case isakmp.AuthAlgHMACSHA1:
		return 20
	case isakmp.AuthAlgHMACSHA2256:
		return 32
	case isakmp.AuthAlgHMACSHA2384:
		return 48
	case isakmp.AuthAlgHMACSHA2512:
		return 64
	}
	return 0
}

// ICVBits is the integrity check value length: 96 for MD5/SHA1, half the
// hash for SHA2 (RFC 4868), 128 for AES-GCM-16; 96 for SHA2-256 when the
// peer has the old-Android truncation bug.
func (s Phase2Suite) ICVBits(sha256Truncated96 bool) int {
	switch s.Auth {
	case isakmp.AuthAlgHMACMD5, isakmp.AuthAlgHMACSHA1:
		return 96
	case isakmp.AuthAlgHMACSHA2256:
		if sha256Truncated96 {
			return 96
		}
		return 128
	case isakmp.AuthAlgHMACSHA2384:
		return 192
	case isakmp.AuthAlgHMACSHA2512:
		return 256
	}
	if s.Transform == isakmp.ESPAESGCM16 {
		return 128
	}
	return 0
}

func (p Policy) acceptP2(s Phase2Suite, natT bool) string {
	switch {
	case s.Transform == isakmp.ESPAESGCM16 && (s.KeyBits == 128 || s.KeyBits == 256):
		if s.Auth != 0 {
			return "AES-GCM with an integrity algorithm"
		}
	case s.Transform == isakmp.ESPAESCBC && (s.KeyBits == 128 || s.KeyBits == 256):
	case s.Transform == isakmp.ESP3DES && p.Level >= LevelCompat:
	case s.Transform == isakmp.ESPDES && p.Level >= LevelInsecure:
	default:
		return "cipher " + s.Transform.String()
	}
	if s.Transform != isakmp.ESPAESGCM16 {
		switch s.Auth {
		case isakmp.AuthAlgHMACSHA1, isakmp.AuthAlgHMACSHA2256, isakmp.AuthAlgHMACSHA2512:
		case isakmp.AuthAlgHMACMD5:
			if p.Level < LevelCompat {
				return "integrity HMAC-MD5"
			}
		default:
			return "integrity " + s.Auth.String()
		}
	}
	if s.PFS != 0 {
		if l, ok := groupLevel(s.PFS); !ok || l > p.Level {
			return "PFS group " + s.PFS.String()
		}
	}
	switch s.Encap {
	case isakmp.EncapTransport:
	case isakmp.EncapUDPTransport, isakmp.EncapUDPTransportDraft:
		if !natT {
			return "UDP encapsulation without NAT-T"
		}
	default:
		return "mode " + s.Encap.String()
	}
	return ""
}

var (
	p2Ciphers = []struct {
		t    isakmp.ESPTransformID
		bits int
	}{{isakmp.ESPAESGCM16, 256}, {isakmp.ESPAESGCM16, 128}, {isakmp.ESPAESCBC, 256}, {isakmp.ESPAESCBC, 128}, {isakmp.ESP3DES, 0}, {isakmp.ESPDES, 0}}
	p2Auths = []isakmp.AuthAlgorithm{0, isakmp.AuthAlgHMACSHA2256, isakmp.AuthAlgHMACSHA2512, isakmp.AuthAlgHMACSHA1, isakmp.AuthAlgHMACMD5}
)

func p2Rank(s Phase2Suite) int {
	for ci, c := range p2Ciphers {
		for ai, a := range p2Auths {
			if s.Transform == c.t && (c.bits == 0 || s.KeyBits == c.bits) && s.Auth == a {
				return ci*len(p2Auths) + ai
			}
		}
	}
	return 1 << 30
}

// Phase2Offer is one ESP transform of the client's Quick Mode SA.
type Phase2Offer struct {
	ProposalNum  uint8
	TransformNum uint8
	SPI          uint32 // the client's inbound SPI
	Suite        Phase2Suite
	LifeSeconds  uint64
	LifeKB       uint64
	Problem      string
	Raw          []isakmp.Attribute
}

// Phase2Choice is the selected transform and the lifetimes the SA gets;
// Capped reports that the server shortened the client's lifetime (and so
// sends RESPONDER-LIFETIME, RFC 2407 section 4.6.3.1).
type Phase2Choice struct {
	Offer       Phase2Offer
	LifeSeconds uint64
	LifeKB      uint64
	Capped      bool
}

// SelectPhase2 picks the best ESP transform by the server's preference.
// Offers that belong to AND-ed proposals (several protocols under one
// proposal number, e.g. ESP+AH or ESP+IPCOMP) must have been left out by
// the caller with Problem set, since only ESP alone is supported.
func (p Policy) SelectPhase2(offers []Phase2Offer, natT bool) (Phase2Choice, *Failure) {
	best, bestRank := -1, 1<<31
	for i, o := range offers {
		if o.Problem != "" || p.acceptP2(o.Suite, natT) != "" {
			continue
		}
		if r := p2Rank(o.Suite); r < bestRank {
			best, bestRank = i, r
		}
	}
	if best < 0 {
		return Phase2Choice{}, &Failure{Reason: ReasonNoProposalChosen, Offered: describeP2(offers, p, natT), Policy: p.Level}
	}
	o := offers[best]
	c := Phase2Choice{Offer: o, LifeSeconds: o.LifeSeconds, LifeKB: o.LifeKB}
	max := uint64(p.maxP2() / time.Second)
	if c.LifeSeconds == 0 {
		c.LifeSeconds = uint64(DefaultPhase2Lifetime / time.Second)
	}
	if c.LifeSeconds > max {
		c.LifeSeconds, c.Capped = max, true
	}
	if p.MaxPhase2Kilobytes > 0 && (c.LifeKB == 0 || c.LifeKB > p.MaxPhase2Kilobytes) {
		c.LifeKB, c.Capped = p.MaxPhase2Kilobytes, true
	}
	return c, nil
}

func describeP2(offers []Phase2Offer, p Policy, natT bool) string {
	var b strings.Builder
	for i, o := range offers {
		if i == maxDescribed {
			fmt.Fprintf(&b, ", and %d more", len(offers)-i)
			break
		}
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(o.Suite.String())
		why := o.Problem
		if why == "" {
			why = p.acceptP2(o.Suite, natT)
		}
		if strings.HasPrefix(why, "mode") || strings.HasPrefix(why, "UDP") || strings.HasPrefix(why, "AND") {
			b.WriteString(" (" + why + ")")
		}
	}
	return b.String()
}
