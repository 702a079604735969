package serverlab

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/l2tpsecd/l2tpsecd/auth"
	"github.com/l2tpsecd/l2tpsecd/internal/testutil"
	"github.com/l2tpsecd/l2tpsecd/server/control"
	"github.com/l2tpsecd/l2tpsecd/test/lab"
)

var (
	buildOnce sync.Once
	binDir    string
	buildErr  error
)

// buildCommands builds l2tpsecd and l2tpsecctl from this checkout once per
// test binary.
func buildCommands(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "l2tpsecd-bin-")
		if err != nil {
			buildErr = err
			return
		}
		binDir = dir
		for _, c := range []string{"l2tpsecd", "l2tpsecctl"} {
			cmd := exec.Command("go", "build", "-o", filepath.Join(dir, c), "./cmd/"+c)
			cmd.Dir = testutil.RepoRoot(t)
			if out, err := cmd.CombinedOutput(); err != nil {
				buildErr = fmt.Errorf("go build %s: %v\n%s", c, err, out)
				return
			}
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binDir
}

func daemonBinary(t *testing.T) string { return filepath.Join(buildCommands(t), "l2tpsecd") }
func ctlBinary(t *testing.T) string    { return filepath.Join(buildCommands(t), "l2tpsecctl") }

// runCtl runs l2tpsecctl against the daemon's socket.
func runCtl(bin, socket string, args ...string) (string, error) {
	out, err := exec.Command(bin, append([]string{"-socket", socket}, args...)...).CombinedOutput()
	return string(out), err
}

// user is one entry of the daemon's users file.
type user struct {
	Name, Password, NTHash, Address string
}

// daemonConfig is what a scenario changes in the daemon's configuration.
type daemonConfig struct {
	PSKs   []string
	Policy string // default modern
	Auth   []string
	Users  []user
	// AuthBackend is auth.backend ("local" when empty, "radius").
	AuthBackend string
	Extra       string // more TOML, appended
	// IKEExtra is more TOML for the [ike] section.
	IKEExtra string
}

// daemon is l2tpsecd running in the lab's server namespace.
type daemon struct {
	dir, cfgPath, audit, socket string
	proc                        *os.Process
	cmd                         *exec.Cmd
	lab                         *lab.Lab
	secrets                     []string // every PSK and password the daemon was given
}

