package ppp

import (
	"fmt"
	"log/slog"
	"net/netip"
	"time"
)

// AuthMethod is a PPP authentication protocol as negotiated in the LCP
// Authentication-Protocol option (RFC 1661 section 6.2, RFC 1994 section 3,
// RFC 2759 section 2).
type AuthMethod uint8

// Authentication methods.
const (
	AuthNone     AuthMethod = iota
	AuthPAP                 // C023
	AuthCHAPMD5             // C223 05
	AuthMSCHAPv1            // C223 80: never offered, only recognised
	AuthMSCHAPv2            // C223 81
	AuthEAP                 // C227: pass-through to the back end
)

// CHAP algorithm numbers (RFC 1994 section 3, RFC 2433, RFC 2759).
const (
	chapAlgMD5      = 0x05
	chapAlgMSCHAPv1 = 0x80
	chapAlgMSCHAPv2 = 0x81
)

func (m AuthMethod) String() string {
	switch m {
	case AuthNone:
		return "none"
	case AuthPAP:
		return "PAP"
	case AuthCHAPMD5:
		return "CHAP-MD5"
	case AuthMSCHAPv1:
		return "MS-CHAPv1"
	case AuthMSCHAPv2:
		return "MS-CHAPv2"
	case AuthEAP:
		return "EAP"
	}
	return fmt.Sprintf("auth-%d", uint8(m))
}

// ParseAuthMethod reads a configuration name ("pap", "chap", "chap-md5",
// "mschapv2", "ms-chapv2", "eap").
func ParseAuthMethod(s string) (AuthMethod, error) {
	switch s {
	case "pap", "PAP":
		return AuthPAP, nil
	case "chap", "chap-md5", "CHAP", "CHAP-MD5":
		return AuthCHAPMD5, nil
	case "mschapv2", "ms-chapv2", "MSCHAPv2", "MS-CHAPv2":
		return AuthMSCHAPv2, nil
	case "eap", "EAP":
		return AuthEAP, nil
	}
	return AuthNone, fmt.Errorf("%w: %q", ErrUnknownMethod, s)
}

// appendAuthOption appends the LCP option 3 value for m.
func appendAuthOption(b []byte, m AuthMethod) []byte {
	switch m {
	case AuthPAP:
		return append(b, lcpOptAuth, 4, 0xC0, 0x23)
	case AuthCHAPMD5:
		return append(b, lcpOptAuth, 5, 0xC2, 0x23, chapAlgMD5)
	case AuthMSCHAPv1:
		return append(b, lcpOptAuth, 5, 0xC2, 0x23, chapAlgMSCHAPv1)
	case AuthMSCHAPv2:
		return append(b, lcpOptAuth, 5, 0xC2, 0x23, chapAlgMSCHAPv2)
	case AuthEAP:
		return append(b, lcpOptAuth, 4, 0xC2, 0x27)
	}
	return b
}

// parseAuthOption reads an Authentication-Protocol option value.
func parseAuthOption(v []byte) AuthMethod {
	if len(v) < 2 {
		return AuthNone
	}
	switch Protocol(uint16(v[0])<<8 | uint16(v[1])) {
	case ProtoPAP:
		if len(v) == 2 {
			return AuthPAP
		}
	case ProtoEAP:
		if len(v) == 2 {
			return AuthEAP
		}
	case ProtoCHAP:
		if len(v) != 3 {
			return AuthNone
		}
		switch v[2] {
		case chapAlgMD5:
			return AuthCHAPMD5
		case chapAlgMSCHAPv1:
			return AuthMSCHAPv1
		case chapAlgMSCHAPv2:
			return AuthMSCHAPv2
		}
	}
	return AuthNone
}

// AuthRequest is what the server hands to the authentication back end. Its
// secrets are never logged: LogValue prints the method and user only.
type AuthRequest struct {
	Method AuthMethod
	User   string
	// PAP.
	Password []byte
	// CHAP-MD5: the identifier, our challenge and the peer's 16-byte
	// response. MS-CHAPv2: Challenge is the 16-byte authenticator challenge.
	CHAPID    uint8
	Challenge []byte
	Response  []byte
	// MS-CHAPv2 (RFC 2759 section 4): the peer challenge and NT-Response.
	PeerChallenge []byte
	NTResponse    []byte
	// EAP pass-through: the peer's whole EAP Response packet (RADIUS
	// EAP-Message) and the state the back end returned last round (RADIUS
	// State). User is the EAP identity.
	EAPMessage []byte
	EAPState   []byte
}

// LogValue keeps secrets out of logs.
func (r *AuthRequest) LogValue() slog.Value {
	return slog.GroupValue(slog.String("method", r.Method.String()), slog.String("user", r.User))
}

