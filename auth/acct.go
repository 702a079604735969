package auth

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"time"

	"layeh.com/radius"
	"layeh.com/radius/rfc2865"
	"layeh.com/radius/rfc2866"
	"layeh.com/radius/rfc2869"

	"github.com/l2tpsecd/l2tpsecd/internal/clock"
)

// AcctConfig configures RADIUS accounting beyond the servers.
type AcctConfig struct {
	// StateDir holds the on-disk queue (acct.queue.*); required.
	StateDir string
	// MaxQueueBytes bounds the on-disk queue (default 64 MiB). When it is
	// full the oldest Interim-Updates are dropped first; then new Starts
	// and Interim-Updates are refused; Stops are always kept.
	MaxQueueBytes int64
	// RetryInterval is how long to wait after every server failed before
	// trying again (default 10 s). Dead servers come back after
	// RadiusConfig.DeadTime.
	RetryInterval time.Duration
}

// RadiusAcct is the RADIUS accounting back end (RFC 2866, RFC 2869). It
// implements Accounter: Account returns at once (it takes one short lock,
// never waits for the disk or the network) and one sender goroutine
// delivers the records in order.
//
// A record is in one of three places, in this order: the incoming list
// (just accounted), memory (taken by the sender, possibly in flight), and
// the on-disk queue. While a server answers, Starts and Interim-Updates
// stay in memory for the time of their exchange. A Stop is written to disk
// at once by a persister goroutine, together with everything accounted
// before it (including a record in flight), so that a crash cannot lose
// it. As soon as every server fails, everything goes to disk and stays
// there, in order, until the queue has been emptied again, also across a
// restart (NewRadiusAcct loads the queue). Close writes what is left in
// memory to disk.
type RadiusAcct struct {
	c    *client
	acfg AcctConfig

	ctx     context.Context
	cancel  context.CancelFunc
	wake    chan struct{} // to the sender
	persist chan struct{} // to the persister: a Stop arrived
	done    chan struct{} // both goroutines ended
	wg      sync.WaitGroup

	inMu         sync.Mutex // guards incoming, incomingStop and closed
	incoming     []AcctRecord
	incomingStop bool
	closed       bool

	mu sync.Mutex // guards the fields below; taken before inMu
	// mem holds records taken from incoming, not on disk, in order.
	mem []AcctRecord
	// inflight is the record being sent; onDisk says it is also the head
	// of the disk queue (it came from there or was written since).
	inflight *AcctRecord
	onDisk   bool
	disk     *diskQueue
	blocked  bool // every server failed; wait for the retry timer
	retry    clock.Timer
}

// NewRadiusAcct loads the on-disk queue from acfg.StateDir and starts the
// sender, which delivers queued records first.
func NewRadiusAcct(cfg RadiusConfig, acfg AcctConfig) (*RadiusAcct, error) {
	c, err := newClient("acct", cfg)
	if err != nil {
		return nil, err
	}
	if acfg.StateDir == "" {
		return nil, fmt.Errorf("%w: accounting needs a state directory", ErrBadConfig)
	}
	if acfg.MaxQueueBytes <= 0 {
		acfg.MaxQueueBytes = 64 << 20
	}
	if acfg.RetryInterval <= 0 {
		acfg.RetryInterval = 10 * time.Second
	}
	q, err := openDiskQueue(acfg.StateDir, acfg.MaxQueueBytes)
	if err != nil {
		return nil, err
	}
	a := &RadiusAcct{c: c, acfg: acfg, disk: q, wake: make(chan struct{}, 1),
		persist: make(chan struct{}, 1), done: make(chan struct{})}
	a.ctx, a.cancel = context.WithCancel(context.Background())
	c.cfg.Metrics.QueueLen.Set(float64(q.len()))
	if q.len() > 0 {
		c.cfg.Log.Info("accounting records queued on disk", "records", q.len())
	}
	a.wg.Add(2)
	go a.run()
	go a.persister()
	go func() { a.wg.Wait(); close(a.done) }()
	return a, nil
}

// Account implements Accounter.
func (a *RadiusAcct) Account(rec AcctRecord) {
	if rec.Time.IsZero() {
		rec.Time = a.c.cfg.Clock.Now()
	}
	a.inMu.Lock()
	if a.closed {
		a.inMu.Unlock()
		a.c.cfg.Log.Error("accounting record after Close", "session", rec.Session.SessionID, "status", rec.Status)
		return
	}
	a.incoming = append(a.incoming, rec)
	stop := rec.Status == AcctStop
	a.incomingStop = a.incomingStop || stop
	a.inMu.Unlock()
	if stop {
		signal(a.persist)
	}
	signal(a.wake)
}

