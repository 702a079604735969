package interop

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/l2tpsecd/l2tpsecd/test/lab"
)

// TestLibreswanClientReachesSoftEther checks the Libreswan image: pluto
// starts with IKEv1 allowed, loads the connection and negotiates with the
// server. LAB.md records that Libreswan 4.10 fails Main Mode against
// SoftEther (ID/hash errors) while it works against strongSwan+xl2tpd, so a
// connection that does not come up is accepted here as long as it failed in
// IPsec after SoftEther saw the client; a full connection must pass traffic.
func TestLibreswanClientReachesSoftEther(t *testing.T) {
	l := lab.New(t)
	lab.StartSoftEther(t, l, lab.SoftEtherConfig{PSK: refPSK, User: refUser, Password: refPassword})
	c := l.NewClient(t, lab.ClientConfig{
		Stack:    lab.Libreswan,
		PSK:      refPSK,
		User:     refUser,
		Password: refPassword,
	})
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	err := c.Connect(ctx)
	log := softEtherLog()
	if !strings.Contains(log, "("+c.Guest.Addr.Addr().String()+":500") {
		t.Fatalf("SoftEther never heard from the Libreswan client (connect: %v):\n%s", err, lastLines(log, 20))
	}
	if err != nil {
		if !errors.Is(err, lab.ErrIPsec) {
			t.Fatalf("connect failed outside IPsec: %v", err)
		}
		t.Logf("Libreswan against SoftEther failed in IPsec, as LAB.md records: %v", firstLines(err.Error(), 6))
		return
	}
	if err := c.Ping(ctx, l.Server.LANHost); err != nil {
		t.Fatalf("connected but no traffic: %v", err)
	}
	t.Logf("Libreswan connected to SoftEther and got %v", c.Addr())
}

func firstLines(s string, n int) string {
	lines := strings.Split(s, "\n")
	if len(lines) > n {
		lines = lines[:n]
	}
	return strings.Join(lines, "\n")
}
