package lab

import (
	"context"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"testing"
	"time"
)

// The Linux reference server sits on the internet segment beside the
// server namespace, with its own public address and PPP addresses outside
// the lab's LAN.
var (
	linuxServerAddr  = netip.MustParseAddr("198.51.100.3")
	linuxServerLocal = netip.MustParseAddr("10.99.2.1")
	linuxServerPool  = [2]netip.Addr{netip.MustParseAddr("10.99.2.10"), netip.MustParseAddr("10.99.2.99")}
)

// LinuxServerConfig sets up the Linux reference server.
type LinuxServerConfig struct {
	PSK      string
	User     string
	Password string
	// Cert switches IPsec to certificates: the server's certificate and
	// key, and the CA that signed the clients' certificates.
	Cert *CertAuth
}

// LinuxServer is the classic Linux L2TP/IPsec server — strongSwan (IKEv1
// responder, kernel ESP in transport mode) + xl2tpd (LNS) + pppd — in a
// User-Mode Linux guest on the internet segment. Unlike SoftEther it uses
// raw ESP when there is no NAT, and it works with Libreswan clients; like
// every kernel-XFRM stack it cannot serve several clients behind one NAT
// (their SAs share one transport-mode selector).
type LinuxServer struct {
	Guest *Guest
	// Addr is its public address (198.51.100.3).
	Addr netip.Addr
	// Local is its own PPP address, the address clients ping and run
	// iperf3 against (iperf3 servers listen on 5201..5204).
	Local netip.Addr
	// PoolFirst and PoolLast bound the addresses it gives clients.
	PoolFirst, PoolLast netip.Addr
}

// StartLinuxServer boots and configures the Linux reference server. Dial it
// with ClientConfig{Server: s.Addr, Routes: []netip.Prefix{}} and ping
// s.Local.
func (l *Lab) StartLinuxServer(t testing.TB, cfg LinuxServerConfig) *LinuxServer {
	t.Helper()
	image := Image(t, StrongSwan)
	seg := segment{ns: l.nsInet, bridge: l.name("bw"), addr: netip.PrefixFrom(linuxServerAddr, wanPrefix.Bits()), gw: inetWAN}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	g, err := l.bootGuest(ctx, image, StrongSwan, seg, 0)
	if err != nil {
		t.Fatalf("Linux reference server: %v", err)
	}
	var script []string
	files, err := linuxServerFiles(cfg)
	if err != nil {
		t.Fatalf("Linux reference server: %v", err)
	}
	for _, f := range files {
		script = append(script, g.stageFile(f.path, f.data, f.perm)+" || exit 1")
	}
	script = append(script,
		"rm -f /lab/files/*",
		"ipsec start",
		"setsid xl2tpd -D -c /etc/xl2tpd/xl2tpd.conf >>/lab/log/xl2tpd-server.log 2>&1 </dev/null &",
	)
	for i := range iperfPorts {
		script = append(script, fmt.Sprintf("setsid iperf3 -s -p %d >/dev/null 2>&1 </dev/null &", 5201+i))
	}
	script = append(script,
		`for i in $(seq 1 300); do [ -S /var/run/charon.ctl ] && ipsec statusall 2>/dev/null | grep -q '^ *l2tp:' && [ -p /run/xl2tpd/l2tp-control ] && exit 0; sleep 0.2; done`,
		"echo 'charon or xl2tpd did not start'; exit 1")
	if out, err := g.Run(ctx, strings.Join(script, "\n")); err != nil {
		t.Fatalf("Linux reference server: %v\n%s", err, out)
	}
	return &LinuxServer{Guest: g, Addr: linuxServerAddr, Local: linuxServerLocal,
		PoolFirst: linuxServerPool[0], PoolLast: linuxServerPool[1]}
}

func linuxServerFiles(cfg LinuxServerConfig) ([]guestFile, error) {
	auth := "authby=secret"
	secrets := ": PSK " + strconv.Quote(cfg.PSK) + "\n"
	var certFiles []guestFile
	if cfg.Cert != nil {
		// leftid defaults to the certificate's subject DN.
		auth = "authby=pubkey\n\tleftcert=server.pem"
		var err error
		var kind string
		certFiles, kind, err = certGuestFiles(cfg.Cert, "server")
		if err != nil {
			return nil, err
		}
		secrets = ": " + kind + " server.key\n"
	}
	ipsecConf := `config setup
	uniqueids=no

conn l2tp
	keyexchange=ikev1
	` + auth + `
	type=transport
	left=` + linuxServerAddr.String() + `
	leftprotoport=17/1701
	right=%any
	rightprotoport=17/%any
	ike=aes256-sha1-modp2048,aes128-sha1-modp2048,aes256-sha256-modp2048,aes256-sha1-modp1024,3des-sha1-modp1024
	esp=aes256-sha1,aes128-sha1,3des-sha1,aes256-sha1-modp2048,aes128-sha1-modp2048
	rekey=no
	auto=add
`
	xl2tpd := `[global]
port = 1701
listen-addr = ` + linuxServerAddr.String() + `

[lns default]
ip range = ` + linuxServerPool[0].String() + `-` + linuxServerPool[1].String() + `
local ip = ` + linuxServerLocal.String() + `
require authentication = yes
name = lab-reference
pppoptfile = /etc/ppp/options.lns
length bit = yes
`
	// auth: the peer must authenticate, with whichever of MS-CHAPv2,
	// CHAP-MD5 or PAP it accepts (secrets exist for all).
	ppp := strings.Join([]string{"auth", "mtu 1280", "mru 1280", "noccp", "nodefaultroute",
		"lcp-echo-interval 0", "debug", "logfile /lab/log/pppd-server.log"}, "\n") + "\n"
	secret := strconv.Quote(cfg.User) + " * " + strconv.Quote(cfg.Password) + " *\n"
	return append(certFiles, []guestFile{
		{"/etc/ipsec.conf", []byte(ipsecConf), 0o644},
		{"/etc/ipsec.secrets", []byte(secrets), 0o600},
		{"/etc/strongswan.d/zz-lab.conf", []byte(strings.ReplaceAll(strongSwanLogConf, "/lab/log/charon.log", "/lab/log/charon-server.log")), 0o644},
		{"/etc/xl2tpd/xl2tpd.conf", []byte(xl2tpd), 0o644},
		{"/etc/ppp/options.lns", []byte(ppp), 0o644},
		{"/etc/ppp/chap-secrets", []byte(secret), 0o600},
		{"/etc/ppp/pap-secrets", []byte(secret), 0o600},
	}...), nil
}
