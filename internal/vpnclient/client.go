package vpnclient

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/l2tpsecd/l2tpsecd/esp"
	"github.com/l2tpsecd/l2tpsecd/ike"
	"github.com/l2tpsecd/l2tpsecd/ike/isakmp"
	"github.com/l2tpsecd/l2tpsecd/internal/clock"
	"github.com/l2tpsecd/l2tpsecd/l2tp"
	"github.com/l2tpsecd/l2tpsecd/ppp"
)

// Config describes one simulated client.
type Config struct {
	// Server is the concentrator's public address (required).
	Server netip.Addr
	// IKEPort and NATTPort are the server's ports [500, 4500].
	IKEPort, NATTPort uint16
	// Local is the source address; invalid lets the routing table choose.
	// Both sockets bind an ephemeral port of it.
	Local netip.Addr
	// IKELocalPort and ESPLocalPort fix the local ports of the IKE (to
	// port 500) and ESP-in-UDP sockets [0: ephemeral]. Neither may be 500
	// or 4500: the client always plays one behind a NAT.
	IKELocalPort, ESPLocalPort uint16
	// PSK is the IPsec pre-shared key (required).
	PSK []byte
	// User and Password authenticate the PPP link.
	User, Password string
	// AuthMethods the client agrees to [PAP, CHAP-MD5, MS-CHAPv2].
	AuthMethods []ppp.AuthMethod
	// Phase1 and Phase2 are the suites to offer, best first [every suite
	// of the modern policy level, as ike.Policy lists them].
	Phase1 []ike.Phase1Suite
	Phase2 []ike.Phase2Suite
	// InitialContact sends INITIAL-CONTACT in Main Mode (Windows does).
	InitialContact bool
	// DPD announces dead peer detection support.
	DPD bool
	// KeepaliveInterval is the NAT keepalive period [20 s]; negative
	// disables it.
	KeepaliveInterval time.Duration
	// EchoInterval is the LCP echo period [30 s]; negative disables it.
	EchoInterval time.Duration
	// L2TPRetransmit is the first L2TP control retransmission timeout
	// [1 s, RFC 2661 section 5.8's recommendation, as xl2tpd and Windows].
	L2TPRetransmit time.Duration
	// PPPRestart is the LCP/IPCP restart timer [3 s, RFC 1661 section
	// 4.6, as pppd].
	PPPRestart time.Duration
	// HostName is the L2TP Host Name AVP ["l2tpsec-load"].
	HostName string
	// OnIP receives every IP packet the server sends down the link. It
	// runs on a datapath goroutine, must not block, and pkt is valid only
	// during the call.
	OnIP func(pkt []byte)
	// Clock drives every timer and timestamps the phases [clock.Real].
	Clock clock.Clock
	// Logger receives warnings and, with Trace, the negotiation traces
	// [discard].
	Logger *slog.Logger
	Trace  bool
}

// Timings are the durations of the setup phases; Phase(PhaseSocket) is the
// time to open the sockets.
type Timings struct {
	phases [numPhases]time.Duration
	// Total is from the first socket to the PPP network layer.
	Total time.Duration
}

// Phase returns how long p took (zero when it was not reached).
func (t Timings) Phase(p Phase) time.Duration {
	if p >= numPhases {
		return 0
	}
	return t.phases[p]
}

// Stats are a client's traffic counters: IP packets and bytes through the
// PPP link, and ESP packets sent and received by its datapath.
type Stats struct {
	IPPacketsIn, IPPacketsOut   uint64
	IPBytesIn, IPBytesOut       uint64
	ESPPacketsIn, ESPPacketsOut uint64
	ESPDrops                    uint64
}

// Client is one connected (or connecting) simulated L2TP/IPsec client.
type Client struct {
	cfg Config
	clk clock.Clock
	log *slog.Logger

	local         netip.Addr     // the address the sockets are bound to
	claimed500    netip.AddrPort // what we tell IKE we send from
	claimed4500   netip.AddrPort
	ikeRemote     netip.AddrPort
	ikeConn       *net.UDPConn
	dp            *esp.Userspace
	eng           *ike.Engine
	ep            *l2tp.Endpoint
	readerDone    chan struct{}
	readerStarted bool          // set in open before it returns; read by Close
	handle        atomic.Uint64 // esp.Handle of the SA pair, valid once hasSA
	hasSA         atomic.Bool
	sess          atomic.Pointer[l2tp.Session]
	ppp           *ppp.Client
	child         *ike.ChildSA
	ckyI, ckyR    isakmp.Cookie
	tunnel        *l2tp.Tunnel
	addr          netip.Addr
	timings       Timings
	ev            chan event
	up            atomic.Bool // setup finished
	downOnce      sync.Once
	down          chan struct{}
	downReason    atomic.Pointer[string]
	pppDown       chan struct{}
	pppDownOnce   sync.Once
	closeOnce     sync.Once
	bufs          sync.Pool
	sendErrs      atomic.Uint64
}

