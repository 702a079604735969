// Package vpnclient is a simulated L2TP/IPsec client, the far end of what
// l2tpsecd serves, built from the project's own protocol packages in their
// initiator roles: IKEv1 Main Mode + Quick Mode with a pre-shared key (ike),
// ESP in UDP (esp, user space), an L2TP LAC that dials a tunnel and places one
// incoming call (l2tp), and a PPP client with LCP, PAP/CHAP-MD5/MS-CHAPv2 and
// IPCP (ppp). The load generator (cmd/l2tpsec-load) runs many of them in one
// process; tests use one to reach a daemon end to end.
//
// Protocols, as the packages below implement them:
//   - RFC 2409 (IKEv1), RFC 3947 (NAT-T negotiation) and RFC 3948 (UDP
//     encapsulation of ESP), RFC 4303 (ESP);
//   - RFC 3193 (L2TP over IPsec: transport mode protecting UDP/1701);
//   - RFC 2661 (L2TPv2, LAC side: SCCRQ/SCCRP/SCCCN, ICRQ/ICRP/ICCN,
//     CDN, StopCCN);
//   - RFC 1661 (PPP/LCP), RFC 1334 (PAP), RFC 1994 (CHAP-MD5), RFC 2759
//     (MS-CHAPv2), RFC 1332 and RFC 1877 (IPCP with DNS).
//
// # Outer addresses
//
// Every client owns two UDP sockets on ephemeral ports of its local address:
// one for IKE to port 500 and one (the ESP datapath's) for IKE and ESP to
// port 4500. It tells the IKE engine that it sends from port 500, which is
// exactly what a NAT does to a client: the server's NAT-D hash of the source
// it saw differs from the client's, both ends detect the NAT, float to 4500
// and use ESP in UDP. So N clients from ONE source address look to the server
// like N devices behind one NAT (distinct NAT mappings, every one sending
// L2TP from port 1701 inside its own SA pair), and no client needs port 500
// or CAP_NET_RAW. A client that really is behind a NAT behaves the same way.
//
// # Timings
//
// Dial measures each phase on the injected clock: IKE phase 1 (message 1 to
// the IKE SA), phase 2 (Quick Mode), the L2TP tunnel (SCCRQ to SCCCN), the
// L2TP session (ICRQ to ICCN), LCP, user authentication and IPCP. A failed
// Dial returns a *SetupError naming the phase and a reason suitable as a
// metric label.
package vpnclient
