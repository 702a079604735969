package ike

import (
	"context"
	"encoding/hex"
	"log/slog"
	"net/netip"

	"github.com/l2tpsecd/l2tpsecd/ike/isakmp"
)

// traceSwitch says which peers get the Oakley-style trace (off by
// default). It is guarded by Engine.mu.
type traceSwitch struct {
	all   bool
	peers map[netip.Addr]bool
}

// SetTrace turns the Oakley-style negotiation trace on or off for every
// peer. It is written to the engine's logger at Info level.
func (e *Engine) SetTrace(on bool) {
	e.lock()
	defer e.unlock()
	e.trace.all = on
}

// SetTracePeer turns the trace on or off for one peer address.
func (e *Engine) SetTracePeer(peer netip.Addr, on bool) {
	e.lock()
	defer e.unlock()
	if e.trace.peers == nil {
		e.trace.peers = make(map[netip.Addr]bool)
	}
	if on {
		e.trace.peers[peer.Unmap()] = true
	} else {
		delete(e.trace.peers, peer.Unmap())
	}
}

func (e *Engine) tracing(peer netip.AddrPort) bool {
	return e.trace.all || e.trace.peers[peer.Addr().Unmap()]
}

func cookieAttrs(sa *ikeSA) []any {
	if sa == nil {
		return nil
	}
	return []any{"icookie", hex.EncodeToString(sa.ckyI[:]), "rcookie", hex.EncodeToString(sa.ckyR[:])}
}

// traceMsgLocked writes "SENDING >>> ISAKMP OAK MM (SA, VID)" or
// "RECEIVED <<< ISAKMP OAK QM *(HASH, SA, NON, ID, ID)". Only the payload
// summary is printed: never keys, nonces or DH values.
func (e *Engine) traceMsgLocked(sa *ikeSA, sending bool, h *isakmp.Header, payloads []isakmp.Payload, peer netip.AddrPort) {
	if !e.tracing(peer) {
		return
	}
	dir := "RECEIVED <<< ISAKMP OAK "
	if sending {
		dir = "SENDING >>> ISAKMP OAK "
	}
	args := []any{"peer", peer.String(), "msgid", hexID(h.MessageID)}
	if sa != nil {
		args = append(args, cookieAttrs(sa)...)
	} else {
		args = append(args, "icookie", hex.EncodeToString(h.InitiatorCookie[:]), "rcookie", hex.EncodeToString(h.ResponderCookie[:]))
	}
	e.log.Log(context.Background(), slog.LevelInfo, dir+isakmp.Summary(h, payloads), args...)
}

// traceLocked writes a free-form trace line (proposals, choices, failure
// reasons).
func (e *Engine) traceLocked(sa *ikeSA, msg string, peer netip.AddrPort, args ...any) {
	if !e.tracing(peer) {
		return
	}
	args = append(append([]any{"peer", peer.String()}, cookieAttrs(sa)...), args...)
	e.log.Log(context.Background(), slog.LevelInfo, msg, args...)
}

func hexID(id uint32) string {
	const digits = "0123456789abcdef"
	var b [8]byte
	for i := 7; i >= 0; i-- {
		b[i] = digits[id&0xf]
		id >>= 4
	}
	return string(b[:])
}
