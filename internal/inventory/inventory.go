// Package inventory is the one declaration of every network service the
// appliance serves: name, protocol, port, when it is enabled and who may
// reach it. Every other place that names a port derives it from here: the
// supernode's and the XDP filter's defaults, the hardening profile's
// firewall and listening-socket controls (profile.hcl says
// `values = inventory.firewall`), `appliance boot`'s forwards and the
// README's table. inventory_test.go and the consistency tests beside each
// consumer fail when a copy drifts.
package inventory

import (
	"fmt"
	"strings"
)

// When a service is enabled.
const (
	Always     = "always"            // on every appliance
	Fleet      = "fleet"             // only when fleet_bind is configured
	DHCP       = "dhcp"              // only while an interface uses DHCP (the default)
	Management = "management"        // a loopback listener; reachable from outside only through the management listener
	MgmtListen = "management_listen" // only when appliance-mgmt's management_listen is set
	Alternate  = "alternate"         // only when alternate_address is set (RFC 5780 NAT behaviour discovery)
)

// Service is one listening port of the appliance.
type Service struct {
	Name   string // short name used in metrics, docs and tests
	Proto  string // "udp" or "tcp"
	Port   uint16
	When   string // Always, Fleet, DHCP, Management, MgmtListen or Alternate
	Reach  string // who may reach it, in words
	Daemon string // the process that listens
	Key    string // the config key that moves it, "" if fixed
	Doc    string // one line for the README
}

// Spec is "proto/port", the form the hardening profile's values use.
func (s Service) Spec() string { return fmt.Sprintf("%s/%d", s.Proto, s.Port) }

// The services. The STUN port is IANA's (RFC 8489 section 18.6); the fleet
// ports are memberlist's customary 7946 and the data channel beside it.
var (
	STUN = Service{Name: "stun", Proto: "udp", Port: 3478, When: Always, Reach: "anyone",
		Daemon: "supernode", Key: "listen", Doc: "STUN Binding and the supernode protocol (register, keepalive, lookup, leave)"}
	// STUNAlternate is RFC 5780's alternate port: served on the listen
	// address and on alternate_address, Binding only.
	STUNAlternate = Service{Name: "stun-alternate", Proto: "udp", Port: 3479, When: Alternate, Reach: "anyone",
		Daemon: "supernode", Key: "alternate_port", Doc: "RFC 5780 NAT behaviour discovery: Binding only, on the listen and the alternate address"}
	FleetGossipUDP = Service{Name: "fleet-gossip", Proto: "udp", Port: 7946, When: Fleet, Reach: "fleet members (`fleet_allow`)",
		Daemon: "supernode", Key: "fleet_bind", Doc: "memberlist (SWIM) gossip probes"}
	FleetGossipTCP = Service{Name: "fleet-gossip", Proto: "tcp", Port: 7946, When: Fleet, Reach: "fleet members (`fleet_allow`)",
		Daemon: "supernode", Key: "fleet_bind", Doc: "memberlist state exchange"}
	FleetData = Service{Name: "fleet-data", Proto: "udp", Port: 7947, When: Fleet, Reach: "fleet members (`fleet_allow`)",
		Daemon: "supernode", Key: "fleet_data_port", Doc: "encrypted data channel: replication, forwarded lookups and introductions (fleet_bind's port + 1)"}
	DHCPv4 = Service{Name: "dhcpv4-client", Proto: "udp", Port: 68, When: DHCP, Reach: "the DHCP server",
		Daemon: "systemd-networkd", Doc: "DHCPv4 client"}
	DHCPv6 = Service{Name: "dhcpv6-client", Proto: "udp", Port: 546, When: DHCP, Reach: "the DHCPv6 server",
		Daemon: "systemd-networkd", Doc: "DHCPv6 client"}
	SupernodeMetrics = Service{Name: "supernode-metrics", Proto: "tcp", Port: 9478, When: Management, Reach: "loopback",
		Daemon: "supernode", Key: "metrics_listen", Doc: "supernode /metrics and /healthz on 127.0.0.1"}
	ManagementHTTPS = Service{Name: "management", Proto: "tcp", Port: 9443, When: MgmtListen, Reach: "management prefixes",
		Daemon: "appliance-mgmt", Key: "management_listen", Doc: "opt-in HTTP(S) scrape of every daemon's metrics, the XDP counters and the live audit (mTLS optional)"}
	XDPMetrics = Service{Name: "xdp-metrics", Proto: "tcp", Port: 9101, When: Management, Reach: "loopback",
		Daemon: "supernode-xdp", Key: "metrics_listen", Doc: "XDP controller /metrics and /healthz on 127.0.0.1"}
)

