package isakmp

import (
	"encoding/hex"
	"strconv"
	"strings"
)

// traceAbbrev is how the Windows Oakley log names payloads.
var traceAbbrev = map[PayloadType]string{
	PayloadSA: "SA", PayloadKE: "KE", PayloadID: "ID", PayloadCert: "CERT", PayloadCertReq: "CERT_REQ",
	PayloadHash: "HASH", PayloadSig: "SIG", PayloadNonce: "NON", PayloadNotify: "NOTIFY", PayloadDelete: "DEL",
	PayloadVendorID: "VID", PayloadAttr: "ATTR", PayloadNATD: "NATD", PayloadNATOA: "NATOA",
	PayloadNATDDraft: "NATD", PayloadNATOADraft: "NATOA", PayloadFragment: "FRAG",
}

// Summary is the one-line Oakley-style summary of a message, as Windows'
// Isakmp.log prints it after "SENDING >>> ISAKMP OAK ": the exchange
// abbreviation, "*" when encrypted, then the payloads, e.g.
// "MM (SA, VID, VID)", "QM *(HASH, SA, NON, ID, ID)",
// "INFO *(HASH, NOTIFY:R-U-THERE)". Notifications show their type.
func Summary(h *Header, payloads []Payload) string {
	var sb strings.Builder
	sb.WriteString(h.Exchange.Abbrev())
	sb.WriteByte(' ')
	if h.Encrypted() {
		sb.WriteByte('*')
	}
	sb.WriteByte('(')
	for i, p := range payloads {
		if i > 0 {
			sb.WriteString(", ")
		}
		t := p.Type()
		if s, ok := traceAbbrev[t]; ok {
			sb.WriteString(s)
		} else {
			sb.WriteString("UNKNOWN:" + strconv.Itoa(int(t)))
		}
		if n, ok := p.(*Notify); ok {
			sb.WriteString(":" + n.NotifyType.String())
		}
	}
	sb.WriteByte(')')
	return sb.String()
}

// Summary returns the Oakley-style summary of m.
func (m *Message) Summary() string { return Summary(&m.Header, m.Payloads) }

// dumpMax is how many bytes of key material, nonces and hashes a dump
// shows: enough to correlate with a peer's log, too few to be of use.
const dumpMax = 8

func short(b []byte) string {
	if len(b) <= dumpMax {
		return hex.EncodeToString(b)
	}
	return hex.EncodeToString(b[:dumpMax]) + "…"
}

// Dump is a multi-line description of a message for troubleshooting:
// header, proposals, transforms and attributes by name, identities,
// notifications, vendor IDs. KE, nonce, hash, signature and NAT-D values
// are shown truncated to 8 bytes and with their length; no keys exist at
// this layer, and XAUTH attribute values are never shown.
func Dump(h *Header, payloads []Payload) string {
	var sb strings.Builder
	sb.WriteString("ISAKMP " + Summary(h, payloads) + "\n")
	sb.WriteString("  cookies " + hex.EncodeToString(h.InitiatorCookie[:]) + ":" + hex.EncodeToString(h.ResponderCookie[:]) +
		" msgid " + hex.EncodeToString([]byte{byte(h.MessageID >> 24), byte(h.MessageID >> 16), byte(h.MessageID >> 8), byte(h.MessageID)}) +
		" exchange " + h.Exchange.String() + " flags " + h.Flags.String() + " len " + strconv.FormatUint(uint64(h.Length), 10) + "\n")
	for _, p := range payloads {
		dumpPayload(&sb, p)
	}
	return sb.String()
}

// Dump returns the verbose description of m.
func (m *Message) Dump() string { return Dump(&m.Header, m.Payloads) }

func dumpData(sb *strings.Builder, label string, b []byte) {
	sb.WriteString("  " + label + " len=" + strconv.Itoa(len(b)) + " " + short(b) + "\n")
}

