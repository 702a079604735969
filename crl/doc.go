// Package crl validates the X.509 certificates that IKEv1 peers authenticate
// with and checks them for revocation against CRLs, with the three
// strong_crl_check modes of the Windows 2000 RRAS/IPsec policy agent that
// l2tpsecd reproduces (see Mode).
//
// Standards:
//   - RFC 5280: certification path validation (section 6, done by
//     crypto/x509 with the options described on Checker.Verify), the CRL
//     profile (section 5: thisUpdate/nextUpdate, CRL entry reason codes of
//     section 5.3.1, the Delta CRL Indicator of 5.2.4 and the Freshest CRL
//     extension of 5.2.6), CRL distribution points (4.2.1.13).
//   - RFC 4945 (the PKI profile for IKE/IPsec): end-entity certificates are
//     accepted whatever their extended key usage (5.1.3.12), key usage must
//     allow signatures when present (5.1.3.2), every certificate of the
//     chain except the trust anchor is checked for revocation, HTTP-based
//     CRL retrieval, and the ID payload checks against the certificate
//     (3.1: MatchesDN, MatchesFQDN, MatchesUserFQDN, MatchesIP).
//   - RFC 2585: CRLs served over HTTP as DER (PEM is accepted too, since many
//     CAs publish it).
//
// Chain validation: the leaf must chain to one of the configured roots
// through intermediates that the peer sent (CERT payloads) or that the
// configuration names; validity dates are checked at the injected clock's
// time, basic constraints, path length and name constraints by crypto/x509.
// Extended key usage is not restricted (x509.ExtKeyUsageAny): the Microsoft
// L2TP/IPsec client authenticates IPsec with a *user* certificate that often
// carries only clientAuth, or no EKU at all, and RFC 4945 5.1.3.12 tells
// IKE implementations not to insist on a particular EKU. The key usage
// extension, when present, must allow digitalSignature or nonRepudiation.
//
// Revocation: every certificate of the chain except the root is looked up
// in the CRLs of its issuer, found at the certificate's CRL distribution
// points (http://, https:// and file://; ldap:// is reported as
// crl_unsupported_scheme) and in CRL files named in the configuration. A CRL
// counts as the issuer's only when its issuer name equals the certificate's
// issuer name and its signature verifies with the issuer's key; indirect
// CRLs (a cRLIssuer other than the certificate's issuer) are therefore
// treated as "issued by someone else". The Issuing Distribution Point
// extension is not interpreted (partitioned CRLs are treated as complete).
// Decide holds the whole mode x situation table as a pure function.
//
// Delta CRLs are applied (RFC 5280 5.2.4, 6.3.3): the issuer's delta CRL
// is read from the Freshest CRL extension of the complete CRL or of the
// certificate, and used when its base CRL number is not above the complete
// CRL's number. Its entries revoke (removeFromCRL releases a hold of the
// complete CRL) and its validity window decides freshness, so a complete
// CRL past its nextUpdate with a current delta is current. A delta that
// cannot be applied (unreachable, someone else's, bad signature, expired,
// or on a newer base: crl_base_too_old) is tolerated in mode 1 and fatal in
// mode 2. A delta CRL found where a complete CRL was expected proves a
// revocation and nothing else (crl_delta_without_base).
//
// Several sources: one current, correctly signed CRL of the issuer
// suffices, even when another distribution point of the same certificate
// is down; a listing in any CRL of the issuer revokes. A certificate with
// no distribution point and no configured CRL of its issuer is accepted in
// mode 1 (crl_no_source) and refused in mode 2.
//
// Fetching: one fetch per URL at a time (concurrent negotiations share it),
// bounded by a timeout on the injected clock and a size limit; a failed
// fetch is not retried for a back-off period so a dead distribution point
// costs each negotiation nothing. CRLs are cached in memory and on disk
// (one file per URL under <state_dir>/crl, written atomically), used until
// their nextUpdate, and refreshed in the background before they expire (at
// 80% of the validity by default) while they are in use. A CRL that cannot
// be refreshed is kept: in mode 1 it still proves revocation; in mode 2 it
// fails with crl_expired once past its nextUpdate.
package crl
