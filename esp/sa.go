package esp

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/des"
	"crypto/hmac"
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/subtle"
	"encoding/binary"
	"fmt"
	"hash"
	"math"
	"sync"
	"sync/atomic"
	"time"

	"github.com/l2tpsecd/l2tpsecd/internal/clock"
)

// Wire sizes.
const (
	HeaderLen           = 8  // SPI + sequence number
	MaxIVLen            = 16 // AES block
	MaxICVLen           = 32 // HMAC-SHA2-512-256
	MaxHeadroom         = HeaderLen + MaxIVLen
	MaxTailroom         = 15 + 2 + MaxICVLen // pad to a 16-byte block, pad length, next header, ICV
	DefaultReplayWindow = 1024
	// seqSoftMark is where an outbound SA without ESN asks for a rekey:
	// 2^32 - 2^24 leaves ~16M packets for IKE to finish Quick Mode.
	seqSoftMark = math.MaxUint32 - 1<<24
)

// Lifetime bounds an SA in time and in bytes of protected payload; zero
// fields are unlimited.
type Lifetime struct {
	Duration time.Duration
	Bytes    uint64
}

// Event is what an SA reports to Config.OnEvent.
type Event struct {
	SPI  uint32
	Dir  Direction
	Kind EventKind
}

// Config describes one SA (one direction) as IKE negotiated it.
type Config struct {
	SPI  uint32
	Encr EncrAlg
	// KeyBits is the negotiated key length attribute; 0 takes it from
	// EncKey. For GCM it excludes the 32-bit salt.
	KeyBits int
	Auth    AuthAlg
	// EncKey is the encryption keying material; for AES-GCM it is
	// key || 4-byte salt (RFC 4106 section 8.1).
	EncKey  []byte
	AuthKey []byte
	// ICV96 applies to HMAC-SHA2-256 only.
	ICV96 ICV96Mode
	// ESN enables 64-bit extended sequence numbers (RFC 4303 section 2.2.1).
	ESN bool
	// ReplayWindow in packets for inbound SAs; 0 means DefaultReplayWindow.
	ReplayWindow int
	Soft, Hard   Lifetime
	// OnEvent is called at most once per EventKind, on the goroutine that
	// processes the packet or on the clock's timer goroutine. It must not
	// block or call back into the SA's packet methods.
	OnEvent func(Event)
}

// Counters are an SA's statistics; the server reads them into Prometheus.
type Counters struct {
	Packets   atomic.Uint64 // packets sealed or opened successfully
	Bytes     atomic.Uint64 // payload bytes in those packets
	Replay    atomic.Uint64
	Integrity atomic.Uint64
	Malformed atomic.Uint64 // truncated, bad lengths, bad padding
	Expired   atomic.Uint64 // packets refused after the hard lifetime or sequence exhaustion
	ICV96     atomic.Uint64 // 1 once the SA switched to 96-bit ICVs by detection
}

// Stats is a snapshot of Counters.
type Stats struct {
	Packets, Bytes, Replay, Integrity, Malformed, Expired, ICV96 uint64
}

const (
	flagSoftTime uint32 = 1 << iota
	flagSoftBytes
	flagHardTime
	flagHardBytes
	flagSeqSoft
	flagSeqExhausted
	flagICV96
	flagDead = flagHardTime | flagHardBytes | flagSeqExhausted
)

type cbcMode interface {
	cipher.BlockMode
	SetIV([]byte)
}

// SA is one direction of an ESP security association. An outbound SA may
// be used by several goroutines at once (sequence numbers are atomic); an
// inbound SA belongs to one goroutine at a time (the datapath worker that
// owns it), which is why its replay window needs no lock.
type SA struct {
	spi  uint32
	dir  Direction
	encr EncrAlg
	auth AuthAlg
	esn  bool
	mode ICV96Mode

	block     cipher.Block // CBC ciphers
	blockSize int          // CBC block size, 4 for GCM/NULL alignment
	ivLen     int
	aead      cipher.AEAD
	salt      [4]byte

	hashNew  func() hash.Hash
	authKey  []byte
	fullICV  int          // negotiated ICV length
	icvLen   atomic.Int32 // current ICV length (12 after a SHA2-256/96 switch)
	macPool  sync.Pool    // outbound HMAC states
	cbcPool  sync.Pool    // outbound CBC encrypters
	inMAC    hash.Hash    // inbound HMAC (single owner)
	inCBC    cbcMode      // inbound CBC decrypter (single owner)
	fullSeen bool         // inbound: a packet passed the full-length ICV check

	seq    atomic.Uint64 // outbound: last sequence number used
	replay replayWindow  // inbound

	soft, hard Lifetime
	lifeBytes  atomic.Uint64
	flags      atomic.Uint32
	onEvent    func(Event)
	timers     [2]clock.Timer
	created    time.Time

	ctr Counters
}

