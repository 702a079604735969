// Package ike is the IKEv1 engine of l2tpsecd: key derivation and the
// Main Mode / Quick Mode / Informational state machines for the responder
// (and an initiator for tests and the load generator), proposal policy,
// NAT traversal, dead peer detection and the Oakley-style trace.
//
// The wire format lives in package ike/isakmp; this package owns the
// cryptography and the state.
//
// RFCs implemented:
//   - RFC 2409 (IKE): Main Mode with pre-shared keys (section 5.4), Quick
//     Mode (section 5.5), key derivation (section 5, Appendix B);
//   - RFC 2408 (ISAKMP) and RFC 2407 (IPsec DOI): SA negotiation,
//     informational exchanges (Notify, Delete), INITIAL-CONTACT;
//   - RFC 4109 (algorithms for IKEv1), RFC 4868 (HMAC-SHA2 in IPsec),
//     RFC 4106 (AES-GCM ESP keys with salt), RFC 3602 (AES-CBC);
//   - RFC 2412 / RFC 3526 (MODP groups 1, 2, 5, 14, 15, 16, 18) and
//     RFC 5903 (ECP groups 19, 20, 21; the shared secret is the
//     x-coordinate only, section 9, as Windows requires);
//   - RFC 3947 and draft-ietf-ipsec-nat-t-ike-02/03 (NAT-D, NAT-OA, float
//     to UDP/4500), RFC 3948 (UDP encapsulation modes);
//   - RFC 3706 (DPD: R-U-THERE / R-U-THERE-ACK);
//   - RFC 3193 (L2TP over IPsec: transport mode protecting UDP/1701).
//
// An Engine owns IKE SAs keyed by cookies. It is socket-free: packets come
// in through Engine.HandlePacket and leave through an injected Transport;
// results leave through an injected Events; all timers run on an injected
// clock.Clock.
package ike
