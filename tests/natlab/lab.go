package natlab

import (
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/supernode-appliance/appliance/supernode/client"
	"github.com/supernode-appliance/appliance/tests/testenv"
)

// Lab is the internet, the supernode's host and the routers.
type Lab struct {
	inet, sn *testenv.NS
	SN4, SN6 netip.Addr
	// SN4Alt is the supernode's second IPv4 address, its
	// alternate_address for RFC 5780 NAT behaviour discovery.
	SN4Alt netip.Addr
	// SN6Alt is the supernode host's second IPv6 address, the alternate
	// address of a second supernode for IPv6 discovery (StartDiscovery6).
	SN6Alt  netip.Addr
	routers map[routerKey]*Router
	// NATTypes is what `supernode-client nat-type` reported behind each
	// type (TestNATLab's nat-type step), for the matrix's column.
	NATTypes map[Type]client.NATBehaviour
	// NATTypes6 is the same over IPv6, for the IPv6 rows.
	NATTypes6 map[Type]client.NATBehaviour
	next      int
}

type routerKey struct {
	t     Type
	index int // two routers per type, so a-a crosses two NATs
}

// Router is one NAT router with two peers on its LAN.
type Router struct {
	Type  Type
	NS    *testenv.NS
	WAN4  netip.Addr
	WAN6  netip.Addr
	Peers [2]*Peer
	// inetIf is the internet router's interface towards this router.
	inetIf string
	index  int // the router's number in the lab, for its addresses
	// MapWAN is the public address miniupnpd maps on (PortMapping).
	MapWAN netip.Addr
	upnp   *proc
}

// Peer is a host namespace behind a router.
type Peer struct {
	NS     *testenv.NS
	IP4    netip.Addr
	IP6    netip.Addr
	Router *Router
}

// New builds the internet and the supernode's namespace; routers are made
// on first use by Router.
func New(t testing.TB) *Lab {
	t.Helper()
	testenv.RequireRoot(t)
	testenv.RequireCommands(t, "ip", "nft")
	l := &Lab{
		inet: testenv.NewNS(t, "nl-inet"), sn: testenv.NewNS(t, "nl-sn"),
		SN4: netip.MustParseAddr("192.0.2.1"), SN6: netip.MustParseAddr("2001:db8:5::1"),
		SN4Alt: netip.MustParseAddr("192.0.2.2"), SN6Alt: netip.MustParseAddr("2001:db8:5::2"),
		routers: map[routerKey]*Router{}, NATTypes: map[Type]client.NATBehaviour{}, NATTypes6: map[Type]client.NATBehaviour{},
	}
	testenv.Veth(t, l.inet, "192.0.2.254/24,2001:db8:5::fe/64", l.sn, "192.0.2.1/24,192.0.2.2/24,2001:db8:5::1/64,2001:db8:5::2/64")
	forwarding(t, l.inet)
	ipBatch(t, l.sn, []string{"route add default via 192.0.2.254", "route add default via 2001:db8:5::fe"})
	return l
}

// SN is the supernode's namespace.
func (l *Lab) SN() *testenv.NS { return l.sn }