// NewSA builds an SA from cfg. Time lifetimes run on clk.
func NewSA(cfg Config, dir Direction, clk clock.Clock) (*SA, error) {
	if dir != Inbound && dir != Outbound {
		return nil, fmt.Errorf("%w: direction %v", ErrBadConfig, dir)
	}
	if clk == nil {
		clk = clock.Real{}
	}
	sa := &SA{spi: cfg.SPI, dir: dir, encr: cfg.Encr, auth: cfg.Auth, esn: cfg.ESN, mode: cfg.ICV96,
		soft: cfg.Soft, hard: cfg.Hard, onEvent: cfg.OnEvent, created: clk.Now()}
	if cfg.SPI < 256 {
		// RFC 4303 section 2.1: 1-255 are reserved by IANA, 0 is local use.
		return nil, fmt.Errorf("%w: SPI %#x is reserved", ErrBadConfig, cfg.SPI)
	}
	if err := sa.initCipher(cfg); err != nil {
		return nil, err
	}
	if err := sa.initAuth(cfg); err != nil {
		return nil, err
	}
	if dir == Inbound {
		w := cfg.ReplayWindow
		if w == 0 {
			w = DefaultReplayWindow
		}
		if w < 64 || w > 1<<20 {
			return nil, fmt.Errorf("%w: replay window %d (64..1048576)", ErrBadConfig, w)
		}
		sa.replay.init(w)
		if sa.block != nil {
			sa.inCBC = newCBC(sa.block, false)
		}
		if sa.hashNew != nil {
			sa.inMAC = hmac.New(sa.hashNew, sa.authKey)
		}
	} else {
		if sa.block != nil {
			b := sa.block
			sa.cbcPool.New = func() any { return newCBC(b, true) }
		}
		if sa.hashNew != nil {
			sa.macPool.New = func() any { return hmac.New(sa.hashNew, sa.authKey) }
		}
	}
	if cfg.Soft.Duration > 0 {
		sa.timers[0] = clk.AfterFunc(cfg.Soft.Duration, func() { sa.fire(flagSoftTime, EventSoftTime) })
	}
	if cfg.Hard.Duration > 0 {
		sa.timers[1] = clk.AfterFunc(cfg.Hard.Duration, func() { sa.fire(flagHardTime, EventHardTime) })
	}
	return sa, nil
}

func newCBC(b cipher.Block, enc bool) cbcMode {
	iv := make([]byte, b.BlockSize())
	var m cipher.BlockMode
	if enc {
		m = cipher.NewCBCEncrypter(b, iv)
	} else {
		m = cipher.NewCBCDecrypter(b, iv)
	}
	// Both the standard library's generic CBC and its AES CBC expose
	// SetIV (crypto/tls relies on it too); reusing a mode avoids an
	// allocation per packet.
	return m.(cbcMode)
}

