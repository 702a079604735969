package isakmp

import "strconv"

// name looks v up in a table and falls back to "Prefix(v)" so that an
// unknown number from the network still prints unambiguously.
func name[T ~uint8 | ~uint16 | ~uint32](names map[T]string, prefix string, v T) string {
	if s, ok := names[v]; ok {
		return s
	}
	return prefix + "(" + strconv.FormatUint(uint64(v), 10) + ")"
}

// ExchangeType is the ISAKMP exchange type (RFC 2408 §3.1, RFC 2409 §5).
type ExchangeType uint8

// Exchange types. Transaction (6) carries XAUTH and Mode-Config.
const (
	ExchangeNone               ExchangeType = 0
	ExchangeBase               ExchangeType = 1
	ExchangeIdentityProtection ExchangeType = 2
	ExchangeMainMode                        = ExchangeIdentityProtection
	ExchangeAuthOnly           ExchangeType = 3
	ExchangeAggressive         ExchangeType = 4
	ExchangeInformational      ExchangeType = 5
	ExchangeTransaction        ExchangeType = 6
	ExchangeQuickMode          ExchangeType = 32
	ExchangeNewGroup           ExchangeType = 33
)

var exchangeNames = map[ExchangeType]string{
	ExchangeNone: "NONE", ExchangeBase: "Base", ExchangeIdentityProtection: "Main Mode",
	ExchangeAuthOnly: "Authentication Only", ExchangeAggressive: "Aggressive Mode",
	ExchangeInformational: "Informational", ExchangeTransaction: "Transaction",
	ExchangeQuickMode: "Quick Mode", ExchangeNewGroup: "New Group Mode",
}

func (e ExchangeType) String() string { return name(exchangeNames, "ExchangeType", e) }

var exchangeAbbrevs = map[ExchangeType]string{
	ExchangeBase: "BASE", ExchangeIdentityProtection: "MM", ExchangeAuthOnly: "AUTH",
	ExchangeAggressive: "AM", ExchangeInformational: "INFO", ExchangeTransaction: "TRANS",
	ExchangeQuickMode: "QM", ExchangeNewGroup: "NGM",
}

// Abbrev is the short name the Oakley trace uses: MM, AM, QM, INFO, TRANS...
func (e ExchangeType) Abbrev() string { return name(exchangeAbbrevs, "XCHG", e) }

// PayloadType is the ISAKMP "next payload" number (RFC 2408 §3.1, RFC 3947,
// draft-ietf-ipsec-nat-t-ike-02/03, IKEv1 fragmentation).
type PayloadType uint8

// Payload types.
const (
	PayloadNone       PayloadType = 0
	PayloadSA         PayloadType = 1
	PayloadProposal   PayloadType = 2
	PayloadTransform  PayloadType = 3
	PayloadKE         PayloadType = 4
	PayloadID         PayloadType = 5
	PayloadCert       PayloadType = 6
	PayloadCertReq    PayloadType = 7
	PayloadHash       PayloadType = 8
	PayloadSig        PayloadType = 9
	PayloadNonce      PayloadType = 10
	PayloadNotify     PayloadType = 11
	PayloadDelete     PayloadType = 12
	PayloadVendorID   PayloadType = 13
	PayloadAttr       PayloadType = 14 // Mode-Config / XAUTH attributes
	PayloadNATD       PayloadType = 20 // RFC 3947
	PayloadNATOA      PayloadType = 21 // RFC 3947
	PayloadNATDDraft  PayloadType = 130
	PayloadNATOADraft PayloadType = 131
	PayloadFragment   PayloadType = 132 // Cisco/Microsoft IKEv1 fragmentation
)

var payloadNames = map[PayloadType]string{
	PayloadNone: "NONE", PayloadSA: "SA", PayloadProposal: "Proposal", PayloadTransform: "Transform",
	PayloadKE: "KE", PayloadID: "ID", PayloadCert: "CERT", PayloadCertReq: "CERTREQ",
	PayloadHash: "HASH", PayloadSig: "SIG", PayloadNonce: "NONCE", PayloadNotify: "N",
	PayloadDelete: "D", PayloadVendorID: "VID", PayloadAttr: "ATTR", PayloadNATD: "NAT-D",
	PayloadNATOA: "NAT-OA", PayloadNATDDraft: "NAT-D(draft)", PayloadNATOADraft: "NAT-OA(draft)",
	PayloadFragment: "FRAG",
}

func (p PayloadType) String() string { return name(payloadNames, "PayloadType", p) }

// Flags is the ISAKMP header flags octet (RFC 2408 §3.1).
type Flags uint8

// Header flags.
const (
	FlagEncryption Flags = 1 << 0
	FlagCommit     Flags = 1 << 1
	FlagAuthOnly   Flags = 1 << 2
)

