package repocheck

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/l2tpsecd/l2tpsecd/internal/testutil"
)

func TestGofmt(t *testing.T) {
	root := testutil.RepoRoot(t)
	gofmt := filepath.Join(strings.TrimSpace(goEnv(t, "GOROOT")), "bin", "gofmt")
	out, err := exec.Command(gofmt, "-l", root).CombinedOutput()
	if err != nil {
		t.Fatalf("gofmt: %v\n%s", err, out)
	}
	if s := strings.TrimSpace(string(out)); s != "" {
		t.Fatalf("files not formatted with gofmt:\n%s", s)
	}
}

// The README's test command and .ci/run must stay the same command.
func TestCIRunsTheREADMETestCommand(t *testing.T) {
	root := testutil.RepoRoot(t)
	readme, err := os.ReadFile(filepath.Join(root, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	ci, err := os.ReadFile(filepath.Join(root, ".ci/run"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(readme), "sudo scripts/test.sh") {
		t.Fatal("README.md no longer gives `sudo scripts/test.sh` as the test command")
	}
	if !strings.Contains(string(ci), "scripts/test.sh") {
		t.Fatal(".ci/run does not run scripts/test.sh, the README's test command")
	}
	if !strings.Contains(string(readme), "go run ./cmd/l2tpsecd -config deploy/quickstart.toml") {
		t.Fatal("README.md no longer starts the concentrator on deploy/quickstart.toml")
	}
}

func goEnv(t *testing.T, key string) string {
	out, err := exec.Command("go", "env", key).Output()
	if err != nil {
		t.Fatalf("go env %s: %v", key, err)
	}
	return string(out)
}
