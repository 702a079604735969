//go:build linux

package esp

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"syscall"

	"golang.org/x/net/ipv4"
	"golang.org/x/sys/unix"

	"github.com/l2tpsecd/l2tpsecd/internal/clock"
)

// UserspaceConfig configures the user-space datapath.
type UserspaceConfig struct {
	// Listen are the ESP-in-UDP addresses; default 0.0.0.0:4500. Port 0
	// picks a free port (the same for every worker of one address).
	Listen []netip.AddrPort
	// Workers is the number of workers; default runtime.NumCPU().
	Workers int
	// RawESP opens a raw IP protocol 50 socket for clients that are not
	// behind NAT (needs CAP_NET_RAW).
	RawESP bool
	// BatchSize is the number of datagrams per recvmmsg/sendmmsg; default 32.
	BatchSize int
	Hooks     Hooks
	Clock     clock.Clock
	Logger    *slog.Logger
}

// Userspace is the user-space Datapath: N workers, each owning one
// SO_REUSEPORT UDP socket per listen address (the kernel hashes a client's
// 4-tuple to one socket, hence to one worker, which then owns the SA's
// inbound state), plus optionally one raw ESP socket.
//
// Goroutines: one reader per socket and one per worker. A reader does the
// RFC 3948 demultiplexing and the SPI lookup and hands ESP packets, in
// batches, to the worker that owns the SA; the worker decrypts and
// delivers. Normally a UDP socket's packets all go to its own worker; the
// handoff matters when a NAT rebinding moves an SA to another socket and
// for raw ESP.
//
// Raw ESP uses one socket and one reader that hands packets to the owning
// worker, rather than a socket per worker with a classic BPF filter on the
// SPI: every raw socket gets its own copy of each ESP packet before its
// filter runs, so N sockets cost N clones per packet, while the handoff
// is the same one the UDP path already needs after rebinding. Owners of
// SAs first seen on raw ESP are chosen by SPI modulo the worker count.
type Userspace struct {
	core
	batch   int
	workers []*usWorker
	groups  []*usGroup
	raw     *ipv4.PacketConn // for WriteBatch
	rawConn net.PacketConn
	bufs    *bufPool
	batches sync.Pool
	sends   sync.Pool

	ikeCh chan ikeMsg

	closed    atomic.Bool
	closeOnce sync.Once
	readers   sync.WaitGroup
	workersWG sync.WaitGroup
}

// ikeMsg is an IKE datagram copied off a reader's buffer.
type ikeMsg struct {
	pkt           []byte
	local, remote netip.AddrPort
}

// ikeQueueLen bounds IKE messages waiting for the IKE goroutine; beyond
// it they are dropped and counted (a flood of IKE must not stall ESP).
const ikeQueueLen = 1024

type usWorker struct {
	id int
	ch chan *rxBatch
	sc *Scratch
}

// usGroup is the set of SO_REUSEPORT sockets of one listen address.
type usGroup struct {
	local    netip.AddrPort
	wildcard bool
	socks    []*usSock
}

type usSock struct {
	conn   *net.UDPConn
	pc     *ipv4.PacketConn
	group  *usGroup
	worker int
}

type rxPacket struct {
	buf  *packetBuf
	esp  []byte
	from netip.AddrPort
	e    *saEntry
	udp  bool
}

type rxBatch struct{ pkts []rxPacket }

// usPeer is the pre-built form of a peer address, so sends need no
// conversion (and no allocation).
type usPeer struct {
	udp   *net.UDPAddr
	ip    *net.IPAddr
	oob   []byte // IP_PKTINFO choosing our source address, or nil
	group int
}

// sendMsgs is a batch of outgoing messages.
type sendMsgs struct {
	msgs []ipv4.Message
	bufs []*packetBuf
}

const rcvBuf = 4 << 20

