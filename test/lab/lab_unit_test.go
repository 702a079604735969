package lab

import (
	"net/netip"
	"os"
	"slices"
	"strings"
	"testing"
)

func TestStringers(t *testing.T) {
	for _, c := range []struct {
		got, want string
	}{
		{StrongSwan.String(), "strongswan"},
		{Libreswan.String(), "libreswan"},
		{Stack(9).String(), "Stack(9)"},
		{MSCHAPv2.String(), "MS-CHAPv2"},
		{PAP.String(), "PAP"},
		{CHAP.String(), "CHAP-MD5"},
		{PPPAuth(7).String(), "PPPAuth(7)"},
	} {
		if c.got != c.want {
			t.Errorf("got %q, want %q", c.got, c.want)
		}
	}
}

func TestPackages(t *testing.T) {
	ss := Packages(StrongSwan)
	for _, p := range []string{"strongswan-starter", "strongswan-charon", "strongswan-swanctl",
		"libstrongswan-standard-plugins", "libstrongswan-extra-plugins", "libcharon-extra-plugins", "xl2tpd", "ppp", "iperf3",
		"iproute2", "iputils-ping", "tcpdump", "kmod", "procps", "nftables"} {
		if !slices.Contains(ss, p) {
			t.Errorf("strongSwan image lacks %s", p)
		}
	}
	ls := Packages(Libreswan)
	if !slices.Contains(ls, "libreswan") || !slices.Contains(ls, "xl2tpd") {
		t.Errorf("Libreswan image packages %v", ls)
	}
	for _, p := range ls {
		if strings.HasPrefix(p, "strongswan") {
			t.Errorf("Libreswan image has %s, whose ipsec conflicts with Libreswan's", p)
		}
	}
}

// The cache key must change whenever what goes into the image changes.
func TestImageKey(t *testing.T) {
	a, b := ImageKey(StrongSwan), ImageKey(Libreswan)
	if a == b {
		t.Fatalf("both stacks share key %s", a)
	}
	if ImageKey(StrongSwan) != a {
		t.Fatalf("key is not stable")
	}
	saved := commonPackages
	t.Cleanup(func() { commonPackages = saved })
	commonPackages = append(append([]string(nil), saved...), "strace")
	if ImageKey(StrongSwan) == a {
		t.Errorf("adding a package kept the key %s", a)
	}
	commonPackages = saved
	savedInit := initScript
	t.Cleanup(func() { initScript = savedInit })
	initScript = append(append([]byte(nil), savedInit...), '\n')
	if ImageKey(StrongSwan) == a {
		t.Errorf("changing /init kept the key %s", a)
	}
}

func TestParseSources(t *testing.T) {
	deb822 := `Types: deb
# http://snapshot.example/archive
URIs: http://mirror.example/debian
Suites: bookworm bookworm-updates
Components: main

Types: deb-src
URIs: http://src.example/debian
Suites: bookworm

Types: deb
URIs: http://mirror.example/debian-security
Suites: bookworm-security
Components: main
`
	got := parseSources("debian.sources", deb822)
	if len(got) != 2 || got[0].uri != "http://mirror.example/debian" ||
		!slices.Equal(got[0].suites, []string{"bookworm", "bookworm-updates"}) ||
		got[1].uri != "http://mirror.example/debian-security" {
		t.Errorf("deb822: %+v", got)
	}
	oneLine := "# comment\ndeb [arch=amd64 signed-by=/k.gpg] http://m.example/debian bookworm main\ndeb-src http://x bookworm main\ndeb http://n.example/d bookworm-security main\n"
	got = parseSources("sources.list", oneLine)
	if len(got) != 2 || got[0].uri != "http://m.example/debian" || got[0].suites[0] != "bookworm" ||
		got[1].uri != "http://n.example/d" {
		t.Errorf("one-line: %+v", got)
	}
}

func TestMirrorLines(t *testing.T) {
	lines := MirrorLines()
	if len(lines) < 2 || !strings.HasPrefix(lines[0], "deb ") || !strings.HasSuffix(lines[0], " bookworm main") {
		t.Errorf("MirrorLines() = %q", lines)
	}
}

func TestPPPOptionsRefuseAllButOne(t *testing.T) {
	all := map[PPPAuth]string{PAP: "refuse-pap", CHAP: "refuse-chap", MSCHAPv2: "refuse-mschap-v2"}
	for method, own := range all {
		opts, err := pppOptions(ClientConfig{PPP: method, User: "u", Password: "p w"})
		if err != nil {
			t.Fatal(err)
		}
		lines := strings.Split(opts, "\n")
		if slices.Contains(lines, own) {
			t.Errorf("%v: refuses itself:\n%s", method, opts)
		}
		for other, opt := range all {
			if other != method && !slices.Contains(lines, opt) {
				t.Errorf("%v: does not refuse %v:\n%s", method, other, opts)
			}
		}
		if !slices.Contains(lines, "refuse-eap") || !slices.Contains(lines, `password "p w"`) {
			t.Errorf("%v: options:\n%s", method, opts)
		}
	}
	if _, err := pppOptions(ClientConfig{PPP: PPPAuth(42)}); err == nil {
		t.Errorf("unknown PPP method accepted")
	}
}

