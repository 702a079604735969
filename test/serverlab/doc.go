// Package serverlab runs l2tpsecd itself in the real-client lab (package
// test/lab): real strongSwan / Libreswan + xl2tpd + pppd clients in
// User-Mode Linux guests dial the daemon, built from this checkout, running
// in the lab's server namespace.
package serverlab
