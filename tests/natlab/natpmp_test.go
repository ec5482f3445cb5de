package natlab

import (
	"encoding/json"
	"fmt"
	"net"
	"net/netip"
	"path/filepath"
	"strings"
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
	wan, upnp := l.PortMapping(t, r)

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

// TestPortMapCandidate: `supernode-client listen` behind a c+pmp router
// (symmetric NAT with miniupnpd) maps its port by PCP, the supernode
// hands the mapped address out as a candidate (a lookup shows it, first
// among the host candidates), miniupnpd's forwarding rule exists while
// the client runs and is gone after SIGTERM (the client deletes its
// mapping); with -port-map=false nothing is mapped or announced.
func TestPortMapCandidate(t *testing.T) {
	bin := bins(t)
	l := New(t)
	sn := l.StartSupernode(t, bin)
	r := l.Router(t, APDMPortMap, 0)
	p, q := r.Peers[0], l.Router(t, EIMAPDF, 0).Peers[0]
	cli := filepath.Join(bin, "supernode-client")
	dir := t.TempDir()
	keyL, keyQ := filepath.Join(dir, "l.key"), filepath.Join(dir, "q.key")
	pubL := keygen(t, bin, keyL)
	keygen(t, bin, keyQ)
	rules := func() string {
		return r.NS.Exec(t, "nft", "list", "chain", "inet", "natlab_upnp", "prerouting_miniupnpd")
	}
	for _, enabled := range []bool{true, false} {
		listener, err := start("listen", p.NS.Cmd(cli, "listen", "-key", keyL, "-bind", p.IP4.String(), fmt.Sprintf("-port-map=%v", enabled), sn.Addr4.String()))
		if err != nil {
			t.Fatal(err)
		}
		if _, ok := listener.out.wait("registered ", 15*time.Second, listener.done); !ok {
			listener.stop()
			t.Fatalf("listener did not register\n%s", listener)
		}
		look := q.NS.Exec(t, cli, "lookup", "-key", keyQ, "-peer", pubL, "-bind", q.IP4.String(), sn.Addr4.String())
		t.Logf("port-map=%v: %s%s", enabled, listener.errb, look)
		mappedLine, mapped := listener.errb.find("supernode-client: port mapping: the gateway ")
		if mapped != enabled {
			listener.stop()
			t.Fatalf("port-map=%v: client mapped=%v\n%s", enabled, mapped, listener)
		}
		if !enabled {
			if strings.Contains(look, r.MapWAN.String()) || strings.Contains(rules(), "dnat") {
				t.Errorf("-port-map=false: a mapping was made or announced\n%s\n%s", look, rules())
			}
			listener.stop()
			continue
		}
		if !strings.Contains(mappedLine.text, "(pcp)") {
			t.Errorf("miniupnpd speaks PCP, but the client mapped by another protocol: %s", mappedLine.text)
		}
		ext := strings.Fields(strings.TrimPrefix(mappedLine.text, "supernode-client: port mapping: the gateway "))[3]
		if !strings.Contains(look, "local="+ext+",") || !strings.HasPrefix(ext, r.MapWAN.String()+":") {
			t.Errorf("the lookup does not carry the mapping %s as the first host candidate: %s", ext, look)
		}
		port := ext[strings.LastIndexByte(ext, ':')+1:]
		if !strings.Contains(rules(), "dport "+port) {
			t.Errorf("miniupnpd has no rule for port %s while the client runs:\n%s", port, rules())
		}
		listener.stop()
		if strings.Contains(rules(), "dport "+port) {
			t.Errorf("the mapping of port %s outlived the client:\n%s\n%s", port, rules(), listener)
		}
	}
}
