package fleet

import (
	"encoding/base64"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"time"
)

// Config is the fleet block of the supernode's configuration. Embed it in
// the daemon's config struct: conf.Load then fills it from the config file
// and from systemd credentials, so the key comes from the credential
// "supernode.fleet_key" ($CREDENTIALS_DIRECTORY/supernode.fleet_key) and never
// sits in the image.
type Config struct {
	// Bind is the memberlist (gossip) address, TCP and UDP. Unset = no
	// fleet: the supernode runs alone.
	Bind netip.AddrPort `conf:"fleet_bind"`
	// Advertise is the address other members reach Bind at, when Bind is
	// a wildcard or behind NAT. Default: Bind (or the first private IP).
	Advertise netip.Addr `conf:"fleet_advertise"`
	// DataPort is the UDP port of the encrypted data channel (replication,
	// forwarded lookups, introductions) on the same address; 0 = Bind's
	// port + 1.
	DataPort uint16 `conf:"fleet_data_port"`
	// Name identifies this member; default the host name. Unique per fleet.
	Name string `conf:"fleet_name"`
	// Allow lists the networks members talk from (CIDR). Gossip (TCP and
	// UDP) from any other source is refused before memberlist reads a
	// byte of it: memberlist buffers a whole stream before it can tell the
	// key is wrong. Default: the prefix of the interface that holds the
	// fleet_bind (or fleet_advertise) address.
	Allow []netip.Prefix `conf:"fleet_allow"`
	// Seeds are host:port gossip addresses of members to join at start
	// (any one alive member is enough).
	Seeds []string `conf:"fleet_seeds"`
	// Keys is the keyring: base64 AES keys of 16, 24 or 32 bytes, primary
	// first; the others are accepted while a rotation is under way.
	Keys []string `conf:"fleet_key"`
	// Replicas is R, the number of members owning each peer key.
	Replicas int `conf:"fleet_replicas"`
	// MaxEntries bounds the replicas this member stores for the fleet.
	MaxEntries int `conf:"fleet_max_entries"`
	// LookupTimeout is how long a forwarded lookup waits for one owner
	// before asking the next.
	LookupTimeout time.Duration `conf:"fleet_lookup_timeout"`
	// MemberRate bounds the data-channel messages accepted per second from
	// one member, so a misbehaving member cannot monopolise this one.
	MemberRate int `conf:"fleet_member_rate"`
	// ProbeInterval, ProbeTimeout and SuspicionMult tune memberlist's
	// failure detector (SWIM + Lifeguard); defaults are memberlist's LAN
	// profile: 1 s, 500 ms, 4.
	ProbeInterval time.Duration `conf:"fleet_probe_interval"`
	ProbeTimeout  time.Duration `conf:"fleet_probe_timeout"`
	SuspicionMult int           `conf:"fleet_suspicion_mult"`
	// RejoinInterval is how often failed members and absent seeds are
	// re-joined, which is what heals a partition (memberlist alone stops
	// talking to members it declared dead).
	RejoinInterval time.Duration `conf:"fleet_rejoin_interval"`
}

// DefaultConfig returns the compiled-in defaults (fleet disabled).
func DefaultConfig() Config {
	return Config{
		Replicas:       DefaultReplicas,
		MaxEntries:     4_000_000,
		LookupTimeout:  150 * time.Millisecond,
		MemberRate:     200_000,
		ProbeInterval:  time.Second,
		ProbeTimeout:   500 * time.Millisecond,
		SuspicionMult:  4,
		RejoinInterval: 10 * time.Second,
	}
}

// Enabled reports whether the fleet is configured.
func (c *Config) Enabled() bool { return c.Bind.IsValid() }

// Validate checks the block; each error names the key and the fix.
func (c *Config) Validate() error {
	if !c.Enabled() {
		return nil
	}
	if c.Bind.Port() == 0 {
		return fmt.Errorf("fleet_bind %s has no port; give one, e.g. 0.0.0.0:7946", c.Bind)
	}
	if len(c.Keys) == 0 {
		return fmt.Errorf("fleet_bind is set but fleet_key is empty; provide the fleet key as the systemd credential supernode.fleet_key (base64 of 32 random bytes, e.g. from `head -c32 /dev/urandom | base64`)")
	}
	if _, err := decodeKeys(c.Keys); err != nil {
		return err
	}
	if c.Replicas < 1 || c.Replicas > maxReplicas {
		return fmt.Errorf("fleet_replicas %d is out of range; use 1 to %d (2 survives one failure)", c.Replicas, maxReplicas)
	}
	if c.MaxEntries < 1 {
		return fmt.Errorf("fleet_max_entries %d must be positive", c.MaxEntries)
	}
	if c.LookupTimeout <= 0 || c.ProbeInterval <= 0 || c.ProbeTimeout <= 0 || c.RejoinInterval <= 0 {
		return fmt.Errorf("fleet_lookup_timeout, fleet_probe_interval, fleet_probe_timeout and fleet_rejoin_interval must be positive durations")
	}
	if c.ProbeTimeout >= c.ProbeInterval {
		return fmt.Errorf("fleet_probe_timeout %s must be shorter than fleet_probe_interval %s", c.ProbeTimeout, c.ProbeInterval)
	}
	if c.SuspicionMult < 1 {
		return fmt.Errorf("fleet_suspicion_mult %d must be at least 1", c.SuspicionMult)
	}
	if c.MemberRate < 1 {
		return fmt.Errorf("fleet_member_rate %d must be positive", c.MemberRate)
	}
	if c.DataPort == 0 && c.Bind.Port() == 65535 {
		return fmt.Errorf("fleet_bind port 65535 leaves no room for the data channel on port+1; set fleet_data_port")
	}
	for _, s := range c.Seeds {
		host, port, err := net.SplitHostPort(s)
		if err != nil || host == "" {
			return fmt.Errorf("fleet_seeds entry %q is not host:port", s)
		}
		if _, err := strconv.ParseUint(port, 10, 16); err != nil {
			return fmt.Errorf("fleet_seeds entry %q has a bad port", s)
		}
	}
	return nil
}

