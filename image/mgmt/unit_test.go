package mgmt_test

import (
	"github.com/supernode-appliance/appliance/tests/testenv"
	"path/filepath"
	"strings"
	"testing"

	"github.com/supernode-appliance/appliance/ebpf/controller"
	"github.com/supernode-appliance/appliance/image/mgmt"
)

// The firewall step holds CAP_NET_ADMIN only and is never handed a
// secret: no fleet key, no TLS key, no credential glob.
func TestFirewallUnitLeastPrivilege(t *testing.T) {
	u := "appliance-firewall.service"
	if got := testenv.UnitLines(t, "systemd/"+u, "CapabilityBoundingSet"); len(got) != 1 || got[0] != "CAP_NET_ADMIN" {
		t.Errorf("CapabilityBoundingSet=%q, want CAP_NET_ADMIN", got)
	}
	if got := testenv.UnitLines(t, "systemd/"+u, "DynamicUser"); len(got) != 1 || got[0] != "yes" {
		t.Errorf("DynamicUser=%q", got)
	}
	for _, c := range testenv.UnitLines(t, "systemd/"+u, "ImportCredential") {
		if strings.ContainsAny(c, "*?[") || strings.Contains(c, "key") || strings.Contains(c, "tls") || strings.Contains(c, "client_ca") {
			t.Errorf("ImportCredential=%s hands the firewall step more than addresses and prefixes", c)
		}
	}
	if got := testenv.UnitLines(t, "systemd/"+u, "IPAddressDeny"); len(got) != 1 || got[0] != "any" {
		t.Errorf("IPAddressDeny=%q, want any", got)
	}
	// The overlay lands where the controller reads it, in the unit's
	// runtime directory, and the reload unit watches that file.
	rt := testenv.UnitLines(t, "systemd/"+u, "RuntimeDirectory")
	if len(rt) != 1 || mgmt.XDPOverlay != controller.OverlayPath || filepath.Dir(mgmt.XDPOverlay) != "/run/"+rt[0] {
		t.Errorf("overlay %s / %s is not in RuntimeDirectory=%q", mgmt.XDPOverlay, controller.OverlayPath, rt)
	}
	// DynamicUser + a preserved runtime directory = /run/private (0700):
	// supernode-xdp could not read the overlay.
	if got := testenv.UnitLines(t, "systemd/"+u, "RuntimeDirectoryPreserve"); len(got) != 0 && got[0] != "no" {
		t.Errorf("RuntimeDirectoryPreserve=%q with DynamicUser hides the overlay from supernode-xdp", got)
	}
	cond := testenv.UnitLines(t, "systemd/"+"appliance-firewall-reload@.service", "ConditionPathExists")
	if len(cond) != 1 || strings.Replace(cond[0], "%i", "supernode-xdp", 1) != controller.OverlayPath {
		t.Errorf("reload condition %q is not the overlay %s", cond, controller.OverlayPath)
	}
	if !strings.Contains(strings.Join(testenv.UnitLines(t, "systemd/"+u, "Wants"), " "), "appliance-firewall-reload@supernode-xdp.service") {
		t.Error("appliance-firewall.service does not pull in the XDP reload")
	}
}

func TestMgmtUnitHasNoCapability(t *testing.T) {
	u := "appliance-mgmt.service"
	if got := testenv.UnitLines(t, "systemd/"+u, "CapabilityBoundingSet"); len(got) != 1 || got[0] != "" {
		t.Errorf("CapabilityBoundingSet=%q, want empty", got)
	}
	if got := testenv.UnitLines(t, "systemd/"+u, "ImportCredential"); len(got) != 1 || got[0] != mgmt.Name+".*" {
		t.Errorf("ImportCredential=%q, want %s.*", got, mgmt.Name)
	}
	if got := testenv.UnitLines(t, "systemd/"+u, "ExecStart"); len(got) != 1 || !strings.HasSuffix(got[0], "-config "+mgmt.DefaultPath) {
		t.Errorf("ExecStart=%q does not read %s", got, mgmt.DefaultPath)
	}
}