// All lists every service in the order of the README's table.
var All = []Service{STUN, STUNAlternate, FleetGossipUDP, FleetGossipTCP, FleetData, DHCPv4, DHCPv6, ManagementHTTPS, SupernodeMetrics, XDPMetrics}

// Reachable is every service a non-loopback address may reach on some
// appliance: what nftables must let in and what the live audit accepts
// as a listening socket.
func Reachable() []Service {
	var out []Service
	for _, s := range All {
		if s.When != Management {
			out = append(out, s)
		}
	}
	return out
}

// Gate names the nftables address sets that alone may reach s: "fleet"
// (sets fleet4 and fleet6, filled at boot from fleet_allow), "mgmt"
// (mgmt4, mgmt6, from management_allow) or "stunalt" (stunalt4,
// stunalt6: everyone, but only when alternate_address is set); "" for a
// port open to anyone on every appliance. The sets are empty until
// appliance-firewall fills them, so a gated port is closed on an
// appliance that does not configure it.
func (s Service) Gate() string {
	switch s.When {
	case Fleet:
		return "fleet"
	case MgmtListen:
		return "mgmt"
	case Alternate:
		return "stunalt"
	}
	return ""
}

// FirewallSpec is Spec, followed by " from GATE" for a gated service: the
// form of the hardening profile's inventory.firewall values.
func (s Service) FirewallSpec() string {
	if g := s.Gate(); g != "" {
		return s.Spec() + " from " + g
	}
	return s.Spec()
}

// FirewallSpecs renders services as FirewallSpec does.
func FirewallSpecs(ss []Service) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = s.FirewallSpec()
	}
	return out
}

// Gated returns the services of ss behind gate (see Gate).
func Gated(ss []Service, gate string) []Service {
	var out []Service
	for _, s := range ss {
		if s.Gate() == gate {
			out = append(out, s)
		}
	}
	return out
}

// Specs renders services as "proto/port".
func Specs(ss []Service) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = s.Spec()
	}
	return out
}

// UDPPorts returns the UDP ports among ss (each once), the form the XDP
// filter's udp_ports takes.
func UDPPorts(ss []Service) []uint16 {
	var out []uint16
	seen := map[uint16]bool{}
	for _, s := range ss {
		if s.Proto == "udp" && !seen[s.Port] {
			seen[s.Port] = true
			out = append(out, s.Port)
		}
	}
	return out
}

// Listen is host:port for a loopback management service or ":port" for a
// public one: the default of its daemon's config key.
func (s Service) Listen() string {
	if s.When == Management {
		return fmt.Sprintf("127.0.0.1:%d", s.Port)
	}
	return fmt.Sprintf(":%d", s.Port)
}

// Markdown is the README's service table.
func Markdown() string {
	var b strings.Builder
	b.WriteString("| service | port | enabled | who may reach it | daemon (config key) | what |\n")
	b.WriteString("|---|---|---|---|---|---|\n")
	for _, s := range All {
		key := s.Daemon
		if s.Key != "" {
			key += " (`" + s.Key + "`)"
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %s |\n", s.Name, s.Spec(), s.When, s.Reach, key, s.Doc)
	}
	return b.String()
}
