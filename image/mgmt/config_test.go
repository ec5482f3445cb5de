package mgmt_test

import (
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/supernode-appliance/appliance/ebpf/controller"
	"github.com/supernode-appliance/appliance/image/mgmt"
	"github.com/supernode-appliance/appliance/internal/conf"
	"github.com/supernode-appliance/appliance/supernode/daemonconf"
)

// Hostile operator input: each bad config is refused by Validate with one
// sentence that names the key, so the listener never starts half-configured.
func TestHostileConfig(t *testing.T) {
	p := newPKI(t)
	cert, key, ca := filepath.Join(p.dir, "cert.pem"), filepath.Join(p.dir, "key.pem"), filepath.Join(p.dir, "ca.pem")
	missing := filepath.Join(p.dir, "nope.pem")
	garbage := filepath.Join(p.dir, "garbage.pem")
	os.WriteFile(garbage, []byte("not a certificate\n"), 0o600)
	for _, tc := range []struct{ text, want string }{
		{"management_listen = 0.0.0.0:9443\n", "management_allow is empty"},
		{"management_listen = 0.0.0.0:9443\nmanagement_allow = 0.0.0.0/0\n", "large part of the internet"},
		{"management_listen = 0.0.0.0:9443\nmanagement_allow = ::/0\n", "large part of the internet"},
		{"management_listen = 0.0.0.0:9443\nmanagement_allow = 10.0.0.0/4\n", "at least /8"},
		{"management_listen = 0.0.0.0:9443\nmanagement_allow = ::ffff:10.0.0.0/104\n", "IPv4-mapped"},
		{"management_listen = 0.0.0.0:9443\nmanagement_allow = 10.0.0.300/24\n", "management_allow"},
		{"management_listen = 0.0.0.0:9443\nmanagement_allow = 10.0.0.0\n", "management_allow"},
		{"management_listen = nowhere\nmanagement_allow = 10.0.0.0/24\n", "not host:port"},
		{"management_listen = example.org:9443\nmanagement_allow = 10.0.0.0/24\n", "must be an IP address"},
		{"management_allow = 10.0.0.0/24\n", "management_listen is not"},
		{"management_listen = 0.0.0.0:9443\nmanagement_allow = 10.0.0.0/24\nmanagement_tls_cert = " + cert + "\n", "go together"},
		{"management_listen = 0.0.0.0:9443\nmanagement_allow = 10.0.0.0/24\nmanagement_client_ca = " + ca + "\n", "needs TLS"},
		{"management_listen = 0.0.0.0:9443\nmanagement_allow = 10.0.0.0/24\nmanagement_tls_cert = " + missing + "\nmanagement_tls_key = " + key + "\n", "cannot read " + missing},
		{"management_listen = 0.0.0.0:9443\nmanagement_allow = 10.0.0.0/24\nmanagement_tls_cert = " + key + "\nmanagement_tls_key = " + cert + "\n", "do not form a key pair"},
		{"management_listen = 0.0.0.0:9443\nmanagement_allow = 10.0.0.0/24\nmanagement_tls_cert = " + cert + "\nmanagement_tls_key = " + key + "\nmanagement_client_ca = " + garbage + "\n", "holds no PEM certificate"},
		{"management_listen = 0.0.0.0:9443\nmanagement_allow = 10.0.0.0/24\nmanagement_tls_cert = " + cert + "\nmanagement_tls_key = " + key + "\nmanagement_client_ca = " + missing + "\n", "management_client_ca: cannot read"},
	} {
		path := filepath.Join(t.TempDir(), "appliance-mgmt.conf")
		os.WriteFile(path, []byte(tc.text), 0o600)
		cfg := mgmt.DefaultConfig()
		err := conf.Load(&cfg, "", path, true)
		if err == nil {
			t.Errorf("accepted:\n%s", tc.text)
			continue
		}
		if msg := err.Error(); !strings.Contains(msg, tc.want) || strings.Contains(msg, "\n") {
			t.Errorf("config\n%s: error %q, want one line containing %q", tc.text, msg, tc.want)
		}
		if cfg.TLS() != nil {
			t.Errorf("config\n%s: refused but left a TLS configuration behind", tc.text)
		}
	}
	// And a good one is accepted, with mandatory client certificates.
	cfg := mgmt.DefaultConfig()
	path := filepath.Join(t.TempDir(), "ok.conf")
	os.WriteFile(path, []byte("management_listen = 0.0.0.0:9443\nmanagement_allow = 192.0.2.0/28, 2001:db8::/48\nmanagement_tls_cert = "+cert+"\nmanagement_tls_key = "+key+"\nmanagement_client_ca = "+ca+"\n"), 0o600)
	if err := conf.Load(&cfg, "", path, true); err != nil || cfg.TLS() == nil || cfg.TLS().ClientCAs == nil {
		t.Fatalf("good config: %v", err)
	}
}