func (sa *SA) initCipher(cfg Config) error {
	key := cfg.EncKey
	checkBits := func(n int) error {
		if cfg.KeyBits != 0 && cfg.KeyBits != n*8 {
			return fmt.Errorf("%w: %v key of %d bytes but KeyBits %d", ErrKeyLength, cfg.Encr, n, cfg.KeyBits)
		}
		return nil
	}
	var err error
	switch cfg.Encr {
	case EncrAESCBC:
		if len(key) != 16 && len(key) != 24 && len(key) != 32 {
			return fmt.Errorf("%w: AES-CBC key of %d bytes", ErrKeyLength, len(key))
		}
		if err = checkBits(len(key)); err != nil {
			return err
		}
		sa.block, _ = aes.NewCipher(key)
	case Encr3DES:
		if len(key) != 24 {
			return fmt.Errorf("%w: 3DES key of %d bytes", ErrKeyLength, len(key))
		}
		if sa.block, err = des.NewTripleDESCipher(key); err != nil {
			return fmt.Errorf("%w: %v", ErrKeyLength, err)
		}
	case EncrDES:
		if len(key) != 8 {
			return fmt.Errorf("%w: DES key of %d bytes", ErrKeyLength, len(key))
		}
		if sa.block, err = des.NewCipher(key); err != nil {
			return fmt.Errorf("%w: %v", ErrKeyLength, err)
		}
	case EncrNull:
		if len(key) != 0 {
			return fmt.Errorf("%w: NULL takes no key", ErrKeyLength)
		}
		sa.blockSize = 4
		return nil
	case EncrAESGCM12, EncrAESGCM16:
		n := len(key) - 4
		if n != 16 && n != 24 && n != 32 {
			return fmt.Errorf("%w: AES-GCM keying material of %d bytes (key||salt)", ErrKeyLength, len(key))
		}
		if err = checkBits(n); err != nil {
			return err
		}
		b, _ := aes.NewCipher(key[:n])
		copy(sa.salt[:], key[n:])
		tag := 16
		if cfg.Encr == EncrAESGCM12 {
			tag = 12
		}
		if sa.aead, err = cipher.NewGCMWithTagSize(b, tag); err != nil {
			return fmt.Errorf("%w: %v", ErrUnsupported, err)
		}
		sa.blockSize, sa.ivLen = 4, 8
		sa.fullICV = tag
		sa.icvLen.Store(int32(tag))
		return nil
	default:
		return fmt.Errorf("%w: encryption %v", ErrUnsupported, cfg.Encr)
	}
	sa.blockSize = sa.block.BlockSize()
	sa.ivLen = sa.blockSize
	return nil
}

func (sa *SA) initAuth(cfg Config) error {
	if sa.aead != nil {
		if cfg.Auth != AuthNone {
			return fmt.Errorf("%w: %v needs no integrity algorithm, got %v", ErrBadConfig, cfg.Encr, cfg.Auth)
		}
		return nil
	}
	var keyLen, icv int
	switch cfg.Auth {
	case AuthNone:
		if sa.encr == EncrNull {
			return fmt.Errorf("%w: NULL encryption without integrity", ErrBadConfig)
		}
		return nil
	case AuthHMACMD5:
		sa.hashNew, keyLen, icv = md5.New, 16, 12
	case AuthHMACSHA1:
		sa.hashNew, keyLen, icv = sha1.New, 20, 12
	case AuthHMACSHA256:
		sa.hashNew, keyLen, icv = sha256.New, 32, 16
	case AuthHMACSHA384:
		sa.hashNew, keyLen, icv = sha512.New384, 48, 24
	case AuthHMACSHA512:
		sa.hashNew, keyLen, icv = sha512.New, 64, 32
	default:
		return fmt.Errorf("%w: integrity %v", ErrUnsupported, cfg.Auth)
	}
	if len(cfg.AuthKey) != keyLen {
		return fmt.Errorf("%w: %v key of %d bytes, want %d", ErrKeyLength, cfg.Auth, len(cfg.AuthKey), keyLen)
	}
	sa.authKey = append([]byte(nil), cfg.AuthKey...)
	sa.fullICV = icv
	if cfg.Auth == AuthHMACSHA256 && cfg.ICV96 == ICV96On {
		icv = 12
	}
	sa.icvLen.Store(int32(icv))
	return nil
}

// SPI returns the SA's SPI.
func (sa *SA) SPI() uint32 { return sa.spi }

// Direction returns whether the SA is inbound or outbound.
func (sa *SA) Direction() Direction { return sa.dir }

// Headroom is the number of bytes Seal writes before the payload.
func (sa *SA) Headroom() int { return HeaderLen + sa.ivLen }

