package server

import (
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"time"

	"golang.org/x/net/ipv4"
	"golang.org/x/sys/unix"

	"github.com/l2tpsecd/l2tpsecd/ike"
)

// ikeSocket is one UDP/500 listener. Bound to a wildcard address it learns
// each datagram's destination (IP_PKTINFO) so replies leave from the address
// the client talked to, which NAT detection hashes.
type ikeSocket struct {
	conn  *net.UDPConn
	pc    *ipv4.PacketConn
	bound netip.AddrPort
}

// ikeRcvBuf is the UDP/500 socket's receive buffer.
const ikeRcvBuf = 4 << 20

func listenIKE(addr netip.AddrPort) (*ikeSocket, error) {
	c, err := net.ListenUDP("udp4", net.UDPAddrFromAddrPort(addr))
	if err != nil {
		return nil, fmt.Errorf("IKE listener on %s: %w", addr, err)
	}
	// A burst of clients (everyone reconnecting after an outage) sends
	// hundreds of Main Mode messages at once; the default ~208 KB receive
	// buffer drops them and each client then waits for its 2 s
	// retransmission. Best effort, as for the ESP sockets: FORCE needs
	// CAP_NET_ADMIN, plain SO_RCVBUF is capped by rmem_max.
	if rc, err := c.SyscallConn(); err == nil {
		_ = rc.Control(func(fd uintptr) {
			if unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_RCVBUFFORCE, ikeRcvBuf) != nil {
				_ = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_RCVBUF, ikeRcvBuf)
			}
		})
	}
	pc := ipv4.NewPacketConn(c)
	if err := pc.SetControlMessage(ipv4.FlagDst, true); err != nil {
		c.Close()
		return nil, fmt.Errorf("IKE listener on %s: %w", addr, err)
	}
	return &ikeSocket{conn: c, pc: pc, bound: c.LocalAddr().(*net.UDPAddr).AddrPort()}, nil
}

// readIKE feeds UDP/500 datagrams to the engine until the socket closes.
func (d *Daemon) readIKE(s *ikeSocket) {
	buf := make([]byte, 65536)
	for {
		n, cm, src, err := s.pc.ReadFrom(buf)
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			continue
		}
		ua, ok := src.(*net.UDPAddr)
		if !ok {
			continue
		}
		remote := ua.AddrPort()
		remote = netip.AddrPortFrom(remote.Addr().Unmap(), remote.Port())
		local := s.bound
		if cm != nil && cm.Dst != nil {
			if a, ok := netip.AddrFromSlice(cm.Dst.To4()); ok {
				local = netip.AddrPortFrom(a, s.bound.Port())
			}
		}
		pkt := make([]byte, n)
		copy(pkt, buf[:n])
		d.engine.HandlePacket(pkt, local, remote)
	}
}

// Send implements ike.Transport: port 4500 goes through the datapath's
// ESP-in-UDP sockets (which add the non-ESP marker), the rest through the
// UDP/500 socket for the local address.
func (d *Daemon) Send(pkt []byte, local, remote netip.AddrPort) error {
	if local.Port() == uint16(d.cfg.Listen.NATTPort) {
		return d.dp.SendIKE(pkt, local, remote)
	}
	var s *ikeSocket
	for _, x := range d.ike500 {
		if x.bound.Addr() == local.Addr() {
			s = x
			break
		}
		if x.bound.Addr().IsUnspecified() {
			s = x
		}
	}
	if s == nil {
		return fmt.Errorf("no IKE socket for %s", local)
	}
	var cm *ipv4.ControlMessage
	if s.bound.Addr().IsUnspecified() && local.Addr().IsValid() && !local.Addr().IsUnspecified() {
		cm = &ipv4.ControlMessage{Src: local.Addr().AsSlice()}
	}
	_, err := s.pc.WriteTo(pkt, cm, net.UDPAddrFromAddrPort(remote))
	return err
}

// ike.Events: every outcome reaches the audit log.

func (d *Daemon) Phase1Established(sa ike.Phase1Info) {
	d.connMu.Lock()
	d.phase1[p1key(sa.ICookie, sa.RCookie)] = phase1Meta{cert: sa.PeerCert, started: sa.Started}
	d.connMu.Unlock()
	d.audit.Log(AuditEvent{Event: "phase1_established", Peer: sa.Remote.String(), Cookies: cookies(sa), ID: sa.PeerID,
		Fields: map[string]any{"suite": sa.Suite.String(), "psk": d.pskName(sa.KeyIndex), "nat_peer": sa.NATRemote,
			"nat_local": sa.NATLocal, "natt": sa.NATT.String(), "dpd": sa.DPD, "lifetime_seconds": int64(sa.Lifetime.Seconds())}})
}

func (d *Daemon) Phase1Failed(remote netip.AddrPort, f *ike.Failure) {
	ev := AuditEvent{Event: "phase1_failed", Peer: remote.String(), Reason: f.Reason.String(), Detail: f.Detail}
	if f.Offered != "" {
		ev.Fields = map[string]any{"offered": f.Offered, "policy": f.Policy.String()}
	}
	d.audit.Log(ev)
	d.log.Info("phase 1 refused", "peer", remote, "reason", f.Reason, "detail", f.Detail, "offered", f.Offered)
}

