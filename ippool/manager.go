package ippool

import (
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"slices"
	"sort"
	"sync"
	"time"

	"github.com/l2tpsecd/l2tpsecd/internal/clock"
)

// Defaults for Config fields left zero.
const (
	DefaultStickyEntries = 65536
	DefaultStaleHold     = 10 * time.Minute
)

// PoolConfig describes one named pool.
type PoolConfig struct {
	Name string
	// Ranges are "10.10.0.10-10.10.0.250", "10.10.1.0/24" (network and
	// broadcast addresses left out for /30 and shorter) or single addresses.
	Ranges []string
	// Exclude lists addresses, ranges or CIDRs never handed out dynamically:
	// the gateway address, and the static addresses of users (a static
	// address is still granted to its user by Request.Static).
	Exclude []string
}

// Config configures a Manager.
type Config struct {
	Pools []PoolConfig
	// Default is the pool used when a request names none; empty means the
	// first pool.
	Default string
	// StickyEntries bounds the user -> last address memory (LRU). Zero means
	// DefaultStickyEntries; negative disables sticky addresses.
	StickyEntries int
	// StateDir holds the lease journal; empty keeps leases in memory only.
	StateDir string
	// StaleHold is how long leases restored from the journal stay
	// quarantined (see the package doc). Zero means DefaultStaleHold;
	// negative releases them at once.
	StaleHold time.Duration
}

// Options are the dependencies of a Manager.
type Options struct {
	Clock  clock.Clock  // nil means clock.Real
	Logger *slog.Logger // nil discards
}

// Request asks for an address.
type Request struct {
	// Owner identifies the session holding the lease (required); Release
	// must name the same owner.
	Owner string
	// User is the authenticated user name, for sticky addresses and for
	// re-claiming a stale lease after a restart. May be empty.
	User string
	// Pool names the pool (RADIUS Framed-Pool, users file); empty means
	// the default pool.
	Pool string
	// Static, when valid, asks for exactly this address (users file static
	// address, RADIUS Framed-IP-Address). It may lie inside a pool (it must
	// be free) or outside every pool (it must not be leased).
	Static netip.Addr
}

// Lease is a snapshot of one lease.
type Lease struct {
	Addr   netip.Addr
	Pool   string // empty for a static address outside every pool
	Owner  string
	User   string
	Static bool
	// Stale marks a lease restored from the journal that nobody has
	// re-claimed yet; it is released at StaleUntil.
	Stale      bool
	StaleUntil time.Time
	Since      time.Time
}

// PoolStats are the gauges and counters of one pool.
type PoolStats struct {
	Name        string
	Size        uint64 // allocatable addresses (ranges minus exclusions)
	Used        uint64 // leased addresses inside the pool, stale included
	Stale       uint64 // of Used, restored leases not yet re-claimed
	Free        uint64
	Allocations uint64 // leases granted since start
	Exhausted   uint64 // requests refused because the pool was full
}

type lease struct {
	addr       uint32
	pool       string
	owner      string
	user       string
	static     bool
	stale      bool
	staleUntil time.Time
	since      time.Time
}

func (l *lease) snapshot() Lease {
	return Lease{
		Addr: u32ToAddr(l.addr), Pool: l.pool, Owner: l.owner, User: l.user,
		Static: l.static, Stale: l.stale, StaleUntil: l.staleUntil, Since: l.since,
	}
}

// segRef maps a segment back to its pool, for lookups by address.
type segRef struct {
	span
	pool *pool
}

// Manager owns every pool and every lease. All methods are safe for
// concurrent use; each is O(1) apart from binary searches over the list of
// segments (a handful) and the journal write.
type Manager struct {
	clock clock.Clock
	log   *slog.Logger

	mu           sync.Mutex
	pools        map[string]*pool
	order        []string
	defaultPool  string
	index        []segRef // every segment of every pool, sorted
	leases       map[uint32]*lease
	byOwner      map[string]uint32 // owner -> its lease (live or stale)
	staleByOwner map[string]uint32
	staleByUser  map[string]uint32
	staleTimer   clock.Timer
	sticky       *stickyLRU
	journal      *journal
	closed       bool
	outsideStats struct{ allocations uint64 }
}

