package ppp

import (
	"bytes"
	"context"
	"flag"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite the golden transcripts in testdata/")

// msgOnly is a slog handler that writes bare messages, one a line.
type msgOnly struct{ buf *bytes.Buffer }

func (h msgOnly) Enabled(context.Context, slog.Level) bool { return true }
func (h msgOnly) Handle(_ context.Context, r slog.Record) error {
	h.buf.WriteString(r.Message + "\n")
	return nil
}
func (h msgOnly) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h msgOnly) WithGroup(string) slog.Handler      { return h }

// TestGoldenTranscripts records the server's view of a whole connection
// (LCP, authentication, IPCP, one keepalive, the client hanging up) per
// method, in pppd's notation. Regenerate with go test -run Golden -update.
func TestGoldenTranscripts(t *testing.T) {
	for _, c := range []struct {
		name     string
		methods  []AuthMethod
		client   []AuthMethod
		password string
	}{
		{"mschapv2", []AuthMethod{AuthMSCHAPv2, AuthCHAPMD5, AuthPAP}, nil, ""},
		{"chap-fallback", []AuthMethod{AuthMSCHAPv2, AuthCHAPMD5, AuthPAP}, []AuthMethod{AuthCHAPMD5}, ""},
		{"pap-wrong-password", []AuthMethod{AuthPAP}, nil, "wrong"},
	} {
		t.Run(c.name, func(t *testing.T) {
			w := newWire(t, c.methods, c.client, c.password)
			var buf bytes.Buffer
			w.srv.SetTrace(slog.New(msgOnly{&buf}))
			w.start()
			w.run(30 * time.Second)
			w.cli.Close(ReasonAdmin)
			w.pump()
			w.run(10 * time.Second)
			path := filepath.Join("testdata", c.name+".golden")
			if *update {
				if err := os.MkdirAll("testdata", 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run with -update to create it)", err)
			}
			if !bytes.Equal(buf.Bytes(), want) {
				t.Errorf("transcript differs from %s:\n%s", path, buf.String())
			}
		})
	}
}
