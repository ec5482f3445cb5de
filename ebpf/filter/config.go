package filter

import (
	"fmt"
	"github.com/supernode-appliance/appliance/internal/inventory"
	"net/netip"
	"slices"
)

// Config is what the filter enforces. Configure writes it into the maps.
// The `conf` tags are the keys of supernode-xdp's config file, whose
// Config embeds this one (one declaration per key).
type Config struct {
	// UDPPorts and TCPPorts are the ports the appliance serves; others
	// default-deny.
	UDPPorts  []uint16 `conf:"udp_ports"`
	TCPPorts  []uint16 `conf:"tcp_ports"`
	STUNPorts []uint16 `conf:"stun_ports"` // subset of UDPPorts with the STUN header check

	// DropServiceFragments drops fragments to service ports and every
	// non-first fragment (which carries no port, so can never match a
	// port rule). Default true: the supernode's messages fit in one packet.
	DropServiceFragments bool `conf:"drop_service_fragments"`

	// BindingFastPath answers well-formed STUN Binding requests to STUN
	// ports in the driver (XDP_TX), after every check and the source's
	// budget, with the answer the userspace server would send. Default true.
	BindingFastPath bool `conf:"binding_fast_path"`

	AllowBogons []netip.Prefix `conf:"allow_bogons"` // special-purpose ranges to accept (private deployments)
	Allow       []netip.Prefix `conf:"allow"`        // trusted sources: skip block lists and budgets (allow wins)
	Block       []netip.Prefix `conf:"block"`        // static blocklist
	OwnAddrs    []netip.Addr   `conf:"own_addrs"`    // the appliance's addresses: never a valid source

	// Per-source budgets in packets per second and burst size; a zero
	// rate switches the budget off. UDP covers every UDP packet passed,
	// SYN new TCP connections to served ports, ICMP every ICMP except NDP.
	UDPRate   uint32 `conf:"udp_rate"`
	UDPBurst  uint32 `conf:"udp_burst"`
	SYNRate   uint32 `conf:"syn_rate"`
	SYNBurst  uint32 `conf:"syn_burst"`
	ICMPRate  uint32 `conf:"icmp_rate"`
	ICMPBurst uint32 `conf:"icmp_burst"`

	// TrackRate bounds how many new sources per second and per CPU get a
	// token-bucket entry (burst TrackBurst); beyond it new sources pass
	// untracked, which keeps a spoofed random-source flood from churning
	// the table. 0 = no bound.
	TrackRate  uint32 `conf:"track_rate"`
	TrackBurst uint32 `conf:"track_burst"`

	// EphemeralFirst..EphemeralLast is the appliance's local port range
	// (net.ipv4.ip_local_port_range): replies to its own connections
	// arrive there.
	EphemeralFirst uint16 `conf:"ephemeral_first"`
	EphemeralLast  uint16 `conf:"ephemeral_last"`

	// STUNMethodFirst..STUNMethodLast are the STUN methods accepted on
	// STUN ports besides Binding (0x001). The default 0x801-0x80f covers
	// the supernode's methods (supernode/wire: 0x801-0x805, from the
	// RFC 8489 18.1 expert-review range) with room for ten more; 0 as
	// the last method accepts Binding only.
	STUNMethodFirst uint16 `conf:"stun_method_first"`
	STUNMethodLast  uint16 `conf:"stun_method_last"`

	// ReflectorPorts are the UDP source ports of well-known amplification
	// reflectors; their traffic to service ports is dropped.
	ReflectorPorts []uint16 `conf:"reflector_ports"`
}

// DefaultReflectorPorts are UDP services abused for reflection/amplification
// (US-CERT TA14-017A and later advisories): chargen, qotd, DNS, TFTP,
// portmap, NTP, NetBIOS, SNMP, CLDAP, RIP, SSDP, ARD, WS-Discovery, mDNS,
// CoAP, Ubiquiti discovery, memcached.
var DefaultReflectorPorts = []uint16{17, 19, 53, 69, 111, 123, 137, 161, 389, 520, 1900, 3283, 3702, 5353, 5683, 10001, 11211}

