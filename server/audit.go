package server

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"sync"
	"sync/atomic"
	"time"
)

// AuditEvent is one line of the audit log: the record an administrator
// reads to learn why a client could or could not connect, the equivalent of
// the Windows Security log events for IPsec.
type AuditEvent struct {
	Time    time.Time      `json:"time"`
	Event   string         `json:"event"`            // e.g. "phase1_established", "phase1_failed"
	Reason  string         `json:"reason,omitempty"` // typed reason, the same value a metric label uses
	Detail  string         `json:"detail,omitempty"` // human explanation (what was offered, ...)
	Peer    string         `json:"peer,omitempty"`   // address:port
	Cookies string         `json:"cookies,omitempty"`
	SPIs    string         `json:"spis,omitempty"`
	ID      string         `json:"id,omitempty"`   // the peer's IKE identity
	User    string         `json:"user,omitempty"` // the PPP user name
	Session string         `json:"session,omitempty"`
	Fields  map[string]any `json:"fields,omitempty"`
}

// Audit writes audit events as JSON lines without ever blocking the caller:
// events go through a bounded queue to a writer goroutine, and an event that
// finds the queue full is counted (Dropped), never lost silently.
type Audit struct {
	path    string // "stdout" or a file
	queue   chan AuditEvent
	reopen  chan struct{}
	done    chan struct{}
	dropped atomic.Uint64
	written atomic.Uint64
	onDrop  func()

	mu     sync.Mutex // guards out, closed
	out    io.WriteCloser
	closed bool
}

// OpenAudit opens the audit log at path ("stdout" or a file, appended to).
func OpenAudit(path string, queueLen int) (*Audit, error) {
	a := &Audit{path: path, queue: make(chan AuditEvent, queueLen), reopen: make(chan struct{}, 1), done: make(chan struct{})}
	out, err := a.open()
	if err != nil {
		return nil, err
	}
	a.out = out
	go a.loop()
	return a, nil
}

type nopCloser struct{ io.Writer }

func (nopCloser) Close() error { return nil }

func (a *Audit) open() (io.WriteCloser, error) {
	if a.path == "stdout" || a.path == "" {
		return nopCloser{os.Stdout}, nil
	}
	f, err := os.OpenFile(a.path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o640)
	if err != nil {
		return nil, fmt.Errorf("audit log: %w", err)
	}
	return f, nil
}

// Log queues e; it never blocks.
func (a *Audit) Log(e AuditEvent) {
	if e.Time.IsZero() {
		e.Time = time.Now().UTC()
	}
	select {
	case a.queue <- e:
	default:
		a.dropped.Add(1)
		if a.onDrop != nil {
			a.onDrop()
		}
	}
}

// Dropped is how many events found the queue full.
func (a *Audit) Dropped() uint64 { return a.dropped.Load() }

// Reopen makes the writer reopen the file (after logrotate moved it).
func (a *Audit) Reopen() {
	select {
	case a.reopen <- struct{}{}:
	default:
	}
}

// Close writes what is queued and closes the file.
func (a *Audit) Close() error {
	a.mu.Lock()
	if a.closed {
		a.mu.Unlock()
		return nil
	}
	a.closed = true
	a.mu.Unlock()
	close(a.queue)
	<-a.done
	return a.out.Close()
}

func (a *Audit) loop() {
	defer close(a.done)
	w := bufio.NewWriter(a.out)
	enc := json.NewEncoder(w)
	// A file renamed away by logrotate (without a SIGUSR1) is noticed here.
	tick := time.NewTicker(2 * time.Second)
	defer tick.Stop()
	for {
		select {
		case <-tick.C:
			if a.movedAway() {
				a.Reopen()
			}
		case e, ok := <-a.queue:
			if !ok {
				w.Flush()
				return
			}
			enc.Encode(e)
			a.written.Add(1)
			// Write what has arrived so far in one go, then flush: a line
			// reaches the file within one queue drain, not at exit.
			for drained := false; !drained; {
				select {
				case e, ok := <-a.queue:
					if !ok {
						w.Flush()
						return
					}
					enc.Encode(e)
					a.written.Add(1)
				default:
					drained = true
				}
			}
			w.Flush()
		case <-a.reopen:
			w.Flush()
			if out, err := a.open(); err == nil {
				a.out.Close()
				a.out = out
				w.Reset(out)
			}
		}
	}
}

// movedAway reports whether the audit file's path no longer names the file
// being written (renamed or removed by log rotation).
func (a *Audit) movedAway() bool {
	f, ok := a.out.(*os.File)
	if !ok {
		return false
	}
	cur, err := f.Stat()
	if err != nil {
		return false
	}
	onDisk, err := os.Stat(a.path)
	return err != nil || !os.SameFile(cur, onDisk)
}
