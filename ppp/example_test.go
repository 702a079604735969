package ppp_test

import (
	"fmt"
	"net/netip"
	"time"

	"github.com/l2tpsecd/l2tpsecd/internal/clock"
	"github.com/l2tpsecd/l2tpsecd/ppp"
)

// events prints what a server would act on.
type events struct{ name string }

func (e events) LinkUp(i ppp.LinkInfo) {
	fmt.Printf("%s: LCP up, peer MRU %d, auth %s\n", e.name, i.PeerMRU, i.Auth)
}
func (e events) AuthDone(m ppp.AuthMethod, user string, r *ppp.AuthResult) {
	fmt.Printf("%s: %s user %q accepted=%v\n", e.name, m, user, r.Accept)
}
func (e events) NetworkUp(a netip.Addr) { fmt.Printf("%s: IPCP up, %s\n", e.name, a) }
func (e events) NetworkDown()           {}
func (e events) Down(r ppp.Reason)      { fmt.Printf("%s: down (%s)\n", e.name, r) }
func (e events) IP(pkt []byte)          {}

// staticPool hands out one address.
type staticPool struct{}

func (staticPool) Acquire(string, *ppp.AuthResult) (netip.Addr, error) {
	return netip.MustParseAddr("192.168.77.10"), nil
}
func (staticPool) Release(netip.Addr) {}

// Example wires a server Session to a test Client in memory, the way the
// server wires a Session to an L2TP session: frames from the L2TP session
// go to Input, Output goes back down, events go to the server.
func Example() {
	clk := clock.NewFake(time.Unix(0, 0))
	var toServer, toClient [][]byte
	queue := func(q *[][]byte) func([]byte, int) {
		return func(buf []byte, start int) { *q = append(*q, append([]byte(nil), buf[start:]...)) }
	}
	backend := ppp.AuthenticatorFunc(func(req *ppp.AuthRequest, done func(ppp.AuthResult)) {
		// A real back end (users file, RADIUS) answers asynchronously.
		resp, ok := ppp.VerifyMSCHAPv2(ppp.NTHash("pa55word"), req.Challenge, req.PeerChallenge, req.User, req.NTResponse)
		done(ppp.AuthResult{Accept: ok, AuthenticatorResponse: resp, Reason: "users file"})
	})
	srv := ppp.NewSession(ppp.Config{
		Output: queue(&toClient), Handler: events{"server"}, Clock: clk,
		AuthMethods:   []ppp.AuthMethod{ppp.AuthMSCHAPv2},
		Authenticator: backend, Addresses: staticPool{},
		LocalAddr: netip.MustParseAddr("192.168.77.1"),
		DNS:       [2]netip.Addr{netip.MustParseAddr("192.168.77.53")},
	})
	cli := ppp.NewClient(ppp.Config{
		Output: queue(&toServer), Handler: events{"client"}, Clock: clk,
		User: "alice", Password: "pa55word", WantDNS: true,
	})
	srv.Start()
	cli.Start()
	for len(toServer)+len(toClient) > 0 {
		in, out := toServer, toClient
		toServer, toClient = nil, nil
		for _, f := range in {
			_ = srv.Input(f)
		}
		for _, f := range out {
			_ = cli.Input(f)
		}
	}
	dns, _ := cli.DNS()
	fmt.Println("client DNS:", dns[0])
	// Output:
	// server: LCP up, peer MRU 1400, auth MS-CHAPv2
	// client: LCP up, peer MRU 1400, auth MS-CHAPv2
	// server: MS-CHAPv2 user "alice" accepted=true
	// client: MS-CHAPv2 user "alice" accepted=true
	// server: IPCP up, 192.168.77.10
	// client: IPCP up, 192.168.77.10
	// client DNS: 192.168.77.53
}
