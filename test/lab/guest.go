package lab

import (
	"context"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
)

// Guest timing.
const (
	bootTimeout = 90 * time.Second      // from process start to /lab/ready
	pollEvery   = 20 * time.Millisecond // how often the host looks for results
	defaultMem  = 1024                  // MB; 512 panics unpacking the initramfs with the certificate plugins
)

// Guest is one User-Mode Linux guest on a client segment, driven through its
// hostfs share.
type Guest struct {
	Name      string
	Stack     Stack
	Namespace string       // where its tap (and the UML process) live
	Addr      netip.Prefix // its address on the client segment
	Gateway   netip.Addr
	BehindNAT bool

	dir, share string
	proc       *proc
	seq        atomic.Int64
}

// segment is where a guest's tap goes and which address it takes.
type segment struct {
	ns, bridge string
	addr       netip.Prefix
	gw         netip.Addr
	behindNAT  bool
}

// clientSegment allocates the next client address on the direct or the NAT
// segment.
func (l *Lab) clientSegment(behindNAT bool) (segment, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	var idx int
	seg := segment{ns: l.nsInet, bridge: l.bridgeDirect, gw: directGW}
	first := directFirst
	if behindNAT {
		idx = l.nextNAT
		l.nextNAT++
		seg = segment{ns: l.nsNAT, bridge: l.bridgeNAT, gw: natGW, behindNAT: true}
		first = natFirst
	} else {
		idx = l.nextDirect
		l.nextDirect++
	}
	if idx >= maxClientsPerSide {
		return segment{}, fmt.Errorf("lab: more than %d guests on one segment", maxClientsPerSide)
	}
	addr := first
	for range idx {
		addr = addr.Next()
	}
	seg.addr = netip.PrefixFrom(addr, directBits)
	return seg, nil
}

// bootGuest starts a guest of the given stack on a segment and waits until
// its /init is ready for commands.
func (l *Lab) bootGuest(ctx context.Context, image string, stack Stack, seg segment, memMB int) (*Guest, error) {
	l.mu.Lock()
	n := l.clientCount
	l.clientCount++
	l.mu.Unlock()
	ns, bridge, gw := seg.ns, seg.bridge, seg.gw
	if memMB <= 0 {
		memMB = defaultMem
	}
	name := l.name("c" + strconv.Itoa(n))
	tap := l.name("t" + strconv.Itoa(n))
	g := &Guest{
		Name: name, Stack: stack, Namespace: ns, Addr: seg.addr,
		Gateway: gw, BehindNAT: seg.behindNAT,
		dir: filepath.Join(l.Dir, name),
	}
	g.share = filepath.Join(g.dir, "share")
	for _, d := range []string{g.share, filepath.Join(g.share, "cmd"), filepath.Join(g.share, "out"),
		filepath.Join(g.share, "log"), filepath.Join(g.share, "files"), filepath.Join(g.dir, "uml")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return nil, err
		}
	}
	if err := ipn(ns, "tuntap", "add", "dev", tap, "mode", "tap"); err != nil {
		return nil, err
	}
	if err := ipn(ns, "link", "set", tap, "master", bridge, "up"); err != nil {
		return nil, err
	}
	args := []string{
		fmt.Sprintf("mem=%dM", memMB),
		"initrd=" + image,
		"umid=" + name,
		"uml_dir=" + filepath.Join(g.dir, "uml"),
		"vec0:transport=tap,ifname=" + tap + ",depth=128,gro=1",
		"con=null", "con0=null,fd:1",
		"lab.share=" + g.share,
		"lab.addr=" + g.Addr.String(),
		"lab.gw=" + gw.String(),
		"lab.name=" + name,
	}
	cmd := nsCommand(context.Background(), ns, umlKernel, args...)
	// UML maps guest memory from a file in TMPDIR, which must allow exec.
	cmd.Env = append(os.Environ(), "TMPDIR=/dev/shm")
	console, err := os.Create(filepath.Join(g.dir, "console.log"))
	if err != nil {
		return nil, err
	}
	cmd.Stdout, cmd.Stderr, cmd.Stdin = console, console, nil
	p, err := l.start(name+"-uml", cmd)
	console.Close() // the child has its own descriptor
	if err != nil {
		return nil, err
	}
	g.proc = p
	l.AddLogFile(name+" console", filepath.Join(g.dir, "console.log"))
	l.addLogDir(name, filepath.Join(g.share, "log"))

	ctx, cancel := context.WithTimeout(ctx, bootTimeout)
	defer cancel()
	for {
		if _, err := os.Stat(filepath.Join(g.share, "ready")); err == nil {
			return g, nil
		}
		select {
		case <-g.proc.done:
			return nil, fmt.Errorf("%w: %s exited while booting:\n%s", ErrGuestExited, name,
				tailFile(filepath.Join(g.dir, "console.log"), 30))
		case <-ctx.Done():
			return nil, fmt.Errorf("lab: %s not ready: %w:\n%s", name, ctx.Err(),
				tailFile(filepath.Join(g.dir, "console.log"), 30))
		case <-time.After(pollEvery * 5):
		}
	}
}

