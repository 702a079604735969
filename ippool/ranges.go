package ippool

import (
	"fmt"
	"math/bits"
	"net/netip"
	"slices"
	"strings"
)

// span is an inclusive range of IPv4 addresses held as integers.
type span struct{ first, last uint32 }

func (s span) size() uint64 { return uint64(s.last) - uint64(s.first) + 1 }

func (s span) contains(a uint32) bool { return a >= s.first && a <= s.last }

func addrToU32(a netip.Addr) (uint32, bool) {
	a = a.Unmap()
	if !a.Is4() {
		return 0, false
	}
	b := a.As4()
	return uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3]), true
}

func u32ToAddr(v uint32) netip.Addr {
	return netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)})
}

// parseSpan reads "A", "A-B" or "A/N" (IPv4 only). A CIDR of length 30 or
// shorter loses its network and broadcast addresses, as a pool written as
// 10.10.0.0/24 is meant to hold 10.10.0.1-10.10.0.254.
func parseSpan(s string, trimEdges bool) (span, error) {
	s = strings.TrimSpace(s)
	if lo, hi, ok := strings.Cut(s, "-"); ok {
		a, err := netip.ParseAddr(strings.TrimSpace(lo))
		if err != nil {
			return span{}, fmt.Errorf("%w: %q: %v", ErrBadRange, s, err)
		}
		b, err := netip.ParseAddr(strings.TrimSpace(hi))
		if err != nil {
			return span{}, fmt.Errorf("%w: %q: %v", ErrBadRange, s, err)
		}
		x, ok1 := addrToU32(a)
		y, ok2 := addrToU32(b)
		if !ok1 || !ok2 {
			return span{}, fmt.Errorf("%w: %q: IPv4 only", ErrBadRange, s)
		}
		if y < x {
			return span{}, fmt.Errorf("%w: %q: end before start", ErrBadRange, s)
		}
		return span{x, y}, nil
	}
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return span{}, fmt.Errorf("%w: %q: %v", ErrBadRange, s, err)
		}
		if !p.Addr().Is4() {
			return span{}, fmt.Errorf("%w: %q: IPv4 only", ErrBadRange, s)
		}
		p = p.Masked() // as server.ParseIPRange reads it
		first, _ := addrToU32(p.Addr())
		last := first | uint32(uint64(1)<<(32-p.Bits())-1)
		if trimEdges && p.Bits() <= 30 {
			first++
			last--
		}
		return span{first, last}, nil
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return span{}, fmt.Errorf("%w: %q: %v", ErrBadRange, s, err)
	}
	x, ok := addrToU32(a)
	if !ok {
		return span{}, fmt.Errorf("%w: %q: IPv4 only", ErrBadRange, s)
	}
	return span{x, x}, nil
}

// normalize sorts spans and merges overlapping or adjacent ones.
func normalize(in []span) []span {
	out := slices.Clone(in)
	slices.SortFunc(out, func(a, b span) int {
		switch {
		case a.first < b.first:
			return -1
		case a.first > b.first:
			return 1
		}
		return 0
	})
	merged := out[:0]
	for _, s := range out {
		if n := len(merged); n > 0 && uint64(s.first) <= uint64(merged[n-1].last)+1 {
			if s.last > merged[n-1].last {
				merged[n-1].last = s.last
			}
			continue
		}
		merged = append(merged, s)
	}
	return merged
}

// subtract removes every address of ex from in; both must be normalized.
func subtract(in, ex []span) []span {
	var out []span
	j := 0
	for _, s := range in {
		cur := s
		keep := true
		for j < len(ex) && ex[j].last < cur.first {
			j++
		}
		for k := j; k < len(ex) && ex[k].first <= cur.last; k++ {
			e := ex[k]
			if e.first > cur.first {
				out = append(out, span{cur.first, e.first - 1})
			}
			if e.last >= cur.last {
				keep = false
				break
			}
			cur.first = e.last + 1
		}
		if keep {
			out = append(out, cur)
		}
	}
	return out
}

// prefixesOf returns the shortest list of CIDR prefixes that exactly covers
// s, for routes toward the TUN device.
func prefixesOf(s span) []netip.Prefix {
	var out []netip.Prefix
	a := uint64(s.first)
	end := uint64(s.last) + 1
	for a < end {
		// The largest aligned block starting at a that fits before end.
		size := uint64(1) << 32
		if a != 0 {
			size = uint64(1) << bits.TrailingZeros64(a)
		}
		for size > end-a {
			size >>= 1
		}
		out = append(out, netip.PrefixFrom(u32ToAddr(uint32(a)), 32-bits.TrailingZeros64(size)))
		a += size
	}
	return out
}