func (f Flags) String() string {
	if f == 0 {
		return "none"
	}
	s := ""
	add := func(n string) {
		if s != "" {
			s += "|"
		}
		s += n
	}
	if f&FlagEncryption != 0 {
		add("E")
	}
	if f&FlagCommit != 0 {
		add("C")
	}
	if f&FlagAuthOnly != 0 {
		add("A")
	}
	if rest := f &^ (FlagEncryption | FlagCommit | FlagAuthOnly); rest != 0 {
		add("0x" + strconv.FormatUint(uint64(rest), 16))
	}
	return s
}

// DOI is the Domain of Interpretation (RFC 2408 §2.1, RFC 2407).
type DOI uint32

// DOIs.
const (
	DOIISAKMP DOI = 0
	DOIIPsec  DOI = 1
)

var doiNames = map[DOI]string{DOIISAKMP: "ISAKMP", DOIIPsec: "IPSEC"}

func (d DOI) String() string { return name(doiNames, "DOI", d) }

// Situation is the IPsec DOI situation bitmap (RFC 2407 §4.2).
type Situation uint32

// Situations. Only identity-only is used by any client we serve.
const (
	SituationIdentityOnly Situation = 1
	SituationSecrecy      Situation = 2
	SituationIntegrity    Situation = 4
)

var situationNames = map[Situation]string{
	SituationIdentityOnly: "SIT_IDENTITY_ONLY", SituationSecrecy: "SIT_SECRECY", SituationIntegrity: "SIT_INTEGRITY",
}

func (s Situation) String() string { return name(situationNames, "Situation", s) }

// ProtocolID is the protocol of a proposal, notification or delete
// (RFC 2407 §4.4.1).
type ProtocolID uint8

// Protocol IDs.
const (
	ProtoISAKMP ProtocolID = 1
	ProtoAH     ProtocolID = 2
	ProtoESP    ProtocolID = 3
	ProtoIPComp ProtocolID = 4
)

var protoNames = map[ProtocolID]string{0: "RESERVED", ProtoISAKMP: "ISAKMP", ProtoAH: "AH", ProtoESP: "ESP", ProtoIPComp: "IPCOMP"}

func (p ProtocolID) String() string { return name(protoNames, "ProtocolID", p) }

// IKETransformID is the transform ID of a PROTO_ISAKMP proposal (RFC 2407 §4.4.2).
type IKETransformID uint8

// KeyIKE is the only ISAKMP transform.
const KeyIKE IKETransformID = 1

var ikeTransformNames = map[IKETransformID]string{KeyIKE: "KEY_IKE"}

func (t IKETransformID) String() string { return name(ikeTransformNames, "IKETransformID", t) }

// ESPTransformID is the transform ID of an ESP proposal (IANA "IPsec ESP
// Transform Identifiers", RFC 2407 §4.4.4, RFC 4309, RFC 4106).
type ESPTransformID uint8

// ESP transform IDs.
const (
	ESPDESIV64         ESPTransformID = 1
	ESPDES             ESPTransformID = 2
	ESP3DES            ESPTransformID = 3
	ESPRC5             ESPTransformID = 4
	ESPIDEA            ESPTransformID = 5
	ESPCAST            ESPTransformID = 6
	ESPBlowfish        ESPTransformID = 7
	ESP3IDEA           ESPTransformID = 8
	ESPDESIV32         ESPTransformID = 9
	ESPRC4             ESPTransformID = 10
	ESPNull            ESPTransformID = 11
	ESPAESCBC          ESPTransformID = 12
	ESPAESCTR          ESPTransformID = 13
	ESPAESCCM8         ESPTransformID = 14
	ESPAESCCM12        ESPTransformID = 15
	ESPAESCCM16        ESPTransformID = 16
	ESPAESGCM8         ESPTransformID = 18
	ESPAESGCM12        ESPTransformID = 19
	ESPAESGCM16        ESPTransformID = 20
	ESPNullAuthAESGMAC ESPTransformID = 21
	ESPCamelliaCBC     ESPTransformID = 22
)

var espNames = map[ESPTransformID]string{
	ESPDESIV64: "DES-IV64", ESPDES: "DES", ESP3DES: "3DES", ESPRC5: "RC5", ESPIDEA: "IDEA",
	ESPCAST: "CAST", ESPBlowfish: "BLOWFISH", ESP3IDEA: "3IDEA", ESPDESIV32: "DES-IV32",
	ESPRC4: "RC4", ESPNull: "NULL", ESPAESCBC: "AES-CBC", ESPAESCTR: "AES-CTR",
	ESPAESCCM8: "AES-CCM-8", ESPAESCCM12: "AES-CCM-12", ESPAESCCM16: "AES-CCM-16",
	ESPAESGCM8: "AES-GCM-8", ESPAESGCM12: "AES-GCM-12", ESPAESGCM16: "AES-GCM-16",
	ESPNullAuthAESGMAC: "NULL-AUTH-AES-GMAC", ESPCamelliaCBC: "CAMELLIA-CBC",
}

func (t ESPTransformID) String() string { return name(espNames, "ESPTransformID", t) }

// AHTransformID is the transform ID of an AH proposal (RFC 2407 §4.4.3).
type AHTransformID uint8

