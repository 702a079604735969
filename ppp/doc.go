// Package ppp is the PPP layer of l2tpsecd: the Point-to-Point Protocol that
// runs inside an L2TP session once IKE and ESP have protected the path.
//
// It implements, for the server (authenticator) role and a client role used
// by tests and the load generator:
//
//   - RFC 1661: the option-negotiation automaton (Automaton), shared by LCP and
//     IPCP, and LCP itself (MRU, ACCM, authentication protocol, magic number,
//     PFC/ACFC, echo keepalive, Terminate, Code-Reject, Protocol-Reject);
//   - RFC 1662: only what L2TP keeps of it: the optional address/control bytes
//     FF 03 in front of the protocol field (no HDLC framing, no ACCM escaping);
//   - RFC 1570: Identification and Time-Remaining (accepted and ignored), and
//     Configure-Reject of callback;
//   - RFC 1990: Configure-Reject of MRRU, short sequence numbers and the
//     endpoint discriminator (no multilink);
//   - RFC 1334 (PAP), RFC 1994 (CHAP with MD5), RFC 2759 (MS-CHAPv2, with the
//     math from layeh.com/radius/rfc2759); RFC 2433 (MS-CHAPv1) only in that
//     the server never offers it and Naks a peer that asks for it;
//   - RFC 1332 (IPCP) and RFC 1877 (DNS and NBNS/WINS addresses);
//   - RFC 3748 (EAP): pass-through only. When EAP is among the configured
//     methods the server asks for the identity and relays every EAP packet
//     to and from the back end (RADIUS EAP-Message/State), knowing no EAP
//     method itself; otherwise EAP frames are Protocol-Rejected. The client
//     role answers Identity and MD5-Challenge.
//
// Where frames come from is not this package's business: the server feeds
// every PPP frame of an L2TP session to Session.Input and gives the session an
// output function. Authentication back ends are reached through the
// Authenticator interface, addresses through AddressProvider.
//
// Using it: NewSession(Config{...}) when the L2TP session is established,
// Start, then Input for every PPP frame of that session and WriteIP for
// every IP packet routed to the peer; Config.Output sends frames down (it
// gets a buffer with headroom for the L2TP/ESP headers), Config.Handler
// hears LinkUp, AuthDone (accept or reject, for the audit log), NetworkUp
// (route the address), NetworkDown, Down(reason) and every inbound IP
// packet. LowerDown when L2TP goes away, Close(reason) to hang up. The
// Example shows a Session and a Client talking in memory.
//
// Decisions worth knowing:
//   - PFC and ACFC requested by the peer are accepted: Input parses compressed
//     and uncompressed headers alike, so acknowledging them costs nothing, and
//     refusing them only adds a round trip. We never compress what we send.
//   - IPV6CP, CCP/MPPE (encryption is IPsec's job), IPXCP, BACP and every
//     unknown protocol are answered with an LCP Protocol-Reject. IPV6CP is not
//     negotiated yet; the automaton is ready for an IPV6CP handler.
//   - Nak of a Configure-Request turns into Reject after Max-Failure Naks, as
//     RFC 1661 section 4.6 prescribes, so a stubborn peer cannot loop forever.
package ppp
