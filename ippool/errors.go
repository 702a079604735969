package ippool

import (
	"errors"
	"fmt"
	"net/netip"
)

var (
	ErrBadConfig     = errors.New("ippool: bad configuration")
	ErrBadRange      = errors.New("ippool: bad range")
	ErrOverlap       = errors.New("ippool: pools overlap")
	ErrUnknownPool   = errors.New("ippool: unknown pool")
	ErrPoolExhausted = errors.New("ippool: pool exhausted")
	ErrAddressInUse  = errors.New("ippool: address in use")
	ErrNoLease       = errors.New("ippool: no lease on address")
	ErrNotOwner      = errors.New("ippool: lease held by another owner")
	ErrOwnerHasLease = errors.New("ippool: owner already holds another lease")
	ErrNoOwner       = errors.New("ippool: request has no owner")
	ErrNotIPv4       = errors.New("ippool: not an IPv4 address")
	ErrClosed        = errors.New("ippool: manager closed")
)

// ExhaustedError says which pool had no free address. It matches
// ErrPoolExhausted with errors.Is.
type ExhaustedError struct{ Pool string }

func (e *ExhaustedError) Error() string { return fmt.Sprintf("ippool: pool %q exhausted", e.Pool) }

// Unwrap makes errors.Is(err, ErrPoolExhausted) true.
func (e *ExhaustedError) Unwrap() error { return ErrPoolExhausted }

// InUseError says who holds a static address that was asked for. It matches
// ErrAddressInUse with errors.Is.
type InUseError struct {
	Addr  netip.Addr
	Owner string
	User  string
}

func (e *InUseError) Error() string {
	return fmt.Sprintf("ippool: %s is leased to %q (session %q)", e.Addr, e.User, e.Owner)
}

// Unwrap makes errors.Is(err, ErrAddressInUse) true.
func (e *InUseError) Unwrap() error { return ErrAddressInUse }