// Tailroom is the most bytes Seal writes after the payload.
func (sa *SA) Tailroom() int { return sa.blockSize - 1 + 2 + int(sa.icvLen.Load()) }

// ICVLen returns the current ICV length in bytes.
func (sa *SA) ICVLen() int { return int(sa.icvLen.Load()) }

// UseICV96 switches an HMAC-SHA2-256 SA to 96-bit ICVs; the datapath calls
// it on the outbound SA when the inbound twin detected the Android bug.
func (sa *SA) UseICV96() {
	if sa.auth == AuthHMACSHA256 && sa.mode != ICV96Off {
		sa.icvLen.Store(12)
	}
}

// Counters returns the SA's live counters.
func (sa *SA) Counters() *Counters { return &sa.ctr }

// Stats returns a snapshot of the counters.
func (sa *SA) Stats() Stats {
	c := &sa.ctr
	return Stats{Packets: c.Packets.Load(), Bytes: c.Bytes.Load(), Replay: c.Replay.Load(),
		Integrity: c.Integrity.Load(), Malformed: c.Malformed.Load(), Expired: c.Expired.Load(), ICV96: c.ICV96.Load()}
}

// Dead reports whether the SA passed a hard limit and refuses packets.
func (sa *SA) Dead() bool { return sa.flags.Load()&flagDead != 0 }

// Seq returns the last outbound sequence number used, or the highest
// inbound one accepted (inbound: only from the goroutine that owns the SA).
func (sa *SA) Seq() uint64 {
	if sa.dir == Outbound {
		return sa.seq.Load()
	}
	return sa.replay.top
}

// Close stops the lifetime timers.
func (sa *SA) Close() {
	for _, t := range sa.timers {
		if t != nil {
			t.Stop()
		}
	}
}

func (sa *SA) fire(flag uint32, kind EventKind) {
	if sa.flags.Or(flag)&flag != 0 {
		return
	}
	if sa.onEvent != nil {
		sa.onEvent(Event{SPI: sa.spi, Dir: sa.dir, Kind: kind})
	}
}

func (sa *SA) account(n int) {
	sa.ctr.Packets.Add(1)
	sa.ctr.Bytes.Add(uint64(n))
	if sa.soft.Bytes == 0 && sa.hard.Bytes == 0 {
		return
	}
	total := sa.lifeBytes.Add(uint64(n))
	if sa.soft.Bytes != 0 && total >= sa.soft.Bytes {
		sa.fire(flagSoftBytes, EventSoftBytes)
	}
	if sa.hard.Bytes != 0 && total >= sa.hard.Bytes {
		sa.fire(flagHardBytes, EventHardBytes)
	}
}

// padLen is the minimal padding for n payload bytes (RFC 4303 section 2.4:
// payload, padding, pad length and next header end on the cipher's block
// size and on a 4-byte boundary).
func (sa *SA) padLen(n int) int {
	bs := sa.blockSize
	return (bs - (n+2)%bs) % bs
}

// Seal encrypts the payload buf[off:off+n] in place as one ESP packet with
// next header next. It writes the ESP header and IV into buf[off-Headroom():off]
// and the trailer and ICV after the payload, and returns the packet, a
// subslice of buf. buf must have len >= off+n+Tailroom(). sc supplies the
// IV randomness and scratch space; use one Scratch per goroutine.
func (sa *SA) Seal(sc *Scratch, buf []byte, off, n int, next Proto) ([]byte, error) {
	if sa.dir != Outbound {
		return nil, ErrWrongDir
	}
	if sa.flags.Load()&flagDead != 0 {
		sa.ctr.Expired.Add(1)
		return nil, ErrExpired
	}
	start := off - HeaderLen - sa.ivLen
	pad := sa.padLen(n)
	if start < 0 || n < 0 || off+n+pad+2+int(sa.icvLen.Load()) > len(buf) {
		return nil, ErrShortBuffer
	}
	seq := sa.seq.Add(1)
	if !sa.esn && seq > math.MaxUint32 || seq == 0 {
		sa.seq.Store(math.MaxUint64 >> 1) // stay exhausted
		sa.fire(flagSeqExhausted, EventSeqExhausted)
		sa.ctr.Expired.Add(1)
		return nil, ErrSeqExhausted
	}
	if !sa.esn && seq >= seqSoftMark {
		sa.fire(flagSeqSoft, EventSeqSoft)
	}
	iv := buf[start+HeaderLen : off]
	if sa.aead != nil {
		// RFC 4106 section 3.1: the IV must never repeat under a key; the
		// sequence counter gives exactly that.
		binary.BigEndian.PutUint64(iv, seq)
	} else if sa.ivLen > 0 {
		sc.rng.Read(iv)
	}
	pkt := sa.sealIV(sc, buf, start, n, pad, next, seq)
	sa.account(n)
	return pkt, nil
}

