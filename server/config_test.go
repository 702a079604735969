package server

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/l2tpsecd/l2tpsecd/internal/testutil"
)

// writeConfig writes a config and an empty users file beside it.
func writeConfig(t *testing.T, body string) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "users.toml"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, "l2tpsecd.toml")
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

const minimal = `state_dir = "/tmp/x"
[[ike.psk]]
secret = "0123456789"
[auth]
users_file = "users.toml"
[[pool]]
name = "default"
ranges = ["10.10.0.10-10.10.0.20"]
[tun]
address = "10.10.0.1"
`

func TestShippedConfigsAreValid(t *testing.T) {
	root := testutil.RepoRoot(t)
	for _, name := range []string{"quickstart.toml", "l2tpsecd.toml"} {
		t.Run(name, func(t *testing.T) {
			p := filepath.Join(root, "deploy", name)
			data, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			cfg, err := ParseConfig(p, data)
			if err != nil {
				t.Fatalf("%s does not validate:\n%v", name, err)
			}
			if len(cfg.IKE.PSKs) == 0 || len(cfg.Pools) == 0 {
				t.Fatalf("%s: no PSK or pool decoded: %+v", name, cfg)
			}
		})
	}
}

func TestMinimalConfigGetsDefaults(t *testing.T) {
	cfg, err := LoadConfig(writeConfig(t, minimal))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.IKE.Policy != "modern" || cfg.IKE.DPDInterval.Duration != 30*time.Second || cfg.Listen.IKEPort != 500 || cfg.PPP.MRU != 1400 {
		t.Fatalf("defaults not applied: %+v", cfg)
	}
	if got := cfg.Path(cfg.Auth.UsersFile); got != filepath.Join(filepath.Dir(cfg.File), "users.toml") {
		t.Fatalf("users file resolved to %s, want it beside the config", got)
	}
}

// The acceptance case of the foundation issue: four different mistakes are
// all reported at once, each with its key and line.
func TestConfigReportsEveryErrorWithKeyAndLine(t *testing.T) {
	body := `state_dir = "/tmp/x"
[ike]
dpd_intreval = "30s"
dpd_timeout = "soon"

[[ike.psk]]
name = "old"
secret = "0123456789"

[[ike.psk]]
name = "new"
secret = "1234567"

[auth]
users_file = "users.toml"

[[pool]]
name = "default"
ranges = ["10.10.0.10-10.10.0.20"]

[[pool]]
name = "second"
ranges = ["10.20.0.200-10.20.0.10"]

[tun]
address = "10.10.0.1"
`
	_, err := LoadConfig(writeConfig(t, body))
	if err == nil {
		t.Fatal("config with four mistakes was accepted")
	}
	if !errors.Is(err, ErrConfig) {
		t.Fatalf("error does not wrap ErrConfig: %v", err)
	}
	var ce ConfigErrors
	if !errors.As(err, &ce) {
		t.Fatalf("error is not ConfigErrors: %v", err)
	}
	want := []struct {
		key  string
		line int
		msg  string
	}{
		{"ike.dpd_intreval", 3, "unknown key"},
		{"ike.dpd_timeout", 4, "not a duration"},
		{"ike.psk[1].secret", 12, "8 to 255 characters"},
		{"pool[1].ranges[0]", 23, "backwards"},
	}
	if len(ce) != len(want) {
		t.Fatalf("got %d errors, want %d:\n%v", len(ce), len(want), err)
	}
	for i, w := range want {
		got := ce[i]
		if got.Key != w.key || got.Line != w.line || !strings.Contains(got.Msg, w.msg) {
			t.Errorf("error %d = %q (key %q line %d), want key %q line %d containing %q", i, got.Error(), got.Key, got.Line, w.key, w.line, w.msg)
		}
		if !strings.Contains(got.Error(), filepath.Base(got.File)) {
			t.Errorf("error %d does not name the file: %q", i, got.Error())
		}
	}
}

func TestConfigRejects(t *testing.T) {
	cases := []struct {
		name, edit, key string
	}{
		{"psk too long", "[[ike.psk]]\nsecret = \"" + strings.Repeat("k", 256) + "\"\n", "ike.psk[1].secret"},
		{"overlapping pools", "[[pool]]\nname = \"b\"\nranges = [\"10.10.0.15/32\"]\n", "pool[1].ranges[0]"},
		{"duplicate pool", "[[pool]]\nname = \"default\"\nranges = [\"10.30.0.0/24\"]\n", "pool[1].name"},
		{"policy", "[esp]\ndatapath = \"dpdk\"\n", "esp.datapath"},
		{"bad network", "[[ike.psk]]\nsecret = \"0123456789\"\nnetworks = [\"nowhere\"]\n", "ike.psk[1].networks[0]"},
		{"type mismatch", "[ppp]\nmru = \"big\"\n", "ppp.mru"},
		{"syntax", "[ppp\n", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := LoadConfig(writeConfig(t, minimal+c.edit))
			if err == nil {
				t.Fatal("accepted")
			}
			if c.key != "" && !strings.Contains(err.Error(), c.key) {
				t.Fatalf("error does not name %s:\n%v", c.key, err)
			}
			if !strings.Contains(err.Error(), "l2tpsecd.toml:") {
				t.Fatalf("error does not name file and line:\n%v", err)
			}
		})
	}
}

func TestParseIPRange(t *testing.T) {
	cases := []struct{ in, first, last string }{
		{"10.0.0.5-10.0.0.9", "10.0.0.5", "10.0.0.9"},
		{"10.0.1.0/24", "10.0.1.1", "10.0.1.254"},
		{"10.0.2.7/32", "10.0.2.7", "10.0.2.7"},
		{"10.0.3.3", "10.0.3.3", "10.0.3.3"},
	}
	for _, c := range cases {
		r, err := ParseIPRange(c.in)
		if err != nil {
			t.Fatalf("%s: %v", c.in, err)
		}
		if r.First.String() != c.first || r.Last.String() != c.last {
			t.Errorf("%s = %s-%s, want %s-%s", c.in, r.First, r.Last, c.first, c.last)
		}
	}
	for _, bad := range []string{"10.0.0.9-10.0.0.5", "x-y", "::1/128", "10.0.0.0/33"} {
		if _, err := ParseIPRange(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestScanKeyLines(t *testing.T) {
	doc := `a = 1 # comment with = sign
[t]
b = [
  "x = y",
  "z",
]
"quoted.key" = 2
c = """
not = a key
"""
[[arr]]
d = 1
[[arr]]
d = 2
[arr.sub]
e = 3
[[t2.arr]]
f = { g = 1 }
`
	kl := scanKeyLines(doc)
	want := map[string]int{"a": 1, "t": 2, "t.b": 3, "t.quoted.key": 7, "t.c": 8, "arr[0]": 11, "arr[0].d": 12, "arr[1].d": 14, "arr[1].sub.e": 16, "t2.arr[0].f": 18}
	for k, l := range want {
		if kl[k] != l {
			t.Errorf("line of %s = %d, want %d (all: %v)", k, kl[k], l, kl)
		}
	}
	if _, ok := kl["t.not"]; ok {
		t.Error("a line inside a multi-line string was taken for a key")
	}
	if got := kl.lookup("arr[1].sub.e.missing"); got != 16 {
		t.Errorf("lookup of a missing key under arr[1].sub.e = %d, want 16", got)
	}
}
