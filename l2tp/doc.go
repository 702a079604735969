// Package l2tp implements L2TP version 2 (RFC 2661) as the L2TP Network
// Server (LNS) of an L2TP/IPsec concentrator, plus the L2TP Access
// Concentrator (LAC) role for tests and the load generator.
//
// It covers the wire format (header, every RFC 2661 section 4.4 AVP, hidden
// AVPs of section 4.3, and the PPP Disconnect Cause Code AVP of RFC 3145 for
// parsing), the control connection with reliable delivery (section 5.8 and
// Appendices A and B: Ns/Nr, retransmission with capped exponential backoff,
// delayed ZLB acknowledgements, receive windows with slow start and
// congestion avoidance, duplicate and out-of-order handling), tunnel and
// session establishment and teardown (sections 5.1 to 5.7 and 7), tunnel
// authentication by Challenge/Challenge Response, HELLO keepalives, and the
// data channel with and without the optional length, sequence and offset
// fields. Ports follow RFC 3193: replies go to the port the peer used.
//
// The package knows nothing of IPsec or PPP. The caller feeds datagrams that
// arrived inside an ESP SA to Endpoint.Input together with a Peer key that
// identifies that SA pair (never the outer address: several clients behind
// one NAT all use UDP port 1701), and sends what the endpoint produces
// through the Sender it injected.
//
// # Concurrency
//
// Endpoint.Input may be called from any number of goroutines at once (one
// per datapath shard). Each tunnel has one lock that serialises its control
// state; the endpoint's tunnel table has its own read-mostly lock, and the
// two are never held in the order endpoint-then-tunnel. The data fast path
// takes only read locks and a per-session sequencing lock, and does not
// allocate. Timers run on the injected clock and take the tunnel lock.
//
// Handler callbacks of one tunnel (SessionUp, SessionDown, TunnelDown) are
// delivered one at a time and in order, never with a lock held, by whichever
// goroutine produced them (Input, a timer, or a Close call); a callback may
// call back into the package (Session.Close, Session.SendPPP, ...), and any
// callbacks that call produces are delivered after it returns. SessionData is
// called directly by the goroutine running Input.
//
// Sender.SendL2TP is called with the tunnel lock held: it must not call back
// into the Endpoint, and it must not retain the datagram after returning.
package l2tp
