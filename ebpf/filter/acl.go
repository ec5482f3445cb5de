package filter

import (
	"net/netip"
)

// bogons are the special-purpose ranges that never source legitimate
// traffic on the public Internet: RFC 6890 and the IANA special-purpose
// registries it set up (entries marked not "Source" valid or not "Global"),
// plus multicast and the reserved class E, which are never sources.
var bogons = []netip.Prefix{
	netip.MustParsePrefix("0.0.0.0/8"),       // "this network" (RFC 791)
	netip.MustParsePrefix("10.0.0.0/8"),      // private (RFC 1918)
	netip.MustParsePrefix("100.64.0.0/10"),   // shared address space (RFC 6598)
	netip.MustParsePrefix("127.0.0.0/8"),     // loopback (RFC 1122)
	netip.MustParsePrefix("169.254.0.0/16"),  // link local (RFC 3927)
	netip.MustParsePrefix("172.16.0.0/12"),   // private (RFC 1918)
	netip.MustParsePrefix("192.0.0.0/24"),    // IETF protocol assignments (RFC 6890)
	netip.MustParsePrefix("192.0.2.0/24"),    // TEST-NET-1 (RFC 5737)
	netip.MustParsePrefix("192.168.0.0/16"),  // private (RFC 1918)
	netip.MustParsePrefix("198.18.0.0/15"),   // benchmarking (RFC 2544)
	netip.MustParsePrefix("198.51.100.0/24"), // TEST-NET-2 (RFC 5737)
	netip.MustParsePrefix("203.0.113.0/24"),  // TEST-NET-3 (RFC 5737)
	netip.MustParsePrefix("224.0.0.0/4"),     // multicast (RFC 5771), never a source
	netip.MustParsePrefix("240.0.0.0/4"),     // reserved + limited broadcast (RFC 1112, RFC 919)

	netip.MustParsePrefix("::/128"),         // unspecified (RFC 4291)
	netip.MustParsePrefix("::1/128"),        // loopback (RFC 4291)
	netip.MustParsePrefix("::/96"),          // IPv4-compatible, deprecated (RFC 4291)
	netip.MustParsePrefix("::ffff:0:0/96"),  // IPv4-mapped (RFC 4291), never on the wire
	netip.MustParsePrefix("64:ff9b:1::/48"), // local-use NAT64 (RFC 8215)
	netip.MustParsePrefix("100::/64"),       // discard-only (RFC 6666)
	netip.MustParsePrefix("2001:10::/28"),   // ORCHID, deprecated (RFC 4843)
	netip.MustParsePrefix("2001:db8::/32"),  // documentation (RFC 3849)
	netip.MustParsePrefix("3fff::/20"),      // documentation (RFC 9637)
	netip.MustParsePrefix("5f00::/16"),      // SRv6 SIDs (RFC 9602)
	netip.MustParsePrefix("fc00::/7"),       // unique local (RFC 4193)
	netip.MustParsePrefix("fe80::/10"),      // link local (RFC 4291)
	netip.MustParsePrefix("fec0::/10"),      // site local, deprecated (RFC 3879)
	netip.MustParsePrefix("ff00::/8"),       // multicast (RFC 4291), never a source
}

// Bogons returns the special-purpose source ranges the filter drops unless
// Config.AllowBogons accepts them.
func Bogons() []netip.Prefix { return append([]netip.Prefix(nil), bogons...) }

type aclAction = xdpAclAction

// aclEntries merges the source lists into one longest-prefix-match table.
// For every prefix P named by any list it stores the action that holds for
// all addresses in P: own address, else allow if an allow prefix covers P,
// else block if a block prefix covers P, else bogon if a bogon range covers P
// and no allowed-bogon prefix does, else none. Every list entry that contains
// an address either contains the most specific P that contains it, or is P,
// so the trie's answer for any address equals the answer of the lists.
func aclEntries(c Config) map[netip.Prefix]aclAction {
	var all []netip.Prefix
	own := map[netip.Prefix]bool{}
	for _, a := range c.OwnAddrs {
		a = a.Unmap().WithZone("")
		p := netip.PrefixFrom(a, a.BitLen())
		own[p] = true
		all = append(all, p)
	}
	for _, l := range [][]netip.Prefix{bogons, c.AllowBogons, c.Allow, c.Block} {
		for _, p := range l {
			all = append(all, p.Masked())
		}
	}
	covered := func(p netip.Prefix, list []netip.Prefix) bool {
		for _, q := range list {
			q = q.Masked()
			if q.Addr().Is4() == p.Addr().Is4() && q.Bits() <= p.Bits() && q.Contains(p.Addr()) {
				return true
			}
		}
		return false
	}
	out := make(map[netip.Prefix]aclAction, len(all))
	for _, p := range all {
		if _, done := out[p]; done {
			continue
		}
		switch {
		case own[p]:
			out[p] = xdpAclActionACL_OWN
		case covered(p, c.Allow):
			out[p] = xdpAclActionACL_ALLOW
		case covered(p, c.Block):
			out[p] = xdpAclActionACL_BLOCK
		case covered(p, bogons) && !covered(p, c.AllowBogons):
			out[p] = xdpAclActionACL_BOGON
		default:
			out[p] = xdpAclActionACL_NONE
		}
	}
	return out
}
