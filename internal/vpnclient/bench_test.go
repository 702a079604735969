package vpnclient

import (
	"context"
	"net/netip"
	"sync/atomic"
	"testing"
	"time"
)

// dialLoopback connects one client to a fresh loopback LNS.
func dialLoopback(tb testing.TB, onIP func([]byte)) (*Client, *miniLNS) {
	tb.Helper()
	m := newMiniLNS(tb)
	cfg := testConfig(m, "alice", m.users["alice"])
	cfg.OnIP = onIP
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, _, err := Dial(ctx, cfg)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(c.Close)
	return c, m
}

// TestSendIPAllocs checks the client's send path (PPP and L2TP headers in
// place, ESP seal, sendmmsg) allocates nothing per packet.
func TestSendIPAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts are meaningless under the race detector (sync.Pool drops items at random)")
	}
	c, m := dialLoopback(t, nil)
	// Stop the LNS's datapath: the kernel drops what the client sends, so
	// that AllocsPerRun, which counts every goroutine's allocations, sees
	// only the client's send path.
	_ = m.dp.Close()
	pkt := AppendUDP(nil, c.Addr(), netip.MustParseAddr(testGateway), 40000, 9, 0, 1400)
	_ = c.SendIP(pkt) // warm the pools
	if n := testing.AllocsPerRun(200, func() { _ = c.SendIP(pkt) }); n != 0 {
		t.Errorf("%v allocations per SendIP, want 0", n)
	}
}

// BenchmarkEchoRoundTrip is one ICMP echo through a client and the loopback
// LNS and back: the client's send and receive paths plus a minimal server
// (whose own code allocates nothing per packet either, so allocs/op is the
// protocol packages' and the client's).
func BenchmarkEchoRoundTrip(b *testing.B) {
	got := make(chan struct{}, 1)
	var n atomic.Int64
	c, _ := dialLoopback(b, func([]byte) {
		n.Add(1)
		select {
		case got <- struct{}{}:
		default:
		}
	})
	pkt := AppendICMPEcho(nil, c.Addr(), netip.MustParseAddr(testGateway), ICMPEchoRequest, 0, 0, 0, 512)
	b.SetBytes(int64(len(pkt)))
	b.ReportAllocs()
	timeout := time.NewTimer(time.Hour)
	defer timeout.Stop()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := c.SendIP(pkt); err != nil {
			b.Fatal(err)
		}
		timeout.Reset(time.Second)
		select {
		case <-got:
		case <-timeout.C:
			b.Fatalf("no echo reply after %d", n.Load())
		}
	}
}