// Router returns router number index (0 or 1) of type typ, building it
// the first time. Each namespace gets its links, addresses and routes in
// one `ip -batch` (process starts dominate on a loaded machine).
func (l *Lab) Router(t testing.TB, typ Type, index int) *Router {
	t.Helper()
	k := routerKey{typ, index}
	if r := l.routers[k]; r != nil {
		return r
	}
	i := l.next
	l.next++
	if i > 13 {
		t.Fatal("natlab: at most 14 routers")
	}
	r := &Router{
		Type: typ, NS: testenv.NewNS(t, fmt.Sprintf("nl-r%c%d", typ, index)),
		WAN4: netip.MustParseAddr(fmt.Sprintf("198.51.100.%d", 16*i+1)),
		WAN6: netip.MustParseAddr(fmt.Sprintf("2001:db8:f%x::1", i)),
	}
	inet4 := fmt.Sprintf("198.51.100.%d", 16*i+14)
	inet6 := fmt.Sprintf("2001:db8:f%x::fe", i)
	// The LAN: a bridge with two peers; type d's LAN is public.
	host4, plen := func(h int) string { return fmt.Sprintf("10.0.%d.%d", i, h) }, 24
	if typ == None {
		host4, plen = func(h int) string { return fmt.Sprintf("203.0.113.%d", 16*i+h) }, 28
	}
	lan6 := fmt.Sprintf("2001:db8:1%x::", i)
	for h := range r.Peers {
		r.Peers[h] = &Peer{
			NS:  testenv.NewNS(t, fmt.Sprintf("nl-p%c%d%d", typ, index, h)),
			IP4: netip.MustParseAddr(host4(2 + h)), IP6: netip.MustParseAddr(fmt.Sprintf("%s%d", lan6, 2+h)),
			Router: r,
		}
	}

	inetIf := fmt.Sprintf("r%d", i)
	r.inetIf = inetIf
	host := []string{fmt.Sprintf("link add wan netns %s type veth peer name %s netns %s", r.NS.Name, inetIf, l.inet.Name)}
	for h, p := range r.Peers {
		host = append(host, fmt.Sprintf("link add lan%d netns %s type veth peer name eth0 netns %s", h, r.NS.Name, p.NS.Name))
	}
	ipBatch(t, nil, host)
	ipBatch(t, l.inet, []string{
		fmt.Sprintf("addr add %s/28 dev %s", inet4, inetIf),
		fmt.Sprintf("addr add %s/64 dev %s nodad", inet6, inetIf),
		fmt.Sprintf("link set %s up", inetIf),
		fmt.Sprintf("route add %s/64 via %s", lan6, r.WAN6),
	})
	if typ == None {
		ipBatch(t, l.inet, []string{fmt.Sprintf("route add 203.0.113.%d/28 via %s", 16*i, r.WAN4)})
	}
	ipBatch(t, r.NS, []string{
		fmt.Sprintf("addr add %s/28 dev wan", r.WAN4),
		fmt.Sprintf("addr add %s/64 dev wan nodad", r.WAN6),
		"link set wan up",
		"link add br0 type bridge",
		fmt.Sprintf("addr add %s/%d dev br0", host4(1), plen),
		fmt.Sprintf("addr add %s1/64 dev br0 nodad", lan6),
		"link set br0 up",
		"link set lan0 master br0", "link set lan0 up",
		"link set lan1 master br0", "link set lan1 up",
		"route add default via " + inet4,
		"route add default via " + inet6,
	})
	for _, p := range r.Peers {
		ipBatch(t, p.NS, []string{
			fmt.Sprintf("addr add %s/%d dev eth0", p.IP4, plen),
			fmt.Sprintf("addr add %s/64 dev eth0 nodad", p.IP6),
			"link set eth0 up",
			"route add default via " + host4(1),
			fmt.Sprintf("route add default via %s1", lan6),
		})
		p.countSent(t, l)
	}
	forwarding(t, r.NS)
	if rules := typ.rules("wan", r.Peers[0].IP4.String()); rules != "" {
		nftFile(t, r.NS, rules)
	}
	r.index = i
	if typ.portMapping() {
		l.PortMapping(t, r)
	}
	l.routers[k] = r
	return r
}

// ipBatch runs `ip -batch -` in ns (nil: the host) with one command per line.
func ipBatch(t testing.TB, ns *testenv.NS, cmds []string) {
	t.Helper()
	args := []string{"ip", "-batch", "-"}
	if ns != nil {
		args = []string{"ip", "-n", ns.Name, "-batch", "-"}
	}
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Stdin = strings.NewReader(strings.Join(cmds, "\n") + "\n")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%s: %v\n%s\ncommands:\n%s", strings.Join(args, " "), err, out, strings.Join(cmds, "\n"))
	}
}

