package ippool

import (
	"errors"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/l2tpsecd/l2tpsecd/internal/clock"
)

var t0 = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

func mustNew(t testing.TB, cfg Config, c clock.Clock) *Manager {
	t.Helper()
	m, err := New(cfg, Options{Clock: c})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() { m.Close() })
	return m
}

func ip(s string) netip.Addr { return netip.MustParseAddr(s) }

func alloc(t testing.TB, m *Manager, req Request) Lease {
	t.Helper()
	l, err := m.Allocate(req)
	if err != nil {
		t.Fatalf("Allocate(%+v): %v", req, err)
	}
	return l
}

func TestParseSpan(t *testing.T) {
	for _, tc := range []struct {
		in          string
		trim        bool
		first, last string
		err         bool
	}{
		{in: "10.10.0.10-10.10.0.250", first: "10.10.0.10", last: "10.10.0.250"},
		{in: " 10.0.0.1 - 10.0.0.1 ", first: "10.0.0.1", last: "10.0.0.1"},
		{in: "10.1.0.0/24", trim: true, first: "10.1.0.1", last: "10.1.0.254"},
		{in: "10.1.0.0/24", trim: false, first: "10.1.0.0", last: "10.1.0.255"},
		{in: "10.1.0.0/31", trim: true, first: "10.1.0.0", last: "10.1.0.1"},
		{in: "10.1.0.7/32", trim: true, first: "10.1.0.7", last: "10.1.0.7"},
		{in: "0.0.0.0/0", trim: false, first: "0.0.0.0", last: "255.255.255.255"},
		{in: "10.0.0.1", first: "10.0.0.1", last: "10.0.0.1"},
		{in: "10.0.0.9-10.0.0.1", err: true},
		{in: "10.1.0.77/24", trim: true, first: "10.1.0.1", last: "10.1.0.254"},
		{in: "fd00::1-fd00::9", err: true},
		{in: "fd00::/64", err: true},
		{in: "bogus", err: true},
		{in: "10.0.0.1-", err: true},
	} {
		s, err := parseSpan(tc.in, tc.trim)
		if tc.err {
			if !errors.Is(err, ErrBadRange) {
				t.Errorf("parseSpan(%q) = %v, %v; want ErrBadRange", tc.in, s, err)
			}
			continue
		}
		if err != nil {
			t.Errorf("parseSpan(%q): %v", tc.in, err)
			continue
		}
		if got := [2]string{u32ToAddr(s.first).String(), u32ToAddr(s.last).String()}; got != [2]string{tc.first, tc.last} {
			t.Errorf("parseSpan(%q) = %v, want %s-%s", tc.in, got, tc.first, tc.last)
		}
	}
}

func TestSubtractAndPrefixes(t *testing.T) {
	in := normalize([]span{{10, 20}, {15, 30}, {40, 40}, {31, 35}})
	if want := []span{{10, 35}, {40, 40}}; !slices.Equal(in, want) {
		t.Fatalf("normalize = %v, want %v", in, want)
	}
	got := subtract(in, normalize([]span{{10, 10}, {20, 22}, {35, 50}}))
	if want := []span{{11, 19}, {23, 34}}; !slices.Equal(got, want) {
		t.Fatalf("subtract = %v, want %v", got, want)
	}
	if got := subtract([]span{{0, 5}}, []span{{0, 5}}); len(got) != 0 {
		t.Fatalf("subtract everything = %v", got)
	}
	a, _ := addrToU32(ip("10.10.0.10"))
	b, _ := addrToU32(ip("10.10.0.250"))
	var ps []string
	for _, p := range prefixesOf(span{a, b}) {
		ps = append(ps, p.String())
	}
	want := []string{"10.10.0.10/31", "10.10.0.12/30", "10.10.0.16/28", "10.10.0.32/27", "10.10.0.64/26",
		"10.10.0.128/26", "10.10.0.192/27", "10.10.0.224/28", "10.10.0.240/29", "10.10.0.248/31", "10.10.0.250/32"}
	if !slices.Equal(ps, want) {
		t.Fatalf("prefixesOf = %v\nwant %v", ps, want)
	}
	if got := prefixesOf(span{0, 0xffffffff}); len(got) != 1 || got[0].String() != "0.0.0.0/0" {
		t.Fatalf("prefixesOf(all) = %v", got)
	}
}

