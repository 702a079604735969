package clock

import (
	"testing"
	"time"
)

func TestFakeRunsTimersInOrder(t *testing.T) {
	c := NewFake(time.Unix(0, 0))
	var got []int
	c.AfterFunc(3*time.Second, func() { got = append(got, 3) })
	c.AfterFunc(1*time.Second, func() {
		got = append(got, 1)
		c.AfterFunc(time.Second, func() { got = append(got, 2) })
	})
	stopped := c.AfterFunc(2500*time.Millisecond, func() { got = append(got, 99) })
	if !stopped.Stop() {
		t.Fatal("Stop on an active timer returned false")
	}
	c.Advance(2 * time.Second)
	if len(got) != 2 || got[0] != 1 || got[1] != 2 {
		t.Fatalf("after 2s got %v, want [1 2]", got)
	}
	c.Advance(time.Second)
	if len(got) != 3 || got[2] != 3 {
		t.Fatalf("after 3s got %v, want [1 2 3]", got)
	}
	if c.Pending() != 0 {
		t.Fatalf("Pending = %d, want 0", c.Pending())
	}
	if want := time.Unix(3, 0); !c.Now().Equal(want) {
		t.Fatalf("Now = %v, want %v", c.Now(), want)
	}
}

func TestFakeReset(t *testing.T) {
	c := NewFake(time.Unix(0, 0))
	n := 0
	tm := c.AfterFunc(time.Second, func() { n++ })
	c.Advance(500 * time.Millisecond)
	tm.Reset(time.Second)
	c.Advance(700 * time.Millisecond)
	if n != 0 {
		t.Fatalf("timer fired before its reset deadline")
	}
	c.Advance(300 * time.Millisecond)
	if n != 1 {
		t.Fatalf("timer fired %d times, want 1", n)
	}
}
