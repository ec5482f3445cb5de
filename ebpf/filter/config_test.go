package filter

import (
	"net/netip"
	"strings"
	"testing"

	"github.com/supernode-appliance/appliance/supernode/stun"
	"github.com/supernode-appliance/appliance/supernode/wire"
)

func TestDefaultConfigValid(t *testing.T) {
	if err := DefaultConfig().Validate(); err != nil {
		t.Fatal(err)
	}
}

// TestSupernodeMethodsAccepted keeps the default STUN method range in step
// with the supernode's wire protocol.
func TestSupernodeMethodsAccepted(t *testing.T) {
	c := DefaultConfig()
	for _, m := range []stun.Method{wire.MethodRegister, wire.MethodLookup, wire.MethodIntroduce, wire.MethodLeave, wire.MethodKeepalive} {
		if uint16(m) < c.STUNMethodFirst || uint16(m) > c.STUNMethodLast {
			t.Errorf("supernode method 0x%03x is outside the filter's default range 0x%03x-0x%03x", uint16(m), c.STUNMethodFirst, c.STUNMethodLast)
		}
	}
}

func TestValidateErrors(t *testing.T) {
	cases := []struct {
		name string
		edit func(*Config)
		want string
	}{
		{"udp port 0", func(c *Config) { c.UDPPorts = append(c.UDPPorts, 0) }, "UDP port 0"},
		{"tcp port 0", func(c *Config) { c.TCPPorts = []uint16{0} }, "TCP port 0"},
		{"stun port not served", func(c *Config) { c.STUNPorts = []uint16{3479} }, "STUN port 3479 is not a served UDP port"},
		{"served reflector port", func(c *Config) { c.UDPPorts = append(c.UDPPorts, 53) }, "port 53 is both"},
		{"invalid prefix", func(c *Config) { c.Block = []netip.Prefix{{}} }, "not a valid CIDR prefix"},
		{"mapped prefix", func(c *Config) { c.Allow = []netip.Prefix{netip.MustParsePrefix("::ffff:1.2.3.0/120")} }, "IPv4-mapped"},
		{"unspecified own address", func(c *Config) { c.OwnAddrs = []netip.Addr{netip.IPv4Unspecified()} }, "own address 0.0.0.0"},
		{"zero burst", func(c *Config) { c.UDPRate, c.UDPBurst = 10, 0 }, "UDP burst is 0"},
		{"huge rate", func(c *Config) { c.SYNRate = 2e9 }, "SYN rate 2000000000 exceeds"},
		{"ephemeral range", func(c *Config) { c.EphemeralFirst, c.EphemeralLast = 60999, 32768 }, "ephemeral port range"},
		{"stun methods", func(c *Config) { c.STUNMethodFirst, c.STUNMethodLast = 2, 0x1000 }, "STUN method range"},
		{"too many prefixes", func(c *Config) {
			for i := range maxPrefixes {
				c.Block = append(c.Block, netip.PrefixFrom(netip.AddrFrom4([4]byte{50, byte(i >> 8), byte(i), 0}), 24))
			}
		}, "exceed the filter's"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := DefaultConfig()
			tc.edit(&c)
			err := c.Validate()
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Validate() = %v, want an error containing %q", err, tc.want)
			}
			if strings.Count(err.Error(), "\n") != 0 || !strings.Contains(err.Error(), ";") {
				t.Fatalf("error %q is not one sentence naming the fix", err)
			}
		})
	}
}

// TestACLEntries checks the merge of the four source lists against a direct
// evaluation of the lists for many addresses, with a longest-prefix match
// over the merged table standing in for the kernel's trie.
func TestACLEntries(t *testing.T) {
	c := testConfig()
	c.Allow = append(c.Allow, netip.MustParsePrefix("10.9.0.0/16"), netip.MustParsePrefix("20.0.0.0/24"))
	c.Block = append(c.Block, netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("192.168.77.128/25"))
	c.AllowBogons = append(c.AllowBogons, netip.MustParsePrefix("fd00:1::/32"))
	entries := aclEntries(c)
	lookup := func(a netip.Addr) aclAction { return staticVerdict(entries, hostPrefix(a)) }
	in := func(a netip.Addr, ps []netip.Prefix) bool {
		for _, p := range ps {
			if p.Contains(a) {
				return true
			}
		}
		return false
	}
	direct := func(a netip.Addr) aclAction {
		for _, o := range c.OwnAddrs {
			if o == a {
				return xdpAclActionACL_OWN
			}
		}
		switch {
		case in(a, c.Allow):
			return xdpAclActionACL_ALLOW
		case in(a, c.Block):
			return xdpAclActionACL_BLOCK
		case in(a, bogons) && !in(a, c.AllowBogons):
			return xdpAclActionACL_BOGON
		}
		return xdpAclActionACL_NONE
	}
	var probes []netip.Addr
	for p := range entries {
		a := p.Addr()
		probes = append(probes, a, a.Prev(), a.Next())
		last := a
		for i := 0; i < a.BitLen()-p.Bits() && i < 24; i++ {
			last = last.Next()
		}
		probes = append(probes, last)
	}
	for _, s := range []string{"10.9.1.1", "10.8.1.1", "192.168.77.200", "192.168.77.5", "20.0.0.1", "20.0.0.2", "fd00:1::5", "fd00:2::5", "8.8.8.8", "2a00::1"} {
		probes = append(probes, netip.MustParseAddr(s))
	}
	for _, a := range probes {
		if !a.IsValid() {
			continue
		}
		if got, want := lookup(a), direct(a); got != want {
			t.Errorf("%v: merged table says %d, the lists say %d", a, got, want)
		}
	}
}

func TestReasonNames(t *testing.T) {
	rs := Reasons()
	if len(rs) < 30 || rs[0] != ReasonPassService {
		t.Fatalf("Reasons() = %v", rs)
	}
	seen := map[string]bool{}
	for _, r := range rs {
		s := r.String()
		if seen[s] || !strings.HasPrefix(s, r.Verdict()+"_") || s != r.Verdict()+"_"+r.Cause() {
			t.Fatalf("reason %d: String %q, Verdict %q, Cause %q", r, s, r.Verdict(), r.Cause())
		}
		seen[s] = true
	}
	if ReasonDropBogon.String() != "drop_bogon" || ReasonDropBogon.Cause() != "bogon" || !ReasonDropBogon.Drop() || ReasonPassARP.Drop() {
		t.Fatal("reason naming changed")
	}
}

// TestTrieCapacity: the tries keep room for the static lists and for
// MaxDynamicBlocks, the bound the controller's max_blocks may not exceed.
func TestTrieCapacity(t *testing.T) {
	spec, err := loadXdp()
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"acl4", "acl6"} {
		if got, want := spec.Maps[name].MaxEntries, uint32(maxPrefixes+MaxDynamicBlocks); got != want {
			t.Errorf("%s max_entries = %d, want maxPrefixes + MaxDynamicBlocks = %d (ACL_MAX_ENTRIES in xdp_filter.c)", name, got, want)
		}
	}
}
