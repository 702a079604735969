package esp

import (
	"fmt"
	"log/slog"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/l2tpsecd/l2tpsecd/internal/clock"
)

// Handle identifies an installed SA pair. The server keys its L2TP tunnels
// by Handle, never by outer address: several clients behind one NAT share
// an address and port and differ only by SPI.
type Handle uint64

// SAPair is one Quick Mode result: an inbound and an outbound SA and where
// the peer is.
type SAPair struct {
	// In.SPI is the SPI we chose (what the peer puts in its packets);
	// Out.SPI is the peer's.
	In, Out Config
	Encap   Encap
	// Peer is the peer's address; its port matters only for EncapUDP
	// (4500, or whatever its NAT mapped it to).
	Peer netip.AddrPort
	// Local is our address the peer talks to; invalid means "let the
	// kernel choose". With a wildcard listener it picks the source
	// address of outbound packets.
	Local netip.Addr
	// KeepaliveInterval, when positive on a UDP-encapsulated pair, sends
	// a NAT-keepalive (RFC 3948 section 2.3, one 0xFF byte) to the peer
	// whenever nothing else was sent to it for that long. Set it when IKE
	// found a NAT in front of us (the host behind the NAT keeps the
	// mapping alive, RFC 3948 section 4, default 20 s).
	KeepaliveInterval time.Duration
}

// Hooks are the datapath's callbacks into the server. They run on datapath
// goroutines and must not block for long (a DeliverUDP that blocks stalls
// its worker and, behind it, the sockets feeding it); payload slices are
// valid only during the call. DeliverUDP runs concurrently on several
// workers, but all packets of one SA pair arrive on one worker, its owner.
type Hooks struct {
	// DeliverUDP receives the inner UDP datagram of an authenticated ESP
	// packet (L2TP, for the server).
	DeliverUDP func(h Handle, srcPort, dstPort uint16, payload []byte)
	// IKE receives IKE messages that arrived on the ESP-in-UDP port with
	// the non-ESP marker, marker stripped (the IKE engine's HandlePacket).
	// Userspace calls it from one dedicated goroutine fed by a bounded
	// queue, so slow IKE work never delays ESP.
	IKE func(pkt []byte, local, remote netip.AddrPort)
	// Event reports SA lifetime events (rekey on soft, delete on hard).
	Event func(h Handle, e Event)
	// PeerMoved reports that an authenticated packet arrived from a new
	// address or port (NAT rebinding) and outbound traffic now goes there.
	PeerMoved func(h Handle, from, to netip.AddrPort)
}

// Datapath moves ESP between the network and the server. Implementations:
// Userspace (sockets, this host) and Memory (tests); a kernel XFRM one is
// planned.
type Datapath interface {
	// AddSA installs an SA pair and returns its handle.
	AddSA(p SAPair) (Handle, error)
	// RemoveSA uninstalls it; packets in flight for it are dropped.
	RemoveSA(h Handle) error
	// SendUDP encrypts one UDP datagram (srcPort -> dstPort) on the SA
	// pair's outbound SA and sends it to the peer.
	SendUDP(h Handle, srcPort, dstPort uint16, payload []byte) error
	// SendUDPBatch is SendUDP for several payloads, written with one
	// system call where the implementation can.
	SendUDPBatch(h Handle, srcPort, dstPort uint16, payloads [][]byte) error
	// SendKeepalive sends one NAT-keepalive to a UDP-encapsulated pair's
	// peer now (see SAPair.KeepaliveInterval for the periodic form).
	SendKeepalive(h Handle) error
	// SendIKE sends an IKE message from the ESP-in-UDP port, prefixed by
	// the non-ESP marker (RFC 3948 section 2.2), so IKE and ESP share it.
	SendIKE(pkt []byte, local, remote netip.AddrPort) error
	// Peer returns where the SA pair currently sends.
	Peer(h Handle) (netip.AddrPort, Encap, bool)
	// SAStats returns the counters of an SA pair.
	SAStats(h Handle) (in, out Stats, ok bool)
	// Stats returns datapath-wide counters.
	Stats() DatapathStats
	// Close stops every goroutine and closes every socket.
	Close() error
}