// SealUDPEncap is Seal followed by the RFC 3948 UDP header (srcPort ->
// dstPort, checksum zero) written in front of the ESP header in the same
// buffer, for paths that build whole datagrams (sockets add this header
// themselves). buf needs Headroom()+UDPHeaderLen bytes before off.
func (sa *SA) SealUDPEncap(sc *Scratch, buf []byte, off, n int, next Proto, srcPort, dstPort uint16) ([]byte, error) {
	if off < sa.Headroom()+UDPHeaderLen {
		return nil, ErrShortBuffer
	}
	pkt, err := sa.Seal(sc, buf, off, n, next)
	if err != nil {
		return nil, err
	}
	start := off - sa.Headroom() - UDPHeaderLen
	PutUDPEncap(buf[start:], srcPort, dstPort, len(pkt))
	return buf[start : start+UDPHeaderLen+len(pkt)], nil
}

// sealIV finishes Seal once the IV is in place at buf[start+8:]. Tests
// call it with published IVs.
func (sa *SA) sealIV(sc *Scratch, buf []byte, start, n, pad int, next Proto, seq uint64) []byte {
	hdr := HeaderLen + sa.ivLen
	off := start + hdr
	binary.BigEndian.PutUint32(buf[start:], sa.spi)
	binary.BigEndian.PutUint32(buf[start+4:], uint32(seq))
	end := off + n
	for i := 1; i <= pad; i++ {
		buf[end] = byte(i)
		end++
	}
	buf[end] = byte(pad)
	buf[end+1] = byte(next)
	end += 2
	if sa.aead != nil {
		nonce := sc.nonce[:]
		copy(nonce, sa.salt[:])
		copy(nonce[4:], buf[start+HeaderLen:off])
		ct := sa.aead.Seal(buf[off:off], nonce, buf[off:end], sa.aad(sc, buf[start:], seq))
		return buf[start : off+len(ct)]
	}
	if sa.block != nil {
		m := sa.cbcPool.Get().(cbcMode)
		m.SetIV(buf[start+HeaderLen : off])
		m.CryptBlocks(buf[off:end], buf[off:end])
		sa.cbcPool.Put(m)
	}
	if sa.hashNew == nil {
		return buf[start:end]
	}
	icv := int(sa.icvLen.Load())
	h := sa.macPool.Get().(hash.Hash)
	sum := sa.mac(sc, h, buf[start:end], seq)
	sa.macPool.Put(h)
	copy(buf[end:end+icv], sum)
	return buf[start : end+icv]
}

// aad is the GCM additional data: SPI || sequence number, 32 or 64 bits
// (RFC 4106 section 5).
func (sa *SA) aad(sc *Scratch, hdr []byte, seq uint64) []byte {
	if !sa.esn {
		return hdr[:HeaderLen]
	}
	a := sc.aad[:12]
	copy(a, hdr[:4])
	binary.BigEndian.PutUint64(a[4:], seq)
	return a
}

// mac computes the HMAC of data (and the high sequence bits with ESN, RFC
// 4303 section 2.2.1, which are authenticated but not sent) into sc.
func (sa *SA) mac(sc *Scratch, h hash.Hash, data []byte, seq uint64) []byte {
	h.Reset()
	h.Write(data)
	if sa.esn {
		binary.BigEndian.PutUint32(sc.seqHi[:], uint32(seq>>32))
		h.Write(sc.seqHi[:])
	}
	return h.Sum(sc.sum[:0])
}

