package auth

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"layeh.com/radius"
	"layeh.com/radius/rfc2865"
	"layeh.com/radius/rfc2866"
	"layeh.com/radius/rfc2868"
	"layeh.com/radius/rfc2869"
	"layeh.com/radius/rfc3162"
	"layeh.com/radius/vendors/microsoft"
)

// RadiusAuth is the RADIUS authentication back end (RFC 2865, RFC 3579 for
// EAP). It implements Authenticator; AuthenticateRadius and AuthenticateEAP
// give what Result cannot carry. Every call returns at once: the exchange
// runs on a goroutine of its own (one per authentication, never per packet),
// bounded by RadiusConfig.MaxOutstanding, so a slow or dead server never
// blocks the caller nor other sessions.
type RadiusAuth struct {
	c *client
}

// NewRadiusAuth checks cfg and returns the back end. No socket is opened
// until a request is made.
func NewRadiusAuth(cfg RadiusConfig) (*RadiusAuth, error) {
	c, err := newClient("auth", cfg)
	if err != nil {
		return nil, err
	}
	return &RadiusAuth{c: c}, nil
}

// Close stops the Status-Server probes of dead servers (ProbeDeadServers),
// for a back end replaced on reload. Requests in flight finish.
func (a *RadiusAuth) Close() { a.c.closed.Store(true) }

// RadiusReply is a Result with what RADIUS adds to it.
type RadiusReply struct {
	Result
	// InterimInterval is Acct-Interim-Interval (RFC 2869 5.16); zero when
	// the server sent none. Pass it to StartInterims.
	InterimInterval time.Duration
	// ReplyMessage is Reply-Message, which may be shown to the peer (PAP,
	// the M= of an MS-CHAPv2 Failure).
	ReplyMessage string
	// MSCHAPError is the E= code of MS-CHAP-Error (RFC 2548 2.1.5) when the
	// server sent one (e.g. 691, 647 account disabled, 648 password
	// expired, 649 no dial-in permission); zero otherwise, in which case
	// Reason.MSCHAPError gives the code to send.
	MSCHAPError int
	// MPPESendKey and MPPERecvKey are MS-MPPE-Send-Key and MS-MPPE-Recv-Key
	// (RFC 2548 2.4.2, 2.4.3) decrypted; L2TP/IPsec does not use MPPE, but
	// they are here for completeness.
	MPPESendKey, MPPERecvKey []byte
	// Server is the address of the server that answered.
	Server string
}

// Authenticate implements Authenticator.
func (a *RadiusAuth) Authenticate(ctx context.Context, req Request, done func(Result)) {
	a.AuthenticateRadius(ctx, req, func(r RadiusReply) { done(r.Result) })
}

// AuthenticateRadius is Authenticate with the RADIUS-specific part of the
// answer. done is called exactly once, on another goroutine.
func (a *RadiusAuth) AuthenticateRadius(ctx context.Context, req Request, done func(RadiusReply)) {
	if !a.c.acquire() {
		go done(RadiusReply{Result: Result{Reason: ReasonBackendUnavailable, Detail: ErrTooBusy.Error(), User: req.User}})
		return
	}
	go func() {
		defer a.c.release()
		done(a.authenticate(ctx, req))
	}()
}

func (a *RadiusAuth) authenticate(ctx context.Context, req Request) RadiusReply {
	fail := func(r Reason, detail string) RadiusReply {
		return RadiusReply{Result: Result{Reason: r, Detail: detail, User: req.User}}
	}
	if ctx.Err() != nil {
		return fail(ReasonCanceled, "session ended before authentication")
	}
	if err := checkRequest(req); err != nil {
		return fail(ReasonMalformed, err.Error())
	}
	var reqAuth [16]byte
	reply, server, err := a.c.send(ctx, func(secret []byte) (*radius.Packet, error) {
		p := radius.New(radius.CodeAccessRequest, secret)
		reqAuth = p.Authenticator
		if err := a.addCommon(p, req.User, req.Session); err != nil {
			return nil, err
		}
		return p, addCredentials(p, req)
	})
	if err != nil {
		return a.sendError(ctx, req.User, err)
	}
	r := mapReply(reply, req.User, reqAuth)
	r.Server = server
	if r.Accepted && req.Method == MethodMSCHAPv2 && r.AuthenticatorResponse == "" {
		// Without S= the client cannot check the server: refuse rather
		// than let it fail in the client with no reason logged.
		r.Accepted, r.Reason = false, ReasonRejected
		r.Detail = "Access-Accept without MS-CHAP2-Success"
	}
	return r
}