// DatapathStats are datapath-wide counters for Prometheus. PacketsIn and
// BytesIn count authenticated ESP packets (bytes of ESP, without outer
// headers); PacketsInUDP/PacketsInRaw and PacketsOutUDP/PacketsOutRaw split
// the packets by encapsulation, which shows whether a client uses NAT-T.
type DatapathStats struct {
	PacketsIn, BytesIn, PacketsOut, BytesOut                                    uint64
	PacketsInUDP, PacketsInRaw, PacketsOutUDP, PacketsOutRaw                    uint64
	DropNoSA, DropReplay, DropIntegrity, DropMalformed, DropExpired, DropNotUDP uint64
	SendErrors                                                                  uint64
	Keepalives, KeepalivesOut, IKEIn, IKEOut, IKEDropped                        uint64
	PeerMoves                                                                   uint64
}

type dpCounters struct {
	packetsIn, bytesIn, packetsOut, bytesOut                        atomic.Uint64
	inUDP, inRaw, outUDP, outRaw                                    atomic.Uint64
	noSA, replay, integrity, malformed, expired, notUDP, sendErrors atomic.Uint64
	keepalives, keepalivesOut, ikeIn, ikeOut, ikeDropped, peerMoves atomic.Uint64
}

func (c *dpCounters) snapshot() DatapathStats {
	return DatapathStats{
		PacketsIn: c.packetsIn.Load(), BytesIn: c.bytesIn.Load(), PacketsOut: c.packetsOut.Load(), BytesOut: c.bytesOut.Load(),
		PacketsInUDP: c.inUDP.Load(), PacketsInRaw: c.inRaw.Load(), PacketsOutUDP: c.outUDP.Load(), PacketsOutRaw: c.outRaw.Load(),
		DropNoSA: c.noSA.Load(), DropReplay: c.replay.Load(), DropIntegrity: c.integrity.Load(),
		DropMalformed: c.malformed.Load(), DropExpired: c.expired.Load(), DropNotUDP: c.notUDP.Load(),
		SendErrors: c.sendErrors.Load(), Keepalives: c.keepalives.Load(), KeepalivesOut: c.keepalivesOut.Load(), IKEIn: c.ikeIn.Load(), IKEOut: c.ikeOut.Load(), IKEDropped: c.ikeDropped.Load(),
		PeerMoves: c.peerMoves.Load(),
	}
}

// countDrop maps an Open error to its counter.
func (c *dpCounters) countDrop(err error) {
	switch err {
	case ErrReplay:
		c.replay.Add(1)
	case ErrIntegrity:
		c.integrity.Add(1)
	case ErrExpired, ErrSeqExhausted:
		c.expired.Add(1)
	default:
		c.malformed.Add(1)
	}
}

// peerInfo is where an SA pair sends; replaced wholesale on NAT rebinding
// so readers never see half an update.
type peerInfo struct {
	ap  netip.AddrPort
	ext any // implementation data (pre-built socket addresses)
}

type saEntry struct {
	h       Handle
	in, out *SA
	encap   Encap
	local   netip.Addr
	peer    atomic.Pointer[peerInfo]
	owner   atomic.Int32 // worker index + 1; 0 until the first packet
	removed atomic.Bool

	kaMu sync.Mutex
	ka   clock.Timer // periodic NAT-keepalive, or nil
}

// claim returns the worker that owns the inbound SA, making w the owner if
// there is none yet. One owner means the replay window needs no lock.
func (e *saEntry) claim(w int) int {
	if o := e.owner.Load(); o != 0 {
		return int(o - 1)
	}
	if e.owner.CompareAndSwap(0, int32(w+1)) {
		return w
	}
	return int(e.owner.Load() - 1)
}

