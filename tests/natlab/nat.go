package natlab

import (
	"fmt"
	"strings"
)

// Type is a router's NAT behaviour (RFC 4787 terms). IPv6 is never
// translated (no NAT66): every type except None runs a stateful firewall
// for IPv6 that admits only replies, like a home router.
type Type byte

const (
	// EIM is endpoint-independent mapping and filtering ("full cone"):
	// `masquerade persistent` plus a dnat of every new WAN UDP flow to the
	// first peer, so anyone may send to a mapping once it exists.
	EIM Type = 'a'
	// EIMAPDF is endpoint-independent mapping with address-and-port-
	// dependent filtering, the Linux (and most home routers') default:
	// `masquerade persistent` and `ct state new drop` from the WAN.
	EIMAPDF Type = 'b'
	// APDM is address-and-port-dependent mapping ("symmetric"):
	// `masquerade fully-random`, each destination gets a random port, and
	// `ct state new drop` from the WAN.
	APDM Type = 'c'
	// None routes a public prefix with no NAT and no filter.
	None Type = 'd'
	// APDMPortMap is APDM whose router also runs miniupnpd offering
	// NAT-PMP and PCP ("c+pmp"): the clients behind it map their port
	// and announce the mapping as a candidate.
	APDMPortMap Type = 'p'
)

// Types lists the NAT types in matrix order.
var Types = []Type{EIM, EIMAPDF, APDM, None, APDMPortMap}

func (t Type) String() string {
	if t == APDMPortMap {
		return "c+pmp"
	}
	return string(rune(t))
}

// Describe is the one-line name used in the matrix legend.
func (t Type) Describe() string {
	switch t {
	case EIM:
		return "endpoint-independent mapping and filtering (masquerade persistent + dnat)"
	case EIMAPDF:
		return "endpoint-independent mapping, address-and-port-dependent filtering (masquerade persistent, Linux default)"
	case APDM:
		return "address-and-port-dependent mapping (masquerade fully-random)"
	case None:
		return "no NAT, no firewall"
	case APDMPortMap:
		return "c with miniupnpd on the router offering NAT-PMP/PCP port mapping (the clients map their port)"
	}
	return "?"
}

// Describe6 is what the router does for IPv6.
func (t Type) Describe6() string {
	if t == None {
		return "open"
	}
	return "firewall"
}

// mapsPerDestination: the public port depends on the destination.
func (t Type) mapsPerDestination() bool { return t == APDM || t == APDMPortMap }

// portMapping: the router grants port mappings (NAT-PMP/PCP), so its
// peers are reachable at a mapped public port from anywhere.
func (t Type) portMapping() bool { return t == APDMPortMap }

// filters: unsolicited inbound datagrams are dropped (only replies to
// what the inside sent to that exact address and port get in).
func (t Type) filters(v6 bool) bool {
	if v6 {
		return t != None
	}
	return t == EIMAPDF || t == APDM || t == APDMPortMap
}

// Possible says whether a direct path between peers behind p and l exists
// without port prediction, and why not. A datagram gets through a NAT
// that filters only if the inside sent to its source first; a peer behind a
// per-destination mapping is reachable only at the port it opened towards
// the other peer, which that peer learns only from a datagram that got
// through. So the path needs at least one side whose mapping the other can
// learn from the supernode (endpoint-independent) and, if that side also
// filters, a way for it to learn the other's per-destination port: the
// other's datagrams must arrive, so the per-destination side must not face
// a filter it cannot predict. Behind one NAT the LAN candidate works.
func Possible(p, l Type, sameNAT, v6 bool) (bool, string) {
	switch {
	case sameNAT:
		return true, "same NAT: the LAN candidates reach each other"
	case v6:
		return true, "IPv6 has no NAT: addresses are stable, firewalls open to simultaneous sends"
	case p.portMapping() || l.portMapping():
		return true, "one side has a port mapping: the other reaches its mapped public port from anywhere, and the answers go back through that flow"
	case p.mapsPerDestination() && l.mapsPerDestination():
		return false, "both map per destination: neither can learn the other's port without prediction"
	case p.mapsPerDestination() && l.filters(false):
		return false, "puncher maps per destination and listener filters: listener cannot open its filter for an unknown port"
	case l.mapsPerDestination() && p.filters(false):
		return false, "listener maps per destination and puncher filters: puncher cannot open its filter for an unknown port"
	case p.mapsPerDestination() || l.mapsPerDestination():
		return true, "the per-destination side's datagrams get through; the other side learns its port from them (peer-reflexive)"
	}
	return true, "both mappings are endpoint-independent: the reflexive candidates work"
}

// rules returns the router's nftables ruleset (one `nft -f` file). nft
// 1.0.6 wants a `;` before each `}` in one-line rules, so each statement
// stays on its own line here.
func (t Type) rules(wan, peer4 string) string {
	var b strings.Builder
	switch t {
	case EIM:
		fmt.Fprintf(&b, `table ip natlab_nat {
	chain pre {
		type nat hook prerouting priority dstnat; policy accept;
		iifname %q meta l4proto udp dnat to %s
	}
	chain post {
		type nat hook postrouting priority srcnat; policy accept;
		oifname %q masquerade persistent
	}
}
`, wan, peer4, wan)
	case EIMAPDF, APDM, APDMPortMap:
		mode := "persistent"
		if t.mapsPerDestination() {
			mode = "fully-random"
		}
		fmt.Fprintf(&b, `table ip natlab_nat {
	chain post {
		type nat hook postrouting priority srcnat; policy accept;
		oifname %q masquerade %s
	}
}
`, wan, mode)
	}
	// Filtering. The drops also matter for the mapping: conntrack commits
	// an entry only when a packet survives every hook, so a peer's probe
	// that arrives before our own punch leaves no inbound entry that would
	// clash with our later outbound flow and force a new port.
	if t != None {
		v4 := ""
		if t.filters(false) {
			v4 = fmt.Sprintf("\t\tiifname %q ct state new drop\n", wan)
		}
		fmt.Fprintf(&b, `table inet natlab_filter {
	chain input {
		type filter hook input priority filter; policy accept;
		iifname %q ct state new drop
	}
	chain forward {
		type filter hook forward priority filter; policy accept;
		iifname %q meta nfproto ipv6 ct state new drop
%s	}
}
`, wan, wan, v4)
	}
	return b.String()
}

// Predictable says whether port prediction (birthday probing) can join a
// pair that is impossible without it: exactly one side maps per
// destination, IPv4 (IPv6 is never translated), distinct NATs. It works
// with a probability, not always.
func Predictable(p, l Type, sameNAT, v6 bool) bool {
	return !sameNAT && !v6 && p.mapsPerDestination() != l.mapsPerDestination() && !p.portMapping() && !l.portMapping()
}
