package ppp

import (
	"bytes"
	"fmt"
	"net/netip"
)

// IPCPOption is an IPCP configuration option type (RFC 1332 section 3, RFC
// 1877).
type IPCPOption uint8

// IPCP options.
const (
	IPCPOptAddresses   IPCPOption = 1 // deprecated (RFC 1172)
	IPCPOptCompression IPCPOption = 2 // Van Jacobson
	IPCPOptAddress     IPCPOption = 3
	IPCPOptDNS1        IPCPOption = 129
	IPCPOptWINS1       IPCPOption = 130
	IPCPOptDNS2        IPCPOption = 131
	IPCPOptWINS2       IPCPOption = 132
)

func (o IPCPOption) String() string {
	switch o {
	case IPCPOptAddresses:
		return "addrs"
	case IPCPOptCompression:
		return "compress"
	case IPCPOptAddress:
		return "addr"
	case IPCPOptDNS1:
		return "ms-dns1"
	case IPCPOptWINS1:
		return "ms-wins1"
	case IPCPOptDNS2:
		return "ms-dns2"
	case IPCPOptWINS2:
		return "ms-wins2"
	}
	return fmt.Sprintf("ipcp-opt-%d", uint8(o))
}

func addrFrom(v []byte) (netip.Addr, bool) {
	if len(v) != 4 {
		return netip.Addr{}, false
	}
	return netip.AddrFrom4([4]byte(v)), true
}

func appendAddrOpt(b []byte, typ IPCPOption, a netip.Addr) []byte {
	var v [4]byte
	if a.Is4() {
		v = a.As4()
	}
	return append(b, uint8(typ), 6, v[0], v[1], v[2], v[3])
}

// ipcpHandler is IPCP's OptionHandler for both roles.
//
// Server: requests its own (gateway) address; Naks the peer's address to the
// one it assigned when the peer asks 0.0.0.0 or anything else, and offers it
// in a Nak when the peer did not ask at all; Naks DNS/WINS to the configured
// values (Windows and pppd ask 0.0.0.0 and expect the Nak) and rejects them
// when none is configured; rejects VJ compression, the deprecated
// IP-Addresses option and anything unknown.
//
// Client: requests an address (0.0.0.0 at first) and, as configured, DNS and
// WINS, adopting the server's Naks; acknowledges the server's address.
type ipcpHandler struct {
	l *link

	local netip.Addr // our address (server: gateway; client: what we got)
	peer  netip.Addr // server: the address we assign; client: the server's
	// dns/wins: server: what we hand out; client: what we learned.
	dns  [2]netip.Addr
	wins [2]netip.Addr

	reqLocal bool
	reqDNS   [2]bool // client only
	reqWINS  [2]bool // client only

	scratch []byte
}

func (h *ipcpHandler) ResetOptions() {
	h.reqLocal = true
	if h.l.role == roleClient {
		h.local = h.l.cfg.LocalAddr
		if !h.local.IsValid() {
			h.local = netip.IPv4Unspecified()
		}
		h.reqDNS = [2]bool{h.l.cfg.WantDNS, h.l.cfg.WantDNS}
		h.reqWINS = [2]bool{h.l.cfg.WantWINS, h.l.cfg.WantWINS}
		h.dns, h.wins = [2]netip.Addr{}, [2]netip.Addr{}
	} else {
		h.reqLocal = h.local.Is4()
	}
}

func (h *ipcpHandler) AppendRequest(b []byte) []byte {
	if h.reqLocal {
		b = appendAddrOpt(b, IPCPOptAddress, h.local)
	}
	if h.l.role != roleClient {
		return b
	}
	for i, t := range [2]IPCPOption{IPCPOptDNS1, IPCPOptDNS2} {
		if h.reqDNS[i] {
			b = appendAddrOpt(b, t, h.dns[i])
		}
	}
	for i, t := range [2]IPCPOption{IPCPOptWINS1, IPCPOptWINS2} {
		if h.reqWINS[i] {
			b = appendAddrOpt(b, t, h.wins[i])
		}
	}
	return b
}

