package isakmp

import (
	"encoding/binary"
	"net/netip"
	"strconv"

	"golang.org/x/crypto/cryptobyte"
)

// Payload is one ISAKMP payload. The concrete types are *SA, *KE, *ID,
// *Cert, *CertReq, *Hash, *Sig, *Nonce, *Notify, *Delete, *VendorIDPayload,
// *NATD, *NATOA, *ModeCfg, *Fragment and *Unknown. Marshal writes the
// generic payload header itself; a payload only appends its body.
type Payload interface {
	Type() PayloadType
	appendBody(b []byte) ([]byte, error)
}

// --- SA, proposal, transform (RFC 2408 §3.4-3.6, RFC 2407 §4.6.1) ---

// SA is a Security Association payload with the IPsec DOI and the
// identity-only situation (RFC 2407 §4.6.1). Proposals keep their wire order;
// consecutive proposals with the same Number form one AND-ed offer (see
// ProposalGroups).
type SA struct {
	DOI       DOI
	Situation Situation
	Proposals []Proposal
}

// Proposal is a proposal payload inside an SA.
type Proposal struct {
	Number     uint8
	Protocol   ProtocolID
	SPI        []byte
	Transforms []Transform
}

// Transform is a transform payload inside a proposal. ID is interpreted by
// the proposal's protocol: IKETransformID for ISAKMP, ESPTransformID for
// ESP, AHTransformID for AH, IPCompTransformID for IPCOMP.
type Transform struct {
	Number     uint8
	ID         uint8
	Attributes []Attribute
}

// Type implements Payload.
func (*SA) Type() PayloadType { return PayloadSA }

// ProposalGroups splits the proposals into AND-groups: consecutive proposals
// sharing a number (RFC 2408 §4.2, e.g. ESP + IPCOMP). The groups are
// alternatives in the sender's order of preference.
func (sa *SA) ProposalGroups() [][]Proposal {
	var groups [][]Proposal
	for i := 0; i < len(sa.Proposals); {
		j := i + 1
		for j < len(sa.Proposals) && sa.Proposals[j].Number == sa.Proposals[i].Number {
			j++
		}
		groups = append(groups, sa.Proposals[i:j:j])
		i = j
	}
	return groups
}

// Attr returns the first attribute of the given type (OakleyAttr for phase 1,
// IPsecAttr for phase 2, or a plain uint16).
func (t *Transform) Attr(typ uint16) (Attribute, bool) { return FindAttr(t.Attributes, typ) }

func (sa *SA) appendBody(b []byte) ([]byte, error) {
	b = binary.BigEndian.AppendUint32(b, uint32(sa.DOI))
	b = binary.BigEndian.AppendUint32(b, uint32(sa.Situation))
	for i := range sa.Proposals {
		p := &sa.Proposals[i]
		next := PayloadProposal
		if i == len(sa.Proposals)-1 {
			next = PayloadNone
		}
		if len(p.SPI) > 0xff || len(p.Transforms) > 0xff {
			return b, ErrTooLong
		}
		start := len(b)
		b = append(b, byte(next), 0, 0, 0, p.Number, byte(p.Protocol), byte(len(p.SPI)), byte(len(p.Transforms)))
		b = append(b, p.SPI...)
		for j := range p.Transforms {
			t := &p.Transforms[j]
			tnext := PayloadTransform
			if j == len(p.Transforms)-1 {
				tnext = PayloadNone
			}
			tstart := len(b)
			b = append(b, byte(tnext), 0, 0, 0, t.Number, t.ID, 0, 0)
			for _, a := range t.Attributes {
				var err error
				if b, err = a.appendTo(b); err != nil {
					return b, err
				}
			}
			if err := putLen(b, tstart); err != nil {
				return b, err
			}
		}
		if err := putLen(b, start); err != nil {
			return b, err
		}
	}
	return b, nil
}

