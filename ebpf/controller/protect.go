package controller

import (
	"bufio"
	"encoding/binary"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"
)

// A report from the supernode names a source that sent it abuse, but a
// UDP source can be spoofed: without a guard, an attacker could have the
// appliance block its own gateway, resolver or time server, or a fleet
// peer (THREAT-MODEL.md). The controller therefore never blocks, on a
// report, a prefix that overlaps one of these. Everything but never_block
// is found on the host, again at every sync (DHCP may change it).

// protection is one protected prefix and why it is protected.
type protection struct {
	prefix netip.Prefix
	why    string
}

// Where the host keeps what it knows about its servers (variables so tests
// can point them at fixtures).
var (
	resolvConfs     = []string{"/etc/resolv.conf", "/run/systemd/resolve/resolv.conf"}
	timesyncdConfs  = []string{"/etc/systemd/timesyncd.conf", "/etc/systemd/timesyncd.conf.d/*.conf", "/run/systemd/timesyncd.conf.d/*.conf", "/usr/lib/systemd/timesyncd.conf.d/*.conf"}
	networkdLeases  = "/run/systemd/netif/leases/*"
	networkdLinks   = "/run/systemd/netif/links/*"
	defaultGateways = routeGateways
)

// protections lists what reports may never block: cfg.NeverBlock, the
// default gateways, the resolvers, the NTP servers timesyncd and networkd
// know by address, the DHCP servers of networkd's leases, every address of
// every interface and, with never_block_connected, their subnets.
func protections(cfg Config) []protection {
	var out []protection
	add := func(why string, ps ...netip.Prefix) {
		for _, p := range ps {
			if p.IsValid() {
				out = append(out, protection{p.Masked(), why})
			}
		}
	}
	host := func(a netip.Addr) netip.Prefix {
		a = a.Unmap().WithZone("")
		return netip.PrefixFrom(a, a.BitLen())
	}
	for _, p := range cfg.NeverBlock {
		add("listed in never_block", p)
	}
	for _, a := range defaultGateways() {
		add("a default gateway", host(a))
	}
	for _, f := range resolvConfs {
		for _, a := range keyAddrs(f, " ", "nameserver") {
			add("a resolver in "+f, host(a))
		}
	}
	for _, pattern := range timesyncdConfs {
		files, _ := filepath.Glob(pattern)
		for _, f := range files {
			for _, a := range keyAddrs(f, "=", "NTP", "FallbackNTP") {
				add("an NTP server in "+f, host(a))
			}
		}
	}
	links, _ := filepath.Glob(networkdLinks)
	for _, f := range links {
		for _, a := range keyAddrs(f, "=", "DNS", "NTP") {
			add("a server networkd uses ("+f+")", host(a))
		}
	}
	leases, _ := filepath.Glob(networkdLeases)
	for _, f := range leases {
		for _, a := range keyAddrs(f, "=", "SERVER_ADDRESS", "ROUTER", "DNS", "NTP") {
			add("a DHCP server or what it named ("+f+")", host(a))
		}
	}
	ifaces, _ := net.Interfaces()
	for _, i := range ifaces {
		addrs, _ := i.Addrs()
		for _, a := range addrs {
			p, err := netip.ParsePrefix(a.String())
			if err != nil {
				continue
			}
			add("an address of "+i.Name, host(p.Addr()))
			if cfg.NeverBlockConnected {
				add("the connected subnet of "+i.Name, p)
			}
		}
	}
	return out
}

// protectedBy returns why p may not be blocked on a report: the first
// protection that overlaps it (a blocked IPv6 /64 must not contain a
// protected address, and no address of a protected subnet is blocked).
func protectedBy(list []protection, p netip.Prefix) (protection, bool) {
	for _, pr := range list {
		if pr.prefix.Overlaps(p) {
			return pr, true
		}
	}
	return protection{}, false
}

// keyAddrs reads the IP literals given for keys in a "key<sep>values" file
// (resolv.conf: "nameserver 192.0.2.53"; systemd: "NTP=192.0.2.1 ntp.example").
// Names are skipped: resolving them would make the filter depend on DNS;
// list such servers' addresses in never_block.
func keyAddrs(path, sep string, keys ...string) []netip.Addr {
	f, err := os.Open(path)
	if err != nil {
		return nil
	}
	defer f.Close()
	var out []netip.Addr
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if strings.HasPrefix(line, "#") || strings.HasPrefix(line, ";") {
			continue
		}
		k, v, ok := strings.Cut(line, sep)
		if !ok || !slices.Contains(keys, strings.TrimSpace(k)) {
			continue
		}
		for _, field := range strings.Fields(v) {
			// networkd writes DNS servers as ADDR, ADDR%IFINDEX or
			// ADDR:PORT#NAME; keep the address.
			field, _, _ = strings.Cut(field, "#")
			if i := strings.LastIndexByte(field, '%'); i >= 0 && !strings.Contains(field[i:], "]") {
				field = field[:i]
			}
			if a, err := netip.ParseAddr(field); err == nil {
				out = append(out, a.WithZone(""))
			} else if ap, err := netip.ParseAddrPort(field); err == nil {
				out = append(out, ap.Addr().WithZone(""))
			}
		}
	}
	return out
}

// routeGateways returns the gateways of the default routes (RTM_GETROUTE
// dump, both families, every table: a route with prefix length 0 and an
// RTA_GATEWAY).
func routeGateways() []netip.Addr {
	var out []netip.Addr
	for _, family := range []int{unix.AF_INET, unix.AF_INET6} {
		rib, err := syscall.NetlinkRIB(unix.RTM_GETROUTE, family)
		if err != nil {
			continue
		}
		msgs, err := syscall.ParseNetlinkMessage(rib)
		if err != nil {
			continue
		}
		for _, m := range msgs {
			if m.Header.Type != unix.RTM_NEWROUTE || len(m.Data) < unix.SizeofRtMsg {
				continue
			}
			if m.Data[1] != 0 { // rtm_dst_len: only default routes
				continue
			}
			attrs, err := syscall.ParseNetlinkRouteAttr(&m)
			if err != nil {
				continue
			}
			for _, a := range attrs {
				switch a.Attr.Type {
				case unix.RTA_GATEWAY:
					if ip, ok := netip.AddrFromSlice(a.Value); ok {
						out = append(out, ip)
					}
				case unix.RTA_MULTIPATH:
					out = append(out, nexthopGateways(a.Value)...)
				}
			}
		}
	}
	return out
}

// nexthopGateways reads the gateways of an RTA_MULTIPATH list of struct
// rtnexthop (len u16, flags u8, hops u8, ifindex s32) + attributes.
func nexthopGateways(b []byte) []netip.Addr {
	var out []netip.Addr
	for len(b) >= 8 {
		l := int(binary.NativeEndian.Uint16(b[0:2]))
		if l < 8 || l > len(b) {
			break
		}
		attrs := b[8:l]
		for len(attrs) >= 4 {
			al := int(binary.NativeEndian.Uint16(attrs[0:2]))
			if al < 4 || al > len(attrs) {
				break
			}
			if binary.NativeEndian.Uint16(attrs[2:4]) == unix.RTA_GATEWAY {
				if ip, ok := netip.AddrFromSlice(attrs[4:al]); ok {
					out = append(out, ip)
				}
			}
			attrs = attrs[min((al+3)&^3, len(attrs)):]
		}
		b = b[min((l+3)&^3, len(b)):]
	}
	return out
}