// AH transform IDs.
const (
	AHMD5        AHTransformID = 2
	AHSHA        AHTransformID = 3
	AHDES        AHTransformID = 4
	AHSHA2256    AHTransformID = 5
	AHSHA2384    AHTransformID = 6
	AHSHA2512    AHTransformID = 7
	AHRIPEMD     AHTransformID = 8
	AHAESXCBCMAC AHTransformID = 9
)

var ahNames = map[AHTransformID]string{
	AHMD5: "AH-MD5", AHSHA: "AH-SHA", AHDES: "AH-DES", AHSHA2256: "AH-SHA2-256", AHSHA2384: "AH-SHA2-384",
	AHSHA2512: "AH-SHA2-512", AHRIPEMD: "AH-RIPEMD", AHAESXCBCMAC: "AH-AES-XCBC-MAC",
}

func (t AHTransformID) String() string { return name(ahNames, "AHTransformID", t) }

// IPCompTransformID is the transform ID of an IPCOMP proposal (RFC 2407 §4.4.5).
type IPCompTransformID uint8

// IPCOMP transform IDs.
const (
	IPCompOUI     IPCompTransformID = 1
	IPCompDeflate IPCompTransformID = 2
	IPCompLZS     IPCompTransformID = 3
	IPCompLZJH    IPCompTransformID = 4
)

var ipcompNames = map[IPCompTransformID]string{IPCompOUI: "OUI", IPCompDeflate: "DEFLATE", IPCompLZS: "LZS", IPCompLZJH: "LZJH"}

func (t IPCompTransformID) String() string { return name(ipcompNames, "IPCompTransformID", t) }

// OakleyAttr is a phase-1 (IKE, RFC 2409 appendix A) SA attribute type.
type OakleyAttr uint16

// Phase-1 attribute types. LifeDuration is variable length.
const (
	OakleyEncryption   OakleyAttr = 1
	OakleyHash         OakleyAttr = 2
	OakleyAuthMethod   OakleyAttr = 3
	OakleyGroup        OakleyAttr = 4
	OakleyGroupType    OakleyAttr = 5
	OakleyGroupPrime   OakleyAttr = 6
	OakleyGroupGen1    OakleyAttr = 7
	OakleyGroupGen2    OakleyAttr = 8
	OakleyGroupCurveA  OakleyAttr = 9
	OakleyGroupCurveB  OakleyAttr = 10
	OakleyLifeType     OakleyAttr = 11
	OakleyLifeDuration OakleyAttr = 12
	OakleyPRF          OakleyAttr = 13
	OakleyKeyLength    OakleyAttr = 14
	OakleyFieldSize    OakleyAttr = 15
	OakleyGroupOrder   OakleyAttr = 16
)

var oakleyAttrNames = map[OakleyAttr]string{
	OakleyEncryption: "Encryption Algorithm", OakleyHash: "Hash Algorithm", OakleyAuthMethod: "Authentication Method",
	OakleyGroup: "Group Description", OakleyGroupType: "Group Type", OakleyGroupPrime: "Group Prime/Irreducible Polynomial",
	OakleyGroupGen1: "Group Generator One", OakleyGroupGen2: "Group Generator Two", OakleyGroupCurveA: "Group Curve A",
	OakleyGroupCurveB: "Group Curve B", OakleyLifeType: "Life Type", OakleyLifeDuration: "Life Duration",
	OakleyPRF: "PRF", OakleyKeyLength: "Key Length", OakleyFieldSize: "Field Size", OakleyGroupOrder: "Group Order",
}

func (a OakleyAttr) String() string { return name(oakleyAttrNames, "OakleyAttr", a) }

// EncryptionAlgorithm is the phase-1 Encryption Algorithm attribute value.
type EncryptionAlgorithm uint16

// Phase-1 encryption algorithms (IANA "IPSEC Encryption Algorithm").
const (
	EncDES      EncryptionAlgorithm = 1
	EncIDEA     EncryptionAlgorithm = 2
	EncBlowfish EncryptionAlgorithm = 3
	EncRC5      EncryptionAlgorithm = 4
	Enc3DES     EncryptionAlgorithm = 5
	EncCAST     EncryptionAlgorithm = 6
	EncAES      EncryptionAlgorithm = 7
	EncCamellia EncryptionAlgorithm = 8
)

var encNames = map[EncryptionAlgorithm]string{
	EncDES: "DES-CBC", EncIDEA: "IDEA-CBC", EncBlowfish: "Blowfish-CBC", EncRC5: "RC5-R16-B64-CBC",
	Enc3DES: "3DES-CBC", EncCAST: "CAST-CBC", EncAES: "AES-CBC", EncCamellia: "Camellia-CBC",
}

func (e EncryptionAlgorithm) String() string { return name(encNames, "EncryptionAlgorithm", e) }

// HashAlgorithm is the phase-1 Hash Algorithm attribute value.
type HashAlgorithm uint16