// putLen writes the length of the payload that starts at b[start:] into its
// generic header.
func putLen(b []byte, start int) error {
	n := len(b) - start
	if n > 0xffff {
		return ErrTooLong
	}
	binary.BigEndian.PutUint16(b[start+2:], uint16(n))
	return nil
}

// readGeneric reads a generic payload header and the body it announces.
func readGeneric(s *cryptobyte.String, next *uint8, body *cryptobyte.String) bool {
	var reserved uint8
	var length uint16
	if !s.ReadUint8(next) || !s.ReadUint8(&reserved) || !s.ReadUint16(&length) || length < 4 {
		return false
	}
	return s.ReadBytes((*[]byte)(body), int(length)-4)
}

func parseSA(body cryptobyte.String) (*SA, error) {
	sa := &SA{}
	var doi, sit uint32
	if !body.ReadUint32(&doi) {
		return nil, perr(ErrTruncated, "SA: no DOI")
	}
	sa.DOI = DOI(doi)
	if sa.DOI != DOIIPsec {
		return nil, perr(ErrDOI, "SA DOI "+strconv.FormatUint(uint64(doi), 10))
	}
	if !body.ReadUint32(&sit) {
		return nil, perr(ErrTruncated, "SA: no situation")
	}
	sa.Situation = Situation(sit)
	if sa.Situation != SituationIdentityOnly {
		return nil, perr(ErrSituation, "SA situation "+sa.Situation.String())
	}
	next := uint8(PayloadProposal)
	for pi := 1; next != uint8(PayloadNone); pi++ {
		ctx := "SA proposal #" + strconv.Itoa(pi)
		if next != uint8(PayloadProposal) {
			return nil, perr(ErrProposalSyntax, ctx+": next payload "+PayloadType(next).String()+" inside SA")
		}
		var pbody cryptobyte.String
		if !readGeneric(&body, &next, &pbody) {
			return nil, perr(ErrPayloadLength, ctx)
		}
		var p Proposal
		var proto, spiSize, nt uint8
		if !pbody.ReadUint8(&p.Number) || !pbody.ReadUint8(&proto) || !pbody.ReadUint8(&spiSize) || !pbody.ReadUint8(&nt) {
			return nil, perr(ErrTruncated, ctx)
		}
		p.Protocol = ProtocolID(proto)
		var spi []byte
		if !pbody.ReadBytes(&spi, int(spiSize)) {
			return nil, perr(ErrSPI, ctx+": SPI overruns the proposal")
		}
		p.SPI = nilIfEmpty(spi)
		// Each transform takes at least 8 bytes; trust the count only that far.
		p.Transforms = make([]Transform, 0, min(int(nt), len(pbody)/8))
		tnext := uint8(PayloadTransform)
		for ti := 1; tnext != uint8(PayloadNone); ti++ {
			tctx := ctx + " transform #" + strconv.Itoa(ti)
			if tnext != uint8(PayloadTransform) {
				return nil, perr(ErrProposalSyntax, tctx+": next payload "+PayloadType(tnext).String()+" inside proposal")
			}
			var tbody cryptobyte.String
			if !readGeneric(&pbody, &tnext, &tbody) {
				return nil, perr(ErrPayloadLength, tctx)
			}
			var t Transform
			var reserved uint16
			if !tbody.ReadUint8(&t.Number) || !tbody.ReadUint8(&t.ID) || !tbody.ReadUint16(&reserved) {
				return nil, perr(ErrTruncated, tctx)
			}
			attrs, err := parseAttributes(tbody, tctx)
			if err != nil {
				return nil, err
			}
			t.Attributes = attrs
			p.Transforms = append(p.Transforms, t)
		}
		if !pbody.Empty() {
			return nil, perr(ErrProposalSyntax, ctx+": bytes after the last transform")
		}
		if len(p.Transforms) != int(nt) {
			return nil, perr(ErrProposalSyntax, ctx+": transform count "+strconv.Itoa(int(nt))+" but "+strconv.Itoa(len(p.Transforms))+" present")
		}
		sa.Proposals = append(sa.Proposals, p)
	}
	if !body.Empty() {
		return nil, perr(ErrProposalSyntax, "SA: bytes after the last proposal")
	}
	return sa, nil
}

