package controller

import (
	"net/netip"
	"os"
	"path/filepath"
	"testing"

	"github.com/supernode-appliance/appliance/ebpf/filter"
)

// TestProtections: the never-block list comes from the files the host
// keeps (resolv.conf, timesyncd, networkd leases), names are skipped, and
// a report is refused when its block prefix overlaps any entry (an IPv6
// /64 holding a protected address included).
func TestProtections(t *testing.T) {
	dir := t.TempDir()
	write := func(name, text string) string {
		p := filepath.Join(dir, name)
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	defer func(r, n []string, l, k string, g func() []netip.Addr) {
		resolvConfs, timesyncdConfs, networkdLeases, networkdLinks, defaultGateways = r, n, l, k, g
	}(resolvConfs, timesyncdConfs, networkdLeases, networkdLinks, defaultGateways)
	resolvConfs = []string{write("resolv.conf", "# comment\nnameserver 198.19.2.53\nnameserver 2001:db8:53::1\nsearch example\n")}
	timesyncdConfs = []string{write("timesyncd.conf", "[Time]\nNTP=198.19.2.123 ntp.example.org\n#FallbackNTP=198.19.2.124\n")}
	networkdLeases = filepath.Join(dir, "leases", "*")
	write("leases/2", "ADDRESS=198.51.100.10\nSERVER_ADDRESS=198.51.100.1\nROUTER=198.51.100.254\n")
	networkdLinks = filepath.Join(dir, "links", "*")
	write("links/2", "DNS=203.0.113.53%2#dns.example\n")
	defaultGateways = func() []netip.Addr {
		return []netip.Addr{netip.MustParseAddr("fe80::1"), netip.MustParseAddr("203.0.113.1")}
	}

	cfg := DefaultConfig()
	cfg.NeverBlock = []netip.Prefix{netip.MustParsePrefix("100.64.7.0/24")}
	list := protections(cfg)
	for addr, protected := range map[string]bool{
		"198.19.2.53": true, "2001:db8:53::77": true, // same /64 as a resolver
		"198.19.2.123": true, "198.19.2.124": false, // commented out
		"198.51.100.1": true, "198.51.100.254": true, "198.51.100.10": false,
		"203.0.113.53": true, "203.0.113.1": true, "203.0.113.2": false,
		"100.64.7.99": true, "100.64.8.1": false, "2001:db8:54::1": false,
		"127.0.0.1": true, // an interface address (lo)
	} {
		_, got := protectedBy(list, blockPrefixOf(addr))
		if got != protected {
			t.Errorf("%s: protected = %v, want %v", addr, got, protected)
		}
	}
	// Connected subnets: lo's 127.0.0.0/8 only with never_block_connected.
	if _, got := protectedBy(list, blockPrefixOf("127.0.0.9")); !got {
		t.Errorf("127.0.0.9 in lo's subnet is not protected with never_block_connected = true")
	}
	cfg.NeverBlockConnected = false
	if _, got := protectedBy(protections(cfg), blockPrefixOf("127.0.0.9")); got {
		t.Errorf("127.0.0.9 is protected with never_block_connected = false")
	}
}

func blockPrefixOf(s string) netip.Prefix { return filter.BlockPrefix(netip.MustParseAddr(s)) }
