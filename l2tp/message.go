package l2tp

import (
	"crypto/rand"
	"encoding/binary"
	"io"
)

// Result is the Result Code AVP (section 4.4.2).
type Result struct {
	Code    ResultCode
	Error   ErrorCode // sent when non-zero or when Message is set
	Message string
}

// ProtocolVersion is the Protocol Version AVP; L2TPv2 is 1.0.
type ProtocolVersion struct{ Version, Revision uint8 }

// Q931Cause is the Q.931 Cause Code AVP (section 4.4.5).
type Q931Cause struct {
	Cause    uint16
	Msg      uint8
	Advisory string
}

// CallErrors is the Call Errors AVP (section 4.4.6).
type CallErrors struct {
	CRC, Framing, HardwareOverruns, BufferOverruns, Timeout, Alignment uint32
}

// ACCM is the ACCM AVP (section 4.4.6).
type ACCM struct{ Send, Receive uint32 }

// DisconnectCause is the PPP Disconnect Cause Code AVP of RFC 3145.
type DisconnectCause struct {
	Code      uint16
	Protocol  uint16 // PPP control protocol number
	Direction uint8  // 0 global, 1 at peer, 2 at local
	Message   string
}

// Message is a decoded control message. Present records which AVPs were
// (or are to be) carried: value fields of absent AVPs are meaningless.
// Slices alias the parsed datagram unless the AVP was hidden.
type Message struct {
	Type    MessageType
	Present AVPSet

	Result                 Result
	ProtocolVersion        ProtocolVersion
	FramingCapabilities    Framing
	BearerCapabilities     Bearer
	TieBreaker             uint64
	FirmwareRevision       uint16
	HostName               string
	VendorName             string
	AssignedTunnelID       uint16
	ReceiveWindowSize      uint16
	Challenge              []byte
	Q931Cause              Q931Cause
	ChallengeResponse      []byte
	AssignedSessionID      uint16
	CallSerialNumber       uint32
	MinimumBPS             uint32
	MaximumBPS             uint32
	BearerType             Bearer
	FramingType            Framing
	CalledNumber           string
	CallingNumber          string
	SubAddress             string
	TxConnectSpeed         uint32
	PhysicalChannelID      uint32
	InitialReceivedLCPConf []byte
	LastSentLCPConf        []byte
	LastReceivedLCPConf    []byte
	ProxyAuthenType        ProxyAuthenType
	ProxyAuthenName        string
	ProxyAuthenChallenge   []byte
	ProxyAuthenID          uint8
	ProxyAuthenResponse    []byte
	CallErrors             CallErrors
	ACCM                   ACCM
	RandomVector           []byte
	PrivateGroupID         []byte
	RxConnectSpeed         uint32
	DisconnectCause        DisconnectCause
	// SequencingRequired is the Sequencing Required AVP (no value).

	// Ignored lists AVPs that were skipped: vendor AVPs and unknown IETF
	// AVPs without the M bit.
	Ignored []RawAVP
}

// Has reports whether AVP t is present.
func (m *Message) Has(t AVPType) bool { return m.Present.Has(t) }

// Set marks AVP t present (after the caller filled in its field).
func (m *Message) Set(t AVPType) { m.Present = m.Present.With(t) }

// avpMandatory says whether the M bit is set on AVPs this package sends,
// as RFC 2661 section 4.4 (and RFC 3145 for type 46) prescribe.
func avpMandatory(t AVPType) bool {
	switch t {
	case AVPTieBreaker, AVPFirmwareRevision, AVPVendorName, AVPPhysicalChannelID,
		AVPInitialReceivedLCPConfReq, AVPLastSentLCPConfReq, AVPLastReceivedLCPConfReq,
		AVPProxyAuthenType, AVPProxyAuthenName, AVPProxyAuthenChallenge, AVPProxyAuthenID,
		AVPProxyAuthenResponse, AVPPrivateGroupID, AVPRxConnectSpeed, AVPPPPDisconnectCause:
		return false
	}
	return true
}

// ParseControl decodes a control message. secret is the tunnel secret used
// to reveal hidden AVPs (nil when none is configured). A ZLB acknowledgement
// (header only) returns a zero Message with Type 0.
//
// On a *ProtocolError the returned header and, once the Message Type AVP has
// been read, msg.Type are valid, so the caller can tell whether to tear down
// a session (CDN) or the tunnel (StopCCN).
func ParseControl(b, secret []byte) (h Header, msg Message, err error) {
	h, avps, err := ParseHeader(b)
	if err != nil {
		return h, msg, err
	}
	if !h.Control {
		return h, msg, ErrNotControl
	}
	if len(avps) == 0 {
		return h, msg, nil
	}
	err = msg.parseAVPs(avps, secret)
	return h, msg, err
}

