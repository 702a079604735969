package isakmp

import (
	"bytes"
	"errors"
	"math/rand/v2"
	"net/netip"
	"testing"
	"time"

	"github.com/l2tpsecd/l2tpsecd/internal/clock"
)

var t0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

func fragHeader(i byte) *Header {
	return &Header{InitiatorCookie: Cookie{i, 1}, ResponderCookie: Cookie{i, 2}, Exchange: ExchangeMainMode}
}

// splitParsed splits msg and parses each fragment message back.
func splitParsed(t *testing.T, msg []byte, id uint16, size int) ([]*Header, []*Fragment) {
	t.Helper()
	raw, err := SplitFragments(msg, id, size)
	if err != nil {
		t.Fatal(err)
	}
	var hs []*Header
	var fs []*Fragment
	for _, r := range raw {
		if len(r) > size {
			t.Fatalf("fragment of %d bytes exceeds %d", len(r), size)
		}
		m, err := Parse(r)
		if err != nil {
			t.Fatal(err)
		}
		if m.NextPayload != PayloadFragment || m.Flags != 0 || len(m.Payloads) != 1 {
			t.Fatalf("fragment message %+v", m.Header)
		}
		f := m.Payloads[0].(*Fragment)
		hs = append(hs, &m.Header)
		fs = append(fs, f)
	}
	return hs, fs
}

