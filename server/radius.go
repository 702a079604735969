package server

import (
	"fmt"
	"net/netip"
	"strings"
	"time"

	"github.com/l2tpsecd/l2tpsecd/auth"
	"github.com/l2tpsecd/l2tpsecd/ppp"
)

// This file wires the RADIUS client of package auth into the daemon:
// authentication (auth.backend = "radius", EAP pass-through included),
// accounting (Start, Interim-Update, Stop with the real terminate cause)
// and the Disconnect/CoA listener, which finds sessions here.

func (d *Daemon) radiusConfig(cfg *Config, servers []RADIUSServer) auth.RadiusConfig {
	rc := auth.RadiusConfig{
		NASIdentifier: cfg.RADIUS.NASIdentifier, Timeout: cfg.RADIUS.Timeout.Duration, Retries: cfg.RADIUS.Retries,
		DeadAfter: cfg.RADIUS.DeadAfter, DeadTime: cfg.RADIUS.DeadTime.Duration,
		RequireMessageAuthenticator: cfg.RADIUS.RequireMessageAuthenticator,
		Clock:                       d.clk, Log: d.log.With("layer", "radius"), Metrics: d.radMetrics,
	}
	if a, err := netip.ParseAddr(cfg.RADIUS.NASIPAddress); err == nil {
		rc.NASIPAddress = a
	}
	for _, s := range servers {
		rc.Servers = append(rc.Servers, auth.RadiusServer{Addr: s.Address, Secret: []byte(s.Secret)})
	}
	return rc
}

// startRADIUS builds what the configuration asks for: the authentication
// back end, the accounter (with its on-disk queue) and the DAE listener.
func (d *Daemon) startRADIUS(cfg *Config) error {
	r := cfg.RADIUS
	if cfg.Auth.Backend != "radius" && len(r.AccountingServers) == 0 && r.DAE.Listen == "" {
		return nil
	}
	d.radMetrics = auth.NewRadiusMetrics(d.reg)
	if cfg.Auth.Backend == "radius" {
		ra, err := auth.NewRadiusAuth(d.radiusConfig(cfg, r.Servers))
		if err != nil {
			return fmt.Errorf("RADIUS authentication: %w", err)
		}
		d.radius.Store(ra)
	}
	if len(r.AccountingServers) > 0 {
		acct, err := auth.NewRadiusAcct(d.radiusConfig(cfg, r.AccountingServers), auth.AcctConfig{StateDir: cfg.StateDir})
		if err != nil {
			return fmt.Errorf("RADIUS accounting: %w", err)
		}
		d.racct = acct
		d.acct = acct
		// Accounting-On: the RADIUS server closes sessions a crash of
		// ours left open.
		acct.Account(auth.AcctRecord{Status: auth.AcctOn, Time: d.clk.Now()})
	}
	if r.DAE.Listen != "" {
		dc := auth.DAEConfig{Addr: r.DAE.Listen, Secret: []byte(r.DAE.Secret), NASIdentifier: "", Clock: d.clk,
			Log: d.log.With("layer", "dae"), Metrics: d.radMetrics}
		for _, n := range r.DAE.Allowed {
			dc.Allowed = append(dc.Allowed, netip.MustParsePrefix(n))
		}
		dae, err := auth.ListenDAE(dc, d)
		if err != nil {
			return fmt.Errorf("RADIUS Disconnect/CoA listener: %w", err)
		}
		d.dae = dae
		go dae.Serve()
	}
	return nil
}

func (d *Daemon) stopRADIUS() {
	if d.dae != nil {
		d.dae.Close()
	}
	if d.racct != nil {
		d.racct.Account(auth.AcctRecord{Status: auth.AcctOff, Time: d.clk.Now()})
		d.racct.Close()
	}
	if ra := d.radius.Load(); ra != nil {
		ra.Close()
	}
}

// Disconnect implements auth.SessionControl for RFC 5176 Disconnect-Request.
func (d *Daemon) Disconnect(sel auth.Selector) (int, error) {
	ss := d.selectSessions(sel)
	for _, s := range ss {
		d.audit.Log(AuditEvent{Event: "radius_disconnect", Peer: s.c.key.remote.String(), User: s.userName(), Session: s.id})
		s.ppp.Close(ppp.ReasonAdmin)
	}
	return len(ss), nil
}

// ChangeTimeout implements auth.SessionControl for a CoA-Request carrying
// Session-Timeout: the session ends that long from now.
func (d *Daemon) ChangeTimeout(sel auth.Selector, t time.Duration) (int, error) {
	ss := d.selectSessions(sel)
	for _, s := range ss {
		s.setSessionTimeout(t)
		d.audit.Log(AuditEvent{Event: "radius_coa", Peer: s.c.key.remote.String(), User: s.userName(), Session: s.id,
			Fields: map[string]any{"session_timeout_seconds": int64(t.Seconds())}})
	}
	return len(ss), nil
}

func (d *Daemon) selectSessions(sel auth.Selector) []*session {
	var out []*session
	for _, s := range d.sessionList() {
		s.mu.Lock()
		user, addr := s.user, s.addr
		s.mu.Unlock()
		if sel.SessionID != "" && sel.SessionID != s.id {
			continue
		}
		if sel.User != "" && !strings.EqualFold(sel.User, user) {
			continue
		}
		if sel.FramedIP.IsValid() && sel.FramedIP != addr {
			continue
		}
		out = append(out, s)
	}
	return out
}

// terminateCause maps why a session ended to RADIUS Acct-Terminate-Cause
// (RFC 2866 section 5.10).
func terminateCause(cause string) auth.TerminateCause {
	switch cause {
	case "user request", "l2tp: peer_cdn", "l2tp: peer_stopccn", "ipsec: deleted_by_peer":
		return auth.CauseUserRequest
	case "peer timeout", "l2tp: timeout", "l2tp: hello_timeout", "ipsec: dead_peer", "ipsec: peer_timeout", "ipsec: initial_contact":
		return auth.CauseLostCarrier
	case "idle timeout":
		return auth.CauseIdleTimeout
	case "session timeout", "ipsec: expired":
		return auth.CauseSessionTimeout
	case "admin":
		return auth.CauseAdminReset
	case "shutdown", "l2tp: shutdown", "ipsec: shutdown":
		return auth.CauseAdminReboot
	}
	return auth.CauseNASRequest
}
