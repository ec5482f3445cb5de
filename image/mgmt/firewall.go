package mgmt

import (
	"bytes"
	"fmt"
	"net/netip"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/supernode-appliance/appliance/internal/inventory"
	"github.com/supernode-appliance/appliance/supernode/daemonconf"
)

// Gates are the nftables address sets of the static ruleset
// (/etc/nftables.conf, hardening's nftables control): GATE4 and GATE6 in
// table inet filter, declared empty.
const (
	GateFleet     = "fleet"
	GateMgmt      = "mgmt"
	GateAlternate = "stunalt"
)

// XDPOverlay is where appliance-firewall tells supernode-xdp which ports
// and sources the configuration adds (ebpf/controller.OverlayPath reads it).
const XDPOverlay = "/run/appliance-firewall/supernode-xdp.conf"

// Plan is what the configuration opens: the prefixes of each gate.
type Plan struct {
	Fleet []netip.Prefix // empty: no fleet configured
	Mgmt  []netip.Prefix // empty: no management listener
	// Alternate opens RFC 5780's alternate port (alternate_address is
	// set) to everyone: udp/3479 is closed on the appliances that do not
	// serve it.
	Alternate bool
	// Collector is the log collector (log_target) as a one-address
	// prefix, invalid when logs are not shipped. The XDP overlay accepts
	// it as a source even when it is a special-purpose address (a
	// collector on a private network), so its replies are not dropped as
	// bogons; it gets no trust beyond that (budgets still apply), and
	// nftables admits only its established connections.
	Collector netip.Prefix
}

// PlanFor derives the plan from the supernode's config (its fleet block and
// alternate_address) and appliance-mgmt's config, refusing (one sentence)
// what the static ruleset cannot honour: ports other than the inventory's,
// or prefixes that would open a port to a large part of the internet.
func PlanFor(sn daemonconf.Config, m Config) (Plan, error) {
	var p Plan
	f := sn.Fleet
	if sn.AlternateAddress != "" {
		if sn.AlternatePort != int(inventory.STUNAlternate.Port) {
			return Plan{}, fmt.Errorf("alternate_port %d differs from the firewall's RFC 5780 port %d; leave alternate_port unset", sn.AlternatePort, inventory.STUNAlternate.Port)
		}
		p.Alternate = true
	}
	if f.Enabled() {
		if f.Bind.Port() != inventory.FleetGossipUDP.Port || f.DataChannelPort() != inventory.FleetData.Port {
			return Plan{}, fmt.Errorf("fleet_bind port %d and data port %d differ from the firewall's fleet ports %d and %d; use fleet_bind ADDRESS:%d and leave fleet_data_port unset",
				f.Bind.Port(), f.DataChannelPort(), inventory.FleetGossipUDP.Port, inventory.FleetData.Port, inventory.FleetGossipUDP.Port)
		}
		prefixes, err := f.AllowedPrefixes()
		if err != nil {
			return Plan{}, err
		}
		if err := CheckPrefixes("fleet_allow", prefixes); err != nil {
			return Plan{}, err
		}
		p.Fleet = prefixes
	}
	if m.Enabled() {
		if len(m.Allow) == 0 {
			return Plan{}, fmt.Errorf("management_listen is set but management_allow is empty; list the prefixes of your monitoring hosts, e.g. management_allow = 192.0.2.0/28")
		}
		_, port, _ := strings.Cut(m.Listen[strings.LastIndex(m.Listen, "]")+1:], ":")
		if port != strconv.Itoa(int(inventory.ManagementHTTPS.Port)) {
			return Plan{}, fmt.Errorf("management_listen %s is not on the firewall's management port %d; use ADDRESS:%d", m.Listen, inventory.ManagementHTTPS.Port, inventory.ManagementHTTPS.Port)
		}
		if err := CheckPrefixes("management_allow", m.Allow); err != nil {
			return Plan{}, err
		}
		p.Mgmt = slices.Clone(m.Allow)
	}
	return p, nil
}