func TestAllocateWholePoolThenExhausted(t *testing.T) {
	m := mustNew(t, Config{Pools: []PoolConfig{{Name: "p", Ranges: []string{"10.0.0.0/29"}, Exclude: []string{"10.0.0.1"}}}}, nil)
	seen := map[netip.Addr]bool{}
	for i := 0; i < 5; i++ { // .2-.6: /29 minus network, broadcast, gateway
		l := alloc(t, m, Request{Owner: fmt.Sprint("s", i)})
		if seen[l.Addr] || l.Addr == ip("10.0.0.1") || l.Pool != "p" {
			t.Fatalf("bad lease %+v (seen %v)", l, seen)
		}
		seen[l.Addr] = true
	}
	_, err := m.Allocate(Request{Owner: "x"})
	var ex *ExhaustedError
	if !errors.As(err, &ex) || ex.Pool != "p" || !errors.Is(err, ErrPoolExhausted) {
		t.Fatalf("Allocate on a full pool = %v, want ExhaustedError", err)
	}
	st := m.Stats()[0]
	if st.Size != 5 || st.Used != 5 || st.Free != 0 || st.Exhausted != 1 || st.Allocations != 5 {
		t.Fatalf("stats = %+v", st)
	}
	if err := m.Release(ip("10.0.0.4"), "s2"); err != nil {
		t.Fatal(err)
	}
	if l := alloc(t, m, Request{Owner: "y"}); l.Addr != ip("10.0.0.4") {
		t.Fatalf("after release got %v, want 10.0.0.4", l.Addr)
	}
}

func TestReleaseChecksOwner(t *testing.T) {
	m := mustNew(t, Config{Pools: []PoolConfig{{Name: "p", Ranges: []string{"10.0.0.10-10.0.0.20"}}}}, nil)
	l := alloc(t, m, Request{Owner: "a"})
	if err := m.Release(l.Addr, "b"); !errors.Is(err, ErrNotOwner) {
		t.Fatalf("release by another owner = %v", err)
	}
	if err := m.Release(ip("10.0.0.19"), "a"); !errors.Is(err, ErrNoLease) {
		t.Fatalf("release of a free address = %v", err)
	}
	if err := m.Release(l.Addr, "a"); err != nil {
		t.Fatal(err)
	}
	if err := m.Release(l.Addr, "a"); !errors.Is(err, ErrNoLease) {
		t.Fatalf("double release = %v", err)
	}
	if _, err := m.Allocate(Request{}); !errors.Is(err, ErrNoOwner) {
		t.Fatalf("no owner = %v", err)
	}
}

func TestOwnerHoldsOneLease(t *testing.T) {
	m := mustNew(t, Config{Pools: []PoolConfig{
		{Name: "p", Ranges: []string{"10.0.0.1-10.0.0.9"}},
		{Name: "q", Ranges: []string{"10.0.1.1-10.0.1.9"}},
	}}, nil)
	a := alloc(t, m, Request{Owner: "s1", User: "u"})
	// IPCP asking again gets the same lease, not a second address.
	if b := alloc(t, m, Request{Owner: "s1", User: "u", Pool: "p"}); b.Addr != a.Addr {
		t.Fatalf("second Allocate for the same owner gave %v, want %v", b.Addr, a.Addr)
	}
	if b := alloc(t, m, Request{Owner: "s1", Static: a.Addr}); b.Addr != a.Addr {
		t.Fatalf("static equal to the held address gave %v", b.Addr)
	}
	if n := len(m.Leases()); n != 1 {
		t.Fatalf("%d leases for one owner", n)
	}
	if _, err := m.Allocate(Request{Owner: "s1", Pool: "q"}); !errors.Is(err, ErrOwnerHasLease) {
		t.Fatalf("other pool for the same owner: %v", err)
	}
	if _, err := m.Allocate(Request{Owner: "s1", Static: ip("10.0.0.9")}); !errors.Is(err, ErrOwnerHasLease) {
		t.Fatalf("other static for the same owner: %v", err)
	}
	if err := m.ReleaseOwner("s1"); err != nil {
		t.Fatal(err)
	}
	if _, ok := m.Lookup(a.Addr); ok {
		t.Fatal("ReleaseOwner kept the lease")
	}
	if err := m.ReleaseOwner("s1"); !errors.Is(err, ErrNoLease) {
		t.Fatalf("second ReleaseOwner: %v", err)
	}
	if b := alloc(t, m, Request{Owner: "s1", Pool: "q"}); b.Pool != "q" {
		t.Fatalf("after release: %+v", b)
	}
}

