package esp

import (
	crand "crypto/rand"
	"math/rand/v2"
)

// Scratch is per-goroutine state for Seal and Open: a fast random source
// for CBC IVs and scratch space for nonces, additional data and MACs, so
// that the per-packet path allocates nothing (slices of a stack array
// passed to an interface method would escape to the heap). A Scratch must
// not be used by two goroutines at once.
type Scratch struct {
	// rng is ChaCha8, a CSPRNG (math/rand/v2 documents it as
	// cryptographically strong) seeded from crypto/rand: CBC IVs must be
	// unpredictable (RFC 3602 section 2.1), and reading crypto/rand for
	// every packet would cost a system call or a lock.
	rng   *rand.ChaCha8
	nonce [12]byte
	aad   [12]byte
	seqHi [4]byte
	sum   [64]byte
}

// NewScratch returns a Scratch seeded from crypto/rand.
func NewScratch() *Scratch {
	var seed [32]byte
	crand.Read(seed[:])
	return &Scratch{rng: rand.NewChaCha8(seed)}
}
