package ppp

import (
	"crypto/subtle"
	"fmt"
	"io"
	"strings"
)

// PAPCode is the Code field of a PAP packet (RFC 1334 section 2.2).
type PAPCode uint8

// PAP codes.
const (
	PAPAuthReq PAPCode = 1
	PAPAuthAck PAPCode = 2
	PAPAuthNak PAPCode = 3
)

func (c PAPCode) String() string {
	switch c {
	case PAPAuthReq:
		return "AuthReq"
	case PAPAuthAck:
		return "AuthAck"
	case PAPAuthNak:
		return "AuthNak"
	}
	return fmt.Sprintf("code=0x%x", uint8(c))
}

// CHAPCode is the Code field of a CHAP packet (RFC 1994 section 4; MS-CHAPv2
// adds Change-Password, 7, which is not supported).
type CHAPCode uint8

// CHAP codes.
const (
	CHAPChallenge CHAPCode = 1
	CHAPResponse  CHAPCode = 2
	CHAPSuccess   CHAPCode = 3
	CHAPFailure   CHAPCode = 4
)

func (c CHAPCode) String() string {
	switch c {
	case CHAPChallenge:
		return "Challenge"
	case CHAPResponse:
		return "Response"
	case CHAPSuccess:
		return "Success"
	case CHAPFailure:
		return "Failure"
	}
	return fmt.Sprintf("code=0x%x", uint8(c))
}

// The same codes in the generic packet header's type.
const (
	papAuthReq  = Code(PAPAuthReq)
	papAuthAck  = Code(PAPAuthAck)
	papAuthNak  = Code(PAPAuthNak)
	chapChall   = Code(CHAPChallenge)
	chapResp    = Code(CHAPResponse)
	chapSuccess = Code(CHAPSuccess)
	chapFailure = Code(CHAPFailure)
)

// PAPRequest is a parsed PAP Authenticate-Request.
type PAPRequest struct {
	PeerID, Password []byte
}

// ParsePAPRequest reads an Authenticate-Request's data.
func ParsePAPRequest(d []byte) (PAPRequest, error) {
	if len(d) < 1 || len(d) < 1+int(d[0])+1 {
		return PAPRequest{}, fmt.Errorf("%w: PAP request", ErrBadAuthPacket)
	}
	id := d[1 : 1+int(d[0])]
	rest := d[1+int(d[0]):]
	if len(rest) < 1+int(rest[0]) {
		return PAPRequest{}, fmt.Errorf("%w: PAP password length", ErrBadAuthPacket)
	}
	return PAPRequest{PeerID: id, Password: rest[1 : 1+int(rest[0])]}, nil
}

func appendPAPRequest(b []byte, user, password string) []byte {
	user, password = truncate255(user), truncate255(password)
	b = append(b, byte(len(user)))
	b = append(b, user...)
	b = append(b, byte(len(password)))
	return append(b, password...)
}

func truncate255(s string) string {
	if len(s) > 255 {
		return s[:255]
	}
	return s
}

// parsePAPMessage reads an Authenticate-Ack/Nak's message.
func parsePAPMessage(d []byte) string {
	if len(d) < 1 || len(d) < 1+int(d[0]) {
		return ""
	}
	return string(d[1 : 1+int(d[0])])
}

// CHAPValue is a parsed CHAP Challenge or Response.
type CHAPValue struct {
	Value, Name []byte
}

// ParseCHAPValue reads a Challenge's or Response's data.
func ParseCHAPValue(d []byte) (CHAPValue, error) {
	if len(d) < 1 || int(d[0]) == 0 || len(d) < 1+int(d[0]) {
		return CHAPValue{}, fmt.Errorf("%w: CHAP value", ErrBadAuthPacket)
	}
	return CHAPValue{Value: d[1 : 1+int(d[0])], Name: d[1+int(d[0]):]}, nil
}

func appendCHAPValue(b, value []byte, name string) []byte {
	b = append(b, byte(len(value)))
	b = append(b, value...)
	return append(b, name...)
}

type saState uint8

const (
	saIdle saState = iota
	saWaiting
	saPending // the back end is deciding
	saSucceeded
	saFailed
)

