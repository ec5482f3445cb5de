package server

import (
	"fmt"
	"github.com/supernode-appliance/appliance/internal/inventory"
	"net/netip"
	"time"

	"github.com/supernode-appliance/appliance/supernode/directory"
)

// Config is the server's part of supernode.conf. Defaults() gives the
// compiled-in values; supernode/supernode.conf documents every key.
type Config struct {
	Listen         []string      `conf:"listen"`          // UDP addresses; ":3478" is dual-stack IPv4+IPv6
	Sockets        int           `conf:"sockets"`         // SO_REUSEPORT sockets per address; 0 = one per CPU
	Batch          int           `conf:"batch"`           // datagrams per recvmmsg/sendmmsg; 1 = plain read/write
	MaxPeers       int           `conf:"max_peers"`       // directory bound; a full table refuses (471)
	Lease          time.Duration `conf:"lease"`           // registration lifetime without keepalive
	CookieLifetime time.Duration `conf:"cookie_lifetime"` // cookie time bucket; a cookie lives 1-2 buckets
	Software       string        `conf:"software"`        // SOFTWARE in Binding replies to requests that carry SOFTWARE; empty = never
	RateLimit      float64       `conf:"rate_limit"`      // requests per second per source address (IPv6: per /64); 0 = unlimited
	RateBurst      int           `conf:"rate_burst"`      // bucket depth
	AbuseThreshold int           `conf:"abuse_threshold"` // drops from one source within abuse_window before it is reported
	AbuseWindow    time.Duration `conf:"abuse_window"`
	AbuseTTL       time.Duration `conf:"abuse_ttl"`       // block time asked of the XDP controller
	QuotaIPv4Net24 int           `conf:"quota_ipv4_24"`   // peers per IPv4 /24; 0 = no limit
	QuotaIPv6Net64 int           `conf:"quota_ipv6_64"`   // peers per IPv6 /64; 0 = no limit
	QuotaIPv6Net48 int           `conf:"quota_ipv6_48"`   // peers per IPv6 /48; 0 = no limit
	IntroduceRate  float64       `conf:"introduce_rate"`  // introductions per second per requester and per target; 0 = unlimited
	IntroduceBurst int           `conf:"introduce_burst"` // their bucket depth
	AbuseSocket    string        `conf:"abuse_socket"`    // supernode-xdp control socket; empty = log only
	// RFC 5780 NAT behaviour discovery (discovery.go): a second IP of this
	// host, and the port served beside the listen port on both addresses.
	AlternateAddress string `conf:"alternate_address"` // empty = off: CHANGE-REQUEST gets 420, no OTHER-ADDRESS
	AlternatePort    int    `conf:"alternate_port"`    // 0 = any free port (tests)

	// Store replaces the built-in directory (the fleet layer sets it).
	Store directory.Store `conf:"-"`
	// Abuse replaces the reporter chosen by AbuseSocket (tests set it).
	Abuse AbuseReporter `conf:"-"`
}

// Defaults returns the compiled-in configuration.
func Defaults() Config {
	return Config{
		Listen:         []string{inventory.STUN.Listen()},
		Batch:          32,
		MaxPeers:       1_000_000,
		Lease:          30 * time.Second,
		CookieLifetime: 30 * time.Second,
		Software:       "",
		RateLimit:      50,
		RateBurst:      100,
		AbuseThreshold: 1000,
		AbuseWindow:    10 * time.Second,
		AbuseTTL:       10 * time.Minute,
		QuotaIPv4Net24: 4096,
		QuotaIPv6Net64: 256,
		QuotaIPv6Net48: 4096,
		IntroduceRate:  2,
		IntroduceBurst: 20,
		AlternatePort:  int(inventory.STUNAlternate.Port),
	}
}