// NewUserspace opens the sockets and starts the goroutines.
func NewUserspace(cfg UserspaceConfig) (*Userspace, error) {
	if len(cfg.Listen) == 0 {
		cfg.Listen = []netip.AddrPort{netip.AddrPortFrom(netip.IPv4Unspecified(), NATTPort)}
	}
	if cfg.Workers <= 0 {
		cfg.Workers = runtime.NumCPU()
	}
	if cfg.BatchSize <= 0 {
		cfg.BatchSize = 32
	}
	u := &Userspace{batch: cfg.BatchSize}
	u.core.init(cfg.Hooks, cfg.Clock, cfg.Logger)
	u.makePeer = u.buildPeer
	u.sendKeepalive = u.writeKeepalive
	u.bufs = newBufPool(nil)
	u.batches.New = func() any { return &rxBatch{pkts: make([]rxPacket, 0, cfg.BatchSize)} }
	u.sends.New = func() any {
		s := &sendMsgs{msgs: make([]ipv4.Message, cfg.BatchSize), bufs: make([]*packetBuf, 0, cfg.BatchSize)}
		for i := range s.msgs {
			s.msgs[i].Buffers = make([][]byte, 1)
		}
		return s
	}
	for i := 0; i < cfg.Workers; i++ {
		u.workers = append(u.workers, &usWorker{id: i, ch: make(chan *rxBatch, 64), sc: NewScratch()})
	}
	for _, ap := range cfg.Listen {
		g, err := u.openGroup(ap, cfg.Workers)
		if err != nil {
			u.closeSockets()
			return nil, err
		}
		u.groups = append(u.groups, g)
	}
	if cfg.RawESP {
		if err := u.openRaw(); err != nil {
			u.closeSockets()
			return nil, err
		}
	}
	for _, w := range u.workers {
		u.workersWG.Add(1)
		go u.runWorker(w)
	}
	u.ikeCh = make(chan ikeMsg, ikeQueueLen)
	u.workersWG.Add(1)
	go u.runIKE()
	for _, g := range u.groups {
		for _, s := range g.socks {
			u.readers.Add(1)
			go u.readUDP(s)
		}
	}
	if u.raw != nil {
		u.readers.Add(1)
		go u.readRaw()
	}
	u.log.Info("esp: user-space datapath started", "workers", cfg.Workers, "listen", u.LocalAddrs(), "raw_esp", u.raw != nil)
	return u, nil
}

func (u *Userspace) openGroup(ap netip.AddrPort, n int) (*usGroup, error) {
	if !ap.Addr().Is4() {
		return nil, fmt.Errorf("%w: listen address %v is not IPv4", ErrBadConfig, ap)
	}
	g := &usGroup{local: ap, wildcard: ap.Addr().IsUnspecified()}
	lc := net.ListenConfig{Control: func(_, _ string, c syscall.RawConn) error {
		var serr error
		err := c.Control(func(fd uintptr) {
			serr = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_REUSEPORT, 1)
			// Bursts from many clients outrun a worker briefly; a larger
			// receive buffer absorbs them (best effort: FORCE needs
			// CAP_NET_ADMIN, plain SO_RCVBUF is capped by rmem_max).
			if unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_RCVBUFFORCE, rcvBuf) != nil {
				_ = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_RCVBUF, rcvBuf)
			}
		})
		if err != nil {
			return err
		}
		return serr
	}}
	fail := func(err error) (*usGroup, error) {
		for _, s := range g.socks {
			s.conn.Close()
		}
		return nil, err
	}
	for i := 0; i < n; i++ {
		pc, err := lc.ListenPacket(context.Background(), "udp4", g.local.String())
		if err != nil {
			return fail(fmt.Errorf("esp: listen %v: %w", g.local, err))
		}
		conn := pc.(*net.UDPConn)
		if i == 0 {
			// Port 0: every worker's socket joins the port the first got.
			g.local = netip.AddrPortFrom(g.local.Addr(), conn.LocalAddr().(*net.UDPAddr).AddrPort().Port())
		}
		s := &usSock{conn: conn, pc: ipv4.NewPacketConn(conn), group: g, worker: i}
		if g.wildcard {
			// IKE needs the address the client sent to (NAT-D hashes).
			if err := s.pc.SetControlMessage(ipv4.FlagDst, true); err != nil {
				conn.Close()
				return fail(fmt.Errorf("esp: IP_PKTINFO: %w", err))
			}
		}
		g.socks = append(g.socks, s)
	}
	return g, nil
}

func (u *Userspace) openRaw() error {
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_RAW|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, unix.IPPROTO_ESP)
	if err != nil {
		return fmt.Errorf("esp: raw ESP socket (needs CAP_NET_RAW): %w", err)
	}
	f := os.NewFile(uintptr(fd), "esp-raw")
	c, err := net.FilePacketConn(f)
	f.Close()
	if err != nil {
		return fmt.Errorf("esp: raw ESP socket: %w", err)
	}
	u.rawConn = c
	u.raw = ipv4.NewPacketConn(c)
	return nil
}

// LocalAddrs returns the bound ESP-in-UDP addresses.
func (u *Userspace) LocalAddrs() []netip.AddrPort {
	var out []netip.AddrPort
	for _, g := range u.groups {
		out = append(out, g.local)
	}
	return out
}