func TestFreedAddressesReusedOldestFirst(t *testing.T) {
	m := mustNew(t, Config{Pools: []PoolConfig{{Name: "p", Ranges: []string{"10.0.0.1-10.0.0.4"}}}}, nil)
	var ls []Lease
	for i := 0; i < 4; i++ {
		ls = append(ls, alloc(t, m, Request{Owner: fmt.Sprint(i)}))
	}
	for _, i := range []int{2, 0, 3} {
		if err := m.Release(ls[i].Addr, fmt.Sprint(i)); err != nil {
			t.Fatal(err)
		}
	}
	for _, want := range []netip.Addr{ls[2].Addr, ls[0].Addr, ls[3].Addr} {
		if l := alloc(t, m, Request{Owner: "n" + want.String()}); l.Addr != want {
			t.Fatalf("got %v, want %v (FIFO)", l.Addr, want)
		}
	}
}

func TestSticky(t *testing.T) {
	m := mustNew(t, Config{Pools: []PoolConfig{{Name: "p", Ranges: []string{"10.0.0.1-10.0.0.3"}}}, StickyEntries: 2}, nil)
	a := alloc(t, m, Request{Owner: "1", User: "alice"})
	b := alloc(t, m, Request{Owner: "2", User: "bob"})
	m.Release(a.Addr, "1")
	m.Release(b.Addr, "2")
	// alice's address is first in the free list; bob asks first and must
	// still get his own.
	if l := alloc(t, m, Request{Owner: "3", User: "bob"}); l.Addr != b.Addr {
		t.Fatalf("bob got %v, want sticky %v", l.Addr, b.Addr)
	}
	if l := alloc(t, m, Request{Owner: "4", User: "alice"}); l.Addr != a.Addr {
		t.Fatalf("alice got %v, want sticky %v", l.Addr, a.Addr)
	}
	m.Release(a.Addr, "4")
	// Someone else takes alice's address; alice then gets another one.
	c := alloc(t, m, Request{Owner: "5", User: "carol"}) // never-used .3 first
	d := alloc(t, m, Request{Owner: "6", User: "dave"})  // then alice's
	if c.Addr != ip("10.0.0.3") || d.Addr != a.Addr {
		t.Fatalf("carol %v dave %v", c.Addr, d.Addr)
	}
	m.Release(c.Addr, "5")
	if l := alloc(t, m, Request{Owner: "7", User: "alice"}); l.Addr == a.Addr {
		t.Fatalf("alice got %v, which dave holds", l.Addr)
	}
	// The LRU holds 2 users: carol, dave and alice were touched after bob.
	if _, ok := m.sticky.get("bob"); ok {
		t.Fatalf("bob should have been evicted from the sticky LRU (len %d)", m.sticky.len())
	}
	if m.sticky.len() != 2 {
		t.Fatalf("sticky len %d, want 2", m.sticky.len())
	}
}