// New builds the pools, restores leases from cfg.StateDir and starts the
// quarantine of restored leases.
func New(cfg Config, opt Options) (*Manager, error) {
	if opt.Clock == nil {
		opt.Clock = clock.Real{}
	}
	if opt.Logger == nil {
		opt.Logger = slog.New(slog.DiscardHandler)
	}
	m := &Manager{
		clock:        opt.Clock,
		log:          opt.Logger,
		leases:       make(map[uint32]*lease),
		byOwner:      make(map[string]uint32),
		staleByOwner: make(map[string]uint32),
		staleByUser:  make(map[string]uint32),
	}
	n := cfg.StickyEntries
	if n == 0 {
		n = DefaultStickyEntries
	}
	if n > 0 {
		m.sticky = newStickyLRU(n)
	}
	if err := m.applyConfigLocked(cfg.Pools, cfg.Default); err != nil {
		return nil, err
	}
	if cfg.StateDir == "" {
		return m, nil
	}
	hold := cfg.StaleHold
	if hold == 0 {
		hold = DefaultStaleHold
	}
	j, restored, sticky, err := openJournal(cfg.StateDir)
	if err != nil {
		return nil, err
	}
	m.journal = j
	now := m.clock.Now()
	for _, s := range sticky {
		if m.sticky != nil {
			m.sticky.put(s.user, s.addr)
		}
	}
	for _, r := range restored {
		l := &lease{addr: r.addr, pool: r.pool, owner: r.owner, user: r.user,
			static: r.static, stale: true, staleUntil: now.Add(hold), since: r.since}
		if _, dup := m.leases[l.addr]; dup {
			continue
		}
		m.leases[l.addr] = l
		if p, i := m.findLocked(l.addr); p != nil {
			p.takeSpecific(i, l.addr)
		}
		m.staleByOwner[l.owner] = l.addr
		m.byOwner[l.owner] = l.addr
		if l.user != "" {
			m.staleByUser[l.user] = l.addr
		}
	}
	if err := m.journal.compact(m.snapshotRecordsLocked()); err != nil {
		m.journal.close()
		return nil, err
	}
	if len(restored) > 0 {
		m.log.Info("ippool: restored leases from the journal, quarantined until re-claimed or expired",
			"leases", len(restored), "hold", hold)
		if hold < 0 {
			m.expireStale()
		} else {
			m.staleTimer = m.clock.AfterFunc(hold, m.expireStale)
		}
	}
	return m, nil
}

// applyConfigLocked parses pools and rebuilds every segment. Leases survive
// untouched; those whose address is no longer in any pool stay until
// released and are then dropped.
func (m *Manager) applyConfigLocked(cfgs []PoolConfig, def string) error {
	if len(cfgs) == 0 {
		return fmt.Errorf("%w: no pools configured", ErrBadConfig)
	}
	pools := make(map[string]*pool, len(cfgs))
	var order []string
	var index []segRef
	for _, pc := range cfgs {
		if pc.Name == "" {
			return fmt.Errorf("%w: a pool has no name", ErrBadConfig)
		}
		if _, dup := pools[pc.Name]; dup {
			return fmt.Errorf("%w: pool %q defined twice", ErrBadConfig, pc.Name)
		}
		var rs, ex []span
		for _, r := range pc.Ranges {
			s, err := parseSpan(r, true)
			if err != nil {
				return fmt.Errorf("pool %q: %w", pc.Name, err)
			}
			rs = append(rs, s)
		}
		for _, r := range pc.Exclude {
			s, err := parseSpan(r, false)
			if err != nil {
				return fmt.Errorf("pool %q exclude: %w", pc.Name, err)
			}
			ex = append(ex, s)
		}
		if len(rs) == 0 {
			return fmt.Errorf("%w: pool %q has no ranges", ErrBadConfig, pc.Name)
		}
		rs = normalize(rs)
		segs := subtract(rs, normalize(ex))
		p := newPool(pc, rs, segs)
		pools[pc.Name] = p
		order = append(order, pc.Name)
		for _, s := range segs {
			index = append(index, segRef{span: s, pool: p})
		}
	}
	sort.Slice(index, func(i, j int) bool { return index[i].first < index[j].first })
	for i := 1; i < len(index); i++ {
		if index[i].first <= index[i-1].last {
			return fmt.Errorf("%w: %s and %s share %s", ErrOverlap, index[i-1].pool.name, index[i].pool.name, u32ToAddr(index[i].first))
		}
	}
	if def == "" {
		def = order[0]
	}
	if _, ok := pools[def]; !ok {
		return fmt.Errorf("%w: default pool %q is not defined", ErrUnknownPool, def)
	}
	// Carry counters over and mark live leases as taken in the new layout.
	for name, p := range pools {
		if old, ok := m.pools[name]; ok {
			p.allocations, p.exhausted = old.allocations, old.exhausted
		}
	}
	m.pools, m.order, m.index, m.defaultPool = pools, order, index, def
	for a := range m.leases {
		if p, i := m.findLocked(a); p != nil {
			p.takeSpecific(i, a)
		}
	}
	return nil
}