func (m *Message) parseAVPs(b, secret []byte) error {
	r := avpReader{s: b, secret: secret}
	first := true
	for {
		a, ok, err := r.next()
		if err != nil {
			return err
		}
		if !ok {
			break
		}
		if first {
			first = false
			if a.Vendor != 0 || a.Type != AVPMessageType || a.Hidden || len(a.Value) != 2 {
				return protoErr(ErrMessageType, CodeBadValue, "first AVP is not a Message Type")
			}
			m.Type = MessageType(binary.BigEndian.Uint16(a.Value))
			m.Set(AVPMessageType)
			if !m.Type.Known() {
				if a.Mandatory {
					return protoErr(ErrMessageType, CodeUnknownMandatory, "unknown mandatory message type %d", uint16(m.Type))
				}
				return ErrMessageType
			}
			continue
		}
		if a.Vendor != 0 || !a.Type.known() || a.Type == AVPMessageType {
			if a.Mandatory {
				// Section 4.2: an unrecognised AVP with M set tears
				// down the session or tunnel the message is about.
				return protoErr(ErrUnknownAVP, CodeUnknownMandatory, "vendor %d AVP %d", a.Vendor, uint16(a.Type))
			}
			m.Ignored = append(m.Ignored, a)
			continue
		}
		if err := m.setAVP(a); err != nil {
			return err
		}
	}
	if first {
		return protoErr(ErrMessageType, CodeBadValue, "no Message Type AVP")
	}
	return nil
}

func wrongLen(t AVPType, n int) error {
	return protoErr(ErrAVP, CodeLength, "%v of %d octets", t, n)
}

func (m *Message) setAVP(a RawAVP) error {
	v := a.Value
	n := len(v)
	u16 := func(dst *uint16) error {
		if n != 2 {
			return wrongLen(a.Type, n)
		}
		*dst = binary.BigEndian.Uint16(v)
		return nil
	}
	u32 := func(dst *uint32) error {
		if n != 4 {
			return wrongLen(a.Type, n)
		}
		*dst = binary.BigEndian.Uint32(v)
		return nil
	}
	var err error
	switch a.Type {
	case AVPResultCode:
		if n < 2 || n == 3 {
			return wrongLen(a.Type, n)
		}
		m.Result = Result{Code: ResultCode(binary.BigEndian.Uint16(v))}
		if n >= 4 {
			m.Result.Error = ErrorCode(binary.BigEndian.Uint16(v[2:]))
			m.Result.Message = string(v[4:])
		}
	case AVPProtocolVersion:
		if n != 2 {
			return wrongLen(a.Type, n)
		}
		m.ProtocolVersion = ProtocolVersion{v[0], v[1]}
	case AVPFramingCapabilities:
		err = u32((*uint32)(&m.FramingCapabilities))
	case AVPBearerCapabilities:
		err = u32((*uint32)(&m.BearerCapabilities))
	case AVPTieBreaker:
		if n != 8 {
			return wrongLen(a.Type, n)
		}
		m.TieBreaker = binary.BigEndian.Uint64(v)
	case AVPFirmwareRevision:
		err = u16(&m.FirmwareRevision)
	case AVPHostName:
		if n == 0 {
			return wrongLen(a.Type, n)
		}
		m.HostName = string(v)
	case AVPVendorName:
		m.VendorName = string(v)
	case AVPAssignedTunnelID:
		err = u16(&m.AssignedTunnelID)
	case AVPReceiveWindowSize:
		err = u16(&m.ReceiveWindowSize)
	case AVPChallenge:
		if n == 0 {
			return wrongLen(a.Type, n)
		}
		m.Challenge = v
	case AVPQ931CauseCode:
		if n < 3 {
			return wrongLen(a.Type, n)
		}
		m.Q931Cause = Q931Cause{Cause: binary.BigEndian.Uint16(v), Msg: v[2], Advisory: string(v[3:])}
	case AVPChallengeResponse:
		if n != 16 {
			return wrongLen(a.Type, n)
		}
		m.ChallengeResponse = v
	case AVPAssignedSessionID:
		err = u16(&m.AssignedSessionID)
	case AVPCallSerialNumber:
		err = u32(&m.CallSerialNumber)
	case AVPMinimumBPS:
		err = u32(&m.MinimumBPS)
	case AVPMaximumBPS:
		err = u32(&m.MaximumBPS)
	case AVPBearerType:
		err = u32((*uint32)(&m.BearerType))
	case AVPFramingType:
		err = u32((*uint32)(&m.FramingType))
	case AVPCalledNumber:
		m.CalledNumber = string(v)
	case AVPCallingNumber:
		m.CallingNumber = string(v)
	case AVPSubAddress:
		m.SubAddress = string(v)
	case AVPTxConnectSpeed:
		err = u32(&m.TxConnectSpeed)
	case AVPPhysicalChannelID:
		err = u32(&m.PhysicalChannelID)
	case AVPInitialReceivedLCPConfReq:
		m.InitialReceivedLCPConf = v
	case AVPLastSentLCPConfReq:
		m.LastSentLCPConf = v
	case AVPLastReceivedLCPConfReq:
		m.LastReceivedLCPConf = v
	case AVPProxyAuthenType:
		var t uint16
		err = u16(&t)
		m.ProxyAuthenType = ProxyAuthenType(t)
	case AVPProxyAuthenName:
		m.ProxyAuthenName = string(v)
	case AVPProxyAuthenChallenge:
		m.ProxyAuthenChallenge = v
	case AVPProxyAuthenID:
		if n != 2 {
			return wrongLen(a.Type, n)
		}
		m.ProxyAuthenID = v[1]
	case AVPProxyAuthenResponse:
		m.ProxyAuthenResponse = v
	case AVPCallErrors:
		if n != 26 {
			return wrongLen(a.Type, n)
		}
		g := func(i int) uint32 { return binary.BigEndian.Uint32(v[2+4*i:]) }
		m.CallErrors = CallErrors{g(0), g(1), g(2), g(3), g(4), g(5)}
	case AVPACCM:
		if n != 10 {
			return wrongLen(a.Type, n)
		}
		m.ACCM = ACCM{binary.BigEndian.Uint32(v[2:]), binary.BigEndian.Uint32(v[6:])}
	case AVPRandomVector:
		m.RandomVector = v
	case AVPPrivateGroupID:
		m.PrivateGroupID = v
	case AVPRxConnectSpeed:
		err = u32(&m.RxConnectSpeed)
	case AVPSequencingRequired:
		if n != 0 {
			return wrongLen(a.Type, n)
		}
	case AVPPPPDisconnectCause:
		if n < 5 {
			return wrongLen(a.Type, n)
		}
		m.DisconnectCause = DisconnectCause{
			Code: binary.BigEndian.Uint16(v), Protocol: binary.BigEndian.Uint16(v[2:]),
			Direction: v[4], Message: string(v[5:]),
		}
	}
	if err != nil {
		return err
	}
	m.Set(a.Type)
	return nil
}

