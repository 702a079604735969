package l2tp

import (
	"strconv"
	"strings"
)

// MessageType is the value of the Message Type AVP (RFC 2661 section 3.2).
type MessageType uint16

// Control message types of RFC 2661 section 3.2. Type 5 is reserved and 13
// is unused.
const (
	MsgSCCRQ   MessageType = 1  // Start-Control-Connection-Request
	MsgSCCRP   MessageType = 2  // Start-Control-Connection-Reply
	MsgSCCCN   MessageType = 3  // Start-Control-Connection-Connected
	MsgStopCCN MessageType = 4  // Stop-Control-Connection-Notification
	MsgHello   MessageType = 6  // Hello
	MsgOCRQ    MessageType = 7  // Outgoing-Call-Request
	MsgOCRP    MessageType = 8  // Outgoing-Call-Reply
	MsgOCCN    MessageType = 9  // Outgoing-Call-Connected
	MsgICRQ    MessageType = 10 // Incoming-Call-Request
	MsgICRP    MessageType = 11 // Incoming-Call-Reply
	MsgICCN    MessageType = 12 // Incoming-Call-Connected
	MsgCDN     MessageType = 14 // Call-Disconnect-Notify
	MsgWEN     MessageType = 15 // WAN-Error-Notify
	MsgSLI     MessageType = 16 // Set-Link-Info
)

var messageTypeNames = [...]string{
	MsgSCCRQ: "SCCRQ", MsgSCCRP: "SCCRP", MsgSCCCN: "SCCCN", MsgStopCCN: "StopCCN",
	MsgHello: "HELLO", MsgOCRQ: "OCRQ", MsgOCRP: "OCRP", MsgOCCN: "OCCN",
	MsgICRQ: "ICRQ", MsgICRP: "ICRP", MsgICCN: "ICCN", MsgCDN: "CDN",
	MsgWEN: "WEN", MsgSLI: "SLI",
}

func (t MessageType) String() string {
	if int(t) < len(messageTypeNames) && messageTypeNames[t] != "" {
		return messageTypeNames[t]
	}
	return "MessageType(" + strconv.Itoa(int(t)) + ")"
}

// Known reports whether t is a message type of RFC 2661.
func (t MessageType) Known() bool {
	return int(t) < len(messageTypeNames) && messageTypeNames[t] != ""
}

// sessionScoped reports whether messages of type t concern one call rather
// than the whole control connection (RFC 2661 section 3.2 groups them).
func (t MessageType) sessionScoped() bool {
	switch t {
	case MsgOCRQ, MsgOCRP, MsgOCCN, MsgICRQ, MsgICRP, MsgICCN, MsgCDN, MsgWEN, MsgSLI:
		return true
	}
	return false
}

// AVPType is the Attribute Type of an IETF AVP (vendor ID 0).
type AVPType uint16

// AVP types of RFC 2661 section 4.4 and RFC 3145.
const (
	AVPMessageType               AVPType = 0
	AVPResultCode                AVPType = 1
	AVPProtocolVersion           AVPType = 2
	AVPFramingCapabilities       AVPType = 3
	AVPBearerCapabilities        AVPType = 4
	AVPTieBreaker                AVPType = 5
	AVPFirmwareRevision          AVPType = 6
	AVPHostName                  AVPType = 7
	AVPVendorName                AVPType = 8
	AVPAssignedTunnelID          AVPType = 9
	AVPReceiveWindowSize         AVPType = 10
	AVPChallenge                 AVPType = 11
	AVPQ931CauseCode             AVPType = 12
	AVPChallengeResponse         AVPType = 13
	AVPAssignedSessionID         AVPType = 14
	AVPCallSerialNumber          AVPType = 15
	AVPMinimumBPS                AVPType = 16
	AVPMaximumBPS                AVPType = 17
	AVPBearerType                AVPType = 18
	AVPFramingType               AVPType = 19
	AVPCalledNumber              AVPType = 21
	AVPCallingNumber             AVPType = 22
	AVPSubAddress                AVPType = 23
	AVPTxConnectSpeed            AVPType = 24
	AVPPhysicalChannelID         AVPType = 25
	AVPInitialReceivedLCPConfReq AVPType = 26
	AVPLastSentLCPConfReq        AVPType = 27
	AVPLastReceivedLCPConfReq    AVPType = 28
	AVPProxyAuthenType           AVPType = 29
	AVPProxyAuthenName           AVPType = 30
	AVPProxyAuthenChallenge      AVPType = 31
	AVPProxyAuthenID             AVPType = 32
	AVPProxyAuthenResponse       AVPType = 33
	AVPCallErrors                AVPType = 34
	AVPACCM                      AVPType = 35
	AVPRandomVector              AVPType = 36
	AVPPrivateGroupID            AVPType = 37
	AVPRxConnectSpeed            AVPType = 38
	AVPSequencingRequired        AVPType = 39
	AVPPPPDisconnectCause        AVPType = 46 // RFC 3145
)