// --- payloads that are just data ---

// KE is a Key Exchange payload: the Diffie-Hellman public value.
type KE struct{ Data []byte }

// Nonce is a Nonce payload.
type Nonce struct{ Data []byte }

// Hash is a Hash payload.
type Hash struct{ Data []byte }

// Sig is a Signature payload.
type Sig struct{ Data []byte }

// VendorIDPayload is a Vendor ID payload; Kind classifies it.
type VendorIDPayload struct{ Data []byte }

// Type implements Payload.
func (*KE) Type() PayloadType { return PayloadKE }

// Type implements Payload.
func (*Nonce) Type() PayloadType { return PayloadNonce }

// Type implements Payload.
func (*Hash) Type() PayloadType { return PayloadHash }

// Type implements Payload.
func (*Sig) Type() PayloadType { return PayloadSig }

// Type implements Payload.
func (*VendorIDPayload) Type() PayloadType { return PayloadVendorID }

// Kind classifies the vendor ID.
func (v *VendorIDPayload) Kind() VendorID { return ClassifyVendorID(v.Data) }

func (p *KE) appendBody(b []byte) ([]byte, error)              { return append(b, p.Data...), nil }
func (p *Nonce) appendBody(b []byte) ([]byte, error)           { return append(b, p.Data...), nil }
func (p *Hash) appendBody(b []byte) ([]byte, error)            { return append(b, p.Data...), nil }
func (p *Sig) appendBody(b []byte) ([]byte, error)             { return append(b, p.Data...), nil }
func (p *VendorIDPayload) appendBody(b []byte) ([]byte, error) { return append(b, p.Data...), nil }

// --- ID (RFC 2407 §4.6.2) ---

// ID is an Identification payload in its IPsec DOI form: in phase 1 the
// sender's identity, in phase 2 a traffic selector (ProtocolID 17 and
// Port 1701 for L2TP). Data is the identification data; the typed accessors
// interpret it according to IDType.
type ID struct {
	IDType     IDType
	ProtocolID uint8 // IP protocol number, 0 for any
	Port       uint16
	Data       []byte
}

// Type implements Payload.
func (*ID) Type() PayloadType { return PayloadID }

func (p *ID) appendBody(b []byte) ([]byte, error) {
	b = append(b, byte(p.IDType), p.ProtocolID)
	b = binary.BigEndian.AppendUint16(b, p.Port)
	return append(b, p.Data...), nil
}

// NewIDAddr builds an ID_IPV4_ADDR or ID_IPV6_ADDR identification.
func NewIDAddr(a netip.Addr, proto uint8, port uint16) *ID {
	a = a.Unmap()
	t := IDIPv4Addr
	if a.Is6() {
		t = IDIPv6Addr
	}
	return &ID{IDType: t, ProtocolID: proto, Port: port, Data: a.AsSlice()}
}

// NewIDSubnet builds an ID_IPV4_ADDR_SUBNET or ID_IPV6_ADDR_SUBNET.
func NewIDSubnet(p netip.Prefix, proto uint8, port uint16) *ID {
	p = p.Masked()
	a := p.Addr().Unmap()
	bits := p.Bits()
	t := IDIPv4AddrSubnet
	n := 4
	if a.Is6() {
		t, n = IDIPv6AddrSubnet, 16
	}
	data := append([]byte(nil), a.AsSlice()...)
	mask := make([]byte, n)
	for i := 0; i < bits; i++ {
		mask[i/8] |= 0x80 >> (i % 8)
	}
	return &ID{IDType: t, ProtocolID: proto, Port: port, Data: append(data, mask...)}
}

