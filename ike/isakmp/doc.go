// Package isakmp is the ISAKMP/IKEv1 wire format used by l2tpsecd's IKE
// responder and initiator: headers, payload chains, SA proposals with their
// data attributes, vendor IDs, NAT-T payloads and IKEv1 fragments. It holds
// no state and does no cryptography; package ike builds the exchanges on it.
//
// Implemented: RFC 2408 (ISAKMP), RFC 2407 (IPsec DOI), RFC 2409 (IKE
// attributes and padding), RFC 3947 and draft-ietf-ipsec-nat-t-ike-02/03
// (NAT-D and NAT-OA in both numberings, UDP encapsulation modes 3/4 and
// 61443/61444), RFC 3948 (non-ESP marker and NAT keepalive on UDP/4500),
// RFC 3706 (DPD notify types and vendor ID), RFC 4754 (ECDSA auth methods),
// draft-dukes-ike-mode-cfg (ATTR payload, round-trip only) and the
// Cisco/Microsoft IKEv1 fragmentation payload (132).
//
// # Decoding
//
//   - Parse decodes a cleartext message (Main Mode 1-4, unencrypted
//     Informational). It copies the datagram once; slices in the result
//     alias that copy.
//   - For an encrypted message: ParseHeader, decrypt the returned body,
//     then ParseBody(h.NextPayload, plaintext). Padding after the chain is
//     ignored and Body.Len says where the chain ended. ParseBody aliases its
//     input.
//   - Body.Raw[i] is payload i's body as received (no generic header): the
//     SAi_b and IDii_b that RFC 2409 hashes.
//   - Errors are *ParseError wrapping a sentinel (errors.Is works);
//     NotifyFor(err) gives the notify type to answer with
//     (PAYLOAD-MALFORMED, DOI-NOT-SUPPORTED, BAD-PROPOSAL-SYNTAX, ...).
//     Malformed input never panics.
//   - Find[*SA](msg.Payloads) / FindAll[*NATD](...) pick payloads by type.
//
// # Encoding
//
//   - (*Message).Marshal encodes a cleartext message and fixes NextPayload
//     and Length.
//   - For an encrypted one: MarshalBody(payloads) -> (body, first); pad and
//     encrypt body; set h.NextPayload = first and h.Flags |= FlagEncryption;
//     h.MarshalHeader(ciphertext).
//   - Attributes: NumAttr picks the basic (TV) form when the value fits 16
//     bits and a 4-byte TLV otherwise; NumAttrTLV forces the TLV form;
//     Attribute.Uint reads either.
//
// # Other pieces
//
//   - ClassifyVendorID / VendorID: names for the vendor IDs real L2TP/IPsec
//     clients send (see ../shared/CLIENTS.md), suffix-tolerant.
//   - IsNonESPMarker, StripNonESPMarker, IsNATKeepalive: demultiplexing of
//     UDP/4500.
//   - Reassembler and SplitFragments: IKEv1 fragmentation, bounded, on an
//     injected clock.
//   - Summary and Dump: the Oakley-style trace ("MM (SA, VID, VID)",
//     "QM *(HASH, SA, NON, ID, ID)") and a verbose, secret-free dump.
//   - Phase1Attributes / Phase2Attributes: typed views of a transform, and
//     Phase1/Phase2.Attributes to build one.
//   - NewIDAddr/NewIDSubnet/NewIDFQDN, NewNATOA, NewDeleteISAKMP,
//     NewDeleteESP, NewNotify, NewDPD (with Notify.DPDSequence), and
//     NATDigest for NAT-D hashes.
//
// # Limits
//
// A chain holds at most MaxPayloads payloads; every length is checked
// before use; a proposal's transform count must match; an SA must use the
// IPsec DOI and the identity-only situation. The reassembler bounds
// fragments per message, bytes per message, messages per peer and overall,
// and bytes held overall.
package isakmp
