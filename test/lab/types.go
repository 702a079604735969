package lab

import "fmt"

// Stack is the IPsec client stack of a guest.
type Stack int

// Client stacks. Each has its own guest image: Libreswan's ipsec command
// conflicts with strongSwan's starter.
const (
	StrongSwan Stack = iota + 1 // strongSwan 5.9 (charon, ipsec.conf via starter)
	Libreswan                   // Libreswan 4.10 (pluto)
)

func (s Stack) String() string {
	switch s {
	case StrongSwan:
		return "strongswan"
	case Libreswan:
		return "libreswan"
	}
	return fmt.Sprintf("Stack(%d)", int(s))
}

// PPPAuth is the PPP authentication protocol the client allows; pppd is told
// to refuse all the others.
type PPPAuth int

// PPP authentication protocols (RFC 1334, RFC 1994, RFC 2759).
const (
	MSCHAPv2 PPPAuth = iota // the default: what Windows and every phone use
	PAP
	CHAP // CHAP with MD5
)

func (a PPPAuth) String() string {
	switch a {
	case MSCHAPv2:
		return "MS-CHAPv2"
	case PAP:
		return "PAP"
	case CHAP:
		return "CHAP-MD5"
	}
	return fmt.Sprintf("PPPAuth(%d)", int(a))
}

// refuseOptions are the pppd options that leave only a allowed.
func (a PPPAuth) refuseOptions() ([]string, error) {
	switch a {
	case MSCHAPv2:
		return []string{"refuse-eap", "refuse-pap", "refuse-chap", "refuse-mschap"}, nil
	case PAP:
		return []string{"refuse-eap", "refuse-chap", "refuse-mschap", "refuse-mschap-v2"}, nil
	case CHAP:
		return []string{"refuse-eap", "refuse-pap", "refuse-mschap", "refuse-mschap-v2"}, nil
	}
	return nil, fmt.Errorf("%w: PPP authentication %v", ErrUnsupported, a)
}
