package ppp

import (
	"io"
	"log/slog"
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/l2tpsecd/l2tpsecd/internal/clock"
)

// chanHandler forwards events to channels.
type chanHandler struct {
	recorder
	up   chan netip.Addr
	down chan Reason
}

func (h *chanHandler) NetworkUp(a netip.Addr) { h.recorder.NetworkUp(a); h.up <- a }
func (h *chanHandler) Down(r Reason)          { h.recorder.Down(r); h.down <- r }

// TestRealClockConcurrent runs a Session and a Client on the real clock,
// each fed by its own goroutine, with the back end answering from yet
// another goroutine, then moves IP both ways while the control plane is
// queried and closed. It is meant for -race; the waits only guard against
// hanging.
func TestRealClockConcurrent(t *testing.T) {
	toSrv, toCli := make(chan []byte, 256), make(chan []byte, 256)
	sh := &chanHandler{up: make(chan netip.Addr, 1), down: make(chan Reason, 1)}
	ch := &chanHandler{up: make(chan netip.Addr, 1), down: make(chan Reason, 1)}
	sh.countIP, ch.countIP = true, true
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	u := &users{pw: map[string]string{"alice": "s3cret"}}
	var umu sync.Mutex
	backend := AuthenticatorFunc(func(req *AuthRequest, done func(AuthResult)) {
		go func() {
			umu.Lock()
			res := u.check(req)
			umu.Unlock()
			done(res)
		}()
	})
	send := func(c chan []byte) func([]byte, int) {
		return func(buf []byte, start int) {
			select {
			case c <- append([]byte(nil), buf[start:]...):
			default: // a full queue is a lost frame, as on a network
			}
		}
	}
	fsm := FSMConfig{RestartTimer: 50 * time.Millisecond}
	s := NewSession(Config{Output: send(toCli), Handler: sh, Clock: clock.Real{}, Logger: quiet, FSM: fsm,
		AuthMethods: []AuthMethod{AuthMSCHAPv2}, Authenticator: backend, Addresses: &pool{},
		LocalAddr: netip.MustParseAddr("10.10.0.1"), EchoInterval: 20 * time.Millisecond})
	c := NewClient(Config{Output: send(toSrv), Handler: ch, Clock: clock.Real{}, Logger: quiet, FSM: fsm,
		User: "alice", Password: "s3cret", EchoInterval: 20 * time.Millisecond})
	stop := make(chan struct{})
	var wg sync.WaitGroup
	feed := func(in chan []byte, input func([]byte) error) {
		defer wg.Done()
		for {
			select {
			case f := <-in:
				_ = input(f)
			case <-stop:
				return
			}
		}
	}
	wg.Add(2)
	go feed(toSrv, s.Input)
	go feed(toCli, c.Input)
	s.Start()
	c.Start()
	wait := func(what string, ch chan netip.Addr) netip.Addr {
		select {
		case a := <-ch:
			return a
		case <-time.After(10 * time.Second):
			t.Fatalf("no %s", what)
		}
		return netip.Addr{}
	}
	if a, b := wait("server NetworkUp", sh.up), wait("client NetworkUp", ch.up); a != b {
		t.Fatalf("server gave %v, client got %v", a, b)
	}
	var dp sync.WaitGroup
	for _, wr := range []func([]byte, int) error{s.WriteIP, c.WriteIP} {
		dp.Add(1)
		go func() {
			defer dp.Done()
			buf := make([]byte, 64+100)
			for range 200 {
				_ = wr(buf, 64)
				_ = s.Info()
			}
		}()
	}
	dp.Wait()
	s.Close(ReasonAdmin)
	select {
	case r := <-sh.down:
		if r != ReasonAdmin {
			t.Fatalf("down reason %s", r)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no Down")
	}
	close(stop)
	wg.Wait()
}
