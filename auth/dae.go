package auth

import (
	"crypto/hmac"
	"crypto/md5"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"strings"
	"sync"
	"time"

	"layeh.com/radius"
	"layeh.com/radius/rfc2865"
	"layeh.com/radius/rfc2866"
	"layeh.com/radius/rfc2869"
	"layeh.com/radius/rfc3576"
	"layeh.com/radius/rfc5176"

	"github.com/l2tpsecd/l2tpsecd/internal/clock"
)

// Selector names the sessions a Disconnect-Request or CoA-Request is about
// (RFC 5176 section 3). Every non-empty field must match; at least one is
// set.
type Selector struct {
	SessionID string     // Acct-Session-Id
	User      string     // User-Name
	FramedIP  netip.Addr // Framed-IP-Address
}

func (s Selector) String() string {
	var parts []string
	if s.SessionID != "" {
		parts = append(parts, "session="+s.SessionID)
	}
	if s.User != "" {
		parts = append(parts, "user="+s.User)
	}
	if s.FramedIP.IsValid() {
		parts = append(parts, "ip="+s.FramedIP.String())
	}
	return strings.Join(parts, " ")
}

// Empty reports whether the selector names nothing.
func (s Selector) Empty() bool { return s.SessionID == "" && s.User == "" && !s.FramedIP.IsValid() }

// SessionControl is what the DAE listener needs from the server: find the
// sessions matching sel and end them (Disconnect, Acct-Terminate-Cause
// Admin-Reset is the right cause for their Stop records) or set their
// session timeout (CoA; zero removes the limit), counting from now. n is
// the number of sessions found; n == 0 answers NAK with Error-Cause 503
// Session-Context-Not-Found; an error answers NAK with 506
// Resources-Unavailable. Both are called from the listener's goroutine and
// must not block for long.
type SessionControl interface {
	Disconnect(sel Selector) (n int, err error)
	ChangeTimeout(sel Selector, sessionTimeout time.Duration) (n int, err error)
}

// DAEConfig configures the Dynamic Authorization listener (RFC 5176).
type DAEConfig struct {
	// Addr is the UDP address to listen on (default ":3799").
	Addr string
	// Secret is shared with the dynamic authorization clients.
	Secret []byte
	// Allowed are the source networks requests are taken from; packets
	// from elsewhere are dropped and counted. Required.
	Allowed []netip.Prefix
	// EventWindow is how far Event-Timestamp may be from now (default
	// 300 s, RFC 5176 section 3.4 and 5); RequireEventTimestamp drops
	// requests without one (replay protection).
	EventWindow           time.Duration
	RequireEventTimestamp bool
	// NASIdentifier and NASIPAddress, when set, must match the request's
	// NAS-Identifier / NAS-IP-Address if it has them (else 403).
	NASIdentifier string
	NASIPAddress  netip.Addr
	Clock         clock.Clock
	Log           *slog.Logger
	Metrics       *RadiusMetrics
}

// DAEServer answers Disconnect-Request and CoA-Request.
type DAEServer struct {
	cfg  DAEConfig
	ctl  SessionControl
	conn *net.UDPConn

	mu     sync.Mutex // guards recent
	recent map[daeKey]daeCached
}

type daeKey struct {
	src  netip.AddrPort
	id   byte
	auth [16]byte
}

type daeCached struct {
	resp []byte
	at   time.Time
}

// daeDupWindow is how long an answer is kept to be sent again to a
// retransmitted request (RFC 5176 section 2.3), rather than acting twice.
const daeDupWindow = 30 * time.Second

