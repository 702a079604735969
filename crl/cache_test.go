package crl

import (
	"context"
	"crypto/x509"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/l2tpsecd/l2tpsecd/crl/crltest"
)

// A CRL is used from memory until it is refreshed in the background at 80%
// of its validity, on the fake clock; the refreshed CRL decides later
// verifications without another fetch.
func TestBackgroundRefresh(t *testing.T) {
	p := newPKI(t)
	leaf := p.leaf(p.root, "refresh", p.url("/r.crl"))
	p.dp.Set("/r.crl", p.crl(p.root, crltest.CRLOptions{ThisUpdate: t0, NextUpdate: t0.Add(time.Hour)}))
	c := p.checker(ModeStrict, nil)

	expect(t, "first", verify(t, c, leaf), Accept, ReasonOK)
	expect(t, "cached", verify(t, c, leaf), Accept, ReasonOK)
	if h := p.dp.Hits("/r.crl"); h != 1 {
		t.Fatalf("%d fetches, want 1 (the second verification uses the cache)", h)
	}
	// The CA revokes the certificate in its next CRL.
	p.dp.Set("/r.crl", p.crl(p.root, crltest.CRLOptions{ThisUpdate: t0.Add(40 * time.Minute), NextUpdate: t0.Add(100 * time.Minute),
		Revoked: []crltest.Revoked{crltest.Revoke(leaf, t0.Add(40*time.Minute), 1)}}))
	p.clk.Advance(47 * time.Minute)
	if h := p.dp.Hits("/r.crl"); h != 1 {
		t.Fatalf("refreshed before 80%% of the validity: %d fetches", h)
	}
	expect(t, "before the refresh", verify(t, c, leaf), Accept, ReasonOK)
	p.clk.Advance(2 * time.Minute) // 49 min: past 48 min = 80%
	if h := p.dp.Hits("/r.crl"); h != 2 {
		t.Fatalf("%d fetches after 80%% of the validity, want 2", h)
	}
	expect(t, "after the refresh", verify(t, c, leaf), Reject, ReasonRevoked)
	if h := p.dp.Hits("/r.crl"); h != 2 {
		t.Fatalf("%d fetches, want 2", h)
	}
	// The next refresh is armed for the new CRL (80% of 40..100 min = 88 min).
	p.clk.Advance(38 * time.Minute)
	if h := p.dp.Hits("/r.crl"); h != 2 {
		t.Fatalf("%d fetches at 87 min, want 2", h)
	}
	p.clk.Advance(2 * time.Minute)
	if h := p.dp.Hits("/r.crl"); h != 3 {
		t.Fatalf("%d fetches at 89 min, want the second refresh (due at 88 min)", h)
	}
	// It brought the same CRL: the next try halves the time left to
	// nextUpdate (88 + 12/2 = 94 min) instead of polling every minute.
	p.clk.Advance(4 * time.Minute)
	if h := p.dp.Hits("/r.crl"); h != 3 {
		t.Fatalf("%d fetches at 93 min, want 3", h)
	}
	p.clk.Advance(2 * time.Minute)
	if h := p.dp.Hits("/r.crl"); h != 4 {
		t.Fatalf("%d fetches at 95 min, want 4", h)
	}
}

// A CRL that fails to refresh is kept: in mode 2 it serves until its
// nextUpdate and then fails as crl_expired; in mode 1 a listing in it still
// revokes after it expired and the DP went away.
func TestRefreshFailureKeepsOldCRL(t *testing.T) {
	p := newPKI(t)
	good := p.leaf(p.root, "kept", p.url("/k.crl"))
	bad := p.leaf(p.root, "kept-revoked", p.url("/k.crl"))
	p.dp.Set("/k.crl", p.crl(p.root, crltest.CRLOptions{ThisUpdate: t0, NextUpdate: t0.Add(time.Hour),
		Revoked: []crltest.Revoked{crltest.Revoke(bad, t0, 1)}}))
	strict := p.checker(ModeStrict, func(cfg *Config) { cfg.RetryBackoff = 5 * time.Minute })
	soft := p.checker(ModeRevokedOnly, nil)
	expect(t, "strict first", verify(t, strict, good), Accept, ReasonOK)
	expect(t, "soft first", verify(t, soft, bad), Reject, ReasonRevoked)

	p.dp.SetStatus("/k.crl", http.StatusNotFound)
	p.clk.Advance(50 * time.Minute) // refreshes fail
	if h := p.dp.Hits("/k.crl"); h < 3 {
		t.Fatalf("%d fetches, want the refreshes of both checkers to have been tried", h)
	}
	expect(t, "strict, refresh failed, CRL still current", verify(t, strict, good), Accept, ReasonOK)
	p.clk.Advance(11 * time.Minute) // past nextUpdate
	res := verify(t, strict, good)
	expect(t, "strict, CRL expired, DP failing", res, Reject, ReasonCRLExpired)
	if !strings.Contains(res.Detail, "refresh failed") {
		t.Errorf("detail %q does not say the refresh failed", res.Detail)
	}
	expect(t, "soft, listed in an expired CRL, DP failing", verify(t, soft, bad), Reject, ReasonRevoked)
	expect(t, "soft, not listed, expired CRL", verify(t, soft, good), Accept, ReasonCRLExpired)
}