// Phase-1 hash algorithms.
const (
	HashMD5     HashAlgorithm = 1
	HashSHA1    HashAlgorithm = 2
	HashTiger   HashAlgorithm = 3
	HashSHA2256 HashAlgorithm = 4
	HashSHA2384 HashAlgorithm = 5
	HashSHA2512 HashAlgorithm = 6
)

var hashNames = map[HashAlgorithm]string{
	HashMD5: "MD5", HashSHA1: "SHA", HashTiger: "Tiger", HashSHA2256: "SHA2-256", HashSHA2384: "SHA2-384", HashSHA2512: "SHA2-512",
}

func (h HashAlgorithm) String() string { return name(hashNames, "HashAlgorithm", h) }

// AuthMethod is the phase-1 Authentication Method attribute value
// (RFC 2409, RFC 4754, draft-ietf-ipsec-isakmp-hybrid-auth and -xauth).
type AuthMethod uint16

// Phase-1 authentication methods.
const (
	AuthPSK                    AuthMethod = 1
	AuthDSS                    AuthMethod = 2
	AuthRSASig                 AuthMethod = 3
	AuthRSAEnc                 AuthMethod = 4
	AuthRSARevisedEnc          AuthMethod = 5
	AuthECDSA256               AuthMethod = 9
	AuthECDSA384               AuthMethod = 10
	AuthECDSA521               AuthMethod = 11
	AuthHybridInitRSA          AuthMethod = 64221
	AuthHybridRespRSA          AuthMethod = 64222
	AuthHybridInitDSS          AuthMethod = 64223
	AuthHybridRespDSS          AuthMethod = 64224
	AuthXAUTHInitPSK           AuthMethod = 65001
	AuthXAUTHRespPSK           AuthMethod = 65002
	AuthXAUTHInitDSS           AuthMethod = 65003
	AuthXAUTHRespDSS           AuthMethod = 65004
	AuthXAUTHInitRSA           AuthMethod = 65005
	AuthXAUTHRespRSA           AuthMethod = 65006
	AuthXAUTHInitRSAEnc        AuthMethod = 65007
	AuthXAUTHRespRSAEnc        AuthMethod = 65008
	AuthXAUTHInitRSARevisedEnc AuthMethod = 65009
	AuthXAUTHRespRSARevisedEnc AuthMethod = 65010
)

var authNames = map[AuthMethod]string{
	AuthPSK: "Pre-Shared Key", AuthDSS: "DSS Signatures", AuthRSASig: "RSA Signatures", AuthRSAEnc: "RSA Encryption",
	AuthRSARevisedEnc: "Revised RSA Encryption", AuthECDSA256: "ECDSA-SHA256-P256", AuthECDSA384: "ECDSA-SHA384-P384",
	AuthECDSA521: "ECDSA-SHA512-P521", AuthHybridInitRSA: "HybridInitRSA", AuthHybridRespRSA: "HybridRespRSA",
	AuthHybridInitDSS: "HybridInitDSS", AuthHybridRespDSS: "HybridRespDSS", AuthXAUTHInitPSK: "XAUTHInitPreShared",
	AuthXAUTHRespPSK: "XAUTHRespPreShared", AuthXAUTHInitDSS: "XAUTHInitDSS", AuthXAUTHRespDSS: "XAUTHRespDSS",
	AuthXAUTHInitRSA: "XAUTHInitRSA", AuthXAUTHRespRSA: "XAUTHRespRSA", AuthXAUTHInitRSAEnc: "XAUTHInitRSAEncryption",
	AuthXAUTHRespRSAEnc: "XAUTHRespRSAEncryption", AuthXAUTHInitRSARevisedEnc: "XAUTHInitRSARevisedEncryption",
	AuthXAUTHRespRSARevisedEnc: "XAUTHRespRSARevisedEncryption",
}

func (a AuthMethod) String() string { return name(authNames, "AuthMethod", a) }

// GroupDescription is the Diffie-Hellman group (phase-1 attribute 4 and
// phase-2 attribute 3; IANA "Group Description").
type GroupDescription uint16

// Diffie-Hellman groups.
const (
	GroupMODP768       GroupDescription = 1
	GroupMODP1024      GroupDescription = 2
	GroupEC2N155       GroupDescription = 3
	GroupEC2N185       GroupDescription = 4
	GroupMODP1536      GroupDescription = 5
	GroupMODP2048      GroupDescription = 14
	GroupMODP3072      GroupDescription = 15
	GroupMODP4096      GroupDescription = 16
	GroupMODP6144      GroupDescription = 17
	GroupMODP8192      GroupDescription = 18
	GroupECP256        GroupDescription = 19
	GroupECP384        GroupDescription = 20
	GroupECP521        GroupDescription = 21
	GroupMODP1024S160  GroupDescription = 22
	GroupMODP2048S224  GroupDescription = 23
	GroupMODP2048S256  GroupDescription = 24
	GroupECP192        GroupDescription = 25
	GroupECP224        GroupDescription = 26
	GroupBrainpoolP224 GroupDescription = 27
	GroupBrainpoolP256 GroupDescription = 28
	GroupBrainpoolP384 GroupDescription = 29
	GroupBrainpoolP512 GroupDescription = 30
	GroupCurve25519    GroupDescription = 31
	GroupCurve448      GroupDescription = 32
)

