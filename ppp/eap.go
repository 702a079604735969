package ppp

import (
	"fmt"
)

// EAPCode is the Code field of an EAP packet (RFC 3748 section 4).
type EAPCode uint8

// EAP codes.
const (
	EAPRequest  EAPCode = 1
	EAPResponse EAPCode = 2
	EAPSuccess  EAPCode = 3
	EAPFailure  EAPCode = 4
)

func (c EAPCode) String() string {
	switch c {
	case EAPRequest:
		return "Request"
	case EAPResponse:
		return "Response"
	case EAPSuccess:
		return "Success"
	case EAPFailure:
		return "Failure"
	}
	return fmt.Sprintf("code=0x%x", uint8(c))
}

// EAPType is the Type field of an EAP Request/Response (RFC 3748 section 5).
type EAPType uint8

// EAP types this package looks at. Everything else passes through to the
// back end untouched.
const (
	EAPTypeIdentity     EAPType = 1
	EAPTypeNotification EAPType = 2
	EAPTypeNak          EAPType = 3
	EAPTypeMD5          EAPType = 4
	EAPTypeTLS          EAPType = 13
	EAPTypePEAP         EAPType = 25
	EAPTypeMSCHAPv2     EAPType = 26
)

func (t EAPType) String() string {
	switch t {
	case EAPTypeIdentity:
		return "Identity"
	case EAPTypeNotification:
		return "Notification"
	case EAPTypeNak:
		return "Nak"
	case EAPTypeMD5:
		return "MD5-Challenge"
	case EAPTypeTLS:
		return "TLS"
	case EAPTypePEAP:
		return "PEAP"
	case EAPTypeMSCHAPv2:
		return "MSCHAPv2"
	}
	return fmt.Sprintf("type-%d", uint8(t))
}

// EAP pass-through (server role). The authenticator only asks for the
// identity (RFC 3748 section 5.1); every Response the peer sends is handed
// to the back end whole (AuthRequest.EAPMessage, with the EAPState the back
// end returned last time, i.e. RADIUS State), and the back end's EAPMessage
// goes back to the peer whole. AuthResult.Continue means another round
// (RADIUS Access-Challenge). The EAP method itself (MD5, MS-CHAPv2, TLS...)
// is the RADIUS server's business.

func (l *link) eapStartLocked() {
	sa := &l.sa
	sa.id = byte(l.randUint32())
	sa.eapReq = AppendPacket(nil, Code(EAPRequest), sa.id, []byte{byte(EAPTypeIdentity)})
	sa.eapState, sa.eapUser = nil, ""
	l.sendEAPRequestLocked()
}

// sendEAPRequestLocked sends (and on the restart timer retransmits) the
// pending EAP Request, as RFC 3748 section 4.3 asks of the authenticator.
func (l *link) sendEAPRequestLocked() {
	sa := &l.sa
	if sa.state != saWaiting || l.lcp.State() != StateOpened || sa.eapReq == nil {
		return
	}
	if sa.retx >= l.lcp.cfg.MaxConfigure {
		return // the authentication timer ends it
	}
	sa.retx++
	p, _ := ParsePacket(sa.eapReq)
	l.sendLocked(ProtoEAP, p.Code, p.ID, p.Data)
	l.authRetx.start(l, l.lcp.cfg.RestartTimer, l.sendEAPRequestLocked)
}

// eapInputLocked handles a packet on protocol C227 while EAP authenticates.
func (l *link) eapInputLocked(pkt Packet, raw []byte) (*AuthRequest, error) {
	sa := &l.sa
	if EAPCode(pkt.Code) != EAPResponse || pkt.ID != sa.id {
		return nil, nil // RFC 3748 4.1: responses must match the request
	}
	if len(pkt.Data) < 1 {
		return nil, fmt.Errorf("%w: EAP response without type", ErrBadAuthPacket)
	}
	if sa.state != saWaiting {
		l.resendAuthReplyLocked(pkt.ID)
		return nil, nil
	}
	if EAPType(pkt.Data[0]) == EAPTypeIdentity && sa.eapUser == "" {
		sa.eapUser = string(pkt.Data[1:])
	}
	msg := raw[:headerLen+len(pkt.Data)]
	return &AuthRequest{Method: AuthEAP, User: sa.eapUser,
		EAPMessage: append([]byte(nil), msg...), EAPState: sa.eapState}, nil
}

// eapResultLocked sends what the back end decided. It reports whether the
// exchange continues.
func (l *link) eapResultLocked(res *AuthResult) (cont bool) {
	sa := &l.sa
	msg := res.EAPMessage
	if res.Continue && !res.Accept {
		p, err := ParsePacket(msg)
		if err != nil || EAPCode(p.Code) != EAPRequest || len(p.Data) == 0 {
			res.Reason = "back end sent no valid EAP request to continue"
			res.Continue = false
		} else {
			sa.id, sa.eapReq, sa.eapState = p.ID, append([]byte(nil), msg[:headerLen+len(p.Data)]...), res.EAPState
			sa.state, sa.retx = saWaiting, 0
			l.sendEAPRequestLocked()
			return true
		}
	}
	code := EAPFailure
	if res.Accept {
		code = EAPSuccess
	}
	// RFC 3748 4.2: Success/Failure carry the identifier of the Response.
	if p, err := ParsePacket(msg); err == nil && EAPCode(p.Code) == code {
		l.sendLocked(ProtoEAP, p.Code, p.ID, p.Data)
		sa.lastProto, sa.lastCode, sa.lastID, sa.lastData = ProtoEAP, p.Code, p.ID, p.Data
	} else {
		l.sendLocked(ProtoEAP, Code(code), sa.id, nil)
		sa.lastProto, sa.lastCode, sa.lastID, sa.lastData = ProtoEAP, Code(code), sa.id, []byte{}
	}
	return false
}

// Client role: Identity and MD5-Challenge (enough for tests and the load
// generator); any other method is answered with a Nak proposing MD5.
func (l *link) clientEAPInputLocked(pkt Packet) error {
	switch EAPCode(pkt.Code) {
	case EAPSuccess, EAPFailure:
		if l.ca.started {
			l.clientAuthDoneLocked(EAPCode(pkt.Code) == EAPSuccess, EAPCode(pkt.Code).String())
		}
		return nil
	case EAPRequest:
	default:
		return nil
	}
	if len(pkt.Data) < 1 {
		return fmt.Errorf("%w: EAP request without type", ErrBadAuthPacket)
	}
	l.ca.started = true
	var data []byte
	switch EAPType(pkt.Data[0]) {
	case EAPTypeIdentity:
		data = append([]byte{byte(EAPTypeIdentity)}, l.cfg.User...)
	case EAPTypeNotification:
		data = []byte{byte(EAPTypeNotification)}
	case EAPTypeMD5:
		cv, err := ParseCHAPValue(pkt.Data[1:])
		if err != nil {
			return err
		}
		data = appendCHAPValue([]byte{byte(EAPTypeMD5)}, CHAPMD5Response(pkt.ID, []byte(l.cfg.Password), cv.Value), l.cfg.User)
	default:
		data = []byte{byte(EAPTypeNak), byte(EAPTypeMD5)}
	}
	l.sendLocked(ProtoEAP, Code(EAPResponse), pkt.ID, data)
	return nil
}