// forwarding turns on IPv4 and IPv6 forwarding in ns. /proc/sys/net is per
// network namespace of the thread that opens it, so no process is needed.
func forwarding(t testing.TB, ns *testenv.NS) {
	t.Helper()
	err := ns.Do(func() error {
		for _, f := range []string{"/proc/sys/net/ipv4/ip_forward", "/proc/sys/net/ipv6/conf/all/forwarding"} {
			if err := os.WriteFile(f, []byte("1\n"), 0o644); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatalf("forwarding in %s: %v", ns.Name, err)
	}
}

func nftFile(t testing.TB, ns *testenv.NS, rules string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "rules.nft")
	if err := os.WriteFile(path, []byte(rules), 0o644); err != nil {
		t.Fatal(err)
	}
	ns.Exec(t, "nft", "-f", path)
}

// countSent installs an output counter in the peer's namespace: UDP
// datagrams to anything but the supernode and the gateway's NAT-PMP/PCP
// port, i.e. what the client sends to peers (punches, probes, messages,
// echoes).
func (p *Peer) countSent(t testing.TB, l *Lab) {
	t.Helper()
	nftFile(t, p.NS, fmt.Sprintf(`table inet natlab_count {
	chain out {
		type filter hook output priority filter; policy accept;
		ip daddr != { %s, %s } udp dport != 5351 counter
		ip6 daddr != { %s, %s } meta l4proto udp counter
	}
}
`, l.SN4, l.SN4Alt, l.SN6, l.SN6Alt))
}

var counterRE = regexp.MustCompile(`counter packets (\d+)`)

// Sent is the number of datagrams the peer has sent to other peers so far.
func (p *Peer) Sent(t testing.TB) int {
	t.Helper()
	out := p.NS.Exec(t, "nft", "list", "table", "inet", "natlab_count")
	n := 0
	for _, m := range counterRE.FindAllStringSubmatch(out, -1) {
		v, _ := strconv.Atoi(m[1])
		n += v
	}
	return n
}

// Addr is the peer's address in the family.
func (p *Peer) Addr(v6 bool) netip.Addr {
	if v6 {
		return p.IP6
	}
	return p.IP4
}

// Impair adds delay and loss (tc netem) on every link of the internet
// router towards a NAT, so each direction of every path gets them once.
// It returns an error when the kernel has no netem qdisc, and a function
// that removes the impairment.
func (l *Lab) Impair(t testing.TB, delay time.Duration, lossPercent float64) (func(), error) {
	t.Helper()
	var ifs []string
	for _, r := range l.routers {
		ifs = append(ifs, r.inetIf)
	}
	var done []string
	undo := func() {
		for _, ifc := range done {
			l.inet.Cmd("tc", "qdisc", "del", "dev", ifc, "root").Run()
		}
	}
	for _, ifc := range ifs {
		out, err := l.inet.Cmd("tc", "qdisc", "add", "dev", ifc, "root", "netem",
			"delay", fmt.Sprintf("%dms", delay.Milliseconds()), "loss", fmt.Sprintf("%g%%", lossPercent)).CombinedOutput()
		if err != nil {
			undo()
			return nil, fmt.Errorf("tc qdisc add netem: %v: %s", err, strings.TrimSpace(string(out)))
		}
		done = append(done, ifc)
	}
	return undo, nil
}

// PortMapping runs miniupnpd (NAT-PMP and PCP, nftables backend) on router
// r for its LAN, as a home router with UPnP/NAT-PMP does: forwarded (DNAT)
// flows pass the router's filter, and miniupnpd adds its DNAT and accept
// rules to chains of its own. miniupnpd refuses to map on a documentation
// or private address (198.51.100.0/24 is one), so the router gets a
// second WAN address it accepts, 192.0.3.(16i+1), routed by the internet
// namespace; nothing leaves the namespaces. It returns that address and
// the daemon, once it listens.
func (l *Lab) PortMapping(t testing.TB, r *Router) (netip.Addr, *proc) {
	t.Helper()
	testenv.RequireCommands(t, "miniupnpd")
	if r.upnp != nil {
		return r.MapWAN, r.upnp
	}
	wan := netip.MustParseAddr(fmt.Sprintf("192.0.3.%d", 16*r.index+1))
	r.NS.Exec(t, "ip", "addr", "add", wan.String()+"/32", "dev", "wan")
	l.inet.Exec(t, "ip", "route", "add", wan.String()+"/32", "via", r.WAN4.String())
	if r.Type.filters(false) {
		r.NS.Exec(t, "nft", "insert", "rule", "inet", "natlab_filter", "forward", "ct", "status", "dnat", "accept")
	}
	nftFile(t, r.NS, `table inet natlab_upnp {
	chain forward {
		type filter hook forward priority -1; policy accept;
		jump miniupnpd
	}
	chain miniupnpd {
	}
	chain prerouting {
		type nat hook prerouting priority -101; policy accept;
		jump prerouting_miniupnpd
	}
	chain prerouting_miniupnpd {
	}
	chain postrouting {
		type nat hook postrouting priority 99; policy accept;
		jump postrouting_miniupnpd
	}
	chain postrouting_miniupnpd {
	}
}
`)
	lan := r.Peers[0].IP4.String()
	lan = lan[:strings.LastIndexByte(lan, '.')] + ".0/24"
	dir := t.TempDir()
	conf := filepath.Join(dir, "miniupnpd.conf")
	if err := os.WriteFile(conf, []byte(fmt.Sprintf(`ext_ifname=wan
ext_ip=%s
listening_ip=br0
enable_natpmp=yes
enable_upnp=no
secure_mode=yes
upnp_table_name=natlab_upnp
upnp_nat_table_name=natlab_upnp
upnp_forward_chain=miniupnpd
upnp_nat_chain=prerouting_miniupnpd
upnp_nat_postrouting_chain=postrouting_miniupnpd
uuid=3d3cec3a-8cf0-11e0-98ee-001a6bd2d0%02x
allow 1024-65535 %s 1024-65535
deny 0-65535 0.0.0.0/0 0-65535
`, wan, r.index, lan)), 0o644); err != nil {
		t.Fatal(err)
	}
	upnp, err := start("miniupnpd", r.NS.Cmd("miniupnpd", "-f", conf, "-d", "-4", "-P", filepath.Join(dir, "miniupnpd.pid")))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(upnp.stop)
	// -d logs to stderr: "miniupnpd[PID]: Listening for NAT-PMP/PCP traffic on port 5351".
	for deadline := time.Now().Add(10 * time.Second); !strings.Contains(upnp.errb.String(), "Listening for NAT-PMP/PCP"); {
		if upnp.exited(100*time.Millisecond) >= 0 || time.Now().After(deadline) {
			t.Fatalf("miniupnpd on %s does not listen for NAT-PMP\n%s", r.NS.Name, upnp)
		}
	}
	r.MapWAN, r.upnp = wan, upnp
	return wan, upnp
}