var groupNames = map[GroupDescription]string{
	GroupMODP768: "MODP768", GroupMODP1024: "MODP1024", GroupEC2N155: "EC2N155", GroupEC2N185: "EC2N185",
	GroupMODP1536: "MODP1536", GroupMODP2048: "MODP2048", GroupMODP3072: "MODP3072", GroupMODP4096: "MODP4096",
	GroupMODP6144: "MODP6144", GroupMODP8192: "MODP8192", GroupECP256: "ECP256", GroupECP384: "ECP384",
	GroupECP521: "ECP521", GroupMODP1024S160: "MODP1024S160", GroupMODP2048S224: "MODP2048S224",
	GroupMODP2048S256: "MODP2048S256", GroupECP192: "ECP192", GroupECP224: "ECP224",
	GroupBrainpoolP224: "BRAINPOOLP224", GroupBrainpoolP256: "BRAINPOOLP256", GroupBrainpoolP384: "BRAINPOOLP384",
	GroupBrainpoolP512: "BRAINPOOLP512", GroupCurve25519: "CURVE25519", GroupCurve448: "CURVE448",
}

func (g GroupDescription) String() string { return name(groupNames, "Group", g) }

// GroupType is the phase-1 Group Type attribute value.
type GroupType uint16

// Group types.
const (
	GroupTypeMODP GroupType = 1
	GroupTypeECP  GroupType = 2
	GroupTypeEC2N GroupType = 3
)

var groupTypeNames = map[GroupType]string{GroupTypeMODP: "MODP", GroupTypeECP: "ECP", GroupTypeEC2N: "EC2N"}

func (g GroupType) String() string { return name(groupTypeNames, "GroupType", g) }

// LifeType is the unit of the following Life Duration attribute, in both
// phases (phase-1 attribute 11, phase-2 attribute 1).
type LifeType uint16

// Life types.
const (
	LifeSeconds   LifeType = 1
	LifeKilobytes LifeType = 2
)

var lifeTypeNames = map[LifeType]string{LifeSeconds: "seconds", LifeKilobytes: "kilobytes"}

func (l LifeType) String() string { return name(lifeTypeNames, "LifeType", l) }

// IPsecAttr is a phase-2 (IPsec DOI, RFC 2407 §4.5) SA attribute type.
type IPsecAttr uint16

// Phase-2 attribute types. SALifeDuration is variable length.
const (
	IPsecSALifeType          IPsecAttr = 1
	IPsecSALifeDuration      IPsecAttr = 2
	IPsecGroup               IPsecAttr = 3
	IPsecEncapsulationMode   IPsecAttr = 4
	IPsecAuthAlgorithm       IPsecAttr = 5
	IPsecKeyLength           IPsecAttr = 6
	IPsecKeyRounds           IPsecAttr = 7
	IPsecCompressDictSize    IPsecAttr = 8
	IPsecCompressPrivateAlg  IPsecAttr = 9
	IPsecECNTunnel           IPsecAttr = 10
	IPsecExtendedSeqNumbers  IPsecAttr = 11
	IPsecAuthKeyLength       IPsecAttr = 12
	IPsecSignatureEncoding   IPsecAttr = 13
	IPsecAddressPreservation IPsecAttr = 14
	IPsecSAdirection         IPsecAttr = 15
	ipsecAttrSecCtxLibreswan IPsecAttr = 32001 // labeled IPsec (Libreswan private)
)

var ipsecAttrNames = map[IPsecAttr]string{
	IPsecSALifeType: "SA Life Type", IPsecSALifeDuration: "SA Life Duration", IPsecGroup: "Group Description",
	IPsecEncapsulationMode: "Encapsulation Mode", IPsecAuthAlgorithm: "Authentication Algorithm",
	IPsecKeyLength: "Key Length", IPsecKeyRounds: "Key Rounds", IPsecCompressDictSize: "Compress Dictionary Size",
	IPsecCompressPrivateAlg: "Compress Private Algorithm", IPsecECNTunnel: "ECN Tunnel",
	IPsecExtendedSeqNumbers: "Extended (64-bit) Sequence Number", IPsecAuthKeyLength: "Authentication Key Length",
	IPsecSignatureEncoding: "Signature Encoding Algorithm", IPsecAddressPreservation: "Address Preservation",
	IPsecSAdirection: "SA Direction", ipsecAttrSecCtxLibreswan: "Security Context",
}

func (a IPsecAttr) String() string { return name(ipsecAttrNames, "IPsecAttr", a) }

// EncapsulationMode is the phase-2 Encapsulation Mode attribute value
// (RFC 2407, RFC 3947, and the NAT-T drafts' private values).
type EncapsulationMode uint16