func (a *RadiusAuth) sendError(ctx context.Context, user string, err error) RadiusReply {
	r := RadiusReply{Result: Result{Reason: ReasonBackendUnavailable, Detail: err.Error(), User: user}}
	if ctx.Err() != nil || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		r.Reason, r.Detail = ReasonCanceled, "session ended while waiting for RADIUS"
	}
	return r
}

// checkRequest rejects requests whose fields cannot make a valid
// Access-Request.
func checkRequest(req Request) error {
	if req.User == "" {
		return errors.New("empty user name")
	}
	switch req.Method {
	case MethodPAP:
		if len(req.Password) > 128 {
			return errors.New("PAP password longer than 128 bytes")
		}
	case MethodCHAPMD5:
		if len(req.Response) != 16 || len(req.Challenge) == 0 || len(req.Challenge) > 253 {
			return errors.New("CHAP-MD5 response must be 16 bytes and the challenge 1 to 253")
		}
	case MethodMSCHAPv2:
		if len(req.Challenge) != 16 || len(req.PeerChallenge) != 16 || len(req.NTResponse) != 24 {
			return errors.New("MS-CHAPv2 challenge, peer challenge and NT-Response must be 16, 16 and 24 bytes")
		}
	default:
		return fmt.Errorf("method %v not supported by RADIUS", req.Method)
	}
	return nil
}

// addCommon adds the attributes every Access-Request carries (RFC 2865
// section 5, RFC 2868 section 3 for the tunnel).
func (a *RadiusAuth) addCommon(p *radius.Packet, user string, s SessionInfo) error {
	if err := rfc2865.UserName_AddString(p, user); err != nil {
		return err
	}
	if err := addNAS(p, &a.c.cfg); err != nil {
		return err
	}
	rfc2865.NASPortType_Add(p, rfc2865.NASPortType_Value_Virtual)
	rfc2865.NASPort_Add(p, rfc2865.NASPort(s.NASPort))
	rfc2865.ServiceType_Add(p, rfc2865.ServiceType_Value_FramedUser)
	rfc2865.FramedProtocol_Add(p, rfc2865.FramedProtocol_Value_PPP)
	if s.CallingStation.IsValid() {
		addr := s.CallingStation.Addr().Unmap().String()
		rfc2865.CallingStationID_AddString(p, addr)
		rfc2868.TunnelClientEndpoint_AddString(p, 0, addr)
	}
	rfc2868.TunnelType_Add(p, 0, rfc2868.TunnelType_Value_L2TP)
	medium := rfc2868.TunnelMediumType_Value_IPv4
	if s.CallingStation.IsValid() && !s.CallingStation.Addr().Unmap().Is4() {
		medium = rfc2868.TunnelMediumType_Value_IPv6
	}
	rfc2868.TunnelMediumType_Add(p, 0, medium)
	if s.SessionID != "" {
		if err := rfc2866.AcctSessionID_AddString(p, s.SessionID); err != nil {
			return err
		}
	}
	return nil
}

// addNAS adds NAS-IP-Address (NAS-IPv6-Address, RFC 3162, for an IPv6
// address) and/or NAS-Identifier; with neither configured the identifier
// "l2tpsecd" is sent, as RFC 2865 section 4.1 requires one of them.
func addNAS(p *radius.Packet, cfg *RadiusConfig) error {
	ip := cfg.NASIPAddress.Unmap()
	switch {
	case ip.Is4():
		rfc2865.NASIPAddress_Add(p, net.IP(ip.AsSlice()))
	case ip.Is6():
		rfc3162.NASIPv6Address_Add(p, net.IP(ip.AsSlice()))
	}
	if cfg.NASIdentifier != "" || !ip.IsValid() {
		id := cfg.NASIdentifier
		if id == "" {
			id = "l2tpsecd"
		}
		return rfc2865.NASIdentifier_AddString(p, id)
	}
	return nil
}

