package lab

import (
	"context"
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"
)

// buildVersion changes whenever the build steps below change in a way the
// package list and init script do not show, so cached images are rebuilt.
const buildVersion = "3"

//go:embed init.sh
var initScript []byte

// umlModules is where Debian's user-mode-linux package keeps the modules of
// its kernel.
const umlModules = "/usr/lib/uml/modules"

// commonPackages go into every guest image.
var commonPackages = []string{
	"xl2tpd", "ppp", "iperf3", "iproute2", "iputils-ping", "tcpdump", "kmod",
	"procps", "nftables", "ca-certificates",
}

// Packages returns the Debian packages of the guest image for a stack.
func Packages(s Stack) []string {
	var p []string
	switch s {
	case StrongSwan:
		// The extra plugins bring curl (CRL fetching) and more crypto for
		// the certificate tests; the standard plugins bring openssl, the
		// only plugin with ECP groups 19/20 (the ECP256/ECP384 that
		// Windows 10/11 propose first), without which charon answers
		// "negotiated DH group not supported".
		p = []string{"strongswan-starter", "strongswan-charon", "strongswan-swanctl",
			"libstrongswan-standard-plugins", "libstrongswan-extra-plugins", "libcharon-extra-plugins", "strongswan-pki"}
	case Libreswan:
		p = []string{"libreswan", "libnss3-tools"}
	}
	return append(p, commonPackages...)
}

// ImageKey is the cache key of a stack's image: a hash of everything that
// goes into it, so that a changed package list, init script, build step or
// host UML kernel builds a new image.
func ImageKey(s Stack) string {
	h := sha256.New()
	fmt.Fprintf(h, "version %s\nstack %s\n", buildVersion, s)
	pk := append([]string(nil), Packages(s)...)
	sort.Strings(pk)
	fmt.Fprintf(h, "packages %s\n", strings.Join(pk, ","))
	h.Write(initScript)
	kv, _ := umlKernelVersions()
	fmt.Fprintf(h, "kernel %s\n", strings.Join(kv, ","))
	return hex.EncodeToString(h.Sum(nil))[:16]
}

func umlKernelVersions() ([]string, error) {
	ents, err := os.ReadDir(umlModules)
	if err != nil {
		return nil, err
	}
	var v []string
	for _, e := range ents {
		if e.IsDir() {
			v = append(v, e.Name())
		}
	}
	sort.Strings(v)
	return v, nil
}

// Image returns the path of the stack's guest initramfs, building it first
// when the cache does not hold it. Builds are serialised across processes
// with flock on the cache directory.
func Image(t testing.TB, s Stack) string {
	t.Helper()
	Require(t)
	start := time.Now()
	path, built, err := buildImage(context.Background(), s)
	if err != nil {
		t.Fatalf("building the %v guest image: %v", s, err)
	}
	if built {
		t.Logf("built the %v guest image %s in %v", s, path, time.Since(start).Round(time.Second))
	}
	return path
}

func buildImage(ctx context.Context, s Stack) (path string, built bool, err error) {
	dir := CacheDir()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", false, err
	}
	key := ImageKey(s)
	path = filepath.Join(dir, fmt.Sprintf("%s-%s.cpio", s, key))
	if _, err := os.Stat(path); err == nil {
		return path, false, nil
	}
	lock, err := os.OpenFile(filepath.Join(dir, ".build.lock"), os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return "", false, err
	}
	defer lock.Close()
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX); err != nil {
		return "", false, fmt.Errorf("flock: %w", err)
	}
	defer syscall.Flock(int(lock.Fd()), syscall.LOCK_UN)
	if _, err := os.Stat(path); err == nil {
		return path, false, nil // another process built it while we waited
	}
	work, err := os.MkdirTemp(dir, "build-"+s.String()+"-")
	if err != nil {
		return "", false, err
	}
	defer os.RemoveAll(work)
	logPath := filepath.Join(dir, "build-"+s.String()+".log")
	logf, err := os.Create(logPath)
	if err != nil {
		return "", false, err
	}
	defer logf.Close()
	root := filepath.Join(work, "root")
	args := []string{"--variant=minbase", "--mode=root", "--format=directory",
		"--include=" + strings.Join(Packages(s), ","),
		"--aptopt=Acquire::Retries \"3\"",
	}
	for _, ex := range []string{"/usr/share/man/*", "/usr/share/doc/*", "/usr/share/locale/*",
		"/usr/share/info/*", "/usr/share/lintian/*"} {
		args = append(args, "--dpkgopt=path-exclude="+ex)
	}
	args = append(args, "bookworm", root)
	args = append(args, MirrorLines()...)
	cmd := exec.CommandContext(ctx, mmdebstrap, args...)
	cmd.Stdout, cmd.Stderr = logf, logf
	fmt.Fprintf(logf, "+ %s %s\n", mmdebstrap, strings.Join(args, " "))
	if err := cmd.Run(); err != nil {
		return "", false, fmt.Errorf("mmdebstrap: %v (log %s):\n%s", err, logPath, tailFile(logPath, 30))
	}
	if err := os.WriteFile(filepath.Join(root, "init"), initScript, 0o755); err != nil {
		return "", false, err
	}
	// Modules go under usr/lib/modules: a ./lib entry would replace the
	// /lib -> usr/lib symlink and break the dynamic loader.
	modDir := filepath.Join(root, "usr", "lib", "modules")
	if err := os.MkdirAll(modDir, 0o755); err != nil {
		return "", false, err
	}
	kv, err := umlKernelVersions()
	if err != nil || len(kv) == 0 {
		return "", false, fmt.Errorf("no User-Mode Linux modules in %s: %v", umlModules, err)
	}
	for _, v := range kv {
		if out, err := exec.Command("cp", "-a", filepath.Join(umlModules, v), modDir).CombinedOutput(); err != nil {
			return "", false, fmt.Errorf("copying modules: %v: %s", err, out)
		}
	}
	tmp := filepath.Join(work, "image.cpio")
	pack := exec.CommandContext(ctx, "sh", "-c", `cd "$1" && find . -print0 | LC_ALL=C sort -z | cpio --null -o -H newc --quiet > "$2"`, "pack", root, tmp)
	if out, err := pack.CombinedOutput(); err != nil {
		return "", false, fmt.Errorf("packing the initramfs: %v: %s", err, out)
	}
	if err := os.Rename(tmp, path); err != nil {
		return "", false, err
	}
	// Drop this stack's images of earlier keys.
	old, _ := filepath.Glob(filepath.Join(dir, s.String()+"-*.cpio"))
	for _, o := range old {
		if o != path {
			os.Remove(o)
		}
	}
	return path, true, nil
}

