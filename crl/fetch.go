package crl

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/l2tpsecd/l2tpsecd/internal/clock"
)

// fetcher reads CRLs from distribution points, one read per URL at a time,
// and keeps them in memory and on disk.
type fetcher struct {
	timeout     time.Duration
	maxSize     int64
	refreshLead time.Duration // 0: refresh at 80% of the validity
	backoff     time.Duration
	idle        time.Duration
	dir         string // "" keeps no disk cache
	client      *http.Client
	clock       clock.Clock
	log         *slog.Logger
	m           *metrics
	onFetch     func(FetchEvent)

	base     context.Context // cancelled by close
	stopBase context.CancelFunc

	mu      sync.Mutex
	closed  bool
	entries map[string]*entry
}

// entry is the cache state of one distribution point URL.
type entry struct {
	url    string
	scheme string

	cur  *CRL // newest CRL read
	good *CRL // the previous CRL when its signature had verified, kept so a bad replacement cannot hide a revocation

	readAt    time.Time
	lastErr   error
	failedAt  time.Time
	lastUsed  time.Time
	diskTried bool

	flight *flight
	timer  clock.Timer
}

// flight is one read in progress; every caller that wants the URL meanwhile
// waits on done.
type flight struct {
	done    chan struct{}
	waiters int
}

// fetched is what get returns: the CRLs known for the URL (newest first)
// and the error of the last read, if it failed.
type fetched struct {
	crls []*CRL
	err  error
}

func (e *entry) fetchedLocked() fetched {
	var r fetched
	if e.cur != nil {
		r.crls = append(r.crls, e.cur)
	}
	if e.good != nil && e.good != e.cur {
		r.crls = append(r.crls, e.good)
	}
	r.err = e.lastErr
	return r
}

// usableLocked reports whether the newest CRL may be used without reading
// the URL again: it has not reached its nextUpdate.
func (e *entry) usableLocked(now time.Time) bool {
	if e.cur == nil {
		return false
	}
	nu := e.cur.List.NextUpdate
	return nu.IsZero() || now.Before(nu)
}

func checkScheme(rawURL string) (string, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return "", fmt.Errorf("%w: %q: %v", ErrUnsupportedScheme, rawURL, err)
	}
	switch u.Scheme {
	case "http", "https", "file":
		return u.Scheme, nil
	}
	return "", fmt.Errorf("%w: %s (only http, https and file are fetched)", ErrUnsupportedScheme, rawURL)
}

// get returns the CRLs of rawURL, reading it when nothing usable is cached
// and no failed read happened within the back-off period. It waits for the
// read at most until ctx is done; the read itself is bounded by the timeout.
func (f *fetcher) get(ctx context.Context, rawURL string) fetched {
	scheme, err := checkScheme(rawURL)
	if err != nil {
		return fetched{err: err}
	}
	f.mu.Lock()
	if f.closed {
		f.mu.Unlock()
		return fetched{err: ErrClosed}
	}
	e := f.entries[rawURL]
	if e == nil {
		e = &entry{url: rawURL, scheme: scheme}
		f.entries[rawURL] = e
	}
	now := f.clock.Now()
	e.lastUsed = now
	if e.usableLocked(now) {
		f.armLocked(e, now)
		r := e.fetchedLocked()
		r.err = nil
		f.mu.Unlock()
		return r
	}
	fl := e.flight
	if fl == nil {
		// Within the back-off after a failed read, or after a read that
		// brought nothing usable (a CA publishing a stale CRL), answer
		// from what we have at once.
		inBackoff := (!e.failedAt.IsZero() && now.Sub(e.failedAt) < f.backoff) ||
			(!e.readAt.IsZero() && now.Sub(e.readAt) < f.backoff)
		if inBackoff {
			r := e.fetchedLocked()
			f.mu.Unlock()
			return r
		}
		fl = &flight{done: make(chan struct{})}
		e.flight = fl
		go f.run(e, fl)
	}
	fl.waiters++
	f.mu.Unlock()

	select {
	case <-fl.done:
	case <-ctx.Done():
		f.mu.Lock()
		fl.waiters--
		r := e.fetchedLocked()
		f.mu.Unlock()
		r.err = fmt.Errorf("crl: waiting for %s: %w", rawURL, ctx.Err())
		return r
	}
	f.mu.Lock()
	r := e.fetchedLocked()
	f.mu.Unlock()
	return r
}

