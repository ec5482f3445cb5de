package natlab

import (
	"encoding/json"
	"fmt"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/supernode-appliance/appliance/supernode/client"
	"github.com/supernode-appliance/appliance/tests/testenv"
)

// TestNATPMPMiniupnpd: `supernode-client port-map` asks miniupnpd (NAT-PMP,
// nftables backend; software nobody here wrote) on a type b router
// (address-and-port-dependent filtering) for a UDP mapping. Before it, a
// datagram from the internet to the peer's public port is filtered; after
// it, the same datagram reaches the peer's socket; after a delete
// (-lifetime 0) it is filtered again.
func TestNATPMPMiniupnpd(t *testing.T) {
	testenv.RequireCommands(t, "miniupnpd")
	bin := bins(t)
	l := New(t)
	r := l.Router(t, EIMAPDF, 0)
	p := r.Peers[0]
	lanGW := netip.MustParseAddr(fmt.Sprintf("%s.1", p.IP4.String()[:len(p.IP4.String())-2]))
	// miniupnpd refuses to map on a documentation or private address
	// (198.51.100.0/24 is one), so the router gets a second WAN address
	// it accepts, routed by the internet namespace. Nothing leaves the
	// namespaces.
	wan := netip.MustParseAddr("192.0.3.1")
	r.NS.Exec(t, "ip", "addr", "add", wan.String()+"/32", "dev", "wan")
	l.inet.Exec(t, "ip", "route", "add", wan.String()+"/32", "via", r.WAN4.String())

	// The router lets port-forwarded (DNAT) flows through its filter, as
	// a home router with UPnP/NAT-PMP does, and gives miniupnpd its chains.
	r.NS.Exec(t, "nft", "insert", "rule", "inet", "natlab_filter", "forward", "ct", "status", "dnat", "accept")
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
uuid=3d3cec3a-8cf0-11e0-98ee-001a6bd2d07b
allow 1024-65535 %s/32 1024-65535
deny 0-65535 0.0.0.0/0 0-65535
`, wan, p.IP4)), 0o644); err != nil {
		t.Fatal(err)
	}
	upnp, err := start("miniupnpd", r.NS.Cmd("miniupnpd", "-f", conf, "-d", "-4", "-P", filepath.Join(dir, "miniupnpd.pid")))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(upnp.stop)

	// The peer's socket, opened inside its namespace.
	var sock *net.UDPConn
	if err := p.NS.Do(func() error {
		var err error
		sock, err = net.ListenUDP("udp4", &net.UDPAddr{IP: p.IP4.AsSlice()})
		return err
	}); err != nil {
		t.Fatal(err)
	}
	defer sock.Close()
	port := sock.LocalAddr().(*net.UDPAddr).AddrPort().Port()
	public := netip.AddrPortFrom(wan, port)
	send := func(to netip.AddrPort, msg string) {
		t.Helper()
		if err := l.SN().Do(func() error {
			c, err := net.DialUDP("udp4", nil, net.UDPAddrFromAddrPort(to))
			if err != nil {
				return err
			}
			defer c.Close()
			_, err = c.Write([]byte(msg))
			return err
		}); err != nil {
			t.Fatal(err)
		}
	}
	received := func(msg string, wait time.Duration) bool {
		buf := make([]byte, 512)
		end := time.Now().Add(wait)
		for time.Now().Before(end) {
			sock.SetReadDeadline(end)
			n, _, err := sock.ReadFromUDPAddrPort(buf)
			if err != nil {
				return false
			}
			if string(buf[:n]) == msg {
				return true
			}
		}
		return false
	}

	send(public, "before")
	if received("before", time.Second) {
		t.Fatal("an unsolicited datagram got through router b before any mapping: the filter does not filter, the test proves nothing")
	}

	cli := filepath.Join(bin, "supernode-client")
	var out string
	deadline := time.Now().Add(10 * time.Second)
	for {
		cmd := p.NS.Cmd(cli, "port-map", "-json", "-gateway", lanGW.String(), "-port", fmt.Sprint(port), "-external", fmt.Sprint(port), "-lifetime", "10m")
		b, err := cmd.CombinedOutput()
		if err == nil {
			out = string(b)
			break
		}
		if upnp.exited(0) >= 0 || time.Now().After(deadline) {
			t.Fatalf("port-map: %v\n%s\n%s", err, b, upnp)
		}
		time.Sleep(200 * time.Millisecond) // miniupnpd still starting
	}
	var m client.PortMapping
	if err := json.Unmarshal([]byte(out), &m); err != nil {
		t.Fatalf("port-map -json printed %q: %v", out, err)
	}
	t.Logf("miniupnpd granted %+v", m)
	if m.External != public || m.Internal != port || m.Lifetime <= 0 {
		t.Fatalf("mapping %+v, want %s for internal port %d, and a lifetime", m, public, port)
	}
	send(m.External, "after")
	if !received("after", 3*time.Second) {
		t.Fatalf("a datagram to the mapped %s did not reach the peer\n%s\n%s", m.External, r.NS.Exec(t, "nft", "list", "ruleset"), upnp)
	}

	p.NS.Exec(t, cli, "port-map", "-gateway", lanGW.String(), "-port", fmt.Sprint(port), "-lifetime", "0")
	// conntrack still holds the flow the last datagram made; a new source
	// port is a new flow, which only a mapping would let in.
	send(m.External, "deleted")
	if received("deleted", time.Second) {
		t.Fatal("the mapping still lets datagrams in after the delete")
	}
}