// event is one step of setup, reported by a protocol callback.
type event struct {
	kind   evKind
	at     time.Time
	reason string
	err    error
	child  *ike.ChildSA
	p1     ike.Phase1Info
	auth   ppp.AuthMethod
	addr   netip.Addr
}

type evKind uint8

const (
	evFail evKind = iota + 1
	evIKE1
	evIKE2
	evTunnel
	evSession
	evLCP
	evAuth
	evIPCP
)

func (k evKind) String() string {
	switch k {
	case evFail:
		return "fail"
	case evIKE1:
		return "ike1"
	case evIKE2:
		return "ike2"
	case evTunnel:
		return "tunnel"
	case evSession:
		return "session"
	case evLCP:
		return "lcp"
	case evAuth:
		return "auth"
	case evIPCP:
		return "ipcp"
	}
	return fmt.Sprintf("ev(%d)", uint8(k))
}

// ipHeadroom is the room SendIP leaves in front of a packet for the PPP
// and L2TP headers, which are written in place.
const ipHeadroom = ppp.FrameHeaderLen + l2tp.MaxDataHeaderLen + 16

// MaxIPPacket is the largest packet SendIP accepts.
const MaxIPPacket = 1500

// Dial connects one client: IKE, ESP, L2TP tunnel and session, PPP up to an
// address. ctx bounds the whole setup. On failure every resource is released
// and the error is a *SetupError; the Timings of the phases reached are
// returned with it.
func Dial(ctx context.Context, cfg Config) (*Client, Timings, error) {
	c, err := newClient(cfg)
	if err != nil {
		return nil, Timings{}, &SetupError{Phase: PhaseSocket, Reason: "config", Err: err}
	}
	t0 := c.clk.Now()
	if err := c.open(); err != nil {
		c.Close()
		return nil, Timings{}, &SetupError{Phase: PhaseSocket, Reason: "socket", Err: err}
	}
	err = c.setup(ctx, t0)
	c.timings.Total = c.clk.Now().Sub(t0)
	if err != nil {
		c.Close()
		return nil, c.timings, err
	}
	c.up.Store(true)
	return c, c.timings, nil
}