// DefaultConfig serves STUN on 3478 with the header check and conservative
// per-source budgets (a peer sends a few requests a second).
func DefaultConfig() Config {
	return Config{
		UDPPorts:             []uint16{inventory.STUN.Port},
		STUNPorts:            []uint16{inventory.STUN.Port},
		DropServiceFragments: true,
		BindingFastPath:      true,
		UDPRate:              100, UDPBurst: 200,
		SYNRate: 10, SYNBurst: 20,
		ICMPRate: 10, ICMPBurst: 20,
		TrackRate: 20000, TrackBurst: 20000,
		EphemeralFirst: 32768, EphemeralLast: 60999,
		STUNMethodFirst: 0x801, STUNMethodLast: 0x80f,
		ReflectorPorts: slices.Clone(DefaultReflectorPorts),
	}
}

// maxPrefixes bounds each family's trie (max_entries of acl4/acl6).
const maxPrefixes = 16384

// Validate returns nil or one sentence naming the problem and the fix.
func (c Config) Validate() error {
	for _, p := range c.UDPPorts {
		if p == 0 {
			return fmt.Errorf("filter: UDP port 0 cannot be served; remove it from the UDP ports")
		}
	}
	for _, p := range c.TCPPorts {
		if p == 0 {
			return fmt.Errorf("filter: TCP port 0 cannot be served; remove it from the TCP ports")
		}
	}
	for _, p := range c.STUNPorts {
		if !slices.Contains(c.UDPPorts, p) {
			return fmt.Errorf("filter: STUN port %d is not a served UDP port; add it to the UDP ports or remove it from the STUN ports", p)
		}
	}
	for _, p := range c.ReflectorPorts {
		if slices.Contains(c.UDPPorts, p) {
			return fmt.Errorf("filter: port %d is both a served UDP port and a reflector source port; remove it from one of the two lists", p)
		}
	}
	lists := []struct {
		name string
		ps   []netip.Prefix
	}{{"allowed bogon", c.AllowBogons}, {"allow", c.Allow}, {"block", c.Block}}
	for _, l := range lists {
		for _, p := range l.ps {
			if !p.IsValid() {
				return fmt.Errorf("filter: %s prefix %v is not a valid CIDR prefix; write it as ADDRESS/BITS", l.name, p)
			}
			if p.Addr().Is4In6() {
				return fmt.Errorf("filter: %s prefix %v is IPv4-mapped IPv6; write it as an IPv4 prefix", l.name, p)
			}
			if p.Addr().Zone() != "" {
				return fmt.Errorf("filter: %s prefix %v has a zone; remove the %%zone", l.name, p)
			}
		}
	}
	if n := len(c.AllowBogons) + len(c.Allow) + len(c.Block) + len(c.OwnAddrs) + len(bogons); n > maxPrefixes {
		return fmt.Errorf("filter: %d prefixes and addresses exceed the filter's %d; aggregate the allow and block lists", n, maxPrefixes)
	}
	for _, a := range c.OwnAddrs {
		if !a.IsValid() || a.IsUnspecified() {
			return fmt.Errorf("filter: own address %v is not a usable address; list the appliance's unicast addresses", a)
		}
	}
	rates := []struct {
		name        string
		rate, burst uint32
	}{{"UDP", c.UDPRate, c.UDPBurst}, {"SYN", c.SYNRate, c.SYNBurst}, {"ICMP", c.ICMPRate, c.ICMPBurst}, {"track", c.TrackRate, c.TrackBurst}}
	for _, r := range rates {
		if r.rate > 1e9 {
			return fmt.Errorf("filter: %s rate %d exceeds 1000000000 per second; lower it or set 0 to switch the budget off", r.name, r.rate)
		}
		if r.rate != 0 && r.burst == 0 {
			return fmt.Errorf("filter: %s burst is 0 with a rate of %d, which would drop everything; set a burst of at least 1", r.name, r.rate)
		}
	}
	if c.EphemeralFirst == 0 || c.EphemeralFirst > c.EphemeralLast {
		return fmt.Errorf("filter: ephemeral port range %d-%d is empty or starts at 0; use the appliance's ip_local_port_range (default 32768-60999)", c.EphemeralFirst, c.EphemeralLast)
	}
	if c.STUNMethodFirst > c.STUNMethodLast || c.STUNMethodLast > 0xfff {
		return fmt.Errorf("filter: STUN method range 0x%03x-0x%03x is not within 0x000-0xfff in ascending order; fix the range", c.STUNMethodFirst, c.STUNMethodLast)
	}
	return nil
}
