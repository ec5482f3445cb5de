package natlab

import (
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"testing"

	"github.com/supernode-appliance/appliance/tests/testenv"
)

// Lab is the internet, the supernode's host and the routers.
type Lab struct {
	inet, sn *testenv.NS
	SN4, SN6 netip.Addr
	routers  map[routerKey]*Router
	next     int
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
	testenv.RequireCommands(t, "ip", "nft", "sysctl")
	l := &Lab{
		inet: testenv.NewNS(t, "nl-inet"), sn: testenv.NewNS(t, "nl-sn"),
		SN4: netip.MustParseAddr("192.0.2.1"), SN6: netip.MustParseAddr("2001:db8:5::1"),
		routers: map[routerKey]*Router{},
	}
	testenv.Veth(t, l.inet, "192.0.2.254/24,2001:db8:5::fe/64", l.sn, "192.0.2.1/24,2001:db8:5::1/64")
	forwarding(t, l.inet)
	l.sn.Exec(t, "ip", "route", "add", "default", "via", "192.0.2.254")
	l.sn.Exec(t, "ip", "-6", "route", "add", "default", "via", "2001:db8:5::fe")
	return l
}

// SN is the supernode's namespace.
func (l *Lab) SN() *testenv.NS { return l.sn }

// Router returns router number index (0 or 1) of type typ, building it
// the first time.
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
	inetIf4 := fmt.Sprintf("198.51.100.%d", 16*i+14)
	inetIf6 := fmt.Sprintf("2001:db8:f%x::fe", i)
	_, wan := testenv.Veth(t, l.inet, inetIf4+"/28,"+inetIf6+"/64", r.NS, r.WAN4.String()+"/28,"+r.WAN6.String()+"/64")
	forwarding(t, r.NS)
	r.NS.Exec(t, "ip", "route", "add", "default", "via", inetIf4)
	r.NS.Exec(t, "ip", "-6", "route", "add", "default", "via", inetIf6)

	// The LAN: a bridge with two peers.
	lan4, plen := fmt.Sprintf("10.0.%d.", i), 24
	if typ == None {
		lan4, plen = fmt.Sprintf("203.0.113.%d", 16*i), 28
	}
	host4 := func(h int) string {
		if typ == None {
			return fmt.Sprintf("203.0.113.%d", 16*i+h)
		}
		return fmt.Sprintf("%s%d", lan4, h)
	}
	lan6 := fmt.Sprintf("2001:db8:1%x::", i)
	r.NS.Exec(t, "ip", "link", "add", "br0", "type", "bridge")
	r.NS.Exec(t, "ip", "addr", "add", fmt.Sprintf("%s/%d", host4(1), plen), "dev", "br0")
	r.NS.Exec(t, "ip", "addr", "add", lan6+"1/64", "dev", "br0", "nodad")
	r.NS.Exec(t, "ip", "link", "set", "br0", "up")
	for h := range r.Peers {
		p := &Peer{
			NS:  testenv.NewNS(t, fmt.Sprintf("nl-p%c%d%d", typ, index, h)),
			IP4: netip.MustParseAddr(host4(2 + h)), IP6: netip.MustParseAddr(fmt.Sprintf("%s%d", lan6, 2+h)),
			Router: r,
		}
		rif, _ := testenv.Veth(t, r.NS, "", p.NS, fmt.Sprintf("%s/%d,%s/64", p.IP4, plen, p.IP6))
		r.NS.Exec(t, "ip", "link", "set", rif, "master", "br0")
		p.NS.Exec(t, "ip", "route", "add", "default", "via", host4(1))
		p.NS.Exec(t, "ip", "-6", "route", "add", "default", "via", lan6+"1")
		p.countSent(t, l)
		r.Peers[h] = p
	}
	if typ == None {
		l.inet.Exec(t, "ip", "route", "add", fmt.Sprintf("203.0.113.%d/28", 16*i), "via", r.WAN4.String())
	}
	l.inet.Exec(t, "ip", "-6", "route", "add", lan6+"/64", "via", r.WAN6.String())
	if rules := typ.rules(wan, r.Peers[0].IP4.String()); rules != "" {
		nftFile(t, r.NS, rules)
	}
	l.routers[k] = r
	return r
}

func forwarding(t testing.TB, ns *testenv.NS) {
	t.Helper()
	ns.Exec(t, "sysctl", "-qw", "net.ipv4.ip_forward=1")
	ns.Exec(t, "sysctl", "-qw", "net.ipv6.conf.all.forwarding=1")
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
// datagrams to anything but the supernode, i.e. what the client sends to
// peers (punches, probes, messages, echoes).
func (p *Peer) countSent(t testing.TB, l *Lab) {
	t.Helper()
	nftFile(t, p.NS, fmt.Sprintf(`table inet natlab_count {
	chain out {
		type filter hook output priority filter; policy accept;
		ip daddr != %s meta l4proto udp counter
		ip6 daddr != %s meta l4proto udp counter
	}
}
`, l.SN4, l.SN6))
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
