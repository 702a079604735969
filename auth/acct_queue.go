package auth

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
)

// The accounting queue on disk: records that no server took yet, in order.
//
// acct.queue.<generation> is append-only: each record is a 4-byte big-endian length, the
// CRC-32 (IEEE) of the payload, and the payload, the record as JSON (so
// that an operator can read it and a newer daemon can still load it).
// acct.queue.head holds the generation of the current file and the offset
// of its first record not yet delivered (two 8-byte numbers, written in
// one write). Every append and every head move is fsynced before it counts.
// At load, a record cut short or failing its CRC ends the queue (a crash
// during an append); the file is truncated there.
//
// When everything was delivered both files are reset to empty. When the
// queue would exceed its size, the oldest Interim-Updates are dropped
// first (the rest is written to the next generation's file, fsynced, and
// only then does the head point at it; the old file is removed); if
// that is not enough a new Start or Interim-Update is refused, but a Stop
// is always written: Stops carry the session's totals and the billing.
type diskQueue struct {
	dir      string
	maxBytes int64
	f        *os.File // acct.queue.<gen>, opened for append
	hf       *os.File // acct.queue.head
	gen      uint64
	head     int64 // offset of entries[0]
	size     int64 // file size
	entries  []queueEntry
	bytes    int64 // bytes held by entries
}

type queueEntry struct {
	rec AcctRecord
	n   int64 // encoded length including the 8-byte header
}

const (
	queueFile     = "acct.queue"
	queueHeadFile = "acct.queue.head"
	queueHdrLen   = 8
	maxQueueRec   = 1 << 20
)

// openDiskQueue opens (creating) the queue in dir and loads what is left in
// it.
func openDiskQueue(dir string, maxBytes int64) (*diskQueue, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("auth: accounting queue: %w", err)
	}
	q := &diskQueue{dir: dir, maxBytes: maxBytes}
	var err error
	q.hf, err = os.OpenFile(filepath.Join(dir, queueHeadFile), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("auth: accounting queue: %w", err)
	}
	var hb [16]byte
	n, err := q.hf.ReadAt(hb[:], 0)
	if err != nil && err != io.EOF {
		q.hf.Close()
		return nil, fmt.Errorf("auth: accounting queue head: %w", err)
	}
	if n == 16 {
		q.gen = binary.BigEndian.Uint64(hb[0:8])
		q.head = int64(binary.BigEndian.Uint64(hb[8:16]))
	}
	q.f, err = os.OpenFile(q.fileName(q.gen), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		q.hf.Close()
		return nil, fmt.Errorf("auth: accounting queue: %w", err)
	}
	if err := q.load(); err != nil {
		q.close()
		return nil, err
	}
	return q, nil
}

func (q *diskQueue) fileName(gen uint64) string {
	return filepath.Join(q.dir, fmt.Sprintf("%s.%d", queueFile, gen))
}

func (q *diskQueue) load() error {
	data, err := io.ReadAll(io.NewSectionReader(q.f, 0, 1<<62))
	if err != nil {
		return fmt.Errorf("auth: accounting queue: %w", err)
	}
	if q.head > int64(len(data)) {
		// The file was reset but the head not yet: nothing is pending.
		q.head = int64(len(data))
	}
	recs, good := decodeQueue(data[q.head:])
	for i, r := range recs {
		q.entries = append(q.entries, queueEntry{rec: r.rec, n: r.n})
		q.bytes += recs[i].n
	}
	q.size = q.head + good
	if q.size != int64(len(data)) {
		// A torn append: drop its remains.
		if err := q.f.Truncate(q.size); err != nil {
			return fmt.Errorf("auth: accounting queue: %w", err)
		}
	}
	if len(q.entries) == 0 {
		return q.reset()
	}
	_, err = q.f.Seek(q.size, io.SeekStart)
	return err
}

type decoded struct {
	rec AcctRecord
	n   int64
}

// decodeQueue decodes records until the data ends or one is cut short or
// damaged; good is the length of the intact prefix.
func decodeQueue(data []byte) (recs []decoded, good int64) {
	for len(data) >= queueHdrLen {
		l := binary.BigEndian.Uint32(data[0:4])
		sum := binary.BigEndian.Uint32(data[4:8])
		if l > maxQueueRec || int64(len(data)-queueHdrLen) < int64(l) {
			break
		}
		payload := data[queueHdrLen : queueHdrLen+int(l)]
		if crc32.ChecksumIEEE(payload) != sum {
			break
		}
		var r AcctRecord
		if err := json.Unmarshal(payload, &r); err != nil {
			break
		}
		n := int64(queueHdrLen + int(l))
		recs = append(recs, decoded{rec: r, n: n})
		good += n
		data = data[n:]
	}
	return recs, good
}

func encodeQueueRecord(rec AcctRecord) ([]byte, error) {
	payload, err := json.Marshal(rec)
	if err != nil {
		return nil, err
	}
	b := make([]byte, queueHdrLen, queueHdrLen+len(payload))
	binary.BigEndian.PutUint32(b[0:4], uint32(len(payload)))
	binary.BigEndian.PutUint32(b[4:8], crc32.ChecksumIEEE(payload))
	return append(b, payload...), nil
}

func (q *diskQueue) len() int { return len(q.entries) }

