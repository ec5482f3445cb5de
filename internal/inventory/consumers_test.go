package inventory_test

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/supernode-appliance/appliance/ebpf/controller"
	"github.com/supernode-appliance/appliance/ebpf/filter"
	"github.com/supernode-appliance/appliance/hardening"
	"github.com/supernode-appliance/appliance/internal/inventory"
	"github.com/supernode-appliance/appliance/supernode/server"
)

// root is the repository root (this package is internal/inventory).
const root = "../.."

func read(t *testing.T, rel string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(root, rel))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// confValue returns the value of "key = value" in a shipped config file,
// commented out ("#key = value") or not.
func confValue(t *testing.T, rel, key string) string {
	t.Helper()
	m := regexp.MustCompile(`(?m)^#?` + regexp.QuoteMeta(key) + `\s*=\s*(\S+)\s*$`).FindStringSubmatch(read(t, rel))
	if m == nil {
		t.Fatalf("%s has no %s line", rel, key)
	}
	return m[1]
}

// TestConsumersAgree: every place that names a service port derives it
// from the inventory or states the same value. A port changed in one
// place only fails here.
func TestConsumersAgree(t *testing.T) {
	stun := inventory.STUN
	if got := server.Defaults().Listen; !slices.Equal(got, []string{stun.Listen()}) {
		t.Errorf("supernode listen default %v, inventory %s", got, stun.Listen())
	}
	if got := confValue(t, "supernode/supernode.conf", "listen"); got != stun.Listen() {
		t.Errorf("supernode/supernode.conf listen = %s, inventory %s", got, stun.Listen())
	}
	if got := confValue(t, "supernode/supernode.conf", "metrics_listen"); got != inventory.SupernodeMetrics.Listen() {
		t.Errorf("supernode/supernode.conf metrics_listen = %s, inventory %s", got, inventory.SupernodeMetrics.Listen())
	}
	if !strings.Contains(read(t, "supernode/supernode.conf"), fmt.Sprintf(":%d.", inventory.FleetGossipUDP.Port)) {
		t.Errorf("supernode/supernode.conf's fleet_bind example does not use port %d", inventory.FleetGossipUDP.Port)
	}
	if inventory.FleetData.Port != inventory.FleetGossipUDP.Port+1 || inventory.FleetGossipTCP.Port != inventory.FleetGossipUDP.Port {
		t.Errorf("fleet ports: gossip %d/%d, data %d; the data channel defaults to fleet_bind's port + 1",
			inventory.FleetGossipUDP.Port, inventory.FleetGossipTCP.Port, inventory.FleetData.Port)
	}

	fc := filter.DefaultConfig()
	if !slices.Equal(fc.UDPPorts, []uint16{stun.Port}) || !slices.Equal(fc.STUNPorts, []uint16{stun.Port}) {
		t.Errorf("XDP filter defaults udp_ports %v stun_ports %v, inventory %d", fc.UDPPorts, fc.STUNPorts, stun.Port)
	}
	for _, k := range []string{"udp_ports", "stun_ports"} {
		if got := confValue(t, "ebpf/supernode-xdp.conf", k); got != fmt.Sprint(stun.Port) {
			t.Errorf("ebpf/supernode-xdp.conf %s = %s, inventory %d", k, got, stun.Port)
		}
	}
	if got := controller.DefaultConfig().MetricsListen; got != inventory.XDPMetrics.Listen() {
		t.Errorf("controller metrics_listen default %s, inventory %s", got, inventory.XDPMetrics.Listen())
	}
	if got := confValue(t, "ebpf/supernode-xdp.conf", "metrics_listen"); got != inventory.XDPMetrics.Listen() {
		t.Errorf("ebpf/supernode-xdp.conf metrics_listen = %s, inventory %s", got, inventory.XDPMetrics.Listen())
	}

	prof, err := hardening.Load(filepath.Join(root, "hardening/profile.hcl"))
	if err != nil {
		t.Fatal(err)
	}
	want := inventory.FirewallSpecs(inventory.Reachable())
	for _, id := range []string{"net-nftables-default-deny", "net-listening"} {
		c := prof.Control(id)
		if c == nil {
			t.Fatalf("profile has no control %s", id)
		}
		if !slices.Equal(c.Values, want) {
			t.Errorf("profile control %s allows %v, inventory %v", id, c.Values, want)
		}
	}
	if m := regexp.MustCompile(`"(udp|tcp)/[0-9]+"`).FindString(read(t, "hardening/profile.hcl")); m != "" {
		t.Errorf("hardening/profile.hcl restates a port (%s); use inventory.firewall", m)
	}

	boot := read(t, "image/cmd/appliance/boot.go")
	if strings.Contains(boot, fmt.Sprint(stun.Port)) {
		t.Errorf("image/cmd/appliance/boot.go restates the STUN port; use inventory.STUN.Port")
	}

	readme := read(t, "README.md")
	if !strings.Contains(readme, inventory.Markdown()) {
		t.Errorf("README.md's service table differs from the inventory; paste this:\n%s", inventory.Markdown())
	}
}
