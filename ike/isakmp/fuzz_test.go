package isakmp

import (
	"bytes"
	"errors"
	"math/rand/v2"
	"net/netip"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/l2tpsecd/l2tpsecd/internal/clock"
	"github.com/l2tpsecd/l2tpsecd/internal/testutil"
)

// fuzzSeeds are well-formed messages: the Windows 10 MM1, generated
// messages of every payload kind, and (when the shared test data is there)
// every IKE packet of the Openswan capture.
func fuzzSeeds(f *testing.F) [][]byte {
	seeds := [][]byte{unhex(f, windows10MM1)}
	g := gen{rand.New(rand.NewPCG(5, 6))}
	for kind := 0; kind < payloadKinds; kind++ {
		m := &Message{Header: Header{Exchange: ExchangeQuickMode, MessageID: 1}}
		m.Payloads = []Payload{g.payload(kind), g.payload((kind + 1) % payloadKinds)}
		b, err := m.Marshal()
		if err != nil {
			f.Fatal(err)
		}
		seeds = append(seeds, b)
	}
	// testutil.SharedTestdata would skip the whole target when the data is
	// missing; the generated seeds suffice then.
	p := filepath.Join(testutil.RepoRoot(f), "..", "shared", "testdata", "ferozbaig96__isakmp.pcap")
	if _, err := os.Stat(p); err == nil {
		for _, d := range readPcapUDP(f, p) {
			if d.src.Port() == PortIKE || d.dst.Port() == PortIKE {
				seeds = append(seeds, d.payload)
			}
		}
	}
	return seeds
}

// FuzzParse: no input panics; whatever parses re-marshals to the same
// bytes and parses to the same payloads; errors carry a notify type.
func FuzzParse(f *testing.F) {
	for _, s := range fuzzSeeds(f) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := Parse(data)
		if err != nil {
			if NotifyFor(err) == 0 {
				t.Fatalf("error without a notify type: %v", err)
			}
			return
		}
		out, err := m.Marshal()
		if err != nil {
			t.Fatalf("parsed message does not marshal: %v", err)
		}
		m2, err := Parse(out)
		if err != nil {
			t.Fatalf("re-marshalled message does not parse: %v", err)
		}
		if !reflect.DeepEqual(m.Payloads, m2.Payloads) {
			t.Fatal("payloads change across a round trip")
		}
		// Reserved bytes are the only thing Marshal may normalise, so the
		// lengths must agree.
		if len(out) != len(data) {
			t.Fatalf("re-marshal is %d bytes, input %d", len(out), len(data))
		}
		_ = m.Summary()
		_ = m.Dump()
		for _, p := range m.Payloads {
			touchAccessors(p)
		}
	})
}

// FuzzParseBody: decrypted bodies, with any first payload type.
func FuzzParseBody(f *testing.F) {
	for _, s := range fuzzSeeds(f) {
		if len(s) > HeaderLen {
			f.Add(s[16], s[HeaderLen:])
		}
	}
	f.Fuzz(func(t *testing.T, first byte, body []byte) {
		b, err := ParseBody(PayloadType(first), body)
		if err != nil {
			return
		}
		if b.Len > len(body) || len(b.Raw) != len(b.Payloads) {
			t.Fatalf("Len %d of %d, %d raw for %d payloads", b.Len, len(body), len(b.Raw), len(b.Payloads))
		}
		out, _, err := MarshalBody(b.Payloads)
		if err != nil {
			t.Fatal(err)
		}
		if len(out) != b.Len {
			t.Fatalf("re-marshalled chain is %d bytes, parsed chain %d", len(out), b.Len)
		}
		for _, p := range b.Payloads {
			touchAccessors(p)
		}
	})
}

// touchAccessors calls every accessor that interprets payload data.
func touchAccessors(p Payload) {
	switch v := p.(type) {
	case *SA:
		v.ProposalGroups()
		for _, pr := range v.Proposals {
			for i := range pr.Transforms {
				Phase1Attributes(&pr.Transforms[i])
				Phase2Attributes(&pr.Transforms[i])
			}
		}
	case *ID:
		v.Addr()
		v.Subnet()
		v.Range()
		v.FQDN()
		v.DN()
	case *NATOA:
		v.Addr()
	case *Notify:
		v.DPDSequence()
		v.ResponderLifetime()
	case *Delete:
		v.ESPSPIs()
	case *VendorIDPayload:
		v.Kind()
		VendorIDVersion(v.Data)
	}
}

// FuzzReassemble feeds fragments built from fuzz bytes: each record is
// peer(1) id(1) number(1) flags(1) len(1). Fragment n carries len bytes of
// value n, so a completed message must read as non-decreasing runs of
// fragment numbers. Nothing panics and the bounds hold.
func FuzzReassemble(f *testing.F) {
	f.Add([]byte{0, 1, 1, 0, 3, 0, 1, 2, 1, 2})
	f.Add([]byte{0, 1, 2, 1, 1, 0, 1, 1, 0, 1, 0, 1, 1, 0, 1})
	f.Add([]byte{1, 9, 1, 1, 0, 2, 9, 3, 0, 0, 2, 9, 1, 0, 4, 2, 9, 2, 0, 0, 2, 9, 4, 1, 0})
	f.Fuzz(func(t *testing.T, data []byte) {
		clk := clock.NewFake(t0)
		cfg := ReassemblerConfig{MaxFragments: 16, MaxBytes: 512, MaxPerPeer: 2, MaxTotal: 4, MaxTotalBytes: 1024, Timeout: time.Second}
		r := NewReassembler(clk, cfg)
		h := fragHeader(1)
		for ; len(data) >= 5; data = data[5:] {
			peerB, id, num, flags, n := data[0]%4, uint16(data[1]%4), data[2], data[3], int(data[4])
			if peerB == 3 {
				clk.Advance(300 * time.Millisecond)
			}
			peer := netip.AddrPortFrom(netip.AddrFrom4([4]byte{198, 51, 100, peerB}), 500)
			out, err := r.Add(peer, h, &Fragment{ID: id, Number: num, Flags: flags, Data: bytes.Repeat([]byte{num}, n)})
			if err != nil {
				if !errors.Is(err, ErrFragment) && !errors.Is(err, ErrFragmentLimit) && !errors.Is(err, ErrFragmentCapacity) {
					t.Fatalf("unexpected error %v", err)
				}
				continue
			}
			if r.Len() > cfg.MaxTotal || r.Held() > cfg.MaxTotalBytes || r.Held() < 0 {
				t.Fatalf("%d reassemblies holding %d bytes, bounds %d and %d", r.Len(), r.Held(), cfg.MaxTotal, cfg.MaxTotalBytes)
			}
			if len(out) > cfg.MaxBytes {
				t.Fatalf("message of %d bytes, bound %d", len(out), cfg.MaxBytes)
			}
			for i, b := range out {
				if b == 0 || int(b) > cfg.MaxFragments || (i > 0 && b < out[i-1]) {
					t.Fatalf("reassembled out of order: %v", out)
				}
			}
		}
	})
}
