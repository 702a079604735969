package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/l2tpsecd/l2tpsecd/auth"
	"github.com/l2tpsecd/l2tpsecd/crl"
	"github.com/l2tpsecd/l2tpsecd/internal/clock"
	"github.com/l2tpsecd/l2tpsecd/internal/tundev"
	"github.com/l2tpsecd/l2tpsecd/ippool"
	"github.com/l2tpsecd/l2tpsecd/l2tp"
	"github.com/l2tpsecd/l2tpsecd/ppp"
	"github.com/l2tpsecd/l2tpsecd/server/control"
)

// session is one connected user: an L2TP session carrying a PPP link, tied
// to the conn (ESP SAs) it arrived on and, once IPCP is up, to an address.
// Teardown from any side goes through end, once.
type session struct {
	id    string
	d     *Daemon
	c     *conn
	ls    *l2tp.Session
	ppp   *ppp.Session
	since time.Time
	log   *slog.Logger

	bytesIn, bytesOut, pktsIn, pktsOut atomic.Uint64
	nasPort                            uint32

	mu        sync.Mutex // guards the fields below
	user      string
	method    ppp.AuthMethod
	addr      netip.Addr
	up        bool // IPCP opened
	lowerDown bool // the L2TP session is already gone
	ended     bool
	// endCause, when set, is the real reason a lower layer went away (the
	// SAs deleted by the peer or by DPD), reported instead of L2TP's.
	endCause   string
	authCancel context.CancelFunc
	// Accounting: what the back end asked to be echoed (RADIUS Class), its
	// interim interval, and the records sent.
	class       [][]byte
	interimFrom time.Duration
	acctStart   *auth.AcctRecord
	interims    *auth.Interims
	timeout     clock.Timer // a CoA Session-Timeout
}

func (s *session) info() control.SessionInfo {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := "negotiating"
	if s.up {
		st = "up"
	}
	var ikeSuite, espSuite string
	s.d.connMu.Lock()
	if ch := s.c.children[s.c.current()]; ch != nil {
		ikeSuite, espSuite = ch.Phase1.String(), ch.Phase2.String()
	}
	s.d.connMu.Unlock()
	addr := ""
	if s.addr.IsValid() {
		addr = s.addr.String()
	}
	return control.SessionInfo{
		ID: s.id, User: s.user, Address: addr, Peer: s.c.key.remote.String(), Since: s.since, State: st,
		AuthMethod: s.method.String(), IKE: ikeSuite, ESP: espSuite, Datapath: "userspace",
		BytesIn: s.bytesIn.Load(), BytesOut: s.bytesOut.Load(), PacketsIn: s.pktsIn.Load(), PacketsOut: s.pktsOut.Load(),
	}
}

// pppOutput sends a PPP frame buf[start:] (FF 03 + protocol + packet) down
// the session's L2TP session and the conn's current SA.
func (s *session) pppOutput(buf []byte, start int) {
	off, err := s.ls.EncapsulateInPlace(buf, start)
	if err != nil {
		s.d.metrics.Drops.WithLabelValues("encap").Inc()
		return
	}
	if err := s.d.dp.SendUDP(s.c.current(), s.c.serverPort, s.ls.PeerPort(), buf[off:]); err != nil {
		s.d.metrics.Drops.WithLabelValues("send").Inc()
	}
}

// ppp.Handler

func (s *session) LinkUp(info ppp.LinkInfo) {
	s.log.Debug("PPP link up", "peer_mru", info.PeerMRU, "auth", info.Auth)
}

func (s *session) AuthDone(method ppp.AuthMethod, user string, res *ppp.AuthResult) {
	s.mu.Lock()
	s.user, s.method = user, method
	s.mu.Unlock()
	result := "accepted"
	ev := AuditEvent{Event: "user_authenticated", Peer: s.c.key.remote.String(), User: user, Session: s.id,
		Fields: map[string]any{"method": method.String()}}
	if !res.Accept {
		result = "refused"
		ev.Event, ev.Reason, ev.Detail = "user_refused", res.Reason, res.Message
	}
	s.d.metrics.Auth.WithLabelValues(method.String(), result).Inc()
	s.d.audit.Log(ev)
}

