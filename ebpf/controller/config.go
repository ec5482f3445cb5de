package controller

import (
	"fmt"
	"github.com/supernode-appliance/appliance/internal/inventory"
	"net/netip"
	"path"
	"path/filepath"
	"time"

	"github.com/supernode-appliance/appliance/ebpf/control"
	"github.com/supernode-appliance/appliance/ebpf/filter"
)

// Name is the daemon's name for the config loader: the file
// /etc/supernode/supernode-xdp.conf and the systemd credentials
// supernode-xdp.conf / supernode-xdp.<key>.
const Name = "supernode-xdp"

// DefaultConfigPath is read when -config is not given (absent is fine).
const DefaultConfigPath = "/etc/supernode/supernode-xdp.conf"

// Config is everything supernode-xdp reads from its config file. The filter
// policy keys map one to one onto filter.Config; the rest says where to
// attach and how the controller is reached.
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

	// Filter policy (see ebpf/README.md "XDP filter program").
	UDPPorts             []uint16       `conf:"udp_ports"`
	TCPPorts             []uint16       `conf:"tcp_ports"`
	STUNPorts            []uint16       `conf:"stun_ports"`
	DropServiceFragments bool           `conf:"drop_service_fragments"`
	AllowBogons          []netip.Prefix `conf:"allow_bogons"`
	Allow                []netip.Prefix `conf:"allow"`
	Block                []netip.Prefix `conf:"block"`
	OwnAddrs             []netip.Addr   `conf:"own_addrs"`
	UDPRate              uint32         `conf:"udp_rate"`
	UDPBurst             uint32         `conf:"udp_burst"`
	SYNRate              uint32         `conf:"syn_rate"`
	SYNBurst             uint32         `conf:"syn_burst"`
	ICMPRate             uint32         `conf:"icmp_rate"`
	ICMPBurst            uint32         `conf:"icmp_burst"`
	TrackRate            uint32         `conf:"track_rate"`
	TrackBurst           uint32         `conf:"track_burst"`
	EphemeralFirst       uint16         `conf:"ephemeral_first"`
	EphemeralLast        uint16         `conf:"ephemeral_last"`
	STUNMethodFirst      uint16         `conf:"stun_method_first"`
	STUNMethodLast       uint16         `conf:"stun_method_last"`
	ReflectorPorts       []uint16       `conf:"reflector_ports"`
}

// DefaultConfig is the compiled-in configuration: the filter's own defaults,
// every Ethernet uplink by its predictable (en*) or classic (eth*) name.
func DefaultConfig() Config {
	f := filter.DefaultConfig()
	return Config{
		Interfaces:    []string{"en*", "eth*"},
		Mode:          "auto",
		PinDir:        "/sys/fs/bpf/supernode-xdp",
		Rescan:        30 * time.Second,
		ControlSocket: control.DefaultSocket,
		MaxBlockTTL:   7 * 24 * time.Hour,
		MetricsListen: inventory.XDPMetrics.Listen(),

		UDPPorts:             f.UDPPorts,
		TCPPorts:             f.TCPPorts,
		STUNPorts:            f.STUNPorts,
		DropServiceFragments: f.DropServiceFragments,
		AllowBogons:          f.AllowBogons,
		Allow:                f.Allow,
		Block:                f.Block,
		OwnAddrs:             f.OwnAddrs,
		UDPRate:              f.UDPRate,
		UDPBurst:             f.UDPBurst,
		SYNRate:              f.SYNRate,
		SYNBurst:             f.SYNBurst,
		ICMPRate:             f.ICMPRate,
		ICMPBurst:            f.ICMPBurst,
		TrackRate:            f.TrackRate,
		TrackBurst:           f.TrackBurst,
		EphemeralFirst:       f.EphemeralFirst,
		EphemeralLast:        f.EphemeralLast,
		STUNMethodFirst:      f.STUNMethodFirst,
		STUNMethodLast:       f.STUNMethodLast,
		ReflectorPorts:       f.ReflectorPorts,
	}
}

// Filter returns the policy part as the filter package wants it.
func (c Config) Filter() filter.Config {
	return filter.Config{
		UDPPorts:             c.UDPPorts,
		TCPPorts:             c.TCPPorts,
		STUNPorts:            c.STUNPorts,
		DropServiceFragments: c.DropServiceFragments,
		AllowBogons:          c.AllowBogons,
		Allow:                c.Allow,
		Block:                c.Block,
		OwnAddrs:             c.OwnAddrs,
		UDPRate:              c.UDPRate,
		UDPBurst:             c.UDPBurst,
		SYNRate:              c.SYNRate,
		SYNBurst:             c.SYNBurst,
		ICMPRate:             c.ICMPRate,
		ICMPBurst:            c.ICMPBurst,
		TrackRate:            c.TrackRate,
		TrackBurst:           c.TrackBurst,
		EphemeralFirst:       c.EphemeralFirst,
		EphemeralLast:        c.EphemeralLast,
		STUNMethodFirst:      c.STUNMethodFirst,
		STUNMethodLast:       c.STUNMethodLast,
		ReflectorPorts:       c.ReflectorPorts,
	}
}

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
