package ppp

import (
	"bytes"
	"encoding/binary"
	"fmt"
)

// LCPOption is an LCP configuration option type (RFC 1661 section 6, RFC
// 1570, RFC 1990, IANA "PPP LCP Configuration Option Types").
type LCPOption uint8

// LCP options.
const (
	LCPOptMRU       LCPOption = 1
	LCPOptACCM      LCPOption = 2
	LCPOptAuth      LCPOption = 3
	LCPOptQuality   LCPOption = 4
	LCPOptMagic     LCPOption = 5
	LCPOptPFC       LCPOption = 7
	LCPOptACFC      LCPOption = 8
	LCPOptFCS       LCPOption = 9
	LCPOptCallback  LCPOption = 13
	LCPOptMRRU      LCPOption = 17
	LCPOptSSNHF     LCPOption = 18
	LCPOptEndpoint  LCPOption = 19
	LCPOptLinkDiscr LCPOption = 23
	LCPOptMLPlus    LCPOption = 22
	LCPOptIntl      LCPOption = 28
	lcpOptAuth                = uint8(LCPOptAuth)
	defaultMRU                = 1500
)

func (o LCPOption) String() string {
	switch o {
	case LCPOptMRU:
		return "mru"
	case LCPOptACCM:
		return "asyncmap"
	case LCPOptAuth:
		return "auth"
	case LCPOptQuality:
		return "quality"
	case LCPOptMagic:
		return "magic"
	case LCPOptPFC:
		return "pcomp"
	case LCPOptACFC:
		return "accomp"
	case LCPOptFCS:
		return "fcs"
	case LCPOptCallback:
		return "callback"
	case LCPOptMRRU:
		return "mrru"
	case LCPOptSSNHF:
		return "ssnhf"
	case LCPOptEndpoint:
		return "endpoint"
	case LCPOptMLPlus:
		return "mlplus"
	case LCPOptLinkDiscr:
		return "link-discr"
	case LCPOptIntl:
		return "intl"
	}
	return fmt.Sprintf("lcp-opt-%d", uint8(o))
}

// lcpHandler is LCP's OptionHandler, for both roles. The server requests the
// authentication protocol; the client accepts one it can do.
type lcpHandler struct {
	l *link

	// What we request.
	mru        uint16
	reqMRU     bool
	magic      uint32
	reqMagic   bool
	authPrefs  []AuthMethod // server: preference order
	authIdx    int
	reqAuth    bool
	authFailed bool // server: the peer refused every method

	// What the peer requested in its last Configure-Request.
	peerMRU   uint16
	peerMagic uint32
	peerAuth  AuthMethod // client: the method the server asked for
	loops     int

	scratch []byte
}

func (h *lcpHandler) ResetOptions() {
	c := h.l.cfg
	h.mru = c.MRU
	h.reqMRU = c.MRU != 0 && c.MRU != defaultMRU
	h.magic = h.l.randUint32()
	h.reqMagic = true
	h.authIdx = 0
	h.reqAuth = h.l.role == roleServer && len(h.authPrefs) > 0
	h.authFailed = false
	h.loops = 0
}

func (h *lcpHandler) authMethod() AuthMethod {
	if !h.reqAuth || h.authIdx >= len(h.authPrefs) {
		return AuthNone
	}
	return h.authPrefs[h.authIdx]
}

func (h *lcpHandler) AppendRequest(b []byte) []byte {
	if h.reqMRU {
		b = appendOpt16(b, uint8(LCPOptMRU), h.mru)
	}
	if m := h.authMethod(); m != AuthNone {
		b = appendAuthOption(b, m)
	}
	if h.reqMagic {
		b = appendOpt32(b, uint8(LCPOptMagic), h.magic)
	}
	return b
}