func (s *session) NetworkUp(addr netip.Addr) {
	s.mu.Lock()
	s.addr, s.up = addr, true
	user := s.user
	s.mu.Unlock()
	s.d.routes.Set(addr, s)
	s.d.metrics.SessionsUp.Inc()
	s.d.metrics.SetupSeconds.Observe(time.Since(s.c.created).Seconds())
	s.d.audit.Log(AuditEvent{Event: "session_started", Peer: s.c.key.remote.String(), User: user, Session: s.id,
		Fields: map[string]any{"address": addr.String()}})
	s.startAccounting(user, addr)
}

// startAccounting sends the Start record and schedules Interim-Updates.
func (s *session) startAccounting(user string, addr netip.Addr) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.acctStart != nil || s.ended {
		return
	}
	rec := auth.AcctRecord{Status: auth.AcctStart, Session: s.acctSession(), User: user, Class: s.class,
		FramedAddr: addr, Time: s.d.clk.Now()}
	s.acctStart = &rec
	s.d.acct.Account(rec)
	interval := auth.InterimInterval(s.d.currentConfig().RADIUS.InterimInterval.Duration, s.interimFrom)
	s.interims = auth.StartInterims(s.d.clk, s.d.acct, interval, rec, s.counters)
}

func (s *session) counters() auth.Counters {
	return auth.Counters{InOctets: s.bytesIn.Load(), OutOctets: s.bytesOut.Load(),
		InPackets: s.pktsIn.Load(), OutPackets: s.pktsOut.Load()}
}

func (s *session) acctSession() auth.SessionInfo {
	return auth.SessionInfo{SessionID: s.id, CallingStation: s.c.key.remote, NASPort: s.nasPort}
}

func (s *session) userName() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.user
}

// setSessionTimeout ends the session t from now (RADIUS CoA); zero
// removes a limit set this way.
func (s *session) setSessionTimeout(t time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.timeout != nil {
		s.timeout.Stop()
		s.timeout = nil
	}
	if t > 0 {
		s.timeout = s.d.clk.AfterFunc(t, func() { s.ppp.Close(ppp.ReasonSessionTimeout) })
	}
}

func (s *session) NetworkDown() {
	s.mu.Lock()
	addr, wasUp := s.addr, s.up
	s.up = false
	s.mu.Unlock()
	if wasUp {
		s.d.routes.Delete(addr, s)
		s.d.metrics.SessionsUp.Dec()
	}
}

func (s *session) Down(reason ppp.Reason) { s.end(reason.String()) }

// IP is the receive data path: an IP packet from the client, written to the
// TUN device.
func (s *session) IP(pkt []byte) {
	s.pktsIn.Add(1)
	s.bytesIn.Add(uint64(len(pkt)))
	s.d.writeTUN(pkt)
}

// end tears the session down once: routes, address, L2TP session (CDN, and
// StopCCN when it was the tunnel's last), the registry, and the audit line.
func (s *session) end(cause string) {
	s.mu.Lock()
	if s.ended {
		s.mu.Unlock()
		return
	}
	s.ended = true
	if s.endCause != "" {
		cause = s.endCause
	}
	addr, wasUp, user, lower := s.addr, s.up, s.user, s.lowerDown
	s.up = false
	cancel := s.authCancel
	start, interims, timeout := s.acctStart, s.interims, s.timeout
	s.mu.Unlock()
	if timeout != nil {
		timeout.Stop()
	}
	if interims != nil {
		interims.Stop()
	}
	if start != nil {
		c := s.counters()
		now := s.d.clk.Now()
		s.d.acct.Account(auth.AcctRecord{Status: auth.AcctStop, Session: start.Session, User: start.User, Class: start.Class,
			FramedAddr: start.FramedAddr, Time: now, SessionTime: now.Sub(start.Time),
			InOctets: c.InOctets, OutOctets: c.OutOctets, InPackets: c.InPackets, OutPackets: c.OutPackets,
			Cause: terminateCause(cause)})
	}
	if cancel != nil {
		cancel()
	}
	if wasUp {
		s.d.routes.Delete(addr, s)
		s.d.metrics.SessionsUp.Dec()
	}
	s.d.pool.ReleaseOwner(s.id)
	if !lower {
		s.ls.Close(l2tp.Result{Code: l2tp.CDNAdministrative, Message: "PPP: " + cause}, true)
	}
	s.d.connMu.Lock()
	delete(s.d.sessions, s.id)
	s.d.connMu.Unlock()
	s.d.metrics.SessionsEnded.WithLabelValues(cause).Inc()
	ev := AuditEvent{Event: "session_ended", Reason: cause, Peer: s.c.key.remote.String(), User: user, Session: s.id,
		Fields: map[string]any{
			"duration_seconds": int64(time.Since(s.since).Seconds()),
			"bytes_in":         s.bytesIn.Load(), "bytes_out": s.bytesOut.Load(),
			"packets_in": s.pktsIn.Load(), "packets_out": s.pktsOut.Load(),
		}}
	if addr.IsValid() {
		ev.Fields["address"] = addr.String()
	}
	s.d.audit.Log(ev)
}

