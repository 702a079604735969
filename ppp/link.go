package ppp

import (
	"crypto/rand"
	"encoding/binary"
	"fmt"
	"io"
	"log/slog"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/l2tpsecd/l2tpsecd/internal/clock"
)

type role uint8

const controlTailroom = 64

const (
	roleServer role = iota
	roleClient
)

// Phase is the link phase of RFC 1661 section 3.2.
type Phase uint8

// Phases.
const (
	PhaseDead Phase = iota
	PhaseEstablish
	PhaseAuthenticate
	PhaseNetwork
	PhaseTerminate
)

func (p Phase) String() string {
	switch p {
	case PhaseDead:
		return "Dead"
	case PhaseEstablish:
		return "Establish"
	case PhaseAuthenticate:
		return "Authenticate"
	case PhaseNetwork:
		return "Network"
	case PhaseTerminate:
		return "Terminate"
	}
	return "phase-?"
}

// Config configures a Session (server role) or a Client. Zero values take
// the defaults in brackets.
type Config struct {
	// MRU we ask the peer to respect [1400]. 1500 is not requested (it is
	// the default).
	MRU uint16
	// MinPeerMRU and MaxPeerMRU bound the MRU the peer may ask for; outside
	// them it is Nak'd to the nearest bound [1280, 1500].
	MinPeerMRU, MaxPeerMRU uint16
	// EchoInterval is the LCP keepalive period [30 s]; negative disables.
	EchoInterval time.Duration
	// EchoFailures unanswered Echo-Requests end the link with ReasonPeerTimeout [4].
	EchoFailures int
	// FSM holds the restart timer and counters of RFC 1661 section 4.6.
	FSM FSMConfig
	// Headroom reserved in front of control frames for the lower layers'
	// headers (L2TP, UDP, ESP, IP) [128]. Control frames also carry 64
	// bytes of spare capacity after the frame for ESP padding and ICV.
	Headroom int

	// Output transmits one frame: buf[start:] (FF 03, protocol, packet);
	// buf[:start] is free headroom. It is called without locks held, from
	// the data path and the control path concurrently, and must not call
	// back into the link synchronously. buf may be reused after it returns.
	Output func(buf []byte, start int)
	// Handler receives events and inbound IP packets.
	Handler Handler
	Clock   clock.Clock  // [clock.Real]
	Logger  *slog.Logger // [slog.Default()]
	Rand    io.Reader    // [crypto/rand.Reader]

	// Server role.

	// Name is our CHAP name ["l2tpsecd"].
	Name string
	// AuthMethods in order of preference. Empty means no authentication
	// (tests only). Client role: the methods the client agrees to do
	// [all of PAP, CHAP-MD5, MS-CHAPv2].
	AuthMethods []AuthMethod
	// AuthTimeout bounds the authentication phase [30 s].
	AuthTimeout   time.Duration
	Authenticator Authenticator
	// Addresses gives the peer its address after authentication; nil means
	// the back end's AuthResult.Address must provide it.
	Addresses AddressProvider
	// LocalAddr: server: our (gateway) address in IPCP; client: the
	// address to ask for [0.0.0.0].
	LocalAddr netip.Addr
	// DNS and WINS handed out in IPCP (RFC 1877) unless the back end's
	// result overrides them; invalid entries are rejected.
	DNS, WINS [2]netip.Addr

	// Client role.

	User, Password    string
	WantDNS, WantWINS bool
}

// ValidateServer checks a server configuration before any session uses it.
func (c Config) ValidateServer() error {
	seen := map[AuthMethod]bool{}
	for _, m := range c.AuthMethods {
		if m != AuthPAP && m != AuthCHAPMD5 && m != AuthMSCHAPv2 && m != AuthEAP {
			return fmt.Errorf("%w: authentication method %s cannot be offered", ErrBadConfig, m)
		}
		if seen[m] {
			return fmt.Errorf("%w: authentication method %s listed twice", ErrBadConfig, m)
		}
		seen[m] = true
	}
	if len(c.AuthMethods) > 0 && c.Authenticator == nil {
		return fmt.Errorf("%w: no authenticator", ErrBadConfig)
	}
	if c.MRU != 0 && (c.MRU < 576 || c.MRU > 1500) {
		return fmt.Errorf("%w: MRU %d outside 576..1500", ErrBadConfig, c.MRU)
	}
	if c.MinPeerMRU != 0 && c.MaxPeerMRU != 0 && c.MinPeerMRU > c.MaxPeerMRU {
		return fmt.Errorf("%w: peer MRU bounds %d > %d", ErrBadConfig, c.MinPeerMRU, c.MaxPeerMRU)
	}
	if c.LocalAddr.IsValid() && !c.LocalAddr.Is4() {
		return fmt.Errorf("%w: local address %s is not IPv4", ErrBadConfig, c.LocalAddr)
	}
	for _, a := range append(c.DNS[:], c.WINS[:]...) {
		if a.IsValid() && !a.Is4() {
			return fmt.Errorf("%w: DNS/WINS address %s is not IPv4", ErrBadConfig, a)
		}
	}
	if c.EchoInterval > 0 && c.EchoInterval < time.Second {
		return fmt.Errorf("%w: echo interval %s below 1s", ErrBadConfig, c.EchoInterval)
	}
	return nil
}