func TestStatic(t *testing.T) {
	m := mustNew(t, Config{Pools: []PoolConfig{
		{Name: "p", Ranges: []string{"10.0.0.1-10.0.0.10"}, Exclude: []string{"10.0.0.5"}},
	}}, nil)
	// Inside the pool and free.
	l := alloc(t, m, Request{Owner: "1", User: "u1", Static: ip("10.0.0.2")})
	if !l.Static || l.Pool != "p" || l.Addr != ip("10.0.0.2") {
		t.Fatalf("static lease %+v", l)
	}
	// Held: refused, naming the holder.
	_, err := m.Allocate(Request{Owner: "2", User: "u2", Static: ip("10.0.0.2")})
	var iu *InUseError
	if !errors.As(err, &iu) || iu.Owner != "1" || iu.User != "u1" || !errors.Is(err, ErrAddressInUse) {
		t.Fatalf("second static = %v", err)
	}
	// Excluded from dynamic use but grantable statically.
	if l := alloc(t, m, Request{Owner: "3", Static: ip("10.0.0.5")}); l.Pool != "" {
		t.Fatalf("excluded address lease %+v, want outside any pool", l)
	}
	// Outside every pool.
	alloc(t, m, Request{Owner: "4", Static: ip("192.168.77.7")})
	if _, err := m.Allocate(Request{Owner: "5", Static: ip("192.168.77.7")}); !errors.Is(err, ErrAddressInUse) {
		t.Fatalf("outside static twice = %v", err)
	}
	if _, err := m.Allocate(Request{Owner: "5", Static: ip("fd00::1")}); !errors.Is(err, ErrNotIPv4) {
		t.Fatalf("IPv6 static = %v", err)
	}
	// Dynamic allocation never hands out .2 or .5.
	var dyn []Lease
	for i := 0; i < 8; i++ {
		l := alloc(t, m, Request{Owner: fmt.Sprint("d", i)})
		if l.Addr == ip("10.0.0.2") || l.Addr == ip("10.0.0.5") {
			t.Fatalf("dynamic got %v", l.Addr)
		}
		dyn = append(dyn, l)
	}
	if _, err := m.Allocate(Request{Owner: "z"}); !errors.Is(err, ErrPoolExhausted) {
		t.Fatalf("want exhausted, got %v", err)
	}
	// A static address taken from the free list (below the cursor).
	if err := m.Release(dyn[5].Addr, "d5"); err != nil {
		t.Fatal(err)
	}
	alloc(t, m, Request{Owner: "s7", Static: dyn[5].Addr})
	if _, err := m.Allocate(Request{Owner: "z"}); !errors.Is(err, ErrPoolExhausted) {
		t.Fatalf("static from the free list was handed out again: %v", err)
	}
}

func TestPoolByName(t *testing.T) {
	m := mustNew(t, Config{Default: "b", Pools: []PoolConfig{
		{Name: "a", Ranges: []string{"10.1.0.1-10.1.0.9"}},
		{Name: "b", Ranges: []string{"10.2.0.1-10.2.0.9"}},
	}}, nil)
	if l := alloc(t, m, Request{Owner: "1"}); l.Pool != "b" || !netip.MustParsePrefix("10.2.0.0/24").Contains(l.Addr) {
		t.Fatalf("default pool lease %+v", l)
	}
	if l := alloc(t, m, Request{Owner: "2", Pool: "a"}); l.Pool != "a" || !netip.MustParsePrefix("10.1.0.0/24").Contains(l.Addr) {
		t.Fatalf("pool a lease %+v", l)
	}
	if _, err := m.Allocate(Request{Owner: "3", Pool: "nope"}); !errors.Is(err, ErrUnknownPool) {
		t.Fatalf("unknown pool = %v", err)
	}
}

func TestConfigErrors(t *testing.T) {
	for name, cfg := range map[string]Config{
		"none":        {},
		"overlap":     {Pools: []PoolConfig{{Name: "a", Ranges: []string{"10.0.0.0/24"}}, {Name: "b", Ranges: []string{"10.0.0.200-10.0.1.5"}}}},
		"dup":         {Pools: []PoolConfig{{Name: "a", Ranges: []string{"10.0.0.0/24"}}, {Name: "a", Ranges: []string{"10.0.1.0/24"}}}},
		"noname":      {Pools: []PoolConfig{{Ranges: []string{"10.0.0.0/24"}}}},
		"noranges":    {Pools: []PoolConfig{{Name: "a"}}},
		"bad range":   {Pools: []PoolConfig{{Name: "a", Ranges: []string{"10.0.0.300"}}}},
		"bad exclude": {Pools: []PoolConfig{{Name: "a", Ranges: []string{"10.0.0.0/24"}, Exclude: []string{"x"}}}},
		"default":     {Default: "zz", Pools: []PoolConfig{{Name: "a", Ranges: []string{"10.0.0.0/24"}}}},
	} {
		if _, err := New(cfg, Options{}); err == nil {
			t.Errorf("%s: New accepted %+v", name, cfg)
		}
	}
}