// AuthResult is the back end's verdict.
type AuthResult struct {
	Accept bool
	// Reason says why, for the audit log (never shown to the peer).
	Reason string
	// Message is the text shown to the peer (PAP message, CHAP message, the
	// M= part of MS-CHAPv2). Empty means a default.
	Message string
	// AuthenticatorResponse is MS-CHAPv2's "S=<40 hex digits>", required
	// when Accept is true for MS-CHAPv2.
	AuthenticatorResponse string
	// MSCHAPError is the Windows error code for an MS-CHAPv2 Failure's E=
	// field (647 account disabled, ...); zero means 691 (authentication
	// failure).
	MSCHAPError int
	// Pool names the address pool to allocate from (RADIUS Framed-Pool);
	// empty means the default. The AddressProvider reads it.
	Pool string
	// Address is a static address for the user (RADIUS Framed-IP-Address or
	// the users file); the AddressProvider decides what to do with it.
	Address netip.Addr
	// DNS and WINS override the configured servers when valid.
	DNS  [2]netip.Addr
	WINS [2]netip.Addr
	// SessionTimeout and IdleTimeout end the session when positive.
	SessionTimeout time.Duration
	IdleTimeout    time.Duration
	// EAP pass-through: Continue asks for another round (RADIUS
	// Access-Challenge) and EAPMessage is the whole EAP packet to send to
	// the peer (a Request, or the final Success/Failure; a missing final
	// packet is made up). EAPState comes back in the next AuthRequest.
	Continue   bool
	EAPMessage []byte
	EAPState   []byte
	// Class and Opaque travel to the server untouched (RADIUS Class for
	// accounting, anything else a back end needs to remember).
	Class  []byte
	Opaque any
}

// Authenticator is the back end interface (the server adapts the local
// users file and RADIUS to it). Authenticate must not block: it calls done
// exactly once, from any goroutine, possibly before returning, so that a
// slow RADIUS server never holds up other sessions. done may be called after
// the session is gone; it is then ignored.
type Authenticator interface {
	Authenticate(req *AuthRequest, done func(AuthResult))
}

// AuthenticatorFunc adapts a function to Authenticator.
type AuthenticatorFunc func(req *AuthRequest, done func(AuthResult))

// Authenticate calls f.
func (f AuthenticatorFunc) Authenticate(req *AuthRequest, done func(AuthResult)) { f(req, done) }

// AddressProvider gives the peer its address once it is authenticated (the
// pool, or the user's static address from the result) and takes it back when
// the network layer goes away.
type AddressProvider interface {
	Acquire(user string, res *AuthResult) (netip.Addr, error)
	Release(addr netip.Addr)
}

// Reason is why a PPP link ended; the audit log and a metric label use it.
type Reason uint8

// Reasons.
const (
	ReasonNone              Reason = iota
	ReasonUserRequest              // the peer sent Terminate-Request
	ReasonPeerTimeout              // echo requests unanswered
	ReasonAuthFailed               // the back end rejected the user
	ReasonAuthTimeout              // no authentication within the limit
	ReasonAuthRefused              // the peer refused every method we offer
	ReasonAdmin                    // closed by the operator or the server
	ReasonIdleTimeout              // no traffic for the idle timeout
	ReasonSessionTimeout           // session time limit reached
	ReasonLowerDown                // the L2TP session went away
	ReasonNegotiationFailed        // LCP or IPCP did not converge
	ReasonNoAddress                // no address for the peer
	ReasonLoopback                 // the link is looped back (magic number)
)

func (r Reason) String() string {
	switch r {
	case ReasonNone:
		return "none"
	case ReasonUserRequest:
		return "user request"
	case ReasonPeerTimeout:
		return "peer timeout"
	case ReasonAuthFailed:
		return "auth failed"
	case ReasonAuthTimeout:
		return "auth timeout"
	case ReasonAuthRefused:
		return "auth refused by peer"
	case ReasonAdmin:
		return "admin"
	case ReasonIdleTimeout:
		return "idle timeout"
	case ReasonSessionTimeout:
		return "session timeout"
	case ReasonLowerDown:
		return "lower layer down"
	case ReasonNegotiationFailed:
		return "negotiation failed"
	case ReasonNoAddress:
		return "no address"
	case ReasonLoopback:
		return "loopback"
	}
	return fmt.Sprintf("reason-%d", uint8(r))
}

// LinkInfo describes the link when LCP opens.
type LinkInfo struct {
	// PeerMRU is the largest frame the peer accepts (1500 when it did not
	// say): the server derives the tunnel MTU and the TCP MSS clamp from it.
	PeerMRU uint16
	// Auth is the method that will authenticate the peer (AuthNone if none).
	Auth AuthMethod
}

// Handler receives a link's events. The event methods are called without
// the link's lock held, one at a time and in order, from whichever goroutine
// caused them (Input's caller, a timer, the back end's callback), and may
// call back into the link. IP is the data path: it is called straight from Input's
// goroutine (possibly while an event is being delivered elsewhere), pkt is
// valid only during the call, and it must not block.
type Handler interface {
	LinkUp(info LinkInfo)
	AuthDone(method AuthMethod, user string, res *AuthResult)
	NetworkUp(addr netip.Addr)
	NetworkDown()
	Down(reason Reason)
	IP(pkt []byte)
}