// addresses is the session's ppp.AddressProvider: the pool, or the user's
// static address.
type addresses struct{ s *session }

func (a addresses) Acquire(user string, res *ppp.AuthResult) (netip.Addr, error) {
	l, err := a.s.d.pool.Allocate(ippool.Request{Owner: a.s.id, User: user, Pool: res.Pool, Static: res.Address})
	if err != nil {
		reason := "address_unavailable"
		if errors.Is(err, ippool.ErrPoolExhausted) {
			reason = "pool_exhausted"
		}
		a.s.d.metrics.AddressFailures.WithLabelValues(reason).Inc()
		a.s.d.audit.Log(AuditEvent{Event: "address_refused", Reason: reason, Detail: err.Error(), Peer: a.s.c.key.remote.String(), User: user, Session: a.s.id})
		return netip.Addr{}, err
	}
	a.s.d.audit.Log(AuditEvent{Event: "address_assigned", Peer: a.s.c.key.remote.String(), User: user, Session: a.s.id,
		Fields: map[string]any{"address": l.Addr.String(), "pool": l.Pool, "static": l.Static}})
	return l.Addr, nil
}

func (a addresses) Release(addr netip.Addr) {
	a.s.d.pool.Release(addr, a.s.id)
}

// authenticator adapts the auth back end to ppp.Authenticator.
type authenticator struct{ s *session }

var methodMap = map[ppp.AuthMethod]auth.Method{
	ppp.AuthPAP: auth.MethodPAP, ppp.AuthCHAPMD5: auth.MethodCHAPMD5, ppp.AuthMSCHAPv2: auth.MethodMSCHAPv2,
}

func (a authenticator) Authenticate(req *ppp.AuthRequest, done func(ppp.AuthResult)) {
	s := a.s
	ctx, cancel := context.WithCancel(context.Background())
	s.mu.Lock()
	s.authCancel = cancel
	s.mu.Unlock()
	if req.Method == ppp.AuthEAP {
		s.authenticateEAP(ctx, cancel, req, done)
		return
	}
	m, ok := methodMap[req.Method]
	if !ok {
		cancel()
		done(ppp.AuthResult{Reason: "method_unavailable", Message: "method not supported"})
		return
	}
	areq := auth.Request{
		Method: m, User: req.User, Password: req.Password, CHAPID: req.CHAPID, Challenge: req.Challenge,
		Response: req.Response, PeerChallenge: req.PeerChallenge, NTResponse: req.NTResponse,
		Session: s.acctSession(),
	}
	finish := func(r auth.RadiusReply) {
		cancel()
		if r.Accepted {
			r.Result = s.bindToCertificate(req.User, r.Result)
		}
		done(s.pppResult(r))
	}
	if ra := s.d.radius.Load(); ra != nil {
		ra.AuthenticateRadius(ctx, areq, finish)
		return
	}
	s.d.users.Authenticate(ctx, areq, func(r auth.Result) { finish(auth.RadiusReply{Result: r}) })
}

