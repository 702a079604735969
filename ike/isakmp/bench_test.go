package isakmp

import (
	"testing"
)

// quickModeBody is a Windows-shaped Quick Mode 1 body: HASH, SA with three
// ESP proposals, NONCE, two IDs, two NAT-OA.
func quickModeBody(b testing.TB) (PayloadType, []byte) {
	p2 := Phase2{Encapsulation: EncapUDPTransport, Auth: AuthAlgHMACSHA1, KeyLength: 256, LifeSeconds: 3600, LifeKilobytes: 250000}
	sa := &SA{DOI: DOIIPsec, Situation: SituationIdentityOnly}
	for i := 0; i < 3; i++ {
		sa.Proposals = append(sa.Proposals, Proposal{Number: uint8(i + 1), Protocol: ProtoESP, SPI: []byte{1, 2, 3, byte(i)},
			Transforms: []Transform{{Number: 1, ID: uint8(ESPAESCBC), Attributes: p2.Attributes()}}})
	}
	body, first, err := MarshalBody([]Payload{
		&Hash{Data: make([]byte, 20)}, sa, &Nonce{Data: make([]byte, 32)},
		NewIDAddr(mustAddr("192.168.1.10"), 17, 1701), NewIDAddr(mustAddr("203.0.113.5"), 17, 1701),
		NewNATOA(mustAddr("192.168.1.10"), false), NewNATOA(mustAddr("198.51.100.7"), false),
	})
	if err != nil {
		b.Fatal(err)
	}
	return first, append(body, make([]byte, 12)...)
}

// BenchmarkParseMainModeSA parses Windows 10's Main Mode 1 (SA with five
// transforms, eight vendor IDs).
func BenchmarkParseMainModeSA(b *testing.B) {
	raw := unhex(b, windows10MM1)
	b.ReportAllocs()
	b.SetBytes(int64(len(raw)))
	for b.Loop() {
		if _, err := Parse(raw); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkParseQuickMode parses a decrypted Quick Mode 1 body.
func BenchmarkParseQuickMode(b *testing.B) {
	first, body := quickModeBody(b)
	b.ReportAllocs()
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		if _, err := ParseBody(first, body); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkMarshalQuickMode encodes the same Quick Mode body.
func BenchmarkMarshalQuickMode(b *testing.B) {
	first, body := quickModeBody(b)
	parsed, err := ParseBody(first, body)
	if err != nil {
		b.Fatal(err)
	}
	buf := make([]byte, 0, 1024)
	b.ReportAllocs()
	for b.Loop() {
		if buf, _, err = AppendPayloads(buf[:0], parsed.Payloads); err != nil {
			b.Fatal(err)
		}
	}
}

// TestUDP4500NoAlloc: the per-datagram demultiplexing allocates nothing.
func TestUDP4500NoAlloc(t *testing.T) {
	pkt := append([]byte{0, 0, 0, 0}, make([]byte, HeaderLen)...)
	esp := []byte{1, 2, 3, 4, 0, 0, 0, 1, 0, 0}
	n := testing.AllocsPerRun(100, func() {
		ClassifyUDP4500(pkt)
		ClassifyUDP4500(esp)
		StripNonESPMarker(pkt)
	})
	if n != 0 {
		t.Errorf("%v allocations per datagram", n)
	}
}
