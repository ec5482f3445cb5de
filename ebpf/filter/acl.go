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

// aclLists answers, for a prefix, what the static source lists say about
// every address in it.
type aclLists struct {
	own                       map[netip.Prefix]bool
	allow, block, allowBogons []netip.Prefix
}

func listsOf(c Config) aclLists {
	l := aclLists{own: map[netip.Prefix]bool{}, allow: masked(c.Allow), block: masked(c.Block), allowBogons: masked(c.AllowBogons)}
	for _, a := range c.OwnAddrs {
		l.own[hostPrefix(a)] = true
	}
	return l
}

func masked(ps []netip.Prefix) []netip.Prefix {
	out := make([]netip.Prefix, len(ps))
	for i, p := range ps {
		out[i] = p.Masked()
	}
	return out
}

func hostPrefix(a netip.Addr) netip.Prefix {
	a = a.Unmap().WithZone("")
	return netip.PrefixFrom(a, a.BitLen())
}

// covered reports whether a prefix of list contains all of p.
func covered(p netip.Prefix, list []netip.Prefix) bool {
	for _, q := range list {
		if q.Addr().Is4() == p.Addr().Is4() && q.Bits() <= p.Bits() && q.Contains(p.Addr()) {
			return true
		}
	}
	return false
}

// action is the verdict of the lists for every address in p: own address,
// else allow (allow wins), else block, else bogon unless an allowed-bogon
// prefix covers it, else none.
func (l aclLists) action(p netip.Prefix) aclAction {
	switch {
	case l.own[p]:
		return xdpAclActionACL_OWN
	case covered(p, l.allow):
		return xdpAclActionACL_ALLOW
	case covered(p, l.block):
		return xdpAclActionACL_BLOCK
	case covered(p, bogons) && !covered(p, l.allowBogons):
		return xdpAclActionACL_BOGON
	}
	return xdpAclActionACL_NONE
}

// staticVerdict is what the merged static table says about p: the action of
// its longest prefix containing p, as the program's trie lookup finds it.
func staticVerdict(static map[netip.Prefix]aclAction, p netip.Prefix) aclAction {
	best, act := -1, xdpAclActionACL_NONE
	for q, a := range static {
		if q.Bits() > best && q.Bits() <= p.Bits() && q.Addr().Is4() == p.Addr().Is4() && q.Contains(p.Addr()) {
			best, act = q.Bits(), a
		}
	}
	return act
}

// aclEntries merges the static source lists into one longest-prefix-match
// table: every prefix named by any list, with the action that holds for all
// addresses in it. Every list entry that contains an address either contains
// the most specific table prefix that contains it, or is that prefix, so the
// trie's answer for any address equals the answer of the lists.
func aclEntries(c Config) map[netip.Prefix]aclAction {
	l := listsOf(c)
	out := map[netip.Prefix]aclAction{}
	for p := range l.own {
		out[p] = l.action(p)
	}
	for _, list := range [][]netip.Prefix{bogons, l.allowBogons, l.allow, l.block} {
		for _, p := range list {
			p = p.Masked()
			if _, done := out[p]; !done {
				out[p] = l.action(p)
			}
		}
	}
	return out
}
