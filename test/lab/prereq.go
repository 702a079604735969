package lab

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// Environment variables that steer the lab.
const (
	// EnvMode set to "require" turns every missing prerequisite into a test
	// failure instead of a skip (CI sets it).
	EnvMode = "L2TPSECD_LAB"
	// EnvCache names the directory for built guest images; default
	// DefaultCacheDir.
	EnvCache = "L2TPSECD_LAB_CACHE"
	// EnvKeep set to anything keeps the run directory (guest shares with
	// their logs and command transcripts) after the test.
	EnvKeep = "L2TPSECD_LAB_KEEP"
	// DefaultCacheDir is outside any clone, so CI runs after the first one
	// find the images already built.
	DefaultCacheDir = "/var/cache/l2tpsecd-lab"
)

// Paths of the host programs the lab needs.
const (
	umlKernel  = "/usr/bin/linux"
	mmdebstrap = "/usr/bin/mmdebstrap"
)

// hostTools are looked up in PATH; each comes from a package listed in
// host-packages.txt.
var hostTools = []string{"ip", "nft", "cpio", "ethtool", "iperf3", "flock"}

// Required reports whether L2TPSECD_LAB=require is set.
func Required() bool { return strings.EqualFold(os.Getenv(EnvMode), "require") }

// Missing lists the host prerequisites of the lab that are not met; it is
// empty when the lab can run.
func Missing() []string {
	var miss []string
	if os.Geteuid() != 0 {
		miss = append(miss, "not root (the lab creates network namespaces, taps and User-Mode Linux guests)")
	}
	if _, err := os.Stat("/dev/net/tun"); err != nil {
		miss = append(miss, "/dev/net/tun is missing ("+err.Error()+")")
	}
	if _, err := os.Stat(umlKernel); err != nil {
		miss = append(miss, umlKernel+" is missing (Debian package user-mode-linux)")
	}
	if _, err := os.Stat(mmdebstrap); err != nil {
		miss = append(miss, mmdebstrap+" is missing (Debian package mmdebstrap)")
	}
	for _, tool := range hostTools {
		if _, err := exec.LookPath(tool); err != nil {
			miss = append(miss, tool+" is not in PATH (see test/lab/host-packages.txt)")
		}
	}
	if err := shmExecutable(); err != nil {
		miss = append(miss, err.Error())
	}
	return miss
}

// shmExecutable checks that /dev/shm, where User-Mode Linux maps its memory,
// is a directory that is not mounted noexec.
func shmExecutable() error {
	st, err := os.Stat("/dev/shm")
	if err != nil || !st.IsDir() {
		return errors.New("/dev/shm is missing (User-Mode Linux keeps guest memory there)")
	}
	mounts, err := os.ReadFile("/proc/self/mounts")
	if err != nil {
		return nil
	}
	for _, line := range strings.Split(string(mounts), "\n") {
		f := strings.Fields(line)
		if len(f) >= 4 && f[1] == "/dev/shm" && strings.Contains(","+f[3]+",", ",noexec,") {
			return errors.New("/dev/shm is mounted noexec (User-Mode Linux maps guest memory there executable)")
		}
	}
	return nil
}

// Require skips the test, naming every missing prerequisite, unless the lab
// can run; with L2TPSECD_LAB=require it fails the test instead.
func Require(t testing.TB) {
	t.Helper()
	miss := Missing()
	if len(miss) == 0 {
		return
	}
	msg := fmt.Sprintf("real-client lab unavailable: %s", strings.Join(miss, "; "))
	if Required() {
		t.Fatalf("%s (%s=require is set, so this is a failure)", msg, EnvMode)
	}
	t.Skip(msg + " (set " + EnvMode + "=require to make this a failure)")
}

// CacheDir returns the directory holding built guest images.
func CacheDir() string {
	if d := os.Getenv(EnvCache); d != "" {
		return d
	}
	return DefaultCacheDir
}
