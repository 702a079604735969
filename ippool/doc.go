// Package ippool hands out the IPv4 addresses that IPCP (RFC 1332) gives to
// PPP peers: several named pools, each made of ranges minus exclusions; a
// pool chosen by name (RADIUS Framed-Pool, RFC 2869 section 5.18) or the
// default; static addresses (users file, RADIUS Framed-IP-Address, RFC 2865
// section 5.8); sticky addresses; and a lease journal so that a restart
// never hands out an address twice.
//
// # Allocation
//
// Allocate and Release are O(1): each pool keeps a cursor over addresses
// never handed out and a FIFO free list of released ones, with an index so
// that a specific address (sticky or static) can be taken out of either
// without scanning. Never-used addresses go first and released addresses
// are reused oldest first, so a user who reconnects finds the previous
// address still free as often as possible; a bounded LRU remembers each
// user's last address (Config.StickyEntries). No address ever has two
// leases: the Manager holds one map of every lease, pooled or static, under
// one mutex. An owner (session) holds at most one lease: asking again
// returns it, and ReleaseOwner ends it without the address.
//
// # Persistence and the stale-lease policy
//
// With Config.StateDir set, every grant and release is appended to
// StateDir/leases.journal and fsynced before it takes effect; the journal
// is rewritten atomically (temp file, fsync, rename) at start and when it
// grows. On start, leases found in the journal are restored as stale:
//
//   - A stale address is not handed to anyone else while it is
//     quarantined (Config.StaleHold, default 10 minutes). A crash or
//     restart of l2tpsecd ends every session, but the peer may still be
//     using the address (and ARP/route caches elsewhere may still point at
//     it), so it is not reused at once.
//   - The same owner, or the same user, asking again re-claims it and gets
//     the same address back (a client that reconnects after the restart).
//   - When the hold expires, unclaimed stale leases are released.
//   - A negative StaleHold releases them at once (for deployments that know
//     better).
//
// # Reconfiguration
//
// Reconfigure replaces the pool definitions live. New ranges are available
// at once; an address whose range was removed (or newly excluded) while it
// is leased stays with its session and is dropped when released.
package ippool
