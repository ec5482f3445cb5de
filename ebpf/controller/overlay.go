package controller

import (
	"errors"
	"fmt"
	"net/netip"
	"os"
	"slices"

	"github.com/supernode-appliance/appliance/internal/conf"
)

// OverlayPath is where appliance-firewall (image/mgmt/) writes, at boot, what
// the appliance's configuration adds to the filter policy: the fleet's and
// the management listener's ports, and their prefixes as trusted sources,
// present only when the fleet or the listener is configured. nftables
// admits those ports only from the same prefixes.
const OverlayPath = "/run/appliance-firewall/supernode-xdp.conf"

// Overlay is the part of the policy an overlay may add to; it can only add
// ports, trusted sources and accepted special-purpose sources (a log
// collector on a private network: its replies would be dropped as bogons),
// never remove a check or a block.
type Overlay struct {
	UDPPorts    []uint16       `conf:"udp_ports"`
	TCPPorts    []uint16       `conf:"tcp_ports"`
	Allow       []netip.Prefix `conf:"allow"`
	AllowBogons []netip.Prefix `conf:"allow_bogons"`
}

// ApplyOverlay adds the overlay at path to cfg and validates the result.
// A missing file adds nothing. On error cfg is unchanged.
func ApplyOverlay(cfg *Config, path string) error {
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("cannot read the overlay %s: %v", path, err)
	}
	defer f.Close()
	var o Overlay
	if err := conf.Parse(&o, f, "overlay "+path); err != nil {
		return err
	}
	next := *cfg
	next.Config.UDPPorts = union(cfg.Config.UDPPorts, o.UDPPorts)
	next.Config.TCPPorts = union(cfg.Config.TCPPorts, o.TCPPorts)
	next.Config.Allow = union(cfg.Config.Allow, o.Allow)
	next.Config.AllowBogons = union(cfg.Config.AllowBogons, o.AllowBogons)
	if err := next.Validate(); err != nil {
		return fmt.Errorf("overlay %s: %w", path, err)
	}
	*cfg = next
	return nil
}

func union[T comparable](a, b []T) []T {
	out := slices.Clone(a)
	for _, v := range b {
		if !slices.Contains(out, v) {
			out = append(out, v)
		}
	}
	return out
}