// fleetConf is supernode.conf text as the firewall step reads it (without
// the supernode's own validation: see looseSupernode in appliance-mgmt).
func fleetConf(t *testing.T, text string) daemonconf.Config {
	t.Helper()
	var c struct{ C daemonconf.Config }
	c.C = daemonconf.Defaults()
	if err := conf.Parse(&c, strings.NewReader(text), "test"); err != nil {
		t.Fatal(err)
	}
	return c.C
}

func mgmtConf(listen string, allow ...string) mgmt.Config {
	c := mgmt.DefaultConfig()
	c.Listen = listen
	for _, a := range allow {
		c.Allow = append(c.Allow, netip.MustParsePrefix(a))
	}
	return c
}

func TestPlan(t *testing.T) {
	// Nothing configured: every set flushed and left empty, no overlay key.
	p, err := mgmt.PlanFor(daemonconf.Defaults(), mgmt.DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	if s := p.NftScript("inet filter"); strings.Contains(s, "add element") || strings.Count(s, "flush set") != 6 {
		t.Errorf("unconfigured appliance's nft script:\n%s", s)
	}
	if o := p.Overlay(); strings.Contains(o, "=") {
		t.Errorf("unconfigured appliance's XDP overlay adds something:\n%s", o)
	}

	f := fleetConf(t, "fleet_bind = 10.1.0.5:7946\nfleet_allow = 10.1.0.0/24, fd00:1::/64\n")
	p, err = mgmt.PlanFor(f, mgmtConf("0.0.0.0:9443", "192.0.2.0/28"))
	if err != nil {
		t.Fatal(err)
	}
	s := p.NftScript("inet filter")
	for _, want := range []string{"add element inet filter fleet4 { 10.1.0.0/24 }", "add element inet filter fleet6 { fd00:1::/64 }", "add element inet filter mgmt4 { 192.0.2.0/28 }"} {
		if !strings.Contains(s, want) {
			t.Errorf("nft script lacks %q:\n%s", want, s)
		}
	}
	if strings.Contains(s, "mgmt6 {") {
		t.Errorf("an IPv4-only management allow list filled mgmt6:\n%s", s)
	}
	// The overlay is read back by the XDP controller's own code.
	path := filepath.Join(t.TempDir(), "overlay.conf")
	os.WriteFile(path, []byte(p.Overlay()), 0o644)
	cfg := controller.DefaultConfig()
	if err := controller.ApplyOverlay(&cfg, path); err != nil {
		t.Fatalf("the controller refuses the overlay: %v\n%s", err, p.Overlay())
	}
	if !has(cfg.UDPPorts, 3478, 7946, 7947) || has(cfg.UDPPorts, 3479) || !has(cfg.TCPPorts, 7946, 9443) || len(cfg.Config.Allow) != 3 {
		t.Errorf("controller config after the overlay: udp %v tcp %v allow %v", cfg.UDPPorts, cfg.TCPPorts, cfg.Config.Allow)
	}
	if strings.Contains(s, "stunalt4 {") {
		t.Errorf("the alternate port opened without alternate_address:\n%s", s)
	}

	// RFC 5780's alternate port: open to everyone, but only with
	// alternate_address, and its port alone reaches the overlay (no
	// trusted source).
	p, err = mgmt.PlanFor(fleetConf(t, "alternate_address = 192.0.2.9\n"), mgmt.DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	s = p.NftScript("inet filter")
	for _, want := range []string{"add element inet filter stunalt4 { 0.0.0.0/0 }", "add element inet filter stunalt6 { ::/0 }"} {
		if !strings.Contains(s, want) {
			t.Errorf("nft script lacks %q:\n%s", want, s)
		}
	}
	if o := p.Overlay(); !strings.Contains(o, "udp_ports = 3479\n") || strings.Contains(o, "allow") {
		t.Errorf("overlay with alternate_address:\n%s", o)
	}
}

func has(ports []uint16, want ...uint16) bool {
	for _, w := range want {
		found := false
		for _, p := range ports {
			found = found || p == w
		}
		if !found {
			return false
		}
	}
	return true
}

// Hostile fleet and management settings for the firewall: refused with
// one sentence, never opened.
func TestPlanRefuses(t *testing.T) {
	for _, tc := range []struct {
		fleet, listen, allow, want string
	}{
		{"fleet_bind = 10.1.0.5:7946\nfleet_allow = 0.0.0.0/0\n", "", "", "fleet_allow: 0.0.0.0/0 would open the port to a large part of the internet"},
		{"fleet_bind = 10.1.0.5:7946\nfleet_allow = ::/0\n", "", "", "fleet_allow: ::/0"},
		{"fleet_bind = 10.1.0.5:7946\nfleet_allow = 10.0.0.0/24, 128.0.0.0/1\n", "", "", "fleet_allow: 128.0.0.0/1"},
		{"fleet_bind = 10.1.0.5:8000\nfleet_allow = 10.0.0.0/24\n", "", "", "differ from the firewall's fleet ports 7946 and 7947"},
		{"fleet_bind = 10.1.0.5:7946\nfleet_data_port = 9000\nfleet_allow = 10.0.0.0/24\n", "", "", "leave fleet_data_port unset"},
		// No fleet_allow and a bind address that is no interface's: the
		// members' network is unknown, as the supernode itself says.
		{"fleet_bind = 192.0.2.77:7946\n", "", "", "set fleet_allow"},
		{"", "0.0.0.0:8443", "10.0.0.0/24", "not on the firewall's management port 9443"},
		{"", "0.0.0.0:9443", "", "management_allow is empty"},
		{"", "0.0.0.0:9443", "0.0.0.0/0", "management_allow: 0.0.0.0/0"},
		{"alternate_address = 192.0.2.9\nalternate_port = 4000\n", "", "", "differs from the firewall's RFC 5780 port 3479"},
	} {
		m := mgmt.DefaultConfig()
		m.Listen = tc.listen
		if tc.allow != "" {
			m.Allow = []netip.Prefix{netip.MustParsePrefix(tc.allow)}
		}
		_, err := mgmt.PlanFor(fleetConf(t, tc.fleet), m)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("fleet %q listen %q allow %q: %v, want %q", tc.fleet, tc.listen, tc.allow, err, tc.want)
		}
	}
}

// The shipped appliance-mgmt.conf states the compiled-in defaults and
// leaves the listener off.
func TestShippedConfigIsDefaults(t *testing.T) {
	b, err := os.ReadFile("appliance-mgmt.conf")
	if err != nil {
		t.Fatal(err)
	}
	d := mgmt.DefaultConfig()
	for _, kv := range [][2]string{{"supernode_metrics_url", d.SupernodeURL}, {"xdp_metrics_url", d.XDPURL}, {"audit_metrics_file", d.AuditProm}, {"audit_report_file", d.AuditReport}} {
		if !strings.Contains(string(b), "\n#"+kv[0]+" = "+kv[1]+"\n") {
			t.Errorf("appliance-mgmt.conf does not state %s = %s", kv[0], kv[1])
		}
	}
	cfg := mgmt.DefaultConfig()
	if err := conf.Load(&cfg, "", "appliance-mgmt.conf", true); err != nil || cfg.Enabled() {
		t.Errorf("shipped config: %v, enabled %t", err, cfg.Enabled())
	}
}