func TestStrongSwanConf(t *testing.T) {
	l := &Lab{Server: Server{PublicAddr: serverPublic, LAN: lanPrefix}}
	cfg := l.withDefaults(ClientConfig{PSK: "k", IKE: "3des-sha1-modp1024!", IPsecExtra: []string{"sha256_96=yes"}})
	conf := strongSwanConf(cfg)
	for _, want := range []string{"keyexchange=ikev1", "authby=secret", "type=transport", "leftprotoport=17/1701",
		"rightprotoport=17/1701", "right=198.51.100.1", "rightid=%any", "ike=3des-sha1-modp1024!", "esp=aes256-sha1!",
		"sha256_96=yes", "rekey=no", "keyingtries=1"} {
		if !strings.Contains(conf, "\t"+want+"\n") {
			t.Errorf("ipsec.conf lacks %q:\n%s", want, conf)
		}
	}
	cfg.Cert = &CertAuth{}
	conf = strongSwanConf(cfg)
	if !strings.Contains(conf, "\tauthby=pubkey\n") || !strings.Contains(conf, "\tleftcert=client.pem\n") || strings.Contains(conf, "authby=secret") {
		t.Errorf("certificate conf:\n%s", conf)
	}
}

func TestClientFilesCertificates(t *testing.T) {
	dir := t.TempDir()
	write := func(name, data string) string {
		p := dir + "/" + name
		if err := os.WriteFile(p, []byte(data), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	cert := write("c.pem", "-----BEGIN CERTIFICATE-----\n")
	key := write("k.pem", "-----BEGIN EC PRIVATE KEY-----\n")
	ca := write("ca.pem", "-----BEGIN CERTIFICATE-----\nca\n")
	l := &Lab{Server: Server{PublicAddr: serverPublic, LAN: lanPrefix}}
	files, err := clientFiles(l.withDefaults(ClientConfig{Cert: &CertAuth{CertFile: cert, KeyFile: key, CAFile: ca}}))
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, f := range files {
		got[f.path] = string(f.data)
	}
	if got["/etc/ipsec.secrets"] != ": ECDSA client.key\n" {
		t.Errorf("ipsec.secrets = %q", got["/etc/ipsec.secrets"])
	}
	if !strings.Contains(got["/etc/ipsec.d/cacerts/ca.pem"], "ca") || got["/etc/ipsec.d/certs/client.pem"] == "" {
		t.Errorf("certificates not installed: %v", got)
	}
	if _, err := clientFiles(l.withDefaults(ClientConfig{Stack: Libreswan, Cert: &CertAuth{}})); err == nil {
		t.Errorf("Libreswan with certificates should be unsupported for now")
	}
}

func TestLibreswanConf(t *testing.T) {
	l := &Lab{Server: Server{PublicAddr: serverPublic, LAN: lanPrefix}}
	conf := libreswanConf(l.withDefaults(ClientConfig{Stack: Libreswan, PSK: "k"}))
	for _, want := range []string{"ikev1-policy=accept", "ikev2=no", "authby=secret", "type=transport",
		"ike=aes256-sha1-modp2048", "phase2alg=aes256-sha1"} {
		if !strings.Contains(conf, "\t"+want+"\n") {
			t.Errorf("ipsec.conf lacks %q:\n%s", want, conf)
		}
	}
	if strings.Contains(conf, "!") {
		t.Errorf("Libreswan proposals keep strongSwan's '!':\n%s", conf)
	}
}

func TestWithDefaults(t *testing.T) {
	l := &Lab{Server: Server{PublicAddr: serverPublic, LAN: lanPrefix}}
	cfg := l.withDefaults(ClientConfig{})
	if cfg.Stack != StrongSwan || cfg.Server != serverPublic || cfg.PPP != MSCHAPv2 ||
		!slices.Equal(cfg.Routes, []netip.Prefix{lanPrefix}) {
		t.Errorf("defaults: %+v", cfg)
	}
	cfg = l.withDefaults(ClientConfig{Routes: []netip.Prefix{}})
	if len(cfg.Routes) != 0 {
		t.Errorf("an explicit empty route list was replaced: %v", cfg.Routes)
	}
}

func TestParseIperf3(t *testing.T) {
	out := `{"start":{},"intervals":[],"end":{"sum_sent":{"bits_per_second":2.5e8},"sum_received":{"bits_per_second":123456789.0}}}`
	got, err := parseIperf3(out)
	if err != nil || got < 123.45 || got > 123.46 {
		t.Errorf("parseIperf3 = %v, %v; want 123.46", got, err)
	}
	if _, err := parseIperf3(`{"start":{},"end":{},"error":"unable to connect to server: Connection refused"}`); err == nil ||
		!strings.Contains(err.Error(), "Connection refused") {
		t.Errorf("iperf3 error not reported: %v", err)
	}
	if _, err := parseIperf3("iperf3: error - the server is busy"); err == nil {
		t.Errorf("non-JSON accepted")
	}
}

func TestSoftEtherBatch(t *testing.T) {
	b := softEtherBatch(SoftEtherConfig{PSK: "psk1", User: "alice", Password: "pw"}, "lb0000-l0")
	joined := strings.Join(b, "\n")
	for _, want := range []string{"BridgeCreate LAB /DEVICE:lb0000-l0 /TAP:no", "/PSK:psk1 ", "UserCreate alice ",
		"UserPasswordSet alice /PASSWORD:pw", "NatDisable", "SecureNatEnable", "KeepDisable", "VpnAzureSetEnable no"} {
		if !strings.Contains(joined, want) {
			t.Errorf("batch lacks %q:\n%s", want, joined)
		}
	}
	// SecureNAT's DHCP range must sit in the LAN and outside the gateway
	// and LAN host addresses.
	lo, hi := SoftEtherPool()
	for _, a := range []netip.Addr{lo, hi} {
		if !lanPrefix.Contains(a) || a == lanGW || a == lanHost {
			t.Errorf("pool address %v", a)
		}
	}
}

func TestMissingNamesRoot(t *testing.T) {
	miss := strings.Join(Missing(), "; ")
	if notRoot := os.Geteuid() != 0; notRoot != strings.Contains(miss, "not root") {
		t.Errorf("euid %d, Missing() = %q", os.Geteuid(), miss)
	}
}

func TestTailLines(t *testing.T) {
	if got := tailLines("a\nb\nc\n", 2); got != "... (1 lines cut)\nb\nc" {
		t.Errorf("tailLines = %q", got)
	}
	if got := tailLines("a\nb", 5); got != "a\nb" {
		t.Errorf("tailLines = %q", got)
	}
}

func TestShellQuote(t *testing.T) {
	if got := shellQuote("it's"); got != `'it'\''s'` {
		t.Errorf("shellQuote = %s", got)
	}
}

func TestAddressPlan(t *testing.T) {
	direct := netip.PrefixFrom(directGW, directBits).Masked()
	nat := netip.PrefixFrom(natGW, directBits).Masked()
	if direct.Overlaps(nat) {
		t.Errorf("direct %v and NAT %v segments overlap", direct, nat)
	}
	last := natFirst
	for range maxClientsPerSide - 1 {
		last = last.Next()
	}
	if !nat.Contains(natFirst) || !nat.Contains(last) {
		t.Errorf("NAT clients %v..%v leave %v", natFirst, last, nat)
	}
	last = directFirst
	for range maxClientsPerSide - 1 {
		last = last.Next()
	}
	if !direct.Contains(last) {
		t.Errorf("direct clients reach %v outside %v", last, direct)
	}
	for _, p := range []netip.Prefix{direct, nat} {
		if !netip.MustParsePrefix("203.0.113.0/24").Contains(p.Addr()) {
			t.Errorf("client segment %v outside 203.0.113.0/24", p)
		}
	}
	if lanPrefix.Overlaps(poolPrefix) || !wanPrefix.Contains(serverPublic) || !wanPrefix.Contains(natOutside) {
		t.Errorf("address plan inconsistent")
	}
}

func FuzzParseSources(f *testing.F) {
	f.Add("x.sources", "Types: deb\nURIs: http://a\nSuites: bookworm\n")
	f.Add("sources.list", "deb [trusted=yes] http://a bookworm main\n")
	f.Add("sources.list", "deb [unterminated")
	f.Fuzz(func(t *testing.T, name, data string) {
		for _, s := range parseSources(name, data) {
			if s.uri == "" {
				t.Errorf("empty URI from %q", data)
			}
		}
	})
}

func FuzzParseIperf3(f *testing.F) {
	f.Add(`{"end":{"sum_received":{"bits_per_second":1e6}}}`)
	f.Add(`{"error":"x"}`)
	f.Fuzz(func(t *testing.T, out string) {
		v, err := parseIperf3(out)
		if err != nil && v != 0 {
			t.Errorf("value %v with error %v", v, err)
		}
	})
}

// host-packages.txt is what CI installs; it must name the packages of every
// host program the lab runs.
func TestHostPackages(t *testing.T) {
	data, err := os.ReadFile("host-packages.txt")
	if err != nil {
		t.Fatal(err)
	}
	pk := strings.Fields(string(data))
	for _, want := range []string{"user-mode-linux", "mmdebstrap", "softether-vpnserver", "softether-vpncmd",
		"iproute2", "nftables", "ethtool", "cpio", "iperf3", "tcpdump", "util-linux"} {
		if !slices.Contains(pk, want) {
			t.Errorf("host-packages.txt lacks %s", want)
		}
	}
}