func (h *ipcpHandler) CheckRequest(opts, reply []byte, nakOK bool) (Code, []byte) {
	v := verdict{nakOK: nakOK}
	sawAddr := false
	for it := (optionIter{b: opts}); it.next(); {
		typ := IPCPOption(it.typ)
		a, ok := addrFrom(it.val)
		switch typ {
		case IPCPOptAddress:
			if !ok {
				v.reject(it.raw)
				continue
			}
			sawAddr = true
			if h.l.role == roleClient {
				if a.IsUnspecified() {
					v.reject(it.raw)
				} else {
					h.peer = a
				}
				continue
			}
			if a != h.peer {
				v.nakWith(it.raw, appendAddrOpt(nil, typ, h.peer))
			}
		case IPCPOptDNS1, IPCPOptDNS2, IPCPOptWINS1, IPCPOptWINS2:
			if h.l.role == roleClient || !ok {
				v.reject(it.raw)
				continue
			}
			want := h.serverValue(typ)
			switch {
			case !want.IsValid():
				v.reject(it.raw)
			case a != want:
				v.nakWith(it.raw, appendAddrOpt(nil, typ, want))
			}
		default:
			// IP-Compression-Protocol (VJ), IP-Addresses, unknown.
			v.reject(it.raw)
		}
	}
	if h.l.role == roleServer && !sawAddr && len(v.rej) == 0 {
		// RFC 1332 3.3: the peer did not ask; tell it which address to use.
		v.suggest(appendAddrOpt(nil, IPCPOptAddress, h.peer))
	}
	return v.result(opts, reply)
}

func (h *ipcpHandler) serverValue(t IPCPOption) netip.Addr {
	switch t {
	case IPCPOptDNS1:
		return h.dns[0]
	case IPCPOptDNS2:
		return h.dns[1]
	case IPCPOptWINS1:
		return h.wins[0]
	case IPCPOptWINS2:
		return h.wins[1]
	}
	return netip.Addr{}
}

func (h *ipcpHandler) ReceiveAck(opts []byte) bool {
	h.scratch = h.AppendRequest(h.scratch[:0])
	return bytes.Equal(opts, h.scratch)
}

func (h *ipcpHandler) ReceiveNak(opts []byte) error {
	for it := (optionIter{b: opts}); it.next(); {
		a, ok := addrFrom(it.val)
		if !ok || a.IsUnspecified() {
			continue
		}
		switch IPCPOption(it.typ) {
		case IPCPOptAddress:
			if h.l.role == roleClient || a != h.peer {
				h.local, h.reqLocal = a, true
			}
		case IPCPOptDNS1, IPCPOptDNS2, IPCPOptWINS1, IPCPOptWINS2:
			if h.l.role == roleClient {
				h.learn(IPCPOption(it.typ), a)
			}
		}
	}
	return nil
}

// learn records a server's DNS/WINS Nak (client role).
func (h *ipcpHandler) learn(t IPCPOption, a netip.Addr) {
	switch t {
	case IPCPOptDNS1:
		h.dns[0] = a
	case IPCPOptDNS2:
		h.dns[1] = a
	case IPCPOptWINS1:
		h.wins[0] = a
	case IPCPOptWINS2:
		h.wins[1] = a
	}
}

func (h *ipcpHandler) ReceiveReject(opts []byte) error {
	for it := (optionIter{b: opts}); it.next(); {
		switch IPCPOption(it.typ) {
		case IPCPOptAddress:
			h.reqLocal = false
		case IPCPOptDNS1:
			h.reqDNS[0] = false
		case IPCPOptDNS2:
			h.reqDNS[1] = false
		case IPCPOptWINS1:
			h.reqWINS[0] = false
		case IPCPOptWINS2:
			h.reqWINS[1] = false
		}
	}
	return nil
}

func (h *ipcpHandler) LayerUp()       { h.l.ipcpUp() }
func (h *ipcpHandler) LayerDown()     { h.l.ipcpDown() }
func (h *ipcpHandler) LayerStarted()  {}
func (h *ipcpHandler) LayerFinished() { h.l.ipcpFinished() }
