package ippool

import (
	"container/list"
	"sort"
)

// segment is one allocatable run of addresses (a configured range with the
// exclusions cut out). Addresses at or above cursor have never been handed
// out since the segment was built; they are free unless listed in the
// pool's ahead set.
type segment struct {
	span
	cursor uint64 // next never-used address; last+1 when the segment is used up
}

// pool is one named pool. Every address of its segments is in exactly one of
// four places, which is what makes allocate and free O(1) without scanning:
//
//	a >= cursor, not in ahead  free, never used since the segment was built
//	a >= cursor, in ahead      leased (taken by address: sticky/static)
//	a <  cursor, in free       free, released earlier (FIFO, oldest first)
//	a <  cursor, not in free   leased
type pool struct {
	name   string
	cfg    PoolConfig
	ranges []span // configured ranges, merged, before exclusions (routes)
	segs   []segment
	curSeg int // first segment whose cursor has not passed its end
	ahead  map[uint32]struct{}
	free   *list.List               // of uint32, front = released longest ago
	inFree map[uint32]*list.Element // index into free
	size   uint64
	inUse  int

	allocations uint64
	exhausted   uint64
}

func newPool(cfg PoolConfig, ranges, segs []span) *pool {
	p := &pool{
		name:   cfg.Name,
		cfg:    cfg,
		ranges: ranges,
		ahead:  make(map[uint32]struct{}),
		free:   list.New(),
		inFree: make(map[uint32]*list.Element),
	}
	p.segs = make([]segment, len(segs))
	for i, s := range segs {
		p.segs[i] = segment{span: s, cursor: uint64(s.first)}
		p.size += s.size()
	}
	return p
}

// segIndex returns the index of the segment holding a, or -1.
func (p *pool) segIndex(a uint32) int {
	i := sort.Search(len(p.segs), func(i int) bool { return p.segs[i].last >= a })
	if i < len(p.segs) && p.segs[i].first <= a {
		return i
	}
	return -1
}

// takeAny hands out a free address: never-used addresses first, then the one
// released longest ago, so that a released address stays free for as long as
// possible and its user is likely to get it back (sticky).
func (p *pool) takeAny() (uint32, bool) {
	for p.curSeg < len(p.segs) {
		s := &p.segs[p.curSeg]
		for s.cursor <= uint64(s.last) {
			a := uint32(s.cursor)
			s.cursor++
			if _, taken := p.ahead[a]; taken {
				// Already leased by address; from now on it is below the
				// cursor, where "not in free" means leased.
				delete(p.ahead, a)
				continue
			}
			p.inUse++
			return a, true
		}
		p.curSeg++
	}
	if e := p.free.Front(); e != nil {
		a := p.free.Remove(e).(uint32)
		delete(p.inFree, a)
		p.inUse++
		return a, true
	}
	return 0, false
}

// takeSpecific marks a (known to be free and inside segment i) as leased.
func (p *pool) takeSpecific(i int, a uint32) {
	if uint64(a) >= p.segs[i].cursor {
		p.ahead[a] = struct{}{}
	} else if e, ok := p.inFree[a]; ok {
		p.free.Remove(e)
		delete(p.inFree, a)
	}
	p.inUse++
}

// put returns a leased address to the pool. An address that no segment
// holds any more (its range was removed or excluded while leased) is
// dropped.
func (p *pool) put(a uint32) {
	i := p.segIndex(a)
	if i < 0 {
		return
	}
	p.inUse--
	if uint64(a) >= p.segs[i].cursor {
		delete(p.ahead, a)
		return
	}
	p.inFree[a] = p.free.PushBack(a)
}