// Encapsulation modes.
const (
	EncapTunnel            EncapsulationMode = 1
	EncapTransport         EncapsulationMode = 2
	EncapUDPTunnel         EncapsulationMode = 3
	EncapUDPTransport      EncapsulationMode = 4
	EncapUDPTunnelDraft    EncapsulationMode = 61443
	EncapUDPTransportDraft EncapsulationMode = 61444
)

var encapNames = map[EncapsulationMode]string{
	EncapTunnel: "Tunnel", EncapTransport: "Transport", EncapUDPTunnel: "UDP-Encapsulated-Tunnel",
	EncapUDPTransport: "UDP-Encapsulated-Transport", EncapUDPTunnelDraft: "UDP-Encapsulated-Tunnel(draft)",
	EncapUDPTransportDraft: "UDP-Encapsulated-Transport(draft)",
}

func (e EncapsulationMode) String() string { return name(encapNames, "EncapsulationMode", e) }

// IsTransport reports whether the mode is transport, plain or UDP-encapsulated
// in either numbering.
func (e EncapsulationMode) IsTransport() bool {
	return e == EncapTransport || e == EncapUDPTransport || e == EncapUDPTransportDraft
}

// IsUDPEncapsulated reports whether the mode asks for ESP in UDP (RFC 3948),
// in either the RFC or the draft numbering.
func (e EncapsulationMode) IsUDPEncapsulated() bool {
	return e == EncapUDPTunnel || e == EncapUDPTransport || e == EncapUDPTunnelDraft || e == EncapUDPTransportDraft
}

// AuthAlgorithm is the phase-2 Authentication Algorithm attribute value.
type AuthAlgorithm uint16

// Phase-2 authentication algorithms.
const (
	AuthAlgHMACMD5     AuthAlgorithm = 1
	AuthAlgHMACSHA1    AuthAlgorithm = 2
	AuthAlgDESMAC      AuthAlgorithm = 3
	AuthAlgKPDK        AuthAlgorithm = 4
	AuthAlgHMACSHA2256 AuthAlgorithm = 5
	AuthAlgHMACSHA2384 AuthAlgorithm = 6
	AuthAlgHMACSHA2512 AuthAlgorithm = 7
	AuthAlgHMACRIPEMD  AuthAlgorithm = 8
	AuthAlgAESXCBCMAC  AuthAlgorithm = 9
	AuthAlgSigRSA      AuthAlgorithm = 10
	AuthAlgAES128GMAC  AuthAlgorithm = 11
	AuthAlgAES192GMAC  AuthAlgorithm = 12
	AuthAlgAES256GMAC  AuthAlgorithm = 13
)

var authAlgNames = map[AuthAlgorithm]string{
	AuthAlgHMACMD5: "HMAC-MD5", AuthAlgHMACSHA1: "HMAC-SHA", AuthAlgDESMAC: "DES-MAC", AuthAlgKPDK: "KPDK",
	AuthAlgHMACSHA2256: "HMAC-SHA2-256", AuthAlgHMACSHA2384: "HMAC-SHA2-384", AuthAlgHMACSHA2512: "HMAC-SHA2-512",
	AuthAlgHMACRIPEMD: "HMAC-RIPEMD", AuthAlgAESXCBCMAC: "AES-XCBC-MAC", AuthAlgSigRSA: "SIG-RSA",
	AuthAlgAES128GMAC: "AES-128-GMAC", AuthAlgAES192GMAC: "AES-192-GMAC", AuthAlgAES256GMAC: "AES-256-GMAC",
}

func (a AuthAlgorithm) String() string { return name(authAlgNames, "AuthAlgorithm", a) }

// NotifyType is the Notify Message Type (RFC 2408 §3.14.1, RFC 2407 §4.6.3,
// RFC 3706).
type NotifyType uint16

// Notify message types: errors 1..30, then status types.
const (
	NotifyInvalidPayloadType      NotifyType = 1
	NotifyDOINotSupported         NotifyType = 2
	NotifySituationNotSupported   NotifyType = 3
	NotifyInvalidCookie           NotifyType = 4
	NotifyInvalidMajorVersion     NotifyType = 5
	NotifyInvalidMinorVersion     NotifyType = 6
	NotifyInvalidExchangeType     NotifyType = 7
	NotifyInvalidFlags            NotifyType = 8
	NotifyInvalidMessageID        NotifyType = 9
	NotifyInvalidProtocolID       NotifyType = 10
	NotifyInvalidSPI              NotifyType = 11
	NotifyInvalidTransformID      NotifyType = 12
	NotifyAttributesNotSupported  NotifyType = 13
	NotifyNoProposalChosen        NotifyType = 14
	NotifyBadProposalSyntax       NotifyType = 15
	NotifyPayloadMalformed        NotifyType = 16
	NotifyInvalidKeyInformation   NotifyType = 17
	NotifyInvalidIDInformation    NotifyType = 18
	NotifyInvalidCertEncoding     NotifyType = 19
	NotifyInvalidCertificate      NotifyType = 20
	NotifyCertTypeUnsupported     NotifyType = 21
	NotifyInvalidCertAuthority    NotifyType = 22
	NotifyInvalidHashInformation  NotifyType = 23
	NotifyAuthenticationFailed    NotifyType = 24
	NotifyInvalidSignature        NotifyType = 25
	NotifyAddressNotification     NotifyType = 26
	NotifyNotifySALifetime        NotifyType = 27
	NotifyCertificateUnavailable  NotifyType = 28
	NotifyUnsupportedExchangeType NotifyType = 29
	NotifyUnequalPayloadLengths   NotifyType = 30
	NotifyConnected               NotifyType = 16384
	NotifyResponderLifetime       NotifyType = 24576
	NotifyReplayStatus            NotifyType = 24577
	NotifyInitialContact          NotifyType = 24578
	NotifyRUThere                 NotifyType = 36136
	NotifyRUThereAck              NotifyType = 36137
)

