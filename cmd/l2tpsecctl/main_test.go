package main

import (
	"bytes"
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/l2tpsecd/l2tpsecd/server/control"
)

func TestParseCommand(t *testing.T) {
	cases := []struct {
		args []string
		want control.Request
		bad  bool
	}{
		{args: []string{"sessions"}, want: control.Request{Cmd: "sessions"}},
		{args: []string{"disconnect", "10.98.0.12"}, want: control.Request{Cmd: "disconnect", Addr: "10.98.0.12"}},
		{args: []string{"disconnect", "s-0001"}, want: control.Request{Cmd: "disconnect", ID: "s-0001"}},
		{args: []string{"session", "alice"}, want: control.Request{Cmd: "session", User: "alice"}},
		{args: []string{"trace", "ike", "on", "203.0.113.5"}, want: control.Request{Cmd: "trace", Trace: "ike", On: true, Peer: "203.0.113.5"}},
		{args: []string{"trace", "ppp", "off"}, want: control.Request{Cmd: "trace", Trace: "ppp"}},
		{args: []string{"trace", "esp", "on"}, bad: true},
		{args: []string{"trace", "ike", "maybe"}, bad: true},
		{args: []string{"trace", "ike", "on", "not-an-ip"}, bad: true},
		{args: []string{"disconnect"}, bad: true},
		{args: []string{"sessions", "extra"}, bad: true},
		{args: []string{"frobnicate"}, bad: true},
		{args: nil, bad: true},
	}
	for _, c := range cases {
		got, err := parseCommand(c.args)
		if c.bad {
			if err == nil {
				t.Errorf("%v: accepted as %+v", c.args, got)
			}
			continue
		}
		if err != nil || got != c.want {
			t.Errorf("%v = %+v, %v; want %+v", c.args, got, err, c.want)
		}
	}
}

type daemon struct{}

func (daemon) Control(_ context.Context, req control.Request) control.Response {
	switch req.Cmd {
	case "sessions":
		return control.Response{Sessions: []control.SessionInfo{{ID: "s-1", User: "alice", Address: "10.98.0.10", Peer: "203.0.113.7:4500", Since: time.Now().Add(-time.Minute), BytesIn: 2048, AuthMethod: "mschapv2", IKE: "AES256-SHA1-ECP384", ESP: "AES256-SHA1", Datapath: "userspace"}}}
	case "disconnect":
		if req.User != "alice" {
			return control.Response{Error: "no session for user " + req.User}
		}
		return control.Response{Message: "disconnected s-1 (alice)"}
	}
	return control.Response{Error: "unsupported"}
}

func TestAgainstAControlSocket(t *testing.T) {
	sock := filepath.Join(t.TempDir(), "ctl.sock")
	ln, err := control.Listen(sock)
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go control.Serve(ln, daemon{})

	var out, errb bytes.Buffer
	if code := run([]string{"-socket", sock, "sessions"}, &out, &errb); code != 0 {
		t.Fatalf("sessions: exit %d: %s", code, errb.String())
	}
	if !strings.Contains(out.String(), "alice") || !strings.Contains(out.String(), "2.0 KiB") || !strings.Contains(out.String(), "USER") {
		t.Fatalf("table:\n%s", out.String())
	}
	out.Reset()
	if code := run([]string{"-socket", sock, "-json", "sessions"}, &out, &errb); code != 0 {
		t.Fatalf("-json sessions: exit %d", code)
	}
	var resp control.Response
	if err := json.Unmarshal(out.Bytes(), &resp); err != nil || len(resp.Sessions) != 1 {
		t.Fatalf("-json output %q: %v", out.String(), err)
	}
	out.Reset()
	if code := run([]string{"-socket", sock, "disconnect", "bob"}, &out, &errb); code != 1 || !strings.Contains(errb.String(), "no session for user bob") {
		t.Fatalf("refused disconnect: exit %d, stderr %q", code, errb.String())
	}
	if code := run([]string{"-socket", filepath.Join(t.TempDir(), "none.sock"), "status"}, &out, &errb); code != 1 {
		t.Fatalf("no daemon: exit %d, want 1", code)
	}
}

func TestNTHash(t *testing.T) {
	stdin = strings.NewReader("quickstart-password\n")
	defer func() { stdin = nil }()
	var out, errb bytes.Buffer
	if code := run([]string{"nthash"}, &out, &errb); code != 0 {
		t.Fatalf("nthash: exit %d: %s", code, errb.String())
	}
	// The value deploy/quickstart-users.toml holds for this password.
	if got := strings.TrimSpace(out.String()); got != "9140B865A407A1B70783F0AD2CB7E460" {
		t.Fatalf("nthash = %s", got)
	}
}