// NewIDFQDN builds an ID_FQDN.
func NewIDFQDN(fqdn string) *ID { return &ID{IDType: IDFQDN, Data: []byte(fqdn)} }

// Addr returns the address of an ID_IPV4_ADDR or ID_IPV6_ADDR.
func (p *ID) Addr() (netip.Addr, error) {
	switch {
	case p.IDType == IDIPv4Addr && len(p.Data) == 4:
		return netip.AddrFrom4([4]byte(p.Data)), nil
	case p.IDType == IDIPv6Addr && len(p.Data) == 16:
		return netip.AddrFrom16([16]byte(p.Data)), nil
	}
	return netip.Addr{}, perr(ErrIDInfo, p.IDType.String()+" with "+strconv.Itoa(len(p.Data))+" bytes as an address")
}

// Subnet returns the prefix of an ID_IPV4_ADDR_SUBNET or ID_IPV6_ADDR_SUBNET.
// A mask that is not contiguous is an error.
func (p *ID) Subnet() (netip.Prefix, error) {
	n := 0
	switch p.IDType {
	case IDIPv4AddrSubnet:
		n = 4
	case IDIPv6AddrSubnet:
		n = 16
	}
	if n == 0 || len(p.Data) != 2*n {
		return netip.Prefix{}, perr(ErrIDInfo, p.IDType.String()+" as a subnet")
	}
	addr, _ := netip.AddrFromSlice(p.Data[:n])
	bits, ok := maskBits(p.Data[n:])
	if !ok {
		return netip.Prefix{}, perr(ErrIDInfo, "non-contiguous subnet mask")
	}
	return netip.PrefixFrom(addr, bits).Masked(), nil
}

func maskBits(m []byte) (int, bool) {
	bits := 0
	for i, b := range m {
		if b == 0xff {
			bits += 8
			continue
		}
		for b&0x80 != 0 {
			bits++
			b <<= 1
		}
		if b != 0 {
			return 0, false
		}
		for _, r := range m[i+1:] {
			if r != 0 {
				return 0, false
			}
		}
		return bits, true
	}
	return bits, true
}

// Range returns the first and last address of an ID_IPV4_ADDR_RANGE or
// ID_IPV6_ADDR_RANGE.
func (p *ID) Range() (netip.Addr, netip.Addr, error) {
	n := 0
	switch p.IDType {
	case IDIPv4AddrRange:
		n = 4
	case IDIPv6AddrRange:
		n = 16
	}
	if n == 0 || len(p.Data) != 2*n {
		return netip.Addr{}, netip.Addr{}, perr(ErrIDInfo, p.IDType.String()+" as a range")
	}
	lo, _ := netip.AddrFromSlice(p.Data[:n])
	hi, _ := netip.AddrFromSlice(p.Data[n:])
	return lo, hi, nil
}

// FQDN returns the name of an ID_FQDN or ID_USER_FQDN.
func (p *ID) FQDN() (string, error) {
	if p.IDType != IDFQDN && p.IDType != IDUserFQDN {
		return "", perr(ErrIDInfo, p.IDType.String()+" as a name")
	}
	return string(p.Data), nil
}

// DN returns the DER-encoded distinguished name of an ID_DER_ASN1_DN
// (parse it with crypto/x509/pkix).
func (p *ID) DN() ([]byte, error) {
	if p.IDType != IDDERASN1DN {
		return nil, perr(ErrIDInfo, p.IDType.String()+" as a DN")
	}
	return p.Data, nil
}

// --- CERT, CERTREQ (RFC 2408 §3.9-3.10) ---

// Cert is a Certificate payload.
type Cert struct {
	Encoding CertEncoding
	Data     []byte
}

// CertReq is a Certificate Request payload; Authority is typically a DER
// distinguished name or empty.
type CertReq struct {
	Encoding  CertEncoding
	Authority []byte
}