// saTable maps inbound SPIs and handles to entries. Lookups are on every
// packet and changes are rare (Quick Mode, rekey, delete), so the maps are
// copied on write and read through atomic pointers without locks.
type saTable struct {
	mu       sync.Mutex // serialises writers
	next     Handle
	bySPI    atomic.Pointer[map[uint32]*saEntry]
	byHandle atomic.Pointer[map[Handle]*saEntry]
}

func (t *saTable) spi(spi uint32) *saEntry {
	if m := t.bySPI.Load(); m != nil {
		return (*m)[spi]
	}
	return nil
}

func (t *saTable) handle(h Handle) *saEntry {
	if m := t.byHandle.Load(); m != nil {
		return (*m)[h]
	}
	return nil
}

func (t *saTable) all() []*saEntry {
	m := t.byHandle.Load()
	if m == nil {
		return nil
	}
	out := make([]*saEntry, 0, len(*m))
	for _, e := range *m {
		out = append(out, e)
	}
	return out
}

// core is the part of a datapath that does not touch sockets: the SA
// table, counters, and the per-packet input and output steps.
type core struct {
	hooks Hooks
	clk   clock.Clock
	log   *slog.Logger
	tab   saTable
	ctr   dpCounters
	// makePeer builds the implementation's peerInfo.ext.
	makePeer func(ap netip.AddrPort, encap Encap, local netip.Addr) any
	// sendKeepalive writes one NAT-keepalive to e's peer.
	sendKeepalive func(e *saEntry) error
}

