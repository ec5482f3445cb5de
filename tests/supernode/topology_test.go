package supernode

import (
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/supernode-appliance/appliance/tests/testenv"
)

// natNet is a small internet in network namespaces:
//
//	peerA 10.0.1.2 ── natA 10.0.1.1 | 198.51.100.1 ─┐
//	                                                 inet (router) ── sn 192.0.2.1 (supernode)
//	peerB 10.0.2.2 ── natB 10.0.2.1 | 203.0.113.1 ──┘
//
// The public addresses are documentation ranges (RFC 5737), so nothing
// here can reach a real host. The inet namespace only routes; captures on
// its interfaces see every datagram that crosses the "internet".
//
// With sameLAN both peers sit in 10.0.0.0/24 at 10.0.0.2 behind 10.0.0.1,
// as behind two stock home routers: each peer's host candidate is then also
// a valid address on the other's LAN (itself), which a client must survive.
type natNet struct {
	inet, sn, natA, natB, peerA, peerB *testenv.NS

	snIP, natAWAN, natBWAN, peerAIP, peerBIP netip.Addr
	// Interface names inside inet facing each neighbour.
	inetToSN, inetToA, inetToB string
	snIf                       string // the supernode's interface, inside sn
}

func newNATNet(t *testing.T, sameLAN bool) *natNet {
	t.Helper()
	testenv.RequireRoot(t)
	testenv.RequireCommands(t, "ip", "nft", "sysctl")
	n := &natNet{
		inet: testenv.NewNS(t, "sn-inet"), sn: testenv.NewNS(t, "sn-pub"),
		natA: testenv.NewNS(t, "sn-nata"), natB: testenv.NewNS(t, "sn-natb"),
		peerA: testenv.NewNS(t, "sn-peera"), peerB: testenv.NewNS(t, "sn-peerb"),
		snIP:    netip.MustParseAddr("192.0.2.1"),
		natAWAN: netip.MustParseAddr("198.51.100.1"), natBWAN: netip.MustParseAddr("203.0.113.1"),
		peerAIP: netip.MustParseAddr("10.0.1.2"), peerBIP: netip.MustParseAddr("10.0.2.2"),
	}
	n.inetToSN, n.snIf = testenv.Veth(t, n.inet, "192.0.2.254/24", n.sn, "192.0.2.1/24")
	var aWAN, bWAN string
	n.inetToA, aWAN = testenv.Veth(t, n.inet, "198.51.100.254/24", n.natA, "198.51.100.1/24")
	n.inetToB, bWAN = testenv.Veth(t, n.inet, "203.0.113.254/24", n.natB, "203.0.113.1/24")
	lanB := "10.0.2"
	if sameLAN {
		n.peerAIP = netip.MustParseAddr("10.0.0.2")
		n.peerBIP = n.peerAIP
		lanB = "10.0.0"
	}
	lanA := n.peerAIP.String()[:strings.LastIndexByte(n.peerAIP.String(), '.')]
	testenv.Veth(t, n.natA, lanA+".1/24", n.peerA, lanA+".2/24")
	testenv.Veth(t, n.natB, lanB+".1/24", n.peerB, lanB+".2/24")

	n.inet.Exec(t, "sysctl", "-qw", "net.ipv4.ip_forward=1")
	n.sn.Exec(t, "ip", "route", "add", "default", "via", "192.0.2.254")
	n.natA.Exec(t, "ip", "route", "add", "default", "via", "198.51.100.254")
	n.natB.Exec(t, "ip", "route", "add", "default", "via", "203.0.113.254")
	n.peerA.Exec(t, "ip", "route", "add", "default", "via", lanA+".1")
	n.peerB.Exec(t, "ip", "route", "add", "default", "via", lanB+".1")
	natRouter(t, n.natA, aWAN)
	natRouter(t, n.natB, bWAN)
	return n
}

// natRouter makes ns a home router: masquerade out of wan, drop unsolicited
// traffic in from wan.
//
// Why this NAT is endpoint-independent (RFC 4787 §4.1, REQ-1), which hole
// punching needs: Linux NAT keeps a flow's source port whenever the
// translated tuple is still unique, and with a single public address and
// one flow per destination it always is, so one inside ip:port maps to the
// same outside ip:port for every destination (`persistent` also keeps the
// outside address fixed per inside address when there are several).
// Filtering stays address-and-port-dependent (conntrack admits only
// replies), like most home routers, so both peers must send before either
// can receive: the simultaneous punch the supernode's introduction starts.
//
// The input/forward drops matter: conntrack only commits an entry when a
// packet survives all hooks, so a peer's probe arriving before our own
// punch is dropped without leaving an inbound entry that would clash with
// our later outbound flow and force the NAT to pick a new port.
func natRouter(t *testing.T, ns *testenv.NS, wan string) {
	t.Helper()
	ns.Exec(t, "sysctl", "-qw", "net.ipv4.ip_forward=1")
	rules := fmt.Sprintf(`table ip nat {
	chain postrouting {
		type nat hook postrouting priority srcnat; policy accept;
		oifname %q masquerade persistent
	}
}
table inet filter {
	chain input {
		type filter hook input priority filter; policy accept;
		iifname %q ct state new drop
	}
	chain forward {
		type filter hook forward priority filter; policy accept;
		iifname %q ct state new drop
	}
}
`, wan, wan, wan)
	path := filepath.Join(t.TempDir(), "nat.nft")
	if err := os.WriteFile(path, []byte(rules), 0o644); err != nil {
		t.Fatal(err)
	}
	ns.Exec(t, "nft", "-f", path)
}

// TestNATIsEndpointIndependent checks the topology itself, with coturn as
// the STUN server: one inside socket seen by two different server endpoints
// gets the same public mapping (RFC 5780 §4.3 mapping test), and that
// mapping is the NAT's WAN address.
func TestNATIsEndpointIndependent(t *testing.T) {
	n := newNATNet(t, false)
	sn := runner{n.sn}
	s1 := startCoturn(t, sn, n.snIP)
	s2 := startCoturn(t, sn, n.snIP)
	capA := startCapture(t, runner{n.inet}, n.inetToA)
	local := netip.AddrPortFrom(n.peerAIP, freeUDPPort(t, runner{n.peerA}, n.peerAIP))
	m1, err := pionBinding(runner{n.peerA}, local, s1, 2e9)
	if err != nil {
		t.Fatalf("binding to %s: %v", s1, err)
	}
	m2, err := pionBinding(runner{n.peerA}, local, s2, 2e9)
	if err != nil {
		t.Fatalf("binding to %s: %v", s2, err)
	}
	if m1.Addr() != n.natAWAN {
		t.Fatalf("mapped %s: not NAT A's public address %s", m1, n.natAWAN)
	}
	if m1 != m2 {
		t.Fatalf("mapping depends on the destination (%s via %s, %s via %s): hole punching would fail", m1, s1, m2, s2)
	}
	// The wire agrees: both requests left NAT A from the one mapping.
	seen := map[netip.AddrPort]bool{}
	dgs := capA.stop(t)
	for _, d := range dgs {
		if d.src == m1 {
			seen[d.dst] = true
		}
	}
	if !seen[s1] || !seen[s2] {
		t.Fatalf("capture between NAT A and the internet lacks %s > %s or > %s: saw %v", m1, s1, s2, seen)
	}
}