var avpTypeNames = [...]string{
	AVPMessageType: "Message Type", AVPResultCode: "Result Code",
	AVPProtocolVersion: "Protocol Version", AVPFramingCapabilities: "Framing Capabilities",
	AVPBearerCapabilities: "Bearer Capabilities", AVPTieBreaker: "Tie Breaker",
	AVPFirmwareRevision: "Firmware Revision", AVPHostName: "Host Name",
	AVPVendorName: "Vendor Name", AVPAssignedTunnelID: "Assigned Tunnel ID",
	AVPReceiveWindowSize: "Receive Window Size", AVPChallenge: "Challenge",
	AVPQ931CauseCode: "Q.931 Cause Code", AVPChallengeResponse: "Challenge Response",
	AVPAssignedSessionID: "Assigned Session ID", AVPCallSerialNumber: "Call Serial Number",
	AVPMinimumBPS: "Minimum BPS", AVPMaximumBPS: "Maximum BPS",
	AVPBearerType: "Bearer Type", AVPFramingType: "Framing Type",
	AVPCalledNumber: "Called Number", AVPCallingNumber: "Calling Number",
	AVPSubAddress: "Sub-Address", AVPTxConnectSpeed: "Tx Connect Speed",
	AVPPhysicalChannelID:         "Physical Channel ID",
	AVPInitialReceivedLCPConfReq: "Initial Received LCP CONFREQ",
	AVPLastSentLCPConfReq:        "Last Sent LCP CONFREQ",
	AVPLastReceivedLCPConfReq:    "Last Received LCP CONFREQ",
	AVPProxyAuthenType:           "Proxy Authen Type", AVPProxyAuthenName: "Proxy Authen Name",
	AVPProxyAuthenChallenge: "Proxy Authen Challenge", AVPProxyAuthenID: "Proxy Authen ID",
	AVPProxyAuthenResponse: "Proxy Authen Response", AVPCallErrors: "Call Errors",
	AVPACCM: "ACCM", AVPRandomVector: "Random Vector", AVPPrivateGroupID: "Private Group ID",
	AVPRxConnectSpeed: "Rx Connect Speed", AVPSequencingRequired: "Sequencing Required",
	AVPPPPDisconnectCause: "PPP Disconnect Cause Code",
}

func (t AVPType) String() string {
	if int(t) < len(avpTypeNames) && avpTypeNames[t] != "" {
		return avpTypeNames[t]
	}
	return "AVPType(" + strconv.Itoa(int(t)) + ")"
}

// known reports whether this package understands AVP type t.
func (t AVPType) known() bool {
	return int(t) < len(avpTypeNames) && avpTypeNames[t] != ""
}

// AVPSet is a set of AVP types (all known types are below 64).
type AVPSet uint64

// Has reports whether t is in the set.
func (s AVPSet) Has(t AVPType) bool { return t < 64 && s&(1<<t) != 0 }

// With returns the set with t added.
func (s AVPSet) With(t AVPType) AVPSet {
	if t >= 64 {
		return s
	}
	return s | 1<<t
}

// ResultCode is the Result Code field of the Result Code AVP. Its meaning
// depends on the message carrying it (StopCCN: section 4.4.2 table 1; CDN:
// table 2); Describe gives the text for a message type.
type ResultCode uint16

// StopCCN result codes (RFC 2661 section 4.4.2).
const (
	StopCCNClear           ResultCode = 1 // general request to clear control connection
	StopCCNGeneralError    ResultCode = 2 // see the error code
	StopCCNAlreadyExists   ResultCode = 3 // control channel already exists
	StopCCNNotAuthorized   ResultCode = 4 // requester is not authorized
	StopCCNBadVersion      ResultCode = 5 // protocol version not supported
	StopCCNShuttingDown    ResultCode = 6 // requester is being shut down
	StopCCNStateMachineErr ResultCode = 7 // finite state machine error
)

// CDN result codes (RFC 2661 section 4.4.2).
const (
	CDNLostCarrier       ResultCode = 1  // call disconnected due to loss of carrier
	CDNGeneralError      ResultCode = 2  // see the error code
	CDNAdministrative    ResultCode = 3  // disconnected for administrative reasons
	CDNNoFacilitiesTemp  ResultCode = 4  // lack of facilities, temporary
	CDNNoFacilitiesPerm  ResultCode = 5  // lack of facilities, permanent
	CDNInvalidDest       ResultCode = 6  // invalid destination
	CDNNoCarrier         ResultCode = 7  // no carrier detected
	CDNBusy              ResultCode = 8  // busy signal
	CDNNoDialTone        ResultCode = 9  // no dial tone
	CDNTimeout           ResultCode = 10 // not established within time allotted by LAC
	CDNNoFramingDetected ResultCode = 11 // connected but no framing detected
)

var stopCCNResultNames = [...]string{
	StopCCNClear: "clear control connection", StopCCNGeneralError: "general error",
	StopCCNAlreadyExists: "control channel already exists", StopCCNNotAuthorized: "requester not authorized",
	StopCCNBadVersion: "protocol version not supported", StopCCNShuttingDown: "requester shutting down",
	StopCCNStateMachineErr: "state machine error",
}