// Type implements Payload.
func (*Cert) Type() PayloadType { return PayloadCert }

// Type implements Payload.
func (*CertReq) Type() PayloadType { return PayloadCertReq }

func (p *Cert) appendBody(b []byte) ([]byte, error) {
	return append(append(b, byte(p.Encoding)), p.Data...), nil
}

func (p *CertReq) appendBody(b []byte) ([]byte, error) {
	return append(append(b, byte(p.Encoding)), p.Authority...), nil
}

// --- Notification, Delete (RFC 2408 §3.14-3.15) ---

// Notify is a Notification payload. For ISAKMP-SA notifications SPI is
// typically empty or the 16-byte cookie pair; for DPD (RFC 3706) it is the
// cookie pair and Data is the 4-byte sequence number.
type Notify struct {
	DOI        DOI
	Protocol   ProtocolID
	NotifyType NotifyType
	SPI        []byte
	Data       []byte
}

// Type implements Payload.
func (*Notify) Type() PayloadType { return PayloadNotify }

func (p *Notify) appendBody(b []byte) ([]byte, error) {
	if len(p.SPI) > 0xff {
		return b, ErrTooLong
	}
	b = binary.BigEndian.AppendUint32(b, uint32(p.DOI))
	b = append(b, byte(p.Protocol), byte(len(p.SPI)))
	b = binary.BigEndian.AppendUint16(b, uint16(p.NotifyType))
	b = append(b, p.SPI...)
	return append(b, p.Data...), nil
}

// Delete is a Delete payload. For ISAKMP SAs SPISize is 16 and each SPI is
// the initiator and responder cookies; for ESP it is 4.
type Delete struct {
	DOI      DOI
	Protocol ProtocolID
	SPISize  uint8
	SPIs     [][]byte
}

// Type implements Payload.
func (*Delete) Type() PayloadType { return PayloadDelete }

func (p *Delete) appendBody(b []byte) ([]byte, error) {
	if len(p.SPIs) > 0xffff {
		return b, ErrTooLong
	}
	b = binary.BigEndian.AppendUint32(b, uint32(p.DOI))
	b = append(b, byte(p.Protocol), p.SPISize)
	b = binary.BigEndian.AppendUint16(b, uint16(len(p.SPIs)))
	for _, spi := range p.SPIs {
		if len(spi) != int(p.SPISize) {
			return b, ErrSPI
		}
		b = append(b, spi...)
	}
	return b, nil
}

// --- NAT-T (RFC 3947, draft-ietf-ipsec-nat-t-ike-02/03) ---

// NATD is a NAT-Discovery payload: Hash = HASH(CKY-I | CKY-R | IP | Port).
// Draft selects payload number 130 instead of 20.
type NATD struct {
	Draft bool
	Hash  []byte
}

// Type implements Payload.
func (p *NATD) Type() PayloadType {
	if p.Draft {
		return PayloadNATDDraft
	}
	return PayloadNATD
}

func (p *NATD) appendBody(b []byte) ([]byte, error) { return append(b, p.Hash...), nil }

// NATOA is a NAT Original Address payload: ID type (ID_IPV4_ADDR or
// ID_IPV6_ADDR), three reserved bytes, then the address. Draft selects
// payload number 131 instead of 21 (same layout).
type NATOA struct {
	Draft   bool
	IDType  IDType
	Address []byte // 4 or 16 bytes as sent
}

// Type implements Payload.
func (p *NATOA) Type() PayloadType {
	if p.Draft {
		return PayloadNATOADraft
	}
	return PayloadNATOA
}

// NewNATOA builds a NAT-OA payload for a, in the draft numbering if draft.
func NewNATOA(a netip.Addr, draft bool) *NATOA {
	a = a.Unmap()
	t := IDIPv4Addr
	if a.Is6() {
		t = IDIPv6Addr
	}
	return &NATOA{Draft: draft, IDType: t, Address: a.AsSlice()}
}

