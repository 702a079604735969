package server

import (
	"context"
	"fmt"
	"net/netip"
	"sort"
	"time"

	"github.com/l2tpsecd/l2tpsecd/ppp"
	"github.com/l2tpsecd/l2tpsecd/server/control"
)

// Control answers l2tpsecctl's requests on the control socket.
func (d *Daemon) Control(_ context.Context, req control.Request) control.Response {
	switch req.Cmd {
	case control.CmdStatus:
		cfg := d.currentConfig()
		reason, _ := d.notReady.Load().(string)
		st := &control.Status{Version: d.version, Started: d.started, Config: cfg.File, Ready: d.ready.Load(),
			Datapath: "userspace", Sessions: len(d.sessionList())}
		if !st.Ready {
			st.Reason = reason
		}
		return control.Response{Status: st}
	case control.CmdSessions:
		out := []control.SessionInfo{}
		for _, s := range d.sessionList() {
			out = append(out, s.info())
		}
		return control.Response{Sessions: out}
	case control.CmdSession:
		s := d.findSession(req)
		if s == nil {
			return control.Response{Error: fmt.Sprintf("no such session (%s)", selector(req))}
		}
		return control.Response{Sessions: []control.SessionInfo{s.info()}}
	case control.CmdDisconnect:
		s := d.findSession(req)
		if s == nil {
			return control.Response{Error: fmt.Sprintf("no such session (%s)", selector(req))}
		}
		info := s.info()
		d.audit.Log(AuditEvent{Event: "admin_disconnect", Peer: info.Peer, User: info.User, Session: info.ID})
		// LCP Terminate; the PPP Down that follows sends CDN and StopCCN,
		// and the tunnel's end deletes the SAs.
		s.ppp.Close(ppp.ReasonAdmin)
		return control.Response{Message: fmt.Sprintf("disconnecting %s (user %s, %s)", info.ID, info.User, info.Address)}
	case control.CmdSAs:
		return control.Response{SAs: d.saList()}
	case control.CmdPools:
		out := []control.PoolInfo{}
		if d.pool != nil {
			for _, p := range d.pool.Stats() {
				out = append(out, control.PoolInfo{Name: p.Name, Size: int(p.Size), Used: int(p.Used), Free: int(p.Free)})
			}
		}
		return control.Response{Pools: out}
	case control.CmdReload:
		path := d.currentConfig().File
		if err := d.Reload(path); err != nil {
			return control.Response{Error: "reload refused, still running on the previous configuration:\n" + err.Error()}
		}
		return control.Response{Message: "configuration reloaded from " + path}
	case control.CmdTrace:
		return d.setTrace(req)
	}
	return control.Response{Error: fmt.Sprintf("unknown command %q", req.Cmd)}
}

func (d *Daemon) sessionList() []*session {
	d.connMu.Lock()
	defer d.connMu.Unlock()
	out := make([]*session, 0, len(d.sessions))
	for _, s := range d.sessions {
		out = append(out, s)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].id < out[j].id })
	return out
}

func (d *Daemon) findSession(req control.Request) *session {
	for _, s := range d.sessionList() {
		s.mu.Lock()
		user, addr := s.user, s.addr
		s.mu.Unlock()
		switch {
		case req.ID != "" && s.id == req.ID,
			req.User != "" && user == req.User,
			req.Addr != "" && addr.IsValid() && addr.String() == req.Addr:
			return s
		}
	}
	return nil
}

func (d *Daemon) saList() []control.SAInfo {
	out := []control.SAInfo{}
	if d.engine == nil {
		return out
	}
	for _, sa := range d.engine.IKESAs() {
		out = append(out, control.SAInfo{Kind: "ike", Peer: sa.Remote.String(), ID: cookies(sa), Suite: sa.Suite.String(),
			Established: sa.Established, Expires: sa.Established.Add(sa.Lifetime)})
	}
	for _, ch := range d.engine.ChildSAs() {
		if ch.Initiator {
			continue
		}
		info := control.SAInfo{Kind: "esp", Peer: ch.Remote.String(), ID: fmt.Sprintf("%08x/%08x", ch.In.SPI, ch.Out.SPI),
			Suite: ch.Phase2.String(), Encap: ch.Encap.String(), Established: ch.Established,
			Expires: ch.Established.Add(time.Duration(ch.LifeSeconds) * time.Second)}
		out = append(out, info)
	}
	return out
}

func (d *Daemon) setTrace(req control.Request) control.Response {
	var peer netip.Addr
	if req.Peer != "" {
		a, err := netip.ParseAddr(req.Peer)
		if err != nil {
			return control.Response{Error: "bad peer address"}
		}
		peer = a
	}
	if d.engine == nil {
		return control.Response{Error: "not running"}
	}
	what := req.Trace
	if what == "ike" || what == "all" {
		if peer.IsValid() {
			d.engine.SetTracePeer(peer, req.On)
		} else {
			d.engine.SetTrace(req.On)
		}
	}
	if what == "l2tp" || what == "all" {
		if req.On {
			d.lns.SetTrace(d.log.With("trace", "l2tp"))
		} else {
			d.lns.SetTrace(nil)
		}
	}
	if what == "ppp" || what == "all" {
		if !peer.IsValid() {
			d.tracePPP.Store(req.On)
		}
		for _, s := range d.sessionList() {
			if peer.IsValid() && s.c.key.remote.Addr() != peer {
				continue
			}
			if req.On {
				s.ppp.SetTrace(s.log.With("trace", "ppp"))
			} else {
				s.ppp.SetTrace(nil)
			}
		}
	}
	state := "off"
	if req.On {
		state = "on"
	}
	target := "every peer"
	if peer.IsValid() {
		target = peer.String()
	}
	return control.Response{Message: fmt.Sprintf("%s trace %s for %s", what, state, target)}
}

func selector(req control.Request) string {
	switch {
	case req.ID != "":
		return "id " + req.ID
	case req.User != "":
		return "user " + req.User
	case req.Addr != "":
		return "address " + req.Addr
	}
	return "no selector"
}
