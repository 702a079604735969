package ppp

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

// eapRADIUS plays a RADIUS server doing EAP-MD5 behind the pass-through:
// Identity -> Access-Challenge(MD5-Challenge, State) -> Accept/Reject.
type eapRADIUS struct {
	pw    map[string]string
	chal  []byte
	calls []AuthRequest
}

func (r *eapRADIUS) Authenticate(req *AuthRequest, done func(AuthResult)) {
	r.calls = append(r.calls, *req)
	p, err := ParsePacket(req.EAPMessage)
	if err != nil || EAPCode(p.Code) != EAPResponse || len(p.Data) == 0 {
		done(AuthResult{Reason: "bad EAP"})
		return
	}
	switch EAPType(p.Data[0]) {
	case EAPTypeIdentity:
		r.chal = []byte("0123456789abcdef")
		msg := AppendPacket(nil, Code(EAPRequest), p.ID+1, appendCHAPValue([]byte{byte(EAPTypeMD5)}, r.chal, "radius"))
		done(AuthResult{Continue: true, EAPMessage: msg, EAPState: []byte("state-1")})
	case EAPTypeMD5:
		cv, err := ParseCHAPValue(p.Data[1:])
		ok := err == nil && string(req.EAPState) == "state-1" &&
			VerifyCHAPMD5(p.ID, []byte(r.pw[req.User]), r.chal, cv.Value)
		code := EAPFailure
		if ok {
			code = EAPSuccess
		}
		done(AuthResult{Accept: ok, Reason: "md5", EAPMessage: AppendPacket(nil, Code(code), p.ID, nil)})
	default:
		done(AuthResult{Reason: "unsupported EAP type"})
	}
}

func TestEAPPassThrough(t *testing.T) {
	for _, c := range []struct {
		password string
		accept   bool
	}{{"s3cret", true}, {"wrong", false}} {
		w := newWire(t, []AuthMethod{AuthEAP}, []AuthMethod{AuthEAP}, c.password)
		rad := &eapRADIUS{pw: map[string]string{"alice": "s3cret"}}
		w.srv.l.cfg.Authenticator = rad
		w.start()
		w.run(10 * time.Second)
		if w.srv.NetworkUp() != c.accept {
			t.Fatalf("password %q: network up %v; server %s\ntrace:\n%s", c.password, w.srv.NetworkUp(), &w.srvRec, w.trace.String())
		}
		if len(rad.calls) != 2 || rad.calls[0].User != "alice" || rad.calls[1].User != "alice" ||
			!bytes.Equal(rad.calls[1].EAPState, []byte("state-1")) {
			t.Fatalf("back end calls %+v", rad.calls)
		}
		if !w.srvRec.has("AuthDone EAP alice accept=" + map[bool]string{true: "true", false: "false"}[c.accept]) {
			t.Fatalf("server events %s", &w.srvRec)
		}
		tr := w.trace.String()
		if !strings.Contains(tr, `rcvd [EAP Response id=`) || !strings.Contains(tr, `Identity \"alice\"`) || strings.Contains(tr, c.password) {
			t.Fatalf("trace:\n%s", tr)
		}
		if !c.accept && (len(w.srvRec.down) != 1 || w.srvRec.down[0] != ReasonAuthFailed) {
			t.Fatalf("down %v", w.srvRec.down)
		}
	}
}

func TestEAPNotConfiguredIsProtocolRejected(t *testing.T) {
	h := newSrv(t, AuthPAP)
	h.send(frame(ProtoLCP, CodeConfReq, 0, unhex("05 06 2f 7c 1f 4f")...))
	h.ackServerLCP()
	got := h.send(frame(ProtoEAP, Code(EAPResponse), 1, byte(EAPTypeIdentity), 'x'))
	find(t, got, ProtoLCP, CodeProtoRej)
}
