// Package load holds the load tests of l2tpsecd: the daemon, built from this
// checkout, runs in a network namespace of its own; the load generator
// (cmd/l2tpsec-load, whose clients are internal/vpnclient) runs many
// simulated L2TP/IPsec clients from another namespace and checks that they
// all connect, pass traffic and hang up cleanly. The tests need root (network
// namespaces, a TUN device) and skip otherwise.
package load