func (u *Userspace) buildPeer(ap netip.AddrPort, _ Encap, local netip.Addr) any {
	p := &usPeer{udp: net.UDPAddrFromAddrPort(ap), ip: &net.IPAddr{IP: ap.Addr().AsSlice()}}
	for i, g := range u.groups {
		if g.local.Addr() == local {
			p.group = i
			return p
		}
	}
	// The local address is served by a wildcard listener (or unknown):
	// pick it as the source with IP_PKTINFO.
	for i, g := range u.groups {
		if g.wildcard {
			p.group = i
			break
		}
	}
	if local.IsValid() && local.Is4() {
		p.oob = (&ipv4.ControlMessage{Src: local.AsSlice()}).Marshal()
	}
	return p
}

// newReader makes a batched reader on c with a pooled buffer for every
// slot of the batch; the caller returns the buffers with putBufs.
func (u *Userspace) newReader(c syscall.Conn, oobLen int) (*mmsgReader, []*packetBuf, error) {
	r, err := newMmsgReader(c, u.batch, oobLen)
	if err != nil {
		return nil, nil, err
	}
	bufs := make([]*packetBuf, u.batch)
	for i := range bufs {
		bufs[i] = u.bufs.get()
		r.setBuf(i, bufs[i].data[:])
	}
	return r, bufs, nil
}

func (u *Userspace) putBufs(bufs []*packetBuf) {
	for _, b := range bufs {
		u.bufs.put(b)
	}
}

func (u *Userspace) readUDP(s *usSock) {
	defer u.readers.Done()
	var oobLen int
	if s.group.wildcard {
		oobLen = len(ipv4.NewControlMessage(ipv4.FlagDst))
	}
	r, bufs, err := u.newReader(s.conn, oobLen)
	if err != nil {
		u.log.Error("esp: UDP reader", "err", err)
		return
	}
	defer u.putBufs(bufs)
	out := make([]*rxBatch, len(u.workers))
	for {
		cnt, err := r.read()
		if err != nil {
			if u.closed.Load() || errors.Is(err, net.ErrClosed) {
				return
			}
			u.log.Warn("esp: UDP read", "err", err)
			continue
		}
		for i := 0; i < cnt; i++ {
			n, trunc := r.len(i)
			if trunc {
				u.ctr.malformed.Add(1)
				continue
			}
			kind, rest := ClassifyDatagram(bufs[i].data[:n])
			switch kind {
			case DatagramKeepalive:
				u.ctr.keepalives.Add(1)
				continue
			case DatagramMalformed:
				u.ctr.malformed.Add(1)
				continue
			case DatagramIKE:
				u.ctr.ikeIn.Add(1)
				u.queueIKE(rest, s.localFor(r.control(i)), r.from(i))
				continue
			}
			spi, _, _ := PeekSPI(rest)
			e := u.tab.spi(spi)
			if e == nil {
				u.ctr.noSA.Add(1)
				continue
			}
			w := e.claim(s.worker)
			bt := out[w]
			if bt == nil {
				bt = u.batches.Get().(*rxBatch)
				out[w] = bt
			}
			bt.pkts = append(bt.pkts, rxPacket{buf: bufs[i], esp: rest, from: r.from(i), e: e, udp: true})
			bufs[i] = u.bufs.get()
			r.setBuf(i, bufs[i].data[:])
		}
		u.dispatch(out)
	}
}

func (u *Userspace) dispatch(out []*rxBatch) {
	for w, bt := range out {
		if bt != nil {
			u.workers[w].ch <- bt
			out[w] = nil
		}
	}
}

// localFor returns the address an IKE packet was sent to.
func (s *usSock) localFor(oob []byte) netip.AddrPort {
	if !s.group.wildcard || len(oob) == 0 {
		return s.group.local
	}
	var cm ipv4.ControlMessage
	if err := cm.Parse(oob); err != nil || cm.Dst == nil {
		return s.group.local
	}
	a, _ := netip.AddrFromSlice(cm.Dst.To4())
	return netip.AddrPortFrom(a, s.group.local.Port())
}

// ours reports whether a raw packet's destination is one of our listen
// addresses (raw sockets see every ESP packet the host receives).
func (u *Userspace) ours(dst netip.Addr) bool {
	for _, g := range u.groups {
		if g.wildcard || g.local.Addr() == dst {
			return true
		}
	}
	return len(u.groups) == 0
}