var notifyNames = map[NotifyType]string{
	NotifyInvalidPayloadType: "INVALID-PAYLOAD-TYPE", NotifyDOINotSupported: "DOI-NOT-SUPPORTED",
	NotifySituationNotSupported: "SITUATION-NOT-SUPPORTED", NotifyInvalidCookie: "INVALID-COOKIE",
	NotifyInvalidMajorVersion: "INVALID-MAJOR-VERSION", NotifyInvalidMinorVersion: "INVALID-MINOR-VERSION",
	NotifyInvalidExchangeType: "INVALID-EXCHANGE-TYPE", NotifyInvalidFlags: "INVALID-FLAGS",
	NotifyInvalidMessageID: "INVALID-MESSAGE-ID", NotifyInvalidProtocolID: "INVALID-PROTOCOL-ID",
	NotifyInvalidSPI: "INVALID-SPI", NotifyInvalidTransformID: "INVALID-TRANSFORM-ID",
	NotifyAttributesNotSupported: "ATTRIBUTES-NOT-SUPPORTED", NotifyNoProposalChosen: "NO-PROPOSAL-CHOSEN",
	NotifyBadProposalSyntax: "BAD-PROPOSAL-SYNTAX", NotifyPayloadMalformed: "PAYLOAD-MALFORMED",
	NotifyInvalidKeyInformation: "INVALID-KEY-INFORMATION", NotifyInvalidIDInformation: "INVALID-ID-INFORMATION",
	NotifyInvalidCertEncoding: "INVALID-CERT-ENCODING", NotifyInvalidCertificate: "INVALID-CERTIFICATE",
	NotifyCertTypeUnsupported: "CERT-TYPE-UNSUPPORTED", NotifyInvalidCertAuthority: "INVALID-CERT-AUTHORITY",
	NotifyInvalidHashInformation: "INVALID-HASH-INFORMATION", NotifyAuthenticationFailed: "AUTHENTICATION-FAILED",
	NotifyInvalidSignature: "INVALID-SIGNATURE", NotifyAddressNotification: "ADDRESS-NOTIFICATION",
	NotifyNotifySALifetime: "NOTIFY-SA-LIFETIME", NotifyCertificateUnavailable: "CERTIFICATE-UNAVAILABLE",
	NotifyUnsupportedExchangeType: "UNSUPPORTED-EXCHANGE-TYPE", NotifyUnequalPayloadLengths: "UNEQUAL-PAYLOAD-LENGTHS",
	NotifyConnected: "CONNECTED", NotifyResponderLifetime: "RESPONDER-LIFETIME", NotifyReplayStatus: "REPLAY-STATUS",
	NotifyInitialContact: "INITIAL-CONTACT", NotifyRUThere: "R-U-THERE", NotifyRUThereAck: "R-U-THERE-ACK",
}

func (n NotifyType) String() string { return name(notifyNames, "NotifyType", n) }

// IsError reports whether the type is in the error range (1..16383).
func (n NotifyType) IsError() bool { return n >= 1 && n < 16384 }

// IDType is the identification type (RFC 2407 §4.6.2.1).
type IDType uint8

// Identification types.
const (
	IDIPv4Addr       IDType = 1
	IDFQDN           IDType = 2
	IDUserFQDN       IDType = 3
	IDIPv4AddrSubnet IDType = 4
	IDIPv6Addr       IDType = 5
	IDIPv6AddrSubnet IDType = 6
	IDIPv4AddrRange  IDType = 7
	IDIPv6AddrRange  IDType = 8
	IDDERASN1DN      IDType = 9
	IDDERASN1GN      IDType = 10
	IDKeyID          IDType = 11
)

var idNames = map[IDType]string{
	IDIPv4Addr: "ID_IPV4_ADDR", IDFQDN: "ID_FQDN", IDUserFQDN: "ID_USER_FQDN", IDIPv4AddrSubnet: "ID_IPV4_ADDR_SUBNET",
	IDIPv6Addr: "ID_IPV6_ADDR", IDIPv6AddrSubnet: "ID_IPV6_ADDR_SUBNET", IDIPv4AddrRange: "ID_IPV4_ADDR_RANGE",
	IDIPv6AddrRange: "ID_IPV6_ADDR_RANGE", IDDERASN1DN: "ID_DER_ASN1_DN", IDDERASN1GN: "ID_DER_ASN1_GN", IDKeyID: "ID_KEY_ID",
}

