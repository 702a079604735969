package auth

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"time"
)

var (
	ErrInsecureMode  = errors.New("auth: users file readable by group or others holds cleartext passwords")
	ErrUnknownKey    = errors.New("auth: unknown key in users file")
	ErrBadUsersFile  = errors.New("auth: bad users file")
	ErrBadMSCHAPResp = errors.New("auth: MS-CHAPv2 response value is not 49 bytes")
)

// Method is the PPP authentication protocol a request came from.
type Method uint8

const (
	MethodPAP      Method = iota + 1 // RFC 1334 (PPP protocol 0xc023)
	MethodCHAPMD5                    // RFC 1994, algorithm 5 (PPP protocol 0xc223)
	MethodMSCHAPv2                   // RFC 2759, CHAP algorithm 0x81
)

func (m Method) String() string {
	switch m {
	case MethodPAP:
		return "pap"
	case MethodCHAPMD5:
		return "chap-md5"
	case MethodMSCHAPv2:
		return "mschapv2"
	}
	return fmt.Sprintf("Method(%d)", uint8(m))
}

// SessionInfo describes the session asking, for back ends that report it
// (RADIUS NAS-Port, Calling-Station-Id, Acct-Session-Id) and for the audit
// log.
type SessionInfo struct {
	SessionID      string         // Acct-Session-Id
	CallingStation netip.AddrPort // the client's public address
	NASPort        uint32
}

// Request is one authentication attempt, as PPP received it.
type Request struct {
	Method Method
	// User is the name the peer sent (PAP Peer-ID, CHAP/MS-CHAPv2 Name),
	// possibly with a Windows "DOMAIN\" prefix.
	User string
	// Password is the PAP password.
	Password []byte
	// CHAPID is the CHAP Identifier of the Challenge/Response (CHAP-MD5).
	CHAPID uint8
	// Challenge is the challenge the server sent: any length for CHAP-MD5,
	// the 16-byte Authenticator Challenge for MS-CHAPv2.
	Challenge []byte
	// Response is the 16-byte CHAP-MD5 response.
	Response []byte
	// PeerChallenge (16 bytes) and NTResponse (24 bytes) are the MS-CHAPv2
	// response fields; ParseMSCHAPv2Response splits the 49-byte value.
	PeerChallenge []byte
	NTResponse    []byte
	Session       SessionInfo
}

// Reason says why a request was refused (or ReasonOK). Its String is meant
// for metric labels and the audit log.
type Reason uint8

const (
	ReasonOK                 Reason = iota
	ReasonUnknownUser               // no such user
	ReasonDisabled                  // the user exists but is disabled
	ReasonBadPassword               // wrong password or response
	ReasonMethodUnavailable         // e.g. CHAP-MD5 for a user stored as an NT hash only
	ReasonMalformed                 // the request lacks or mangles fields
	ReasonBackendUnavailable        // RADIUS servers unreachable, file not loaded
	ReasonRejected                  // the back end refused without saying why (RADIUS Access-Reject)
	ReasonCanceled                  // the session went away while the request was pending
)

func (r Reason) String() string {
	switch r {
	case ReasonOK:
		return "ok"
	case ReasonUnknownUser:
		return "unknown_user"
	case ReasonDisabled:
		return "disabled"
	case ReasonBadPassword:
		return "bad_password"
	case ReasonMethodUnavailable:
		return "method_unavailable"
	case ReasonMalformed:
		return "malformed"
	case ReasonBackendUnavailable:
		return "backend_unavailable"
	case ReasonRejected:
		return "rejected"
	case ReasonCanceled:
		return "canceled"
	}
	return fmt.Sprintf("Reason(%d)", uint8(r))
}

// MSCHAPError is the Windows error code to put in an MS-CHAPv2 Failure
// packet's "E=" field (RFC 2759 section 6): 647 ERROR_ACCOUNT_DISABLED for a
// disabled account, 691 ERROR_AUTHENTICATION_FAILURE otherwise (unknown
// users are not told apart from bad passwords).
func (r Reason) MSCHAPError() int {
	if r == ReasonDisabled {
		return 647
	}
	return 691
}