// serverAuth is the authenticator's side of PAP/CHAP/MS-CHAPv2.
type serverAuth struct {
	method    AuthMethod
	state     saState
	id        uint8
	challenge [16]byte
	gen       uint64 // bumps invalidate outstanding back-end callbacks
	retx      int
	// The last Success/Failure (or PAP Ack/Nak), retransmitted when the
	// peer repeats its response (RFC 1994 section 4.2).
	lastProto Protocol
	lastCode  Code
	lastID    uint8
	lastData  []byte
	// EAP pass-through: the pending Request, the back end's state and the
	// identity the peer gave.
	eapReq   []byte
	eapState []byte
	eapUser  string
}

func (l *link) serverAuthStartLocked(m AuthMethod) {
	sa := &l.sa
	sa.gen++
	sa.method, sa.state, sa.retx = m, saWaiting, 0
	sa.lastData = nil
	switch m {
	case AuthPAP:
		return // the peer speaks first
	case AuthEAP:
		l.eapStartLocked()
		return
	}
	sa.id = byte(l.randUint32())
	if _, err := io.ReadFull(l.cfg.Rand, sa.challenge[:]); err != nil {
		l.closeLocked(ReasonAuthFailed)
		return
	}
	l.sendChallengeLocked()
}

func (l *link) sendChallengeLocked() {
	sa := &l.sa
	if sa.state != saWaiting || l.lcp.State() != StateOpened {
		return
	}
	if sa.retx >= l.lcp.cfg.MaxConfigure {
		return // the authentication timer ends it
	}
	sa.retx++
	data := appendCHAPValue(nil, sa.challenge[:], l.cfg.Name)
	l.sendLocked(ProtoCHAP, chapChall, sa.id, data)
	l.authRetx.start(l, l.lcp.cfg.RestartTimer, l.sendChallengeLocked)
}

func (l *link) serverAuthInputLocked(p Protocol, payload []byte) error {
	pkt, err := ParsePacket(payload)
	if err != nil {
		return err
	}
	sa := &l.sa
	if p != authProtocol(sa.method) || sa.state == saIdle {
		return nil // not the protocol we negotiated: discard
	}
	var req *AuthRequest
	switch {
	case p == ProtoEAP:
		req, err = l.eapInputLocked(pkt, payload)
		if req == nil {
			return err
		}
	case p == ProtoPAP && pkt.Code == papAuthReq:
		if sa.state != saWaiting {
			// pppd changes the identifier on every retransmission; the
			// verdict is repeated with the new one (as pppd's server does).
			if sa.lastData != nil {
				sa.lastID = pkt.ID
			}
			l.resendAuthReplyLocked(pkt.ID)
			return nil
		}
		pr, err := ParsePAPRequest(pkt.Data)
		if err != nil {
			return err
		}
		sa.id = pkt.ID
		req = &AuthRequest{Method: AuthPAP, User: string(pr.PeerID), Password: append([]byte(nil), pr.Password...)}
	case p == ProtoCHAP && pkt.Code == chapResp:
		if pkt.ID != sa.id {
			return nil
		}
		if sa.state != saWaiting {
			l.resendAuthReplyLocked(pkt.ID)
			return nil
		}
		cv, err := ParseCHAPValue(pkt.Data)
		if err != nil {
			return err
		}
		req = &AuthRequest{Method: sa.method, User: string(cv.Name), CHAPID: sa.id,
			Challenge: append([]byte(nil), sa.challenge[:]...)}
		switch sa.method {
		case AuthCHAPMD5:
			if len(cv.Value) != md5Len {
				return fmt.Errorf("%w: CHAP-MD5 response of %d bytes", ErrBadAuthPacket, len(cv.Value))
			}
			req.Response = append([]byte(nil), cv.Value...)
		case AuthMSCHAPv2:
			if len(cv.Value) != MSCHAPv2ResponseLen {
				return fmt.Errorf("%w: MS-CHAPv2 response of %d bytes", ErrBadAuthPacket, len(cv.Value))
			}
			req.PeerChallenge = append([]byte(nil), cv.Value[:16]...)
			req.NTResponse = append([]byte(nil), cv.Value[24:48]...)
		}
	default:
		return nil
	}
	sa.state = saPending
	l.authRetx.stop()
	gen := sa.gen
	auth := l.cfg.Authenticator
	if auth == nil {
		l.serverAuthResultLocked(gen, req, AuthResult{Reason: "no authenticator configured"})
		return nil
	}
	l.post(func() {
		auth.Authenticate(req, func(res AuthResult) {
			l.mu.Lock()
			defer l.unlock()
			l.serverAuthResultLocked(gen, req, res)
		})
	})
	return nil
}