func dumpPayload(sb *strings.Builder, p Payload) {
	switch v := p.(type) {
	case *SA:
		sb.WriteString("  SA doi=" + v.DOI.String() + " situation=" + v.Situation.String() + "\n")
		for _, pr := range v.Proposals {
			sb.WriteString("    proposal #" + strconv.Itoa(int(pr.Number)) + " " + pr.Protocol.String())
			if len(pr.SPI) > 0 {
				sb.WriteString(" spi=0x" + hex.EncodeToString(pr.SPI))
			}
			sb.WriteString(" transforms=" + strconv.Itoa(len(pr.Transforms)) + "\n")
			for _, t := range pr.Transforms {
				sb.WriteString("      transform #" + strconv.Itoa(int(t.Number)) + " " + transformName(pr.Protocol, t.ID) + ":")
				for i, a := range t.Attributes {
					if i > 0 {
						sb.WriteByte(',')
					}
					sb.WriteString(" " + attrString(pr.Protocol, a))
				}
				sb.WriteByte('\n')
			}
		}
	case *KE:
		dumpData(sb, "KE", v.Data)
	case *Nonce:
		dumpData(sb, "NONCE", v.Data)
	case *Hash:
		dumpData(sb, "HASH", v.Data)
	case *Sig:
		dumpData(sb, "SIG", v.Data)
	case *NATD:
		dumpData(sb, v.Type().String(), v.Hash)
	case *ID:
		sb.WriteString("  ID " + idString(v) + " proto=" + strconv.Itoa(int(v.ProtocolID)) + " port=" + strconv.Itoa(int(v.Port)) + "\n")
	case *NATOA:
		s := "?"
		if a, err := v.Addr(); err == nil {
			s = a.String()
		}
		sb.WriteString("  " + v.Type().String() + " " + v.IDType.String() + " " + s + "\n")
	case *VendorIDPayload:
		sb.WriteString("  VID " + v.Kind().String() + " " + hex.EncodeToString(v.Data) + "\n")
	case *Notify:
		sb.WriteString("  N " + v.NotifyType.String() + " doi=" + v.DOI.String() + " proto=" + v.Protocol.String())
		if len(v.SPI) > 0 {
			sb.WriteString(" spi=" + hex.EncodeToString(v.SPI))
		}
		if len(v.Data) > 0 {
			sb.WriteString(" data=" + short(v.Data))
		}
		sb.WriteByte('\n')
	case *Delete:
		sb.WriteString("  D doi=" + v.DOI.String() + " proto=" + v.Protocol.String() + " spis=")
		for i, s := range v.SPIs {
			if i > 0 {
				sb.WriteByte(',')
			}
			sb.WriteString(hex.EncodeToString(s))
		}
		sb.WriteByte('\n')
	case *Cert:
		dumpData(sb, "CERT "+v.Encoding.String(), v.Data)
	case *CertReq:
		dumpData(sb, "CERTREQ "+v.Encoding.String(), v.Authority)
	case *ModeCfg:
		sb.WriteString("  ATTR " + v.CfgType.String() + " id=" + strconv.Itoa(int(v.Identifier)) + ":")
		for _, a := range v.Attributes {
			sb.WriteString(" " + ModeCfgAttr(a.Type).String())
		}
		sb.WriteByte('\n')
	case *Fragment:
		sb.WriteString("  FRAG id=" + strconv.Itoa(int(v.ID)) + " number=" + strconv.Itoa(int(v.Number)) +
			" last=" + strconv.FormatBool(v.Last()) + " len=" + strconv.Itoa(len(v.Data)) + "\n")
	default:
		sb.WriteString("  " + p.Type().String() + "\n")
	}
}

func transformName(proto ProtocolID, id uint8) string {
	switch proto {
	case ProtoISAKMP:
		return IKETransformID(id).String()
	case ProtoESP:
		return ESPTransformID(id).String()
	case ProtoAH:
		return AHTransformID(id).String()
	case ProtoIPComp:
		return IPCompTransformID(id).String()
	}
	return "TransformID(" + strconv.Itoa(int(id)) + ")"
}

func attrString(proto ProtocolID, a Attribute) string {
	v, isNum := a.Uint()
	val := "0x" + hex.EncodeToString(a.Bytes())
	if isNum {
		val = strconv.FormatUint(v, 10)
	}
	if proto == ProtoISAKMP {
		t := OakleyAttr(a.Type)
		if isNum && v <= 0xffff {
			switch t {
			case OakleyEncryption:
				val = EncryptionAlgorithm(v).String()
			case OakleyHash:
				val = HashAlgorithm(v).String()
			case OakleyAuthMethod:
				val = AuthMethod(v).String()
			case OakleyGroup:
				val = GroupDescription(v).String()
			case OakleyGroupType:
				val = GroupType(v).String()
			case OakleyLifeType:
				val = LifeType(v).String()
			}
		}
		return t.String() + "=" + val
	}
	t := IPsecAttr(a.Type)
	if isNum && v <= 0xffff {
		switch t {
		case IPsecSALifeType:
			val = LifeType(v).String()
		case IPsecGroup:
			val = GroupDescription(v).String()
		case IPsecEncapsulationMode:
			val = EncapsulationMode(v).String()
		case IPsecAuthAlgorithm:
			val = AuthAlgorithm(v).String()
		}
	}
	return t.String() + "=" + val
}

func idString(id *ID) string {
	s := id.IDType.String() + " "
	switch id.IDType {
	case IDIPv4Addr, IDIPv6Addr:
		if a, err := id.Addr(); err == nil {
			return s + a.String()
		}
	case IDIPv4AddrSubnet, IDIPv6AddrSubnet:
		if p, err := id.Subnet(); err == nil {
			return s + p.String()
		}
	case IDIPv4AddrRange, IDIPv6AddrRange:
		if lo, hi, err := id.Range(); err == nil {
			return s + lo.String() + "-" + hi.String()
		}
	case IDFQDN, IDUserFQDN:
		return s + strconv.Quote(string(id.Data))
	}
	return s + "0x" + short(id.Data)
}