// NftScript fills the gates' sets in one nft transaction: each set is
// flushed, then gets the plan's prefixes of its family (none = closed).
func (p Plan) NftScript(table string) string {
	var b strings.Builder
	var everyone []netip.Prefix
	if p.Alternate {
		everyone = []netip.Prefix{netip.MustParsePrefix("0.0.0.0/0"), netip.MustParsePrefix("::/0")}
	}
	for _, g := range []struct {
		name     string
		prefixes []netip.Prefix
	}{{GateFleet, p.Fleet}, {GateMgmt, p.Mgmt}, {GateAlternate, everyone}} {
		for _, fam := range []string{"4", "6"} {
			set := g.name + fam
			fmt.Fprintf(&b, "flush set %s %s\n", table, set)
			var el []string
			for _, pr := range g.prefixes {
				if pr.Addr().Is4() == (fam == "4") {
					el = append(el, pr.Masked().String())
				}
			}
			if len(el) > 0 {
				fmt.Fprintf(&b, "add element %s %s { %s }\n", table, set, strings.Join(el, ", "))
			}
		}
	}
	return b.String()
}

// Overlay is the XDP controller's addition, in its config format: the
// gated services' ports (the filter's default-deny would drop them) and
// the gates' prefixes as trusted sources (members and monitoring hosts
// often use private addresses, which the bogon check drops, and fleet
// traffic must not be held to a stranger's per-source budget). nftables
// still admits the ports only from the sets.
func (p Plan) Overlay() string {
	var udp, tcp []string
	var allow []string
	add := func(gate string, prefixes []netip.Prefix, open bool) {
		if !open {
			return
		}
		for _, s := range inventory.Gated(inventory.All, gate) {
			port := strconv.Itoa(int(s.Port))
			if s.Proto == "udp" && !slices.Contains(udp, port) {
				udp = append(udp, port)
			}
			if s.Proto == "tcp" && !slices.Contains(tcp, port) {
				tcp = append(tcp, port)
			}
		}
		for _, pr := range prefixes {
			allow = append(allow, pr.Masked().String())
		}
	}
	add(GateFleet, p.Fleet, len(p.Fleet) > 0)
	add(GateMgmt, p.Mgmt, len(p.Mgmt) > 0)
	// The alternate port is for everyone: its port only, never a trusted
	// source (the budgets and checks stay).
	add(GateAlternate, nil, p.Alternate)
	bogons := ""
	if p.Collector.IsValid() {
		bogons = p.Collector.String()
	}
	var b strings.Builder
	b.WriteString("# Written at boot by appliance-firewall from supernode.conf (fleet) and\n# appliance-mgmt.conf (management listener, log collector); added to\n# supernode-xdp's own.\n")
	for _, kv := range [][2]string{{"udp_ports", strings.Join(udp, ", ")}, {"tcp_ports", strings.Join(tcp, ", ")}, {"allow", strings.Join(allow, ", ")}, {"allow_bogons", bogons}} {
		if kv[1] != "" {
			fmt.Fprintf(&b, "%s = %s\n", kv[0], kv[1])
		}
	}
	return b.String()
}

// Apply fills the sets with nft (one transaction) and writes the XDP
// overlay atomically. nft is the program to run ("nft" normally).
func (p Plan) Apply(nft, overlay string) error {
	cmd := exec.Command(nft, "-f", "-")
	cmd.Stdin = strings.NewReader(p.NftScript("inet filter"))
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("nft could not fill the firewall's address sets (%v: %s); is nftables.service active with the appliance's /etc/nftables.conf?", err, strings.Join(strings.Fields(out.String()), " "))
	}
	if overlay == "" {
		return nil
	}
	// supernode-xdp (another user) reads it: writeAtomic makes it 0644
	// whatever the umask.
	if err := writeAtomic(overlay, []byte(p.Overlay())); err != nil {
		return fmt.Errorf("cannot write the XDP overlay %s: %v", filepath.Dir(overlay), pathErr(err))
	}
	return nil
}