func (c Config) withDefaults() Config {
	if c.MRU == 0 {
		c.MRU = 1400
	}
	if c.MinPeerMRU == 0 {
		c.MinPeerMRU = 1280
	}
	if c.MaxPeerMRU == 0 {
		c.MaxPeerMRU = 1500
	}
	if c.MaxPeerMRU < c.MinPeerMRU {
		c.MaxPeerMRU = c.MinPeerMRU
	}
	if c.EchoInterval == 0 {
		c.EchoInterval = 30 * time.Second
	}
	if c.EchoFailures <= 0 {
		c.EchoFailures = 4
	}
	if c.Headroom < 0 {
		c.Headroom = 0
	} else if c.Headroom == 0 {
		c.Headroom = 128
	}
	if c.Clock == nil {
		c.Clock = clock.Real{}
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.Rand == nil {
		c.Rand = rand.Reader
	}
	if c.Name == "" {
		c.Name = "l2tpsecd"
	}
	if c.AuthTimeout <= 0 {
		c.AuthTimeout = 30 * time.Second
	}
	if c.Output == nil {
		c.Output = func([]byte, int) {}
	}
	if c.Handler == nil {
		c.Handler = nopHandler{}
	}
	return c
}

type nopHandler struct{}

func (nopHandler) LinkUp(LinkInfo)                          {}
func (nopHandler) AuthDone(AuthMethod, string, *AuthResult) {}
func (nopHandler) NetworkUp(netip.Addr)                     {}
func (nopHandler) NetworkDown()                             {}
func (nopHandler) Down(Reason)                              {}
func (nopHandler) IP([]byte)                                {}

// Counters are a link's statistics, for the server's metrics. They are
// updated atomically and may be read at any time.
type Counters struct {
	FramesIn, FramesOut       atomic.Uint64 // control frames
	IPPacketsIn, IPPacketsOut atomic.Uint64
	IPBytesIn, IPBytesOut     atomic.Uint64
	Malformed                 atomic.Uint64 // undecodable frames and packets
	Dropped                   atomic.Uint64 // IP before the network layer is up, or discarded control packets
	ProtocolRejects           atomic.Uint64 // Protocol-Rejects we sent
	EchoRequests, EchoReplies atomic.Uint64 // keepalives we sent / answers we got
}

// ltimer is a restartable timer whose stale callbacks are ignored (a Real
// timer's callback may already wait on the lock when it is stopped).
type ltimer struct {
	t   clock.Timer
	gen uint64
}

func (lt *ltimer) start(l *link, d time.Duration, f func()) {
	lt.stop()
	gen := lt.gen
	lt.t = l.clk.AfterFunc(d, func() {
		l.mu.Lock()
		defer l.unlock()
		if lt.gen != gen || l.dead {
			return
		}
		lt.t = nil
		f()
	})
}

func (lt *ltimer) stop() {
	lt.gen++
	if lt.t != nil {
		lt.t.Stop()
		lt.t = nil
	}
}

// link is the machinery Session and Client share: framing, LCP, IPCP,
// keepalives, Protocol-Reject, event delivery and tracing.
type link struct {
	role  role
	cfg   Config
	h     Handler
	clk   clock.Clock
	log   *slog.Logger
	trace atomic.Pointer[slog.Logger]
	netUp atomic.Bool
	ctr   Counters

	mu sync.Mutex
	// Guarded by mu.
	pending  []func() // events and output, run in order after mu is released
	flushing bool
	lcpH     lcpHandler
	ipcpH    ipcpHandler
	lcp      *Automaton
	ipcp     *Automaton
	phase    Phase
	reason   Reason
	dead     bool
	echo     ltimer
	echoOut  int
	echoID   uint8
	auth     ltimer // authentication phase limit
	authRetx ltimer // CHAP challenge / PAP request retransmission
	sess     ltimer // session timeout
	idle     ltimer // idle timeout
	idleSeen uint64
	sa       serverAuth
	ca       clientAuth
	user     string
	result   AuthResult
	addr     netip.Addr // server: the address acquired for the peer
	rnd      [4]byte
}

func (l *link) init(r role, cfg Config) {
	l.role = r
	l.cfg = cfg.withDefaults()
	l.h = l.cfg.Handler
	l.clk = l.cfg.Clock
	l.log = l.cfg.Logger
	l.lcpH = lcpHandler{l: l, authPrefs: l.cfg.AuthMethods}
	if r == roleClient {
		l.lcpH.authPrefs = nil
	}
	l.ipcpH = ipcpHandler{l: l}
	after := func(d time.Duration, f func()) clock.Timer {
		return l.clk.AfterFunc(d, func() {
			l.mu.Lock()
			defer l.unlock()
			if !l.dead {
				f()
			}
		})
	}
	l.lcp = NewAutomaton(ProtoLCP, &l.lcpH, l.cfg.FSM, func(c Code, id uint8, d []byte) { l.sendLocked(ProtoLCP, c, id, d) }, after)
	l.lcp.OnEchoRequest = l.echoReplyLocked
	l.ipcp = NewAutomaton(ProtoIPCP, &l.ipcpH, l.cfg.FSM, func(c Code, id uint8, d []byte) { l.sendLocked(ProtoIPCP, c, id, d) }, after)
	l.phase = PhaseDead
}

// unlock releases mu and then runs what was queued under it, in order.
// Only one goroutine runs the queue at a time, so events keep their order.
func (l *link) unlock() {
	for {
		if len(l.pending) == 0 || l.flushing {
			l.mu.Unlock()
			return
		}
		fns := l.pending
		l.pending = nil
		l.flushing = true
		l.mu.Unlock()
		for _, f := range fns {
			f()
		}
		l.mu.Lock()
		l.flushing = false
	}
}

func (l *link) post(f func()) { l.pending = append(l.pending, f) }

func (l *link) randUint32() uint32 {
	for {
		if _, err := io.ReadFull(l.cfg.Rand, l.rnd[:]); err != nil {
			return uint32(l.clk.Now().UnixNano()) | 1
		}
		if v := binary.BigEndian.Uint32(l.rnd[:]); v != 0 {
			return v
		}
	}
}

// sendLocked frames and queues one control packet.
func (l *link) sendLocked(p Protocol, code Code, id uint8, data []byte) {
	hr := l.cfg.Headroom
	// Spare capacity after the frame lets ESP add padding and ICV in place.
	buf := make([]byte, hr, hr+FrameHeaderLen+headerLen+len(data)+controlTailroom)
	buf = append(buf, 0xFF, 0x03, byte(p>>8), byte(p))
	buf = AppendPacket(buf, code, id, data)
	l.traceLocked("sent", p, buf[hr+FrameHeaderLen:])
	l.ctr.FramesOut.Add(1)
	out := l.cfg.Output
	l.post(func() { out(buf, hr) })
}

// Start brings the link up: the lower layer (the L2TP session) is up and
// LCP opens (sends its Configure-Request).
func (l *link) start() {
	l.mu.Lock()
	defer l.unlock()
	if l.dead || l.phase != PhaseDead {
		return
	}
	l.phase = PhaseEstablish
	l.lcp.Open()
	l.lcp.Up()
}

func (l *link) close(r Reason) {
	l.mu.Lock()
	defer l.unlock()
	l.closeLocked(r)
}

// closeLocked starts an orderly LCP termination; Down follows when the
// peer acknowledges or the Terminate-Requests run out.
func (l *link) closeLocked(r Reason) {
	if l.dead {
		return
	}
	if l.reason == ReasonNone {
		l.reason = r
	}
	l.phase = PhaseTerminate
	l.lcp.Close()
	if s := l.lcp.State(); s == StateClosed || s == StateInitial {
		l.finishLocked()
	}
}

func (l *link) lowerDown() {
	l.mu.Lock()
	defer l.unlock()
	if l.dead {
		return
	}
	if l.reason == ReasonNone {
		l.reason = ReasonLowerDown
	}
	l.lcp.Down()
	l.finishLocked()
}

// finishLocked ends the link for good and reports Down once.
func (l *link) finishLocked() {
	if l.dead {
		return
	}
	l.netUp.Store(false)
	l.dead = true
	l.phase = PhaseDead
	l.echo.stop()
	l.auth.stop()
	l.authRetx.stop()
	l.sess.stop()
	l.idle.stop()
	l.lcp.stopTimer()
	l.ipcp.stopTimer()
	l.sa.gen++
	l.releaseAddrLocked()
	r := l.reason
	if r == ReasonNone {
		r = ReasonNegotiationFailed
	}
	h := l.h
	l.post(func() { h.Down(r) })
}

func (l *link) releaseAddrLocked() {
	if l.addr.IsValid() && l.cfg.Addresses != nil && l.role == roleServer {
		a, p := l.addr, l.cfg.Addresses
		l.post(func() { p.Release(a) })
	}
	l.addr = netip.Addr{}
}

// input is every inbound frame. IP goes straight to the handler without the
// lock; control protocols are processed under it.
func (l *link) input(frame []byte) error {
	p, payload, err := SplitFrame(frame)
	if err != nil {
		l.ctr.Malformed.Add(1)
		return err
	}
	if p == ProtoIPv4 {
		if !l.netUp.Load() {
			l.ctr.Dropped.Add(1)
			return ErrNotUp
		}
		l.ctr.IPPacketsIn.Add(1)
		l.ctr.IPBytesIn.Add(uint64(len(payload)))
		l.h.IP(payload)
		return nil
	}
	l.mu.Lock()
	defer l.unlock()
	return l.inputLocked(p, payload)
}

func (l *link) inputLocked(p Protocol, payload []byte) error {
	if l.dead {
		l.ctr.Dropped.Add(1)
		return ErrClosed
	}
	l.ctr.FramesIn.Add(1)
	l.traceLocked("rcvd", p, payload)
	switch p {
	case ProtoLCP:
		return l.inputLCPLocked(payload)
	case ProtoPAP, ProtoCHAP, ProtoEAP:
		if p == ProtoEAP && !l.eapEnabled() {
			break // Protocol-Rejected below
		}
		if l.lcp.State() != StateOpened {
			l.ctr.Dropped.Add(1)
			return nil
		}
		var err error
		if l.role == roleServer {
			err = l.serverAuthInputLocked(p, payload)
		} else {
			err = l.clientAuthInputLocked(p, payload)
		}
		if err != nil {
			l.ctr.Malformed.Add(1)
		}
		return err
	case ProtoIPCP:
		if l.phase != PhaseNetwork {
			// RFC 1661 3.4/3.5: NCP packets before the Network phase are
			// silently discarded.
			l.ctr.Dropped.Add(1)
			return nil
		}
		pkt, err := ParsePacket(payload)
		if err != nil {
			l.ctr.Malformed.Add(1)
			return err
		}
		if !l.ipcp.Input(pkt, payload) {
			l.ipcp.UnknownCode(pkt, payload)
		}
		return nil
	}
	// Everything else (IPV6CP, IPv6, CCP, MPPE, IPXCP, BACP, EAP, unknown)
	// is refused with Protocol-Reject, only possible in LCP Opened.
	if l.lcp.State() == StateOpened {
		l.protocolRejectLocked(p, payload)
	} else {
		l.ctr.Dropped.Add(1)
	}
	return nil
}

func (l *link) inputLCPLocked(payload []byte) error {
	pkt, err := ParsePacket(payload)
	if err != nil {
		l.ctr.Malformed.Add(1)
		return err
	}
	if pkt.Code == CodeTermReq && l.lcp.State() == StateOpened && l.reason == ReasonNone {
		l.reason = ReasonUserRequest
	}
	if l.lcp.Input(pkt, payload) {
		l.afterLCPLocked()
		return nil
	}
	switch pkt.Code {
	case CodeProtoRej:
		if l.lcp.State() != StateOpened || len(pkt.Data) < 2 {
			return nil
		}
		switch Protocol(binary.BigEndian.Uint16(pkt.Data)) {
		case ProtoLCP:
			l.lcp.Rejected()
		case ProtoIPCP:
			l.ipcp.Rejected()
		default:
			l.lcp.CodeRejectPlus()
		}
	case CodeEchoReq:
		l.lcp.EchoOrDiscard(pkt, payload)
	case CodeEchoRep:
		if l.lcp.State() != StateOpened || len(pkt.Data) < 4 {
			return nil
		}
		if m := binary.BigEndian.Uint32(pkt.Data); l.lcpH.reqMagic && m == l.lcpH.magic {
			return nil // our own echo looped back
		}
		l.echoOut = 0
		l.ctr.EchoReplies.Add(1)
	case CodeDiscardReq, CodeIdentify, CodeTimeRemain:
		// RFC 1661 5.10, RFC 1570: nothing to do.
	default:
		l.lcp.UnknownCode(pkt, payload)
	}
	return nil
}

// eapEnabled: EAP is one of our methods (server) or one we accept (client).
func (l *link) eapEnabled() bool {
	if l.role == roleClient {
		return l.clientCanDo(AuthEAP)
	}
	for _, m := range l.cfg.AuthMethods {
		if m == AuthEAP {
			return true
		}
	}
	return false
}

// afterLCPLocked acts on what the LCP options decided.
func (l *link) afterLCPLocked() {
	if l.dead || l.phase == PhaseTerminate {
		return
	}
	switch {
	case l.lcpH.authFailed:
		l.closeLocked(ReasonAuthRefused)
	case l.lcpH.loops > l.lcp.cfg.MaxFailure:
		// Our magic number keeps coming back: the link is looped (RFC
		// 1661 6.4), or the peer is broken; either way it cannot work.
		l.closeLocked(ReasonLoopback)
	}
}

func (l *link) echoReplyLocked(p Packet) {
	var magic uint32
	if l.lcpH.reqMagic {
		magic = l.lcpH.magic
	}
	data := make([]byte, 4, max(4, len(p.Data)))
	binary.BigEndian.PutUint32(data, magic)
	if len(p.Data) > 4 {
		data = append(data, p.Data[4:]...)
	}
	// Never answer with more than the peer's MRU (RFC 1661 5.8).
	if limit := int(l.lcpH.peerMRU) - headerLen; len(data) > limit {
		data = data[:max(limit, 4)]
	}
	l.sendLocked(ProtoLCP, CodeEchoRep, p.ID, data)
}

func (l *link) protocolRejectLocked(p Protocol, payload []byte) {
	limit := int(l.lcpH.peerMRU) - headerLen - 2
	if limit < 0 {
		limit = 0
	}
	if len(payload) > limit {
		payload = payload[:limit]
	}
	data := make([]byte, 2, 2+len(payload))
	binary.BigEndian.PutUint16(data, uint16(p))
	data = append(data, payload...)
	l.ctr.ProtocolRejects.Add(1)
	l.sendLocked(ProtoLCP, CodeProtoRej, l.lcp.newID(), data)
}

// lcpUp: LCP reached Opened. Start keepalives and the authentication phase.
func (l *link) lcpUp() {
	info := LinkInfo{PeerMRU: l.lcpH.peerMRU, Auth: AuthNone}
	if l.role == roleServer {
		info.Auth = l.lcpH.authMethod()
	} else {
		info.Auth = l.lcpH.peerAuth
	}
	h := l.h
	l.post(func() { h.LinkUp(info) })
	l.echoOut = 0
	if l.cfg.EchoInterval > 0 {
		l.echo.start(l, l.cfg.EchoInterval, l.echoTickLocked)
	}
	if info.Auth == AuthNone {
		l.networkPhaseLocked()
		return
	}
	l.phase = PhaseAuthenticate
	if l.role == roleServer {
		l.auth.start(l, l.cfg.AuthTimeout, func() { l.closeLocked(ReasonAuthTimeout) })
		l.serverAuthStartLocked(info.Auth)
	} else {
		l.clientAuthStartLocked(info.Auth)
	}
}

// lcpDown: LCP left Opened (renegotiation or termination). Everything above
// it goes down; a renegotiation authenticates again.
func (l *link) lcpDown() {
	l.echo.stop()
	l.auth.stop()
	l.authRetx.stop()
	l.sa.gen++
	l.sa.state = saIdle
	if l.phase != PhaseTerminate {
		l.phase = PhaseEstablish
	}
	l.ipcp.Down()
	l.ipcp.Close()
	l.releaseAddrLocked()
}

func (l *link) lcpFinished() { l.finishLocked() }

func (l *link) echoTickLocked() {
	if l.lcp.State() != StateOpened {
		return
	}
	if l.echoOut >= l.cfg.EchoFailures {
		l.closeLocked(ReasonPeerTimeout)
		return
	}
	l.echoOut++
	l.echoID++
	var data [4]byte
	if l.lcpH.reqMagic {
		binary.BigEndian.PutUint32(data[:], l.lcpH.magic)
	}
	l.ctr.EchoRequests.Add(1)
	l.sendLocked(ProtoLCP, CodeEchoReq, l.echoID, data[:])
	l.echo.start(l, l.cfg.EchoInterval, l.echoTickLocked)
}

// networkPhaseLocked starts IPCP once the peer is authenticated.
func (l *link) networkPhaseLocked() {
	l.auth.stop()
	l.authRetx.stop()
	if l.role == roleServer {
		if !l.acquireAddrLocked() {
			return
		}
		l.ipcpH.local = l.cfg.LocalAddr
		l.ipcpH.dns, l.ipcpH.wins = l.cfg.DNS, l.cfg.WINS
		for i := range 2 {
			if l.result.DNS[i].IsValid() {
				l.ipcpH.dns[i] = l.result.DNS[i]
			}
			if l.result.WINS[i].IsValid() {
				l.ipcpH.wins[i] = l.result.WINS[i]
			}
		}
		if d := l.result.SessionTimeout; d > 0 {
			l.sess.start(l, d, func() { l.closeLocked(ReasonSessionTimeout) })
		}
		if d := l.result.IdleTimeout; d > 0 {
			l.idleSeen = ^uint64(0)
			l.idle.start(l, d, l.idleTickLocked)
		}
	}
	l.phase = PhaseNetwork
	l.ipcp.Open()
	l.ipcp.Up()
}

func (l *link) acquireAddrLocked() bool {
	if l.cfg.Addresses == nil {
		if l.result.Address.Is4() {
			l.ipcpH.peer = l.result.Address
			return true
		}
		l.closeLocked(ReasonNoAddress)
		return false
	}
	// The pool is in memory and quick; holding the lock across it is fine.
	a, err := l.cfg.Addresses.Acquire(l.user, &l.result)
	if err != nil || !a.Is4() {
		l.log.Warn("ppp: no address for peer", "user", l.user, "err", err)
		l.closeLocked(ReasonNoAddress)
		return false
	}
	l.addr = a
	l.ipcpH.peer = a
	return true
}

// idleTickLocked closes the link when no IP packet moved during a whole
// idle period (so the limit is enforced within one to two periods).
func (l *link) idleTickLocked() {
	seen := l.ctr.IPPacketsIn.Load() + l.ctr.IPPacketsOut.Load()
	if seen == l.idleSeen {
		l.closeLocked(ReasonIdleTimeout)
		return
	}
	l.idleSeen = seen
	l.idle.start(l, l.result.IdleTimeout, l.idleTickLocked)
}

func (l *link) ipcpUp() {
	l.netUp.Store(true)
	a := l.ipcpH.peer
	if l.role == roleClient {
		a = l.ipcpH.local
	}
	h := l.h
	l.post(func() { h.NetworkUp(a) })
}

func (l *link) ipcpDown() {
	l.netUp.Store(false)
	h := l.h
	l.post(func() { h.NetworkDown() })
}

// ipcpFinished: IPCP gave up or was rejected; with no network protocol left
// the link has no purpose (pppd does the same).
func (l *link) ipcpFinished() {
	if l.phase == PhaseNetwork {
		l.closeLocked(ReasonNegotiationFailed)
	}
}

// writeIP sends an IP packet lying at buf[start:], writing the PPP header
// into the headroom in front of it. It does not allocate or lock.
func (l *link) writeIP(buf []byte, start int) error {
	if !l.netUp.Load() {
		l.ctr.Dropped.Add(1)
		return ErrNotUp
	}
	if _, err := EncapIP(buf, start); err != nil {
		return err
	}
	l.ctr.IPPacketsOut.Add(1)
	l.ctr.IPBytesOut.Add(uint64(len(buf) - start))
	l.cfg.Output(buf, start-FrameHeaderLen)
	return nil
}

// SetTrace switches the negotiation trace on (a logger) or off (nil) at run
// time. It prints every LCP, authentication and IPCP packet decoded the way
// pppd's debug log does; secrets are never printed.
func (l *link) setTrace(t *slog.Logger) { l.trace.Store(t) }

func (l *link) traceLocked(dir string, p Protocol, pkt []byte) {
	t := l.trace.Load()
	if t == nil {
		return
	}
	t.Info(dir + " " + Describe(p, pkt))
}
