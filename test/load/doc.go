// Package load holds the load tests of l2tpsecd: the daemon, built from this
// checkout, runs in a network namespace of its own; the load generator
// (cmd/l2tpsec-load, whose clients are internal/vpnclient) runs many
// simulated L2TP/IPsec clients from another namespace and checks that they
// all connect, pass traffic (ICMP echo to the gateway, UDP to an echo
// service behind it) and hang up cleanly, and that a wrong PSK or password
// fails in its phase. The tests need root (network namespaces, a TUN device)
// and skip otherwise:
//
//	sudo go test -v ./test/load
//
// They take about 15 s; the summary of the 20-client run is logged with -v.
package load