func newClient(cfg Config) (*Client, error) {
	if !cfg.Server.Is4() {
		return nil, fmt.Errorf("%w: server address %v is not IPv4", ErrBadConfig, cfg.Server)
	}
	if len(cfg.PSK) == 0 {
		return nil, fmt.Errorf("%w: no pre-shared key", ErrBadConfig)
	}
	for _, p := range []uint16{cfg.IKELocalPort, cfg.ESPLocalPort} {
		if p == isakmp.PortIKE || p == isakmp.PortNATT {
			return nil, fmt.Errorf("%w: local port %d would hide the simulated NAT", ErrBadConfig, p)
		}
	}
	if cfg.IKELocalPort != 0 && cfg.IKELocalPort == cfg.ESPLocalPort {
		return nil, fmt.Errorf("%w: IKE and ESP need two local ports", ErrBadConfig)
	}
	if cfg.IKEPort == 0 {
		cfg.IKEPort = isakmp.PortIKE
	}
	if cfg.NATTPort == 0 {
		cfg.NATTPort = isakmp.PortNATT
	}
	if cfg.KeepaliveInterval == 0 {
		cfg.KeepaliveInterval = 20 * time.Second
	}
	if cfg.HostName == "" {
		cfg.HostName = "l2tpsec-load"
	}
	if cfg.Clock == nil {
		cfg.Clock = clock.Real{}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if len(cfg.Phase2) == 0 {
		cfg.Phase2 = ike.Policy{Level: ike.LevelModern}.Phase2Suites(isakmp.EncapTransport)
	}
	c := &Client{cfg: cfg, clk: cfg.Clock, log: cfg.Logger, ev: make(chan event, 16),
		down: make(chan struct{}), pppDown: make(chan struct{}), readerDone: make(chan struct{})}
	c.bufs.New = func() any { b := make([]byte, ipHeadroom+MaxIPPacket); return &b }
	return c, nil
}

// open binds the sockets and builds the protocol engines.
func (c *Client) open() error {
	c.ikeRemote = netip.AddrPortFrom(c.cfg.Server, c.cfg.IKEPort)
	c.local = c.cfg.Local
	if !c.local.IsValid() {
		a, err := sourceFor(c.ikeRemote)
		if err != nil {
			return err
		}
		c.local = a
	}
	conn, err := net.ListenUDP("udp4", net.UDPAddrFromAddrPort(netip.AddrPortFrom(c.local, c.cfg.IKELocalPort)))
	if err != nil {
		return fmt.Errorf("IKE socket: %w", err)
	}
	c.ikeConn = conn
	// What a NAT in front of us would hide: we claim the IKE ports, the
	// server sees ephemeral ones, so both ends detect a NAT (RFC 3947).
	c.claimed500 = netip.AddrPortFrom(c.local, isakmp.PortIKE)
	c.claimed4500 = netip.AddrPortFrom(c.local, isakmp.PortNATT)

	c.eng = ike.NewEngine(ike.Config{
		Policy:      ike.Policy{Level: ike.LevelInsecure},
		DPDInterval: -1,
		// The initiator retransmits every 2 s, 5 times; a negotiation
		// still unanswered 2 s after the last try has failed.
		HalfOpenTimeout: 12 * time.Second,
	}, (*ikeTransport)(c), (*ikeEvents)(c), c.clk, c.log, nil)
	if c.cfg.Trace {
		c.eng.SetTrace(true)
	}

	dp, err := espPorts.open(esp.UserspaceConfig{
		Listen:    []netip.AddrPort{netip.AddrPortFrom(c.local, c.cfg.ESPLocalPort)},
		Workers:   1,
		BatchSize: 8,
		Hooks: esp.Hooks{
			DeliverUDP: c.deliverUDP,
			IKE: func(pkt []byte, _, remote netip.AddrPort) {
				_ = c.eng.HandlePacket(pkt, c.claimed4500, remote)
			},
		},
		Clock:  c.clk,
		Logger: c.log,
	})
	if err != nil {
		return fmt.Errorf("ESP socket: %w", err)
	}
	c.dp = dp

	ep, err := l2tp.NewEndpoint(l2tp.Config{Role: l2tp.RoleLAC, HostName: c.cfg.HostName, VendorName: "l2tpsecd",
		DataLengthBit: true, RetransmitTimeout: c.cfg.L2TPRetransmit}, c.clk, c.log, (*l2tpSender)(c), (*l2tpHandler)(c))
	if err != nil {
		return fmt.Errorf("L2TP endpoint: %w", err)
	}
	c.ep = ep
	if c.cfg.Trace {
		ep.SetTrace(c.log)
	}
	c.log.Debug("sockets", "ike", conn.LocalAddr().String(), "esp", dp.LocalAddrs())
	c.readerStarted = true
	go c.readIKE()
	return nil
}

// sourceFor asks the routing table which local address reaches dst.
func sourceFor(dst netip.AddrPort) (netip.Addr, error) {
	u, err := net.DialUDP("udp4", nil, net.UDPAddrFromAddrPort(dst))
	if err != nil {
		return netip.Addr{}, fmt.Errorf("no route to %v: %w", dst, err)
	}
	defer u.Close()
	return u.LocalAddr().(*net.UDPAddr).AddrPort().Addr().Unmap(), nil
}

// readIKE feeds datagrams of the UDP/500 conversation to the engine.
func (c *Client) readIKE() {
	defer close(c.readerDone)
	buf := make([]byte, 65536)
	for {
		n, from, err := c.ikeConn.ReadFromUDPAddrPort(buf)
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			continue
		}
		pkt := append([]byte(nil), buf[:n]...)
		from = netip.AddrPortFrom(from.Addr().Unmap(), from.Port())
		_ = c.eng.HandlePacket(pkt, c.claimed500, from)
	}
}