// Queued returns the number of records waiting on disk and in memory
// (including one in flight that is not on disk).
func (a *RadiusAcct) Queued() (disk, mem int) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.inMu.Lock()
	defer a.inMu.Unlock()
	mem = len(a.mem) + len(a.incoming)
	if a.inflight != nil && !a.onDisk {
		mem++
	}
	return a.disk.len(), mem
}

// Close stops the sender, writes the records not yet delivered to the disk
// queue and closes it. An exchange in progress is abandoned (its record is
// kept, so it may reach the server twice).
func (a *RadiusAcct) Close() error {
	a.inMu.Lock()
	if a.closed {
		a.inMu.Unlock()
		return nil
	}
	a.closed = true
	a.inMu.Unlock()
	a.c.closed.Store(true)
	a.cancel()
	<-a.done
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.retry != nil {
		a.retry.Stop()
	}
	a.takeIncomingLocked()
	err := a.spillLocked()
	return errors.Join(err, a.disk.close())
}

func signal(c chan struct{}) {
	select {
	case c <- struct{}{}:
	default:
	}
}

// takeIncomingLocked moves incoming to the end of mem.
func (a *RadiusAcct) takeIncomingLocked() {
	a.inMu.Lock()
	a.mem = append(a.mem, a.incoming...)
	clear(a.incoming)
	a.incoming = a.incoming[:0]
	a.incomingStop = false
	a.inMu.Unlock()
}

// spillLocked writes the record in flight (unless already there) and the
// records in memory to the end of the disk queue, in order. On a disk
// error what was not written stays in memory.
func (a *RadiusAcct) spillLocked() error {
	if a.inflight != nil && !a.onDisk {
		// The sender only sends from memory while the disk queue is
		// empty, so the record in flight becomes the head.
		if err := a.pushLocked(*a.inflight); err != nil {
			return err
		}
		a.onDisk = true
	}
	var err error
	i := 0
	for ; i < len(a.mem); i++ {
		if err = a.pushLocked(a.mem[i]); err != nil {
			break
		}
	}
	n := copy(a.mem, a.mem[i:])
	clear(a.mem[n:])
	a.mem = a.mem[:n]
	a.c.cfg.Metrics.QueueLen.Set(float64(a.disk.len()))
	return err
}

// pushLocked appends rec to the disk queue. A record refused because the
// queue is full is counted and reported as written: there is nothing else
// to do with it.
func (a *RadiusAcct) pushLocked(rec AcctRecord) error {
	dropped, err := a.disk.push(rec)
	for _, d := range dropped {
		a.c.cfg.Metrics.QueueDrops.WithLabelValues(d.Status.String()).Inc()
		a.c.cfg.Log.Warn("accounting queue full: oldest interim update dropped", "session", d.Session.SessionID)
	}
	if errors.Is(err, ErrQueueFull) {
		a.c.cfg.Metrics.QueueDrops.WithLabelValues(rec.Status.String()).Inc()
		a.c.cfg.Log.Error("accounting queue full: record dropped", "session", rec.Session.SessionID, "status", rec.Status)
		return nil
	}
	if err != nil {
		a.c.cfg.Log.Error("accounting queue write", "err", err)
	}
	return err
}

// persister writes Stops to disk as soon as they are accounted.
func (a *RadiusAcct) persister() {
	defer a.wg.Done()
	for {
		select {
		case <-a.persist:
		case <-a.ctx.Done():
			return
		}
		a.mu.Lock()
		a.takeIncomingLocked()
		a.spillLocked()
		a.mu.Unlock()
		signal(a.wake)
	}
}

// next picks the record to send and marks it in flight: the oldest on
// disk, else the oldest in memory. While the disk queue is not empty, new
// records join it first so that order is kept.
func (a *RadiusAcct) next() (AcctRecord, bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.takeIncomingLocked()
	if a.blocked {
		if len(a.mem) > 0 {
			a.spillLocked()
		}
		return AcctRecord{}, false
	}
	if a.disk.len() > 0 && len(a.mem) > 0 {
		a.spillLocked()
	}
	if rec, ok := a.disk.front(); ok {
		a.inflight, a.onDisk = &rec, true
		return rec, true
	}
	if len(a.mem) > 0 {
		rec := a.mem[0]
		a.mem[0] = AcctRecord{}
		a.mem = a.mem[1:]
		a.inflight, a.onDisk = &rec, false
		return rec, true
	}
	return AcctRecord{}, false
}