// Reconfigure replaces the pools. Ranges may be added or removed live: a
// removed range's live leases keep their addresses until released, and the
// addresses are then dropped instead of being handed out again.
func (m *Manager) Reconfigure(pools []PoolConfig, def string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return ErrClosed
	}
	// Build on a scratch copy so that an invalid configuration changes
	// nothing.
	scratch := &Manager{pools: m.pools, leases: map[uint32]*lease{}}
	if err := scratch.applyConfigLocked(pools, def); err != nil {
		return err
	}
	return m.applyConfigLocked(pools, def)
}

// findLocked returns the pool and segment index holding a.
func (m *Manager) findLocked(a uint32) (*pool, int) {
	i := sort.Search(len(m.index), func(i int) bool { return m.index[i].last >= a })
	if i < len(m.index) && m.index[i].first <= a {
		p := m.index[i].pool
		return p, p.segIndex(a)
	}
	return nil, -1
}

// Allocate grants an address to req.Owner. In order: an owner that already
// holds a live lease gets it again (IPCP may ask twice) or ErrOwnerHasLease
// if the request asks for something else; a stale lease of the same owner,
// or of the same user, is re-claimed; a static address is granted exactly
// or refused; the user's previous address is granted again if free
// (sticky); otherwise any free address of the pool.
func (m *Manager) Allocate(req Request) (Lease, error) {
	if req.Owner == "" {
		return Lease{}, ErrNoOwner
	}
	var static uint32
	if req.Static.IsValid() {
		var ok bool
		if static, ok = addrToU32(req.Static); !ok {
			return Lease{}, fmt.Errorf("%w: %s", ErrNotIPv4, req.Static)
		}
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return Lease{}, ErrClosed
	}
	if a, ok := m.byOwner[req.Owner]; ok {
		if l := m.leases[a]; l != nil && !l.stale {
			sameStatic := !req.Static.IsValid() || static == l.addr
			samePool := req.Static.IsValid() || req.Pool == "" || req.Pool == l.pool
			if sameStatic && samePool {
				return l.snapshot(), nil
			}
			return Lease{}, fmt.Errorf("%w: %q holds %s", ErrOwnerHasLease, req.Owner, u32ToAddr(a))
		}
	}
	if l := m.reclaimLocked(req, static); l != nil {
		return l.snapshot(), nil
	}
	now := m.clock.Now()
	l := &lease{owner: req.Owner, user: req.User, since: now}
	var p *pool
	switch {
	case req.Static.IsValid():
		if held, ok := m.leases[static]; ok {
			return Lease{}, &InUseError{Addr: req.Static, Owner: held.owner, User: held.user}
		}
		var i int
		if p, i = m.findLocked(static); p != nil {
			p.takeSpecific(i, static)
			l.pool = p.name
		}
		l.addr, l.static = static, true
	default:
		name := req.Pool
		if name == "" {
			name = m.defaultPool
		}
		p = m.pools[name]
		if p == nil {
			return Lease{}, fmt.Errorf("%w: %q", ErrUnknownPool, name)
		}
		l.pool = name
		got := false
		if m.sticky != nil && req.User != "" {
			if a, ok := m.sticky.get(req.User); ok {
				if _, held := m.leases[a]; !held {
					if i := p.segIndex(a); i >= 0 {
						p.takeSpecific(i, a)
						l.addr, got = a, true
					}
				}
			}
		}
		if !got {
			a, ok := p.takeAny()
			if !ok {
				p.exhausted++
				return Lease{}, &ExhaustedError{Pool: name}
			}
			l.addr = a
		}
	}
	if err := m.journal.append(record{Op: opAlloc, Addr: u32ToAddr(l.addr).String(), Owner: l.owner,
		User: l.user, Pool: l.pool, Static: l.static, Since: now.Unix()}); err != nil {
		if p != nil {
			p.put(l.addr)
		}
		return Lease{}, err
	}
	m.leases[l.addr] = l
	m.byOwner[l.owner] = l.addr
	if p != nil {
		p.allocations++
	} else {
		m.outsideStats.allocations++
	}
	if m.sticky != nil && l.user != "" && !l.static {
		m.sticky.put(l.user, l.addr)
	}
	m.maybeCompactLocked()
	return l.snapshot(), nil
}