// MarshalOptions control how a Message is encoded.
type MarshalOptions struct {
	// Secret is the tunnel secret used to hide AVPs.
	Secret []byte
	// Hide lists AVP types to send hidden (section 4.3); it takes effect
	// only with a Secret. A Random Vector is added before them.
	Hide AVPSet
	// Rand supplies the Random Vector; nil means crypto/rand.
	Rand io.Reader
}

// Append appends m as a complete control message with the given header IDs
// and Ns/Nr to dst.
func (m *Message) Append(dst []byte, tunnelID, sessionID, ns, nr uint16, opts *MarshalOptions) ([]byte, error) {
	start := len(dst)
	dst = appendControlHeader(dst, tunnelID, sessionID, ns, nr)
	var o MarshalOptions
	if opts != nil {
		o = *opts
	}
	hide := AVPSet(0)
	if len(o.Secret) > 0 {
		hide = o.Hide & m.Present
	}
	var err error
	var tmp [2]byte
	binary.BigEndian.PutUint16(tmp[:], uint16(m.Type))
	if dst, err = appendAVP(dst, AVPMessageType, true, false, tmp[:]); err != nil {
		return dst[:start], err
	}
	rv := m.RandomVector
	emitRV := m.Has(AVPRandomVector)
	if hide != 0 && !emitRV {
		rv = make([]byte, 16)
		r := o.Rand
		if r == nil {
			r = rand.Reader
		}
		if _, err := io.ReadFull(r, rv); err != nil {
			return dst[:start], err
		}
		emitRV = true
	}
	if emitRV {
		if dst, err = appendAVP(dst, AVPRandomVector, true, false, rv); err != nil {
			return dst[:start], err
		}
	}
	for t := AVPResultCode; t < 64; t++ {
		if t == AVPRandomVector || !m.Has(t) {
			continue
		}
		val := m.value(t)
		hidden := hide.Has(t)
		if hidden {
			val = hideAVP(t, o.Secret, rv, val)
		}
		if dst, err = appendAVP(dst, t, avpMandatory(t), hidden, val); err != nil {
			return dst[:start], err
		}
	}
	msg, err := finishControl(dst[start:])
	if err != nil {
		return dst[:start], err
	}
	return dst[:start+len(msg)], nil
}

