package vpnclient

import (
	"fmt"
	"net/netip"
	"sync"

	"github.com/l2tpsecd/l2tpsecd/esp"
)

// The ESP datapath binds its UDP sockets with SO_REUSEPORT, and Linux hands
// out an ephemeral port to a SO_REUSEPORT bind even when another
// SO_REUSEPORT socket of the same user already holds it: the two sockets
// then share the port and the kernel splits the server's datagrams between
// them by hash, so one client receives (and drops) the other's IKE and ESP.
// With a few hundred clients in one process such a collision is all but
// certain (the birthday bound over ~28000 ephemeral ports). espPorts
// remembers the ports this process's clients hold and rebinds on a clash.
// It is process-wide because the kernel's port space is: clients of two
// generators run by the same user could still clash.
var espPorts = &portSet{held: map[netip.AddrPort]bool{}}

// maxBindTries bounds the rebinds after clashes.
const maxBindTries = 16

type portSet struct {
	mu   sync.Mutex
	held map[netip.AddrPort]bool
}

// open starts a datapath on an ephemeral port that no other client of this
// process holds. Binding runs outside the lock so that many clients can
// start at once; only the check-and-claim is serialised.
func (p *portSet) open(cfg esp.UserspaceConfig) (*esp.Userspace, error) {
	if len(cfg.Listen) != 1 {
		return nil, fmt.Errorf("%w: %d ESP listen addresses, want 1", ErrBadConfig, len(cfg.Listen))
	}
	fixed := cfg.Listen[0].Port() != 0
	for i := 0; i < maxBindTries; i++ {
		if fixed && p.isHeld(cfg.Listen[0]) {
			// SO_REUSEPORT would let the bind succeed and share the port.
			return nil, fmt.Errorf("%w: %v", ErrPortInUse, cfg.Listen[0])
		}
		dp, err := esp.NewUserspace(cfg)
		if err != nil {
			return nil, err
		}
		a := dp.LocalAddrs()[0]
		p.mu.Lock()
		clash := p.held[a]
		if !clash {
			p.held[a] = true
		}
		p.mu.Unlock()
		if !clash {
			return dp, nil
		}
		_ = dp.Close()
	}
	return nil, fmt.Errorf("%w: every ephemeral port tried (%d) was", ErrPortInUse, maxBindTries)
}

func (p *portSet) isHeld(a netip.AddrPort) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.held[a]
}

// close stops the datapath and frees its port.
func (p *portSet) close(dp *esp.Userspace) {
	addrs := dp.LocalAddrs()
	_ = dp.Close()
	p.mu.Lock()
	for _, a := range addrs {
		delete(p.held, a)
	}
	p.mu.Unlock()
}