func (u *Userspace) readRaw() {
	defer u.readers.Done()
	r, bufs, err := u.newReader(u.rawConn.(syscall.Conn), 0)
	if err != nil {
		u.log.Error("esp: raw reader", "err", err)
		return
	}
	defer u.putBufs(bufs)
	out := make([]*rxBatch, len(u.workers))
	nw := uint32(len(u.workers))
	for {
		cnt, err := r.read()
		if err != nil {
			if u.closed.Load() || errors.Is(err, net.ErrClosed) {
				return
			}
			u.log.Warn("esp: raw read", "err", err)
			continue
		}
		for i := 0; i < cnt; i++ {
			n, trunc := r.len(i)
			p := bufs[i].data[:n]
			// IPv4 raw sockets deliver the IP header.
			if len(p) < 20 || p[0]>>4 != 4 || trunc {
				u.ctr.malformed.Add(1)
				continue
			}
			ihl := int(p[0]&15) * 4
			total := int(binary.BigEndian.Uint16(p[2:]))
			if ihl < 20 || total < ihl || total > len(p) {
				u.ctr.malformed.Add(1)
				continue
			}
			if !u.ours(netip.AddrFrom4([4]byte(p[16:20]))) {
				continue
			}
			src := netip.AddrPortFrom(netip.AddrFrom4([4]byte(p[12:16])), 0)
			esp := p[ihl:total]
			spi, _, ok := PeekSPI(esp)
			if !ok {
				u.ctr.malformed.Add(1)
				continue
			}
			e := u.tab.spi(spi)
			if e == nil {
				u.ctr.noSA.Add(1)
				continue
			}
			w := e.claim(int(spi % nw))
			bt := out[w]
			if bt == nil {
				bt = u.batches.Get().(*rxBatch)
				out[w] = bt
			}
			bt.pkts = append(bt.pkts, rxPacket{buf: bufs[i], esp: esp, from: src, e: e})
			bufs[i] = u.bufs.get()
			r.setBuf(i, bufs[i].data[:])
		}
		u.dispatch(out)
	}
}

// queueIKE hands an IKE message to the IKE goroutine. IKE work (Diffie-
// Hellman, PSK trial decryption) takes milliseconds; done on a reader it
// would hold up every ESP packet behind it on that socket.
func (u *Userspace) queueIKE(pkt []byte, local, remote netip.AddrPort) {
	if u.hooks.IKE == nil {
		return
	}
	m := ikeMsg{pkt: append([]byte(nil), pkt...), local: local, remote: remote}
	select {
	case u.ikeCh <- m:
	default:
		u.ctr.ikeDropped.Add(1)
	}
}

func (u *Userspace) runIKE() {
	defer u.workersWG.Done()
	for m := range u.ikeCh {
		u.hooks.IKE(m.pkt, m.local, m.remote)
	}
}

func (u *Userspace) runWorker(w *usWorker) {
	defer u.workersWG.Done()
	for bt := range w.ch {
		for i := range bt.pkts {
			p := &bt.pkts[i]
			u.input(w.sc, p.e, p.esp, p.from, p.udp)
			u.bufs.put(p.buf)
			*p = rxPacket{}
		}
		bt.pkts = bt.pkts[:0]
		u.batches.Put(bt)
	}
}

// AddSA implements Datapath.
func (u *Userspace) AddSA(p SAPair) (Handle, error) {
	if p.Encap == EncapRaw && u.raw == nil {
		return 0, fmt.Errorf("%w: raw ESP SA but the raw socket is not open", ErrBadConfig)
	}
	return u.addSA(p)
}

// RemoveSA implements Datapath.
func (u *Userspace) RemoveSA(h Handle) error { return u.removeSA(h) }

// Peer implements Datapath.
func (u *Userspace) Peer(h Handle) (netip.AddrPort, Encap, bool) { return u.core.peer(h) }

// SAStats implements Datapath.
func (u *Userspace) SAStats(h Handle) (Stats, Stats, bool) { return u.saStats(h) }

// Stats implements Datapath.
func (u *Userspace) Stats() DatapathStats { return u.ctr.snapshot() }

// SendUDP implements Datapath.
func (u *Userspace) SendUDP(h Handle, srcPort, dstPort uint16, payload []byte) error {
	var one [1][]byte
	one[0] = payload
	return u.SendUDPBatch(h, srcPort, dstPort, one[:])
}

