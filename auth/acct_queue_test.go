package auth

import (
	"os"
	"path/filepath"
	"testing"
)

func queueRec(id string, st AcctStatus) AcctRecord {
	return AcctRecord{Status: st, Session: SessionInfo{SessionID: id}, User: "u", Time: t0, InOctets: 1 << 33}
}

func ids(q *diskQueue) []string {
	var out []string
	for _, e := range q.entries {
		out = append(out, e.rec.Session.SessionID+"/"+e.rec.Status.String())
	}
	return out
}

func TestDiskQueueRoundTrip(t *testing.T) {
	dir := t.TempDir()
	q, err := openDiskQueue(dir, 0)
	if err != nil {
		t.Fatal(err)
	}
	for i, st := range []AcctStatus{AcctStart, AcctInterim, AcctStop} {
		if _, err := q.push(queueRec(string(rune('a'+i)), st)); err != nil {
			t.Fatal(err)
		}
	}
	if err := q.pop(); err != nil {
		t.Fatal(err)
	}
	q.close()

	q, err = openDiskQueue(dir, 0)
	if err != nil {
		t.Fatal(err)
	}
	if got := ids(q); len(got) != 2 || got[0] != "b/interim-update" || got[1] != "c/stop" {
		t.Fatalf("after reopen: %v", got)
	}
	r, _ := q.front()
	if r.InOctets != 1<<33 || !r.Time.Equal(t0) {
		t.Fatalf("record changed on disk: %+v", r)
	}
	q.pop()
	q.pop()
	if q.len() != 0 {
		t.Fatal("not empty")
	}
	// Emptied: the files are reset, not left growing.
	if fi, _ := os.Stat(q.fileName(q.gen)); fi.Size() != 0 {
		t.Errorf("queue file %d bytes after draining", fi.Size())
	}
	q.push(queueRec("d", AcctStop))
	q.close()
	q, _ = openDiskQueue(dir, 0)
	defer q.close()
	if got := ids(q); len(got) != 1 || got[0] != "d/stop" {
		t.Fatalf("after reset and reopen: %v", got)
	}
}

// A crash in the middle of an append leaves a record cut short: it and
// nothing before it is lost.
func TestDiskQueueTornTail(t *testing.T) {
	dir := t.TempDir()
	q, _ := openDiskQueue(dir, 0)
	q.push(queueRec("a", AcctStart))
	q.push(queueRec("b", AcctStop))
	name := q.fileName(q.gen)
	q.close()
	b, _ := os.ReadFile(name)
	os.WriteFile(name, b[:len(b)-3], 0o600)

	q, err := openDiskQueue(dir, 0)
	if err != nil {
		t.Fatal(err)
	}
	if got := ids(q); len(got) != 1 || got[0] != "a/start" {
		t.Fatalf("torn tail: %v", got)
	}
	q.push(queueRec("c", AcctStop)) // appends after the intact prefix
	q.close()
	q, _ = openDiskQueue(dir, 0)
	defer q.close()
	if got := ids(q); len(got) != 2 || got[1] != "c/stop" {
		t.Fatalf("after append past the torn tail: %v", got)
	}

	// A flipped bit is caught by the CRC.
	recs, good := decodeQueue([]byte("garbage that is not a record"))
	if len(recs) != 0 || good != 0 {
		t.Fatal("garbage decoded")
	}
}