// value encodes the value of AVP t from m's fields.
func (m *Message) value(t AVPType) []byte {
	be := binary.BigEndian
	switch t {
	case AVPResultCode:
		v := be.AppendUint16(nil, uint16(m.Result.Code))
		if m.Result.Error != CodeNone || m.Result.Message != "" {
			v = be.AppendUint16(v, uint16(m.Result.Error))
			v = append(v, m.Result.Message...)
		}
		return v
	case AVPProtocolVersion:
		return []byte{m.ProtocolVersion.Version, m.ProtocolVersion.Revision}
	case AVPFramingCapabilities:
		return be.AppendUint32(nil, uint32(m.FramingCapabilities))
	case AVPBearerCapabilities:
		return be.AppendUint32(nil, uint32(m.BearerCapabilities))
	case AVPTieBreaker:
		return be.AppendUint64(nil, m.TieBreaker)
	case AVPFirmwareRevision:
		return be.AppendUint16(nil, m.FirmwareRevision)
	case AVPHostName:
		return []byte(m.HostName)
	case AVPVendorName:
		return []byte(m.VendorName)
	case AVPAssignedTunnelID:
		return be.AppendUint16(nil, m.AssignedTunnelID)
	case AVPReceiveWindowSize:
		return be.AppendUint16(nil, m.ReceiveWindowSize)
	case AVPChallenge:
		return m.Challenge
	case AVPQ931CauseCode:
		v := be.AppendUint16(nil, m.Q931Cause.Cause)
		return append(append(v, m.Q931Cause.Msg), m.Q931Cause.Advisory...)
	case AVPChallengeResponse:
		return m.ChallengeResponse
	case AVPAssignedSessionID:
		return be.AppendUint16(nil, m.AssignedSessionID)
	case AVPCallSerialNumber:
		return be.AppendUint32(nil, m.CallSerialNumber)
	case AVPMinimumBPS:
		return be.AppendUint32(nil, m.MinimumBPS)
	case AVPMaximumBPS:
		return be.AppendUint32(nil, m.MaximumBPS)
	case AVPBearerType:
		return be.AppendUint32(nil, uint32(m.BearerType))
	case AVPFramingType:
		return be.AppendUint32(nil, uint32(m.FramingType))
	case AVPCalledNumber:
		return []byte(m.CalledNumber)
	case AVPCallingNumber:
		return []byte(m.CallingNumber)
	case AVPSubAddress:
		return []byte(m.SubAddress)
	case AVPTxConnectSpeed:
		return be.AppendUint32(nil, m.TxConnectSpeed)
	case AVPPhysicalChannelID:
		return be.AppendUint32(nil, m.PhysicalChannelID)
	case AVPInitialReceivedLCPConfReq:
		return m.InitialReceivedLCPConf
	case AVPLastSentLCPConfReq:
		return m.LastSentLCPConf
	case AVPLastReceivedLCPConfReq:
		return m.LastReceivedLCPConf
	case AVPProxyAuthenType:
		return be.AppendUint16(nil, uint16(m.ProxyAuthenType))
	case AVPProxyAuthenName:
		return []byte(m.ProxyAuthenName)
	case AVPProxyAuthenChallenge:
		return m.ProxyAuthenChallenge
	case AVPProxyAuthenID:
		return []byte{0, m.ProxyAuthenID}
	case AVPProxyAuthenResponse:
		return m.ProxyAuthenResponse
	case AVPCallErrors:
		v := make([]byte, 2, 26)
		for _, x := range [...]uint32{m.CallErrors.CRC, m.CallErrors.Framing, m.CallErrors.HardwareOverruns,
			m.CallErrors.BufferOverruns, m.CallErrors.Timeout, m.CallErrors.Alignment} {
			v = be.AppendUint32(v, x)
		}
		return v
	case AVPACCM:
		v := make([]byte, 2, 10)
		v = be.AppendUint32(v, m.ACCM.Send)
		return be.AppendUint32(v, m.ACCM.Receive)
	case AVPPrivateGroupID:
		return m.PrivateGroupID
	case AVPRxConnectSpeed:
		return be.AppendUint32(nil, m.RxConnectSpeed)
	case AVPSequencingRequired:
		return nil
	case AVPPPPDisconnectCause:
		v := be.AppendUint16(nil, m.DisconnectCause.Code)
		v = be.AppendUint16(v, m.DisconnectCause.Protocol)
		return append(append(v, m.DisconnectCause.Direction), m.DisconnectCause.Message...)
	}
	return nil
}
