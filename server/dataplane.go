package server

import (
	"errors"
	"fmt"
	"net/netip"
	"os"
	"time"

	"github.com/l2tpsecd/l2tpsecd/esp"
	"github.com/l2tpsecd/l2tpsecd/ike"
	"github.com/l2tpsecd/l2tpsecd/internal/tundev"
	"github.com/l2tpsecd/l2tpsecd/l2tp"
	"github.com/l2tpsecd/l2tpsecd/ppp"
)

// This file is the path a packet takes through the daemon:
//
//	ESP (esp.Userspace) -> deliverUDP -> l2tp.Endpoint.Input -> SessionData
//	  -> ppp.Session.Input -> session.IP -> TUN
//	TUN -> tunReader -> routes -> ppp.Session.WriteIP -> session.pppOutput
//	  -> l2tp.Session.EncapsulateInPlace -> esp SendUDP
//
// and the control events that tie the layers together.

// deliverUDP is the datapath's hook for the inner UDP of an authenticated
// ESP packet. Only L2TP to our port in the SA's traffic selector is passed
// on; the SA (its conn) is the L2TP peer.
func (d *Daemon) deliverUDP(h esp.Handle, srcPort, dstPort uint16, payload []byte) {
	c := d.handles.lookup(h)
	if c == nil {
		d.metrics.Drops.WithLabelValues("no_conn").Inc()
		return
	}
	if dstPort != c.serverPort {
		d.metrics.Drops.WithLabelValues("not_l2tp").Inc()
		return
	}
	d.touch(c, h)
	d.lns.Input(c, srcPort, payload)
}

// touch tells IKE the peer is alive (so DPD probes only idle peers), at most
// once a second per conn.
func (d *Daemon) touch(c *conn, h esp.Handle) {
	now := d.clk.Now().UnixNano()
	last := c.lastTouch.Load()
	if now-last < int64(time.Second) || !c.lastTouch.CompareAndSwap(last, now) {
		return
	}
	d.connMu.Lock()
	ch := c.children[h]
	d.connMu.Unlock()
	if ch != nil {
		d.engine.Touch(ch.In.SPI)
	}
}

// SendL2TP implements l2tp.Sender: L2TP leaves only through the peer's SA.
func (d *Daemon) SendL2TP(peer l2tp.Peer, dstPort uint16, datagram []byte) {
	c, ok := peer.(*conn)
	if !ok {
		return
	}
	if err := d.dp.SendUDP(c.current(), c.serverPort, dstPort, datagram); err != nil {
		d.metrics.Drops.WithLabelValues("send").Inc()
	}
}

// l2tp.Handler

// SessionUp starts PPP on a new L2TP session.
func (d *Daemon) SessionUp(ls *l2tp.Session) {
	c, ok := ls.Peer().(*conn)
	if !ok {
		ls.Close(l2tp.Result{Code: l2tp.CDNGeneralError, Message: "internal: unknown peer"}, false)
		return
	}
	cfg := d.currentConfig()
	n := d.nextSession.Add(1)
	// Unique across restarts too (RADIUS Acct-Session-Id).
	id := fmt.Sprintf("s-%x-%06d", d.started.Unix(), n)
	s := &session{id: id, d: d, c: c, ls: ls, since: d.clk.Now(), nasPort: uint32(n),
		log: d.log.With("session", id, "peer", c.key.remote.String())}
	pc := ppp.Config{
		MRU:           uint16(cfg.PPP.MRU),
		EchoInterval:  disabledIfZero(cfg.PPP.EchoInterval.Duration),
		EchoFailures:  cfg.PPP.EchoFailures,
		Output:        s.pppOutput,
		Handler:       s,
		Clock:         d.clk,
		Logger:        s.log,
		Name:          cfg.L2TP.HostName,
		AuthMethods:   authMethods(cfg.PPP.Auth),
		AuthTimeout:   cfg.PPP.AuthTimeout.Duration,
		Authenticator: authenticator{s},
		Addresses:     addresses{s},
		LocalAddr:     d.gateway,
		DNS:           twoAddrs(cfg.PPP.DNS),
		WINS:          twoAddrs(cfg.PPP.WINS),
	}
	s.ppp = ppp.NewSession(pc)
	if d.tracePPP.Load() {
		s.ppp.SetTrace(s.log)
	}
	d.connMu.Lock()
	d.sessions[id] = s
	d.connMu.Unlock()
	ls.SetUserData(s)
	s.ppp.Start()
}

// SessionData hands a PPP frame to the session's link.
func (d *Daemon) SessionData(ls *l2tp.Session, frame []byte) {
	s, ok := ls.UserData().(*session)
	if !ok {
		return
	}
	if err := s.ppp.Input(frame); err != nil {
		d.metrics.Drops.WithLabelValues("ppp_malformed").Inc()
	}
}