// addCredentials adds the method's attributes: User-Password (RFC 2865
// 5.2), CHAP-Password + CHAP-Challenge (5.3, 5.40), or MS-CHAP-Challenge +
// MS-CHAP2-Response (RFC 2548 2.3.2).
func addCredentials(p *radius.Packet, req Request) error {
	switch req.Method {
	case MethodPAP:
		return rfc2865.UserPassword_Add(p, req.Password)
	case MethodCHAPMD5:
		v := make([]byte, 0, 17)
		v = append(append(v, req.CHAPID), req.Response...)
		if err := rfc2865.CHAPPassword_Add(p, v); err != nil {
			return err
		}
		return rfc2865.CHAPChallenge_Add(p, req.Challenge)
	case MethodMSCHAPv2:
		if err := microsoft.MSCHAPChallenge_Add(p, req.Challenge); err != nil {
			return err
		}
		v := make([]byte, 50)
		v[0] = req.CHAPID
		v[1] = 0 // flags
		copy(v[2:18], req.PeerChallenge)
		copy(v[26:50], req.NTResponse)
		return microsoft.MSCHAP2Response_Add(p, v)
	}
	return fmt.Errorf("method %v not supported by RADIUS", req.Method)
}

// mapReply turns Access-Accept/Reject into a RadiusReply. Attributes this
// back end does not know are ignored.
func mapReply(p *radius.Packet, user string, reqAuth [16]byte) RadiusReply {
	r := RadiusReply{Result: Result{User: user}}
	r.ReplyMessage = rfc2865.ReplyMessage_GetString(p)
	if v, err := microsoft.MSCHAPError_Lookup(p); err == nil {
		r.MSCHAPError = parseMSCHAPErrorCode(v)
	}
	switch p.Code {
	case radius.CodeAccessAccept:
	case radius.CodeAccessReject:
		r.Reason = ReasonRejected
		switch r.MSCHAPError {
		case 691:
			r.Reason = ReasonBadPassword
		case 647:
			r.Reason = ReasonDisabled
		}
		r.Detail = "Access-Reject"
		if r.MSCHAPError != 0 {
			r.Detail += " E=" + strconv.Itoa(r.MSCHAPError)
		}
		if r.ReplyMessage != "" {
			r.Detail += ": " + r.ReplyMessage
		}
		return r
	default:
		r.Reason = ReasonRejected
		r.Detail = "unexpected " + p.Code.String()
		return r
	}
	r.Accepted, r.Reason, r.Detail = true, ReasonOK, "Access-Accept"
	if ip := rfc2865.FramedIPAddress_Get(p); ip != nil {
		if a, ok := netip.AddrFromSlice(ip.To4()); ok && !isSpecialFramed(a) {
			r.StaticAddr = a
		}
	}
	r.Pool = string(rfc2869.FramedPool_Get(p))
	r.SessionTimeout = time.Duration(rfc2865.SessionTimeout_Get(p)) * time.Second
	r.IdleTimeout = time.Duration(rfc2865.IdleTimeout_Get(p)) * time.Second
	r.InterimInterval = time.Duration(rfc2869.AcctInterimInterval_Get(p)) * time.Second
	for _, ip := range []net.IP{microsoft.MSPrimaryDNSServer_Get(p), microsoft.MSSecondaryDNSServer_Get(p)} {
		if a, ok := netip.AddrFromSlice(ip.To4()); ok && ip != nil && !a.IsUnspecified() {
			r.DNS = append(r.DNS, a)
		}
	}
	if cl, err := rfc2865.Class_Gets(p); err == nil {
		for _, c := range cl {
			r.Class = append(r.Class, bytes.Clone(c))
		}
	}
	if s := microsoft.MSCHAP2Success_Get(p); len(s) > 1 {
		// Ident byte, then "S=<40 hex>" possibly followed by " M=...".
		resp := string(s[1:])
		if i := strings.IndexByte(resp, ' '); i >= 0 {
			resp = resp[:i]
		}
		r.AuthenticatorResponse = resp
	}
	q := &radius.Packet{Secret: p.Secret, Authenticator: reqAuth}
	r.MPPESendKey = microsoft.MSMPPESendKey_Get(p, q)
	r.MPPERecvKey = microsoft.MSMPPERecvKey_Get(p, q)
	return r
}