// SendUDPBatch implements Datapath: the payloads are sealed into pooled
// buffers and written with sendmmsg, BatchSize at a time.
func (u *Userspace) SendUDPBatch(h Handle, srcPort, dstPort uint16, payloads [][]byte) error {
	if u.closed.Load() {
		return ErrClosed
	}
	e := u.tab.handle(h)
	if e == nil {
		return ErrNoSA
	}
	peer := e.peer.Load()
	up := peer.ext.(*usPeer)
	var pc *ipv4.PacketConn
	var addr net.Addr
	if e.encap == EncapUDP {
		g := u.groups[up.group]
		w := int(e.owner.Load()) - 1
		if w < 0 || w >= len(g.socks) {
			w = 0
		}
		pc, addr = g.socks[w].pc, up.udp
	} else {
		pc, addr = u.raw, up.ip
	}
	s := u.sends.Get().(*sendMsgs)
	defer u.sends.Put(s)
	var firstErr error
	for len(payloads) > 0 {
		n := min(len(payloads), len(s.msgs))
		k := 0
		for _, p := range payloads[:n] {
			b := u.bufs.get()
			pkt, err := u.sealUDP(b.sc, e.out, b.data[:], srcPort, dstPort, p)
			if err != nil {
				u.bufs.put(b)
				if err == ErrExpired || err == ErrSeqExhausted {
					u.ctr.expired.Add(1)
				}
				if firstErr == nil {
					firstErr = err
				}
				continue
			}
			s.bufs = append(s.bufs, b)
			m := &s.msgs[k]
			m.Buffers[0], m.OOB, m.Addr = pkt, up.oob, addr
			k++
		}
		payloads = payloads[n:]
		for sent := 0; sent < k; {
			c, err := pc.WriteBatch(s.msgs[sent:k], 0)
			if err != nil {
				u.ctr.sendErrors.Add(uint64(k - sent))
				if firstErr == nil {
					firstErr = err
				}
				break
			}
			var bytes uint64
			for _, m := range s.msgs[sent : sent+c] {
				bytes += uint64(len(m.Buffers[0]))
			}
			u.countOut(e, uint64(c), bytes)
			sent += c
		}
		for i, b := range s.bufs {
			u.bufs.put(b)
			s.bufs[i] = nil
			s.msgs[i].Buffers[0], s.msgs[i].Addr, s.msgs[i].OOB = nil, nil, nil
		}
		s.bufs = s.bufs[:0]
	}
	return firstErr
}

// SendKeepalive implements Datapath.
func (u *Userspace) SendKeepalive(h Handle) error { return u.keepalive(h) }

func (u *Userspace) writeKeepalive(e *saEntry) error {
	if u.closed.Load() {
		return ErrClosed
	}
	p := e.peer.Load()
	up := p.ext.(*usPeer)
	_, _, err := u.groups[up.group].socks[0].conn.WriteMsgUDPAddrPort([]byte{keepaliveVal}, up.oob, p.ap)
	return err
}

// SendIKE implements Datapath.
func (u *Userspace) SendIKE(pkt []byte, local, remote netip.AddrPort) error {
	if u.closed.Load() {
		return ErrClosed
	}
	gi := -1
	for i, g := range u.groups {
		if g.local.Addr() == local.Addr() {
			gi = i
			break
		}
		if g.wildcard && gi < 0 {
			gi = i
		}
	}
	if gi < 0 {
		gi = 0
	}
	g := u.groups[gi]
	var oob []byte
	if g.wildcard && local.Addr().Is4() && !local.Addr().IsUnspecified() {
		oob = (&ipv4.ControlMessage{Src: local.Addr().AsSlice()}).Marshal()
	}
	b := make([]byte, nonESPMarker+len(pkt))
	copy(b[nonESPMarker:], pkt)
	if _, _, err := g.socks[0].conn.WriteMsgUDPAddrPort(b, oob, remote); err != nil {
		u.ctr.sendErrors.Add(1)
		return fmt.Errorf("esp: send IKE to %v: %w", remote, err)
	}
	u.ctr.ikeOut.Add(1)
	return nil
}

func (u *Userspace) closeSockets() {
	for _, g := range u.groups {
		for _, s := range g.socks {
			s.conn.Close()
		}
	}
	if u.rawConn != nil {
		u.rawConn.Close()
	}
}

// Close implements Datapath: it closes the sockets, waits for the readers,
// then stops the workers.
func (u *Userspace) Close() error {
	u.closeOnce.Do(func() {
		u.closed.Store(true)
		u.closeSockets()
		u.readers.Wait()
		for _, w := range u.workers {
			close(w.ch)
		}
		if u.ikeCh != nil {
			close(u.ikeCh)
		}
		u.workersWG.Wait()
		for _, e := range u.tab.all() {
			e.close()
		}
		u.log.Info("esp: user-space datapath stopped")
	})
	return nil
}

var (
	_ Datapath = (*Userspace)(nil)
	_ Datapath = (*Memory)(nil)
)