// Validate checks ranges; each error names the key and the fix.
func (c *Config) Validate() error {
	if len(c.Listen) == 0 {
		return fmt.Errorf("listen is empty; give at least one UDP address such as :3478")
	}
	for _, l := range c.Listen {
		if _, err := parseListen(l); err != nil {
			return fmt.Errorf("listen: %q is not host:port (for example :3478, 0.0.0.0:3478 or [::]:3478)", l)
		}
	}
	switch {
	case c.Sockets < 0 || c.Sockets > 256:
		return fmt.Errorf("sockets = %d is out of range; use 0 (one per CPU) to 256", c.Sockets)
	case c.Batch < 1 || c.Batch > 1024:
		return fmt.Errorf("batch = %d is out of range; use 1 to 1024", c.Batch)
	case c.MaxPeers < 1 || c.MaxPeers > 1<<31:
		return fmt.Errorf("max_peers = %d is out of range; use 1 to 2147483648", c.MaxPeers)
	case c.Lease < 5*time.Second || c.Lease > time.Hour:
		return fmt.Errorf("lease = %s is out of range; use 5s to 1h", c.Lease)
	case c.CookieLifetime < time.Second || c.CookieLifetime > 10*time.Minute:
		return fmt.Errorf("cookie_lifetime = %s is out of range; use 1s to 10m", c.CookieLifetime)
	case len(c.Software) > 127:
		return fmt.Errorf("software is %d bytes; RFC 8489 allows at most 127 characters", len(c.Software))
	case c.RateLimit < 0:
		return fmt.Errorf("rate_limit must be positive (requests per second per source), or 0 for no limit")
	case c.RateBurst < 1:
		return fmt.Errorf("rate_burst must be at least 1")
	case c.QuotaIPv4Net24 < 0 || c.QuotaIPv6Net64 < 0 || c.QuotaIPv6Net48 < 0:
		return fmt.Errorf("quota_ipv4_24, quota_ipv6_64 and quota_ipv6_48 must be 0 (no limit) or a number of peers")
	case c.IntroduceRate < 0:
		return fmt.Errorf("introduce_rate must be positive (introductions per second per requester and per target), or 0 for no limit")
	case c.IntroduceBurst < 1:
		return fmt.Errorf("introduce_burst must be at least 1")
	case c.AbuseThreshold < 1:
		return fmt.Errorf("abuse_threshold must be at least 1")
	case c.AbuseWindow < time.Second:
		return fmt.Errorf("abuse_window must be at least 1s")
	case c.AbuseTTL < time.Second || c.AbuseTTL > MaxAbuseTTL:
		return fmt.Errorf("abuse_ttl = %s is out of range; use 1s to %s (a mistaken block must end by itself)", c.AbuseTTL, MaxAbuseTTL)
	case c.AlternatePort < 0 || c.AlternatePort > 65535:
		return fmt.Errorf("alternate_port = %d is out of range; use 1 to 65535 (default %d)", c.AlternatePort, inventory.STUNAlternate.Port)
	}
	_, _, err := c.discoveryAddrs()
	return err
}

// discoveryAddrs returns, when alternate_address is set, the index of the
// listen entry that is the primary address of RFC 5780 discovery and the
// alternate IP. Replies must name the address they come from
// (RESPONSE-ORIGIN), so the primary must be a listen entry with an
// explicit IP of the alternate's family.
func (c *Config) discoveryAddrs() (int, netip.Addr, error) {
	if c.AlternateAddress == "" {
		return -1, netip.Addr{}, nil
	}
	alt, err := netip.ParseAddr(c.AlternateAddress)
	if err != nil || alt.Zone() != "" || !alt.IsGlobalUnicast() && !alt.IsLoopback() && !alt.IsPrivate() {
		return -1, netip.Addr{}, fmt.Errorf("alternate_address = %q is not a unicast IP address of this host; give the second address (for example 192.0.2.2) or leave it empty", c.AlternateAddress)
	}
	alt = alt.Unmap()
	for i, l := range c.Listen {
		ap, err := parseListen(l)
		if err != nil || !ap.Addr().IsValid() || ap.Addr().IsUnspecified() || ap.Addr().Unmap().Is4() != alt.Is4() {
			continue
		}
		if ap.Addr().Unmap() == alt {
			return -1, netip.Addr{}, fmt.Errorf("alternate_address = %s is the listen address itself; give a second address of this host", alt)
		}
		if ap.Port() != 0 && int(ap.Port()) == c.AlternatePort {
			return -1, netip.Addr{}, fmt.Errorf("alternate_port = %d is the listen port; choose another port (default %d)", c.AlternatePort, inventory.STUNAlternate.Port)
		}
		return i, alt, nil
	}
	fam, example := "IPv4", "192.0.2.1:3478"
	if !alt.Is4() {
		fam, example = "IPv6", "[2001:db8::1]:3478"
	}
	return -1, netip.Addr{}, fmt.Errorf("alternate_address = %s needs a listen entry naming this host's primary %s address (for example listen = %s): RFC 5780 replies say which address they come from, which a wildcard listen address cannot", alt, fam, example)
}

// Directory is the configuration of the built-in directory table, for the
// server and for the fleet's attached table alike.
func (c *Config) Directory() directory.Config {
	return directory.Config{MaxPeers: c.MaxPeers, MaxLease: c.Lease, Quota: directory.Quota{
		IPv4Net24: c.QuotaIPv4Net24, IPv6Net64: c.QuotaIPv6Net64, IPv6Net48: c.QuotaIPv6Net48,
	}}
}

// parseListen accepts host:port with an empty, IPv4 or IPv6 host.
func parseListen(s string) (netip.AddrPort, error) {
	if len(s) > 0 && s[0] == ':' {
		ap, err := netip.ParseAddrPort("[::]" + s)
		return netip.AddrPortFrom(netip.Addr{}, ap.Port()), err
	}
	return netip.ParseAddrPort(s)
}
