package main

import (
	"debug/elf"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/l2tpsecd/l2tpsecd/internal/testutil"
)

// No Docker engine runs on the build machines, so this proves what the
// Dockerfile's build stage produces: it runs the same script with the same
// flags and checks the result is a static binary that runs.
func TestStaticBuildAsInDockerfile(t *testing.T) {
	if testing.Short() {
		t.Skip("builds every command from scratch; skipped in -short mode")
	}
	root := testutil.RepoRoot(t)
	df, err := os.ReadFile(filepath.Join(root, "Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(df), "scripts/build-static.sh") || !strings.Contains(string(df), "FROM scratch") {
		t.Fatal("the Dockerfile no longer builds with scripts/build-static.sh into a scratch image; update this test with it")
	}
	out := t.TempDir()
	cmd := exec.Command(filepath.Join(root, "scripts/build-static.sh"), out, "v0.0.0-test")
	cmd.Dir = root
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build-static.sh: %v\n%s", err, b)
	}
	bin := filepath.Join(out, "l2tpsecd")
	f, err := elf.Open(bin)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			t.Fatal("l2tpsecd has an ELF interpreter: it is not static and would not run in a scratch image")
		}
	}
	if libs, _ := f.ImportedLibraries(); len(libs) > 0 {
		t.Fatalf("l2tpsecd links shared libraries %v", libs)
	}
	v, err := exec.Command(bin, "-version").Output()
	if err != nil || strings.TrimSpace(string(v)) != "l2tpsecd v0.0.0-test" {
		t.Fatalf("-version printed %q (%v), want the version the build stamped", v, err)
	}
}
