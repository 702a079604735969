package isakmp

import (
	"container/list"
	"net/netip"
	"strconv"
	"sync"
	"time"

	"github.com/l2tpsecd/l2tpsecd/internal/clock"
)

// ReassemblerConfig bounds IKEv1 fragment reassembly. Zero fields take the
// defaults below, which are generous because iOS always fragments and
// Windows can send dozens of small fragments.
type ReassemblerConfig struct {
	MaxFragments int // per message; default 64 (the wire allows 255)
	MaxBytes     int // reassembled size per message; default 64 KiB
	MaxPerPeer   int // reassemblies in progress per peer; default 4
	MaxTotal     int // reassemblies in progress overall; default 1024
	// MaxTotalBytes bounds the bytes held across all reassemblies, so a
	// flood of spoofed fragments cannot take MaxTotal*MaxBytes; default 4 MiB.
	MaxTotalBytes int
	Timeout       time.Duration // since the first fragment; default 30 s
}

func (c *ReassemblerConfig) setDefaults() {
	if c.MaxFragments <= 0 || c.MaxFragments > 255 {
		c.MaxFragments = 64
	}
	if c.MaxBytes <= 0 {
		c.MaxBytes = 64 << 10
	}
	if c.MaxPerPeer <= 0 {
		c.MaxPerPeer = 4
	}
	if c.MaxTotal <= 0 {
		c.MaxTotal = 1024
	}
	if c.MaxTotalBytes <= 0 {
		c.MaxTotalBytes = 4 << 20
	}
	if c.Timeout <= 0 {
		c.Timeout = 30 * time.Second
	}
}

type fragKey struct {
	peer    netip.AddrPort
	cookies [16]byte
	id      uint16
}

type reassembly struct {
	key      fragKey
	deadline time.Time
	parts    [][]byte // index = fragment number - 1; nil = missing
	have     int
	last     int // number of the last fragment, 0 until seen
	bytes    int
	elem     *list.Element
}

// Reassembler puts IKEv1 fragments (payload 132) back together. Messages
// are keyed by peer, cookie pair and fragment ID, so a third party cannot
// add to another peer's message. The peer is what the caller passes: the
// source address and port, or the address alone (port 0) to bound a host. Duplicates and any order are accepted.
// Expiry is lazy, on the injected clock: Add drops what has timed out, and
// Expire may be called from a timer. It is safe for concurrent use.
type Reassembler struct {
	clk clock.Clock
	cfg ReassemblerConfig

	mu      sync.Mutex
	byKey   map[fragKey]*reassembly
	perPeer map[netip.AddrPort]int
	order   *list.List // of *reassembly, oldest first (= earliest deadline)
	held    int        // bytes held across all reassemblies
}

// NewReassembler returns a reassembler bounded by cfg.
func NewReassembler(clk clock.Clock, cfg ReassemblerConfig) *Reassembler {
	cfg.setDefaults()
	return &Reassembler{
		clk: clk, cfg: cfg,
		byKey:   make(map[fragKey]*reassembly),
		perPeer: make(map[netip.AddrPort]int),
		order:   list.New(),
	}
}

// Held reports how many fragment bytes are held.
func (r *Reassembler) Held() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.held
}

// Len reports how many reassemblies are in progress.
func (r *Reassembler) Len() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.byKey)
}

// Expire drops reassemblies whose time is up.
func (r *Reassembler) Expire() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.expireLocked(r.clk.Now())
}

func (r *Reassembler) expireLocked(now time.Time) {
	for e := r.order.Front(); e != nil; e = r.order.Front() {
		ra := e.Value.(*reassembly)
		if now.Before(ra.deadline) {
			return
		}
		r.dropLocked(ra)
	}
}

func (r *Reassembler) dropLocked(ra *reassembly) {
	r.held -= ra.bytes
	r.order.Remove(ra.elem)
	delete(r.byKey, ra.key)
	if n := r.perPeer[ra.key.peer] - 1; n > 0 {
		r.perPeer[ra.key.peer] = n
	} else {
		delete(r.perPeer, ra.key.peer)
	}
}

