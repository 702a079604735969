package server

import (
	"context"
	"fmt"

	"github.com/l2tpsecd/l2tpsecd/server/control"
)

// Control answers l2tpsecctl's requests on the control socket.
func (d *Daemon) Control(_ context.Context, req control.Request) control.Response {
	switch req.Cmd {
	case control.CmdStatus:
		d.mu.Lock()
		cfg := d.cfg
		d.mu.Unlock()
		reason, _ := d.notReady.Load().(string)
		st := &control.Status{Version: d.version, Started: d.started, Config: cfg.File, Ready: d.ready.Load(), Datapath: cfg.ESP.Datapath}
		if !st.Ready {
			st.Reason = reason
		}
		return control.Response{Status: st}
	case control.CmdSessions:
		return control.Response{Sessions: []control.SessionInfo{}}
	case control.CmdSession, control.CmdDisconnect:
		return control.Response{Error: fmt.Sprintf("no such session (%s)", selector(req))}
	case control.CmdSAs:
		return control.Response{SAs: []control.SAInfo{}}
	case control.CmdPools:
		return control.Response{Pools: []control.PoolInfo{}}
	case control.CmdReload:
		d.mu.Lock()
		path := d.cfg.File
		d.mu.Unlock()
		if err := d.Reload(path); err != nil {
			return control.Response{Error: "reload refused, still running on the previous configuration:\n" + err.Error()}
		}
		return control.Response{Message: "configuration reloaded from " + path}
	case control.CmdTrace:
		return control.Response{Error: "traces are not available until the protocol engines are wired"}
	}
	return control.Response{Error: fmt.Sprintf("unknown command %q", req.Cmd)}
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
