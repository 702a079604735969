package ike

import (
	"go/format"
	"os"
	"path/filepath"
	"testing"
)

// TestGofmt keeps the package gofmt-clean (STYLE.md).
func TestGofmt(t *testing.T) {
	files, _ := filepath.Glob("*.go")
	for _, f := range files {
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		out, err := format.Source(src)
		if err != nil {
			t.Errorf("%s: %v", f, err)
			continue
		}
		if string(out) != string(src) {
			t.Errorf("%s is not gofmt-formatted", f)
		}
	}
}