func startDaemon(t *testing.T, l *lab.Lab, dc daemonConfig) *daemon {
	t.Helper()
	bin := daemonBinary(t)
	dir := filepath.Join(l.Dir, "l2tpsecd")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	d := &daemon{dir: dir, cfgPath: filepath.Join(dir, "l2tpsecd.toml"), audit: filepath.Join(dir, "audit.log"),
		socket: filepath.Join(dir, "run", "control.sock"), lab: l}
	d.writeConfig(t, dc)
	l.AddLogFile("l2tpsecd audit log", d.audit)
	t.Cleanup(func() { d.checkNoSecretsLogged(t) })
	ctx := context.Background()
	cmd := l.Server.Command(ctx, bin, "-config", d.cfgPath)
	proc, err := l.Start("l2tpsecd", cmd)
	if err != nil {
		t.Fatalf("start l2tpsecd: %v", err)
	}
	d.proc, d.cmd = proc, cmd
	deadline := time.Now().Add(20 * time.Second)
	for {
		resp, err := control.Call(d.socket, control.Request{Cmd: control.CmdStatus})
		if err == nil && resp.Status != nil && resp.Status.Ready {
			return d
		}
		if time.Now().After(deadline) {
			t.Fatalf("l2tpsecd not ready after 20 s: %v %+v", err, resp)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func (d *daemon) writeConfig(t *testing.T, dc daemonConfig) {
	t.Helper()
	l := d.lab
	if dc.Policy == "" {
		dc.Policy = "modern"
	}
	if len(dc.Auth) == 0 {
		dc.Auth = []string{"mschapv2", "chap", "pap"}
	}
	var b strings.Builder
	fmt.Fprintf(&b, "state_dir = %q\n", filepath.Join(d.dir, "state"))
	fmt.Fprintf(&b, "[log]\nlevel = \"debug\"\naudit_file = %q\ntrace_ike = true\ntrace_ppp = true\n", d.audit)
	fmt.Fprintf(&b, "[listen]\naddresses = [%q]\n", l.Server.PublicAddr.String())
	fmt.Fprintf(&b, "[ike]\npolicy = %q\ndpd_interval = \"10s\"\ndpd_timeout = \"30s\"\n%s\n", dc.Policy, dc.IKEExtra)
	for i, k := range dc.PSKs {
		fmt.Fprintf(&b, "[[ike.psk]]\nname = \"key%d\"\nsecret = %q\n", i, k)
	}
	fmt.Fprintf(&b, "[ppp]\nauth = [%s]\ndns = [\"10.99.0.53\", \"10.99.0.54\"]\necho_interval = \"10s\"\necho_failures = 3\n", quoteList(dc.Auth))
	fmt.Fprintf(&b, "[auth]\nusers_file = \"users.toml\"\n")
	if dc.AuthBackend != "" {
		fmt.Fprintf(&b, "backend = %q\n", dc.AuthBackend)
	}
	pool := l.Server.Pool.Addr().As4()
	fmt.Fprintf(&b, "[[pool]]\nname = \"default\"\nranges = [\"%d.%d.%d.10-%d.%d.%d.200\"]\n", pool[0], pool[1], pool[2], pool[0], pool[1], pool[2])
	fmt.Fprintf(&b, "[tun]\nname = \"l2tpsec0\"\naddress = \"%d.%d.%d.1\"\n", pool[0], pool[1], pool[2])
	fmt.Fprintf(&b, "[metrics]\nlisten = \"127.0.0.1:9810\"\n[control]\nsocket = %q\n", d.socket)
	b.WriteString(dc.Extra)
	if err := os.WriteFile(d.cfgPath, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	d.secrets = append(d.secrets, dc.PSKs...)
	var u strings.Builder
	for _, x := range dc.Users {
		if x.Password != "" {
			d.secrets = append(d.secrets, x.Password, auth.NTHashHex(x.Password))
		}
		fmt.Fprintf(&u, "[users.%q]\n", x.Name)
		if x.Password != "" {
			fmt.Fprintf(&u, "password = %q\n", x.Password)
		}
		if x.NTHash != "" {
			fmt.Fprintf(&u, "nt_hash = %q\n", x.NTHash)
		}
		if x.Address != "" {
			fmt.Fprintf(&u, "address = %q\n", x.Address)
		}
	}
	if err := os.WriteFile(filepath.Join(d.dir, "users.toml"), []byte(u.String()), 0o600); err != nil {
		t.Fatal(err)
	}
}

func quoteList(ss []string) string {
	q := make([]string, len(ss))
	for i, s := range ss {
		q[i] = fmt.Sprintf("%q", s)
	}
	return strings.Join(q, ", ")
}

// checkNoSecretsLogged fails the test if any PSK, password or NT hash the
// daemon was given appears in anything it wrote: its log (with IKE and PPP
// traces and debug level on in every lab scenario) and its audit log.
func (d *daemon) checkNoSecretsLogged(t *testing.T) {
	logs := map[string]string{"audit log": d.audit, "process log": filepath.Join(d.lab.Dir, "proc-l2tpsecd.log")}
	for name, p := range logs {
		data, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		text := strings.ToLower(string(data))
		for _, s := range d.secrets {
			if s != "" && strings.Contains(text, strings.ToLower(s)) {
				t.Errorf("the daemon's %s contains a secret it was configured with (%d characters)", name, len(s))
			}
		}
	}
}

// auditLines returns the audit log's lines that contain every word given.
func (d *daemon) auditLines(words ...string) []string {
	data, _ := os.ReadFile(d.audit)
	var out []string
	for _, line := range strings.Split(string(data), "\n") {
		ok := line != ""
		for _, w := range words {
			ok = ok && strings.Contains(line, w)
		}
		if ok {
			out = append(out, line)
		}
	}
	return out
}

// waitAudit waits until the audit log has a line with every word.
func (d *daemon) waitAudit(t *testing.T, timeout time.Duration, words ...string) string {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		if ls := d.auditLines(words...); len(ls) > 0 {
			return ls[0]
		}
		if time.Now().After(deadline) {
			t.Fatalf("no audit line with %q within %s", words, timeout)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func (d *daemon) call(t *testing.T, req control.Request) *control.Response {
	t.Helper()
	resp, err := control.Call(d.socket, req)
	if err != nil {
		t.Fatalf("control %s: %v", req.Cmd, err)
	}
	return resp
}
