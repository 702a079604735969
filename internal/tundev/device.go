package tundev

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"sync"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
	"golang.zx2c4.com/wireguard/tun"
)

// MinOffset is the least offset Read and Write accept: wireguard/tun puts
// the virtio-net header (10 bytes) in front of each packet when the kernel
// offers offloads. Callers usually pass more, to prepend their own headers
// in place.
const MinOffset = 10

// DefaultName and DefaultMTU apply when Config leaves them empty.
const (
	DefaultName = "l2tpsec0"
	DefaultMTU  = 1400
)

var (
	ErrBadConfig = errors.New("tundev: bad configuration")
	ErrClosed    = errors.New("tundev: device closed")
)

// Config describes the device.
type Config struct {
	Name string
	MTU  int
	// Gateway is the server's address on the device, the one PPP peers
	// see as the other end (e.g. 10.10.0.1/32, or /24 to get the prefix
	// route with it).
	Gateway netip.Prefix
	// Routes are the pool prefixes routed into the device
	// (ippool.Manager.RoutePrefixes).
	Routes []netip.Prefix
	// Queues opens a multi-queue device (IFF_MULTI_QUEUE) with that many
	// queues, one per datapath worker; 0 or 1 means a single queue.
	Queues int
}

// Device is the TUN device with its address and routes. Each queue is a
// wireguard/tun Device with batched Read/Write; one worker should own each
// queue.
type Device struct {
	name   string
	mtu    int
	index  int
	gw     netip.Prefix
	queues []tun.Device
	log    *slog.Logger

	mu     sync.Mutex
	routes map[netip.Prefix]struct{}
	closed bool
}

// Open creates the device in the calling thread's network namespace,
// assigns the gateway address, sets the MTU, brings it up and adds the
// routes. Offloads (virtio-net header, TSO/GRO) are enabled when the kernel
// allows; BatchSize then reports how many packets one Read may return.
func Open(cfg Config, log *slog.Logger) (*Device, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if cfg.Name == "" {
		cfg.Name = DefaultName
	}
	if cfg.MTU == 0 {
		cfg.MTU = DefaultMTU
	}
	if cfg.Queues <= 0 {
		cfg.Queues = 1
	}
	if cfg.MTU < 576 || cfg.MTU > 65535 {
		return nil, fmt.Errorf("%w: MTU %d", ErrBadConfig, cfg.MTU)
	}
	if !cfg.Gateway.IsValid() || !cfg.Gateway.Addr().Is4() {
		return nil, fmt.Errorf("%w: gateway %v is not an IPv4 prefix", ErrBadConfig, cfg.Gateway)
	}
	if len(cfg.Name) >= unix.IFNAMSIZ {
		return nil, fmt.Errorf("%w: interface name %q longer than %d", ErrBadConfig, cfg.Name, unix.IFNAMSIZ-1)
	}
	d := &Device{name: cfg.Name, mtu: cfg.MTU, gw: cfg.Gateway, log: log, routes: make(map[netip.Prefix]struct{})}
	for i := 0; i < cfg.Queues; i++ {
		q, err := openQueue(cfg.Name, cfg.MTU, cfg.Queues > 1)
		if err != nil {
			d.closeQueues()
			return nil, fmt.Errorf("tundev: creating %s queue %d: %w", cfg.Name, i, err)
		}
		d.queues = append(d.queues, q)
		go d.drainEvents(i, q)
	}
	if err := d.configure(cfg); err != nil {
		d.closeQueues()
		return nil, err
	}
	log.Info("tundev: device up", "name", d.name, "mtu", d.mtu, "gateway", d.gw,
		"queues", len(d.queues), "batch", d.queues[0].BatchSize())
	return d, nil
}

// openQueue opens one file descriptor on the TUN device, creating the
// device with the first. wireguard/tun's CreateTUN never asks for
// IFF_MULTI_QUEUE, so multi-queue devices are opened here and handed to
// CreateTUNFromFile, which keeps its batching and offload handling.
func openQueue(name string, mtu int, multi bool) (tun.Device, error) {
	if !multi {
		return tun.CreateTUN(name, mtu)
	}
	fd, err := unix.Open("/dev/net/tun", unix.O_RDWR|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, err
	}
	ifr, err := unix.NewIfreq(name)
	if err != nil {
		unix.Close(fd)
		return nil, err
	}
	ifr.SetUint16(unix.IFF_TUN | unix.IFF_NO_PI | unix.IFF_VNET_HDR | unix.IFF_MULTI_QUEUE)
	if err := unix.IoctlIfreq(fd, unix.TUNSETIFF, ifr); err != nil {
		unix.Close(fd)
		return nil, err
	}
	if err := unix.SetNonblock(fd, true); err != nil {
		unix.Close(fd)
		return nil, err
	}
	return tun.CreateTUNFromFile(os.NewFile(uintptr(fd), "/dev/net/tun"), mtu)
}