// The on-disk cache serves a new Checker (a restart) without a fetch.
func TestDiskCacheSurvivesRestart(t *testing.T) {
	p := newPKI(t)
	state := t.TempDir()
	leaf := p.leaf(p.root, "disk", p.url("/d.crl"))
	p.dp.Set("/d.crl", p.crl(p.root, crltest.CRLOptions{}))
	c1 := p.checker(ModeStrict, func(cfg *Config) { cfg.StateDir = state })
	expect(t, "first checker", verify(t, c1, leaf), Accept, ReasonOK)
	c1.Close()
	files, _ := filepath.Glob(filepath.Join(state, "crl", "*.crl"))
	if len(files) != 1 {
		t.Fatalf("disk cache files: %v", files)
	}
	if tmp, _ := filepath.Glob(filepath.Join(state, "crl", ".crl-*")); len(tmp) != 0 {
		t.Errorf("temporary files left: %v", tmp)
	}

	p.dp.SetStatus("/d.crl", http.StatusInternalServerError)
	c2 := p.checker(ModeStrict, func(cfg *Config) { cfg.StateDir = state })
	expect(t, "second checker, DP failing", verify(t, c2, leaf), Accept, ReasonOK)
	if h := p.dp.Hits("/d.crl"); h != 1 {
		t.Errorf("%d fetches, want 1: the second checker must read the disk cache", h)
	}

	// A corrupt cache file is ignored and the DP read.
	os.WriteFile(files[0], []byte("garbage"), 0o600)
	p.dp.Set("/d.crl", p.crl(p.root, crltest.CRLOptions{}))
	c3 := p.checker(ModeStrict, func(cfg *Config) { cfg.StateDir = state })
	expect(t, "corrupt cache", verify(t, c3, leaf), Accept, ReasonOK)
	if h := p.dp.Hits("/d.crl"); h != 2 {
		t.Errorf("%d fetches, want 2", h)
	}
}

// N concurrent verifications of certificates with the same DP share one
// fetch.
func TestSingleFlight(t *testing.T) {
	p := newPKI(t)
	const n = 8
	p.dp.SetHang("/s.crl")
	c := p.checker(ModeStrict, nil)
	leaves := make([]*crltest.Identity, n)
	for i := range leaves {
		leaves[i] = p.leaf(p.root, "sf", p.url("/s.crl"))
	}
	results := make([]*Result, n)
	var wg sync.WaitGroup
	for i := range leaves {
		wg.Go(func() { results[i], _ = c.Verify(context.Background(), leaves[i].Cert, nil) })
	}
	for c.f.waiters(p.url("/s.crl")) != n {
		runtime.Gosched()
		time.Sleep(time.Millisecond)
	}
	p.dp.Set("/s.crl", p.crl(p.root, crltest.CRLOptions{}))
	p.dp.Release()
	wg.Wait()
	if h := p.dp.Hits("/s.crl"); h != 1 {
		t.Errorf("%d fetches for %d concurrent verifications, want 1", h, n)
	}
	for i, r := range results {
		if r == nil || r.Outcome != Accept || r.Reason != ReasonOK {
			t.Errorf("verification %d: %+v", i, r)
		}
	}
}

// A distribution point that never answers costs one fetch timeout (on the
// injected clock), does not hold up verifications that need other CRLs,
// and is not asked again within the back-off period.
func TestSlowDistributionPoint(t *testing.T) {
	p := newPKI(t)
	p.dp.SetHang("/slow.crl")
	p.dp.Set("/fast.crl", p.crl(p.root, crltest.CRLOptions{}))
	slow := p.leaf(p.root, "slow", p.url("/slow.crl"))
	fast := p.leaf(p.root, "fast", p.url("/fast.crl"))
	for _, mode := range []Mode{ModeRevokedOnly, ModeStrict} {
		c := p.checker(mode, func(cfg *Config) { cfg.FetchTimeout = 5 * time.Second })
		done := make(chan *Result, 1)
		before := p.dp.Hits("/slow.crl")
		go func() {
			r, _ := c.Verify(context.Background(), slow.Cert, nil)
			done <- r
		}()
		for p.dp.Hits("/slow.crl") == before {
			runtime.Gosched()
			time.Sleep(time.Millisecond)
		}
		// The slow fetch is hanging; another negotiation goes through.
		expect(t, "fast DP while another hangs", verify(t, c, fast), Accept, ReasonOK)
		select {
		case r := <-done:
			t.Fatalf("the slow verification finished before its timeout: %+v", r)
		default:
		}
		p.clk.Advance(5 * time.Second)
		res := <-done
		want := Accept
		if mode == ModeStrict {
			want = Reject
		}
		expect(t, "slow DP after the timeout", res, want, ReasonCRLUnreachable)
		if !strings.Contains(res.Detail, "timed out") {
			t.Errorf("detail %q does not say the fetch timed out", res.Detail)
		}
		// Within the back-off the DP is not asked again.
		expect(t, "slow DP again, in back-off", verify(t, c, slow), want, ReasonCRLUnreachable)
		if h := p.dp.Hits("/slow.crl"); h != before+1 {
			t.Errorf("%d fetches of the slow DP, want %d", h, before+1)
		}
	}
}

