package freeradius

import (
	"fmt"
	"strings"
)

// radiusdConf is the server's whole configuration: one file, no
// sites-enabled or mods-enabled, so that nothing of the host's
// /etc/freeradius applies.
func (s *Server) radiusdConf() (string, error) {
	c := s.cfg
	for _, v := range []string{c.Dir, c.Secret} {
		if strings.ContainsAny(v, "\"\n\\") {
			return "", fmt.Errorf("%w: %q contains a quote, backslash or newline", ErrBadConfig, v)
		}
	}
	var b strings.Builder
	dir := c.Dir
	fmt.Fprintf(&b, `prefix = /usr
exec_prefix = /usr
sysconfdir = /etc
localstatedir = "%[1]s"
sbindir = /usr/sbin
logdir = "%[1]s"
raddbdir = "%[1]s"
radacctdir = "%[1]s"
name = freeradius
confdir = "%[1]s"
modconfdir = "%[1]s"
certdir = "%[1]s"
cadir = "%[1]s"
run_dir = "%[1]s"
db_dir = "%[1]s"
libdir = /usr/lib/freeradius
pidfile = "%[1]s/radiusd.pid"
max_request_time = 30
cleanup_delay = 1
max_requests = 1024
hostname_lookups = no

log {
	destination = files
	file = "%[1]s/radius.log"
	colourise = no
	stripped_names = no
	auth = yes
	auth_badpass = no
	auth_goodpass = no
}

security {
	allow_core_dumps = no
	max_attributes = 200
	reject_delay = 0
	status_server = yes
}

thread pool {
	start_servers = 2
	max_servers = 4
	min_spare_servers = 1
	max_spare_servers = 2
	max_requests_per_server = 0
}
`, dir)
	for i, cl := range c.Clients {
		name := cl.Name
		if name == "" {
			name = fmt.Sprintf("nas%d", i)
		}
		if !cl.Network.IsValid() || cl.Secret == "" || strings.ContainsAny(cl.Secret+name, "\"\n\\ {}") {
			return "", fmt.Errorf("%w: client %d needs a network and a secret without quotes, spaces or braces", ErrBadConfig, i)
		}
		fmt.Fprintf(&b, "\nclient %s {\n\tipaddr = %s\n\tsecret = \"%s\"\n\trequire_message_authenticator = yes\n\tnas_type = other\n}\n",
			name, cl.Network.Masked(), cl.Secret)
	}
	fmt.Fprintf(&b, `
modules {
	always ok {
		rcode = ok
	}
	pap {
		normalise = yes
	}
	chap {
	}
	mschap {
	}
	files {
		filename = "%[1]s/users"
		acctusersfile = "%[1]s/acct_users"
	}
	eap {
		default_eap_type = md5
		timer_expire = 60
		ignore_unknown_eap_types = no
		cisco_accounting_username_bug = no
		max_sessions = 64
		md5 {
		}
	}
	detail auth_log {
		filename = "%[1]s/auth-detail"
		escape_filenames = no
		permissions = 0600
		header = "%%t"
		suppress {
			User-Password
			CHAP-Password
		}
	}
	detail {
		filename = "%[1]s/detail"
		escape_filenames = no
		permissions = 0600
		header = "%%t"
	}
}

server default {
	listen {
		type = auth
		ipaddr = %[2]s
		port = %[3]d
	}
	listen {
		type = acct
		ipaddr = %[2]s
		port = %[4]d
	}
	authorize {
		auth_log
		chap
		mschap
		eap {
			ok = return
		}
		files
		pap
	}
	authenticate {
		Auth-Type PAP {
			pap
		}
		Auth-Type CHAP {
			chap
		}
		Auth-Type MS-CHAP {
			mschap
		}
		eap
	}
	preacct {
	}
	accounting {
		detail
		ok
	}
	post-auth {
		Post-Auth-Type REJECT {
			ok
		}
	}
}
`, dir, c.Addr, c.AuthPort, c.AcctPort)
	return b.String(), nil
}

// usersFile writes the files module's users file.
func usersFile(users []User) (string, error) {
	var b strings.Builder
	for _, u := range users {
		if u.Name == "" || strings.ContainsAny(u.Name, "\n") {
			return "", fmt.Errorf("%w: user name %q", ErrBadConfig, u.Name)
		}
		fmt.Fprintf(&b, "%s\tCleartext-Password := %s\n", Quote(u.Name), Quote(u.Password))
		for i, a := range u.Reply {
			if a.Name == "" || strings.ContainsAny(a.Name+a.Value, "\n") {
				return "", fmt.Errorf("%w: reply attribute %q of %q", ErrBadConfig, a.Name, u.Name)
			}
			sep := ","
			if i == len(u.Reply)-1 {
				sep = ""
			}
			fmt.Fprintf(&b, "\t%s = %s%s\n", a.Name, a.Value, sep)
		}
		b.WriteString("\n")
	}
	return b.String(), nil
}
