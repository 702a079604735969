package server

import (
	"net"
	"os"
)

// sdNotify sends a state string ("READY=1", "STOPPING=1", "STATUS=...") to
// systemd when the daemon runs as a Type=notify unit; elsewhere it does
// nothing. The protocol is one datagram on the socket named by
// $NOTIFY_SOCKET (sd_notify(3)), small enough not to need libsystemd.
func sdNotify(state string) {
	path := os.Getenv("NOTIFY_SOCKET")
	if path == "" {
		return
	}
	if path[0] == '@' {
		path = "\x00" + path[1:]
	}
	c, err := net.DialUnix("unixgram", nil, &net.UnixAddr{Name: path, Net: "unixgram"})
	if err != nil {
		return
	}
	defer c.Close()
	c.Write([]byte(state))
}
