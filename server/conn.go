package server

import (
	"crypto/x509"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/l2tpsecd/l2tpsecd/esp"
	"github.com/l2tpsecd/l2tpsecd/ike"
)

// connKey names one client's IPsec association: the address and port its
// IKE and ESP come from (after any NAT) and the L2TP port of its phase-2
// identity. Several clients behind one NAT share the address but not the
// NAT-mapped port; a client that rekeys keeps both.
type connKey struct {
	remote   netip.AddrPort
	l2tpPort uint16
	// clientID is the client's phase-2 identity (its private address
	// behind a NAT), which tells apart clients that a NAT with "IPsec
	// passthrough" puts on one public address and port.
	clientID netip.Addr
}

// conn is what L2TP sees as its peer: the ESP SA pairs of one client. L2TP
// is demultiplexed by the SA a datagram came in on (through handles), never
// by outer address, and a Quick Mode rekey adds an SA pair to the same conn
// so the L2TP tunnel carries on across it.
type conn struct {
	key        connKey
	serverPort uint16 // our L2TP port in the phase-2 ID (1701)
	created    time.Time

	// cur is the esp.Handle outbound traffic uses: the newest SA pair.
	cur atomic.Uint64
	// lastTouch (UnixNano) rate-limits the liveness reports to IKE.
	lastTouch atomic.Int64

	// Guarded by Daemon.connMu.
	children map[esp.Handle]*ike.ChildSA
	// peerCert is the client's certificate when it authenticated IPsec
	// with one (for binding the PPP user to it).
	peerCert *x509.Certificate
	closing  bool
}

func (c *conn) current() esp.Handle { return esp.Handle(c.cur.Load()) }

// handleTable maps ESP handles to conns for the receive path. It is read for
// every packet and changed only when SAs come and go, so readers load an
// immutable map through an atomic pointer and writers copy it.
type handleTable struct {
	mu sync.Mutex // serialises writers
	m  atomic.Pointer[map[esp.Handle]*conn]
}

func (t *handleTable) lookup(h esp.Handle) *conn {
	m := t.m.Load()
	if m == nil {
		return nil
	}
	return (*m)[h]
}

func (t *handleTable) set(h esp.Handle, c *conn) {
	t.mu.Lock()
	defer t.mu.Unlock()
	old := t.m.Load()
	n := make(map[esp.Handle]*conn, 1+lenOf(old))
	if old != nil {
		for k, v := range *old {
			n[k] = v
		}
	}
	n[h] = c
	t.m.Store(&n)
}

func (t *handleTable) remove(h esp.Handle) {
	t.mu.Lock()
	defer t.mu.Unlock()
	old := t.m.Load()
	if old == nil {
		return
	}
	if _, ok := (*old)[h]; !ok {
		return
	}
	n := make(map[esp.Handle]*conn, len(*old))
	for k, v := range *old {
		if k != h {
			n[k] = v
		}
	}
	t.m.Store(&n)
}

func lenOf(m *map[esp.Handle]*conn) int {
	if m == nil {
		return 0
	}
	return len(*m)
}
