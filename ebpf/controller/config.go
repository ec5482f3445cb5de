package controller

import (
	"fmt"
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

	ControlSocket string        `conf:"control_socket"`
	ControlGroup  string        `conf:"control_group"`
	MaxBlockTTL   time.Duration `conf:"max_block_ttl"`
	MetricsListen string        `conf:"metrics_listen"`
	Debug         bool          `conf:"debug"`

	// The filter policy (see ebpf/README.md "XDP filter program"): the
	// filter's own Config, whose fields carry their config keys. OwnAddrs
	// is completed with the interfaces' addresses before it is written.
	filter.Config
}

// DefaultConfig is the compiled-in configuration: the filter's own defaults,
// every Ethernet uplink by its predictable (en*) or classic (eth*) name.
func DefaultConfig() Config {
	return Config{
		Interfaces:    []string{"en*", "eth*"},
		Mode:          "auto",
		PinDir:        "/sys/fs/bpf/supernode-xdp",
		Rescan:        30 * time.Second,
		ControlSocket: control.DefaultSocket,
		MaxBlockTTL:   7 * 24 * time.Hour,
		MetricsListen: inventory.XDPMetrics.Listen(),
		Config:        filter.DefaultConfig(),
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