// A caller that gives up (ctx cancelled) gets crl_unreachable at once and
// does not cancel the shared fetch.
func TestCallerContextCancelled(t *testing.T) {
	p := newPKI(t)
	p.dp.SetHang("/c.crl")
	leaf := p.leaf(p.root, "ctx", p.url("/c.crl"))
	c := p.checker(ModeStrict, nil)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	res, err := c.Verify(ctx, leaf.Cert, nil)
	if res.Reason != ReasonCRLUnreachable || !errors.Is(err, ErrCRLCheck) {
		t.Fatalf("cancelled caller: %s, %v", res.Reason, err)
	}
	p.dp.Set("/c.crl", p.crl(p.root, crltest.CRLOptions{}))
	for p.dp.Hits("/c.crl") == 0 {
		runtime.Gosched()
		time.Sleep(time.Millisecond)
	}
	p.dp.Release()
	// The fetch that the cancelled caller started completes for the next.
	var r *Result
	for r = verify(t, c, leaf); r.Reason != ReasonOK; r = verify(t, c, leaf) {
		runtime.Gosched()
		time.Sleep(time.Millisecond)
	}
	if h := p.dp.Hits("/c.crl"); h != 1 {
		t.Errorf("%d fetches, want 1", h)
	}
}

func TestSizeLimit(t *testing.T) {
	p := newPKI(t)
	var many []crltest.Revoked
	for i := range 200 {
		many = append(many, crltest.Revoke(p.leaf(p.root, "bulk"), t0, i%10))
	}
	big := p.crl(p.root, crltest.CRLOptions{Revoked: many})
	p.dp.Set("/big.crl", big)
	leaf := p.leaf(p.root, "big", p.url("/big.crl"))
	c := p.checker(ModeStrict, func(cfg *Config) { cfg.MaxCRLSize = int64(len(big) - 1) })
	res := verify(t, c, leaf)
	expect(t, "CRL over the size limit", res, Reject, ReasonCRLUnreachable)
	if !strings.Contains(res.Detail, "size limit") && !strings.Contains(res.Detail, "limit") {
		t.Errorf("detail %q", res.Detail)
	}
	c2 := p.checker(ModeStrict, func(cfg *Config) { cfg.MaxCRLSize = int64(len(big)) })
	expect(t, "CRL at the size limit", verify(t, c2, leaf), Accept, ReasonOK)
}

// An idle CRL stops being refreshed; the next use re-arms it.
func TestIdleStopsRefresh(t *testing.T) {
	p := newPKI(t)
	leaf := p.leaf(p.root, "idle", p.url("/i.crl"))
	p.dp.Set("/i.crl", p.crl(p.root, crltest.CRLOptions{ThisUpdate: t0, NextUpdate: t0.Add(10 * time.Hour)}))
	c := p.checker(ModeStrict, func(cfg *Config) { cfg.IdleTimeout = time.Hour })
	verify(t, c, leaf)
	p.clk.Advance(9 * time.Hour) // refresh due at 8 h, unused since 0 h
	if h := p.dp.Hits("/i.crl"); h != 1 {
		t.Fatalf("idle CRL refreshed: %d fetches", h)
	}
	if n := p.clk.Pending(); n != 0 {
		t.Errorf("%d timers pending for an idle CRL", n)
	}
	p.dp.Set("/i.crl", p.crl(p.root, crltest.CRLOptions{ThisUpdate: t0.Add(9 * time.Hour), NextUpdate: t0.Add(19 * time.Hour)}))
	expect(t, "still valid", verify(t, c, leaf), Accept, ReasonOK)
	p.clk.Advance(2 * time.Hour) // past 10 h: the re-armed refresh ran (after the back-off), since it was used
	if h := p.dp.Hits("/i.crl"); h != 2 {
		t.Fatalf("%d fetches, want the re-armed refresh", h)
	}
}