// SessionDown: the L2TP session is gone (CDN, tunnel down): PPP follows.
func (d *Daemon) SessionDown(ls *l2tp.Session, cause l2tp.Cause) {
	s, ok := ls.UserData().(*session)
	if !ok {
		return
	}
	s.mu.Lock()
	s.lowerDown = true
	// LowerDown makes PPP report Down (lower layer down) at once; what
	// really happened is L2TP's cause (the client hung up, timed out).
	if s.endCause == "" {
		s.endCause = "l2tp: " + cause.Reason.String()
	}
	s.mu.Unlock()
	s.ppp.LowerDown()
	s.end("l2tp: " + cause.Reason.String())
}

// TunnelDown: when a client's last tunnel is gone, its SAs go too (after a
// moment, so the StopCCN and its acknowledgement still travel through them).
func (d *Daemon) TunnelDown(t *l2tp.Tunnel, cause l2tp.Cause) {
	c, ok := t.Peer().(*conn)
	if !ok {
		return
	}
	for _, other := range d.lns.Tunnels() {
		if other != t && other.Peer() == l2tp.Peer(c) {
			return
		}
	}
	d.audit.Log(AuditEvent{Event: "l2tp_tunnel_closed", Reason: cause.Reason.String(), Detail: cause.String(), Peer: c.key.remote.String()})
	d.clk.AfterFunc(2*time.Second, func() { d.deleteConnSAs(c, "l2tp tunnel closed") })
}

// deleteConnSAs deletes every SA of a conn, telling the client (IKE Delete),
// unless the conn has already gone away or been taken over by a new SA.
func (d *Daemon) deleteConnSAs(c *conn, why string) {
	d.connMu.Lock()
	if d.conns[c.key] != c || c.closing {
		d.connMu.Unlock()
		return
	}
	// A client that opened a new tunnel in the meantime keeps its SAs.
	for _, t := range d.lns.Tunnels() {
		if t.Peer() == l2tp.Peer(c) {
			d.connMu.Unlock()
			return
		}
	}
	c.closing = true
	var spis []uint32
	var cookies [][2][8]byte
	for _, ch := range c.children {
		spis = append(spis, ch.In.SPI)
		cookies = append(cookies, [2][8]byte{ch.ICookie, ch.RCookie})
	}
	d.connMu.Unlock()
	for _, spi := range spis {
		d.engine.DeleteChildSA(spi)
	}
	for _, ck := range cookies {
		d.engine.DeleteIKESA(ck[0], ck[1])
	}
	d.log.Debug("deleted SAs", "peer", c.key.remote, "why", why)
}

// installChild puts a Quick Mode result into the datapath and files it
// under its conn.
//
// early says Quick Mode message 3 has not arrived yet: the SA receives at
// once, but a conn that already has an SA (a rekey) keeps sending on the
// old one until message 3 confirms the client has the new one
// (promoteChild).
func (d *Daemon) installChild(ch *ike.ChildSA, early bool) error {
	cfg := d.currentConfig()
	icv := esp.ICV96Auto
	switch {
	case ch.ICVBits == 96:
		icv = esp.ICV96On
	case cfg.IKE.SHA256Truncated96 == "off":
		icv = esp.ICV96Off
	}
	life := esp.Lifetime{Duration: time.Duration(ch.LifeSeconds) * time.Second, Bytes: ch.LifeKB * 1024}
	mk := func(k ike.ESPKeys) esp.Config {
		return esp.Config{SPI: k.SPI, Encr: esp.EncrAlg(ch.Transform), KeyBits: ch.KeyBits, Auth: esp.AuthAlg(ch.Auth),
			EncKey: k.EncKey, AuthKey: k.AuthKey, ICV96: icv, Hard: life}
	}
	pair := esp.SAPair{In: mk(ch.In), Out: mk(ch.Out), Encap: esp.EncapRaw, Peer: ch.Remote, Local: ch.Local.Addr()}
	if ch.Encap == ike.EncapUDP {
		pair.Encap = esp.EncapUDP
	} else if !cfg.ESP.RawESP {
		return errors.New("the client is not behind a NAT and uses plain ESP, but esp.raw_esp is off")
	}
	h, err := d.dp.AddSA(pair)
	if err != nil {
		return err
	}
	key := connKey{remote: ch.Remote, l2tpPort: ch.ClientL2TPPort, clientID: ch.ClientID}
	d.connMu.Lock()
	c := d.conns[key]
	meta := d.phase1[p1key(ch.ICookie, ch.RCookie)]
	if c == nil || c.closing {
		c = &conn{key: key, serverPort: ch.ServerL2TPPort, created: d.clk.Now(), children: map[esp.Handle]*ike.ChildSA{}}
		if !meta.started.IsZero() {
			c.created = meta.started
		}
		if c.serverPort == 0 {
			c.serverPort = 1701
		}
		d.conns[key] = c
	}
	first := len(c.children) == 0
	c.children[h] = ch
	if meta.cert != nil {
		c.peerCert = meta.cert
	}
	if first || !early {
		c.cur.Store(uint64(h))
	}
	d.connMu.Unlock()
	d.handles.set(h, c)
	return nil
}