// run performs one read of e's URL: first the disk cache (once per entry),
// then the network, and publishes the result.
func (f *fetcher) run(e *entry, fl *flight) {
	f.mu.Lock()
	tryDisk := !e.diskTried && f.dir != "" && e.scheme != "file"
	e.diskTried = true
	f.mu.Unlock()

	var c *CRL
	var err error
	if tryDisk {
		if dc := f.readDisk(e.url); dc != nil {
			f.mu.Lock()
			f.storeLocked(e, dc, f.clock.Now())
			usable := e.usableLocked(f.clock.Now())
			f.mu.Unlock()
			if usable {
				f.finish(e, fl, nil)
				return
			}
		}
	}
	c, err = f.read(e.url, e.scheme)
	if err == nil && e.scheme != "file" && f.dir != "" {
		if werr := f.writeDisk(e.url, c); werr != nil {
			f.log.Warn("crl: cannot write the disk cache", "url", e.url, "err", werr)
		}
	}
	f.finish(e, fl, func(now time.Time) {
		if err != nil {
			e.lastErr = err
			e.failedAt = now
			f.log.Warn("crl: fetch failed", "url", e.url, "err", err, "cached", e.cur != nil)
			return
		}
		f.storeLocked(e, c, now)
	})
}

func (f *fetcher) finish(e *entry, fl *flight, publish func(now time.Time)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	now := f.clock.Now()
	if publish != nil {
		publish(now)
	}
	e.flight = nil
	close(fl.done)
	f.armLocked(e, now)
}

// storeLocked makes c the entry's newest CRL unless it is older than the
// one held (a stale mirror must not roll the CRL back).
func (f *fetcher) storeLocked(e *entry, c *CRL, now time.Time) {
	e.lastErr, e.failedAt = nil, time.Time{}
	e.readAt = now
	if e.cur != nil && c.List.ThisUpdate.Before(e.cur.List.ThisUpdate) {
		return
	}
	if e.cur != nil && e.cur.verified() {
		e.good = e.cur
	}
	e.cur = c
	f.m.held(e.url, c)
}

// CRLStatus describes one distribution point in the cache, for the
// control socket.
type CRLStatus struct {
	URL                    string
	Issuer                 string
	Number                 string
	ThisUpdate, NextUpdate time.Time
	Entries                int
	Delta                  bool
	ReadAt                 time.Time
	// LastError is the error of the last read, if it failed.
	LastError string
	// RefreshPending: a background refresh is scheduled.
	RefreshPending bool
}

func (f *fetcher) status() []CRLStatus {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make([]CRLStatus, 0, len(f.entries))
	for _, e := range f.entries {
		s := CRLStatus{URL: e.url, ReadAt: e.readAt, RefreshPending: e.timer != nil}
		if e.lastErr != nil {
			s.LastError = e.lastErr.Error()
		}
		if c := e.cur; c != nil {
			s.Issuer = c.List.Issuer.String()
			if c.List.Number != nil {
				s.Number = c.List.Number.String()
			}
			s.ThisUpdate, s.NextUpdate = c.List.ThisUpdate, c.List.NextUpdate
			s.Entries = len(c.List.RevokedCertificateEntries)
			s.Delta = c.Delta
		}
		out = append(out, s)
	}
	slices.SortFunc(out, func(a, b CRLStatus) int { return strings.Compare(a.URL, b.URL) })
	return out
}

// refreshAt is when a CRL should be read again: RefreshLead before its
// nextUpdate, or at 80% of its validity.
func (f *fetcher) refreshAt(c *CRL, readAt time.Time) time.Time {
	tu, nu := c.List.ThisUpdate, c.List.NextUpdate
	if nu.IsZero() {
		return readAt.Add(f.idle)
	}
	if f.refreshLead > 0 {
		return nu.Add(-f.refreshLead)
	}
	return tu.Add(nu.Sub(tu) * 8 / 10)
}

