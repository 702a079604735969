package control

import (
	"context"
	"os"
	"path/filepath"
	"testing"
)

type fakeHandler struct{ got []Request }

func (f *fakeHandler) Control(_ context.Context, req Request) Response {
	f.got = append(f.got, req)
	switch req.Cmd {
	case CmdSessions:
		return Response{Sessions: []SessionInfo{{ID: "s1", User: "alice", Address: "10.0.0.5"}}}
	default:
		return Response{Error: "unknown command " + req.Cmd}
	}
}

func TestCallRoundTrip(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "run", "ctl.sock")
	ln, err := Listen(path)
	if err != nil {
		t.Fatal(err)
	}
	h := &fakeHandler{}
	go Serve(ln, h)
	defer ln.Close()

	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Fatalf("socket mode %v, want 0600", st.Mode().Perm())
	}
	if st, _ := os.Stat(filepath.Dir(path)); st.Mode().Perm() != 0o700 {
		t.Fatalf("socket dir mode %v, want 0700", st.Mode().Perm())
	}

	resp, err := Call(path, Request{Cmd: CmdSessions})
	if err != nil {
		t.Fatal(err)
	}
	if len(resp.Sessions) != 1 || resp.Sessions[0].User != "alice" {
		t.Fatalf("sessions = %+v", resp.Sessions)
	}
	if _, err := Call(path, Request{Cmd: "bogus"}); err == nil || err.Error() != "unknown command bogus" {
		t.Fatalf("error answer came back as %v", err)
	}

	// A second daemon must not steal a live socket.
	if _, err := Listen(path); err == nil {
		t.Fatal("Listen took over a socket another server is serving")
	}
}

func TestListenReplacesStaleSocket(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ctl.sock")
	ln, err := Listen(path)
	if err != nil {
		t.Fatal(err)
	}
	// Simulate a daemon that died: the file stays, nobody listens.
	ln.(interface{ SetUnlinkOnClose(bool) }).SetUnlinkOnClose(false)
	ln.Close()
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("stale socket not left behind: %v", err)
	}
	ln2, err := Listen(path)
	if err != nil {
		t.Fatalf("stale socket not replaced: %v", err)
	}
	ln2.Close()
}
