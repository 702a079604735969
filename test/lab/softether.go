package lab

import (
	"context"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// SoftEther VPN Server keeps its state in fixed directories, so only one
// instance can run on a machine; the lab serialises them with flock.
const (
	softEtherBin     = "/usr/libexec/softether/vpnserver/vpnserver"
	softEtherCmd     = "/usr/bin/vpncmd"
	softEtherState   = "/var/lib/softether"
	softEtherLogs    = "/var/log/softether"
	softEtherRun     = "/run/softether"
	softEtherLock    = "/run/lock/l2tpsecd-lab-softether.lock"
	softEtherMarker  = ".l2tpsecd-lab" // in softEtherState: the config there is ours to remove
	softEtherHub     = "LAB"
	softEtherDHCPLow = "10.99.0.100"
	softEtherDHCPTop = "10.99.0.199"
	softEtherVHost   = "10.99.0.254" // SecureNAT's virtual host (the DHCP server)
)

// SoftEtherConfig sets up the reference server.
type SoftEtherConfig struct {
	PSK      string
	User     string
	Password string
}

// SoftEther is a running SoftEther VPN Server in the lab's server
// namespace, serving L2TP/IPsec with PSK and handing clients addresses of
// the LAN (SoftEtherPool) from its SecureNAT DHCP server, with its virtual
// hub bridged to the LAN veth.
//
// Facts (measured here): SecureNAT's user-mode NAT cannot be the path to
// the LAN host, so SecureNAT only hands out addresses (NatDisable) and the
// hub is bridged (BridgeCreate) to the server's veth into the LAN namespace;
// PPP clients then sit on the LAN's own subnet. Offloads must be off on both
// ends of that veth or downloads collapse. SoftEther always forces NAT-T
// (its NAT-D hash is random), sends its IKE ID as 0.0.0.0 (clients need
// rightid=%any) and delays IPCP by about 3.5 s.
type SoftEther struct {
	Cfg SoftEtherConfig
}

// SoftEtherPool returns the first and last address SoftEther's DHCP hands to
// PPP clients.
func SoftEtherPool() (netip.Addr, netip.Addr) {
	return netip.MustParseAddr(softEtherDHCPLow), netip.MustParseAddr(softEtherDHCPTop)
}

// SoftEtherMissing says why SoftEther cannot run here, or "" when it can.
func SoftEtherMissing() string {
	for _, p := range []string{softEtherBin, softEtherCmd} {
		if _, err := os.Stat(p); err != nil {
			return p + " is missing (Debian packages softether-vpnserver, softether-vpncmd)"
		}
	}
	return ""
}

// StartSoftEther starts SoftEther VPN Server in the lab's server namespace
// and configures it from cfg. It waits for any other lab test's SoftEther to
// finish first, and stops its own in t.Cleanup.
func StartSoftEther(t testing.TB, l *Lab, cfg SoftEtherConfig) *SoftEther {
	t.Helper()
	if why := SoftEtherMissing(); why != "" {
		if Required() {
			t.Fatalf("SoftEther reference server unavailable: %s (%s=require)", why, EnvMode)
		}
		t.Skip("SoftEther reference server unavailable: " + why)
	}
	if err := os.MkdirAll(filepath.Dir(softEtherLock), 0o755); err != nil {
		t.Fatal(err)
	}
	lock, err := os.OpenFile(softEtherLock, os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX); err != nil {
		lock.Close()
		t.Fatalf("flock %s: %v", softEtherLock, err)
	}
	var p *proc
	t.Cleanup(func() {
		if p != nil {
			p.stop(10 * time.Second)
		}
		lock.Close() // releases the flock
	})
	if pid := findProcess("vpnserver"); pid != 0 {
		t.Fatalf("a vpnserver (pid %d) that this test did not start is running; SoftEther's state directories are fixed, so the lab needs it stopped", pid)
	}
	if err := resetSoftEtherState(); err != nil {
		t.Fatal(err)
	}
	cmd := l.Server.Command(context.Background(), softEtherBin, "execsvc")
	if p, err = l.start("softether", cmd); err != nil {
		t.Fatal(err)
	}
	l.AddLogHook("softether server_log", func() string {
		files, _ := filepath.Glob(filepath.Join(softEtherLogs, "server_log", "*.log"))
		var b strings.Builder
		for _, f := range files {
			data, _ := os.ReadFile(f)
			b.Write(data)
		}
		return b.String()
	})

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for {
		out, err := l.Server.Command(ctx, softEtherCmd, "localhost:5555", "/SERVER", "/CMD", "ServerInfoGet").CombinedOutput()
		if err == nil {
			break
		}
		select {
		case <-ctx.Done():
			t.Fatalf("SoftEther did not answer vpncmd: %v\n%s", err, tailLines(string(out), 10))
		case <-p.done:
			t.Fatalf("SoftEther exited at start")
		case <-time.After(300 * time.Millisecond):
		}
	}
	batch := softEtherBatch(cfg, l.Server.LANIface)
	in := filepath.Join(l.Dir, "softether.in")
	if err := os.WriteFile(in, []byte(strings.Join(batch, "\n")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := l.Server.Command(ctx, softEtherCmd, "localhost:5555", "/SERVER", "/IN:"+in).CombinedOutput()
	if n := strings.Count(string(out), "The command completed successfully."); err != nil || n != len(batch) {
		t.Fatalf("configuring SoftEther: %v, %d of %d commands succeeded:\n%s", err, n, len(batch), tailLines(string(out), 40))
	}
	// Offloads off on both ends of the bridged veth, or TCP downloads
	// collapse to well under 1 Mbit/s.
	_, _, _, lan := l.Namespaces()
	for _, e := range []struct{ ns, dev string }{{l.Server.Namespace, l.Server.LANIface}, {lan, l.name("l1")}} {
		if out, err := exec.Command("ip", "netns", "exec", e.ns, "ethtool", "-K", e.dev,
			"tx", "off", "rx", "off", "sg", "off", "tso", "off", "gso", "off", "gro", "off").CombinedOutput(); err != nil {
			t.Fatalf("ethtool -K %s: %v: %s", e.dev, err, out)
		}
	}
	return &SoftEther{Cfg: cfg}
}

// softEtherBatch is the vpncmd script that sets the server up.
func softEtherBatch(cfg SoftEtherConfig, lanIface string) []string {
	return []string{
		// No keep-alive probes towards the internet (they could not leave
		// the namespaces anyway).
		"KeepDisable",
		"HubCreate " + softEtherHub + " /PASSWORD:",
		"Hub " + softEtherHub,
		"UserCreate " + cfg.User + " /GROUP:none /REALNAME:none /NOTE:none",
		"UserPasswordSet " + cfg.User + " /PASSWORD:" + cfg.Password,
		"SecureNatHostSet /MAC:none /IP:" + softEtherVHost + " /MASK:255.255.255.0",
		"DhcpSet /START:" + softEtherDHCPLow + " /END:" + softEtherDHCPTop +
			" /MASK:255.255.255.0 /EXPIRE:7200 /GW:none /DNS:none /DNS2:none /DOMAIN:none /LOG:no /PUSHROUTE:none",
		"NatDisable",
		"SecureNatEnable",
		"BridgeCreate " + softEtherHub + " /DEVICE:" + lanIface + " /TAP:no",
		"IPsecEnable /L2TP:yes /L2TPRAW:no /ETHERIP:no /PSK:" + cfg.PSK + " /DEFAULTHUB:" + softEtherHub,
		"VpnAzureSetEnable no",
	}
}

// resetSoftEtherState gives SoftEther an empty configuration. It refuses to
// touch a configuration the lab did not create.
func resetSoftEtherState() error {
	for _, d := range []string{softEtherState, softEtherLogs, softEtherRun} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return err
		}
	}
	marker := filepath.Join(softEtherState, softEtherMarker)
	if _, err := os.Stat(filepath.Join(softEtherState, "vpn_server.config")); err == nil {
		if _, err := os.Stat(marker); err != nil {
			return fmt.Errorf("%s/vpn_server.config exists and was not made by the lab; refusing to overwrite it", softEtherState)
		}
	}
	ents, _ := os.ReadDir(softEtherState)
	for _, e := range ents {
		os.RemoveAll(filepath.Join(softEtherState, e.Name()))
	}
	ents, _ = os.ReadDir(softEtherLogs)
	for _, e := range ents {
		os.RemoveAll(filepath.Join(softEtherLogs, e.Name()))
	}
	return os.WriteFile(marker, []byte("configuration made by the l2tpsecd lab (test/lab); removed at each lab run\n"), 0o644)
}

// findProcess returns the PID of a live (not zombie) process whose command
// name is comm, or 0.
func findProcess(comm string) int {
	for _, p := range processes() {
		if p.comm == comm && p.state != 'Z' {
			return p.pid
		}
	}
	return 0
}