// front returns the oldest record.
func (q *diskQueue) front() (AcctRecord, bool) {
	if len(q.entries) == 0 {
		return AcctRecord{}, false
	}
	return q.entries[0].rec, true
}

// push appends rec durably. It returns the records dropped to make room
// (oldest Interim-Updates) and ErrQueueFull when rec itself is refused.
func (q *diskQueue) push(rec AcctRecord) (dropped []AcctRecord, err error) {
	b, err := encodeQueueRecord(rec)
	if err != nil {
		return nil, err
	}
	n := int64(len(b))
	if q.maxBytes > 0 && q.bytes+n > q.maxBytes {
		dropped, err = q.makeRoom(n)
		if err != nil {
			return dropped, err
		}
		if q.bytes+n > q.maxBytes && rec.Status != AcctStop {
			return dropped, ErrQueueFull
		}
	}
	if _, err := q.f.Write(b); err != nil {
		return dropped, fmt.Errorf("auth: accounting queue: %w", err)
	}
	if err := q.f.Sync(); err != nil {
		return dropped, fmt.Errorf("auth: accounting queue: %w", err)
	}
	q.entries = append(q.entries, queueEntry{rec: rec, n: n})
	q.size += n
	q.bytes += n
	return dropped, nil
}

// makeRoom drops the oldest Interim-Updates until need more bytes fit, and
// rewrites the file when it dropped any.
func (q *diskQueue) makeRoom(need int64) ([]AcctRecord, error) {
	var dropped []AcctRecord
	kept := q.entries[:0:0]
	free := q.maxBytes - q.bytes
	for i, e := range q.entries {
		// entries[0] may be in flight; keep it so the sender's pop stays
		// right.
		if free < need && i > 0 && e.rec.Status == AcctInterim {
			dropped = append(dropped, e.rec)
			free += e.n
			continue
		}
		kept = append(kept, e)
	}
	if len(dropped) == 0 {
		return nil, nil
	}
	if err := q.rewrite(kept); err != nil {
		return nil, err
	}
	return dropped, nil
}

// rewrite writes entries to the next generation's file and switches to
// it: the head names the new file only once that file is complete and
// synced, so a crash leaves either the old queue or the new one.
func (q *diskQueue) rewrite(entries []queueEntry) error {
	next := q.gen + 1
	f, err := os.OpenFile(q.fileName(next), os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return fmt.Errorf("auth: accounting queue: %w", err)
	}
	var size int64
	for _, e := range entries {
		b, err := encodeQueueRecord(e.rec)
		if err == nil {
			_, err = f.Write(b)
		}
		if err != nil {
			f.Close()
			os.Remove(f.Name())
			return fmt.Errorf("auth: accounting queue: %w", err)
		}
		size += int64(len(b))
	}
	if err := f.Sync(); err != nil {
		f.Close()
		os.Remove(f.Name())
		return fmt.Errorf("auth: accounting queue: %w", err)
	}
	syncDir(q.dir)
	old := q.f
	q.f, q.gen = f, next
	q.head, q.size = 0, size
	q.entries = entries
	q.bytes = size
	if err := q.writeHead(); err != nil {
		return err
	}
	old.Close()
	os.Remove(old.Name())
	_, err = q.f.Seek(size, io.SeekStart)
	return err
}

// pop removes the oldest record after it was delivered.
func (q *diskQueue) pop() error {
	if len(q.entries) == 0 {
		return nil
	}
	e := q.entries[0]
	q.entries[0] = queueEntry{}
	q.entries = q.entries[1:]
	q.head += e.n
	q.bytes -= e.n
	if len(q.entries) == 0 {
		return q.reset()
	}
	if q.head >= compactAfter && q.head > q.size/2 {
		// Records keep arriving while the queue drains: it may never be
		// empty, so drop the delivered prefix now and then.
		return q.rewrite(q.entries)
	}
	return q.writeHead()
}

// compactAfter is the size of delivered records after which pop rewrites
// the queue without them.
var compactAfter int64 = 1 << 20

// reset empties both files: the data first, so that a crash in between
// leaves a head beyond the end, which load reads as empty.
func (q *diskQueue) reset() error {
	if err := q.f.Truncate(0); err != nil {
		return fmt.Errorf("auth: accounting queue: %w", err)
	}
	if err := q.f.Sync(); err != nil {
		return fmt.Errorf("auth: accounting queue: %w", err)
	}
	if _, err := q.f.Seek(0, io.SeekStart); err != nil {
		return err
	}
	q.entries = nil
	q.head, q.size, q.bytes = 0, 0, 0
	return q.writeHead()
}

func (q *diskQueue) writeHead() error {
	var hb [16]byte
	binary.BigEndian.PutUint64(hb[0:8], q.gen)
	binary.BigEndian.PutUint64(hb[8:16], uint64(q.head))
	if _, err := q.hf.WriteAt(hb[:], 0); err != nil {
		return fmt.Errorf("auth: accounting queue head: %w", err)
	}
	if err := q.hf.Sync(); err != nil {
		return fmt.Errorf("auth: accounting queue head: %w", err)
	}
	return nil
}

func (q *diskQueue) close() error {
	return errors.Join(q.f.Close(), q.hf.Close())
}

func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
}
