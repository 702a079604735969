package crl

import (
	"context"
	"crypto/x509"
	"math/big"
	"testing"
	"time"

	"github.com/l2tpsecd/l2tpsecd/crl/crltest"
	"github.com/l2tpsecd/l2tpsecd/internal/clock"
)

// BenchmarkVerifyCached is the cost of one certificate verification with a
// chain through an intermediate and both CRLs in the memory cache (the
// common case once the server runs): x509 path building plus two cached
// lookups.
func BenchmarkVerifyCached(b *testing.B) {
	clk := newBenchClock()
	root := must(crltest.NewRoot("Bench Root", crltest.Options{NotBefore: t0.AddDate(-1, 0, 0)}))
	dir := b.TempDir()
	rootCRL, interCRL := dir+"/root.crl", dir+"/inter.crl"
	inter := must(root.Intermediate("Bench Inter", crltest.Options{NotBefore: t0.AddDate(-1, 0, 0), CRLURLs: []string{"file://" + rootCRL}}))
	leaf := must(inter.Leaf("bench", crltest.Options{NotBefore: t0.Add(-time.Hour), CRLURLs: []string{"file://" + interCRL}}))
	var many []crltest.Revoked
	for i := range 1000 {
		many = append(many, crltest.Revoked{Serial: big.NewInt(int64(i + 1)), Time: t0})
	}
	if err := crltest.WriteCRL(rootCRL, must(root.CRL(crltest.CRLOptions{ThisUpdate: t0})), false); err != nil {
		b.Fatal(err)
	}
	if err := crltest.WriteCRL(interCRL, must(inter.CRL(crltest.CRLOptions{ThisUpdate: t0, Revoked: many})), false); err != nil {
		b.Fatal(err)
	}
	c, err := New(Config{Mode: ModeStrict, Roots: []*x509.Certificate{root.Cert}, Clock: clk})
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	sent := []*x509.Certificate{inter.Cert}
	if res, err := c.Verify(context.Background(), leaf.Cert, sent); err != nil || res.Reason != ReasonOK {
		b.Fatalf("%v %v", res.Reason, err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.Verify(context.Background(), leaf.Cert, sent); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkLookup is one serial lookup in a 10 000-entry CRL.
func BenchmarkLookup(b *testing.B) {
	crl := bigCRL(b, 10000)
	serial := big.NewInt(7777)
	b.ReportAllocs()
	for b.Loop() {
		if _, ok := crl.Lookup(serial); !ok {
			b.Fatal("not found")
		}
	}
}

// BenchmarkParseCRL10k is parsing and indexing a 10 000-entry CRL (once
// per fetch).
func BenchmarkParseCRL10k(b *testing.B) {
	der := bigCRL(b, 10000).List.Raw
	b.SetBytes(int64(len(der)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ParseCRL(der, "bench"); err != nil {
			b.Fatal(err)
		}
	}
}

func bigCRL(b *testing.B, n int) *CRL {
	ca := must(crltest.NewRoot("Bench CA", crltest.Options{NotBefore: t0.AddDate(-1, 0, 0)}))
	entries := make([]crltest.Revoked, n)
	for i := range entries {
		entries[i] = crltest.Revoked{Serial: big.NewInt(int64(i + 1)), Time: t0, Reason: i % 6}
	}
	return must(ParseCRL(must(ca.CRL(crltest.CRLOptions{ThisUpdate: t0, Revoked: entries})), "bench"))
}

func newBenchClock() *fixedClock { return &fixedClock{} }

// fixedClock reads t0 + 1 min and schedules nothing that fires, so the
// benchmark runs on a stable time without a Fake's bookkeeping.
type fixedClock struct{}

func (*fixedClock) Now() time.Time { return t0.Add(time.Minute) }

func (*fixedClock) AfterFunc(time.Duration, func()) clock.Timer { return stoppedTimer{} }

type stoppedTimer struct{}

func (stoppedTimer) Stop() bool               { return false }
func (stoppedTimer) Reset(time.Duration) bool { return false }
