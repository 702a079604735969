package ppp

import (
	"encoding/binary"
	"fmt"
	"strconv"
	"strings"
)

// Describe renders one LCP/NCP/PAP/CHAP packet the way pppd's debug log
// does, e.g. "[LCP ConfReq id=0x1 <mru 1400> <magic 0x12345678>]". Secrets
// are never printed: PAP passwords and CHAP/MS-CHAPv2 responses show as
// <hidden>.
func Describe(p Protocol, pkt []byte) string {
	var b strings.Builder
	b.WriteByte('[')
	b.WriteString(p.String())
	pk, err := ParsePacket(pkt)
	if err != nil {
		fmt.Fprintf(&b, " malformed %d bytes]", len(pkt))
		return b.String()
	}
	switch p {
	case ProtoPAP:
		describePAP(&b, pk)
	case ProtoCHAP:
		describeCHAP(&b, pk)
	case ProtoEAP:
		describeEAP(&b, pk)
	default:
		describeCP(&b, p, pk)
	}
	b.WriteByte(']')
	return b.String()
}

func describeCP(b *strings.Builder, p Protocol, pk Packet) {
	fmt.Fprintf(b, " %s id=0x%x", pk.Code, pk.ID)
	switch pk.Code {
	case CodeConfReq, CodeConfAck, CodeConfNak, CodeConfRej:
		if checkOptions(pk.Data) != nil {
			b.WriteString(" <malformed options>")
			return
		}
		for it := (optionIter{b: pk.Data}); it.next(); {
			b.WriteString(" <")
			if p == ProtoLCP {
				describeLCPOpt(b, it.typ, it.val)
			} else if p == ProtoIPCP {
				describeIPCPOpt(b, it.typ, it.val)
			} else {
				fmt.Fprintf(b, "opt-%d %x", it.typ, it.val)
			}
			b.WriteByte('>')
		}
	case CodeTermReq, CodeTermAck:
		if len(pk.Data) > 0 {
			b.WriteString(" " + strconv.Quote(string(pk.Data)))
		}
	case CodeEchoReq, CodeEchoRep, CodeDiscardReq:
		if len(pk.Data) >= 4 {
			fmt.Fprintf(b, " magic=0x%x", binary.BigEndian.Uint32(pk.Data))
		}
	case CodeProtoRej:
		if len(pk.Data) >= 2 {
			fmt.Fprintf(b, " proto=%s", Protocol(binary.BigEndian.Uint16(pk.Data)))
		}
	case CodeCodeRej:
		if len(pk.Data) >= 1 {
			fmt.Fprintf(b, " code=%d", pk.Data[0])
		}
	default:
		if len(pk.Data) > 0 {
			fmt.Fprintf(b, " %d bytes", len(pk.Data))
		}
	}
}

func describeLCPOpt(b *strings.Builder, typ uint8, v []byte) {
	o := LCPOption(typ)
	b.WriteString(o.String())
	switch {
	case (o == LCPOptMRU || o == LCPOptMRRU) && len(v) == 2:
		fmt.Fprintf(b, " %d", binary.BigEndian.Uint16(v))
	case (o == LCPOptACCM || o == LCPOptMagic) && len(v) == 4:
		fmt.Fprintf(b, " 0x%x", binary.BigEndian.Uint32(v))
	case o == LCPOptAuth:
		switch parseAuthOption(v) {
		case AuthPAP:
			b.WriteString(" pap")
		case AuthCHAPMD5:
			b.WriteString(" chap MD5")
		case AuthMSCHAPv1:
			b.WriteString(" chap MS")
		case AuthMSCHAPv2:
			b.WriteString(" chap MS-v2")
		case AuthEAP:
			b.WriteString(" eap")
		default:
			fmt.Fprintf(b, " %x", v)
		}
	case len(v) > 0:
		fmt.Fprintf(b, " %x", v)
	}
}

func describeIPCPOpt(b *strings.Builder, typ uint8, v []byte) {
	o := IPCPOption(typ)
	b.WriteString(o.String())
	if a, ok := addrFrom(v); ok && o != IPCPOptCompression {
		b.WriteString(" " + a.String())
	} else if len(v) > 0 {
		fmt.Fprintf(b, " %x", v)
	}
}

func describePAP(b *strings.Builder, pk Packet) {
	fmt.Fprintf(b, " %s id=0x%x", PAPCode(pk.Code), pk.ID)
	switch pk.Code {
	case papAuthReq:
		if r, err := ParsePAPRequest(pk.Data); err == nil {
			fmt.Fprintf(b, " user=%q password=<hidden>", r.PeerID)
		} else {
			b.WriteString(" <malformed>")
		}
	case papAuthAck, papAuthNak:
		fmt.Fprintf(b, " %q", parsePAPMessage(pk.Data))
	}
}

func describeCHAP(b *strings.Builder, pk Packet) {
	fmt.Fprintf(b, " %s id=0x%x", CHAPCode(pk.Code), pk.ID)
	switch pk.Code {
	case chapChall, chapResp:
		cv, err := ParseCHAPValue(pk.Data)
		if err != nil {
			b.WriteString(" <malformed>")
			return
		}
		if pk.Code == chapChall {
			fmt.Fprintf(b, " <%x>", cv.Value)
		} else {
			b.WriteString(" <hidden>")
		}
		fmt.Fprintf(b, ", name = %q", cv.Name)
	case chapSuccess, chapFailure:
		fmt.Fprintf(b, " %q", pk.Data)
	}
}

func describeEAP(b *strings.Builder, pk Packet) {
	fmt.Fprintf(b, " %s id=0x%x", EAPCode(pk.Code), pk.ID)
	if (EAPCode(pk.Code) != EAPRequest && EAPCode(pk.Code) != EAPResponse) || len(pk.Data) == 0 {
		return
	}
	t := EAPType(pk.Data[0])
	b.WriteString(" " + t.String())
	switch t {
	case EAPTypeIdentity, EAPTypeNotification:
		fmt.Fprintf(b, " %q", pk.Data[1:])
	case EAPTypeNak:
		fmt.Fprintf(b, " %x", pk.Data[1:])
	default:
		// Method data may hold secrets (MD5 responses, TLS, MS-CHAPv2).
		fmt.Fprintf(b, " <%d bytes>", len(pk.Data)-1)
	}
}