// AllowedPrefixes is who may talk to the fleet's ports: fleet_allow, or
// the prefix of the interface that holds fleet_advertise (else fleet_bind).
// The supernode accepts gossip only from these, and appliance-firewall
// opens the fleet's ports in nftables and XDP to exactly these.
func (c *Config) AllowedPrefixes() ([]netip.Prefix, error) {
	if len(c.Allow) > 0 {
		out := make([]netip.Prefix, len(c.Allow))
		for i, p := range c.Allow {
			out[i] = p.Masked()
		}
		return out, nil
	}
	ip := c.Bind.Addr()
	if c.Advertise.IsValid() {
		ip = c.Advertise
	}
	p, ok := interfacePrefix(ip.Unmap())
	if !ok {
		return nil, fmt.Errorf("fleet_bind %s is not an address of an interface of this host, so the members' network is unknown; set fleet_allow to it (CIDR, e.g. 10.0.0.0/24)", c.Bind)
	}
	return []netip.Prefix{p}, nil
}

// DataChannelPort is the UDP port of the data channel (fleet_data_port,
// or fleet_bind's port + 1).
func (c *Config) DataChannelPort() uint16 { return c.dataPort() }

// allowedNets is AllowedPrefixes as the IP networks memberlist checks.
func (c *Config) allowedNets() ([]net.IPNet, error) {
	prefixes, err := c.AllowedPrefixes()
	if err != nil {
		return nil, err
	}
	out := make([]net.IPNet, 0, len(prefixes))
	for _, p := range prefixes {
		p = p.Masked()
		out = append(out, net.IPNet{IP: p.Addr().AsSlice(), Mask: net.CIDRMask(p.Bits(), p.Addr().BitLen())})
		if p.Addr().Is4() { // memberlist may see IPv4 sources as v4-mapped
			out = append(out, net.IPNet{IP: net.IP(netip.AddrFrom16(p.Addr().As16()).AsSlice()), Mask: net.CIDRMask(96+p.Bits(), 128)})
		}
	}
	return out, nil
}

// interfacePrefix finds the interface network that holds ip.
func interfacePrefix(ip netip.Addr) (netip.Prefix, bool) {
	addrs, err := net.InterfaceAddrs()
	if err != nil || !ip.IsValid() || ip.IsUnspecified() {
		return netip.Prefix{}, false
	}
	for _, a := range addrs {
		n, ok := a.(*net.IPNet)
		if !ok {
			continue
		}
		ones, bits := n.Mask.Size()
		a, ok := netip.AddrFromSlice(n.IP)
		if !ok {
			continue
		}
		if a.Unmap() == ip {
			return netip.PrefixFrom(ip, ones-(bits-ip.BitLen())).Masked(), true
		}
	}
	return netip.Prefix{}, false
}

func (c *Config) dataPort() uint16 {
	if c.DataPort != 0 {
		return c.DataPort
	}
	return c.Bind.Port() + 1
}

// decodeKeys parses the keyring; memberlist accepts AES-128/192/256 keys.
func decodeKeys(keys []string) ([][]byte, error) {
	out := make([][]byte, 0, len(keys))
	for i, k := range keys {
		b, err := base64.StdEncoding.DecodeString(k)
		if err != nil {
			return nil, fmt.Errorf("fleet_key entry %d is not base64; generate one with `head -c32 /dev/urandom | base64`", i+1)
		}
		if n := len(b); n != 16 && n != 24 && n != 32 {
			return nil, fmt.Errorf("fleet_key entry %d decodes to %d bytes; it must be 16, 24 or 32 bytes (32 recommended)", i+1, n)
		}
		out = append(out, b)
	}
	return out, nil
}