// Full: oldest Interim-Updates go first, then new Starts and
// Interim-Updates are refused, and Stops are always kept.
func TestDiskQueueFull(t *testing.T) {
	one, _ := encodeQueueRecord(queueRec("x", AcctInterim))
	size := int64(len(one))
	dir := t.TempDir()
	q, err := openDiskQueue(dir, 4*size)
	if err != nil {
		t.Fatal(err)
	}
	defer q.close()
	for _, r := range []AcctRecord{queueRec("s", AcctStart), queueRec("i", AcctInterim), queueRec("j", AcctInterim), queueRec("t", AcctStop)} {
		if _, err := q.push(r); err != nil {
			t.Fatal(err)
		}
	}
	dropped, err := q.push(queueRec("u", AcctStop))
	if err != nil || len(dropped) != 1 || dropped[0].Session.SessionID != "i" {
		t.Fatalf("dropped %v, %v", dropped, err)
	}
	if got := ids(q); len(got) != 4 || got[1] != "j/interim-update" || got[3] != "u/stop" {
		t.Fatalf("after dropping: %v", got)
	}
	// Only j is left to drop; then a Start no longer fits.
	q.push(queueRec("v", AcctStop))
	if _, err := q.push(queueRec("w", AcctStart)); err != ErrQueueFull {
		t.Fatalf("Start into a full queue: %v", err)
	}
	if _, err := q.push(queueRec("z", AcctStop)); err != nil {
		t.Fatalf("Stop refused: %v", err)
	}
	if got := ids(q); len(got) != 5 || got[0] != "s/start" || got[4] != "z/stop" {
		t.Fatalf("final: %v", got)
	}
	// The rewritten queue is what a restart loads, and old generations
	// are gone.
	q2, err := openDiskQueue(dir, 4*size)
	if err != nil {
		t.Fatal(err)
	}
	defer q2.close()
	if len(ids(q2)) != 5 {
		t.Fatalf("reloaded %v", ids(q2))
	}
	files, _ := filepath.Glob(filepath.Join(dir, "acct.queue.*"))
	if len(files) != 2 { // acct.queue.<gen> and acct.queue.head
		t.Errorf("files %v", files)
	}
}

func TestDiskQueueHeadPastEnd(t *testing.T) {
	// A crash between truncating the data and resetting the head.
	dir := t.TempDir()
	q, _ := openDiskQueue(dir, 0)
	q.push(queueRec("a", AcctStart))
	q.push(queueRec("b", AcctStop))
	q.pop()
	q.close()
	os.Truncate(filepath.Join(dir, "acct.queue.0"), 0)
	q, err := openDiskQueue(dir, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer q.close()
	if q.len() != 0 {
		t.Fatalf("%v", ids(q))
	}
}

func BenchmarkDiskQueuePushPop(b *testing.B) {
	q, err := openDiskQueue(b.TempDir(), 0)
	if err != nil {
		b.Fatal(err)
	}
	defer q.close()
	rec := queueRec("bench", AcctInterim)
	for b.Loop() {
		q.push(rec)
		q.pop()
	}
}

func FuzzDecodeQueue(f *testing.F) {
	a, _ := encodeQueueRecord(queueRec("a", AcctStart))
	b, _ := encodeQueueRecord(queueRec("b", AcctStop))
	f.Add(append(a, b...))
	f.Add(a[:len(a)-1])
	f.Fuzz(func(t *testing.T, data []byte) {
		recs, good := decodeQueue(data)
		if good > int64(len(data)) {
			t.Fatalf("good %d beyond %d bytes", good, len(data))
		}
		// What decodes re-encodes to something that decodes the same.
		var again []byte
		for _, r := range recs {
			e, err := encodeQueueRecord(r.rec)
			if err != nil {
				t.Fatal(err)
			}
			again = append(again, e...)
		}
		if recs2, _ := decodeQueue(again); len(recs2) != len(recs) {
			t.Fatalf("%d records re-decoded as %d", len(recs), len(recs2))
		}
	})
}

// A queue that never empties does not grow without end.
func TestDiskQueueCompacts(t *testing.T) {
	defer func(v int64) { compactAfter = v }(compactAfter)
	compactAfter = 1000
	dir := t.TempDir()
	q, err := openDiskQueue(dir, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer q.close()
	q.push(queueRec("first", AcctStart))
	for i := 0; i < 100; i++ {
		q.push(queueRec("r", AcctInterim))
		q.pop()
	}
	fi, err := os.Stat(q.fileName(q.gen))
	if err != nil {
		t.Fatal(err)
	}
	if fi.Size() > 2000 || q.gen == 0 {
		t.Fatalf("queue file %d bytes, generation %d", fi.Size(), q.gen)
	}
	q.close()
	q2, err := openDiskQueue(dir, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer q2.close()
	if q2.len() != 1 {
		t.Fatalf("reloaded %v", ids(q2))
	}
}