// Open authenticates and decrypts the ESP packet pkt (starting at the SPI)
// in place and returns the payload (a subslice of pkt) and its next
// header. Checks run in RFC 4303 section 3.4 order: length, replay,
// integrity (constant time), decryption, padding; the replay window moves
// only after integrity passed. Errors are the package's sentinels, and the
// SA's drop counters are updated.
func (sa *SA) Open(sc *Scratch, pkt []byte) ([]byte, Proto, error) {
	if sa.dir != Inbound {
		return nil, 0, ErrWrongDir
	}
	if sa.flags.Load()&flagDead != 0 {
		sa.ctr.Expired.Add(1)
		return nil, 0, ErrExpired
	}
	hdr := HeaderLen + sa.ivLen
	icv := int(sa.icvLen.Load())
	if len(pkt) < hdr+2+icv {
		sa.ctr.Malformed.Add(1)
		return nil, 0, ErrShortPacket
	}
	if binary.BigEndian.Uint32(pkt) != sa.spi {
		sa.ctr.Malformed.Add(1)
		return nil, 0, ErrSPIMismatch
	}
	seq, ok := sa.replay.infer(binary.BigEndian.Uint32(pkt[4:]), sa.esn)
	if !ok || !sa.replay.check(seq) {
		sa.ctr.Replay.Add(1)
		return nil, 0, ErrReplay
	}
	var pt []byte
	if sa.aead != nil {
		nonce := sc.nonce[:]
		copy(nonce, sa.salt[:])
		copy(nonce[4:], pkt[HeaderLen:hdr])
		ct := pkt[hdr:]
		var err error
		if pt, err = sa.aead.Open(ct[:0], nonce, ct, sa.aad(sc, pkt, seq)); err != nil {
			sa.ctr.Integrity.Add(1)
			return nil, 0, ErrIntegrity
		}
	} else {
		if sa.hashNew != nil {
			var err error
			if icv, err = sa.verify(sc, pkt, seq, icv); err != nil {
				return nil, 0, err
			}
		}
		pt = pkt[hdr : len(pkt)-icv]
		if len(pt)%sa.blockSize != 0 || len(pt) < 2 {
			sa.ctr.Malformed.Add(1)
			return nil, 0, ErrMalformed
		}
		if sa.block != nil {
			sa.inCBC.SetIV(pkt[HeaderLen:hdr])
			sa.inCBC.CryptBlocks(pt, pt)
		}
	}
	pad := int(pt[len(pt)-2])
	next := Proto(pt[len(pt)-1])
	if pad+2 > len(pt) {
		sa.ctr.Malformed.Add(1)
		return nil, 0, ErrBadPadding
	}
	payload := pt[:len(pt)-2-pad]
	padding := pt[len(payload) : len(pt)-2]
	bad := 0
	for i, b := range padding {
		bad |= int(b ^ byte(i+1))
	}
	if bad != 0 {
		sa.ctr.Malformed.Add(1)
		return nil, 0, ErrBadPadding
	}
	sa.replay.update(seq)
	sa.account(len(payload))
	return payload, next, nil
}

// verify checks the HMAC ICV and returns the ICV length in use. It
// implements the SHA2-256/96 detection of ICV96Auto.
func (sa *SA) verify(sc *Scratch, pkt []byte, seq uint64, icv int) (int, error) {
	n := len(pkt) - icv
	sum := sa.mac(sc, sa.inMAC, pkt[:n], seq)
	if subtle.ConstantTimeCompare(sum[:icv], pkt[n:]) == 1 {
		if icv == sa.fullICV {
			sa.fullSeen = true
		}
		return icv, nil
	}
	if sa.auth == AuthHMACSHA256 && sa.mode == ICV96Auto && icv == sa.fullICV && !sa.fullSeen {
		n = len(pkt) - 12
		sum = sa.mac(sc, sa.inMAC, pkt[:n], seq)
		if subtle.ConstantTimeCompare(sum[:12], pkt[n:]) == 1 {
			sa.icvLen.Store(12)
			sa.ctr.ICV96.Store(1)
			sa.fire(flagICV96, EventICV96Detected)
			return 12, nil
		}
	}
	sa.ctr.Integrity.Add(1)
	return 0, ErrIntegrity
}