func (a *RadiusAcct) run() {
	defer a.wg.Done()
	for {
		rec, ok := a.next()
		if !ok {
			select {
			case <-a.wake:
				continue
			case <-a.ctx.Done():
				return
			}
		}
		err := a.sendRecord(a.ctx, rec)
		a.mu.Lock()
		if err == nil {
			if a.onDisk {
				if perr := a.disk.pop(); perr != nil {
					a.c.cfg.Log.Error("accounting queue", "err", perr)
				}
				a.c.cfg.Metrics.QueueLen.Set(float64(a.disk.len()))
			}
			a.inflight = nil
			a.mu.Unlock()
			continue
		}
		if a.ctx.Err() != nil {
			// Close: the record stays in flight for Close to write.
			a.mu.Unlock()
			return
		}
		a.c.cfg.Log.Warn("accounting: no server took the record; queuing on disk", "session", rec.Session.SessionID, "status", rec.Status, "err", err)
		a.takeIncomingLocked()
		a.spillLocked()
		if a.inflight != nil && !a.onDisk {
			// The disk failed too: keep the record first in memory.
			a.mem = append([]AcctRecord{*a.inflight}, a.mem...)
		}
		a.inflight = nil
		a.blocked = true
		a.retry = a.c.cfg.Clock.AfterFunc(a.acfg.RetryInterval, func() {
			a.mu.Lock()
			a.blocked = false
			a.mu.Unlock()
			signal(a.wake)
		})
		a.mu.Unlock()
	}
}

// sendRecord sends one Accounting-Request and waits for the response.
func (a *RadiusAcct) sendRecord(ctx context.Context, rec AcctRecord) error {
	reply, _, err := a.c.send(ctx, func(secret []byte) (*radius.Packet, error) {
		return buildAcct(rec, secret, &a.c.cfg, a.c.cfg.Clock.Now())
	})
	if err != nil {
		return err
	}
	if reply.Code != radius.CodeAccountingResponse {
		return fmt.Errorf("%w: %v to an Accounting-Request", ErrBadReply, reply.Code)
	}
	return nil
}

// NAS-wide accounting records (RFC 2866 section 5.1): send Accounting-On
// through Account when the daemon starts, so that the server closes the
// sessions a crash left open, and Accounting-Off when it stops (after the
// sessions' Stops). Only Status, Time and optionally Session.SessionID
// matter in such a record.
const (
	AcctOn  AcctStatus = 7
	AcctOff AcctStatus = 8
)