const md5Len = 16

func (l *link) serverAuthResultLocked(gen uint64, req *AuthRequest, res AuthResult) {
	sa := &l.sa
	if l.dead || gen != sa.gen || sa.state != saPending {
		return
	}
	if res.Accept && req.Method == AuthMSCHAPv2 && !strings.HasPrefix(res.AuthenticatorResponse, "S=") {
		res = AuthResult{Reason: ErrNoAuthResponse.Error()}
	}
	var data []byte
	switch {
	case req.Method == AuthEAP:
		if l.eapResultLocked(&res) {
			return
		}
	case req.Method == AuthPAP:
		msg := res.Message
		if msg == "" {
			msg = map[bool]string{true: "Login ok", false: "Login incorrect"}[res.Accept]
		}
		msg = truncate255(msg)
		data = append([]byte{byte(len(msg))}, msg...)
		sa.lastProto, sa.lastCode = ProtoPAP, papAuthNak
		if res.Accept {
			sa.lastCode = papAuthAck
		}
	case req.Method == AuthMSCHAPv2 && res.Accept:
		msg := res.Message
		if msg == "" {
			msg = "Access granted"
		}
		data = []byte(MSCHAPv2Success(res.AuthenticatorResponse, msg))
		sa.lastProto, sa.lastCode = ProtoCHAP, chapSuccess
	case req.Method == AuthMSCHAPv2:
		msg := res.Message
		if msg == "" {
			msg = "Authentication failed"
		}
		var c [16]byte
		_, _ = io.ReadFull(l.cfg.Rand, c[:])
		code := res.MSCHAPError
		if code == 0 {
			code = 691
		}
		data = []byte(MSCHAPv2FailureCode(code, c[:], msg))
		sa.lastProto, sa.lastCode = ProtoCHAP, chapFailure
	default:
		msg := res.Message
		if msg == "" {
			msg = map[bool]string{true: "Access granted", false: "Access denied"}[res.Accept]
		}
		data = []byte(msg)
		sa.lastProto, sa.lastCode = ProtoCHAP, chapFailure
		if res.Accept {
			sa.lastCode = chapSuccess
		}
	}
	if req.Method != AuthEAP {
		sa.lastID, sa.lastData = sa.id, data
		l.sendLocked(sa.lastProto, sa.lastCode, sa.lastID, data)
	}
	h, m, user, r := l.h, req.Method, req.User, res
	l.post(func() { h.AuthDone(m, user, &r) })
	if !res.Accept {
		sa.state = saFailed
		l.log.Info("ppp: authentication failed", "method", m.String(), "user", user, "reason", res.Reason)
		l.closeLocked(ReasonAuthFailed)
		return
	}
	sa.state = saSucceeded
	l.user, l.result = user, res
	l.networkPhaseLocked()
}

// resendAuthReplyLocked answers a repeated response with the verdict
// already sent (its Success may have been lost).
func (l *link) resendAuthReplyLocked(id uint8) {
	sa := &l.sa
	if (sa.state == saSucceeded || sa.state == saFailed) && sa.lastData != nil && id == sa.lastID {
		l.sendLocked(sa.lastProto, sa.lastCode, sa.lastID, sa.lastData)
	}
}

// authProtocol is the PPP protocol that carries method m.
func authProtocol(m AuthMethod) Protocol {
	switch m {
	case AuthPAP:
		return ProtoPAP
	case AuthEAP:
		return ProtoEAP
	case AuthCHAPMD5, AuthMSCHAPv1, AuthMSCHAPv2:
		return ProtoCHAP
	}
	return 0
}

// clientAuth is the peer's side.
type clientAuth struct {
	started  bool // EAP: a request arrived
	method   AuthMethod
	id       uint8
	retx     int
	done     bool
	authResp string // MS-CHAPv2: the Success we expect
}

func (l *link) clientMethods() []AuthMethod {
	if len(l.cfg.AuthMethods) > 0 {
		return l.cfg.AuthMethods
	}
	return []AuthMethod{AuthMSCHAPv2, AuthCHAPMD5, AuthPAP}
}

