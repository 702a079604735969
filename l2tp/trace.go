package l2tp

import (
	"fmt"
	"strconv"
	"strings"
)

// summary renders the AVPs of m for the trace log. Challenges, responses,
// random vectors and proxy authentication data are shown by length only.
func (m *Message) summary() string {
	var b strings.Builder
	for t := AVPResultCode; t < 64; t++ {
		if !m.Has(t) {
			continue
		}
		if b.Len() > 0 {
			b.WriteString(", ")
		}
		b.WriteString(t.String())
		b.WriteByte('=')
		switch t {
		case AVPResultCode:
			fmt.Fprintf(&b, "%d/%d %q", m.Result.Code, m.Result.Error, m.Result.Message)
		case AVPProtocolVersion:
			fmt.Fprintf(&b, "%d.%d", m.ProtocolVersion.Version, m.ProtocolVersion.Revision)
		case AVPHostName:
			b.WriteString(strconv.Quote(m.HostName))
		case AVPVendorName:
			b.WriteString(strconv.Quote(m.VendorName))
		case AVPCallingNumber:
			b.WriteString(strconv.Quote(m.CallingNumber))
		case AVPCalledNumber:
			b.WriteString(strconv.Quote(m.CalledNumber))
		case AVPChallenge, AVPChallengeResponse, AVPRandomVector, AVPProxyAuthenChallenge,
			AVPProxyAuthenResponse, AVPProxyAuthenName, AVPProxyAuthenID:
			b.WriteString("(hidden from trace)")
		case AVPFramingCapabilities:
			b.WriteString(m.FramingCapabilities.String())
		case AVPFramingType:
			b.WriteString(m.FramingType.String())
		case AVPBearerCapabilities:
			b.WriteString(m.BearerCapabilities.String())
		case AVPBearerType:
			b.WriteString(m.BearerType.String())
		case AVPProxyAuthenType:
			b.WriteString(m.ProxyAuthenType.String())
		case AVPSequencingRequired:
			b.WriteString("yes")
		case AVPPPPDisconnectCause:
			fmt.Fprintf(&b, "%d proto %#04x dir %d %q", m.DisconnectCause.Code, m.DisconnectCause.Protocol,
				m.DisconnectCause.Direction, m.DisconnectCause.Message)
		default:
			fmt.Fprintf(&b, "%x", m.value(t))
		}
	}
	for _, a := range m.Ignored {
		if b.Len() > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "ignored vendor %d type %d (%d octets)", a.Vendor, uint16(a.Type), len(a.Value))
	}
	return b.String()
}

// String renders m like the trace does.
func (m *Message) String() string {
	return m.Type.String() + " {" + m.summary() + "}"
}
