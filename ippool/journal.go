package ippool

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"time"
)

// JournalFile is the name of the lease journal inside the state directory.
const JournalFile = "leases.journal"

// journalOp is the kind of one journal record.
type journalOp string

const (
	opAlloc   journalOp = "a" // a lease was granted (or re-claimed)
	opRelease journalOp = "r" // a lease ended
	opSticky  journalOp = "s" // user -> last address, written at compaction
)

func (o journalOp) String() string {
	switch o {
	case opAlloc:
		return "alloc"
	case opRelease:
		return "release"
	case opSticky:
		return "sticky"
	}
	return fmt.Sprintf("journalOp(%q)", string(o))
}

// record is one line of the journal (JSON, one object per line).
type record struct {
	Op     journalOp `json:"op"`
	Addr   string    `json:"addr"`
	Owner  string    `json:"owner,omitempty"`
	User   string    `json:"user,omitempty"`
	Pool   string    `json:"pool,omitempty"`
	Static bool      `json:"static,omitempty"`
	Since  int64     `json:"since,omitempty"`
}

type restoredLease struct {
	addr   uint32
	owner  string
	user   string
	pool   string
	static bool
	since  time.Time
}

type stickyRecord struct {
	user string
	addr uint32
}

// journal is an append-only file of records, each written and fsynced
// before the change it records takes effect, and rewritten (temp file,
// fsync, rename, fsync of the directory) at start and whenever it has grown
// well beyond the live state. A torn last line from a crash is skipped.
type journal struct {
	dir     string
	f       *os.File
	records int
	buf     bytes.Buffer
}

func openJournal(dir string) (*journal, []restoredLease, []stickyRecord, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, nil, nil, fmt.Errorf("ippool: state directory: %w", err)
	}
	j := &journal{dir: dir}
	path := filepath.Join(dir, JournalFile)
	data, err := os.ReadFile(path)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, nil, nil, fmt.Errorf("ippool: reading lease journal: %w", err)
	}
	restored, sticky := replay(data)
	return j, restored, sticky, nil
}

// replay rebuilds the live leases and the sticky memory from journal bytes.
// Lines that do not parse (a write torn by a crash) are skipped: losing a
// release only quarantines an address, and an allocation is fsynced before
// the address is handed out, so only the last line can be torn.
func replay(data []byte) ([]restoredLease, []stickyRecord) {
	live := make(map[uint32]restoredLease)
	var sticky []stickyRecord
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 4096), 1<<20)
	for sc.Scan() {
		var r record
		if json.Unmarshal(sc.Bytes(), &r) != nil {
			continue
		}
		ip, err := netip.ParseAddr(r.Addr)
		if err != nil {
			continue
		}
		a, ok := addrToU32(ip)
		if !ok {
			continue
		}
		switch r.Op {
		case opAlloc:
			if r.Owner == "" {
				continue
			}
			live[a] = restoredLease{addr: a, owner: r.Owner, user: r.User, pool: r.Pool,
				static: r.Static, since: time.Unix(r.Since, 0)}
			if r.User != "" && !r.Static {
				sticky = append(sticky, stickyRecord{r.User, a})
			}
		case opRelease:
			if l, ok := live[a]; ok {
				delete(live, a)
				if l.user != "" && !l.static {
					sticky = append(sticky, stickyRecord{l.user, a})
				}
			}
		case opSticky:
			if r.User != "" {
				sticky = append(sticky, stickyRecord{r.User, a})
			}
		}
	}
	out := make([]restoredLease, 0, len(live))
	for _, l := range live {
		out = append(out, l)
	}
	slices.SortFunc(out, func(x, y restoredLease) int {
		switch {
		case x.addr < y.addr:
			return -1
		case x.addr > y.addr:
			return 1
		}
		return 0
	})
	return out, sticky
}

// append writes one record and waits for it to reach the disk. A nil
// journal (no state directory) accepts everything.
func (j *journal) append(r record) error {
	if j == nil {
		return nil
	}
	if j.f == nil {
		return fmt.Errorf("ippool: lease journal is not open")
	}
	j.buf.Reset()
	if err := json.NewEncoder(&j.buf).Encode(r); err != nil {
		return fmt.Errorf("ippool: encoding journal record: %w", err)
	}
	if _, err := j.f.Write(j.buf.Bytes()); err != nil {
		return fmt.Errorf("ippool: writing lease journal: %w", err)
	}
	if err := j.f.Sync(); err != nil {
		return fmt.Errorf("ippool: syncing lease journal: %w", err)
	}
	j.records++
	return nil
}

// compact replaces the journal with recs atomically and reopens it for
// appending.
func (j *journal) compact(recs []record) error {
	path := filepath.Join(j.dir, JournalFile)
	tmp, err := os.CreateTemp(j.dir, JournalFile+".tmp*")
	if err != nil {
		return fmt.Errorf("ippool: compacting lease journal: %w", err)
	}
	defer os.Remove(tmp.Name()) // no-op once renamed
	w := bufio.NewWriter(tmp)
	enc := json.NewEncoder(w)
	for _, r := range recs {
		if err := enc.Encode(r); err != nil {
			tmp.Close()
			return fmt.Errorf("ippool: compacting lease journal: %w", err)
		}
	}
	if err := w.Flush(); err != nil {
		tmp.Close()
		return fmt.Errorf("ippool: compacting lease journal: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("ippool: compacting lease journal: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("ippool: compacting lease journal: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("ippool: compacting lease journal: %w", err)
	}
	if d, err := os.Open(j.dir); err == nil {
		d.Sync()
		d.Close()
	}
	if j.f != nil {
		j.f.Close()
		j.f = nil // appends fail from here until a reopen succeeds
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return fmt.Errorf("ippool: reopening lease journal: %w", err)
	}
	j.f, j.records = f, len(recs)
	return nil
}

func (j *journal) close() error {
	if j == nil || j.f == nil {
		return nil
	}
	err := j.f.Close()
	j.f = nil
	return err
}