// CheckRequest judges the peer's LCP options. MRU within the configured
// bounds, ACCM, magic number, PFC and ACFC are acknowledged; the
// authentication protocol is rejected by the server (it does not
// authenticate itself) and accepted by the client when it can do it;
// everything else (quality protocol, callback, MRRU, short sequence numbers,
// endpoint discriminator, unknown) is rejected.
func (h *lcpHandler) CheckRequest(opts, reply []byte, nakOK bool) (Code, []byte) {
	v := verdict{nakOK: nakOK}
	h.peerMRU, h.peerMagic, h.peerAuth = defaultMRU, 0, AuthNone
	c := h.l.cfg
	for it := (optionIter{b: opts}); it.next(); {
		switch LCPOption(it.typ) {
		case LCPOptMRU:
			if len(it.val) != 2 {
				v.reject(it.raw)
				continue
			}
			m := binary.BigEndian.Uint16(it.val)
			switch {
			case m < c.MinPeerMRU:
				v.nakWith(it.raw, appendOpt16(nil, it.typ, c.MinPeerMRU))
			case m > c.MaxPeerMRU:
				v.nakWith(it.raw, appendOpt16(nil, it.typ, c.MaxPeerMRU))
			default:
				h.peerMRU = m
			}
		case LCPOptACCM:
			// Meaningless on L2TP (no HDLC framing), harmless to accept.
			if len(it.val) != 4 {
				v.reject(it.raw)
			}
		case LCPOptMagic:
			if len(it.val) != 4 {
				v.reject(it.raw)
				continue
			}
			m := binary.BigEndian.Uint32(it.val)
			if m == 0 || (h.reqMagic && m == h.magic) {
				// Zero is not allowed; our own number means a looped-back
				// link or a collision: suggest another (RFC 1661 6.4).
				h.loops++
				v.nakWith(it.raw, appendOpt32(nil, it.typ, h.l.randUint32()))
				continue
			}
			h.peerMagic = m
		case LCPOptPFC, LCPOptACFC:
			if len(it.val) != 0 {
				v.reject(it.raw)
			}
		case LCPOptAuth:
			if h.l.role == roleServer {
				v.reject(it.raw)
				continue
			}
			m := parseAuthOption(it.val)
			if m != AuthNone && h.l.clientCanDo(m) {
				h.peerAuth = m
				continue
			}
			if best := h.l.clientBestAuth(); best != AuthNone {
				v.nakWith(it.raw, appendAuthOption(nil, best))
			} else {
				v.reject(it.raw)
			}
		default:
			v.reject(it.raw)
		}
	}
	return v.result(opts, reply)
}

func (h *lcpHandler) ReceiveAck(opts []byte) bool {
	h.scratch = h.AppendRequest(h.scratch[:0])
	return bytes.Equal(opts, h.scratch)
}

func (h *lcpHandler) ReceiveNak(opts []byte) error {
	c := h.l.cfg
	for it := (optionIter{b: opts}); it.next(); {
		switch LCPOption(it.typ) {
		case LCPOptMRU:
			if len(it.val) != 2 {
				continue
			}
			m := binary.BigEndian.Uint16(it.val)
			m = max(min(m, c.MaxPeerMRU), c.MinPeerMRU)
			h.mru, h.reqMRU = m, true
		case LCPOptMagic:
			h.magic = h.l.randUint32()
			h.loops++
		case LCPOptAuth:
			if h.l.role != roleServer || !h.reqAuth {
				continue
			}
			// Move to the method the peer suggests if we offer it later
			// in our list, else to our next one.
			next := h.authIdx + 1
			want := parseAuthOption(it.val)
			for i := h.authIdx + 1; i < len(h.authPrefs); i++ {
				if h.authPrefs[i] == want {
					next = i
					break
				}
			}
			h.authIdx = next
			if h.authIdx >= len(h.authPrefs) {
				h.authFailed = true
				h.authIdx = len(h.authPrefs) - 1
			}
		}
	}
	return nil
}

func (h *lcpHandler) ReceiveReject(opts []byte) error {
	for it := (optionIter{b: opts}); it.next(); {
		switch LCPOption(it.typ) {
		case LCPOptMRU:
			h.reqMRU = false
			h.mru = defaultMRU
		case LCPOptMagic:
			h.reqMagic = false
		case LCPOptAuth:
			if h.reqAuth {
				h.authFailed = true
			}
		}
	}
	return nil
}

func (h *lcpHandler) LayerUp()       { h.l.lcpUp() }
func (h *lcpHandler) LayerDown()     { h.l.lcpDown() }
func (h *lcpHandler) LayerStarted()  {}
func (h *lcpHandler) LayerFinished() { h.l.lcpFinished() }
