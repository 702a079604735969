package isakmp

import (
	"bytes"
	"encoding/hex"
	"strconv"
)

// VendorID names a known Vendor ID payload value.
type VendorID uint8

// Known vendor IDs. Most are MD5 hashes of a string; some carry a version or
// capability suffix, which ClassifyVendorID ignores (see VendorIDVersion).
const (
	VendorUnknown VendorID = iota
	VendorRFC3947
	VendorNATTDraft00
	VendorNATTDraft02
	VendorNATTDraft02N // draft-ietf-ipsec-nat-t-ike-02 with the trailing "\n"
	VendorNATTDraft03
	VendorDPD
	VendorFragmentation
	VendorMSNT5 // "MS NT5 ISAKMPOAKLEY" + 4-byte Windows version
	VendorMSInitialContact
	VendorMSNegotiationDiscovery
	VendorMSCGA
	VendorMSKeyMods // Windows KEY_MODS (IKE 0 / AuthIP 1 / IKEv2 2) + 4 bytes
	VendorMSAuthIP  // "MS-MamieExists": AuthIP supported
	VendorCiscoUnity
	VendorXAUTH
	VendorStrongSwan
	VendorLibreswan // "OE-Libreswan-<version>" in ASCII
	VendorOpenswan  // "OSW" + 9 printable characters
	vendorCount
)

var vendorNames = [vendorCount]string{
	VendorUnknown: "Unknown", VendorRFC3947: "RFC 3947", VendorNATTDraft00: "draft-ietf-ipsec-nat-t-ike-00",
	VendorNATTDraft02: "draft-ietf-ipsec-nat-t-ike-02", VendorNATTDraft02N: "draft-ietf-ipsec-nat-t-ike-02\\n",
	VendorNATTDraft03: "draft-ietf-ipsec-nat-t-ike-03", VendorDPD: "Dead Peer Detection (RFC 3706)",
	VendorFragmentation: "FRAGMENTATION", VendorMSNT5: "MS NT5 ISAKMPOAKLEY",
	VendorMSInitialContact: "MS Vid-Initial-Contact", VendorMSNegotiationDiscovery: "MS-Negotiation Discovery Capable",
	VendorMSCGA: "IKE CGA version 1", VendorMSKeyMods: "MS Windows KEY_MODS", VendorMSAuthIP: "MS-MamieExists (AuthIP)",
	VendorCiscoUnity: "Cisco Unity", VendorXAUTH: "XAUTH", VendorStrongSwan: "strongSwan",
	VendorLibreswan: "Libreswan", VendorOpenswan: "Openswan",
}

func (v VendorID) String() string {
	if v < vendorCount {
		return vendorNames[v]
	}
	return "VendorID(" + strconv.Itoa(int(v)) + ")"
}

func mustHex(s string) []byte {
	b, err := hex.DecodeString(s)
	if err != nil {
		panic(err) // only reached with a bad literal in the table below
	}
	return b
}

// vendorPrefix is matched against the start of a vendor ID; suffixLen says
// how many extra bytes may follow (version or capability flags).
type vendorPrefix struct {
	id        VendorID
	prefix    []byte
	maxSuffix int
}

// vendorTable: exact hashes first; a few carry a suffix by design.
var vendorTable = []vendorPrefix{
	{VendorRFC3947, mustHex("4a131c81070358455c5728f20e95452f"), 0},
	{VendorNATTDraft03, mustHex("7d9419a65310ca6f2c179d9215529d56"), 0},
	{VendorNATTDraft02, mustHex("cd60464335df21f87cfdb2fc68b6a448"), 0},
	{VendorNATTDraft02N, mustHex("90cb80913ebb696e086381b5ec427b1f"), 0},
	{VendorNATTDraft00, mustHex("4485152d18b6bbcd0be8a8469579ddcc"), 0},
	// DPD is 14 bytes of hash plus major/minor version 1.0.
	{VendorDPD, mustHex("afcad71368a1f1c96b8696fc7757"), 2},
	// strongSwan appends 4 capability bytes; Windows sends the bare hash.
	{VendorFragmentation, mustHex("4048b7d56ebce88525e7de7f00d6c2d3"), 4},
	{VendorMSNT5, mustHex("1e2b516905991c7d7c96fcbfb587e461"), 4},
	{VendorMSInitialContact, mustHex("26244d38eddb61b3172a36e3d0cfb819"), 0},
	{VendorMSNegotiationDiscovery, mustHex("fb1de3cdf341b7ea16b7e5be0855f120"), 0},
	{VendorMSCGA, mustHex("e3a5966a76379fe707228231e5ce8652"), 0},
	{VendorMSKeyMods, mustHex("01528bbbc00696121849ab9a1c5b2a51"), 4},
	{VendorMSAuthIP, mustHex("214ca4faffa7f32d6748e5303395ae83"), 0},
	// Cisco Unity: md5("CISCO-UNITY") with the last two bytes replaced by
	// the version (1.0).
	{VendorCiscoUnity, mustHex("12f5f28c457168a9702d9fe274cc"), 2},
	// XAUTH: the first 8 bytes of md5("draft-ietf-ipsra-isakmp-xauth-06.txt").
	{VendorXAUTH, mustHex("09002689dfd6b712"), 0},
	{VendorStrongSwan, mustHex("882fe56d6fd20dbc2251613b2ebe5beb"), 0},
	{VendorLibreswan, []byte("OE-Libreswan-"), 64},
	{VendorOpenswan, []byte("OSW"), 9},
}

// ClassifyVendorID names a vendor ID, matching known prefixes and allowing
// the version or capability suffix each one may carry.
func ClassifyVendorID(data []byte) VendorID {
	for _, e := range vendorTable {
		if bytes.HasPrefix(data, e.prefix) && len(data)-len(e.prefix) <= e.maxSuffix {
			return e.id
		}
	}
	return VendorUnknown
}

// VendorIDVersion returns the bytes a known vendor ID carries after its
// fixed prefix: the Windows version of "MS NT5 ISAKMPOAKLEY" (9 for
// Windows 8 to 11), strongSwan's fragmentation capability flags, DPD's
// 1.0 version, Libreswan's version string.
func VendorIDVersion(data []byte) []byte {
	for _, e := range vendorTable {
		if bytes.HasPrefix(data, e.prefix) && len(data)-len(e.prefix) <= e.maxSuffix {
			return data[len(e.prefix):]
		}
	}
	return nil
}

// Bytes returns the canonical vendor ID this package sends for v (the
// form without optional suffixes where the suffix is optional), or nil.
func (v VendorID) Bytes() []byte {
	switch v {
	case VendorDPD:
		return append(mustHex("afcad71368a1f1c96b8696fc7757"), 1, 0)
	case VendorCiscoUnity:
		return append(mustHex("12f5f28c457168a9702d9fe274cc"), 1, 0)
	case VendorLibreswan, VendorOpenswan, VendorUnknown:
		return nil
	}
	for _, e := range vendorTable {
		if e.id == v {
			return append([]byte(nil), e.prefix...)
		}
	}
	return nil
}
