// Package interop holds the lab tests that run real L2TP/IPsec clients
// (strongSwan or Libreswan with xl2tpd and pppd in User-Mode Linux guests,
// see package test/lab) against servers: first against SoftEther VPN Server,
// the reference that tells "our server is wrong" from "the lab is broken"
// (RFC 3193 L2TP/IPsec, RFC 2409 IKEv1, RFC 3948 NAT-T, RFC 2759 MS-CHAPv2).
package interop
