// Package ike is the IKEv1 engine of l2tpsecd: key derivation and the
// Main Mode / Quick Mode / Informational state machines for the responder
// (and an initiator for tests and the load generator), proposal policy,
// NAT traversal, dead peer detection and the Oakley-style trace.
//
// The wire format lives in package ike/isakmp; this package owns the
// cryptography and the state.
//
// RFCs implemented:
//   - RFC 2409 (IKE): Main Mode with pre-shared keys (section 5.4) and with
//     signatures (section 5.1; RSA, and ECDSA per RFC 4754, with the RFC
//     4945 identity checks), Quick Mode (section 5.5), key derivation
//     (section 5, Appendix B);
//   - RFC 2408 (ISAKMP) and RFC 2407 (IPsec DOI): SA negotiation,
//     informational exchanges (Notify, Delete), INITIAL-CONTACT,
//     RESPONDER-LIFETIME;
//   - RFC 4109 (algorithms for IKEv1), RFC 4868 (HMAC-SHA2 in IPsec),
//     RFC 4106 (AES-GCM ESP keys with salt), RFC 3602 (AES-CBC);
//   - RFC 2412 / RFC 3526 (MODP groups 1, 2, 5, 14, 15, 16) and RFC 5903
//     (ECP groups 19, 20, 21; the shared secret is the x-coordinate only,
//     section 9, as Windows requires);
//   - RFC 3947 and draft-ietf-ipsec-nat-t-ike-02/03 (NAT-D, NAT-OA, float
//     to UDP/4500), RFC 3948 (UDP encapsulation modes);
//   - RFC 3706 (DPD: R-U-THERE / R-U-THERE-ACK);
//   - RFC 3193 (L2TP over IPsec: transport mode protecting UDP/1701).
//
// # Using the engine
//
// An Engine owns IKE SAs keyed by cookies. It is socket-free: the caller
// reads UDP/500 and UDP/4500, strips the non-ESP marker from 4500
// datagrams (isakmp.StripNonESPMarker; ESP goes to the datapath) and calls
// Engine.HandlePacket with the datagram and both addresses. Replies leave
// through the injected Transport (which adds the marker on 4500); results
// leave through the injected Events:
//
//	eng := ike.NewEngine(ike.Config{Policy: ike.Policy{Level: ike.LevelModern},
//		PSKs: []ike.PSK{{Key: secret}}}, transport, events, clock.Real{}, logger, ike.NewMetrics(reg))
//	...
//	err := eng.HandlePacket(pkt, local, remote) // count and drop on error
//
// Events.Phase2Established hands over a ChildSA: both directions' SPIs and
// keys, already split into cipher key (with the GCM salt) and integrity
// key, the transform numbers as negotiated, the encapsulation and the
// addresses. Failures carry a *Failure whose Reason is the audit log's
// reason and a metric label, and which lists what the client offered when
// no proposal was acceptable. The datapath should call Engine.Touch now and
// then for SAs that carry traffic, so DPD probes only idle peers.
//
// All timers (half-open expiry, lifetimes, DPD, the initiator's
// retransmissions) run on the injected clock.Clock, so tests advance a
// clock.Fake instead of sleeping. Certificate chains are verified through
// the CertVerifier interface (the crl package's checker behind an adapter)
// outside the engine's lock, since a CRL fetch may take time.
package ike