// setup runs the phases in order, each ending with the event that proves it.
func (c *Client) setup(ctx context.Context, t0 time.Time) error {
	c.timings.phases[PhaseSocket] = c.clk.Now().Sub(t0)
	last := c.clk.Now()
	step := func(p Phase, want evKind) (event, error) {
		e, err := c.wait(ctx, p, want)
		if err != nil {
			return e, err
		}
		c.timings.phases[p] = e.at.Sub(last)
		last = e.at
		return e, nil
	}

	ckyI, err := c.eng.Dial(c.claimed500, c.ikeRemote, ike.DialConfig{
		PSK: c.cfg.PSK, Phase1: c.cfg.Phase1, Phase2: c.cfg.Phase2,
		InitialContact: c.cfg.InitialContact, DPD: c.cfg.DPD, Fragmentation: true,
		NATTPort: c.cfg.NATTPort,
	})
	if err != nil {
		return &SetupError{Phase: PhaseIKE1, Reason: "dial", Err: err}
	}
	c.ckyI = ckyI
	e, err := step(PhaseIKE1, evIKE1)
	if err != nil {
		return err
	}
	c.ckyR = e.p1.RCookie
	if e, err = step(PhaseIKE2, evIKE2); err != nil {
		return err
	}
	c.child = e.child
	if err := c.installSA(e.child); err != nil {
		return &SetupError{Phase: PhaseIKE2, Reason: "sa_install", Err: err}
	}

	// The PPP client exists before the call so that SessionUp can start
	// it at once: the server's first LCP frame may follow its ICRP/ICCN
	// processing immediately.
	methods := c.cfg.AuthMethods
	if len(methods) == 0 {
		methods = []ppp.AuthMethod{ppp.AuthMSCHAPv2, ppp.AuthCHAPMD5, ppp.AuthPAP}
	}
	c.ppp = ppp.NewClient(ppp.Config{
		Output: c.pppOutput, Handler: (*pppHandler)(c), Clock: c.clk, Logger: c.log,
		EchoInterval: c.cfg.EchoInterval, User: c.cfg.User, Password: c.cfg.Password,
		AuthMethods: methods, WantDNS: true, FSM: ppp.FSMConfig{RestartTimer: c.cfg.PPPRestart},
	})
	if c.cfg.Trace {
		c.ppp.SetTrace(c.log)
	}

	t, err := c.ep.Dial(esp.Handle(c.handle.Load()), l2tpPort)
	if err != nil {
		return &SetupError{Phase: PhaseL2TPTunnel, Reason: "dial", Err: err}
	}
	c.tunnel = t
	if _, err := t.Call(l2tp.CallOptions{CallingNumber: c.local.String()}); err != nil {
		return &SetupError{Phase: PhaseL2TPTunnel, Reason: "call", Err: err}
	}
	if _, err = step(PhaseL2TPTunnel, evTunnel); err != nil {
		return err
	}
	if _, err = step(PhaseL2TPSession, evSession); err != nil {
		return err
	}

	if e, err = step(PhaseLCP, evLCP); err != nil {
		return err
	}
	if e.auth != ppp.AuthNone {
		if _, err = step(PhaseAuth, evAuth); err != nil {
			return err
		}
	}
	if e, err = step(PhaseIPCP, evIPCP); err != nil {
		return err
	}
	c.addr = e.addr
	return nil
}

// l2tpPort is the L2TP port on both ends (RFC 3193).
const l2tpPort = 1701

// wait returns the next event of kind want; a failure or the context's end
// fails phase p.
func (c *Client) wait(ctx context.Context, p Phase, want evKind) (event, error) {
	for {
		select {
		case e := <-c.ev:
			switch e.kind {
			case want:
				return e, nil
			case evFail:
				err := e.err
				if err == nil {
					err = ErrRejected
				}
				return e, &SetupError{Phase: p, Reason: e.reason, Err: err}
			}
			// A late duplicate of an earlier step: ignore it.
		case <-ctx.Done():
			return event{}, &SetupError{Phase: p, Reason: "timeout", Err: fmt.Errorf("%w: %w", ErrTimeout, ctx.Err())}
		}
	}
}

// post reports a setup event. After setup, failures mark the client down.
func (c *Client) post(e event) {
	e.at = c.clk.Now()
	if c.up.Load() {
		if e.kind == evFail {
			c.markDown(e.reason)
		}
		return
	}
	select {
	case c.ev <- e:
	default: // nobody is listening any more (setup gave up)
	}
}

