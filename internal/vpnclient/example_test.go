package vpnclient_test

import (
	"context"
	"fmt"
	"net/netip"
	"time"

	"github.com/l2tpsecd/l2tpsecd/internal/vpnclient"
)

// Dial one client, ping the gateway through the tunnel, hang up. (Not run:
// it needs a concentrator at 198.51.100.1.)
func ExampleDial() {
	replies := make(chan struct{}, 1)
	cfg := vpnclient.Config{
		Server: netip.MustParseAddr("198.51.100.1"),
		PSK:    []byte("the pre-shared key"),
		User:   "alice", Password: "her password",
		OnIP: func(pkt []byte) {
			var p vpnclient.Packet
			if vpnclient.ParsePacket(pkt, &p) == nil && p.Type == vpnclient.ICMPEchoReply {
				replies <- struct{}{}
			}
		},
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, timings, err := vpnclient.Dial(ctx, cfg)
	if err != nil {
		fmt.Println(err) // e.g. "vpnclient: ppp_auth failed (ppp_auth_rejected): ..."
		return
	}
	fmt.Println("address", c.Addr(), "in", timings.Total, "of which phase 1", timings.Phase(vpnclient.PhaseIKE1))
	ping := vpnclient.AppendICMPEcho(nil, c.Addr(), netip.MustParseAddr("10.10.0.1"), vpnclient.ICMPEchoRequest, 1, 1, 0, 84)
	if err := c.SendIP(ping); err == nil {
		<-replies
	}
	_ = c.Hangup(ctx)
}
