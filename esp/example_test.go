package esp_test

import (
	"fmt"
	"net/netip"
	"time"

	"github.com/l2tpsecd/l2tpsecd/esp"
)

// Two in-memory datapaths wired back to back: the "server" installs the
// SA pair Quick Mode produced, the "client" the mirror image, and L2TP
// (UDP 1701) flows through real ESP between them.
func ExampleNewMemoryPair() {
	serverAddr := netip.MustParseAddrPort("198.51.100.1:4500")
	clientAddr := netip.MustParseAddrPort("203.0.113.7:4500")
	got := make(chan string, 1)
	server, client := esp.NewMemoryPair(
		esp.MemoryConfig{Local: serverAddr, Hooks: esp.Hooks{
			DeliverUDP: func(h esp.Handle, src, dst uint16, payload []byte) {
				got <- fmt.Sprintf("SA %d: UDP %d -> %d %q", h, src, dst, payload)
			},
		}},
		esp.MemoryConfig{Local: clientAddr},
	)
	defer server.Close()
	defer client.Close()

	// Keys as IKE derived them (KEYMAT), one set per direction.
	toServer := esp.Config{SPI: 0xc0ffee01, Encr: esp.EncrAESCBC, EncKey: make([]byte, 32),
		Auth: esp.AuthHMACSHA1, AuthKey: make([]byte, 20), Hard: esp.Lifetime{Duration: time.Hour}}
	toClient := toServer
	toClient.SPI, toClient.EncKey = 0x0badf00d, append(make([]byte, 31), 1)

	if _, err := server.AddSA(esp.SAPair{In: toServer, Out: toClient, Encap: esp.EncapUDP, Peer: clientAddr}); err != nil {
		panic(err)
	}
	h, err := client.AddSA(esp.SAPair{In: toClient, Out: toServer, Encap: esp.EncapUDP, Peer: serverAddr})
	if err != nil {
		panic(err)
	}
	if err := client.SendUDP(h, 1701, 1701, []byte("SCCRQ")); err != nil {
		panic(err)
	}
	fmt.Println(<-got)
	// Output: SA 1: UDP 1701 -> 1701 "SCCRQ"
}
