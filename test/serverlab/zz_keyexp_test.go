package serverlab

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/l2tpsecd/l2tpsecd/test/lab"
)

func TestZZKeyExperiment(t *testing.T) {
	l := lab.New(t)
	c := l.NewClient(t, lab.ClientConfig{PSK: "x", User: "u", Password: "p"})
	const n = 150
	props := make([]string, n)
	for i := 0; i < n; i++ {
		k, _ := rsa.GenerateKey(rand.Reader, 2048)
		der := x509.MarshalPKCS1PrivateKey(k)
		os.WriteFile(filepath.Join(c.Guest.ShareDir(), fmt.Sprintf("k%d.pem", i)), pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: der}), 0o600)
		p, q := k.Primes[0], k.Primes[1]
		props[i] = fmt.Sprintf("p>q=%v dbits=%d dp=%d dq=%d qinv=%d", p.Cmp(q) > 0, k.D.BitLen(), k.Precomputed.Dp.BitLen(), k.Precomputed.Dq.BitLen(), k.Precomputed.Qinv.BitLen())
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	out, err := c.Guest.Run(ctx, fmt.Sprintf("for i in $(seq 0 %d); do pki --req --in /lab/k$i.pem --type rsa --dn CN=x >/dev/null 2>/lab/err$i.txt || echo FAIL $i; done; echo done", n-1))
	t.Logf("err=%v\n%s", err, out)
	for _, line := range strings.Split(out, "\n") {
		var i int
		if _, e := fmt.Sscanf(line, "FAIL %d", &i); e == nil {
			b, _ := os.ReadFile(filepath.Join(c.Guest.ShareDir(), fmt.Sprintf("err%d.txt", i)))
			t.Logf("key %d %s: %s", i, props[i], b)
		}
	}
	cnt := 0
	for _, p := range props {
		if strings.HasPrefix(p, "p>q=true") {
			cnt++
		}
	}
	t.Logf("p>q in %d of %d", cnt, n)
}
