package lab

import (
	"context"
	"fmt"
	"net"
	"runtime"

	"github.com/vishvananda/netns"
)

// ListenIn opens a listening socket inside one of the lab's namespaces (for
// example an HTTP server for CRL distribution points on the server side, or
// a RADIUS stub), from the test process itself: the socket stays in the
// namespace it was created in. network and address are as for net.Listen;
// the listener is closed at cleanup.
func (l *Lab) ListenIn(ns, network, address string) (net.Listener, error) {
	var ln net.Listener
	err := l.inNamespace(ns, func() error {
		var err error
		ln, err = (&net.ListenConfig{}).Listen(context.Background(), network, address)
		return err
	})
	if err != nil {
		return nil, err
	}
	l.t.Cleanup(func() { ln.Close() })
	return ln, nil
}

// ListenPacketIn is ListenIn for UDP and other packet sockets.
func (l *Lab) ListenPacketIn(ns, network, address string) (net.PacketConn, error) {
	var pc net.PacketConn
	err := l.inNamespace(ns, func() error {
		var err error
		pc, err = (&net.ListenConfig{}).ListenPacket(context.Background(), network, address)
		return err
	})
	if err != nil {
		return nil, err
	}
	l.t.Cleanup(func() { pc.Close() })
	return pc, nil
}

// inNamespace runs fn on a locked OS thread switched into ns. The thread
// is switched back afterwards; if that fails it stays locked, so the Go
// runtime discards it instead of reusing a thread in the wrong namespace.
func (l *Lab) inNamespace(ns string, fn func() error) error {
	runtime.LockOSThread()
	orig, err := netns.Get()
	if err != nil {
		runtime.UnlockOSThread()
		return fmt.Errorf("lab: current namespace: %w", err)
	}
	defer orig.Close()
	target, err := netns.GetFromName(ns)
	if err != nil {
		runtime.UnlockOSThread()
		return fmt.Errorf("lab: namespace %s: %w", ns, err)
	}
	defer target.Close()
	if err := netns.Set(target); err != nil {
		runtime.UnlockOSThread()
		return fmt.Errorf("lab: entering %s: %w", ns, err)
	}
	ferr := fn()
	if err := netns.Set(orig); err != nil {
		return fmt.Errorf("lab: leaving %s: %w (thread abandoned)", ns, err)
	}
	runtime.UnlockOSThread()
	return ferr
}