func (c *Client) markDown(reason string) {
	c.downOnce.Do(func() {
		c.downReason.Store(&reason)
		close(c.down)
	})
}

// installSA puts the Quick Mode result into the client's datapath.
func (c *Client) installSA(ch *ike.ChildSA) error {
	icv := esp.ICV96Off
	if ch.ICVBits == 96 && ch.Auth == isakmp.AuthAlgHMACSHA2256 {
		icv = esp.ICV96On
	}
	mk := func(k ike.ESPKeys) esp.Config {
		return esp.Config{SPI: k.SPI, Encr: esp.EncrAlg(ch.Transform), KeyBits: ch.KeyBits, Auth: esp.AuthAlg(ch.Auth),
			EncKey: k.EncKey, AuthKey: k.AuthKey, ICV96: icv}
	}
	pair := esp.SAPair{In: mk(ch.In), Out: mk(ch.Out), Encap: esp.EncapUDP, Peer: ch.Remote, Local: c.local}
	if ch.Encap != ike.EncapUDP {
		return fmt.Errorf("%w: the server did not detect the NAT (encapsulation %v)", ErrRejected, ch.Encap)
	}
	if c.cfg.KeepaliveInterval > 0 {
		pair.KeepaliveInterval = c.cfg.KeepaliveInterval
	}
	h, err := c.dp.AddSA(pair)
	if err != nil {
		return err
	}
	c.handle.Store(uint64(h))
	c.hasSA.Store(true)
	return nil
}

// deliverUDP hands L2TP from inside ESP to the LAC.
func (c *Client) deliverUDP(h esp.Handle, src, dst uint16, payload []byte) {
	if dst != l2tpPort {
		return
	}
	_ = c.ep.Input(h, src, payload)
}

// pppOutput sends one PPP frame: L2TP data header in place, then ESP.
func (c *Client) pppOutput(buf []byte, start int) {
	s := c.sess.Load()
	if s == nil || !c.hasSA.Load() {
		return
	}
	off, err := s.EncapsulateInPlace(buf, start)
	if err != nil {
		c.sendErrs.Add(1)
		return
	}
	if err := c.dp.SendUDP(esp.Handle(c.handle.Load()), l2tpPort, s.PeerPort(), buf[off:]); err != nil {
		c.sendErrs.Add(1)
	}
}

// Addr is the address the server assigned through IPCP.
func (c *Client) Addr() netip.Addr { return c.addr }

// LocalAddrs returns the outer source addresses of the IKE (port 500) and
// ESP-in-UDP sockets.
func (c *Client) LocalAddrs() (ike, esp netip.AddrPort) {
	ike = c.ikeConn.LocalAddr().(*net.UDPAddr).AddrPort()
	if a := c.dp.LocalAddrs(); len(a) > 0 {
		esp = a[0]
	}
	return ike, esp
}

// Timings returns how long each setup phase took.
func (c *Client) Timings() Timings { return c.timings }

// SPIs returns the inbound and outbound ESP SPIs.
func (c *Client) SPIs() (in, out uint32) { return c.child.In.SPI, c.child.Out.SPI }

// Done is closed when the connection went down after setup (the server
// hung up, deleted the SAs, or the link timed out); Reason says why.
func (c *Client) Done() <-chan struct{} { return c.down }

// Reason is why the connection went down, "" while it is up.
func (c *Client) Reason() string {
	if r := c.downReason.Load(); r != nil {
		return *r
	}
	return ""
}

// SendIP sends one IP packet through the tunnel. It copies pkt into a pooled
// buffer with headroom, so the caller may reuse pkt at once; it is safe from
// several goroutines.
func (c *Client) SendIP(pkt []byte) error {
	if len(pkt) > MaxIPPacket {
		return ErrPacketSize
	}
	select {
	case <-c.down:
		return ErrClosed
	default:
	}
	bp := c.bufs.Get().(*[]byte)
	b := (*bp)[:ipHeadroom+len(pkt)]
	copy(b[ipHeadroom:], pkt)
	err := c.ppp.WriteIP(b, ipHeadroom)
	c.bufs.Put(bp)
	if errors.Is(err, ppp.ErrNotUp) {
		return ErrNotUp
	}
	return err
}

