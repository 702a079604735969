// Package control is the admin API of a running l2tpsecd: the request and
// answer types, the server side that the daemon runs on its Unix socket,
// and the client that l2tpsecctl uses.
//
// The protocol is one JSON request per connection, answered by one JSON
// response. The socket is created mode 0600 in a 0700 directory: only root
// (or the daemon's user) may talk to it.
package control

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"time"
)

// Command names.
const (
	CmdStatus     = "status"
	CmdSessions   = "sessions"
	CmdSession    = "session"
	CmdDisconnect = "disconnect"
	CmdSAs        = "sas"
	CmdPools      = "pools"
	CmdReload     = "reload"
	CmdTrace      = "trace"
)

// Request is what l2tpsecctl sends.
type Request struct {
	Cmd string `json:"cmd"`
	// Selector for session, disconnect: a session ID, a user name or an
	// address (exactly one).
	ID   string `json:"id,omitempty"`
	User string `json:"user,omitempty"`
	Addr string `json:"addr,omitempty"`
	// Trace: which trace ("ike", "ppp", "l2tp" or "all"), on or off, and
	// for which peer address ("" = every peer).
	Trace string `json:"trace,omitempty"`
	On    bool   `json:"on,omitempty"`
	Peer  string `json:"peer,omitempty"`
}

// Response is the daemon's answer. Error is set when the request failed.
type Response struct {
	Error    string        `json:"error,omitempty"`
	Status   *Status       `json:"status,omitempty"`
	Sessions []SessionInfo `json:"sessions,omitempty"`
	SAs      []SAInfo      `json:"sas,omitempty"`
	Pools    []PoolInfo    `json:"pools,omitempty"`
	Message  string        `json:"message,omitempty"`
}

// Status is the daemon as a whole.
type Status struct {
	Version  string    `json:"version"`
	Started  time.Time `json:"started"`
	Config   string    `json:"config"`
	Ready    bool      `json:"ready"`
	Reason   string    `json:"reason,omitempty"` // why not ready
	Datapath string    `json:"datapath"`
	Sessions int       `json:"sessions"`
}

// SessionInfo is one connected client.
type SessionInfo struct {
	ID         string    `json:"id"`
	User       string    `json:"user"`
	Address    string    `json:"address"`
	Peer       string    `json:"peer"` // public address:port
	Identity   string    `json:"identity,omitempty"`
	Since      time.Time `json:"since"`
	State      string    `json:"state"`
	AuthMethod string    `json:"auth_method"`
	IKE        string    `json:"ike"` // phase-1 suite
	ESP        string    `json:"esp"` // phase-2 suite
	Datapath   string    `json:"datapath"`
	BytesIn    uint64    `json:"bytes_in"`
	BytesOut   uint64    `json:"bytes_out"`
	PacketsIn  uint64    `json:"packets_in"`
	PacketsOut uint64    `json:"packets_out"`
}

// SAInfo is one IKE or ESP security association.
type SAInfo struct {
	Kind        string    `json:"kind"` // "ike" or "esp"
	Peer        string    `json:"peer"`
	ID          string    `json:"id"` // cookies for IKE, "in/out" SPIs for ESP
	Suite       string    `json:"suite"`
	Encap       string    `json:"encap,omitempty"`
	Established time.Time `json:"established"`
	Expires     time.Time `json:"expires"`
	Bytes       uint64    `json:"bytes,omitempty"`
}

// PoolInfo is one address pool.
type PoolInfo struct {
	Name string `json:"name"`
	Size int    `json:"size"`
	Used int    `json:"used"`
	Free int    `json:"free"`
}

// Handler answers requests; the daemon implements it.
type Handler interface {
	Control(ctx context.Context, req Request) Response
}

// Listen creates the control socket at path (its directory 0700, the socket
// 0600), replacing a stale socket left by a daemon that died.
func Listen(path string) (net.Listener, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("control socket: %w", err)
	}
	if c, err := net.DialTimeout("unix", path, 200*time.Millisecond); err == nil {
		c.Close()
		return nil, fmt.Errorf("control socket %s: another daemon is listening on it", path)
	}
	os.Remove(path)
	ln, err := net.Listen("unix", path)
	if err != nil {
		return nil, fmt.Errorf("control socket: %w", err)
	}
	if err := os.Chmod(path, 0o600); err != nil {
		ln.Close()
		return nil, fmt.Errorf("control socket: %w", err)
	}
	return ln, nil
}

// Serve answers requests on ln until it is closed.
func Serve(ln net.Listener, h Handler) error {
	for {
		c, err := ln.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return nil
			}
			return err
		}
		go serveConn(c, h)
	}
}

func serveConn(c net.Conn, h Handler) {
	defer c.Close()
	c.SetDeadline(time.Now().Add(30 * time.Second))
	var req Request
	dec := json.NewDecoder(io.LimitReader(c, 64<<10))
	if err := dec.Decode(&req); err != nil {
		json.NewEncoder(c).Encode(Response{Error: "malformed request: " + err.Error()})
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 25*time.Second)
	defer cancel()
	json.NewEncoder(c).Encode(h.Control(ctx, req))
}

// Call sends req to the daemon listening on path and returns its answer.
// A Response with Error set is returned as an error.
func Call(path string, req Request) (*Response, error) {
	c, err := net.DialTimeout("unix", path, 2*time.Second)
	if err != nil {
		return nil, fmt.Errorf("cannot reach l2tpsecd at %s: %w", path, err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(30 * time.Second))
	if err := json.NewEncoder(c).Encode(req); err != nil {
		return nil, err
	}
	var resp Response
	if err := json.NewDecoder(c).Decode(&resp); err != nil {
		return nil, fmt.Errorf("reading the answer: %w", err)
	}
	if resp.Error != "" {
		return &resp, errors.New(resp.Error)
	}
	return &resp, nil
}