func TestCloseStopsTimers(t *testing.T) {
	p := newPKI(t)
	leaf := p.leaf(p.root, "close", p.url("/x.crl"))
	p.dp.Set("/x.crl", p.crl(p.root, crltest.CRLOptions{}))
	c := p.checker(ModeStrict, nil)
	verify(t, c, leaf)
	if p.clk.Pending() == 0 {
		t.Fatal("no refresh timer armed")
	}
	c.Close()
	if n := p.clk.Pending(); n != 0 {
		t.Errorf("%d timers pending after Close", n)
	}
	res, err := c.Verify(context.Background(), leaf.Cert, nil)
	if res.Reason != ReasonCRLUnreachable || !strings.Contains(res.Detail, ErrClosed.Error()) {
		t.Errorf("after Close: %s/%s %v", res.Outcome, res.Reason, err)
	}
}

// A refresh that brings someone else's CRL does not wash out a revocation
// the issuer's previous CRL proved; the issuer's next CRL does decide.
func TestForgedReplacementKeepsRevocation(t *testing.T) {
	p := newPKI(t)
	leaf := p.leaf(p.root, "forged-refresh", p.url("/f.crl"))
	p.dp.Set("/f.crl", p.crl(p.root, crltest.CRLOptions{ThisUpdate: t0, NextUpdate: t0.Add(time.Hour),
		Revoked: []crltest.Revoked{crltest.Revoke(leaf, t0, int(ReasonCodeCertificateHold))}}))
	c := p.checker(ModeRevokedOnly, nil)
	expect(t, "listed", verify(t, c, leaf), Reject, ReasonRevoked)

	p.dp.Set("/f.crl", p.crl(p.other, crltest.CRLOptions{ThisUpdate: t0.Add(45 * time.Minute), NextUpdate: t0.Add(2 * time.Hour)}))
	p.clk.Advance(49 * time.Minute)
	if h := p.dp.Hits("/f.crl"); h != 2 {
		t.Fatalf("%d fetches, want the refresh", h)
	}
	res := verify(t, c, leaf)
	expect(t, "after a foreign CRL replaced it", res, Reject, ReasonRevoked)
	if res.Revocation.ReasonCode != ReasonCodeCertificateHold {
		t.Errorf("revocation %+v", res.Revocation)
	}

	// The issuer releases the hold in its next CRL.
	p.dp.Set("/f.crl", p.crl(p.root, crltest.CRLOptions{ThisUpdate: t0.Add(90 * time.Minute), NextUpdate: t0.Add(3 * time.Hour)}))
	p.clk.Advance(time.Hour) // refresh of the foreign CRL is due at 45+0.8*75 = 105 min
	if h := p.dp.Hits("/f.crl"); h != 3 {
		t.Fatalf("%d fetches, want 3", h)
	}
	expect(t, "after the issuer's next CRL", verify(t, c, leaf), Accept, ReasonOK)
}

// A DP that serves an expired CRL is not asked again by every negotiation:
// the back-off applies to useless reads as to failed ones.
func TestStaleCRLBackoff(t *testing.T) {
	p := newPKI(t)
	leaf := p.leaf(p.root, "stale", p.url("/stale.crl"))
	p.dp.Set("/stale.crl", p.crl(p.root, crltest.CRLOptions{ThisUpdate: t0.Add(-48 * time.Hour), NextUpdate: t0.Add(-24 * time.Hour)}))
	c := p.checker(ModeStrict, func(cfg *Config) { cfg.RetryBackoff = time.Minute })
	for range 3 {
		expect(t, "stale CRL", verify(t, c, leaf), Reject, ReasonCRLExpired)
	}
	if h := p.dp.Hits("/stale.crl"); h != 1 {
		t.Fatalf("%d fetches within the back-off, want 1", h)
	}
	p.dp.Set("/stale.crl", p.crl(p.root, crltest.CRLOptions{}))
	p.clk.Advance(time.Minute)
	expect(t, "after the back-off", verify(t, c, leaf), Accept, ReasonOK)
	if h := p.dp.Hits("/stale.crl"); h != 2 {
		t.Fatalf("%d fetches after the back-off, want 2", h)
	}
}

// The production path: the wall clock runs the fetch timeout.
func TestRealClockTimeout(t *testing.T) {
	p := newPKI(t)
	p.dp.SetHang("/real.crl")
	leaf := must(p.root.Leaf("real", crltest.Options{CRLURLs: []string{p.url("/real.crl")}})) // valid around time.Now()
	c, err := New(Config{Mode: ModeStrict, Roots: []*x509.Certificate{p.root.Cert}, FetchTimeout: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	res, err := c.Verify(context.Background(), leaf.Cert, nil)
	if res.Reason != ReasonCRLUnreachable || !strings.Contains(res.Detail, "timed out") {
		t.Fatalf("hanging DP on the wall clock: %s %v", res.Reason, err)
	}
}