// reclaimLocked turns a stale lease back into a live one for the session
// that asks for it: the same owner, or the same user (a restart ended that
// user's session, so the address is theirs to have back).
func (m *Manager) reclaimLocked(req Request, static uint32) *lease {
	a, ok := m.staleByOwner[req.Owner]
	if !ok && req.User != "" {
		a, ok = m.staleByUser[req.User]
	}
	if !ok {
		return nil
	}
	l := m.leases[a]
	if l == nil || !l.stale {
		return nil
	}
	if req.Static.IsValid() && static != a {
		return nil
	}
	if !req.Static.IsValid() && (l.static || req.Pool != "" && req.Pool != l.pool) {
		return nil
	}
	if err := m.journal.append(record{Op: opAlloc, Addr: u32ToAddr(a).String(), Owner: req.Owner,
		User: req.User, Pool: l.pool, Static: l.static, Since: m.clock.Now().Unix()}); err != nil {
		return nil
	}
	m.unstaleLocked(l)
	if m.byOwner[l.owner] == a {
		delete(m.byOwner, l.owner)
	}
	l.owner, l.user = req.Owner, req.User
	m.byOwner[l.owner] = a
	return l
}

func (m *Manager) unstaleLocked(l *lease) {
	if m.staleByOwner[l.owner] == l.addr {
		delete(m.staleByOwner, l.owner)
	}
	if l.user != "" && m.staleByUser[l.user] == l.addr {
		delete(m.staleByUser, l.user)
	}
	l.stale, l.staleUntil = false, time.Time{}
}

// Release ends the lease on addr held by owner.
func (m *Manager) Release(addr netip.Addr, owner string) error {
	a, ok := addrToU32(addr)
	if !ok {
		return fmt.Errorf("%w: %s", ErrNotIPv4, addr)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return ErrClosed
	}
	l := m.leases[a]
	if l == nil {
		return fmt.Errorf("%w: %s", ErrNoLease, addr)
	}
	if l.owner != owner {
		return fmt.Errorf("%w: %s is held by %q, not %q", ErrNotOwner, addr, l.owner, owner)
	}
	return m.releaseLocked(l)
}

// ReleaseOwner ends the lease held by owner, for a teardown that knows the
// session but not its address.
func (m *Manager) ReleaseOwner(owner string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return ErrClosed
	}
	a, ok := m.byOwner[owner]
	if !ok || m.leases[a] == nil {
		return fmt.Errorf("%w: owner %q", ErrNoLease, owner)
	}
	return m.releaseLocked(m.leases[a])
}

func (m *Manager) releaseLocked(l *lease) error {
	err := m.journal.append(record{Op: opRelease, Addr: u32ToAddr(l.addr).String()})
	if err != nil {
		// Keeping the lease is the safe side: the address is not handed
		// out again while the journal may still say it is leased.
		return err
	}
	if l.stale {
		m.unstaleLocked(l)
	}
	delete(m.leases, l.addr)
	if a, ok := m.byOwner[l.owner]; ok && a == l.addr {
		delete(m.byOwner, l.owner)
	}
	if p, _ := m.findLocked(l.addr); p != nil {
		p.put(l.addr)
	}
	if m.sticky != nil && l.user != "" && !l.static {
		m.sticky.put(l.user, l.addr)
	}
	m.maybeCompactLocked()
	return nil
}

