package serverlab

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/l2tpsecd/l2tpsecd/server/control"
	"github.com/l2tpsecd/l2tpsecd/test/lab"
)

// TestReloadPSKs: a reload that replaces the key keeps the live session and
// admits a client with the new key; a broken config is refused and the
// daemon keeps serving on the old one.
func TestReloadPSKs(t *testing.T) {
	const oldKey, newKey = "before-the-reload-1", "after-the-reload-22"
	l := lab.New(t)
	users := []user{{Name: labUser, Password: labPassword}, {Name: "bob", Password: "builder-77"}}
	d := startDaemon(t, l, daemonConfig{PSKs: []string{oldKey}, Users: users})
	cs := l.NewClients(t,
		lab.ClientConfig{BehindNAT: true, PSK: oldKey, User: labUser, Password: labPassword},
		lab.ClientConfig{PSK: newKey, User: "bob", Password: "builder-77"})
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	if err := cs[0].Connect(ctx); err != nil {
		t.Fatal(err)
	}
	d.writeConfig(t, daemonConfig{PSKs: []string{newKey}, Users: users})
	if err := d.proc.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	d.waitAudit(t, 10*time.Second, `"event":"config_reloaded"`)
	if err := cs[1].Connect(ctx); err != nil {
		t.Fatalf("client with the new key after the reload: %v", err)
	}
	for i, c := range cs {
		if err := c.Ping(ctx, l.Server.LANHost); err != nil {
			t.Fatalf("client %d after the reload: %v", i, err)
		}
	}

	// A broken file: refused through the control socket, nothing changes.
	if err := os.WriteFile(d.cfgPath, []byte("[ike]\npolicy = \"modern\"\nbogus_key = 1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := control.Call(d.socket, control.Request{Cmd: control.CmdReload})
	if err == nil || !strings.Contains(err.Error(), "bogus_key") {
		t.Fatalf("reload of a broken config: %v, want a refusal naming bogus_key", err)
	}
	d.waitAudit(t, 5*time.Second, `"event":"config_reload_failed"`)
	for i, c := range cs {
		if err := c.Ping(ctx, l.Server.LANHost); err != nil {
			t.Fatalf("client %d after the refused reload: %v", i, err)
		}
	}
	if st := d.call(t, control.Request{Cmd: control.CmdStatus}).Status; !st.Ready || st.Sessions != 2 {
		t.Fatalf("status after the refused reload: %+v", st)
	}
}

// TestAdminDisconnect: l2tpsecctl lists the live session and disconnect
// ends it, on the client's side too.
func TestAdminDisconnect(t *testing.T) {
	l := lab.New(t)
	d := startDaemon(t, l, daemonConfig{PSKs: []string{labPSK}, Users: []user{{Name: labUser, Password: labPassword}}})
	c := l.NewClient(t, lab.ClientConfig{BehindNAT: true, PSK: labPSK, User: labUser, Password: labPassword})
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	if err := c.Connect(ctx); err != nil {
		t.Fatal(err)
	}
	ctl := ctlBinary(t)
	out, err := runCtl(ctl, d.socket, "sessions")
	if err != nil || !strings.Contains(out, labUser) || !strings.Contains(out, c.Addr().String()) {
		t.Fatalf("l2tpsecctl sessions: %v\n%s", err, out)
	}
	t.Logf("l2tpsecctl sessions:\n%s", out)
	if out, err := runCtl(ctl, d.socket, "disconnect", labUser); err != nil {
		t.Fatalf("l2tpsecctl disconnect: %v\n%s", err, out)
	}
	waitNoSessions(t, d, 20*time.Second)
	waitNoSAs(t, d, 20*time.Second)
	deadline := time.Now().Add(20 * time.Second)
	for {
		st, _ := c.Guest.Run(ctx, "ip -4 addr show dev ppp0 2>&1; grep -c 'received DELETE' /lab/log/charon.log")
		if strings.Contains(st, "does not exist") || strings.Contains(st, "not found") {
			t.Logf("client side after disconnect: %s", st)
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the client still has ppp0 after an admin disconnect: %s", st)
		}
		time.Sleep(500 * time.Millisecond)
	}
	log, _ := os.ReadFile(filepath.Join(c.Guest.ShareDir(), "log", "charon.log"))
	if !strings.Contains(string(log), "received DELETE") {
		t.Errorf("the client's charon log shows no IKE Delete after the admin disconnect")
	}
}

// TestSIGTERM: with a live session, SIGTERM tells the client (L2TP StopCCN
// or CDN, IKE Delete: its logs say so) and the daemon exits 0 within 10 s.
func TestSIGTERM(t *testing.T) {
	l := lab.New(t)
	d := startDaemon(t, l, daemonConfig{PSKs: []string{labPSK}, Users: []user{{Name: labUser, Password: labPassword}}})
	c := l.NewClient(t, lab.ClientConfig{BehindNAT: true, PSK: labPSK, User: labUser, Password: labPassword})
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	if err := c.Connect(ctx); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if err := d.proc.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	for d.proc.Signal(syscall.Signal(0)) == nil {
		if time.Since(start) > 10*time.Second {
			t.Fatal("l2tpsecd still running 10 s after SIGTERM")
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Logf("l2tpsecd exited %.1f s after SIGTERM", time.Since(start).Seconds())
	if code := d.cmd.ProcessState.ExitCode(); code != 0 {
		t.Fatalf("exit code %d after SIGTERM, want 0", code)
	}
	time.Sleep(time.Second)
	charon, _ := os.ReadFile(filepath.Join(c.Guest.ShareDir(), "log", "charon.log"))
	xl2tpd, _ := os.ReadFile(filepath.Join(c.Guest.ShareDir(), "log", "xl2tpd.log"))
	if !strings.Contains(string(charon), "received DELETE") {
		t.Errorf("the client's charon log shows no IKE Delete")
	}
	// xl2tpd logs a received CDN as "Connection closed to HOST, serial N
	// (RESULT MESSAGE)" and a StopCCN as "Connection closed to HOST, port".
	if !strings.Contains(string(xl2tpd), "Connection closed to "+l.Server.PublicAddr.String()+", port") {
		t.Errorf("the client's xl2tpd log shows no StopCCN:\n%s", xl2tpd)
	}
	d.waitAudit(t, time.Second, `"event":"daemon_stopped"`)
}