// drainEvents consumes a queue's link events until Close ends them.
// wireguard/tun sends them on a small channel with blocking sends; left
// unread, its listener goroutines would block for good and outlive Close.
func (d *Device) drainEvents(i int, q tun.Device) {
	for ev := range q.Events() {
		switch ev {
		case tun.EventUp:
			d.log.Debug("tundev: link up", "name", d.name, "queue", i)
		case tun.EventDown:
			d.log.Warn("tundev: link down", "name", d.name, "queue", i)
		case tun.EventMTUUpdate:
			d.log.Debug("tundev: link changed", "name", d.name, "queue", i)
		}
	}
}

func (d *Device) configure(cfg Config) error {
	link, err := netlink.LinkByName(d.name)
	if err != nil {
		return fmt.Errorf("tundev: finding %s: %w", d.name, err)
	}
	d.index = link.Attrs().Index
	if err := netlink.LinkSetMTU(link, d.mtu); err != nil {
		return fmt.Errorf("tundev: setting MTU of %s: %w", d.name, err)
	}
	addr := &netlink.Addr{IPNet: prefixToIPNet(d.gw)}
	if err := netlink.AddrReplace(link, addr); err != nil {
		return fmt.Errorf("tundev: assigning %s to %s: %w", d.gw, d.name, err)
	}
	if err := netlink.LinkSetUp(link); err != nil {
		return fmt.Errorf("tundev: bringing %s up: %w", d.name, err)
	}
	for _, p := range cfg.Routes {
		if err := d.AddRoute(p); err != nil {
			return err
		}
	}
	return nil
}

func prefixToIPNet(p netip.Prefix) *net.IPNet {
	return &net.IPNet{IP: p.Addr().AsSlice(), Mask: net.CIDRMask(p.Bits(), p.Addr().BitLen())}
}

func (d *Device) route(p netip.Prefix) *netlink.Route {
	return &netlink.Route{
		LinkIndex: d.index,
		Dst:       prefixToIPNet(p.Masked()),
		Src:       d.gw.Addr().AsSlice(),
		Scope:     netlink.SCOPE_LINK,
	}
}

// AddRoute routes p into the device (pool ranges added live).
func (d *Device) AddRoute(p netip.Prefix) error {
	if !p.IsValid() || !p.Addr().Is4() {
		return fmt.Errorf("%w: route %v is not an IPv4 prefix", ErrBadConfig, p)
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed {
		return ErrClosed
	}
	if err := netlink.RouteReplace(d.route(p)); err != nil {
		return fmt.Errorf("tundev: route %s dev %s: %w", p, d.name, err)
	}
	d.routes[p.Masked()] = struct{}{}
	return nil
}

// RemoveRoute removes a route added with AddRoute.
func (d *Device) RemoveRoute(p netip.Prefix) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed {
		return ErrClosed
	}
	if _, ok := d.routes[p.Masked()]; !ok {
		return nil
	}
	if err := netlink.RouteDel(d.route(p)); err != nil {
		return fmt.Errorf("tundev: removing route %s dev %s: %w", p, d.name, err)
	}
	delete(d.routes, p.Masked())
	return nil
}

// Name returns the interface name.
func (d *Device) Name() string { return d.name }

// MTU returns the configured MTU.
func (d *Device) MTU() int { return d.mtu }

// Queues returns the number of queues.
func (d *Device) Queues() int { return len(d.queues) }

// Queue returns queue i, for the worker that owns it.
func (d *Device) Queue(i int) tun.Device { return d.queues[i] }

// BatchSize is how many packets one Read may return and one Write should
// carry (wireguard/tun's preference: 128 with offloads, 1 without).
func (d *Device) BatchSize() int { return d.queues[0].BatchSize() }

// Read reads packets from queue 0 into bufs[i][offset:], setting sizes[i];
// offset must be at least MinOffset. With offloads one kernel
// super-packet is split into several, so pass BatchSize buffers of at least
// offset+MTU bytes.
func (d *Device) Read(bufs [][]byte, sizes []int, offset int) (int, error) {
	return d.queues[0].Read(bufs, sizes, offset)
}

// Write writes packets held at bufs[i][offset:] to queue 0; offset must be
// at least MinOffset (the bytes before it are overwritten).
func (d *Device) Write(bufs [][]byte, offset int) (int, error) {
	return d.queues[0].Write(bufs, offset)
}

// Close closes every queue. The device is not persistent, so the kernel
// deletes it, and its address and routes with it, when the last queue
// closes.
func (d *Device) Close() error {
	d.mu.Lock()
	if d.closed {
		d.mu.Unlock()
		return nil
	}
	d.closed = true
	d.mu.Unlock()
	return d.closeQueues()
}

func (d *Device) closeQueues() error {
	var errs []error
	for _, q := range d.queues {
		if err := q.Close(); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}
