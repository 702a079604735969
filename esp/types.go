package esp

import "strconv"

// EncrAlg is an ESP encryption transform ID as negotiated in IKEv1 (RFC
// 2407 section 4.4.4; IANA "IPsec ESP Transform Identifiers").
type EncrAlg uint16

// ESP transform IDs this package implements.
const (
	EncrDES      EncrAlg = 2  // ESP_DES, RFC 2405 (insecure; only behind an explicit switch)
	Encr3DES     EncrAlg = 3  // ESP_3DES, RFC 2451
	EncrNull     EncrAlg = 11 // ESP_NULL, RFC 2410 (tests only)
	EncrAESCBC   EncrAlg = 12 // ESP_AES-CBC, RFC 3602
	EncrAESGCM8  EncrAlg = 18 // ESP_AES-GCM with an 8-octet ICV, RFC 4106 (not supported: Go's GCM needs tags of 12+ bytes)
	EncrAESGCM12 EncrAlg = 19 // ESP_AES-GCM with a 12-octet ICV, RFC 4106
	EncrAESGCM16 EncrAlg = 20 // ESP_AES-GCM with a 16-octet ICV, RFC 4106
)

func (e EncrAlg) String() string {
	switch e {
	case EncrDES:
		return "DES-CBC"
	case Encr3DES:
		return "3DES-CBC"
	case EncrNull:
		return "NULL"
	case EncrAESCBC:
		return "AES-CBC"
	case EncrAESGCM8:
		return "AES-GCM-8"
	case EncrAESGCM12:
		return "AES-GCM-12"
	case EncrAESGCM16:
		return "AES-GCM-16"
	}
	return "EncrAlg(" + strconv.Itoa(int(e)) + ")"
}

// IsAEAD reports whether the transform provides integrity itself.
func (e EncrAlg) IsAEAD() bool {
	return e == EncrAESGCM8 || e == EncrAESGCM12 || e == EncrAESGCM16
}

// AuthAlg is the IKEv1 phase-2 Authentication Algorithm attribute value
// (RFC 2407 section 4.5; values 5-7 from RFC 4868 section 2.3 / IANA).
type AuthAlg uint16

// Authentication algorithms this package implements.
const (
	AuthNone       AuthAlg = 0 // no separate integrity (AEAD ciphers, or tests)
	AuthHMACMD5    AuthAlg = 1 // HMAC-MD5-96, RFC 2403
	AuthHMACSHA1   AuthAlg = 2 // HMAC-SHA1-96, RFC 2404
	AuthHMACSHA256 AuthAlg = 5 // HMAC-SHA2-256-128, RFC 4868 (or -96, see ICV96Mode)
	AuthHMACSHA384 AuthAlg = 6 // HMAC-SHA2-384-192, RFC 4868
	AuthHMACSHA512 AuthAlg = 7 // HMAC-SHA2-512-256, RFC 4868
)

func (a AuthAlg) String() string {
	switch a {
	case AuthNone:
		return "none"
	case AuthHMACMD5:
		return "HMAC-MD5-96"
	case AuthHMACSHA1:
		return "HMAC-SHA1-96"
	case AuthHMACSHA256:
		return "HMAC-SHA2-256-128"
	case AuthHMACSHA384:
		return "HMAC-SHA2-384-192"
	case AuthHMACSHA512:
		return "HMAC-SHA2-512-256"
	}
	return "AuthAlg(" + strconv.Itoa(int(a)) + ")"
}

// ICV96Mode says how an HMAC-SHA2-256 SA treats the 96-bit truncation that
// Android 6/7 used before RFC 4868 fixed it at 128 bits (CLIENTS.md).
type ICV96Mode uint8

// ICV96Mode values. The zero value is ICV96Auto.
const (
	// ICV96Auto starts at 128 bits; if no inbound packet has yet passed
	// the 128-bit check and one passes a 96-bit check, the SA (and, through
	// the datapath, its outbound twin) switches to 96 bits for good.
	ICV96Auto ICV96Mode = iota
	// ICV96Off is strict RFC 4868: 128 bits only.
	ICV96Off
	// ICV96On uses 96 bits from the start (configured per peer).
	ICV96On
)

func (m ICV96Mode) String() string {
	switch m {
	case ICV96Auto:
		return "auto"
	case ICV96Off:
		return "off"
	case ICV96On:
		return "on"
	}
	return "ICV96Mode(" + strconv.Itoa(int(m)) + ")"
}

// Proto is an IP protocol number (IANA "Assigned Internet Protocol
// Numbers"), as found in the ESP Next Header field.
type Proto uint8

// Protocol numbers the datapath meets.
const (
	ProtoICMP   Proto = 1
	ProtoIPv4   Proto = 4 // tunnel mode (not used by L2TP/IPsec)
	ProtoTCP    Proto = 6
	ProtoUDP    Proto = 17
	ProtoIPv6   Proto = 41
	ProtoESP    Proto = 50
	ProtoNoNext Proto = 59 // dummy packet, RFC 4303 section 2.6
)

func (p Proto) String() string {
	switch p {
	case ProtoICMP:
		return "ICMP"
	case ProtoIPv4:
		return "IPv4"
	case ProtoTCP:
		return "TCP"
	case ProtoUDP:
		return "UDP"
	case ProtoIPv6:
		return "IPv6"
	case ProtoESP:
		return "ESP"
	case ProtoNoNext:
		return "NoNext"
	}
	return "Proto(" + strconv.Itoa(int(p)) + ")"
}

// Direction tells an inbound SA (we decrypt) from an outbound one.
type Direction uint8

// Directions.
const (
	Inbound Direction = iota + 1
	Outbound
)

func (d Direction) String() string {
	switch d {
	case Inbound:
		return "inbound"
	case Outbound:
		return "outbound"
	}
	return "Direction(" + strconv.Itoa(int(d)) + ")"
}

// EventKind is what an SA reports to its owner through Config.OnEvent.
type EventKind uint8

// Event kinds. Each fires at most once per SA.
const (
	EventSoftTime      EventKind = iota + 1 // soft time lifetime reached: rekey
	EventSoftBytes                          // soft byte lifetime reached: rekey
	EventHardTime                           // hard time lifetime reached: SA unusable, delete
	EventHardBytes                          // hard byte lifetime reached: SA unusable, delete
	EventSeqSoft                            // outbound sequence number nears 2^32: rekey
	EventSeqExhausted                       // outbound sequence numbers used up: SA unusable
	EventICV96Detected                      // inbound HMAC-SHA2-256 switched to 96-bit ICVs
)

func (k EventKind) String() string {
	switch k {
	case EventSoftTime:
		return "soft-time"
	case EventSoftBytes:
		return "soft-bytes"
	case EventHardTime:
		return "hard-time"
	case EventHardBytes:
		return "hard-bytes"
	case EventSeqSoft:
		return "seq-soft"
	case EventSeqExhausted:
		return "seq-exhausted"
	case EventICV96Detected:
		return "icv96-detected"
	}
	return "EventKind(" + strconv.Itoa(int(k)) + ")"
}

// Encap is how an SA's packets travel.
type Encap uint8

// Encapsulations.
const (
	EncapRaw Encap = iota + 1 // IP protocol 50
	EncapUDP                  // UDP/4500, RFC 3948
)

func (e Encap) String() string {
	switch e {
	case EncapRaw:
		return "esp"
	case EncapUDP:
		return "udp-encap"
	}
	return "Encap(" + strconv.Itoa(int(e)) + ")"
}