// ListenDAE opens the listener. Call Serve to answer requests and Close to
// stop.
func ListenDAE(cfg DAEConfig, ctl SessionControl) (*DAEServer, error) {
	if len(cfg.Secret) == 0 || len(cfg.Allowed) == 0 || ctl == nil {
		return nil, fmt.Errorf("%w: dae needs a secret, allowed networks and a session control", ErrBadConfig)
	}
	if cfg.Addr == "" {
		cfg.Addr = ":3799"
	}
	if cfg.EventWindow <= 0 {
		cfg.EventWindow = 300 * time.Second
	}
	if cfg.Clock == nil {
		cfg.Clock = clock.Real{}
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.Metrics == nil {
		cfg.Metrics = NewRadiusMetrics(nil)
	}
	ua, err := net.ResolveUDPAddr("udp", cfg.Addr)
	if err != nil {
		return nil, fmt.Errorf("auth: dae: %w", err)
	}
	conn, err := net.ListenUDP("udp", ua)
	if err != nil {
		return nil, fmt.Errorf("auth: dae: %w", err)
	}
	return &DAEServer{cfg: cfg, ctl: ctl, conn: conn, recent: make(map[daeKey]daeCached)}, nil
}

// Addr is the address the listener is bound to.
func (s *DAEServer) Addr() netip.AddrPort {
	return s.conn.LocalAddr().(*net.UDPAddr).AddrPort()
}

// Close stops Serve.
func (s *DAEServer) Close() error { return s.conn.Close() }

// Serve reads and answers requests until Close. It returns nil after Close.
func (s *DAEServer) Serve() error {
	buf := make([]byte, radius.MaxPacketLength)
	for {
		n, src, err := s.conn.ReadFromUDPAddrPort(buf)
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return nil
			}
			return fmt.Errorf("auth: dae: %w", err)
		}
		if resp := s.Handle(buf[:n], src); resp != nil {
			s.conn.WriteToUDPAddrPort(resp, src)
		}
	}
}

// Handle processes one datagram from src and returns the answer to send,
// or nil when the request is to be dropped silently (unknown source, bad
// authenticator, stale Event-Timestamp, malformed). It is Serve's body,
// exported for tests and for a server that owns its own socket.
func (s *DAEServer) Handle(b []byte, src netip.AddrPort) []byte {
	m := s.cfg.Metrics.DAE
	typ := "unknown"
	if len(b) > 0 {
		typ = radius.Code(b[0]).String()
	}
	if !s.allowed(src.Addr().Unmap()) {
		m.WithLabelValues(typ, "ignored_source").Inc()
		s.cfg.Log.Warn("dae request dropped", "src", src, "err", ErrDAENotAllowed)
		return nil
	}
	req, err := ParseDAERequest(b, s.cfg.Secret)
	if err != nil {
		label := "malformed"
		if errors.Is(err, ErrDAEBadAuth) || errors.Is(err, ErrBadMsgAuth) {
			label = "bad_auth"
		}
		m.WithLabelValues(typ, label).Inc()
		s.cfg.Log.Warn("dae request dropped", "src", src, "err", err)
		return nil
	}
	now := s.cfg.Clock.Now()
	if req.EventTimestamp.IsZero() && s.cfg.RequireEventTimestamp ||
		!req.EventTimestamp.IsZero() && absDur(now.Sub(req.EventTimestamp)) > s.cfg.EventWindow {
		m.WithLabelValues(typ, "stale").Inc()
		s.cfg.Log.Warn("dae request dropped", "src", src, "err", ErrDAEStale, "event_timestamp", req.EventTimestamp)
		return nil
	}
	key := daeKey{src: src, id: req.Identifier, auth: req.Authenticator}
	s.mu.Lock()
	if c, ok := s.recent[key]; ok && now.Sub(c.at) < daeDupWindow {
		s.mu.Unlock()
		m.WithLabelValues(typ, "duplicate").Inc()
		return c.resp
	}
	s.mu.Unlock()

	cause := s.act(req)
	resp, err := req.Response(cause, s.cfg.Secret)
	if err != nil {
		s.cfg.Log.Error("dae response", "err", err)
		return nil
	}
	result := "ack"
	if cause != 0 {
		result = "nak"
	}
	m.WithLabelValues(typ, result).Inc()
	s.cfg.Log.Info("dae request", "src", src, "type", typ, "selector", req.Selector.String(), "result", result, "error_cause", cause)

	s.mu.Lock()
	for k, c := range s.recent {
		if now.Sub(c.at) >= daeDupWindow {
			delete(s.recent, k)
		}
	}
	s.recent[key] = daeCached{resp: resp, at: now}
	s.mu.Unlock()
	return resp
}

func absDur(d time.Duration) time.Duration {
	if d < 0 {
		return -d
	}
	return d
}