// armLocked schedules the background refresh of e if none is pending. A
// refresh never follows the previous read sooner than the back-off period,
// and once the refresh point has passed (the CA publishes late) the delay
// halves the time left to nextUpdate, so a late CA is not hammered.
func (f *fetcher) armLocked(e *entry, now time.Time) {
	if f.closed || e.timer != nil || e.cur == nil || e.flight != nil {
		return
	}
	d := f.refreshAt(e.cur, e.readAt).Sub(now)
	if nu := e.cur.List.NextUpdate; d <= 0 && nu.After(now) {
		// Due already (the CA has not published a newer CRL yet): halve
		// the remaining time instead of polling at the back-off rate.
		d = nu.Sub(now) / 2
	}
	if !e.failedAt.IsZero() {
		d = max(d, e.failedAt.Add(f.backoff).Sub(now))
	}
	d = max(d, f.backoff-now.Sub(e.readAt))
	if d < 0 {
		d = 0
	}
	e.timer = f.clock.AfterFunc(d, func() { f.refresh(e) })
}

// refresh is the timer callback: it reads the URL again while the entry is
// in use (used within the idle period), and lets it rest otherwise (the
// next use re-arms it).
func (f *fetcher) refresh(e *entry) {
	f.mu.Lock()
	e.timer = nil
	now := f.clock.Now()
	if f.closed || now.Sub(e.lastUsed) > f.idle {
		f.mu.Unlock()
		return
	}
	fl := e.flight
	if fl != nil {
		// An on-demand read is in progress; it re-arms the timer.
		f.mu.Unlock()
		return
	}
	fl = &flight{done: make(chan struct{})}
	e.flight = fl
	f.mu.Unlock()
	f.run(e, fl)
}

// read fetches and parses one CRL from the network or a file.
func (f *fetcher) read(rawURL, scheme string) (*CRL, error) {
	src := SourceHTTP
	if scheme == "file" {
		src = SourceFile
	}
	data, res, err := f.readBytes(rawURL, scheme)
	if err != nil {
		f.m.fetch(src, res)
		f.report(FetchEvent{URL: rawURL, Source: src, Result: res, Err: err})
		return nil, err
	}
	c, err := ParseCRL(data, rawURL)
	if err != nil {
		f.m.fetch(src, FetchMalformed)
		f.report(FetchEvent{URL: rawURL, Source: src, Result: FetchMalformed, Err: err})
		return nil, err
	}
	f.m.fetch(src, FetchOK)
	f.report(FetchEvent{URL: rawURL, Source: src, Result: FetchOK, CRL: c})
	return c, nil
}

// FetchEvent describes one read of a distribution point, for the audit
// log (Config.OnFetch).
type FetchEvent struct {
	URL    string
	Source FetchSource
	Result FetchResult
	Err    error // when Result is not FetchOK
	CRL    *CRL  // when it is
}

func (f *fetcher) report(e FetchEvent) {
	if f.onFetch != nil {
		f.onFetch(e)
	}
}

