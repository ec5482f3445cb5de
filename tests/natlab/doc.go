// Package natlab is a NAT lab in network namespaces: routers built with
// nftables that behave like the NAT types of RFC 4787, a supernode on a
// small "internet", and a runner that makes the real supernode-client punch
// from behind every NAT type to every other, IPv4 and IPv6, and prints a
// matrix (pair, possible in theory, result over N tries, median and p95 time
// to the first direct datagram, datagrams sent).
//
// `go test ./tests/natlab` (root) runs every case once and fails if a pair
// that is possible without port prediction does not connect; `make natlab`
// runs the whole matrix NATLAB_TRIES times (default 10) and prints it.
//
// Topology (addresses are RFC 5737 / RFC 3849 documentation ranges and
// private LANs; nothing leaves the namespaces):
//
//	peer .2 ─┐                                   ┌─ sn 192.0.2.1, 2001:db8:5::1
//	         br ── router i ── WAN ── inet ──────┤
//	peer .3 ─┘   (NAT type)                      └─ router j ...
//
// Router i has WAN 198.51.100.(16i+1)/28 and 2001:db8:f<i>::1/64, a LAN
// 10.0.i.0/24 (type d: a public 203.0.113.16i/28 instead) and
// 2001:db8:1<i>::/64, with two peers on a bridge (the second one for the
// same-NAT cases).
package natlab