// Addr returns the original address.
func (p *NATOA) Addr() (netip.Addr, error) {
	switch {
	case p.IDType == IDIPv4Addr && len(p.Address) == 4:
		return netip.AddrFrom4([4]byte(p.Address)), nil
	case p.IDType == IDIPv6Addr && len(p.Address) == 16:
		return netip.AddrFrom16([16]byte(p.Address)), nil
	}
	return netip.Addr{}, perr(ErrIDInfo, "NAT-OA "+p.IDType.String()+" with "+strconv.Itoa(len(p.Address))+" bytes")
}

func (p *NATOA) appendBody(b []byte) ([]byte, error) {
	return append(append(b, byte(p.IDType), 0, 0, 0), p.Address...), nil
}

// --- Mode-Config / XAUTH attributes (draft-dukes-ike-mode-cfg) ---

// ModeCfg is an Attribute payload (number 14), carried by the Transaction
// exchange for XAUTH and Mode-Config. It is decoded only far enough to
// round-trip and trace.
type ModeCfg struct {
	CfgType    ModeCfgType
	Identifier uint16
	Attributes []Attribute
}

// Type implements Payload.
func (*ModeCfg) Type() PayloadType { return PayloadAttr }

func (p *ModeCfg) appendBody(b []byte) ([]byte, error) {
	b = append(b, byte(p.CfgType), 0)
	b = binary.BigEndian.AppendUint16(b, p.Identifier)
	for _, a := range p.Attributes {
		var err error
		if b, err = a.appendTo(b); err != nil {
			return b, err
		}
	}
	return b, nil
}

// --- IKEv1 fragmentation (Cisco/Microsoft style) ---

// FragLast marks the last fragment of a message.
const FragLast uint8 = 0x01

// Fragment is an IKEv1 fragment payload (number 132): the fragment ID names
// the message, fragments are numbered from 1, and the last one carries
// FragLast.
type Fragment struct {
	ID     uint16
	Number uint8
	Flags  uint8
	Data   []byte
}

// Type implements Payload.
func (*Fragment) Type() PayloadType { return PayloadFragment }

// Last reports whether this is the last fragment.
func (p *Fragment) Last() bool { return p.Flags&FragLast != 0 }

func (p *Fragment) appendBody(b []byte) ([]byte, error) {
	b = binary.BigEndian.AppendUint16(b, p.ID)
	b = append(b, p.Number, p.Flags)
	return append(b, p.Data...), nil
}

// --- anything else ---

// Unknown is a payload of a type this package does not decode; it
// round-trips unchanged.
type Unknown struct {
	PayloadType PayloadType
	Data        []byte
}

// Type implements Payload.
func (p *Unknown) Type() PayloadType { return p.PayloadType }

func (p *Unknown) appendBody(b []byte) ([]byte, error) { return append(b, p.Data...), nil }