// Run runs a shell script in the guest (as root, by /bin/sh) and returns its
// combined output. A non-zero exit is an *ExitError carrying the output. When
// ctx ends first the script goes on running in the guest.
func (g *Guest) Run(ctx context.Context, script string) (string, error) {
	n := strconv.FormatInt(g.seq.Add(1), 10)
	tmp := filepath.Join(g.share, "cmd", "."+n+".tmp")
	if err := os.WriteFile(tmp, []byte(script+"\n"), 0o644); err != nil {
		return "", err
	}
	if err := os.Rename(tmp, filepath.Join(g.share, "cmd", n+".sh")); err != nil {
		return "", err
	}
	rcPath := filepath.Join(g.share, "out", n+".rc")
	outPath := filepath.Join(g.share, "out", n+".out")
	tick := time.NewTicker(pollEvery)
	defer tick.Stop()
	for {
		if rcData, err := os.ReadFile(rcPath); err == nil && strings.HasSuffix(string(rcData), "\n") {
			out, _ := os.ReadFile(outPath)
			rc, err := strconv.Atoi(strings.TrimSpace(string(rcData)))
			if err != nil {
				return string(out), fmt.Errorf("lab: bad exit status %q from %s", rcData, g.Name)
			}
			if rc != 0 {
				return string(out), &ExitError{Command: firstLine(script), Code: rc, Output: string(out)}
			}
			return string(out), nil
		}
		select {
		case <-g.proc.done:
			return "", fmt.Errorf("%w: %s", ErrGuestExited, g.Name)
		case <-ctx.Done():
			out, _ := os.ReadFile(outPath)
			return string(out), fmt.Errorf("lab: %s on %s: %w", firstLine(script), g.Name, ctx.Err())
		case <-tick.C:
		}
	}
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(strings.TrimSpace(s), "\n")
	if len(s) > 120 {
		s = s[:120] + "..."
	}
	return s
}

// WriteFile puts data at path inside the guest with the given mode,
// creating parent directories.
func (g *Guest) WriteFile(ctx context.Context, path string, data []byte, perm os.FileMode) error {
	_, err := g.Run(ctx, g.stageFile(path, data, perm))
	return err
}

// stageFile puts data into the share and returns the guest command that
// installs it at path (several go into one script: every process the guest
// starts is expensive under User-Mode Linux).
func (g *Guest) stageFile(path string, data []byte, perm os.FileMode) string {
	n := "f" + strconv.FormatInt(g.seq.Add(1), 10)
	if err := os.WriteFile(filepath.Join(g.share, "files", n), data, 0o644); err != nil {
		// The install below fails and reports it.
		return "echo " + shellQuote("staging "+path+": "+err.Error()) + " >&2; false"
	}
	return fmt.Sprintf("install -D -m %o /lab/files/%s %s", perm.Perm(), n, shellQuote(path))
}

// ReadFile returns the content of a file inside the guest.
func (g *Guest) ReadFile(ctx context.Context, path string) ([]byte, error) {
	out, err := g.Run(ctx, "cat "+shellQuote(path))
	return []byte(out), err
}

// ShareDir is the host directory mounted at /lab in the guest; files the
// guest writes under /lab/log are printed when the test fails.
func (g *Guest) ShareDir() string { return g.share }

// Kill hard-kills the guest's User-Mode Linux processes, as a client that
// loses power or network would vanish: nothing is sent to the server.
func (g *Guest) Kill() { g.proc.stop(0) }

// Alive reports whether the guest's process is still running.
func (g *Guest) Alive() bool {
	select {
	case <-g.proc.done:
		return false
	default:
		return true
	}
}

func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
