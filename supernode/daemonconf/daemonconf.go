// Package daemonconf is supernode.conf as a type: the server's keys, the
// fleet block and the daemon's own keys. The supernode daemon loads it, and
// so does appliance-firewall (image/mgmt/), which must open the fleet's ports
// from exactly the configuration the supernode runs with.
package daemonconf

import (
	"fmt"
	"time"

	"github.com/supernode-appliance/appliance/internal/inventory"
	"github.com/supernode-appliance/appliance/supernode/fleet"
	"github.com/supernode-appliance/appliance/supernode/server"
)

// Name is the config loader's name: the credentials supernode.conf and
// supernode.<key>.
const Name = "supernode"

// DefaultPath is the config file the unit names.
const DefaultPath = "/etc/supernode/supernode.conf"

// Config is supernode.conf: the server's keys plus the daemon's own.
type Config struct {
	server.Config
	Fleet          fleet.Config  // the fleet_* keys; no fleet_bind = a standalone supernode
	MetricsListen  string        `conf:"metrics_listen"`  // Prometheus /metrics; empty = off; never the public port
	StatusInterval time.Duration `conf:"status_interval"` // how often STATUS= is refreshed
	Debug          bool          `conf:"debug"`
}

// Validate checks the daemon's keys, the fleet block and the server's.
func (c *Config) Validate() error {
	if c.StatusInterval < time.Second {
		return fmt.Errorf("status_interval = %s is too short; use 1s or more", c.StatusInterval)
	}
	if err := c.Fleet.Validate(); err != nil {
		return err
	}
	return c.Config.Validate()
}

// Defaults are the compiled-in values supernode.conf states.
func Defaults() Config {
	return Config{Config: server.Defaults(), Fleet: fleet.DefaultConfig(), MetricsListen: inventory.SupernodeMetrics.Listen(), StatusInterval: 5 * time.Second}
}
