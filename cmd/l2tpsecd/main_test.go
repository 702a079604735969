package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/l2tpsecd/l2tpsecd/internal/testutil"
)

func TestCheckConfigShippedFiles(t *testing.T) {
	root := testutil.RepoRoot(t)
	for _, f := range []string{"deploy/quickstart.toml", "deploy/l2tpsecd.toml"} {
		var out, errb bytes.Buffer
		if code := run([]string{"-check-config", "-config", filepath.Join(root, f)}, &out, &errb); code != 0 {
			t.Errorf("-check-config %s exited %d: %s", f, code, errb.String())
		}
		if !strings.Contains(out.String(), "valid") {
			t.Errorf("-check-config %s printed %q", f, out.String())
		}
	}
}

func TestCheckConfigListsEveryError(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "users.toml"), nil, 0o600)
	cfg := `[ike]
dpd_timout = "1m"
dpd_interval = "every now and then"
[[ike.psk]]
secret = "1234567"
[auth]
users_file = "users.toml"
[[pool]]
name = "p"
ranges = ["10.1.0.50-10.1.0.10"]
[tun]
address = "10.1.0.1"
`
	p := filepath.Join(dir, "bad.toml")
	os.WriteFile(p, []byte(cfg), 0o600)
	var out, errb bytes.Buffer
	if code := run([]string{"-check-config", "-config", p}, &out, &errb); code != 2 {
		t.Fatalf("exit code %d, want 2; stderr:\n%s", code, errb.String())
	}
	for _, want := range []string{"bad.toml:2: ike.dpd_timout", "bad.toml:3: ike.dpd_interval", "bad.toml:5: ike.psk[0].secret", "bad.toml:10: pool[0].ranges[0]"} {
		if !strings.Contains(errb.String(), want) {
			t.Errorf("stderr lacks %q:\n%s", want, errb.String())
		}
	}
}

func TestVersionAndBadFlags(t *testing.T) {
	var out, errb bytes.Buffer
	if code := run([]string{"-version"}, &out, &errb); code != 0 || !strings.HasPrefix(out.String(), "l2tpsecd ") {
		t.Fatalf("-version: code %d, out %q", code, out.String())
	}
	if code := run([]string{"-no-such-flag"}, &out, &errb); code != 2 {
		t.Fatalf("unknown flag: code %d, want 2", code)
	}
	if code := run([]string{"-config", "/nonexistent/l2tpsecd.toml"}, &out, &errb); code != 2 {
		t.Fatalf("missing config: code %d, want 2", code)
	}
}
