// Package testutil holds helpers shared by the tests of several packages.
package testutil

import (
	"os"
	"path/filepath"
	"testing"
)

// RepoRoot returns the directory holding go.mod, found by walking up from the
// test's working directory (the package directory under go test).
func RepoRoot(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatalf("getwd: %v", err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatalf("no go.mod above the test's working directory")
		}
		dir = parent
	}
}

// SharedTestdata returns the path of a file in ../shared/testdata beside the
// repository (public captures and RFC vectors that the project does not
// commit). The test is skipped, saying why, when the file is not there.
func SharedTestdata(t testing.TB, name string) string {
	t.Helper()
	p := filepath.Join(RepoRoot(t), "..", "shared", "testdata", name)
	if _, err := os.Stat(p); err != nil {
		t.Skipf("shared test data %s is not available (%v); it lives in ../shared/testdata beside the repository", name, err)
	}
	return p
}

// RequireRoot skips the test, saying why, unless it runs as root.
func RequireRoot(t testing.TB) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root (network namespaces, TUN, raw sockets); run as root to include it")
	}
}
