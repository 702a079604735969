package ppp

import (
	"log/slog"
	"net/netip"
)

// Session is the server (authenticator) side of one PPP link, created by the
// server when an L2TP session comes up. It is safe for concurrent use: the
// data path (Input of IP frames, WriteIP) takes no lock, the control path
// serialises on an internal mutex, and timers and back-end callbacks may
// arrive from other goroutines.
type Session struct {
	l link
}

// NewSession returns a session; call Start to begin LCP.
func NewSession(cfg Config) *Session {
	s := &Session{}
	s.l.init(roleServer, cfg)
	return s
}

// Start begins negotiation (the lower layer is up; LCP sends its request).
func (s *Session) Start() { s.l.start() }

// Input processes one PPP frame, with or without FF 03. Errors report
// malformed or unexpected input, already counted; the caller drops the
// frame. IP packets are handed to Handler.IP as a sub-slice of frame,
// without allocation.
func (s *Session) Input(frame []byte) error { return s.l.input(frame) }

// WriteIP sends the IP packet buf[start:] to the peer, writing FF 03 00 21
// into buf[start-4:start]. It does not allocate.
func (s *Session) WriteIP(buf []byte, start int) error { return s.l.writeIP(buf, start) }

// Close terminates the link (LCP Terminate-Request); Handler.Down(r)
// follows when the peer acknowledges or the retries run out.
func (s *Session) Close(r Reason) { s.l.close(r) }

// LowerDown tells the session that the L2TP session is gone: it ends at once
// (Handler.Down with ReasonLowerDown unless a reason was already set).
func (s *Session) LowerDown() { s.l.lowerDown() }

// SetTrace switches the PPP negotiation trace on (non-nil) or off (nil).
func (s *Session) SetTrace(t *slog.Logger) { s.l.setTrace(t) }

// Counters returns the session's live counters.
func (s *Session) Counters() *Counters { return &s.l.ctr }

// NetworkUp reports whether IPCP is open (IP may flow).
func (s *Session) NetworkUp() bool { return s.l.netUp.Load() }

// Info is a snapshot of a session for the control API.
type Info struct {
	Phase     Phase
	LCP, IPCP State
	User      string
	Auth      AuthMethod
	PeerAddr  netip.Addr
	PeerMRU   uint16
	Reason    Reason
}

// Info returns a snapshot.
func (s *Session) Info() Info { return s.l.info() }

func (l *link) info() Info {
	l.mu.Lock()
	defer l.unlock()
	in := Info{Phase: l.phase, LCP: l.lcp.State(), IPCP: l.ipcp.State(), User: l.user,
		PeerMRU: l.lcpH.peerMRU, Reason: l.reason}
	if l.role == roleServer {
		in.Auth = l.lcpH.authMethod()
		if l.netUp.Load() {
			in.PeerAddr = l.ipcpH.peer
		}
	} else {
		in.User = l.cfg.User
		in.Auth = l.lcpH.peerAuth
		if l.netUp.Load() {
			in.PeerAddr = l.ipcpH.local
		}
	}
	return in
}

// Client is the peer (client) side of a PPP link: LCP, PAP/CHAP-MD5/
// MS-CHAPv2 as the authenticatee, and IPCP asking for an address and DNS.
// Tests and the load generator use it.
type Client struct {
	l link
}

// NewClient returns a client; call Start to begin LCP.
func NewClient(cfg Config) *Client {
	c := &Client{}
	c.l.init(roleClient, cfg)
	return c
}

// Start begins negotiation.
func (c *Client) Start() { c.l.start() }

// Input processes one PPP frame from the server.
func (c *Client) Input(frame []byte) error { return c.l.input(frame) }

// WriteIP sends the IP packet buf[start:] to the server.
func (c *Client) WriteIP(buf []byte, start int) error { return c.l.writeIP(buf, start) }

// Close terminates the link.
func (c *Client) Close(r Reason) { c.l.close(r) }

// LowerDown tells the client that the tunnel is gone.
func (c *Client) LowerDown() { c.l.lowerDown() }

// SetTrace switches the negotiation trace on or off.
func (c *Client) SetTrace(t *slog.Logger) { c.l.setTrace(t) }

// Counters returns the client's live counters.
func (c *Client) Counters() *Counters { return &c.l.ctr }

// Info returns a snapshot; PeerAddr is the client's own address.
func (c *Client) Info() Info { return c.l.info() }

// DNS returns the DNS and WINS servers the server gave.
func (c *Client) DNS() (dns, wins [2]netip.Addr) {
	c.l.mu.Lock()
	defer c.l.unlock()
	return c.l.ipcpH.dns, c.l.ipcpH.wins
}
