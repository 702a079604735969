package serverlab

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/l2tpsecd/l2tpsecd/server/control"
	"github.com/l2tpsecd/l2tpsecd/test/lab"
)

// TestWindowsProposals: a client proposing what Windows 10/11 do (ECP384
// and ECP256 first, then AES-256/SHA1/MODP2048; ESP AES-256/AES-128 with
// SHA1) connects, and the server picks ECP384, as its preference says.
func TestWindowsProposals(t *testing.T) {
	for _, stack := range []lab.Stack{lab.StrongSwan, lab.Libreswan} {
		name := map[lab.Stack]string{lab.StrongSwan: "strongswan", lab.Libreswan: "libreswan"}[stack]
		t.Run(name, func(t *testing.T) {
			l := lab.New(t)
			d := startDaemon(t, l, daemonConfig{PSKs: []string{labPSK}, Users: []user{{Name: labUser, Password: labPassword}}})
			ikeList := "aes256-sha1-ecp384,aes128-sha1-ecp256,aes256-sha1-modp2048!"
			if stack == lab.Libreswan {
				// Libreswan's syntax: one algorithm set per entry.
				ikeList = "aes256-sha1;dh20,aes128-sha1;dh19,aes256-sha1;modp2048"
			}
			c := l.NewClient(t, lab.ClientConfig{Stack: stack, BehindNAT: true, PSK: labPSK, User: labUser, Password: labPassword,
				IKE: ikeList, ESP: "aes256-sha1,aes128-sha1!"})
			ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
			defer cancel()
			if err := c.Connect(ctx); err != nil {
				t.Fatalf("connect with a Windows-like proposal list: %v", err)
			}
			if err := c.Ping(ctx, l.Server.LANHost); err != nil {
				t.Fatalf("ping: %v", err)
			}
			p1 := d.waitAudit(t, 5*time.Second, `"event":"phase1_established"`)
			if !strings.Contains(p1, "ECP384") && !strings.Contains(p1, "ECP_384") && !strings.Contains(strings.ToUpper(p1), "ECP384") {
				t.Errorf("phase 1 did not choose ECP384 from a Windows-like list: %s", p1)
			}
			t.Logf("chosen: %s", p1)
		})
	}
}

// TestCompatProposals: an old client that offers only 3DES, SHA1 and
// MODP1024 is refused under the default policy, with the reason and what it
// offered in the audit log; with ike.policy = "compat" it connects.
func TestCompatProposals(t *testing.T) {
	old := lab.ClientConfig{Stack: lab.StrongSwan, PSK: labPSK, User: labUser, Password: labPassword,
		IKE: "3des-sha1-modp1024!", ESP: "3des-sha1!"}

	t.Run("modern refuses", func(t *testing.T) {
		l := lab.New(t)
		d := startDaemon(t, l, daemonConfig{PSKs: []string{labPSK}, Users: []user{{Name: labUser, Password: labPassword}}})
		c := l.NewClient(t, old)
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		err := c.Connect(ctx)
		if err == nil {
			t.Fatal("a 3DES/MODP1024-only client connected under policy modern")
		}
		if !errors.Is(err, lab.ErrIPsec) {
			t.Fatalf("connect failed, but not in IPsec: %v", err)
		}
		line := d.waitAudit(t, 10*time.Second, `"event":"phase1_failed"`, `"reason":"no_proposal_chosen"`)
		if !strings.Contains(line, "3DES") || !strings.Contains(line, "MODP1024") || !strings.Contains(line, "modern") {
			t.Errorf("refusal does not say what was offered under which policy: %s", line)
		}
	})
	t.Run("compat accepts", func(t *testing.T) {
		l := lab.New(t)
		d := startDaemon(t, l, daemonConfig{Policy: "compat", PSKs: []string{labPSK}, Users: []user{{Name: labUser, Password: labPassword}}})
		c := l.NewClient(t, old)
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		if err := c.Connect(ctx); err != nil {
			t.Fatalf("compat policy refused 3DES/MODP1024: %v", err)
		}
		if err := c.Ping(ctx, l.Server.LANHost); err != nil {
			t.Fatalf("ping: %v", err)
		}
		p2 := d.waitAudit(t, 5*time.Second, `"event":"phase2_established"`)
		if !strings.Contains(p2, "3DES") {
			t.Errorf("phase 2 is not 3DES: %s", p2)
		}
	})
}