// bigMessage is an encrypted-looking Main Mode message with a certificate.
func bigMessage(t *testing.T, n int) []byte {
	t.Helper()
	h := Header{InitiatorCookie: Cookie{7, 1}, ResponderCookie: Cookie{7, 2}, Exchange: ExchangeMainMode, Flags: FlagEncryption, NextPayload: PayloadID}
	body := make([]byte, n)
	for i := range body {
		body[i] = byte(i * 7)
	}
	b, err := h.MarshalHeader(body)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestFragmentRoundTripAnyOrder(t *testing.T) {
	msg := bigMessage(t, 3000)
	hs, fs := splitParsed(t, msg, 5, 576)
	if len(fs) < 6 || !fs[len(fs)-1].Last() || fs[0].Last() || fs[0].Number != 1 {
		t.Fatalf("%d fragments, last flags wrong", len(fs))
	}
	if hs[0].InitiatorCookie != (Cookie{7, 1}) || hs[0].Exchange != ExchangeMainMode {
		t.Errorf("fragment header %+v", hs[0])
	}
	rng := rand.New(rand.NewPCG(3, 4))
	for trial := 0; trial < 50; trial++ {
		r := NewReassembler(clock.NewFake(t0), ReassemblerConfig{})
		peer := netip.MustParseAddrPort("198.51.100.1:4500")
		order := rng.Perm(len(fs))
		// Duplicate a few fragments (retransmissions).
		order = append(order, order[:trial%len(order)]...)
		var got []byte
		for i, k := range order {
			out, err := r.Add(peer, hs[k], fs[k])
			if err != nil {
				t.Fatal(err)
			}
			if out != nil {
				if got != nil || i != len(fs)-1 {
					t.Fatalf("completed twice or early at step %d", i)
				}
				got = out
			}
		}
		if !bytes.Equal(got, msg) {
			t.Fatalf("trial %d: reassembled %d bytes, want %d", trial, len(got), len(msg))
		}
		// The completed message is forgotten; the duplicates that followed
		// started nothing that can complete without fragment 1..n again.
		if _, err := Parse(got); !errors.Is(err, ErrEncrypted) {
			t.Fatalf("reassembled message does not parse as the original: %v", err)
		}
	}
}

func TestFragmentSingle(t *testing.T) {
	msg := bigMessage(t, 100)
	hs, fs := splitParsed(t, msg, 1, 1500)
	if len(fs) != 1 || !fs[0].Last() {
		t.Fatal("want one last fragment")
	}
	r := NewReassembler(clock.NewFake(t0), ReassemblerConfig{})
	out, err := r.Add(netip.AddrPort{}, hs[0], fs[0])
	if err != nil || !bytes.Equal(out, msg) || r.Len() != 0 {
		t.Fatalf("single fragment: %v, %d in progress", err, r.Len())
	}
}

func TestFragmentBounds(t *testing.T) {
	peer := netip.MustParseAddrPort("198.51.100.1:500")
	h := fragHeader(1)
	clk := clock.NewFake(t0)
	r := NewReassembler(clk, ReassemblerConfig{MaxFragments: 8, MaxBytes: 100, MaxPerPeer: 2, MaxTotal: 3, Timeout: 10 * time.Second})

	if _, err := r.Add(peer, h, &Fragment{ID: 1, Number: 0}); !errors.Is(err, ErrFragment) {
		t.Errorf("fragment 0: %v", err)
	}
	if _, err := r.Add(peer, h, &Fragment{ID: 1, Number: 9}); !errors.Is(err, ErrFragmentLimit) {
		t.Errorf("fragment 9 of max 8: %v", err)
	}
	// Too many bytes drops the message.
	r.Add(peer, h, &Fragment{ID: 2, Number: 1, Data: make([]byte, 60)})
	if _, err := r.Add(peer, h, &Fragment{ID: 2, Number: 2, Data: make([]byte, 60)}); !errors.Is(err, ErrFragmentLimit) || r.Len() != 0 {
		t.Errorf("over MaxBytes: %v, %d left", err, r.Len())
	}
	// Two different last fragments, or one beyond the last.
	r.Add(peer, h, &Fragment{ID: 3, Number: 3, Flags: FragLast})
	if _, err := r.Add(peer, h, &Fragment{ID: 3, Number: 4, Flags: FragLast}); !errors.Is(err, ErrFragment) {
		t.Errorf("two lasts: %v", err)
	}
	r.Add(peer, h, &Fragment{ID: 4, Number: 2, Flags: FragLast})
	if _, err := r.Add(peer, h, &Fragment{ID: 4, Number: 3}); !errors.Is(err, ErrFragment) {
		t.Errorf("after last: %v", err)
	}
	r.Add(peer, h, &Fragment{ID: 5, Number: 5})
	if _, err := r.Add(peer, h, &Fragment{ID: 5, Number: 3, Flags: FragLast}); !errors.Is(err, ErrFragment) {
		t.Errorf("last before a seen fragment: %v", err)
	}
	if r.Len() != 0 {
		t.Fatalf("%d reassemblies left after errors", r.Len())
	}

	// Per peer: the third message evicts the peer's oldest.
	for id := uint16(10); id < 13; id++ {
		if _, err := r.Add(peer, h, &Fragment{ID: id, Number: 1}); err != nil {
			t.Fatal(err)
		}
	}
	if r.Len() != 2 {
		t.Errorf("per-peer bound: %d in progress, want 2", r.Len())
	}
	if out, _ := r.Add(peer, h, &Fragment{ID: 10, Number: 2, Flags: FragLast}); out != nil {
		t.Error("evicted message completed")
	}
	// Overall: a third peer's message is refused while 3 are in progress.
	r2 := NewReassembler(clk, ReassemblerConfig{MaxTotal: 2})
	for i := byte(1); i <= 2; i++ {
		r2.Add(netip.AddrPortFrom(netip.AddrFrom4([4]byte{198, 51, 100, i}), 500), h, &Fragment{ID: 1, Number: 1})
	}
	if _, err := r2.Add(netip.MustParseAddrPort("198.51.100.9:500"), h, &Fragment{ID: 1, Number: 1}); !errors.Is(err, ErrFragmentCapacity) {
		t.Errorf("overall bound: %v", err)
	}
}

func TestFragmentTotalBytes(t *testing.T) {
	r := NewReassembler(clock.NewFake(t0), ReassemblerConfig{MaxTotalBytes: 100, MaxPerPeer: 10})
	peer := netip.MustParseAddrPort("198.51.100.1:500")
	h := fragHeader(1)
	r.Add(peer, h, &Fragment{ID: 1, Number: 1, Data: make([]byte, 60)})
	if _, err := r.Add(peer, h, &Fragment{ID: 2, Number: 1, Data: make([]byte, 60)}); !errors.Is(err, ErrFragmentCapacity) {
		t.Errorf("over MaxTotalBytes: %v", err)
	}
	if r.Len() != 1 || r.Held() != 60 {
		t.Errorf("%d reassemblies holding %d bytes, want 1 and 60", r.Len(), r.Held())
	}
	out, err := r.Add(peer, h, &Fragment{ID: 1, Number: 2, Flags: FragLast, Data: make([]byte, 40)})
	if err != nil || len(out) != 100 || r.Held() != 0 || r.Len() != 0 {
		t.Errorf("completion: %d bytes, %v, %d held", len(out), err, r.Held())
	}
}

func TestFragmentExpiryAndIsolation(t *testing.T) {
	clk := clock.NewFake(t0)
	r := NewReassembler(clk, ReassemblerConfig{Timeout: 10 * time.Second})
	a := netip.MustParseAddrPort("198.51.100.1:4500")
	b := netip.MustParseAddrPort("198.51.100.2:4500")
	h := fragHeader(1)
	r.Add(a, h, &Fragment{ID: 1, Number: 1, Data: []byte("he")})
	// Another peer's fragment with the same cookies and ID does not join.
	if out, _ := r.Add(b, h, &Fragment{ID: 1, Number: 2, Flags: FragLast, Data: []byte("llo")}); out != nil {
		t.Fatal("fragment from another peer completed the message")
	}
	// Other cookies, same ID: separate message too.
	if out, _ := r.Add(a, fragHeader(2), &Fragment{ID: 1, Number: 2, Flags: FragLast, Data: []byte("llo")}); out != nil {
		t.Fatal("fragment with other cookies completed the message")
	}
	clk.Advance(9 * time.Second)
	if out, err := r.Add(a, h, &Fragment{ID: 1, Number: 2, Flags: FragLast, Data: []byte("llo")}); err != nil || string(out) != "hello" {
		t.Fatalf("within timeout: %q %v", out, err)
	}
	r.Add(a, h, &Fragment{ID: 2, Number: 1, Data: []byte("x")})
	clk.Advance(10 * time.Second)
	r.Expire()
	if r.Len() != 0 || r.Held() != 0 {
		t.Errorf("%d reassemblies holding %d bytes after expiry", r.Len(), r.Held())
	}
	if out, _ := r.Add(a, h, &Fragment{ID: 2, Number: 2, Flags: FragLast, Data: []byte("y")}); out != nil {
		t.Error("expired fragment 1 was used")
	}
}

func TestSplitFragmentsErrors(t *testing.T) {
	if _, err := SplitFragments(make([]byte, 10), 1, 500); !errors.Is(err, ErrShort) {
		t.Errorf("short: %v", err)
	}
	if _, err := SplitFragments(bigMessage(t, 100), 1, fragOverhead); !errors.Is(err, ErrFragmentMTU) {
		t.Errorf("tiny mtu: %v", err)
	}
	if _, err := SplitFragments(bigMessage(t, 3000), 1, fragOverhead+10); !errors.Is(err, ErrFragmentMTU) {
		t.Errorf("more than 255 fragments: %v", err)
	}
}

// TestReassemblerConcurrent: peers adding fragments from several goroutines
// each get their own messages back (run with -race).
func TestReassemblerConcurrent(t *testing.T) {
	r := NewReassembler(clock.NewFake(t0), ReassemblerConfig{})
	msg := bigMessage(t, 1000)
	done := make(chan error, 4)
	for g := 0; g < 4; g++ {
		go func(g int) {
			peer := netip.AddrPortFrom(netip.AddrFrom4([4]byte{198, 51, 100, byte(g)}), 4500)
			raw, err := SplitFragments(msg, uint16(g), 200)
			if err != nil {
				done <- err
				return
			}
			var got []byte
			for _, f := range raw {
				m, err := Parse(f)
				if err != nil {
					done <- err
					return
				}
				out, err := r.Add(peer, &m.Header, m.Payloads[0].(*Fragment))
				if err != nil {
					done <- err
					return
				}
				if out != nil {
					got = out
				}
			}
			if !bytes.Equal(got, msg) {
				done <- errors.New("wrong reassembly")
				return
			}
			done <- nil
		}(g)
	}
	for g := 0; g < 4; g++ {
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
}
