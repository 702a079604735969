package auth

import (
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"layeh.com/radius"
	"layeh.com/radius/rfc2866"

	"github.com/l2tpsecd/l2tpsecd/internal/clock"
)

// acctStub is an in-process accounting server that answers unless down.
type acctStub struct {
	conn   net.PacketConn
	secret []byte
	down   atomic.Bool

	mu   sync.Mutex
	got  []string // session/status
	dela []uint32 // Acct-Delay-Time
}

func newAcctStub(t *testing.T) *acctStub {
	t.Helper()
	c, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &acctStub{conn: c, secret: []byte("stub-secret")}
	t.Cleanup(func() { c.Close() })
	go func() {
		buf := make([]byte, 4096)
		for {
			n, src, err := c.ReadFrom(buf)
			if err != nil {
				return
			}
			if s.down.Load() || !radius.IsAuthenticRequest(buf[:n], s.secret) {
				continue
			}
			p, err := radius.Parse(buf[:n], s.secret)
			if err != nil {
				continue
			}
			s.mu.Lock()
			s.got = append(s.got, rfc2866.AcctSessionID_GetString(p)+"/"+AcctStatus(rfc2866.AcctStatusType_Get(p)).String())
			s.dela = append(s.dela, uint32(rfc2866.AcctDelayTime_Get(p)))
			s.mu.Unlock()
			b, _ := p.Response(radius.CodeAccountingResponse).Encode()
			c.WriteTo(b, src)
		}
	}()
	return s
}

func (s *acctStub) server() RadiusServer {
	return RadiusServer{Addr: s.conn.LocalAddr().String(), Secret: s.secret}
}

func (s *acctStub) received() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.got...)
}

func stubAcct(t *testing.T, dir string, s *acctStub) *RadiusAcct {
	t.Helper()
	a, err := NewRadiusAcct(RadiusConfig{
		Servers: []RadiusServer{s.server()}, NASIdentifier: "t",
		Timeout: 20 * time.Millisecond, Retries: 1, DeadAfter: 1, DeadTime: 10 * time.Millisecond,
	}, AcctConfig{StateDir: dir, RetryInterval: 20 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func TestAcctDownQueuedRestartInOrder(t *testing.T) {
	s := newAcctStub(t)
	dir := t.TempDir()
	a := stubAcct(t, dir, s)
	past := time.Now().Add(-time.Hour)
	a.Account(sessionRecords("up", past)[0])
	waitFor(t, "delivery while up", func() bool { return len(s.received()) == 1 })

	s.down.Store(true)
	for _, r := range sessionRecords("down", past) {
		a.Account(r)
	}
	waitFor(t, "records on disk", func() bool { d, m := a.Queued(); return d == 3 && m == 0 })
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	a.Account(sessionRecords("after-close", past)[0]) // refused and logged, no panic

	b := stubAcct(t, dir, s)
	defer b.Close()
	b.Account(sessionRecords("new", past)[0])
	s.down.Store(false)
	waitFor(t, "queue drained", func() bool { d, m := b.Queued(); return d == 0 && m == 0 })
	want := []string{"up/start", "down/start", "down/interim-update", "down/stop", "new/start"}
	got := s.received()
	if len(got) != len(want) {
		t.Fatalf("received %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("received %v, want %v", got, want)
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, d := range s.dela {
		if d < 1800 && i > 0 {
			t.Errorf("record %d sent an hour late with Acct-Delay-Time %d", i, d)
		}
	}
}

// A Stop reaches the disk while the server is still working on the
// records before it, so that a crash at that moment cannot lose it.
func TestAcctStopOnDiskBeforeSent(t *testing.T) {
	hole, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer hole.Close()
	clk := clock.NewFake(t0) // never advanced: the first exchange never ends
	dir := t.TempDir()
	a, err := NewRadiusAcct(RadiusConfig{
		Servers: []RadiusServer{{Addr: hole.LocalAddr().String(), Secret: []byte("s")}}, Clock: clk,
	}, AcctConfig{StateDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	recs := sessionRecords("crash", t0)
	a.Account(recs[0])
	buf := make([]byte, 4096)
	hole.ReadFrom(buf) // the Start is in flight
	a.Account(recs[1])
	a.Account(recs[2])
	waitFor(t, "the Stop on disk", func() bool { d, _ := a.Queued(); return d == 3 })

	// What a restart after a crash now would load:
	q, err := openDiskQueue(dir, 0)
	if err != nil {
		t.Fatal(err)
	}
	if got := ids(q); len(got) != 3 || got[0] != "crash/start" || got[2] != "crash/stop" {
		t.Fatalf("on disk: %v", got)
	}
	q.close()
	a.Close()
}
