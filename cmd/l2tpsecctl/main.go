// Command l2tpsecctl administers a running l2tpsecd over its control socket.
//
//	l2tpsecctl [-socket PATH] [-json] COMMAND [ARGS]
//
// Commands:
//
//	status                          the daemon: version, readiness, datapath, sessions
//	sessions                        every connected client
//	session ID|USER|ADDRESS         one client in detail
//	disconnect ID|USER|ADDRESS      end a session (IKE Delete, L2TP StopCCN)
//	sas                             IKE and ESP security associations
//	pools                           address pool usage
//	reload                          re-read the configuration (as SIGHUP)
//	trace ike|ppp|l2tp|all on|off [PEER]   negotiation traces, for one peer or all
//	nthash                          read a password on standard input, print its
//	                                NT hash for the users file (no daemon needed)
//
// Output is a table for people; -json prints the daemon's answer for
// scripts. Exit status: 0 success, 1 the daemon refused or failed, 2 usage.
package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/netip"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/l2tpsecd/l2tpsecd/auth"
	"github.com/l2tpsecd/l2tpsecd/server/control"
)

var stdin io.Reader = os.Stdin

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// ntHash prints the nt_hash value of the password on the first line of in.
func ntHash(in io.Reader, stdout, stderr io.Writer) int {
	line, err := bufio.NewReader(in).ReadString('\n')
	if err != nil && err != io.EOF {
		fmt.Fprintf(stderr, "l2tpsecctl: %v\n", err)
		return 1
	}
	pw := strings.TrimRight(line, "\r\n")
	if pw == "" {
		fmt.Fprintln(stderr, "l2tpsecctl: nthash: no password on standard input")
		return 2
	}
	fmt.Fprintln(stdout, auth.NTHashHex(pw))
	return 0
}

func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("l2tpsecctl", flag.ContinueOnError)
	fs.SetOutput(stderr)
	socket := fs.String("socket", "/run/l2tpsecd/control.sock", "the daemon's control `socket`")
	asJSON := fs.Bool("json", false, "print the answer as JSON")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: l2tpsecctl [-socket PATH] [-json] status|sessions|session X|disconnect X|sas|pools|reload|trace WHAT on|off [PEER]")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() == 1 && fs.Arg(0) == "nthash" {
		return ntHash(stdin, stdout, stderr)
	}
	req, err := parseCommand(fs.Args())
	if err != nil {
		fmt.Fprintf(stderr, "l2tpsecctl: %v\n", err)
		fs.Usage()
		return 2
	}
	resp, err := control.Call(*socket, req)
	if err != nil {
		fmt.Fprintf(stderr, "l2tpsecctl: %v\n", err)
		return 1
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		enc.Encode(resp)
		return 0
	}
	render(stdout, req, resp)
	return 0
}

func parseCommand(args []string) (control.Request, error) {
	if len(args) == 0 {
		return control.Request{}, fmt.Errorf("no command")
	}
	cmd, rest := args[0], args[1:]
	req := control.Request{Cmd: cmd}
	want := func(n int) error {
		if len(rest) != n {
			return fmt.Errorf("%s takes %d argument(s), got %d", cmd, n, len(rest))
		}
		return nil
	}
	switch cmd {
	case control.CmdStatus, control.CmdSessions, control.CmdSAs, control.CmdPools, control.CmdReload:
		return req, want(0)
	case control.CmdSession, control.CmdDisconnect:
		if err := want(1); err != nil {
			return req, err
		}
		selectSession(&req, rest[0])
		return req, nil
	case control.CmdTrace:
		if len(rest) < 2 || len(rest) > 3 {
			return req, fmt.Errorf("usage: trace ike|ppp|l2tp|all on|off [PEER]")
		}
		switch rest[0] {
		case "ike", "ppp", "l2tp", "all":
		default:
			return req, fmt.Errorf("trace %q: want ike, ppp, l2tp or all", rest[0])
		}
		req.Trace = rest[0]
		switch rest[1] {
		case "on":
			req.On = true
		case "off":
		default:
			return req, fmt.Errorf("trace: want on or off, got %q", rest[1])
		}
		if len(rest) == 3 {
			if _, err := netip.ParseAddr(rest[2]); err != nil {
				return req, fmt.Errorf("trace: %q is not a peer address", rest[2])
			}
			req.Peer = rest[2]
		}
		return req, nil
	}
	return req, fmt.Errorf("unknown command %q", cmd)
}

// selectSession reads a session selector: an address, a session ID (the
// daemon's IDs start with "s-"), or else a user name.
func selectSession(req *control.Request, s string) {
	switch {
	case isAddr(s):
		req.Addr = s
	case strings.HasPrefix(s, "s-"):
		req.ID = s
	default:
		req.User = s
	}
}

func isAddr(s string) bool {
	_, err := netip.ParseAddr(s)
	return err == nil
}

func render(w io.Writer, req control.Request, resp *control.Response) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	defer tw.Flush()
	switch req.Cmd {
	case control.CmdStatus:
		s := resp.Status
		if s == nil {
			return
		}
		ready := "yes"
		if !s.Ready {
			ready = "no: " + s.Reason
		}
		fmt.Fprintf(tw, "version\t%s\nconfig\t%s\nup since\t%s (%s)\nready\t%s\ndatapath\t%s\nsessions\t%d\n",
			s.Version, s.Config, s.Started.Format(time.RFC3339), since(s.Started), ready, s.Datapath, s.Sessions)
	case control.CmdSessions:
		fmt.Fprintln(tw, "ID\tUSER\tADDRESS\tPEER\tSINCE\tIN\tOUT\tAUTH\tIKE\tESP\tDATAPATH")
		for _, s := range resp.Sessions {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", s.ID, s.User, s.Address, s.Peer,
				since(s.Since), humanBytes(s.BytesIn), humanBytes(s.BytesOut), s.AuthMethod, s.IKE, s.ESP, s.Datapath)
		}
	case control.CmdSession:
		for _, s := range resp.Sessions {
			fmt.Fprintf(tw, "id\t%s\nuser\t%s\naddress\t%s\npeer\t%s\nidentity\t%s\nsince\t%s (%s)\nstate\t%s\nauth\t%s\nike\t%s\nesp\t%s\ndatapath\t%s\nin\t%s, %d packets\nout\t%s, %d packets\n",
				s.ID, s.User, s.Address, s.Peer, s.Identity, s.Since.Format(time.RFC3339), since(s.Since), s.State,
				s.AuthMethod, s.IKE, s.ESP, s.Datapath, humanBytes(s.BytesIn), s.PacketsIn, humanBytes(s.BytesOut), s.PacketsOut)
		}
	case control.CmdSAs:
		fmt.Fprintln(tw, "KIND\tPEER\tID\tSUITE\tENCAP\tAGE\tEXPIRES IN\tBYTES")
		for _, s := range resp.SAs {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", s.Kind, s.Peer, s.ID, s.Suite, s.Encap,
				since(s.Established), time.Until(s.Expires).Round(time.Second), humanBytes(s.Bytes))
		}
	case control.CmdPools:
		fmt.Fprintln(tw, "POOL\tSIZE\tUSED\tFREE")
		for _, p := range resp.Pools {
			fmt.Fprintf(tw, "%s\t%d\t%d\t%d\n", p.Name, p.Size, p.Used, p.Free)
		}
	default:
		if resp.Message != "" {
			fmt.Fprintln(tw, resp.Message)
		}
	}
}

func since(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return time.Since(t).Round(time.Second).String()
}

func humanBytes(n uint64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := uint64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}