func TestReconfigure(t *testing.T) {
	m := mustNew(t, Config{Pools: []PoolConfig{{Name: "p", Ranges: []string{"10.0.0.1-10.0.0.2"}}}}, nil)
	a := alloc(t, m, Request{Owner: "1"})
	b := alloc(t, m, Request{Owner: "2"})
	if _, err := m.Allocate(Request{Owner: "3"}); !errors.Is(err, ErrPoolExhausted) {
		t.Fatal(err)
	}
	// Invalid configuration changes nothing.
	if err := m.Reconfigure([]PoolConfig{{Name: "p", Ranges: []string{"bad"}}}, ""); err == nil {
		t.Fatal("bad reconfigure accepted")
	}
	// Add a range live.
	if err := m.Reconfigure([]PoolConfig{{Name: "p", Ranges: []string{"10.0.0.1-10.0.0.2", "10.0.9.1"}}}, ""); err != nil {
		t.Fatal(err)
	}
	if l := alloc(t, m, Request{Owner: "3"}); l.Addr != ip("10.0.9.1") {
		t.Fatalf("after adding a range got %v", l.Addr)
	}
	// Remove the first range: its leases stay, and are dropped on release.
	if err := m.Reconfigure([]PoolConfig{{Name: "p", Ranges: []string{"10.0.9.1-10.0.9.2"}}}, ""); err != nil {
		t.Fatal(err)
	}
	if l, ok := m.Lookup(a.Addr); !ok || l.Owner != "1" {
		t.Fatalf("lease on a removed range lost: %+v %v", l, ok)
	}
	st := m.Stats()[0]
	if st.Size != 2 || st.Used != 1 || st.Allocations != 3 {
		t.Fatalf("stats after reconfigure %+v", st)
	}
	if err := m.Release(a.Addr, "1"); err != nil {
		t.Fatal(err)
	}
	if err := m.Release(b.Addr, "2"); err != nil {
		t.Fatal(err)
	}
	if l := alloc(t, m, Request{Owner: "4"}); l.Addr != ip("10.0.9.2") {
		t.Fatalf("got %v, want 10.0.9.2", l.Addr)
	}
	if _, err := m.Allocate(Request{Owner: "5"}); !errors.Is(err, ErrPoolExhausted) {
		t.Fatalf("removed range handed out again: %v", err)
	}
	// A live lease inside a range added later stays taken.
	s := alloc(t, m, Request{Owner: "6", Static: ip("10.0.9.9")})
	if s.Pool != "" {
		t.Fatalf("static outside pools: %+v", s)
	}
	if err := m.Reconfigure([]PoolConfig{{Name: "p", Ranges: []string{"10.0.9.1-10.0.9.9"}}}, ""); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 6; i++ {
		if l := alloc(t, m, Request{Owner: fmt.Sprint("r", i)}); l.Addr == s.Addr {
			t.Fatalf("handed out %v, leased statically", l.Addr)
		}
	}
	if _, err := m.Allocate(Request{Owner: "7"}); !errors.Is(err, ErrPoolExhausted) {
		t.Fatalf("want exhausted, got %v", err)
	}
}

func TestRoutePrefixes(t *testing.T) {
	m := mustNew(t, Config{Pools: []PoolConfig{
		{Name: "a", Ranges: []string{"10.1.0.0/24"}, Exclude: []string{"10.1.0.1"}},
		{Name: "b", Ranges: []string{"10.1.1.0-10.1.1.255"}},
	}}, nil)
	var got []string
	for _, p := range m.RoutePrefixes() {
		got = append(got, p.String())
	}
	// 10.1.0.1-10.1.0.254 (the /24 minus its edges) and all of 10.1.1.0/24.
	want := []string{"10.1.0.1/32", "10.1.0.2/31", "10.1.0.4/30", "10.1.0.8/29", "10.1.0.16/28",
		"10.1.0.32/27", "10.1.0.64/26", "10.1.0.128/26", "10.1.0.192/27", "10.1.0.224/28", "10.1.0.240/29",
		"10.1.0.248/30", "10.1.0.252/31", "10.1.0.254/32", "10.1.1.0/24"}
	if !slices.Equal(got, want) {
		t.Fatalf("RoutePrefixes = %v\nwant %v", got, want)
	}
}