// isSpecialFramed tells the Framed-IP-Address values of RFC 2865 5.8 that
// are instructions, not addresses: 255.255.255.255 (let the user choose)
// and 255.255.255.254 (the NAS chooses).
func isSpecialFramed(a netip.Addr) bool {
	b := a.As4()
	return b[0] == 255 && b[1] == 255 && b[2] == 255 && b[3] >= 254 || a.IsUnspecified()
}

// parseMSCHAPErrorCode reads the E= number of an MS-CHAP-Error value
// ("<ident>E=691 R=0 C=... V=3 M=...").
func parseMSCHAPErrorCode(v []byte) int {
	s := string(v)
	i := strings.Index(s, "E=")
	if i < 0 {
		return 0
	}
	s = s[i+2:]
	j := 0
	for j < len(s) && s[j] >= '0' && s[j] <= '9' {
		j++
	}
	n, err := strconv.Atoi(s[:j])
	if err != nil {
		return 0
	}
	return n
}

// EAPRequest is one round of EAP pass-through (RFC 3579): the peer's whole
// EAP packet and the State the server sent in the previous
// Access-Challenge (nil in the first round). User is the EAP identity from
// the peer's Identity response.
type EAPRequest struct {
	User       string
	EAPMessage []byte
	State      []byte
	Session    SessionInfo
}

// EAPResult is the server's answer to one EAP round. Continue means
// Access-Challenge: send EAPMessage to the peer and come back with its
// response and State. Otherwise Accepted says Access-Accept or Reject, and
// EAPMessage is the EAP Success or Failure to relay (possibly empty: the
// caller makes one up).
type EAPResult struct {
	RadiusReply
	Continue   bool
	EAPMessage []byte
	State      []byte
}

// AuthenticateEAP sends one EAP round to RADIUS: EAP-Message (split into
// attributes of 253 bytes), State, Message-Authenticator. done is called
// exactly once, on another goroutine.
func (a *RadiusAuth) AuthenticateEAP(ctx context.Context, req EAPRequest, done func(EAPResult)) {
	if !a.c.acquire() {
		go done(EAPResult{RadiusReply: RadiusReply{Result: Result{Reason: ReasonBackendUnavailable, Detail: ErrTooBusy.Error(), User: req.User}}})
		return
	}
	go func() {
		defer a.c.release()
		done(a.authenticateEAP(ctx, req))
	}()
}

func (a *RadiusAuth) authenticateEAP(ctx context.Context, req EAPRequest) EAPResult {
	fail := func(r Reason, detail string) EAPResult {
		return EAPResult{RadiusReply: RadiusReply{Result: Result{Reason: r, Detail: detail, User: req.User}}}
	}
	if ctx.Err() != nil {
		return fail(ReasonCanceled, "session ended before authentication")
	}
	if len(req.EAPMessage) < 4 || int(req.EAPMessage[2])<<8|int(req.EAPMessage[3]) != len(req.EAPMessage) {
		return fail(ReasonMalformed, "EAP packet shorter than its header or its length field")
	}
	if req.User == "" {
		return fail(ReasonMalformed, "empty EAP identity")
	}
	var reqAuth [16]byte
	reply, server, err := a.c.send(ctx, func(secret []byte) (*radius.Packet, error) {
		p := radius.New(radius.CodeAccessRequest, secret)
		reqAuth = p.Authenticator
		if err := a.addCommon(p, req.User, req.Session); err != nil {
			return nil, err
		}
		if err := rfc2869.EAPMessage_Set(p, req.EAPMessage); err != nil {
			return nil, err
		}
		if len(req.State) > 0 {
			if err := rfc2865.State_Add(p, req.State); err != nil {
				return nil, err
			}
		}
		return p, nil
	})
	if err != nil {
		return EAPResult{RadiusReply: a.sendError(ctx, req.User, err)}
	}
	eap, _ := rfc2869.EAPMessage_Lookup(reply)
	if reply.Code == radius.CodeAccessChallenge {
		r := EAPResult{Continue: true, EAPMessage: eap, State: bytes.Clone(rfc2865.State_Get(reply))}
		r.User, r.Server, r.Detail = req.User, server, "Access-Challenge"
		r.ReplyMessage = rfc2865.ReplyMessage_GetString(reply)
		return r
	}
	rr := mapReply(reply, req.User, reqAuth)
	rr.Server = server
	return EAPResult{RadiusReply: rr, EAPMessage: eap}
}