// expireStale releases every restored lease that nobody re-claimed.
func (m *Manager) expireStale() {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return
	}
	now := m.clock.Now()
	var errs []error
	for _, l := range m.leases {
		if l.stale && !l.staleUntil.After(now) {
			if err := m.releaseLocked(l); err != nil {
				errs = append(errs, err)
			}
		}
	}
	if err := errors.Join(errs...); err != nil {
		m.log.Error("ippool: releasing stale leases", "err", err)
	}
}

// Lookup returns the lease on addr.
func (m *Manager) Lookup(addr netip.Addr) (Lease, bool) {
	a, ok := addrToU32(addr)
	if !ok {
		return Lease{}, false
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if l := m.leases[a]; l != nil {
		return l.snapshot(), true
	}
	return Lease{}, false
}

// Leases returns every lease, sorted by address.
func (m *Manager) Leases() []Lease {
	m.mu.Lock()
	out := make([]Lease, 0, len(m.leases))
	for _, l := range m.leases {
		out = append(out, l.snapshot())
	}
	m.mu.Unlock()
	slices.SortFunc(out, func(a, b Lease) int { return a.Addr.Compare(b.Addr) })
	return out
}

// Stats returns the gauges and counters of every pool, in configuration
// order.
func (m *Manager) Stats() []PoolStats {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]PoolStats, 0, len(m.order))
	stale := make(map[*pool]uint64)
	for _, l := range m.leases {
		if l.stale {
			if p, _ := m.findLocked(l.addr); p != nil {
				stale[p]++
			}
		}
	}
	for _, name := range m.order {
		p := m.pools[name]
		out = append(out, PoolStats{
			Name: name, Size: p.size, Used: uint64(p.inUse), Stale: stale[p],
			Free: p.size - uint64(p.inUse), Allocations: p.allocations, Exhausted: p.exhausted,
		})
	}
	return out
}

// RoutePrefixes returns CIDR prefixes that exactly cover the configured
// ranges of every pool (exclusions included, so that the gateway and static
// addresses inside a range are routed too), for routes toward the TUN
// device.
func (m *Manager) RoutePrefixes() []netip.Prefix {
	m.mu.Lock()
	defer m.mu.Unlock()
	var all []span
	for _, p := range m.pools {
		all = append(all, p.ranges...)
	}
	var out []netip.Prefix
	for _, s := range normalize(all) {
		out = append(out, prefixesOf(s)...)
	}
	return out
}

// Close stops the quarantine timer and closes the journal. Leases stay in
// the journal and come back as stale on the next New.
func (m *Manager) Close() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return nil
	}
	m.closed = true
	if m.staleTimer != nil {
		m.staleTimer.Stop()
	}
	return m.journal.close()
}

func (m *Manager) snapshotRecordsLocked() []record {
	var recs []record
	if m.sticky != nil {
		m.sticky.each(func(user string, a uint32) {
			recs = append(recs, record{Op: opSticky, User: user, Addr: u32ToAddr(a).String()})
		})
	}
	for _, l := range m.leases {
		recs = append(recs, record{Op: opAlloc, Addr: u32ToAddr(l.addr).String(), Owner: l.owner,
			User: l.user, Pool: l.pool, Static: l.static, Since: l.since.Unix()})
	}
	return recs
}

// maybeCompactLocked rewrites the journal when it has grown well beyond the
// live state, so that it stays proportional to the number of leases.
func (m *Manager) maybeCompactLocked() {
	if m.journal == nil || m.journal.records < 4*(len(m.leases)+m.sticky.len())+1024 {
		return
	}
	if err := m.journal.compact(m.snapshotRecordsLocked()); err != nil {
		m.log.Error("ippool: compacting the lease journal", "err", err)
	}
}