func (l *link) clientCanDo(m AuthMethod) bool {
	for _, x := range l.clientMethods() {
		if x == m && m != AuthMSCHAPv1 && m != AuthNone {
			return true
		}
	}
	return false
}

func (l *link) clientBestAuth() AuthMethod {
	for _, m := range l.clientMethods() {
		if l.clientCanDo(m) {
			return m
		}
	}
	return AuthNone
}

func (l *link) clientAuthStartLocked(m AuthMethod) {
	l.ca = clientAuth{method: m, id: l.ca.id}
	if m == AuthPAP {
		l.sendPAPRequestLocked()
	}
}

func (l *link) sendPAPRequestLocked() {
	ca := &l.ca
	if ca.done || l.lcp.State() != StateOpened {
		return
	}
	if ca.retx >= l.lcp.cfg.MaxConfigure {
		l.closeLocked(ReasonAuthTimeout)
		return
	}
	ca.retx++
	ca.id++
	l.sendLocked(ProtoPAP, papAuthReq, ca.id, appendPAPRequest(nil, l.cfg.User, l.cfg.Password))
	l.authRetx.start(l, l.lcp.cfg.RestartTimer, l.sendPAPRequestLocked)
}

func (l *link) clientAuthInputLocked(p Protocol, payload []byte) error {
	pkt, err := ParsePacket(payload)
	if err != nil {
		return err
	}
	ca := &l.ca
	if ca.method == AuthNone || ca.done || p != authProtocol(ca.method) {
		return nil
	}
	switch {
	case p == ProtoEAP:
		return l.clientEAPInputLocked(pkt)
	case p == ProtoPAP && (pkt.Code == papAuthAck || pkt.Code == papAuthNak):
		if pkt.ID != ca.id {
			return nil
		}
		l.clientAuthDoneLocked(pkt.Code == papAuthAck, parsePAPMessage(pkt.Data))
	case p == ProtoCHAP && pkt.Code == chapChall:
		cv, err := ParseCHAPValue(pkt.Data)
		if err != nil {
			return err
		}
		ca.id = pkt.ID
		var value []byte
		switch ca.method {
		case AuthCHAPMD5:
			value = CHAPMD5Response(pkt.ID, []byte(l.cfg.Password), cv.Value)
		case AuthMSCHAPv2:
			if len(cv.Value) != MSCHAPv2ChallengeLen {
				return fmt.Errorf("%w: MS-CHAPv2 challenge of %d bytes", ErrBadAuthPacket, len(cv.Value))
			}
			value = make([]byte, MSCHAPv2ResponseLen)
			if _, err := io.ReadFull(l.cfg.Rand, value[:16]); err != nil {
				return err
			}
			nt, ar, err := MSCHAPv2Response(cv.Value, value[:16], l.cfg.User, l.cfg.Password)
			if err != nil {
				return err
			}
			copy(value[24:48], nt)
			ca.authResp = ar
		}
		l.sendLocked(ProtoCHAP, chapResp, pkt.ID, appendCHAPValue(nil, value, l.cfg.User))
	case p == ProtoCHAP && (pkt.Code == chapSuccess || pkt.Code == chapFailure):
		if pkt.ID != ca.id {
			return nil
		}
		msg := string(pkt.Data)
		ok := pkt.Code == chapSuccess
		if ok && ca.method == AuthMSCHAPv2 {
			// RFC 2759 section 5: the peer checks the authenticator.
			got, _, _ := strings.Cut(msg, " ")
			if subtle.ConstantTimeCompare([]byte(got), []byte(ca.authResp)) != 1 {
				ok, msg = false, "bad authenticator response from server"
			}
		}
		l.clientAuthDoneLocked(ok, msg)
	}
	return nil
}

func (l *link) clientAuthDoneLocked(ok bool, msg string) {
	l.ca.done = true
	l.authRetx.stop()
	res := AuthResult{Accept: ok, Message: msg}
	if !ok {
		res.Reason = msg
	}
	h, m, user := l.h, l.ca.method, l.cfg.User
	l.post(func() { h.AuthDone(m, user, &res) })
	if !ok {
		l.closeLocked(ReasonAuthFailed)
		return
	}
	l.networkPhaseLocked()
}