// Phase2Responding installs a child SA when Quick Mode message 2 goes
// out (ike.EarlyInstaller): the client's first L2TP message often arrives
// just before its message 3.
func (d *Daemon) Phase2Responding(ch *ike.ChildSA) {
	if err := d.installChild(ch, true); err != nil {
		d.log.Warn("cannot install the ESP SAs early; will retry at Quick Mode message 3", "peer", ch.Remote, "err", err)
	}
}

// Phase2Abandoned removes an early SA whose message 3 never came.
func (d *Daemon) Phase2Abandoned(ch *ike.ChildSA) {
	d.removeChild(ch, "quick mode not completed")
	d.audit.Log(AuditEvent{Event: "phase2_failed", Peer: ch.Remote.String(), Reason: "peer_timeout",
		Detail: "Quick Mode message 3 never arrived", SPIs: fmt.Sprintf("%08x/%08x", ch.In.SPI, ch.Out.SPI)})
}

func (d *Daemon) Phase2Established(ch *ike.ChildSA) {
	if ch.Initiator {
		return
	}
	if d.promoteChild(ch.In.SPI) {
		d.auditPhase2(ch)
		return
	}
	if err := d.installChild(ch, false); err != nil {
		d.log.Error("cannot install the ESP SAs", "peer", ch.Remote, "err", err)
		d.audit.Log(AuditEvent{Event: "phase2_failed", Peer: ch.Remote.String(), Reason: "datapath", Detail: err.Error(),
			SPIs: fmt.Sprintf("%08x/%08x", ch.In.SPI, ch.Out.SPI)})
		d.engine.DeleteChildSA(ch.In.SPI)
		return
	}
	d.auditPhase2(ch)
}

func (d *Daemon) auditPhase2(ch *ike.ChildSA) {
	d.audit.Log(AuditEvent{Event: "phase2_established", Peer: ch.Remote.String(),
		Cookies: fmt.Sprintf("%x/%x", ch.ICookie[:], ch.RCookie[:]), SPIs: fmt.Sprintf("%08x/%08x", ch.In.SPI, ch.Out.SPI),
		Fields: map[string]any{"suite": ch.Phase2.String(), "encap": ch.Encap.String(), "mode": ch.Mode.String(),
			"client_l2tp_port": ch.ClientL2TPPort, "lifetime_seconds": ch.LifeSeconds, "lifetime_kb": ch.LifeKB}})
}

func (d *Daemon) Phase2Failed(sa ike.Phase1Info, f *ike.Failure) {
	ev := AuditEvent{Event: "phase2_failed", Peer: sa.Remote.String(), Cookies: cookies(sa), ID: sa.PeerID,
		Reason: f.Reason.String(), Detail: f.Detail}
	if f.Offered != "" {
		ev.Fields = map[string]any{"offered": f.Offered, "policy": f.Policy.String()}
	}
	d.audit.Log(ev)
}

func (d *Daemon) ChildSADeleted(ch *ike.ChildSA, r ike.Reason) {
	if ch.Initiator {
		return
	}
	d.removeChild(ch, r.String())
	d.audit.Log(AuditEvent{Event: "phase2_deleted", Peer: ch.Remote.String(), Reason: r.String(),
		SPIs: fmt.Sprintf("%08x/%08x", ch.In.SPI, ch.Out.SPI)})
}

func (d *Daemon) IKESADeleted(sa ike.Phase1Info, r ike.Reason) {
	d.connMu.Lock()
	delete(d.phase1, p1key(sa.ICookie, sa.RCookie))
	d.connMu.Unlock()
	d.audit.Log(AuditEvent{Event: "phase1_deleted", Peer: sa.Remote.String(), Cookies: cookies(sa), Reason: r.String()})
}

func (d *Daemon) PeerDead(sa ike.Phase1Info) {
	d.metrics.DPDTimeouts.Inc()
	d.audit.Log(AuditEvent{Event: "peer_dead", Peer: sa.Remote.String(), Cookies: cookies(sa), Reason: "peer_timeout", Detail: "dead peer detection: no answer"})
}

func (d *Daemon) InitialContact(sa ike.Phase1Info) {
	d.audit.Log(AuditEvent{Event: "initial_contact", Peer: sa.Remote.String(), Cookies: cookies(sa), Detail: "the client restarted: its older SAs were dropped"})
}

func cookies(sa ike.Phase1Info) string {
	return fmt.Sprintf("%x/%x", sa.ICookie[:], sa.RCookie[:])
}

func (d *Daemon) pskName(i int) string {
	cfg := d.currentConfig()
	if i < 0 || i >= len(cfg.IKE.PSKs) {
		return ""
	}
	if n := cfg.IKE.PSKs[i].Name; n != "" {
		return n
	}
	return fmt.Sprintf("#%d", i)
}

func p1key(i, r [8]byte) [16]byte {
	var k [16]byte
	copy(k[:8], i[:])
	copy(k[8:], r[:])
	return k
}

// phase1Meta is what the daemon remembers of an established IKE SA until
// its child SAs are installed.
type phase1Meta struct {
	cert    *x509.Certificate
	started time.Time
}