// TestConcurrentNeverTwoLeases hammers one small pool from many goroutines
// and checks, through an independent map, that no address is ever held by
// two sessions at once. Run it with -race.
func TestConcurrentNeverTwoLeases(t *testing.T) {
	m := mustNew(t, Config{Pools: []PoolConfig{{Name: "p", Ranges: []string{"10.0.0.1-10.0.0.40"}}}, StickyEntries: 16}, nil)
	var held sync.Map
	var wg sync.WaitGroup
	errc := make(chan error, 64)
	for g := 0; g < 16; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			var mine []Lease
			for i := 0; i < 2000; i++ {
				if len(mine) < 3 && i%5 != 4 {
					owner := fmt.Sprintf("g%d-%d", g, i)
					req := Request{Owner: owner, User: fmt.Sprintf("u%d", (g*7+i)%24)}
					if i%11 == 0 {
						req.Static = netip.AddrFrom4([4]byte{10, 0, 0, byte(1 + (g+i)%45)})
					}
					l, err := m.Allocate(req)
					if err != nil {
						if !errors.Is(err, ErrPoolExhausted) && !errors.Is(err, ErrAddressInUse) {
							errc <- err
							return
						}
						continue
					}
					if prev, loaded := held.LoadOrStore(l.Addr, owner); loaded {
						errc <- fmt.Errorf("%v handed to %s while %v holds it", l.Addr, owner, prev)
						return
					}
					mine = append(mine, l)
					continue
				}
				if len(mine) == 0 {
					continue
				}
				l := mine[0]
				mine = mine[1:]
				held.Delete(l.Addr)
				if err := m.Release(l.Addr, l.Owner); err != nil {
					errc <- err
					return
				}
			}
			for _, l := range mine {
				held.Delete(l.Addr)
				if err := m.Release(l.Addr, l.Owner); err != nil {
					errc <- err
					return
				}
			}
		}(g)
	}
	wg.Wait()
	close(errc)
	for err := range errc {
		t.Error(err)
	}
	st := m.Stats()[0]
	if st.Used != 0 || st.Free != 40 {
		t.Fatalf("after everything was released: %+v", st)
	}
	if n := len(m.Leases()); n != 0 {
		t.Fatalf("%d leases left", n)
	}
}

