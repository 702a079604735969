// Package tundev is the TUN side of the l2tpsecd datapath: the one TUN
// device that IP packets from PPP sessions are written to and read from,
// with the gateway address, the MTU and the routes for the address pools
// (configured over rtnetlink with github.com/vishvananda/netlink); a
// lock-free table from inner IPv4 destination to session for the outbound
// path; and TCP MSS clamping of SYN and SYN-ACK segments (RFC 9293 section
// 3.7.1 for the option, RFC 1624 for the incremental checksum update,
// RFC 791 for the IPv4 header).
//
// # wireguard/tun and multi-queue
//
// The device is driven through golang.zx2c4.com/wireguard/tun: batched
// Read/Write with an offset (headroom) per buffer, and, where the kernel
// allows, IFF_VNET_HDR with TSO/GRO offloads (BatchSize 128 then, 1
// without). wireguard/tun's CreateTUN does not set IFF_MULTI_QUEUE, so with
// Config.Queues > 1 this package opens each queue itself (TUNSETIFF with
// IFF_MULTI_QUEUE on the same name) and wraps every descriptor with
// tun.CreateTUNFromFile, keeping the batching and offload handling. The
// kernel spreads flows over the queues; each datapath worker owns one
// queue (Device.Queue).
package tundev