// Stats returns the client's counters.
func (c *Client) Stats() Stats {
	var s Stats
	if c.ppp != nil {
		pc := c.ppp.Counters()
		s.IPPacketsIn, s.IPPacketsOut = pc.IPPacketsIn.Load(), pc.IPPacketsOut.Load()
		s.IPBytesIn, s.IPBytesOut = pc.IPBytesIn.Load(), pc.IPBytesOut.Load()
	}
	if c.dp != nil {
		ds := c.dp.Stats()
		s.ESPPacketsIn, s.ESPPacketsOut = ds.PacketsIn, ds.PacketsOut
		s.ESPDrops = ds.DropNoSA + ds.DropReplay + ds.DropIntegrity + ds.DropMalformed + ds.DropExpired + ds.SendErrors
	}
	s.ESPDrops += c.sendErrs.Load()
	return s
}

// Hangup ends the connection the way a well-behaved client does: LCP
// Terminate, L2TP CDN and StopCCN, then IKE Delete for the ESP SAs and the IKE
// SA. ctx bounds the waits for the server's acknowledgements; resources are
// released in every case.
func (c *Client) Hangup(ctx context.Context) error {
	var firstErr error
	c.markDown("hangup")
	if c.ppp != nil {
		c.ppp.Close(ppp.ReasonAdmin)
		select {
		case <-c.pppDown:
		case <-ctx.Done():
			firstErr = fmt.Errorf("%w: LCP Terminate-Ack", ErrTimeout)
		}
	}
	if s := c.sess.Load(); s != nil {
		s.Close(l2tp.Result{Code: l2tp.CDNAdministrative, Message: "user hung up"}, true)
	}
	if c.tunnel != nil {
		c.tunnel.Close(l2tp.Result{Code: l2tp.StopCCNClear, Message: "user hung up"})
	}
	// The StopCCN is acknowledged through the SA: keep it until then.
	for c.ep.Stats().Tunnels > 0 {
		if !c.sleep(ctx, 5*time.Millisecond) {
			if firstErr == nil {
				firstErr = fmt.Errorf("%w: StopCCN acknowledgement", ErrTimeout)
			}
			break
		}
	}
	if c.child != nil {
		c.eng.DeleteChildSA(c.child.In.SPI)
	}
	c.eng.DeleteIKESA(c.ckyI, c.ckyR)
	c.Close()
	return firstErr
}

// sleep waits d on the client's clock; it reports false when ctx ended first.
func (c *Client) sleep(ctx context.Context, d time.Duration) bool {
	ch := make(chan struct{})
	t := c.clk.AfterFunc(d, func() { close(ch) })
	defer t.Stop()
	select {
	case <-ch:
		return true
	case <-ctx.Done():
		return false
	}
}

// Close releases everything at once. Any SA still up is deleted with a
// notification to the server (ike.Engine.Shutdown); nothing else is said.
func (c *Client) Close() {
	c.closeOnce.Do(func() {
		c.markDown("closed")
		if c.ppp != nil {
			c.ppp.LowerDown()
		}
		if c.eng != nil {
			c.eng.Shutdown()
		}
		if c.ep != nil {
			c.ep.ClosePeer(esp.Handle(c.handle.Load()), l2tp.Cause{Reason: l2tp.ReasonShutdown}, false)
			c.ep.Close()
		}
		if c.dp != nil {
			espPorts.close(c.dp)
		}
		if c.ikeConn != nil {
			_ = c.ikeConn.Close()
			if c.readerStarted {
				<-c.readerDone
			}
		}
	})
}

// ikeTransport sends the engine's datagrams: port 4500 through the ESP
// socket (with the non-ESP marker), the rest through the IKE socket.
type ikeTransport Client

func (t *ikeTransport) Send(pkt []byte, local, remote netip.AddrPort) error {
	c := (*Client)(t)
	if remote.Port() == c.cfg.NATTPort || local.Port() == isakmp.PortNATT {
		return c.dp.SendIKE(pkt, netip.AddrPortFrom(c.local, 0), remote)
	}
	_, err := c.ikeConn.WriteToUDPAddrPort(pkt, remote)
	return err
}

// ikeEvents turns engine events into setup steps.
type ikeEvents Client

func (x *ikeEvents) Phase1Established(sa ike.Phase1Info) {
	(*Client)(x).post(event{kind: evIKE1, p1: sa})
}
func (x *ikeEvents) Phase1Failed(_ netip.AddrPort, f *ike.Failure) {
	(*Client)(x).post(event{kind: evFail, reason: failureReason(f), err: f})
}

