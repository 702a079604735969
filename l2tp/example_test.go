package l2tp_test

import (
	"fmt"
	"log/slog"

	"github.com/l2tpsecd/l2tpsecd/internal/clock"
	"github.com/l2tpsecd/l2tpsecd/l2tp"
)

// saKey is what a server might use as the Peer: the inbound SPI of the ESP
// SA the datagram arrived in (never the outer address).
type saKey struct{ spi uint32 }

type espSender struct{}

func (espSender) SendL2TP(peer l2tp.Peer, dstPort uint16, datagram []byte) {
	// Encrypt datagram into the outbound SA paired with peer and send it
	// to UDP dstPort of the client. Do not keep datagram.
}

type pppGlue struct{}

func (pppGlue) SessionUp(s *l2tp.Session) {
	// Start the PPP server for this call; keep its state on the session.
	s.SetUserData("ppp state")
}
func (pppGlue) SessionData(s *l2tp.Session, frame []byte) {
	// frame starts with the PPP protocol field; hand it to PPP.
}
func (pppGlue) SessionDown(s *l2tp.Session, c l2tp.Cause) {
	// Stop PPP, free the address, audit-log c.Reason.
}
func (pppGlue) TunnelDown(t *l2tp.Tunnel, c l2tp.Cause) {}

func Example() {
	lns, err := l2tp.NewEndpoint(l2tp.Config{HostName: "vpn.example"}, clock.Real{}, slog.Default(), espSender{}, pppGlue{})
	if err != nil {
		panic(err)
	}
	// For every datagram that ESP decrypted to UDP port 1701:
	err = lns.Input(saKey{spi: 0x1234}, 1701, []byte{0xc8, 0x02, 0x00, 0x0c, 0, 0, 0, 0, 0, 0, 0, 0})
	fmt.Println(err)
	// Output: l2tp: unknown tunnel
}
