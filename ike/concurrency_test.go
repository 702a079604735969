package ike

import (
	"fmt"
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/l2tpsecd/l2tpsecd/ike/isakmp"
	"github.com/l2tpsecd/l2tpsecd/internal/clock"
)

// directNet delivers synchronously from Send (which the engine calls
// without its lock), so several goroutines drive one server at once.
type directNet struct {
	mu    sync.Mutex
	hosts map[netip.Addr]*Engine
}

func (d *directNet) Send(pkt []byte, local, remote netip.AddrPort) error {
	d.mu.Lock()
	e := d.hosts[remote.Addr()]
	d.mu.Unlock()
	if e != nil {
		e.HandlePacket(append([]byte(nil), pkt...), remote, local)
	}
	return nil
}

// TestConcurrentClients has many clients negotiate with one server from
// several goroutines at once (run with -race).
func TestConcurrentClients(t *testing.T) {
	const workers, each = 6, 5
	net := &directNet{hosts: map[netip.Addr]*Engine{}}
	clk := clock.NewFake(t0)
	srvEv := &recorder{}
	srv := NewEngine(pskCfg("concurrent key"), net, srvEv, clk, nil, nil)
	net.hosts[serverAddr] = srv
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		addr := netip.MustParseAddr(fmt.Sprintf("203.0.113.%d", 100+w))
		ev := &recorder{}
		cli := NewEngine(Config{}, net, ev, clk, nil, nil)
		net.mu.Lock()
		net.hosts[addr] = cli
		net.mu.Unlock()
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < each; i++ {
				if _, err := cli.Dial(netip.AddrPortFrom(addr, uint16(500+i)), netip.AddrPortFrom(serverAddr, 500), DialConfig{
					PSK: []byte("concurrent key"), Phase2: Policy{}.Phase2Suites(isakmp.EncapTransport)[:1]}); err != nil {
					t.Error(err)
				}
			}
		}()
	}
	wg.Wait()
	srvEv.mu.Lock()
	defer srvEv.mu.Unlock()
	if len(srvEv.p2) != workers*each {
		t.Errorf("%d child SAs, want %d (failures %v %v)", len(srvEv.p2), workers*each, srvEv.p1fail, srvEv.p2fail)
	}
	if n := len(srv.ChildSAs()); n != workers*each {
		t.Errorf("%d child SAs listed", n)
	}
}

// gatedRand blocks a read once armed, so a test can act while the engine
// computes DH without its lock.
type gatedRand struct {
	mu       sync.Mutex
	armed    bool
	entered  chan struct{}
	released chan struct{}
}

func (g *gatedRand) Read(b []byte) (int, error) {
	g.mu.Lock()
	armed := g.armed
	g.armed = false
	g.mu.Unlock()
	if armed {
		close(g.entered)
		<-g.released
	}
	for i := range b {
		b[i] = byte(i*7 + 1)
	}
	return len(b), nil
}

// While the server computes DH for message 3 without its lock, a
// retransmitted message 3 is ignored and the half-open timeout may remove
// the SA; the computation then ends without a reply.
func TestSARemovedDuringDH(t *testing.T) {
	g := &gatedRand{entered: make(chan struct{}), released: make(chan struct{})}
	cfg := pskCfg("gated key")
	cfg.Rand = g
	p := newPair(t, cfg, false)
	var mm3 []byte
	p.net.drop = func(d datagram) bool {
		h, _, err := isakmp.ParseHeader(d.pkt)
		if err == nil && d.dst.Addr() == serverAddr && h.NextPayload == isakmp.PayloadKE {
			mm3 = d.pkt
			return true // delivered by hand below
		}
		return false
	}
	p.dial(t, DialConfig{PSK: []byte("gated key"), Phase1: []Phase1Suite{{Cipher: CipherAESCBC, KeyBits: 128, Hash: HashSHA1, Group: GroupMODP2048, Auth: isakmp.AuthPSK}}})
	if mm3 == nil {
		t.Fatal("no message 3")
	}
	g.mu.Lock()
	g.armed = true
	g.mu.Unlock()
	done := make(chan error)
	go func() {
		done <- p.srv.HandlePacket(mm3, netip.AddrPortFrom(serverAddr, 500), netip.AddrPortFrom(clientAddr, 500))
	}()
	<-g.entered
	if err := p.srv.HandlePacket(mm3, netip.AddrPortFrom(serverAddr, 500), netip.AddrPortFrom(clientAddr, 500)); err != nil {
		t.Errorf("retransmission during the computation: %v", err)
	}
	p.clk.Advance(31 * time.Second) // the half-open timeout (30 s) removes the SA meanwhile
	close(g.released)
	if err := <-done; err == nil {
		t.Error("a removed SA finished its DH without error")
	}
	p.net.mu.Lock()
	defer p.net.mu.Unlock()
	for _, d := range p.net.q {
		if d.src.Addr() == serverAddr {
			t.Errorf("the server answered: %x", d.pkt[:28])
		}
	}
	if len(p.srv.sas) != 0 || p.srv.nHalf != 0 {
		t.Errorf("SAs %d, half-open %d", len(p.srv.sas), p.srv.nHalf)
	}
}
