package tundev

import (
	"maps"
	"net/netip"
	"sync"
	"sync/atomic"
)

const tableShards = 256

// Table maps inner IPv4 addresses to session handles for the outbound path
// (a packet read from TUN is sent down the session that owns its
// destination). It is read-mostly: Lookup takes no lock (an atomic load of
// an immutable map); Set and Delete copy one of 256 shards, so a write costs
// about n/256 entries and writers to different shards do not contend.
type Table[H comparable] struct {
	shards [tableShards]tableShard[H]
}

type tableShard[H comparable] struct {
	mu sync.Mutex // serialises writers of this shard
	m  atomic.Pointer[map[uint32]H]
	_  [48]byte // keep shards on separate cache lines
}

func shardOf(a uint32) int { return int((a ^ a>>8 ^ a>>16 ^ a>>24) & (tableShards - 1)) }

func addrKey(a netip.Addr) (uint32, bool) {
	a = a.Unmap()
	if !a.Is4() {
		return 0, false
	}
	b := a.As4()
	return uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3]), true
}

// Lookup returns the handle for the IPv4 address a (as from DstIPv4).
func (t *Table[H]) Lookup(a uint32) (H, bool) {
	m := t.shards[shardOf(a)].m.Load()
	if m == nil {
		var zero H
		return zero, false
	}
	h, ok := (*m)[a]
	return h, ok
}

// LookupAddr is Lookup for a netip.Addr.
func (t *Table[H]) LookupAddr(a netip.Addr) (H, bool) {
	k, ok := addrKey(a)
	if !ok {
		var zero H
		return zero, false
	}
	return t.Lookup(k)
}

// Set maps a to h, replacing any previous handle. It reports false for a
// non-IPv4 address.
func (t *Table[H]) Set(a netip.Addr, h H) bool {
	k, ok := addrKey(a)
	if !ok {
		return false
	}
	s := &t.shards[shardOf(k)]
	s.mu.Lock()
	defer s.mu.Unlock()
	next := make(map[uint32]H, t.lenLocked(s)+1)
	if old := s.m.Load(); old != nil {
		maps.Copy(next, *old)
	}
	next[k] = h
	s.m.Store(&next)
	return true
}

// Delete removes a's mapping if it is h (so that a late teardown of an old
// session cannot remove the mapping of the session that now owns the
// address). It reports whether it removed anything.
func (t *Table[H]) Delete(a netip.Addr, h H) bool {
	k, ok := addrKey(a)
	if !ok {
		return false
	}
	s := &t.shards[shardOf(k)]
	s.mu.Lock()
	defer s.mu.Unlock()
	old := s.m.Load()
	if old == nil {
		return false
	}
	if cur, ok := (*old)[k]; !ok || cur != h {
		return false
	}
	next := make(map[uint32]H, len(*old))
	for key, v := range *old {
		if key != k {
			next[key] = v
		}
	}
	s.m.Store(&next)
	return true
}

func (t *Table[H]) lenLocked(s *tableShard[H]) int {
	if m := s.m.Load(); m != nil {
		return len(*m)
	}
	return 0
}

// Len returns the number of mappings (not a snapshot across shards).
func (t *Table[H]) Len() int {
	n := 0
	for i := range t.shards {
		if m := t.shards[i].m.Load(); m != nil {
			n += len(*m)
		}
	}
	return n
}