// promoteChild makes an early-installed SA the one its conn sends on (Quick
// Mode message 3 arrived). It reports whether the SA was installed.
func (d *Daemon) promoteChild(inSPI uint32) bool {
	d.connMu.Lock()
	defer d.connMu.Unlock()
	c, h := d.findChildLocked(inSPI)
	if c == nil {
		return false
	}
	c.cur.Store(uint64(h))
	return true
}

// findChildLocked finds the conn and handle of the child SA with the given
// inbound SPI.
func (d *Daemon) findChildLocked(inSPI uint32) (*conn, esp.Handle) {
	for _, c := range d.conns {
		for h, x := range c.children {
			if x.In.SPI == inSPI {
				return c, h
			}
		}
	}
	return nil, 0
}

// removeChild takes a deleted child SA out of the datapath; when it was the
// conn's last, L2TP and PPP on it end (IKE Delete, DPD, lifetime).
func (d *Daemon) removeChild(ch *ike.ChildSA, why string) {
	d.connMu.Lock()
	c, h := d.findChildLocked(ch.In.SPI)
	if c == nil {
		d.connMu.Unlock()
		return
	}
	delete(c.children, h)
	last := len(c.children) == 0
	if !last && c.current() == h {
		var newest esp.Handle
		for hh := range c.children {
			if hh > newest {
				newest = hh
			}
		}
		c.cur.Store(uint64(newest))
	}
	if last && d.conns[c.key] == c {
		delete(d.conns, c.key)
	}
	if last {
		for _, s := range d.sessions {
			if s.c == c {
				s.mu.Lock()
				if s.endCause == "" {
					s.endCause = "ipsec: " + why
				}
				s.mu.Unlock()
			}
		}
	}
	d.connMu.Unlock()
	if last {
		d.lns.ClosePeer(c, l2tp.Cause{Reason: l2tp.ReasonLocal, Result: l2tp.Result{Code: l2tp.StopCCNClear, Message: "IPsec SA gone: " + why}}, false)
	}
	d.handles.remove(h)
	d.dp.RemoveSA(h)
}

// espEvent handles SA lifetime events from the datapath: on a hard limit
// the SA is deleted (the client should have rekeyed at its soft limit).
func (d *Daemon) espEvent(h esp.Handle, e esp.Event) {
	if e.Kind != esp.EventHardTime && e.Kind != esp.EventHardBytes {
		return
	}
	c := d.handles.lookup(h)
	if c == nil {
		return
	}
	d.connMu.Lock()
	ch := c.children[h]
	d.connMu.Unlock()
	if ch != nil {
		d.engine.DeleteChildSA(ch.In.SPI)
	}
}

// tunReader moves packets from one TUN queue to the sessions they are
// addressed to.
func (d *Daemon) tunReader(q int) {
	dev := d.tun.Queue(q)
	batch := d.tun.BatchSize()
	const headroom = 128 // PPP (4) + L2TP (<= l2tp.MaxDataHeaderLen), and the device's virtio header
	bufs := make([][]byte, batch)
	sizes := make([]int, batch)
	for i := range bufs {
		bufs[i] = make([]byte, headroom+maxPacket)
	}
	for {
		n, err := dev.Read(bufs, sizes, headroom)
		if err != nil {
			if errors.Is(err, os.ErrClosed) || d.stopping.Load() {
				return
			}
			d.log.Warn("TUN read", "err", err)
			if errors.Is(err, os.ErrClosed) {
				return
			}
			continue
		}
		for i := 0; i < n; i++ {
			pkt := bufs[i][headroom : headroom+sizes[i]]
			dst, ok := tundev.DstIPv4(pkt)
			if !ok {
				d.metrics.Drops.WithLabelValues("not_ipv4").Inc()
				continue
			}
			s, ok := d.routes.Lookup(dst)
			if !ok {
				d.metrics.Drops.WithLabelValues("no_session").Inc()
				continue
			}
			if d.mss > 0 {
				tundev.ClampMSS(pkt, d.mss)
			}
			s.pktsOut.Add(1)
			s.bytesOut.Add(uint64(len(pkt)))
			if err := s.ppp.WriteIP(bufs[i][:headroom+sizes[i]], headroom); err != nil {
				d.metrics.Drops.WithLabelValues("ppp_down").Inc()
			}
		}
	}
}

func disabledIfZero(d time.Duration) time.Duration {
	if d == 0 {
		return -1
	}
	return d
}

func authMethods(names []string) []ppp.AuthMethod {
	var out []ppp.AuthMethod
	for _, n := range names {
		if m, err := ppp.ParseAuthMethod(n); err == nil {
			out = append(out, m)
		}
	}
	return out
}

func twoAddrs(ss []string) [2]netip.Addr {
	var out [2]netip.Addr
	for i, s := range ss {
		if i < 2 {
			out[i], _ = netip.ParseAddr(s)
		}
	}
	return out
}