// buildAcct builds the Accounting-Request for rec as sent at now (RFC 2866
// section 5, RFC 2869 5.1-5.3 for Gigawords and Event-Timestamp).
func buildAcct(rec AcctRecord, secret []byte, cfg *RadiusConfig, now time.Time) (*radius.Packet, error) {
	p := radius.New(radius.CodeAccountingRequest, secret)
	if err := rfc2866.AcctStatusType_Add(p, rfc2866.AcctStatusType(rec.Status)); err != nil {
		return nil, err
	}
	sid := rec.Session.SessionID
	if sid == "" && (rec.Status == AcctOn || rec.Status == AcctOff) {
		sid = fmt.Sprintf("%08x", rec.Time.Unix())
	}
	if err := rfc2866.AcctSessionID_AddString(p, sid); err != nil {
		return nil, err
	}
	if rec.Status == AcctOn || rec.Status == AcctOff {
		if err := addNAS(p, cfg); err != nil {
			return nil, err
		}
		rfc2869.EventTimestamp_Add(p, rec.Time)
		if d := now.Sub(rec.Time); d >= time.Second {
			rfc2866.AcctDelayTime_Add(p, rfc2866.AcctDelayTime(d/time.Second))
		}
		return p, nil
	}
	if rec.User != "" {
		if err := rfc2865.UserName_AddString(p, rec.User); err != nil {
			return nil, err
		}
	}
	if err := addNAS(p, cfg); err != nil {
		return nil, err
	}
	rfc2865.NASPortType_Add(p, rfc2865.NASPortType_Value_Virtual)
	rfc2865.NASPort_Add(p, rfc2865.NASPort(rec.Session.NASPort))
	rfc2865.ServiceType_Add(p, rfc2865.ServiceType_Value_FramedUser)
	rfc2865.FramedProtocol_Add(p, rfc2865.FramedProtocol_Value_PPP)
	rfc2866.AcctAuthentic_Add(p, rfc2866.AcctAuthentic_Value_RADIUS)
	if rec.Session.CallingStation.IsValid() {
		rfc2865.CallingStationID_AddString(p, rec.Session.CallingStation.Addr().Unmap().String())
	}
	if rec.FramedAddr.IsValid() && rec.FramedAddr.Is4() {
		rfc2865.FramedIPAddress_Add(p, net.IP(rec.FramedAddr.AsSlice()))
	}
	for _, c := range rec.Class {
		if err := rfc2865.Class_Add(p, c); err != nil {
			return nil, err
		}
	}
	if !rec.Time.IsZero() {
		rfc2869.EventTimestamp_Add(p, rec.Time)
		if d := now.Sub(rec.Time); d >= time.Second {
			rfc2866.AcctDelayTime_Add(p, rfc2866.AcctDelayTime(d/time.Second))
		}
	}
	if rec.Status != AcctStart {
		rfc2866.AcctSessionTime_Add(p, rfc2866.AcctSessionTime(rec.SessionTime/time.Second))
		rfc2866.AcctInputOctets_Add(p, rfc2866.AcctInputOctets(uint32(rec.InOctets)))
		rfc2866.AcctOutputOctets_Add(p, rfc2866.AcctOutputOctets(uint32(rec.OutOctets)))
		rfc2869.AcctInputGigawords_Add(p, rfc2869.AcctInputGigawords(uint32(rec.InOctets>>32)))
		rfc2869.AcctOutputGigawords_Add(p, rfc2869.AcctOutputGigawords(uint32(rec.OutOctets>>32)))
		rfc2866.AcctInputPackets_Add(p, rfc2866.AcctInputPackets(uint32(min(rec.InPackets, 1<<32-1))))
		rfc2866.AcctOutputPackets_Add(p, rfc2866.AcctOutputPackets(uint32(min(rec.OutPackets, 1<<32-1))))
	}
	if rec.Status == AcctStop && rec.Cause != 0 {
		rfc2866.AcctTerminateCause_Add(p, rfc2866.AcctTerminateCause(rec.Cause))
	}
	return p, nil
}

// Counters are a session's traffic counters, read by StartInterims.
type Counters struct {
	InOctets, OutOctets   uint64
	InPackets, OutPackets uint64
}

// Interims sends a session's Interim-Updates on a clock.
type Interims struct {
	mu      sync.Mutex
	t       clock.Timer
	stopped bool
}

// InterimInterval picks the interval of Interim-Updates: the server's
// Acct-Interim-Interval when it sent one, else the configured one. Values
// under a minute are raised to a minute, as RFC 2869 section 5.16 asks.
func InterimInterval(configured, fromServer time.Duration) time.Duration {
	d := configured
	if fromServer > 0 {
		d = fromServer
	}
	if d > 0 && d < time.Minute {
		d = time.Minute
	}
	return d
}

// StartInterims sends an Interim-Update for the session of start (its
// Start record: session, user, Class, address, and Time, the session's
// start) every interval, with the counters read from read, until Stop.
// It returns nil when interval is not positive (no interim updates).
func StartInterims(clk clock.Clock, acct Accounter, interval time.Duration, start AcctRecord, read func() Counters) *Interims {
	if interval <= 0 {
		return nil
	}
	it := &Interims{}
	var tick func()
	tick = func() {
		it.mu.Lock()
		if it.stopped {
			it.mu.Unlock()
			return
		}
		it.t = clk.AfterFunc(interval, tick)
		it.mu.Unlock()
		now := clk.Now()
		c := read()
		rec := start
		rec.Status = AcctInterim
		rec.Time = now
		rec.SessionTime = now.Sub(start.Time)
		rec.InOctets, rec.OutOctets = c.InOctets, c.OutOctets
		rec.InPackets, rec.OutPackets = c.InPackets, c.OutPackets
		rec.Cause = 0
		acct.Account(rec)
	}
	it.mu.Lock()
	it.t = clk.AfterFunc(interval, tick)
	it.mu.Unlock()
	return it
}

// Stop ends the updates; safe on a nil Interims and more than once.
func (it *Interims) Stop() {
	if it == nil {
		return
	}
	it.mu.Lock()
	defer it.mu.Unlock()
	it.stopped = true
	if it.t != nil {
		it.t.Stop()
	}
}