// TestTwoPSKs: with an old and a new key configured (a rotation), clients
// with either connect, at the same time; a client with neither is refused
// with the reason psk_mismatch.
func TestTwoPSKs(t *testing.T) {
	const oldKey, newKey = "rotation-old-key-1", "rotation-new-key-2"
	l := lab.New(t)
	d := startDaemon(t, l, daemonConfig{PSKs: []string{oldKey, newKey}, Users: []user{{Name: labUser, Password: labPassword}, {Name: "bob", Password: "builder-77"}}})
	cs := l.NewClients(t,
		lab.ClientConfig{BehindNAT: true, PSK: oldKey, User: labUser, Password: labPassword},
		lab.ClientConfig{BehindNAT: true, PSK: newKey, User: "bob", Password: "builder-77"},
		lab.ClientConfig{PSK: "neither-of-the-two", User: labUser, Password: labPassword},
	)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	for i, c := range cs[:2] {
		if err := c.Connect(ctx); err != nil {
			t.Fatalf("client %d: %v", i, err)
		}
		if err := c.Ping(ctx, l.Server.LANHost); err != nil {
			t.Fatalf("client %d ping: %v", i, err)
		}
	}
	d.waitAudit(t, 5*time.Second, `"event":"phase1_established"`, `"psk":"key0"`)
	d.waitAudit(t, 5*time.Second, `"event":"phase1_established"`, `"psk":"key1"`)
	if err := cs[2].Connect(ctx); err == nil {
		t.Fatal("a client with neither key connected")
	} else if !errors.Is(err, lab.ErrIPsec) {
		t.Fatalf("wrong-key client failed, but not in IPsec: %v", err)
	}
	line := d.waitAudit(t, 10*time.Second, `"event":"phase1_failed"`, `"reason":"psk_mismatch"`)
	t.Logf("refusal: %s", line)
	for i, c := range cs[:2] {
		if err := c.Ping(ctx, l.Server.LANHost); err != nil {
			t.Fatalf("client %d lost its tunnel while the wrong key was refused: %v", i, err)
		}
	}
}

// TestAndroidSHA256Truncated: old Android (6/7) negotiates HMAC-SHA2-256
// but sends 96-bit ICVs (strongSwan's sha256_96=yes reproduces it). With
// the default sha256_truncated_96 = "auto" the server notices and the
// client works; with "off" (strict RFC 4868) its traffic is dropped as bad
// integrity.
func TestAndroidSHA256Truncated(t *testing.T) {
	for _, mode := range []string{"auto", "off"} {
		t.Run(mode, func(t *testing.T) {
			l := lab.New(t)
			d := startDaemon(t, l, daemonConfig{PSKs: []string{labPSK}, Users: []user{{Name: labUser, Password: labPassword}},
				IKEExtra: fmt.Sprintf("sha256_truncated_96 = %q", mode)})
			cc := lab.ClientConfig{PSK: labPSK, User: labUser, Password: labPassword,
				ESP: "aes128-sha256!", IPsecExtra: []string{"sha256_96=yes"}}
			if mode == "off" {
				cc.PPPTimeout = 15 * time.Second // PPP is expected never to come up
			}
			c := l.NewClient(t, cc)
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			err := c.Connect(ctx)
			m := d.metrics(t)
			integrity := metricValue(m, `l2tpsecd_esp_drops_total{reason="integrity"}`)
			if mode == "auto" {
				if err != nil {
					t.Fatalf("an old-Android client (SHA2-256 with 96-bit ICVs) could not connect with auto detection: %v", err)
				}
				if err := c.Ping(ctx, l.Server.LANHost); err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil {
				t.Fatal("with sha256_truncated_96 = off the truncated client connected")
			}
			if integrity <= 0 {
				t.Errorf("its packets were not counted as integrity failures: %v", integrity)
			}
		})
	}
}

// TestClientRekey: a client that rekeys its ESP SAs (Quick Mode on the
// existing IKE SA) keeps its session, its address and its traffic: the
// L2TP tunnel follows the new SA pair, and the old one goes when the
// client deletes it.
func TestClientRekey(t *testing.T) {
	l := lab.New(t)
	d := startDaemon(t, l, daemonConfig{PSKs: []string{labPSK}, Users: []user{{Name: labUser, Password: labPassword}}})
	c := l.NewClient(t, lab.ClientConfig{BehindNAT: true, PSK: labPSK, User: labUser, Password: labPassword,
		IPsecExtra: []string{"rekey=yes", "lifetime=40s", "margintime=20s", "rekeyfuzz=0%"}})
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	if err := c.Connect(ctx); err != nil {
		t.Fatal(err)
	}
	before := d.call(t, control.Request{Cmd: control.CmdSessions}).Sessions
	if len(before) != 1 {
		t.Fatalf("sessions %+v", before)
	}
	deadline := time.Now().Add(60 * time.Second)
	for len(d.auditLines(`"event":"phase2_established"`)) < 2 {
		if time.Now().After(deadline) {
			t.Fatal("the client did not rekey within 60 s")
		}
		if err := c.Ping(ctx, l.Server.LANHost); err != nil {
			t.Fatalf("ping while waiting for the rekey: %v", err)
		}
		time.Sleep(2 * time.Second)
	}
	t.Logf("rekeyed: %v", d.auditLines(`"event":"phase2_established"`))
	// Traffic keeps flowing across the rekey and after the old SA is gone
	// (its 40 s lifetime ends about 20 s after the rekey).
	for i := 0; i < 13; i++ {
		if err := c.Ping(ctx, l.Server.LANHost); err != nil {
			t.Fatalf("ping %d after the rekey: %v", i, err)
		}
		time.Sleep(2 * time.Second)
	}
	after := d.call(t, control.Request{Cmd: control.CmdSessions}).Sessions
	if len(after) != 1 || after[0].ID != before[0].ID || after[0].Address != before[0].Address {
		t.Fatalf("the session changed across the rekey: before %+v, after %+v", before, after)
	}
}