func (c *core) init(h Hooks, clk clock.Clock, log *slog.Logger) {
	if clk == nil {
		clk = clock.Real{}
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	c.hooks, c.clk, c.log = h, clk, log
}

func (c *core) newPeer(ap netip.AddrPort, encap Encap, local netip.Addr) *peerInfo {
	p := &peerInfo{ap: ap}
	if c.makePeer != nil {
		p.ext = c.makePeer(ap, encap, local)
	}
	return p
}

func (c *core) addSA(p SAPair) (Handle, error) {
	if p.Encap != EncapRaw && p.Encap != EncapUDP {
		return 0, fmt.Errorf("%w: encapsulation %v", ErrBadConfig, p.Encap)
	}
	if !p.Peer.Addr().Is4() && !p.Peer.Addr().Is4In6() {
		return 0, fmt.Errorf("%w: peer %v is not IPv4", ErrBadConfig, p.Peer)
	}
	if p.Encap == EncapUDP && p.Peer.Port() == 0 {
		return 0, fmt.Errorf("%w: UDP encapsulation needs the peer's port", ErrBadConfig)
	}
	peer := netip.AddrPortFrom(p.Peer.Addr().Unmap(), p.Peer.Port())
	c.tab.mu.Lock()
	defer c.tab.mu.Unlock()
	if c.tab.spi(p.In.SPI) != nil {
		return 0, fmt.Errorf("%w: %#x", ErrDuplicateSPI, p.In.SPI)
	}
	c.tab.next++
	h := c.tab.next
	e := &saEntry{h: h, encap: p.Encap, local: p.Local}
	inCfg, outCfg := p.In, p.Out
	inCfg.OnEvent = func(ev Event) {
		if ev.Kind == EventICV96Detected && e.out != nil {
			e.out.UseICV96()
		}
		if c.hooks.Event != nil {
			c.hooks.Event(h, ev)
		}
	}
	outCfg.OnEvent = func(ev Event) {
		if c.hooks.Event != nil {
			c.hooks.Event(h, ev)
		}
	}
	var err error
	if e.out, err = NewSA(outCfg, Outbound, c.clk); err != nil {
		return 0, fmt.Errorf("outbound SA %#x: %w", p.Out.SPI, err)
	}
	if e.in, err = NewSA(inCfg, Inbound, c.clk); err != nil {
		e.out.Close()
		return 0, fmt.Errorf("inbound SA %#x: %w", p.In.SPI, err)
	}
	e.peer.Store(c.newPeer(peer, p.Encap, p.Local))
	if p.KeepaliveInterval > 0 && p.Encap == EncapUDP && c.sendKeepalive != nil {
		iv := p.KeepaliveInterval
		// RFC 3948 section 4: send one only if nothing else went to the
		// peer in the last interval.
		var lastOut uint64
		tick := func() {
			e.kaMu.Lock()
			defer e.kaMu.Unlock()
			if e.removed.Load() || e.ka == nil {
				return
			}
			if n := e.out.ctr.Packets.Load(); n == lastOut {
				c.keepaliveNow(e)
			} else {
				lastOut = n
			}
			e.ka.Reset(iv)
		}
		e.kaMu.Lock()
		e.ka = c.clk.AfterFunc(iv, tick)
		e.kaMu.Unlock()
	}

	bySPI := map[uint32]*saEntry{}
	if m := c.tab.bySPI.Load(); m != nil {
		for k, v := range *m {
			bySPI[k] = v
		}
	}
	bySPI[p.In.SPI] = e
	byH := map[Handle]*saEntry{}
	if m := c.tab.byHandle.Load(); m != nil {
		for k, v := range *m {
			byH[k] = v
		}
	}
	byH[h] = e
	c.tab.bySPI.Store(&bySPI)
	c.tab.byHandle.Store(&byH)
	c.log.Debug("esp: SA installed", "handle", h, "in_spi", fmt.Sprintf("%#08x", p.In.SPI),
		"out_spi", fmt.Sprintf("%#08x", p.Out.SPI), "encr", p.In.Encr, "auth", p.In.Auth, "encap", p.Encap, "peer", peer)
	return h, nil
}

func (c *core) removeSA(h Handle) error {
	c.tab.mu.Lock()
	defer c.tab.mu.Unlock()
	e := c.tab.handle(h)
	if e == nil {
		return ErrNoSA
	}
	e.removed.Store(true)
	bySPI := map[uint32]*saEntry{}
	for k, v := range *c.tab.bySPI.Load() {
		if v != e {
			bySPI[k] = v
		}
	}
	byH := map[Handle]*saEntry{}
	for k, v := range *c.tab.byHandle.Load() {
		if k != h {
			byH[k] = v
		}
	}
	c.tab.bySPI.Store(&bySPI)
	c.tab.byHandle.Store(&byH)
	e.close()
	return nil
}

// close stops the entry's timers.
func (e *saEntry) close() {
	e.kaMu.Lock()
	if e.ka != nil {
		e.ka.Stop()
		e.ka = nil
	}
	e.kaMu.Unlock()
	e.in.Close()
	e.out.Close()
}

func (c *core) keepaliveNow(e *saEntry) error {
	if e.encap != EncapUDP {
		return fmt.Errorf("%w: NAT-keepalives need UDP encapsulation", ErrBadConfig)
	}
	if err := c.sendKeepalive(e); err != nil {
		c.ctr.sendErrors.Add(1)
		return err
	}
	c.ctr.keepalivesOut.Add(1)
	return nil
}

func (c *core) keepalive(h Handle) error {
	e := c.tab.handle(h)
	if e == nil {
		return ErrNoSA
	}
	return c.keepaliveNow(e)
}

func (c *core) peer(h Handle) (netip.AddrPort, Encap, bool) {
	e := c.tab.handle(h)
	if e == nil {
		return netip.AddrPort{}, 0, false
	}
	return e.peer.Load().ap, e.encap, true
}

func (c *core) saStats(h Handle) (Stats, Stats, bool) {
	e := c.tab.handle(h)
	if e == nil {
		return Stats{}, Stats{}, false
	}
	return e.in.Stats(), e.out.Stats(), true
}

// input processes one ESP packet for entry e, by the worker that owns it.
// viaUDP tells whether it came UDP-encapsulated (from carries the port).
func (c *core) input(sc *Scratch, e *saEntry, esp []byte, from netip.AddrPort, viaUDP bool) {
	if e.removed.Load() {
		c.ctr.noSA.Add(1)
		return
	}
	inner, next, err := e.in.Open(sc, esp)
	if err != nil {
		c.ctr.countDrop(err)
		return
	}
	c.ctr.packetsIn.Add(1)
	c.ctr.bytesIn.Add(uint64(len(esp)))
	if viaUDP {
		c.ctr.inUDP.Add(1)
	} else {
		c.ctr.inRaw.Add(1)
	}
	// NAT rebinding. RFC 3948 section 2.1 has ESP-in-UDP use the ports
	// IKE uses, which a NAT translates (section 5.2's example has the
	// client's 4500 arrive as another port) and translates anew when its
	// mapping expires; replies must follow, or they go to a dead mapping.
	// Only a packet that passed integrity and the replay check may move
	// the peer, or anyone could redirect the SA's traffic with one spoofed
	// datagram.
	if viaUDP && e.encap == EncapUDP {
		if p := e.peer.Load(); p.ap != from {
			e.peer.Store(c.newPeer(from, e.encap, e.local))
			c.ctr.peerMoves.Add(1)
			if c.hooks.PeerMoved != nil {
				c.hooks.PeerMoved(e.h, p.ap, from)
			}
		}
	}
	if next != ProtoUDP {
		// Transport mode for L2TP carries only UDP; dummy packets (59)
		// land here too and are dropped as RFC 4303 section 2.6 says.
		c.ctr.notUDP.Add(1)
		return
	}
	src, dst, payload, err := ParseUDP(inner)
	if err != nil {
		c.ctr.malformed.Add(1)
		return
	}
	if c.hooks.DeliverUDP != nil {
		c.hooks.DeliverUDP(e.h, src, dst, payload)
	}
}

// countOut counts n packets of bytes sent on e.
func (c *core) countOut(e *saEntry, n, bytes uint64) {
	c.ctr.packetsOut.Add(n)
	c.ctr.bytesOut.Add(bytes)
	if e.encap == EncapUDP {
		c.ctr.outUDP.Add(n)
	} else {
		c.ctr.outRaw.Add(n)
	}
}

// Buffer layout for outbound packets: room for an outer UDP header (used
// by paths that build whole datagrams), the ESP header and IV, then the
// inner UDP header and payload, then the trailer.
const (
	bufSize     = 4096
	innerOff    = 64 // >= UDPHeaderLen + MaxHeadroom
	maxSendData = bufSize - innerOff - UDPHeaderLen - MaxTailroom
)

// sealUDP writes payload behind an inner UDP header at innerOff in buf
// and seals it; it returns the ESP packet (a subslice of buf).
func (c *core) sealUDP(sc *Scratch, e *SA, buf []byte, src, dst uint16, payload []byte) ([]byte, error) {
	if len(payload) > maxSendData {
		return nil, ErrPayloadTooBig
	}
	PutUDP(buf[innerOff:], src, dst, len(payload))
	copy(buf[innerOff+UDPHeaderLen:], payload)
	return e.Seal(sc, buf, innerOff, UDPHeaderLen+len(payload), ProtoUDP)
}

// packetBuf is a pooled buffer with its own Scratch, so whichever
// goroutine holds it can seal without sharing random state.
type packetBuf struct {
	data [bufSize]byte
	sc   *Scratch
	ext  any // implementation data (e.g. a one-message batch)
}

type bufPool struct {
	p sync.Pool
}

func newBufPool(ext func() any) *bufPool {
	bp := &bufPool{}
	bp.p.New = func() any {
		b := &packetBuf{sc: NewScratch()}
		if ext != nil {
			b.ext = ext()
		}
		return b
	}
	return bp
}

func (p *bufPool) get() *packetBuf  { return p.p.Get().(*packetBuf) }
func (p *bufPool) put(b *packetBuf) { p.p.Put(b) }
