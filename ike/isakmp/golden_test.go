package isakmp

import (
	"flag"
	"os"
	"path/filepath"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// TestGoldenDumps compares the verbose dump of representative messages
// with testdata/*.golden (regenerate with go test -run Golden -update).
func TestGoldenDumps(t *testing.T) {
	mm1, err := Parse(unhex(t, windows10MM1))
	if err != nil {
		t.Fatal(err)
	}
	first, body := quickModeBody(t)
	qm, err := ParseBody(first, body)
	if err != nil {
		t.Fatal(err)
	}
	qh := Header{InitiatorCookie: Cookie{0xa1, 0xa2}, ResponderCookie: Cookie{0xb1, 0xb2}, Exchange: ExchangeQuickMode,
		Flags: FlagEncryption, NextPayload: first, MessageID: 0x4872aa0f, Length: uint32(HeaderLen + len(body))}
	cases := map[string]string{
		"windows10_mm1.golden": mm1.Dump(),
		"windows_qm1.golden":   Dump(&qh, qm.Payloads),
	}
	for name, got := range cases {
		path := filepath.Join("testdata", name)
		if *update {
			if err := os.MkdirAll("testdata", 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		want, err := os.ReadFile(path)
		if err != nil {
			t.Fatalf("%v (run with -update to create it)", err)
		}
		if got != string(want) {
			t.Errorf("%s differs:\n--- got\n%s--- want\n%s", name, got, want)
		}
	}
}