func TestJournalRestoreQuarantine(t *testing.T) {
	dir := t.TempDir()
	fc := clock.NewFake(t0)
	cfg := Config{StateDir: dir, StaleHold: 5 * time.Minute,
		Pools: []PoolConfig{{Name: "p", Ranges: []string{"10.0.0.1-10.0.0.4"}}}}
	m, err := New(cfg, Options{Clock: fc})
	if err != nil {
		t.Fatal(err)
	}
	a := alloc(t, m, Request{Owner: "s1", User: "alice"})
	b := alloc(t, m, Request{Owner: "s2", User: "bob"})
	c := alloc(t, m, Request{Owner: "s3", User: "carol"})
	st := alloc(t, m, Request{Owner: "s4", User: "dan", Static: ip("172.16.0.9")})
	if err := m.Release(c.Addr, "s3"); err != nil {
		t.Fatal(err)
	}
	m.Close()

	// Simulate a crash in the middle of a write: a torn last line.
	f, err := os.OpenFile(filepath.Join(dir, JournalFile), os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString(`{"op":"r","addr":"10.0.`)
	f.Close()

	m2 := mustNew(t, cfg, fc)
	ls := m2.Leases()
	if len(ls) != 3 {
		t.Fatalf("restored %d leases, want 3: %+v", len(ls), ls)
	}
	for _, l := range ls {
		if !l.Stale || !l.StaleUntil.Equal(t0.Add(5*time.Minute)) {
			t.Fatalf("restored lease not stale: %+v", l)
		}
	}
	if s := m2.Stats()[0]; s.Used != 2 || s.Stale != 2 || s.Free != 2 {
		t.Fatalf("stats after restore %+v", s)
	}
	// Nobody else gets a quarantined address, and the static one is held.
	y := alloc(t, m2, Request{Owner: "n2", User: "carol"}) // carol's sticky address
	x := alloc(t, m2, Request{Owner: "n1", User: "xavier"})
	if x.Addr == a.Addr || x.Addr == b.Addr || y.Addr == a.Addr || y.Addr == b.Addr {
		t.Fatalf("quarantined address handed out: %v %v", x.Addr, y.Addr)
	}
	if y.Addr != c.Addr {
		t.Fatalf("carol got %v, want her sticky %v (restored from the journal)", y.Addr, c.Addr)
	}
	if _, err := m2.Allocate(Request{Owner: "n3", User: "eve"}); !errors.Is(err, ErrPoolExhausted) {
		t.Fatalf("want exhausted while quarantined, got %v", err)
	}
	if _, err := m2.Allocate(Request{Owner: "n4", User: "eve", Static: st.Addr}); !errors.Is(err, ErrAddressInUse) {
		t.Fatalf("stale static handed to another user: %v", err)
	}
	// alice reconnects (new session id) and gets her address back.
	if l := alloc(t, m2, Request{Owner: "n5", User: "alice"}); l.Addr != a.Addr || l.Stale || l.Owner != "n5" {
		t.Fatalf("alice re-claim: %+v", l)
	}
	// dan re-claims his static address.
	if l := alloc(t, m2, Request{Owner: "n6", User: "dan", Static: st.Addr}); l.Addr != st.Addr || l.Stale {
		t.Fatalf("dan re-claim: %+v", l)
	}
	// A stale lease can be ended by its (restored) owner too.
	if err := m2.ReleaseOwner("s4"); !errors.Is(err, ErrNoLease) {
		t.Fatalf("ReleaseOwner of a re-claimed lease's old owner: %v", err)
	}
	fc.Advance(5*time.Minute - time.Second)
	if l, _ := m2.Lookup(b.Addr); !l.Stale {
		t.Fatalf("bob's lease expired early: %+v", l)
	}
	fc.Advance(time.Second)
	if _, ok := m2.Lookup(b.Addr); ok {
		t.Fatal("bob's stale lease outlived the hold")
	}
	if l := alloc(t, m2, Request{Owner: "n7", User: "eve"}); l.Addr != b.Addr {
		t.Fatalf("after the hold got %v, want %v", l.Addr, b.Addr)
	}
	m2.Close()

	// A third start sees exactly the live leases, and a negative hold
	// frees them at once.
	cfg.StaleHold = -1
	m3 := mustNew(t, cfg, fc)
	if n := len(m3.Leases()); n != 0 {
		t.Fatalf("negative hold kept %d leases", n)
	}
	data, err := os.ReadFile(filepath.Join(dir, JournalFile))
	if err != nil {
		t.Fatal(err)
	}
	restored, _ := replay(data)
	if len(restored) != 0 {
		t.Fatalf("journal still holds %d leases after they were released", len(restored))
	}
}

func TestJournalCompactsAsItGrows(t *testing.T) {
	dir := t.TempDir()
	m := mustNew(t, Config{StateDir: dir, StickyEntries: -1,
		Pools: []PoolConfig{{Name: "p", Ranges: []string{"10.0.0.1-10.0.0.4"}}}}, nil)
	keep := alloc(t, m, Request{Owner: "keep"})
	for i := 0; i < 700; i++ { // 1400 records: past the 1028 that trigger compaction
		l := alloc(t, m, Request{Owner: "o"})
		if err := m.Release(l.Addr, "o"); err != nil {
			t.Fatal(err)
		}
	}
	if m.journal.records > 4*1+1024+1 {
		t.Fatalf("journal has %d records for 1 lease", m.journal.records)
	}
	data, _ := os.ReadFile(filepath.Join(dir, JournalFile))
	restored, _ := replay(data)
	if len(restored) != 1 || u32ToAddr(restored[0].addr) != keep.Addr {
		t.Fatalf("replay after compaction = %+v", restored)
	}
}

func TestJournalRoundTrip(t *testing.T) {
	dir := t.TempDir()
	j, _, _, err := openJournal(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer j.close()
	recs := []record{
		{Op: opSticky, User: "old", Addr: "10.0.0.9"},
		{Op: opAlloc, Addr: "10.0.0.1", Owner: "s\n1\"", User: "ü\\ser", Pool: "p", Since: 1700000000},
		{Op: opAlloc, Addr: "10.0.0.2", Owner: "s2", Static: true},
	}
	if err := j.compact(recs); err != nil {
		t.Fatal(err)
	}
	if err := j.append(record{Op: opRelease, Addr: "10.0.0.2"}); err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(filepath.Join(dir, JournalFile))
	restored, sticky := replay(data)
	want := restoredLease{addr: 0x0a000001, owner: "s\n1\"", user: "ü\\ser", pool: "p", since: time.Unix(1700000000, 0)}
	if len(restored) != 1 || restored[0] != want {
		t.Fatalf("restored %+v, want %+v", restored, want)
	}
	if len(sticky) != 2 || sticky[0] != (stickyRecord{"old", 0x0a000009}) || sticky[1] != (stickyRecord{"ü\\ser", 0x0a000001}) {
		t.Fatalf("sticky %+v", sticky)
	}
}

func FuzzReplay(f *testing.F) {
	f.Add([]byte(`{"op":"a","addr":"10.0.0.1","owner":"s"}` + "\n" + `{"op":"r","addr":"10.0.0.1"}` + "\n"))
	f.Add([]byte(`{"op":"s","addr":"::1","user":"u"}` + "\n" + `{"op":"a","addr":"10.0.0.1"`))
	f.Add([]byte("\x00\xff\n\n{}"))
	f.Fuzz(func(t *testing.T, data []byte) {
		restored, _ := replay(data)
		seen := map[uint32]bool{}
		for _, l := range restored {
			if seen[l.addr] || l.owner == "" {
				t.Fatalf("replay produced a duplicate or ownerless lease %+v", l)
			}
			seen[l.addr] = true
		}
	})
}

func FuzzParseSpan(f *testing.F) {
	for _, s := range []string{"10.0.0.1-10.0.0.9", "10.0.0.0/24", "10.0.0.7", "0.0.0.0/0", "1.2.3.4 - 1.2.3.3", "::1/128"} {
		f.Add(s, true)
	}
	f.Fuzz(func(t *testing.T, s string, trim bool) {
		sp, err := parseSpan(s, trim)
		if err == nil && sp.first > sp.last {
			t.Fatalf("parseSpan(%q) = %v: first after last", s, sp)
		}
		if err == nil {
			var n uint64
			for _, p := range prefixesOf(sp) {
				n += uint64(1) << (32 - p.Bits())
			}
			if n != sp.size() {
				t.Fatalf("prefixes of %v cover %d addresses, want %d", sp, n, sp.size())
			}
		}
	})
}

func BenchmarkAllocateRelease(b *testing.B) {
	m, err := New(Config{Pools: []PoolConfig{{Name: "p", Ranges: []string{"10.0.0.0/16"}}}}, Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer m.Close()
	// Half the pool in use, so allocation works from the free list.
	var live []Lease
	for i := 0; i < 32768; i++ {
		live = append(live, alloc(b, m, Request{Owner: "fill", User: fmt.Sprint("u", i)}))
	}
	users := make([]string, 1024)
	for i := range users {
		users[i] = fmt.Sprint("bench", i)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		l, err := m.Allocate(Request{Owner: "b", User: users[i%len(users)]})
		if err != nil {
			b.Fatal(err)
		}
		if err := m.Release(l.Addr, "b"); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkAllocateReleaseJournal measures the cost of the fsynced journal
// (two fsyncs per allocate/release pair) on this machine's disk.
func BenchmarkAllocateReleaseJournal(b *testing.B) {
	m, err := New(Config{StateDir: b.TempDir(), Pools: []PoolConfig{{Name: "p", Ranges: []string{"10.0.0.0/16"}}}}, Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer m.Close()
	for i := 0; i < b.N; i++ {
		l, err := m.Allocate(Request{Owner: "b", User: "u"})
		if err != nil {
			b.Fatal(err)
		}
		if err := m.Release(l.Addr, "b"); err != nil {
			b.Fatal(err)
		}
	}
}
