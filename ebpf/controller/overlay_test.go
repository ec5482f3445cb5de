package controller

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestOverlayAdds(t *testing.T) {
	cfg := DefaultConfig()
	if err := ApplyOverlay(&cfg, filepath.Join(t.TempDir(), "absent.conf")); err != nil || !slices.Equal(cfg.UDPPorts, DefaultConfig().UDPPorts) {
		t.Fatalf("a missing overlay changed the config: %v %v", err, cfg.UDPPorts)
	}
	path := filepath.Join(t.TempDir(), "o.conf")
	os.WriteFile(path, []byte("udp_ports = 7946, 7947, 3478\ntcp_ports = 7946\nallow = 10.1.0.0/24\nallow_bogons = 10.2.0.9/32\n"), 0o644)
	if err := ApplyOverlay(&cfg, path); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(cfg.UDPPorts, []uint16{3478, 7946, 7947}) || !slices.Equal(cfg.TCPPorts, []uint16{7946}) || len(cfg.Config.Allow) != 1 || len(cfg.Config.AllowBogons) != 1 {
		t.Errorf("after the overlay: udp %v tcp %v allow %v", cfg.UDPPorts, cfg.TCPPorts, cfg.Config.Allow)
	}
}

// A hostile or broken overlay changes nothing: it may only add ports and
// trusted sources, never remove a check, block or set another key.
func TestOverlayHostile(t *testing.T) {
	for _, text := range []string{
		"block = 192.0.2.0/24\n",             // not a key an overlay may set
		"udp_rate = 0\n",                     // nor a budget
		"stun_ports = \n",                    // nor a check
		"udp_ports = 0\n",                    // a bad port
		"udp_ports = 70000\n",                // out of range
		"allow = everyone\n",                 // not a prefix
		"allow_bogons = 10.0.0.0/33\n",       // nor this
		"udp_ports = 7946\nudp_ports = 53\n", // a key twice
		"\x00\xff garbage",
	} {
		path := filepath.Join(t.TempDir(), "o.conf")
		os.WriteFile(path, []byte(text), 0o644)
		cfg := DefaultConfig()
		err := ApplyOverlay(&cfg, path)
		if err == nil {
			t.Errorf("overlay %q accepted", text)
			continue
		}
		if strings.Contains(err.Error(), "\n") {
			t.Errorf("overlay %q: error is not one line: %q", text, err)
		}
		if !slices.Equal(cfg.UDPPorts, DefaultConfig().UDPPorts) || len(cfg.Config.Allow) != 0 {
			t.Errorf("overlay %q refused but changed the config", text)
		}
	}
}