var cdnResultNames = [...]string{
	CDNLostCarrier: "loss of carrier", CDNGeneralError: "general error",
	CDNAdministrative: "administrative", CDNNoFacilitiesTemp: "no facilities (temporary)",
	CDNNoFacilitiesPerm: "no facilities (permanent)", CDNInvalidDest: "invalid destination",
	CDNNoCarrier: "no carrier", CDNBusy: "busy", CDNNoDialTone: "no dial tone",
	CDNTimeout: "not established in time", CDNNoFramingDetected: "no framing detected",
}

func (c ResultCode) String() string { return "result " + strconv.Itoa(int(c)) }

// Describe names c as carried in a message of type t (StopCCN or CDN).
func (c ResultCode) Describe(t MessageType) string {
	var names []string
	switch t {
	case MsgStopCCN:
		names = stopCCNResultNames[:]
	case MsgCDN:
		names = cdnResultNames[:]
	}
	if int(c) < len(names) && names[c] != "" {
		return names[c]
	}
	return c.String()
}

// ErrorCode is the General Error Code of the Result Code AVP (RFC 2661
// section 4.4.2), meaningful when the result code is 2.
type ErrorCode uint16

// General error codes.
const (
	CodeNone             ErrorCode = 0 // no general error
	CodeNoControlConn    ErrorCode = 1 // no control connection exists yet
	CodeLength           ErrorCode = 2 // length is wrong
	CodeBadValue         ErrorCode = 3 // a field value was out of range or a reserved field non-zero
	CodeNoResources      ErrorCode = 4 // insufficient resources now
	CodeInvalidSession   ErrorCode = 5 // session ID invalid in this context
	CodeVendorSpecific   ErrorCode = 6 // generic vendor-specific error
	CodeTryAnother       ErrorCode = 7 // try another LNS
	CodeUnknownMandatory ErrorCode = 8 // unknown AVP with the M bit set
)

var errorCodeNames = [...]string{
	"no error", "no control connection", "length is wrong", "bad value",
	"insufficient resources", "invalid session ID", "vendor-specific error",
	"try another", "unknown mandatory AVP",
}

func (e ErrorCode) String() string {
	if int(e) < len(errorCodeNames) {
		return errorCodeNames[e]
	}
	return "error " + strconv.Itoa(int(e))
}

// ProxyAuthenType is the value of the Proxy Authen Type AVP (section 4.4.5).
type ProxyAuthenType uint16

// Proxy authentication types.
const (
	ProxyAuthReserved ProxyAuthenType = 0
	ProxyAuthText     ProxyAuthenType = 1 // textual username/password exchange
	ProxyAuthCHAP     ProxyAuthenType = 2
	ProxyAuthPAP      ProxyAuthenType = 3
	ProxyAuthNone     ProxyAuthenType = 4
	ProxyAuthMSCHAPv1 ProxyAuthenType = 5
)

var proxyAuthenNames = [...]string{"reserved", "text", "CHAP", "PAP", "none", "MS-CHAPv1"}

func (p ProxyAuthenType) String() string {
	if int(p) < len(proxyAuthenNames) {
		return proxyAuthenNames[p]
	}
	return "ProxyAuthenType(" + strconv.Itoa(int(p)) + ")"
}

// Framing is the bit set of the Framing Capabilities and Framing Type AVPs
// (sections 4.4.3 and 4.4.5).
type Framing uint32

// Framing bits.
const (
	FramingSync  Framing = 1 // S bit
	FramingAsync Framing = 2 // A bit
)

func (f Framing) String() string {
	return bitsString(uint32(f), "sync", "async")
}

// Bearer is the bit set of the Bearer Capabilities and Bearer Type AVPs.
type Bearer uint32

// Bearer bits.
const (
	BearerDigital Bearer = 1 // D bit
	BearerAnalog  Bearer = 2 // A bit
)

func (b Bearer) String() string {
	return bitsString(uint32(b), "digital", "analog")
}

func bitsString(v uint32, bit0, bit1 string) string {
	var parts []string
	if v&1 != 0 {
		parts = append(parts, bit0)
	}
	if v&2 != 0 {
		parts = append(parts, bit1)
	}
	if rest := v &^ 3; rest != 0 {
		parts = append(parts, "0x"+strconv.FormatUint(uint64(rest), 16))
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, "|")
}

// Role is the side of the L2TP control connection an Endpoint plays.
type Role uint8

// Roles.
const (
	RoleLNS Role = iota + 1 // network server: accepts tunnels and incoming calls
	RoleLAC                 // access concentrator: dials tunnels and places incoming calls
)

func (r Role) String() string {
	switch r {
	case RoleLNS:
		return "LNS"
	case RoleLAC:
		return "LAC"
	}
	return "Role(" + strconv.Itoa(int(r)) + ")"
}
