package server

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func readLines(t *testing.T, p string) []string {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	var out []string
	for _, l := range strings.Split(string(b), "\n") {
		if l != "" {
			out = append(out, l)
		}
	}
	return out
}

func waitLines(t *testing.T, p string, n int) []string {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		if ls := readLines(t, p); len(ls) >= n {
			return ls
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: fewer than %d lines: %v", p, n, readLines(t, p))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestAuditWritesJSONLinesAndFollowsRotation(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "audit.log")
	a, err := OpenAudit(p, 16)
	if err != nil {
		t.Fatal(err)
	}
	a.Log(AuditEvent{Event: "phase1_failed", Reason: "psk_mismatch", Peer: "203.0.113.5:500"})
	ls := waitLines(t, p, 1)
	var ev AuditEvent
	if err := json.Unmarshal([]byte(ls[0]), &ev); err != nil || ev.Reason != "psk_mismatch" || ev.Time.IsZero() {
		t.Fatalf("line %q: %v %+v", ls[0], err, ev)
	}

	// logrotate's default: rename, then (maybe) SIGUSR1. Both paths must
	// end with new lines in a new file at the old name.
	if err := os.Rename(p, p+".1"); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for i := 0; ; i++ {
		a.Log(AuditEvent{Event: "after_rename"})
		if len(readLines(t, p)) > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the audit log was not reopened after it was renamed away")
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err := os.Rename(p, p+".2"); err != nil {
		t.Fatal(err)
	}
	a.Reopen()
	// The reopen and the next event race in the writer; an event that
	// wins goes to the old file. Keep logging until one reaches the new.
	deadline = time.Now().Add(10 * time.Second)
	for len(readLines(t, p)) == 0 {
		a.Log(AuditEvent{Event: "after_sigusr1"})
		if time.Now().After(deadline) {
			t.Fatal("the audit log was not reopened after Reopen")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	// Lines logged before the reopen noticed the rename went to the old
	// file, as with any daemon that keeps its log open; none is lost.
	if got := readLines(t, p+".1"); len(got) < 1 || !strings.Contains(got[0], "psk_mismatch") {
		t.Errorf("rotated file: %v", got)
	}
}

func TestAuditNeverBlocksAndCountsDrops(t *testing.T) {
	p := filepath.Join(t.TempDir(), "audit.log")
	a, err := OpenAudit(p, 1)
	if err != nil {
		t.Fatal(err)
	}
	drops := 0
	a.onDrop = func() { drops++ }
	done := make(chan struct{})
	go func() {
		for i := 0; i < 10000; i++ {
			a.Log(AuditEvent{Event: "flood"})
		}
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		t.Fatal("Log blocked")
	}
	a.Close()
	written := len(readLines(t, p))
	if uint64(written)+a.Dropped() != 10000 || a.Dropped() != uint64(drops) {
		t.Fatalf("written %d + dropped %d != 10000 (hook saw %d)", written, a.Dropped(), drops)
	}
}