func (t IDType) String() string { return name(idNames, "IDType", t) }

// CertEncoding is the certificate encoding of CERT and CERTREQ payloads
// (RFC 2408 §3.9).
type CertEncoding uint8

// Certificate encodings.
const (
	CertPKCS7             CertEncoding = 1
	CertPGP               CertEncoding = 2
	CertDNSSignedKey      CertEncoding = 3
	CertX509Signature     CertEncoding = 4
	CertX509KeyExchange   CertEncoding = 5
	CertKerberos          CertEncoding = 6
	CertCRL               CertEncoding = 7
	CertARL               CertEncoding = 8
	CertSPKI              CertEncoding = 9
	CertX509Attribute     CertEncoding = 10
	CertRawRSAKey         CertEncoding = 11
	CertHashURLX509       CertEncoding = 12
	CertHashURLX509Bundle CertEncoding = 13
)

var certNames = map[CertEncoding]string{
	CertPKCS7: "PKCS #7 wrapped X.509", CertPGP: "PGP", CertDNSSignedKey: "DNS Signed Key",
	CertX509Signature: "X.509 Certificate - Signature", CertX509KeyExchange: "X.509 Certificate - Key Exchange",
	CertKerberos: "Kerberos Tokens", CertCRL: "CRL", CertARL: "ARL", CertSPKI: "SPKI",
	CertX509Attribute: "X.509 Certificate - Attribute", CertRawRSAKey: "Raw RSA Key",
	CertHashURLX509: "Hash and URL of X.509 certificate", CertHashURLX509Bundle: "Hash and URL of X.509 bundle",
}

func (c CertEncoding) String() string { return name(certNames, "CertEncoding", c) }

// ModeCfgType is the type of an ATTR (Mode-Config / XAUTH) payload
// (draft-dukes-ike-mode-cfg).
type ModeCfgType uint8

// Mode-Config message types.
const (
	CfgRequest ModeCfgType = 1
	CfgReply   ModeCfgType = 2
	CfgSet     ModeCfgType = 3
	CfgAck     ModeCfgType = 4
)

var cfgTypeNames = map[ModeCfgType]string{CfgRequest: "ISAKMP_CFG_REQUEST", CfgReply: "ISAKMP_CFG_REPLY", CfgSet: "ISAKMP_CFG_SET", CfgAck: "ISAKMP_CFG_ACK"}

func (c ModeCfgType) String() string { return name(cfgTypeNames, "ModeCfgType", c) }

// ModeCfgAttr is a Mode-Config / XAUTH attribute type.
type ModeCfgAttr uint16

// A few Mode-Config and XAUTH attribute types, for traces.
const (
	CfgInternalIP4Address ModeCfgAttr = 1
	CfgInternalIP4Netmask ModeCfgAttr = 2
	CfgInternalIP4DNS     ModeCfgAttr = 3
	CfgInternalIP4NBNS    ModeCfgAttr = 4
	CfgInternalAddrExpiry ModeCfgAttr = 5
	CfgInternalIP4DHCP    ModeCfgAttr = 6
	CfgApplicationVersion ModeCfgAttr = 7
	XAuthType             ModeCfgAttr = 16520
	XAuthUserName         ModeCfgAttr = 16521
	XAuthUserPassword     ModeCfgAttr = 16522
	XAuthPasscode         ModeCfgAttr = 16523
	XAuthMessage          ModeCfgAttr = 16524
	XAuthChallenge        ModeCfgAttr = 16525
	XAuthDomain           ModeCfgAttr = 16526
	XAuthStatus           ModeCfgAttr = 16527
)

var cfgNames = map[ModeCfgAttr]string{
	CfgInternalIP4Address: "INTERNAL_IP4_ADDRESS", CfgInternalIP4Netmask: "INTERNAL_IP4_NETMASK",
	CfgInternalIP4DNS: "INTERNAL_IP4_DNS", CfgInternalIP4NBNS: "INTERNAL_IP4_NBNS",
	CfgInternalAddrExpiry: "INTERNAL_ADDRESS_EXPIRY", CfgInternalIP4DHCP: "INTERNAL_IP4_DHCP",
	CfgApplicationVersion: "APPLICATION_VERSION", XAuthType: "XAUTH-TYPE", XAuthUserName: "XAUTH-USER-NAME",
	XAuthUserPassword: "XAUTH-USER-PASSWORD", XAuthPasscode: "XAUTH-PASSCODE", XAuthMessage: "XAUTH-MESSAGE",
	XAuthChallenge: "XAUTH-CHALLENGE", XAuthDomain: "XAUTH-DOMAIN", XAuthStatus: "XAUTH-STATUS",
}

func (c ModeCfgAttr) String() string { return name(cfgNames, "ModeCfgAttr", c) }
