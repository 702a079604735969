// Package esp is the IPsec ESP half of l2tpsecd: security associations
// (keys, anti-replay window, lifetimes, counters), user-space ESP
// encapsulation and decapsulation in transport mode, and the datapath that
// moves ESP between the network and the server (ESP-in-UDP on port 4500 and
// raw ESP, sharded across per-CPU workers).
//
// RFCs implemented:
//   - RFC 4303 (ESP): packet format, sequence numbers (no wrap; the SA must
//     be rekeyed), anti-replay window (Appendix A2, bitmap kept as a ring of
//     64-bit blocks as in RFC 6479), extended sequence numbers (Appendix A3),
//     monotonic padding (section 2.4) and its check on receipt;
//   - RFC 3948: UDP encapsulation of ESP on port 4500, the non-ESP marker
//     that tells IKE from ESP, NAT keepalives, transport-mode checksum rules;
//   - RFC 3602 (AES-CBC), RFC 2451 (3DES-CBC and DES-CBC) with explicit IVs;
//   - RFC 2403 (HMAC-MD5-96), RFC 2404 (HMAC-SHA1-96), RFC 4868
//     (HMAC-SHA2-256-128, -384-192, -512-256), plus the pre-RFC 4868
//     HMAC-SHA2-256-96 that old Android clients send;
//   - RFC 4106 (AES-GCM for ESP: key||salt keying material, 8-byte explicit
//     IV from the sequence counter, 12- and 16-byte ICVs).
//
// Algorithms are named by the IKEv1 numbers the IKE engine negotiates (RFC
// 2407 section 4.4.4 ESP transform IDs and section 4.5 Authentication
// Algorithm attribute values, extended by RFC 4868), so its output can be
// passed straight into Config.
//
// Layers: SA (sa.go, replay.go) is socket-free and allocation-free per
// packet; the Datapath interface (datapath.go) has a user-space
// implementation on real sockets (userspace.go) and an in-memory one for
// tests (memory.go). A kernel XFRM backend is not built yet: this host has
// no kernel ESP to exercise it.
package esp