// failureReason is an IKE failure's label; for a timeout it names the state
// the negotiation stalled in (which message went unanswered).
func failureReason(f *ike.Failure) string {
	if f.Reason == ike.ReasonTimeout {
		if st, ok := strings.CutPrefix(f.Detail, "negotiation stalled in "); ok {
			return f.Reason.String() + " in " + st
		}
	}
	return f.Reason.String()
}
func (x *ikeEvents) Phase2Established(ch *ike.ChildSA) {
	(*Client)(x).post(event{kind: evIKE2, child: ch})
}
func (x *ikeEvents) Phase2Failed(_ ike.Phase1Info, f *ike.Failure) {
	(*Client)(x).post(event{kind: evFail, reason: failureReason(f), err: f})
}
func (x *ikeEvents) ChildSADeleted(_ *ike.ChildSA, r ike.Reason) {
	(*Client)(x).post(event{kind: evFail, reason: "esp_" + r.String(), err: ErrRejected})
}
func (x *ikeEvents) IKESADeleted(ike.Phase1Info, ike.Reason) {}
func (x *ikeEvents) PeerDead(ike.Phase1Info) {
	(*Client)(x).post(event{kind: evFail, reason: "dead_peer", err: ErrTimeout})
}
func (x *ikeEvents) InitialContact(ike.Phase1Info) {}

// l2tpSender puts L2TP datagrams into the SA pair.
type l2tpSender Client

func (s *l2tpSender) SendL2TP(_ l2tp.Peer, dstPort uint16, dg []byte) {
	c := (*Client)(s)
	if !c.hasSA.Load() {
		return
	}
	if err := c.dp.SendUDP(esp.Handle(c.handle.Load()), l2tpPort, dstPort, dg); err != nil {
		c.sendErrs.Add(1)
	}
}

// l2tpHandler follows the tunnel and the call.
type l2tpHandler Client

func (h *l2tpHandler) TunnelUp(*l2tp.Tunnel) { (*Client)(h).post(event{kind: evTunnel}) }
func (h *l2tpHandler) SessionUp(s *l2tp.Session) {
	c := (*Client)(h)
	c.sess.Store(s)
	c.post(event{kind: evSession})
	c.ppp.Start()
}
func (h *l2tpHandler) SessionData(_ *l2tp.Session, frame []byte) {
	_ = (*Client)(h).ppp.Input(frame)
}
func (h *l2tpHandler) SessionDown(_ *l2tp.Session, cause l2tp.Cause) {
	c := (*Client)(h)
	c.post(event{kind: evFail, reason: "l2tp_session_" + cause.Reason.String(), err: fmt.Errorf("%w: %v", ErrRejected, cause)})
	c.ppp.LowerDown()
}
func (h *l2tpHandler) TunnelDown(_ *l2tp.Tunnel, cause l2tp.Cause) {
	(*Client)(h).post(event{kind: evFail, reason: "l2tp_tunnel_" + cause.Reason.String(), err: fmt.Errorf("%w: %v", ErrRejected, cause)})
}

// pppHandler follows LCP, authentication and IPCP.
type pppHandler Client

func (h *pppHandler) LinkUp(info ppp.LinkInfo) {
	(*Client)(h).post(event{kind: evLCP, auth: info.Auth})
}
func (h *pppHandler) AuthDone(m ppp.AuthMethod, _ string, res *ppp.AuthResult) {
	if res != nil && !res.Accept {
		(*Client)(h).post(event{kind: evFail, reason: "ppp_auth_rejected", err: fmt.Errorf("%w: %s rejected", ErrRejected, m)})
		return
	}
	(*Client)(h).post(event{kind: evAuth, auth: m})
}
func (h *pppHandler) NetworkUp(a netip.Addr) { (*Client)(h).post(event{kind: evIPCP, addr: a}) }
func (h *pppHandler) NetworkDown()           {}
func (h *pppHandler) Down(r ppp.Reason) {
	c := (*Client)(h)
	c.pppDownOnce.Do(func() { close(c.pppDown) })
	c.post(event{kind: evFail, reason: "ppp_" + r.String(), err: fmt.Errorf("%w: PPP down (%s)", ErrRejected, r)})
}
func (h *pppHandler) IP(pkt []byte) {
	if f := (*Client)(h).cfg.OnIP; f != nil {
		f(pkt)
	}
}
