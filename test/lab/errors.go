package lab

import (
	"errors"
	"strconv"
)

// Errors of the lab.
var (
	// ErrUnsupported: the combination of parameters is not implemented.
	ErrUnsupported = errors.New("lab: unsupported")
	// ErrGuestExited: the guest's User-Mode Linux process is gone.
	ErrGuestExited = errors.New("lab: guest exited")
	// ErrNotConnected: the client has no PPP address.
	ErrNotConnected = errors.New("lab: client not connected")
	// ErrIPsec: the IPsec SA did not come up.
	ErrIPsec = errors.New("lab: IPsec negotiation failed")
	// ErrPPP: L2TP/PPP did not bring up ppp0 with an address.
	ErrPPP = errors.New("lab: L2TP/PPP did not come up")
)

// ExitError is a guest command that exited non-zero.
type ExitError struct {
	Command string
	Code    int
	Output  string
}

func (e *ExitError) Error() string {
	return "lab: guest command exited " + strconv.Itoa(e.Code) + ": " + e.Command + "\n" + e.Output
}