// Result is the outcome of a Request.
type Result struct {
	Accepted bool
	Reason   Reason
	// Detail is a sentence for the audit log; it is not meant for the peer.
	Detail string
	// User is the account name as the back end knows it (the domain prefix
	// stripped when that is how it matched).
	User string
	// AuthenticatorResponse is the MS-CHAPv2 "S=" string (42 characters)
	// for the Success packet (RFC 2759 section 5).
	AuthenticatorResponse string
	// StaticAddr is the user's fixed address (users file, RADIUS
	// Framed-IP-Address); Pool the pool to allocate from (Framed-Pool).
	StaticAddr netip.Addr
	Pool       string
	// Limits and settings that RADIUS may send; zero means unset.
	SessionTimeout time.Duration
	IdleTimeout    time.Duration
	DNS            []netip.Addr
	Class          [][]byte
}

// Authenticator checks PPP credentials against a back end.
//
// Authenticate must not block on the back end: it returns at once and calls
// done exactly once, on another goroutine, never synchronously inside
// Authenticate, so that a caller may hold its own lock across the call
// (done then waits for it) or hand the result to its event loop. When ctx
// ends first, done still runs, with ReasonCanceled or the result that was
// already known.
type Authenticator interface {
	Authenticate(ctx context.Context, req Request, done func(Result))
}

// AcctStatus is the RADIUS Acct-Status-Type of a record (RFC 2866 5.1).
type AcctStatus uint8

const (
	AcctStart   AcctStatus = 1
	AcctStop    AcctStatus = 2
	AcctInterim AcctStatus = 3
)

func (s AcctStatus) String() string {
	switch s {
	case AcctStart:
		return "start"
	case AcctStop:
		return "stop"
	case AcctInterim:
		return "interim-update"
	case AcctOn:
		return "accounting-on"
	case AcctOff:
		return "accounting-off"
	}
	return fmt.Sprintf("AcctStatus(%d)", uint8(s))
}

// TerminateCause is the RADIUS Acct-Terminate-Cause (RFC 2866 5.10).
type TerminateCause uint32

const (
	CauseUserRequest    TerminateCause = 1
	CauseLostCarrier    TerminateCause = 2 // DPD or HELLO timeout
	CauseLostService    TerminateCause = 3
	CauseIdleTimeout    TerminateCause = 4
	CauseSessionTimeout TerminateCause = 5
	CauseAdminReset     TerminateCause = 6
	CauseAdminReboot    TerminateCause = 7
	CausePortError      TerminateCause = 8
	CauseNASError       TerminateCause = 9
	CauseNASRequest     TerminateCause = 10
	CauseNASReboot      TerminateCause = 11
)

func (c TerminateCause) String() string {
	switch c {
	case CauseUserRequest:
		return "user-request"
	case CauseLostCarrier:
		return "lost-carrier"
	case CauseLostService:
		return "lost-service"
	case CauseIdleTimeout:
		return "idle-timeout"
	case CauseSessionTimeout:
		return "session-timeout"
	case CauseAdminReset:
		return "admin-reset"
	case CauseAdminReboot:
		return "admin-reboot"
	case CausePortError:
		return "port-error"
	case CauseNASError:
		return "nas-error"
	case CauseNASRequest:
		return "nas-request"
	case CauseNASReboot:
		return "nas-reboot"
	}
	return fmt.Sprintf("TerminateCause(%d)", uint32(c))
}

// AcctRecord is one accounting event of a session.
type AcctRecord struct {
	Status     AcctStatus
	Session    SessionInfo
	User       string
	Class      [][]byte // echoed from the Access-Accept
	FramedAddr netip.Addr
	// Time is when the event happened (queued records are sent later, with
	// Acct-Delay-Time computed from it).
	Time                  time.Time
	SessionTime           time.Duration
	InOctets, OutOctets   uint64
	InPackets, OutPackets uint64
	Cause                 TerminateCause // Stop only
}

// Accounter records session accounting. Account queues the record and
// returns at once; delivery, retries and on-disk queuing are the back end's
// business.
type Accounter interface {
	Account(rec AcctRecord)
}

// NopAccounter discards every record (no accounting configured).
type NopAccounter struct{}

// Account does nothing.
func (NopAccounter) Account(AcctRecord) {}

// ParseMSCHAPv2Response splits the 49-byte MS-CHAPv2 Response value (RFC
// 2759 section 4: Peer-Challenge 16, Reserved 8, NT-Response 24, Flags 1).
// The returned slices alias value.
func ParseMSCHAPv2Response(value []byte) (peerChallenge, ntResponse []byte, err error) {
	if len(value) != 49 {
		return nil, nil, fmt.Errorf("%w (got %d)", ErrBadMSCHAPResp, len(value))
	}
	return value[0:16], value[24:48], nil
}