func (f *fetcher) readBytes(rawURL, scheme string) ([]byte, FetchResult, error) {
	if scheme == "file" {
		u, err := url.Parse(rawURL)
		if err != nil {
			return nil, FetchUnreachable, fmt.Errorf("crl: %w", err)
		}
		if u.Host != "" && u.Host != "localhost" {
			return nil, FetchUnreachable, fmt.Errorf("%w: %s names a remote host", ErrUnsupportedScheme, rawURL)
		}
		fh, err := os.Open(u.Path)
		if err != nil {
			return nil, FetchUnreachable, fmt.Errorf("crl: %w", err)
		}
		defer fh.Close()
		return f.readLimited(fh, rawURL)
	}

	ctx, cancel := context.WithCancelCause(f.base)
	defer cancel(nil)
	t := f.clock.AfterFunc(f.timeout, func() { cancel(ErrFetchTimeout) })
	defer t.Stop()
	timedOut := func(err error) (FetchResult, error) {
		if errors.Is(context.Cause(ctx), ErrFetchTimeout) {
			return FetchTimeout, fmt.Errorf("%w: %s after %s", ErrFetchTimeout, rawURL, f.timeout)
		}
		return FetchUnreachable, fmt.Errorf("crl: %s: %w", rawURL, err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, rawURL, nil)
	if err != nil {
		return nil, FetchUnreachable, fmt.Errorf("crl: %w", err)
	}
	req.Header.Set("Accept", "application/pkix-crl, application/x-pkcs7-crl;q=0.5, */*;q=0.1")
	resp, err := f.client.Do(req)
	if err != nil {
		res, err := timedOut(err)
		return nil, res, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, FetchHTTPStatus, fmt.Errorf("%w: %s: %s", ErrHTTPStatus, rawURL, resp.Status)
	}
	if resp.ContentLength > f.maxSize {
		return nil, FetchTooLarge, fmt.Errorf("%w: %s announces %d bytes (limit %d)", ErrTooLarge, rawURL, resp.ContentLength, f.maxSize)
	}
	data, res, err := f.readLimited(resp.Body, rawURL)
	if err != nil && res == FetchUnreachable {
		res, err = timedOut(err)
	}
	return data, res, err
}

func (f *fetcher) readLimited(r io.Reader, rawURL string) ([]byte, FetchResult, error) {
	data, err := io.ReadAll(io.LimitReader(r, f.maxSize+1))
	if err != nil {
		return nil, FetchUnreachable, err
	}
	if int64(len(data)) > f.maxSize {
		return nil, FetchTooLarge, fmt.Errorf("%w: %s (limit %d bytes)", ErrTooLarge, rawURL, f.maxSize)
	}
	return data, FetchOK, nil
}

// diskPath is the cache file of a URL: a digest, so any URL makes a safe
// file name.
func (f *fetcher) diskPath(rawURL string) string {
	sum := sha256.Sum256([]byte(rawURL))
	return filepath.Join(f.dir, hex.EncodeToString(sum[:])+".crl")
}

func (f *fetcher) readDisk(rawURL string) *CRL {
	data, err := os.ReadFile(f.diskPath(rawURL))
	if err != nil {
		if !errors.Is(err, os.ErrNotExist) {
			f.log.Warn("crl: cannot read the disk cache", "url", rawURL, "err", err)
		}
		return nil
	}
	c, err := ParseCRL(data, rawURL)
	if err != nil {
		f.m.fetch(SourceDisk, FetchMalformed)
		f.log.Warn("crl: disk cache entry is not a CRL", "url", rawURL, "err", err)
		return nil
	}
	f.m.fetch(SourceDisk, FetchOK)
	return c
}

// writeDisk stores the CRL's DER atomically: a temporary file in the same
// directory, synced, then renamed over the old one.
func (f *fetcher) writeDisk(rawURL string, c *CRL) error {
	if err := os.MkdirAll(f.dir, 0o700); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(f.dir, ".crl-*.tmp")
	if err != nil {
		return err
	}
	name := tmp.Name()
	_, err = tmp.Write(c.List.Raw)
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(name, f.diskPath(rawURL))
	}
	if err != nil {
		os.Remove(name)
		return err
	}
	if d, err := os.Open(f.dir); err == nil {
		d.Sync()
		d.Close()
	}
	return nil
}

// close stops the refresh timers and cancels reads in progress.
func (f *fetcher) close() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.closed = true
	for _, e := range f.entries {
		if e.timer != nil {
			e.timer.Stop()
			e.timer = nil
		}
	}
	f.stopBase()
}

// waiters reports how many callers wait on the read of rawURL (tests).
func (f *fetcher) waiters(rawURL string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	if e := f.entries[rawURL]; e != nil && e.flight != nil {
		return e.flight.waiters
	}
	return 0
}
