package tundev

import (
	"net/netip"
	"sync"
	"testing"
)

type session struct{ id int }

func TestTable(t *testing.T) {
	var tb Table[*session]
	a, b := netip.MustParseAddr("10.10.0.5"), netip.MustParseAddr("10.10.1.5")
	s1, s2 := &session{1}, &session{2}
	if _, ok := tb.LookupAddr(a); ok {
		t.Fatal("empty table found something")
	}
	if !tb.Set(a, s1) || !tb.Set(b, s2) {
		t.Fatal("Set refused IPv4")
	}
	if tb.Set(netip.MustParseAddr("fd00::1"), s1) {
		t.Fatal("Set accepted IPv6")
	}
	if h, ok := tb.LookupAddr(a); !ok || h != s1 {
		t.Fatalf("lookup a = %v %v", h, ok)
	}
	if h, ok := tb.Lookup(10<<24 | 10<<16 | 1<<8 | 5); !ok || h != s2 {
		t.Fatalf("lookup b by integer = %v %v", h, ok)
	}
	if h, ok := tb.LookupAddr(netip.MustParseAddr("::ffff:10.10.0.5")); !ok || h != s1 {
		t.Fatal("mapped address")
	}
	// A stale session's teardown does not remove the new owner.
	s3 := &session{3}
	tb.Set(a, s3)
	if tb.Delete(a, s1) {
		t.Fatal("Delete removed another session's mapping")
	}
	if h, _ := tb.LookupAddr(a); h != s3 {
		t.Fatal("mapping lost")
	}
	if !tb.Delete(a, s3) || tb.Len() != 1 {
		t.Fatalf("Delete failed, len %d", tb.Len())
	}
	if _, ok := tb.LookupAddr(a); ok {
		t.Fatal("deleted mapping still found")
	}
	if tb.Delete(a, s3) {
		t.Fatal("double delete")
	}
}

// TestTableConcurrent runs readers against writers under -race: every
// lookup must see either no mapping or the one handle ever stored for that
// address.
func TestTableConcurrent(t *testing.T) {
	var tb Table[int]
	const n = 2048
	addr := func(i int) netip.Addr { return netip.AddrFrom4([4]byte{10, 20, byte(i >> 8), byte(i)}) }
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for r := 0; r < 4; r++ {
		wg.Add(1)
		go func(r int) {
			defer wg.Done()
			for i := r; ; i = (i + 7) % n {
				select {
				case <-stop:
					return
				default:
				}
				if h, ok := tb.LookupAddr(addr(i)); ok && h != i+1 {
					t.Errorf("address %d maps to %d", i, h)
					return
				}
			}
		}(r)
	}
	var wwg sync.WaitGroup
	for w := 0; w < 4; w++ {
		wwg.Add(1)
		go func(w int) {
			defer wwg.Done()
			for round := 0; round < 3; round++ {
				for i := w; i < n; i += 4 {
					tb.Set(addr(i), i+1)
				}
				for i := w; i < n; i += 8 {
					tb.Delete(addr(i), i+1)
				}
			}
		}(w)
	}
	wwg.Wait()
	close(stop)
	wg.Wait()
	if got := tb.Len(); got != n/2 {
		t.Fatalf("Len = %d, want %d", got, n/2)
	}
}

func BenchmarkTableLookup(b *testing.B) {
	var tb Table[int]
	for i := 0; i < 10000; i++ {
		tb.Set(netip.AddrFrom4([4]byte{10, 0, byte(i >> 8), byte(i)}), i)
	}
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		i := uint32(0)
		for pb.Next() {
			tb.Lookup(10<<24 | i%10000)
			i++
		}
	})
}
