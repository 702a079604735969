// Package auth checks the PPP user credentials of l2tpsecd sessions and
// records their accounting. It defines the interfaces the server uses
// (Authenticator, asynchronous so that a slow back end never blocks a
// caller, and Accounter) and the local users file back end (Users). The
// RADIUS back end (RFC 2865, 2866, 2869, 5176) will join it.
//
// Methods: PAP (RFC 1334), CHAP with MD5 (RFC 1994) and MS-CHAPv2 (RFC
// 2759, including the authenticator response of section 8.7), computed with
// layeh.com/radius/rfc2759 where it has the helper. A user may be stored
// with the cleartext password or only its NT hash (MD4 of the UTF-16LE
// password, RFC 2759 section 8.3): the hash suffices for MS-CHAPv2 and PAP;
// CHAP-MD5 needs the password and is refused for hash-only users with
// ReasonMethodUnavailable.
//
// # The users file
//
// users.toml is read strictly: an unknown key, a wrong type or a bad value
// is an error naming the file, the line and the key. A file holding
// cleartext passwords must not be readable by group or others (chmod 600);
// Reload replaces the table atomically and keeps the old one when the new
// file is broken.
//
//	# /etc/l2tpsecd/users.toml (mode 0600)
//
//	[users.alice]
//	password = "correct horse battery staple"
//	address = "10.10.0.50"          # optional static address
//
//	[users.bob]
//	# MD4 of the UTF-16LE password; no CHAP-MD5 for bob
//	nt_hash = "44EBBA8D5312B8D611474411F56989AE"
//	pool = "staff"                  # optional pool name
//
//	[users."DOMAIN-less name with spaces"]
//	password = "x"
//	enabled = false                 # default true
//
// A name sent as "DOMAIN\user" (Windows) matches "user" when there is no
// entry for the full name; MS-CHAPv2 hashes the name without the domain, as
// RFC 2759 section 8.2 says. NTHashHex computes an nt_hash value.
package auth