// pppResult turns a back end's verdict into PPP's, remembering what
// accounting needs, and applying the configured limits where the back end
// sent none.
func (s *session) pppResult(r auth.RadiusReply) ppp.AuthResult {
	res := ppp.AuthResult{
		Accept: r.Accepted, Reason: r.Reason.String(), Message: r.ReplyMessage, AuthenticatorResponse: r.AuthenticatorResponse,
		Pool: r.Pool, Address: r.StaticAddr, SessionTimeout: r.SessionTimeout, IdleTimeout: r.IdleTimeout,
	}
	cfg := s.d.currentConfig()
	if res.SessionTimeout == 0 {
		res.SessionTimeout = cfg.PPP.SessionTimeout.Duration
	}
	if res.IdleTimeout == 0 {
		res.IdleTimeout = cfg.PPP.IdleTimeout.Duration
	}
	if !r.Accepted {
		res.MSCHAPError = r.MSCHAPError
		if res.MSCHAPError == 0 {
			res.MSCHAPError = r.Reason.MSCHAPError()
		}
		if r.Detail != "" {
			res.Reason = fmt.Sprintf("%s: %s", r.Reason, r.Detail)
		}
	}
	for i, a := range r.DNS {
		if i < 2 {
			res.DNS[i] = a
		}
	}
	if len(r.Class) > 0 {
		res.Class = r.Class[0]
	}
	s.mu.Lock()
	s.class, s.interimFrom = r.Class, r.InterimInterval
	s.mu.Unlock()
	return res
}

// authenticateEAP relays one EAP round to RADIUS (pass-through: the EAP
// method is between the client and the RADIUS server).
func (s *session) authenticateEAP(ctx context.Context, cancel context.CancelFunc, req *ppp.AuthRequest, done func(ppp.AuthResult)) {
	ra := s.d.radius.Load()
	if ra == nil {
		cancel()
		done(ppp.AuthResult{Reason: "method_unavailable", Message: "EAP needs a RADIUS server"})
		return
	}
	ra.AuthenticateEAP(ctx, auth.EAPRequest{User: req.User, EAPMessage: req.EAPMessage, State: req.EAPState, Session: s.acctSession()},
		func(r auth.EAPResult) {
			cancel()
			if r.Continue {
				done(ppp.AuthResult{Continue: true, EAPMessage: r.EAPMessage, EAPState: r.State})
				return
			}
			if r.Accepted {
				r.Result = s.bindToCertificate(req.User, r.Result)
			}
			res := s.pppResult(r.RadiusReply)
			res.EAPMessage = r.EAPMessage
			done(res)
		})
}

// writeTUN writes one IP packet from a client to the TUN device. The packet
// is valid only during the call, so it is copied into a pooled buffer with
// the headroom the device wants; MSS clamping happens on the copy.
func (d *Daemon) writeTUN(pkt []byte) {
	if len(pkt) > maxPacket {
		d.metrics.Drops.WithLabelValues("oversize").Inc()
		return
	}
	b := d.tunBufs.Get().(*tunBuf)
	n := copy(b.data[tundev.MinOffset:], pkt)
	p := b.data[:tundev.MinOffset+n]
	if d.mss > 0 {
		tundev.ClampMSS(p[tundev.MinOffset:], d.mss)
	}
	b.bufs[0] = p
	if _, err := d.tun.Write(b.bufs[:], tundev.MinOffset); err != nil {
		d.metrics.Drops.WithLabelValues("tun_write").Inc()
	}
	b.bufs[0] = nil
	d.tunBufs.Put(b)
}

const maxPacket = 65535

type tunBuf struct {
	data [tundev.MinOffset + maxPacket]byte
	bufs [1][]byte
}

// bindToCertificate enforces cert.require_user_match: a user accepted by the
// back end is refused unless the name names the holder of the certificate
// the client authenticated IPsec with.
func (s *session) bindToCertificate(user string, r auth.Result) auth.Result {
	if !s.d.currentConfig().Cert.RequireUserMatch {
		return r
	}
	s.d.connMu.Lock()
	cert := s.c.peerCert
	s.d.connMu.Unlock()
	if cert == nil {
		// Authenticated with a pre-shared key: nothing to bind to.
		return r
	}
	ids, err := crl.CertIdentities(cert)
	if err == nil && ids.MatchUser(user) {
		return r
	}
	return auth.Result{Reason: auth.ReasonRejected, User: user,
		Detail: fmt.Sprintf("certificate_user_mismatch: user %q does not name the holder of the IPsec certificate %q", user, cert.Subject.String())}
}