// Add records one fragment received from peer in a message with header h.
// When the fragment completes its message, Add returns the whole original
// ISAKMP message (a new slice, header included) and forgets it; otherwise
// it returns nil. A fragment that breaks the bounds drops its whole message
// and returns an error. When the peer already has MaxPerPeer messages in
// progress its oldest is dropped; when MaxTotal is reached, new messages
// are refused with ErrFragmentCapacity.
func (r *Reassembler) Add(peer netip.AddrPort, h *Header, f *Fragment) ([]byte, error) {
	if f.Number == 0 {
		return nil, perr(ErrFragment, "fragment number 0")
	}
	if int(f.Number) > r.cfg.MaxFragments {
		return nil, perr(ErrFragmentLimit, "fragment number "+strconv.Itoa(int(f.Number)))
	}
	key := fragKey{peer: peer, id: f.ID}
	copy(key.cookies[:8], h.InitiatorCookie[:])
	copy(key.cookies[8:], h.ResponderCookie[:])

	r.mu.Lock()
	defer r.mu.Unlock()
	now := r.clk.Now()
	r.expireLocked(now)

	ra := r.byKey[key]
	if ra == nil {
		if f.Last() && f.Number == 1 {
			// A message in one fragment needs no state.
			return append([]byte(nil), f.Data...), nil
		}
		if len(r.byKey) >= r.cfg.MaxTotal {
			return nil, perr(ErrFragmentCapacity, strconv.Itoa(len(r.byKey))+" in progress")
		}
		if r.perPeer[peer] >= r.cfg.MaxPerPeer {
			r.dropOldestOfLocked(peer)
		}
		ra = &reassembly{key: key, deadline: now.Add(r.cfg.Timeout), parts: make([][]byte, r.cfg.MaxFragments)}
		ra.elem = r.order.PushBack(ra)
		r.byKey[key] = ra
		r.perPeer[peer]++
	}
	n := int(f.Number)
	if f.Last() {
		if ra.last != 0 && ra.last != n {
			r.dropLocked(ra)
			return nil, perr(ErrFragment, "two last fragments")
		}
		for i := n; i < len(ra.parts); i++ {
			if ra.parts[i] != nil {
				r.dropLocked(ra)
				return nil, perr(ErrFragment, "fragment after the last one")
			}
		}
		ra.last = n
	} else if ra.last != 0 && n >= ra.last {
		r.dropLocked(ra)
		return nil, perr(ErrFragment, "fragment after the last one")
	}
	if ra.parts[n-1] != nil {
		return nil, nil // duplicate (retransmission): keep the first copy
	}
	if ra.bytes+len(f.Data) > r.cfg.MaxBytes {
		r.dropLocked(ra)
		return nil, perr(ErrFragmentLimit, "more than "+strconv.Itoa(r.cfg.MaxBytes)+" bytes")
	}
	if r.held+len(f.Data) > r.cfg.MaxTotalBytes {
		if ra.have == 0 {
			r.dropLocked(ra)
		}
		return nil, perr(ErrFragmentCapacity, strconv.Itoa(r.held)+" bytes held")
	}
	// Copy: the caller's buffer is reused for the next datagram. A zero-length
	// fragment is kept as a non-nil empty slice so it counts as present.
	ra.parts[n-1] = append(make([]byte, 0, len(f.Data)), f.Data...)
	ra.have++
	ra.bytes += len(f.Data)
	r.held += len(f.Data)
	if ra.last == 0 || ra.have != ra.last {
		return nil, nil
	}
	out := make([]byte, 0, ra.bytes)
	for _, p := range ra.parts[:ra.last] {
		out = append(out, p...)
	}
	r.dropLocked(ra)
	return out, nil
}

func (r *Reassembler) dropOldestOfLocked(peer netip.AddrPort) {
	for e := r.order.Front(); e != nil; e = e.Next() {
		if ra := e.Value.(*reassembly); ra.key.peer == peer {
			r.dropLocked(ra)
			return
		}
	}
}

// fragOverhead is the ISAKMP header plus the fragment payload's own header
// (generic header, fragment ID, number, flags).
const fragOverhead = HeaderLen + 8

// SplitFragments cuts a whole ISAKMP message (as it would be sent, header
// included, encrypted or not) into IKEv1 fragment messages of at most
// maxSize bytes each, for the initiator role and for responders that
// answer fragments with fragments. Each fragment message copies the
// original's cookies, exchange type and message ID, has no flags, and
// carries one FRAG payload with the given fragment ID (use a new ID per
// message).
func SplitFragments(msg []byte, fragID uint16, maxSize int) ([][]byte, error) {
	if len(msg) < HeaderLen {
		return nil, ErrShort
	}
	chunk := maxSize - fragOverhead
	if chunk < 1 {
		return nil, ErrFragmentMTU
	}
	n := (len(msg) + chunk - 1) / chunk
	if n > 255 {
		return nil, ErrFragmentMTU
	}
	var h Header
	copy(h.InitiatorCookie[:], msg[0:8])
	copy(h.ResponderCookie[:], msg[8:16])
	h.Version = msg[17]
	h.Exchange = ExchangeType(msg[18])
	h.MessageID = uint32(msg[20])<<24 | uint32(msg[21])<<16 | uint32(msg[22])<<8 | uint32(msg[23])
	out := make([][]byte, 0, n)
	for i := 0; i < n; i++ {
		data := msg[i*chunk : min(len(msg), (i+1)*chunk)]
		f := &Fragment{ID: fragID, Number: uint8(i + 1), Data: data}
		if i == n-1 {
			f.Flags = FragLast
		}
		m := Message{Header: h, Body: Body{Payloads: []Payload{f}}}
		b, err := m.Marshal()
		if err != nil {
			return nil, err
		}
		out = append(out, b)
	}
	return out, nil
}
