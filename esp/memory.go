package esp

import (
	"log/slog"
	"net/netip"
	"sync"

	"github.com/l2tpsecd/l2tpsecd/internal/clock"
)

// Memory is an in-memory Datapath for tests, in the spirit of
// wireguard-go's conn/bindtest: two of them wired back to back by
// NewMemoryPair exchange real ESP (encrypted, UDP-encapsulated or raw) in
// one process, without sockets. Each runs one goroutine that plays the
// role of a worker.
type Memory struct {
	core
	local netip.AddrPort
	peer  *Memory
	inbox chan memDatagram
	sc    *Scratch
	bufs  *bufPool

	closeOnce sync.Once
	done      chan struct{}
	wg        sync.WaitGroup
	mu        sync.Mutex // guards closed against sends
	closed    bool
}

type memDatagram struct {
	b    []byte
	from netip.AddrPort
	udp  bool
}

// MemoryConfig configures one end of a Memory pair.
type MemoryConfig struct {
	// Local is this end's address and ESP-in-UDP port.
	Local  netip.AddrPort
	Hooks  Hooks
	Clock  clock.Clock
	Logger *slog.Logger
}

// NewMemoryPair returns two connected in-memory datapaths.
func NewMemoryPair(a, b MemoryConfig) (*Memory, *Memory) {
	ma, mb := newMemory(a), newMemory(b)
	ma.peer, mb.peer = mb, ma
	ma.start()
	mb.start()
	return ma, mb
}

func newMemory(cfg MemoryConfig) *Memory {
	m := &Memory{local: cfg.Local, inbox: make(chan memDatagram, 1024), sc: NewScratch(),
		bufs: newBufPool(nil), done: make(chan struct{})}
	m.core.init(cfg.Hooks, cfg.Clock, cfg.Logger)
	m.sendKeepalive = func(*saEntry) error {
		m.peer.deliver(memDatagram{b: []byte{keepaliveVal}, from: m.local, udp: true})
		return nil
	}
	return m
}

func (m *Memory) start() {
	m.wg.Add(1)
	go func() {
		defer m.wg.Done()
		for {
			select {
			case d := <-m.inbox:
				m.receive(d)
			case <-m.done:
				return
			}
		}
	}()
}

// Inject delivers a datagram as if it had arrived from the network: with
// udp set, b is a UDP/4500 payload (ESP, marker+IKE or keepalive);
// otherwise b is a raw ESP packet.
func (m *Memory) Inject(b []byte, from netip.AddrPort, udp bool) {
	m.deliver(memDatagram{b: append([]byte(nil), b...), from: from, udp: udp})
}

func (m *Memory) deliver(d memDatagram) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return
	}
	select {
	case m.inbox <- d:
	default:
		m.ctr.malformed.Add(1) // a full queue drops, like a socket buffer
	}
}

func (m *Memory) receive(d memDatagram) {
	esp := d.b
	if d.udp {
		kind, rest := ClassifyDatagram(d.b)
		switch kind {
		case DatagramKeepalive:
			m.ctr.keepalives.Add(1)
			return
		case DatagramIKE:
			m.ctr.ikeIn.Add(1)
			if m.hooks.IKE != nil {
				m.hooks.IKE(rest, m.local, d.from)
			}
			return
		case DatagramMalformed:
			m.ctr.malformed.Add(1)
			return
		}
		esp = rest
	}
	spi, _, ok := PeekSPI(esp)
	if !ok {
		m.ctr.malformed.Add(1)
		return
	}
	e := m.tab.spi(spi)
	if e == nil {
		m.ctr.noSA.Add(1)
		return
	}
	m.input(m.sc, e, esp, d.from, d.udp)
}

// AddSA implements Datapath.
func (m *Memory) AddSA(p SAPair) (Handle, error) { return m.addSA(p) }

// RemoveSA implements Datapath.
func (m *Memory) RemoveSA(h Handle) error { return m.removeSA(h) }

// Peer implements Datapath.
func (m *Memory) Peer(h Handle) (netip.AddrPort, Encap, bool) { return m.core.peer(h) }

// SAStats implements Datapath.
func (m *Memory) SAStats(h Handle) (Stats, Stats, bool) { return m.saStats(h) }

// Stats implements Datapath.
func (m *Memory) Stats() DatapathStats { return m.ctr.snapshot() }

// SendUDP implements Datapath.
func (m *Memory) SendUDP(h Handle, srcPort, dstPort uint16, payload []byte) error {
	e := m.tab.handle(h)
	if e == nil {
		return ErrNoSA
	}
	b := m.bufs.get()
	defer m.bufs.put(b)
	pkt, err := m.sealUDP(b.sc, e.out, b.data[:], srcPort, dstPort, payload)
	if err != nil {
		if err == ErrExpired || err == ErrSeqExhausted {
			m.ctr.expired.Add(1)
		}
		return err
	}
	m.countOut(e, 1, uint64(len(pkt)))
	m.peer.deliver(memDatagram{b: append([]byte(nil), pkt...), from: m.local, udp: e.encap == EncapUDP})
	return nil
}

// SendUDPBatch implements Datapath.
func (m *Memory) SendUDPBatch(h Handle, srcPort, dstPort uint16, payloads [][]byte) error {
	for _, p := range payloads {
		if err := m.SendUDP(h, srcPort, dstPort, p); err != nil {
			return err
		}
	}
	return nil
}

// SendKeepalive implements Datapath.
func (m *Memory) SendKeepalive(h Handle) error { return m.keepalive(h) }

// SendIKE implements Datapath.
func (m *Memory) SendIKE(pkt []byte, local, remote netip.AddrPort) error {
	b := make([]byte, nonESPMarker+len(pkt))
	copy(b[nonESPMarker:], pkt)
	m.ctr.ikeOut.Add(1)
	m.peer.deliver(memDatagram{b: b, from: m.local, udp: true})
	return nil
}

// Close implements Datapath.
func (m *Memory) Close() error {
	m.closeOnce.Do(func() {
		m.mu.Lock()
		m.closed = true
		m.mu.Unlock()
		close(m.done)
		m.wg.Wait()
		for _, e := range m.tab.all() {
			e.close()
		}
	})
	return nil
}
