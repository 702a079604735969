package vpnclient

import (
	"errors"
	"fmt"
)

// Sentinel errors. SetupError wraps one of them (or a protocol package's
// error) so that callers can match with errors.Is.
var (
	ErrTimeout    = errors.New("vpnclient: timed out")
	ErrRejected   = errors.New("vpnclient: refused by the server")
	ErrClosed     = errors.New("vpnclient: client closed")
	ErrNotUp      = errors.New("vpnclient: network layer not up")
	ErrBadConfig  = errors.New("vpnclient: invalid configuration")
	ErrPacketSize = errors.New("vpnclient: IP packet too large")
	ErrPortInUse  = errors.New("vpnclient: ESP port held by another client")

	// The inner packet codec's errors.
	ErrShortPacket = errors.New("vpnclient: packet too short")
	ErrNotIPv4     = errors.New("vpnclient: not an IPv4 packet")
	ErrBadLength   = errors.New("vpnclient: IPv4 total length inconsistent")
	ErrNotEcho     = errors.New("vpnclient: not an ICMP echo")
)

// Phase is a step of connection setup, in the order they happen.
type Phase uint8

// Phases.
const (
	PhaseSocket      Phase = iota + 1 // opening sockets, before any packet
	PhaseIKE1                         // Main Mode
	PhaseIKE2                         // Quick Mode and SA install
	PhaseL2TPTunnel                   // SCCRQ, SCCRP, SCCCN
	PhaseL2TPSession                  // ICRQ, ICRP, ICCN
	PhaseLCP                          // link establishment
	PhaseAuth                         // PAP, CHAP-MD5 or MS-CHAPv2
	PhaseIPCP                         // address assignment
	numPhases
)

// Phases lists every setup phase in order.
var Phases = []Phase{PhaseSocket, PhaseIKE1, PhaseIKE2, PhaseL2TPTunnel, PhaseL2TPSession, PhaseLCP, PhaseAuth, PhaseIPCP}

func (p Phase) String() string {
	switch p {
	case PhaseSocket:
		return "socket"
	case PhaseIKE1:
		return "ike_phase1"
	case PhaseIKE2:
		return "ike_phase2"
	case PhaseL2TPTunnel:
		return "l2tp_tunnel"
	case PhaseL2TPSession:
		return "l2tp_session"
	case PhaseLCP:
		return "ppp_lcp"
	case PhaseAuth:
		return "ppp_auth"
	case PhaseIPCP:
		return "ppp_ipcp"
	}
	return fmt.Sprintf("phase(%d)", uint8(p))
}

// SetupError is why Dial failed: the phase that did not complete and a short
// reason (an ike, l2tp or ppp reason name, or "timeout") usable as a metric
// label.
type SetupError struct {
	Phase  Phase
	Reason string
	Err    error
}

func (e *SetupError) Error() string {
	return fmt.Sprintf("vpnclient: %s failed (%s): %v", e.Phase, e.Reason, e.Err)
}

func (e *SetupError) Unwrap() error { return e.Err }
