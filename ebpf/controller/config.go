package controller

import (
	"fmt"
	"net/netip"
	"path"
	"path/filepath"
	"time"

	"github.com/supernode-appliance/appliance/ebpf/control"
	"github.com/supernode-appliance/appliance/ebpf/filter"
	"github.com/supernode-appliance/appliance/internal/inventory"
)

// Name is the daemon's name for the config loader: the file
// /etc/supernode/supernode-xdp.conf and the systemd credentials
// supernode-xdp.conf / supernode-xdp.<key>.
const Name = "supernode-xdp"

// DefaultConfigPath is read when -config is not given (absent is fine).
const DefaultConfigPath = "/etc/supernode/supernode-xdp.conf"

// Config is everything supernode-xdp reads from its config file: the
// filter policy (filter.Config, embedded) and where to attach and how the
// controller is reached.
type Config struct {
	// Interfaces are names or shell glob patterns (path.Match) of the
	// uplinks to filter. Interfaces that appear later are picked up.
	Interfaces []string `conf:"interfaces"`
	// Mode is "auto" (native, generic if the driver has no XDP support),
	// "native" (fail rather than run in the slower generic mode) or
	// "generic".
	Mode string `conf:"mode"`
	// PinDir is where maps and links are pinned on bpffs, so a restart or
	// upgrade of the controller never detaches the filter.
	PinDir string `conf:"pin_dir"`
	// Rescan is how often interfaces are listed again, as a backstop to the
	// netlink notifications, and expired blocks are removed.
	Rescan time.Duration `conf:"rescan_interval"`

	ControlSocket string `conf:"control_socket"`
	ControlGroup  string `conf:"control_group"`
	// MaxBlockTTL bounds an operator's forced block (force-block);
	// ReportMaxTTL caps the TTL of a block request (the supernode's abuse
	// reports): a longer one is shortened, not refused.
	MaxBlockTTL  time.Duration `conf:"max_block_ttl"`
	ReportMaxTTL time.Duration `conf:"report_max_ttl"`
	// MaxBlocks bounds the dynamic blocks in force; a report beyond it is
	// refused and counted (the filter's tries keep room for
	// filter.MaxDynamicBlocks).
	MaxBlocks int `conf:"max_blocks"`
	// NeverBlock are prefixes a report may never block (fleet members,
	// partners), besides what the controller finds itself: gateways,
	// resolvers, NTP and DHCP servers, own addresses and, with
	// NeverBlockConnected, the interfaces' subnets (protect.go).
	NeverBlock          []netip.Prefix `conf:"never_block"`
	NeverBlockConnected bool           `conf:"never_block_connected"`
	MetricsListen       string         `conf:"metrics_listen"`
	Debug               bool           `conf:"debug"`

	// The filter policy (see ebpf/README.md "XDP filter program"): the
	// filter's own Config, whose fields carry their config keys. OwnAddrs
	// is completed with the interfaces' addresses before it is written.
	filter.Config
}

// DefaultConfig is the compiled-in configuration: the filter's own defaults,
// every Ethernet uplink by its predictable (en*) or classic (eth*) name.
func DefaultConfig() Config {
	return Config{
		Interfaces:          []string{"en*", "eth*"},
		Mode:                "auto",
		PinDir:              "/sys/fs/bpf/supernode-xdp",
		Rescan:              30 * time.Second,
		ControlSocket:       control.DefaultSocket,
		MaxBlockTTL:         7 * 24 * time.Hour,
		ReportMaxTTL:        10 * time.Minute,
		MaxBlocks:           16384,
		NeverBlockConnected: true,
		MetricsListen:       inventory.XDPMetrics.Listen(),
		Config:              filter.DefaultConfig(),
	}
}

// Filter returns the policy part as the filter package wants it.
func (c Config) Filter() filter.Config { return c.Config }

// Validate checks the controller's own keys, then the filter policy. Each
// error names the key and says what would be accepted.
func (c Config) Validate() error {
	if len(c.Interfaces) == 0 {
		return fmt.Errorf("interfaces is empty; name at least one uplink or pattern, e.g. interfaces = en*, eth*")
	}
	for _, p := range c.Interfaces {
		if _, err := path.Match(p, "x"); err != nil {
			return fmt.Errorf("interfaces: %q is not a valid glob pattern; use names or patterns like en*", p)
		}
	}
	switch c.Mode {
	case "auto", "native", "generic":
	default:
		return fmt.Errorf("mode = %q is not known; use auto, native or generic", c.Mode)
	}
	if !filepath.IsAbs(c.PinDir) {
		return fmt.Errorf("pin_dir = %q must be an absolute path on a bpffs mount, e.g. /sys/fs/bpf/supernode-xdp", c.PinDir)
	}
	if !filepath.IsAbs(c.ControlSocket) {
		return fmt.Errorf("control_socket = %q must be an absolute path, e.g. %s", c.ControlSocket, control.DefaultSocket)
	}
	if c.Rescan < time.Second {
		return fmt.Errorf("rescan_interval = %s is too short; use 1s or more", c.Rescan)
	}
	if c.MaxBlockTTL < time.Second {
		return fmt.Errorf("max_block_ttl = %s is too short; use 1s or more", c.MaxBlockTTL)
	}
	if c.ReportMaxTTL < time.Second || c.ReportMaxTTL > c.MaxBlockTTL {
		return fmt.Errorf("report_max_ttl = %s is out of range; use 1s to max_block_ttl (%s)", c.ReportMaxTTL, c.MaxBlockTTL)
	}
	if c.MaxBlocks < 1 || c.MaxBlocks > filter.MaxDynamicBlocks {
		return fmt.Errorf("max_blocks = %d is out of range; use 1 to %d, the room the filter keeps for dynamic blocks", c.MaxBlocks, filter.MaxDynamicBlocks)
	}
	for _, p := range c.NeverBlock {
		if !p.IsValid() || p.Addr().Zone() != "" {
			return fmt.Errorf("never_block: %v is not a valid CIDR prefix; write it as ADDRESS/BITS", p)
		}
	}
	if err := c.Filter().Validate(); err != nil {
		return err
	}
	return nil
}

// matches reports whether an interface name is selected by the config.
func (c Config) matches(name string) bool {
	for _, p := range c.Interfaces {
		if ok, _ := path.Match(p, name); ok {
			return true
		}
	}
	return false
}