// parsePayload decodes one payload body of type t.
func parsePayload(t PayloadType, body cryptobyte.String) (Payload, error) {
	ctx := t.String()
	switch t {
	case PayloadSA:
		return parseSA(body)
	case PayloadKE:
		return &KE{Data: nilIfEmpty(body)}, nil
	case PayloadNonce:
		return &Nonce{Data: nilIfEmpty(body)}, nil
	case PayloadHash:
		return &Hash{Data: nilIfEmpty(body)}, nil
	case PayloadSig:
		return &Sig{Data: nilIfEmpty(body)}, nil
	case PayloadVendorID:
		return &VendorIDPayload{Data: nilIfEmpty(body)}, nil
	case PayloadID:
		p := &ID{}
		var it uint8
		if !body.ReadUint8(&it) || !body.ReadUint8(&p.ProtocolID) || !body.ReadUint16(&p.Port) {
			return nil, perr(ErrTruncated, ctx)
		}
		p.IDType = IDType(it)
		p.Data = nilIfEmpty(body)
		return p, nil
	case PayloadCert, PayloadCertReq:
		var enc uint8
		if !body.ReadUint8(&enc) {
			return nil, perr(ErrTruncated, ctx)
		}
		if t == PayloadCert {
			return &Cert{Encoding: CertEncoding(enc), Data: nilIfEmpty(body)}, nil
		}
		return &CertReq{Encoding: CertEncoding(enc), Authority: nilIfEmpty(body)}, nil
	case PayloadNotify:
		p := &Notify{}
		var doi uint32
		var proto, spiSize uint8
		var nt uint16
		if !body.ReadUint32(&doi) || !body.ReadUint8(&proto) || !body.ReadUint8(&spiSize) || !body.ReadUint16(&nt) {
			return nil, perr(ErrTruncated, ctx)
		}
		var spi []byte
		if !body.ReadBytes(&spi, int(spiSize)) {
			return nil, perr(ErrSPI, ctx+": SPI overruns the payload")
		}
		p.DOI, p.Protocol, p.NotifyType, p.SPI, p.Data = DOI(doi), ProtocolID(proto), NotifyType(nt), nilIfEmpty(spi), nilIfEmpty(body)
		return p, nil
	case PayloadDelete:
		p := &Delete{}
		var doi uint32
		var proto uint8
		var n uint16
		if !body.ReadUint32(&doi) || !body.ReadUint8(&proto) || !body.ReadUint8(&p.SPISize) || !body.ReadUint16(&n) {
			return nil, perr(ErrTruncated, ctx)
		}
		p.DOI, p.Protocol = DOI(doi), ProtocolID(proto)
		if n > 0 && p.SPISize == 0 {
			return nil, perr(ErrSPI, ctx+": SPIs of size 0")
		}
		if len(body) != int(n)*int(p.SPISize) {
			return nil, perr(ErrSPI, ctx+": "+strconv.Itoa(int(n))+" SPIs of "+strconv.Itoa(int(p.SPISize))+" bytes in "+strconv.Itoa(len(body)))
		}
		if n > 0 {
			p.SPIs = make([][]byte, n)
			for i := range p.SPIs {
				var spi []byte
				body.ReadBytes(&spi, int(p.SPISize))
				p.SPIs[i] = spi
			}
		}
		return p, nil
	case PayloadNATD, PayloadNATDDraft:
		return &NATD{Draft: t == PayloadNATDDraft, Hash: nilIfEmpty(body)}, nil
	case PayloadNATOA, PayloadNATOADraft:
		p := &NATOA{Draft: t == PayloadNATOADraft}
		var it uint8
		var reserved []byte
		if !body.ReadUint8(&it) || !body.ReadBytes(&reserved, 3) {
			return nil, perr(ErrTruncated, ctx)
		}
		p.IDType = IDType(it)
		p.Address = nilIfEmpty(body)
		return p, nil
	case PayloadAttr:
		p := &ModeCfg{}
		var ct, reserved uint8
		if !body.ReadUint8(&ct) || !body.ReadUint8(&reserved) || !body.ReadUint16(&p.Identifier) {
			return nil, perr(ErrTruncated, ctx)
		}
		p.CfgType = ModeCfgType(ct)
		attrs, err := parseAttributes(body, ctx)
		if err != nil {
			return nil, err
		}
		p.Attributes = attrs
		return p, nil
	case PayloadFragment:
		p := &Fragment{}
		if !body.ReadUint16(&p.ID) || !body.ReadUint8(&p.Number) || !body.ReadUint8(&p.Flags) {
			return nil, perr(ErrTruncated, ctx)
		}
		p.Data = nilIfEmpty(body)
		return p, nil
	case PayloadProposal, PayloadTransform:
		return nil, perr(ErrPayloadType, ctx+" outside an SA")
	}
	return &Unknown{PayloadType: t, Data: nilIfEmpty(body)}, nil
}