// MirrorLines returns the bookworm sources for mmdebstrap, taken from the
// host's apt configuration (the only Debian mirror reachable from these
// machines), falling back to deb.debian.org.
func MirrorLines() []string {
	main, sec := hostMirrors()
	if main == "" {
		main = "http://deb.debian.org/debian"
	}
	lines := []string{
		"deb " + main + " bookworm main",
		"deb " + main + " bookworm-updates main",
	}
	if sec != "" {
		lines = append(lines, "deb "+sec+" bookworm-security main")
	}
	return lines
}

// hostMirrors finds the URIs serving bookworm and bookworm-security in
// /etc/apt/sources.list and sources.list.d.
func hostMirrors() (main, security string) {
	files := []string{"/etc/apt/sources.list"}
	more, _ := filepath.Glob("/etc/apt/sources.list.d/*")
	files = append(files, more...)
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		for _, src := range parseSources(f, string(data)) {
			for _, suite := range src.suites {
				switch {
				case suite == "bookworm" && main == "":
					main = src.uri
				case suite == "bookworm-security" && security == "":
					security = src.uri
				}
			}
		}
	}
	return main, security
}

// aptSource is one URI with its suites from an apt sources file.
type aptSource struct {
	uri    string
	suites []string
}

// parseSources reads "deb" entries of an apt sources file: deb822 stanzas
// when the name ends in .sources, one-line entries otherwise.
func parseSources(name, data string) []aptSource {
	var out []aptSource
	if strings.HasSuffix(name, ".sources") {
		for _, stanza := range strings.Split(data, "\n\n") {
			var uris, suites []string
			deb := true
			for _, line := range strings.Split(stanza, "\n") {
				if strings.HasPrefix(strings.TrimSpace(line), "#") {
					continue
				}
				k, v, ok := strings.Cut(line, ":")
				if !ok {
					continue
				}
				switch strings.ToLower(strings.TrimSpace(k)) {
				case "uris":
					uris = strings.Fields(v)
				case "suites":
					suites = strings.Fields(v)
				case "types":
					deb = false
					for _, t := range strings.Fields(v) {
						deb = deb || t == "deb"
					}
				}
			}
			if !deb {
				continue
			}
			for _, u := range uris {
				out = append(out, aptSource{uri: u, suites: suites})
			}
		}
		return out
	}
	for _, line := range strings.Split(data, "\n") {
		f := strings.Fields(line)
		if len(f) < 3 || f[0] != "deb" {
			continue
		}
		i := 1
		if strings.HasPrefix(f[1], "[") { // [options]
			for i < len(f) && !strings.HasSuffix(f[i], "]") {
				i++
			}
			i++
		}
		if i+1 < len(f) {
			out = append(out, aptSource{uri: f[i], suites: []string{f[i+1]}})
		}
	}
	return out
}

// tailFile returns the last n lines of a file.
func tailFile(path string, n int) string {
	data, err := os.ReadFile(path)
	if err != nil {
		return err.Error()
	}
	return tailLines(string(data), n)
}

func tailLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = append([]string{fmt.Sprintf("... (%d lines cut)", len(lines)-n)}, lines[len(lines)-n:]...)
	}
	return strings.Join(lines, "\n")
}
