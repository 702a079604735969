package esp

// replayWindow is the RFC 4303 Appendix A2 anti-replay window, kept as a
// ring of 64-bit blocks (the layout of RFC 6479) so that sliding the window
// clears whole words instead of shifting a bitmap. It has one owner (the
// worker that processes the SA's packets) and so no lock.
type replayWindow struct {
	size uint64 // window in packets
	top  uint64 // highest sequence number accepted
	mask uint64 // len(bits)-1
	bits []uint64
}

func (r *replayWindow) init(w int) {
	// The ring must hold every block the window touches plus the one being
	// entered: w/64 + 1 blocks, rounded up to a power of two for masking.
	n := 1
	for n < w/64+1 {
		n <<= 1
	}
	r.size, r.top = uint64(w), 0
	r.bits = make([]uint64, n)
	r.mask = uint64(n - 1)
}

// infer reconstructs the full sequence number from its low 32 bits (RFC
// 4303 Appendix A3 for ESN; without ESN the high half is zero).
func (r *replayWindow) infer(lo uint32, esn bool) (uint64, bool) {
	if !esn {
		return uint64(lo), true
	}
	tl, th := uint32(r.top), uint32(r.top>>32)
	w := uint32(r.size)
	if tl >= w-1 {
		if lo >= tl-w+1 {
			return uint64(th)<<32 | uint64(lo), true
		}
		return uint64(th+1)<<32 | uint64(lo), th != ^uint32(0)
	}
	if lo >= tl-w+1 { // the window straddles a 2^32 boundary: lo is from the previous epoch
		if th == 0 {
			return 0, false
		}
		return uint64(th-1)<<32 | uint64(lo), true
	}
	return uint64(th)<<32 | uint64(lo), true
}

// check reports whether seq is new and inside or ahead of the window.
func (r *replayWindow) check(seq uint64) bool {
	if seq == 0 { // sequence numbers start at 1 (RFC 4303 section 3.3.3)
		return false
	}
	if seq > r.top {
		return true
	}
	if r.top-seq >= r.size {
		return false
	}
	return r.bits[(seq>>6)&r.mask]&(1<<(seq&63)) == 0
}

// update marks seq as received, sliding the window if it is ahead. Call
// it only after the packet's integrity was verified.
func (r *replayWindow) update(seq uint64) {
	if seq > r.top {
		cur, next := r.top>>6, seq>>6
		diff := next - cur
		if diff > uint64(len(r.bits)) {
			diff = uint64(len(r.bits))
		}
		for i := uint64(1); i <= diff; i++ {
			r.bits[(cur+i)&r.mask] = 0
		}
		r.top = seq
	}
	r.bits[(seq>>6)&r.mask] |= 1 << (seq & 63)
}