func (s *DAEServer) allowed(a netip.Addr) bool {
	for _, p := range s.cfg.Allowed {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// act checks the request against this NAS and calls the SessionControl; it
// returns 0 for ACK or the Error-Cause of the NAK.
func (s *DAEServer) act(req *DAERequest) rfc3576.ErrorCause {
	switch {
	case req.Invalid:
		return rfc3576.ErrorCause_Value_InvalidRequest
	case len(req.InvalidAttrs) > 0:
		return rfc5176.ErrorCause_Value_InvalidAttributeValue
	case len(req.Unsupported) > 0:
		return rfc3576.ErrorCause_Value_UnsupportedAttribute
	case req.ServiceType != 0 && req.ServiceType != rfc2865.ServiceType_Value_FramedUser:
		return rfc3576.ErrorCause_Value_UnsupportedService
	case req.NASIdentifier != "" && s.cfg.NASIdentifier != "" && req.NASIdentifier != s.cfg.NASIdentifier,
		req.NASIPAddress.IsValid() && s.cfg.NASIPAddress.IsValid() && req.NASIPAddress != s.cfg.NASIPAddress:
		return rfc3576.ErrorCause_Value_NASIdentificationMismatch
	case req.Selector.Empty():
		return rfc3576.ErrorCause_Value_MissingAttribute
	}
	var n int
	var err error
	switch req.Code {
	case radius.CodeDisconnectRequest:
		if req.HasSessionTimeout {
			return rfc3576.ErrorCause_Value_UnsupportedAttribute
		}
		n, err = s.ctl.Disconnect(req.Selector)
	case radius.CodeCoARequest:
		if !req.HasSessionTimeout {
			// Session-Timeout is the only change this NAS applies.
			return rfc3576.ErrorCause_Value_MissingAttribute
		}
		n, err = s.ctl.ChangeTimeout(req.Selector, req.SessionTimeout)
	}
	switch {
	case err != nil:
		s.cfg.Log.Error("dae session control", "selector", req.Selector.String(), "err", err)
		return rfc3576.ErrorCause_Value_ResourcesUnavailable
	case n == 0:
		return rfc3576.ErrorCause_Value_SessionContextNotFound
	}
	return 0
}

// DAERequest is a parsed and authenticated Disconnect-Request or
// CoA-Request.
type DAERequest struct {
	Code          radius.Code
	Identifier    byte
	Authenticator [16]byte
	Selector      Selector
	NASIdentifier string
	NASIPAddress  netip.Addr
	// SessionTimeout is the new limit (CoA); HasSessionTimeout says it was
	// present (zero removes the limit).
	SessionTimeout    time.Duration
	HasSessionTimeout bool
	ServiceType       rfc2865.ServiceType
	EventTimestamp    time.Time
	// ProxyStates are echoed in the answer, in order (RFC 5176 3.1).
	ProxyStates [][]byte
	// Unsupported lists the attributes this NAS does not act on; their
	// presence makes the answer a NAK with 401 Unsupported-Attribute.
	Unsupported []radius.Type
	// InvalidAttrs lists known attributes with a bad value (answered 407
	// Invalid-Attribute-Value); Invalid says the attribute list itself is
	// broken (404 Invalid-Request).
	InvalidAttrs []radius.Type
	Invalid      bool
}

// ParseDAERequest checks b's Request Authenticator (RFC 5176 section 2.3:
// MD5 over the packet with a zero authenticator and the secret) and
// Message-Authenticator if present (RFC 3579 3.2, computed with a zero
// authenticator as for accounting), then parses it. An error means the
// packet is to be dropped silently; an authentic request with broken or
// bad attributes parses with Invalid or InvalidAttrs set, to be answered
// with a NAK.
func ParseDAERequest(b, secret []byte) (*DAERequest, error) {
	if len(b) < 20 {
		return nil, fmt.Errorf("%w: %d bytes", ErrDAEMalformed, len(b))
	}
	code := radius.Code(b[0])
	if code != radius.CodeDisconnectRequest && code != radius.CodeCoARequest {
		return nil, fmt.Errorf("%w: code %v", ErrDAEUnsupportedReq, code)
	}
	n := int(b[2])<<8 | int(b[3])
	if n < 20 || n > len(b) || n > radius.MaxPacketLength {
		return nil, fmt.Errorf("%w: length field %d, %d bytes", ErrDAEMalformed, n, len(b))
	}
	wire := b[:n]
	if !radius.IsAuthenticRequest(wire, secret) {
		return nil, ErrDAEBadAuth
	}
	var zero [16]byte
	if _, err := checkMsgAuth(wire, zero[:], secret); err != nil {
		return nil, err
	}
	// Authentic from here on: what is wrong is answered with a NAK.
	r := &DAERequest{Code: code, Identifier: b[1]}
	copy(r.Authenticator[:], b[4:20])
	attrs, err := radius.ParseAttributes(wire[20:])
	if err != nil {
		r.Invalid = true
		return r, nil
	}
	p := &radius.Packet{Attributes: attrs}
	for _, avp := range p.Attributes {
		a := avp.Attribute
		switch avp.Type {
		case rfc2865.UserName_Type:
			r.Selector.User = radius.String(a)
		case rfc2866.AcctSessionID_Type:
			r.Selector.SessionID = radius.String(a)
		case rfc2865.FramedIPAddress_Type:
			ip, err := radius.IPAddr(a)
			if err != nil {
				r.InvalidAttrs = append(r.InvalidAttrs, avp.Type)
				continue
			}
			r.Selector.FramedIP, _ = netip.AddrFromSlice(ip.To4())
		case rfc2865.NASIdentifier_Type:
			r.NASIdentifier = radius.String(a)
		case rfc2865.NASIPAddress_Type:
			ip, err := radius.IPAddr(a)
			if err != nil {
				r.InvalidAttrs = append(r.InvalidAttrs, avp.Type)
				continue
			}
			r.NASIPAddress, _ = netip.AddrFromSlice(ip.To4())
		case rfc2865.SessionTimeout_Type:
			v, err := radius.Integer(a)
			if err != nil {
				r.InvalidAttrs = append(r.InvalidAttrs, avp.Type)
				continue
			}
			r.SessionTimeout, r.HasSessionTimeout = time.Duration(v)*time.Second, true
		case rfc2865.ServiceType_Type:
			v, err := radius.Integer(a)
			if err != nil {
				r.InvalidAttrs = append(r.InvalidAttrs, avp.Type)
				continue
			}
			r.ServiceType = rfc2865.ServiceType(v)
		case rfc2869.EventTimestamp_Type:
			t, err := radius.Date(a)
			if err != nil {
				r.InvalidAttrs = append(r.InvalidAttrs, avp.Type)
				continue
			}
			r.EventTimestamp = t
		case rfc2865.ProxyState_Type:
			r.ProxyStates = append(r.ProxyStates, a)
		case rfc2869.MessageAuthenticator_Type, rfc2865.State_Type:
		default:
			r.Unsupported = append(r.Unsupported, avp.Type)
		}
	}
	return r, nil
}

// Response encodes the ACK (cause 0) or NAK with Error-Cause for r, with
// Proxy-State echoed, Message-Authenticator, and the Response
// Authenticator (RFC 5176 section 3.5).
func (r *DAERequest) Response(cause rfc3576.ErrorCause, secret []byte) ([]byte, error) {
	code := radius.CodeDisconnectACK
	switch {
	case r.Code == radius.CodeDisconnectRequest && cause != 0:
		code = radius.CodeDisconnectNAK
	case r.Code == radius.CodeCoARequest && cause == 0:
		code = radius.CodeCoAACK
	case r.Code == radius.CodeCoARequest:
		code = radius.CodeCoANAK
	}
	p := &radius.Packet{Code: code, Identifier: r.Identifier, Secret: secret, Authenticator: r.Authenticator}
	if cause != 0 {
		rfc3576.ErrorCause_Add(p, cause)
	}
	for _, ps := range r.ProxyStates {
		p.Add(rfc2865.ProxyState_Type, ps)
	}
	var zero [16]byte
	rfc2869.MessageAuthenticator_Add(p, zero[:])
	raw, err := p.MarshalBinary()
	if err != nil {
		return nil, err
	}
	mac := hmac.New(md5.New, secret)
	mac.Write(raw)
	rfc2869.MessageAuthenticator_Set(p, mac.Sum(nil))
	return p.Encode()
}
