package l2tp

import (
	"strconv"
	"sync/atomic"
)

// DropReason says why an incoming datagram was dropped; it is a metric
// label.
type DropReason uint8

// Drop reasons.
const (
	DropMalformed      DropReason = iota // header or AVPs failed to parse
	DropUnknownTunnel                    // no tunnel with that ID
	DropUnknownSession                   // no session with that ID
	DropWrongPeer                        // tunnel ID belongs to another SA
	DropDuplicate                        // control duplicate (acknowledged again)
	DropOutOfWindow                      // control message beyond our receive window
	DropDataOutOfOrder                   // sequenced data older than expected
	DropSessionNotUp                     // data before SessionUp or after SessionDown
	DropUnexpected                       // message not valid in the tunnel's or session's state
	DropClosed                           // tunnel is closing
	NumDropReasons
)

var dropReasonNames = [NumDropReasons]string{
	"malformed", "unknown_tunnel", "unknown_session", "wrong_peer", "duplicate",
	"out_of_window", "data_out_of_order", "session_not_up", "unexpected", "closed",
}

func (r DropReason) String() string {
	if r < NumDropReasons {
		return dropReasonNames[r]
	}
	return "DropReason(" + strconv.Itoa(int(r)) + ")"
}

type counters struct {
	tunnels, sessions                 atomic.Int64
	tunnelsOpened, sessionsOpened     atomic.Uint64
	tunnelsRefused, sessionsRefused   atomic.Uint64
	controlRx, controlTx, retransmits atomic.Uint64
	zlbTx, helloTx, helloUnanswered   atomic.Uint64
	dataRx, dataTx                    atomic.Uint64
	drops                             [NumDropReasons]atomic.Uint64
	tunnelsClosed, sessionsClosed     [numReasons]atomic.Uint64
}

func (c *counters) drop(r DropReason) { c.drops[r].Add(1) }

// Stats is a snapshot of an Endpoint's counters, for the server's
// Prometheus collector.
type Stats struct {
	Tunnels, Sessions               int64 // currently allocated (set up or up)
	TunnelsOpened, SessionsOpened   uint64
	TunnelsRefused, SessionsRefused uint64 // refused with StopCCN / CDN at setup
	ControlRx, ControlTx            uint64 // control messages (not ZLBs), retransmissions included in Tx
	Retransmits                     uint64
	ZLBTx                           uint64
	HelloTx, HelloUnanswered        uint64
	DataRx, DataTx                  uint64
	Drops                           [NumDropReasons]uint64
	TunnelsClosed, SessionsClosed   [numReasons]uint64 // by Reason
}

func (c *counters) snapshot() Stats {
	s := Stats{
		Tunnels: c.tunnels.Load(), Sessions: c.sessions.Load(),
		TunnelsOpened: c.tunnelsOpened.Load(), SessionsOpened: c.sessionsOpened.Load(),
		TunnelsRefused: c.tunnelsRefused.Load(), SessionsRefused: c.sessionsRefused.Load(),
		ControlRx: c.controlRx.Load(), ControlTx: c.controlTx.Load(),
		Retransmits: c.retransmits.Load(), ZLBTx: c.zlbTx.Load(),
		HelloTx: c.helloTx.Load(), HelloUnanswered: c.helloUnanswered.Load(),
		DataRx: c.dataRx.Load(), DataTx: c.dataTx.Load(),
	}
	for i := range s.Drops {
		s.Drops[i] = c.drops[i].Load()
	}
	for i := range s.TunnelsClosed {
		s.TunnelsClosed[i] = c.tunnelsClosed[i].Load()
		s.SessionsClosed[i] = c.sessionsClosed[i].Load()
	}
	return s
}
