package supernode

import (
	"crypto/rand"
	"encoding/binary"
	"encoding/json"
	"net"
	"net/netip"
	"os/exec"
	"strings"
	"testing"

	"github.com/supernode-appliance/appliance/tests/testenv"
)

// loop4b is the second address of RFC 5780 servers on loopback: every
// 127.0.0.0/8 address is on lo, so no root and no namespace are needed.
var loop4b = netip.MustParseAddr("127.0.0.2")

// rfc5780Servers start ours and coturn with two addresses each and return
// the primary address and the OTHER-ADDRESS a client must learn.
var rfc5780Servers = []struct {
	name  string
	start func(t *testing.T) (server, other netip.AddrPort, sn *supernode)
}{
	{"supernode", func(t *testing.T) (netip.AddrPort, netip.AddrPort, *supernode) {
		alt := freeUDPPort(t, runner{}, loop4b)
		s := startSupernode(t, runner{}, bins(t), loop4, "alternate_address = "+loop4b.String(), "alternate_port = "+itoa(alt))
		return s.addr, netip.AddrPortFrom(loop4b, alt), s
	}},
	{"coturn", func(t *testing.T) (netip.AddrPort, netip.AddrPort, *supernode) {
		// coturn enables RFC 5780 when it listens on two addresses; its
		// alternate port is the listening port + 1.
		a := startCoturn(t, runner{}, loop4, loop4b)
		return a, netip.AddrPortFrom(loop4b, a.Port()+1), nil
	}},
}

// TestNATDiscoveryTurnutils: coturn's RFC 5780 client,
// turnutils_natdiscovery, runs its mapping and filtering tests against our
// server with two addresses and gets the same answers as from coturn
// itself (the control): OTHER-ADDRESS, an answer from the changed address
// and port naming it in RESPONSE-ORIGIN, and no NAT on loopback, so
// endpoint-independent mapping and filtering. The tool pads its requests
// with -P (1532 bytes); without it our server, unlike coturn, leaves the
// discovery attributes out, since they would make the answer larger than
// the request (no amplification), and the tool reports no RFC 5780.
func TestNATDiscoveryTurnutils(t *testing.T) {
	testenv.RequireCommands(t, "turnutils_natdiscovery", "turnserver")
	for _, srv := range rfc5780Servers {
		t.Run(srv.name, func(t *testing.T) {
			server, other, sn := srv.start(t)
			out, err := exec.Command("turnutils_natdiscovery", "-m", "-f", "-P", "-p", itoa(server.Port()), server.Addr().String()).CombinedOutput()
			if err != nil {
				t.Fatalf("turnutils_natdiscovery: %v\n%s", err, out)
			}
			for _, want := range []string{
				"Other addr: : " + other.String(),
				"Response origin: : " + other.String(), // filtering test II: change IP and port
				"NAT with Endpoint Independent Mapping!",
				"NAT with Endpoint Independent Filtering!",
			} {
				if !strings.Contains(string(out), want) {
					t.Errorf("want %q in turnutils_natdiscovery's output:\n%s", want, out)
				}
			}
			if sn != nil {
				if n := sn.metric(t, runner{}, "supernode_requests_total", `method="binding"`, `result="changed"`); n < 1 {
					t.Errorf("supernode_requests_total{binding,changed} = %v after the filtering test", n)
				}
			}
			out, _ = exec.Command("turnutils_natdiscovery", "-m", "-p", itoa(server.Port()), server.Addr().String()).CombinedOutput()
			if got := strings.Contains(string(out), "RFC 5780 response"); got != (sn == nil) {
				t.Errorf("unpadded requests: RFC 5780 answers %v, want %v (ours only for padded requests)\n%s", got, sn == nil, out)
			}
		})
	}
}

// TestNATTypeInterop: our `supernode-client nat-type` against coturn with
// two addresses (an RFC 5780 server nobody here wrote) and against ours
// gets the same result: the server's OTHER-ADDRESS, no NAT on loopback,
// endpoint-independent filtering (the changed-address answers came
// through). Against a one-address coturn it exits 4.
func TestNATTypeInterop(t *testing.T) {
	testenv.RequireCommands(t, "turnserver")
	bin := bins(t)
	for _, srv := range rfc5780Servers {
		t.Run(srv.name, func(t *testing.T) {
			server, other, _ := srv.start(t)
			out := client(t, runner{}, bin, "nat-type", "-json", "-server", server.String())
			var r struct {
				Other     string `json:"other_address"`
				Local     string `json:"local"`
				Mapped    string `json:"mapped"`
				NAT       bool   `json:"nat"`
				Mapping   string `json:"mapping"`
				Filtering string `json:"filtering"`
			}
			if err := json.Unmarshal([]byte(out), &r); err != nil {
				t.Fatalf("nat-type -json printed %q: %v", out, err)
			}
			if r.Other != other.String() || r.NAT || r.Mapped != r.Local || r.Mapping != "none" || r.Filtering != "endpoint-independent" {
				t.Fatalf("nat-type: %+v, want other %s, no NAT, endpoint-independent filtering", r, other)
			}
		})
	}
	t.Run("coturn-one-address", func(t *testing.T) {
		server := startCoturn(t, runner{}, loop4)
		cmd := exec.Command(bin+"/supernode-client", "nat-type", "-server", server.String())
		out, err := cmd.CombinedOutput()
		if cmd.ProcessState.ExitCode() != 4 || !strings.Contains(string(out), "discovery needs a second address") {
			t.Fatalf("exit %d (%v), output %q; want 4 and the sentence", cmd.ProcessState.ExitCode(), err, out)
		}
	})
}

// TestSpoofedChangeRequest (hostile): an attacker forges Binding requests
// with CHANGE-REQUEST from a victim's address, to make our alternate
// address and port reflect at the victim. tcpdump on the victim's link is
// the witness: every datagram from any of the supernode's addresses is no
// larger than the forged request it answers (matched by transaction ID),
// requests too small for a discovery answer draw nothing from a changed
// address, and the supernode counts them (change_too_small). The one
// exception is the plain Binding answer from the address the request went
// to (no CHANGE-REQUEST: the documented 1.6x, 12 bytes more than a bare
// request), which never carries the discovery attributes.
func TestSpoofedChangeRequest(t *testing.T) {
	bin := bins(t)
	n := newSpoofNet(t)
	alt := netip.MustParseAddr("192.0.2.2")
	n.sn.Exec(t, "ip", "addr", "add", alt.String()+"/24", "dev", n.snIf)
	altPort := freeUDPPort(t, runner{n.sn}, alt)
	capVictim := startCapture(t, runner{n.victim}, n.victimIf)
	sn := startSupernode(t, runner{n.sn}, bin, n.snIP, "alternate_address = "+alt.String(), "alternate_port = "+itoa(altPort))
	snAddrs := map[netip.Addr]bool{n.snIP: true, alt: true}

	type forged struct {
		size    int
		to      netip.AddrPort
		changed bool
	}
	requests := map[[12]byte]forged{}
	var reqBytes, small, plain int
	err := runner{n.attacker}.do(func() error {
		c, err := net.ListenUDP("udp4", net.UDPAddrFromAddrPort(netip.AddrPortFrom(n.victimIP, 0)))
		if err != nil {
			return err
		}
		defer c.Close()
		targets := []netip.AddrPort{sn.addr, netip.AddrPortFrom(alt, altPort), netip.AddrPortFrom(n.snIP, altPort), netip.AddrPortFrom(alt, sn.addr.Port())}
		for round := 0; round < 2; round++ { // 64 requests: within rate_burst (100)
			for _, to := range targets {
				for flags := byte(0); flags < 4; flags++ {
					for _, pad := range []int{0, 100} {
						m := stunRequest(flags<<1, pad)
						var tid [12]byte
						copy(tid[:], m[8:20])
						requests[tid] = forged{len(m), to, flags != 0}
						reqBytes += len(m)
						if flags != 0 && pad == 0 {
							small++
						}
						if flags == 0 && pad == 0 {
							plain++
						}
						if _, err := c.WriteToUDPAddrPort(m, to); err != nil {
							return err
						}
					}
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	var respBytes, nresp int
	for _, d := range capVictim.stop(t) {
		if !snAddrs[d.src.Addr()] {
			continue
		}
		nresp++
		respBytes += len(d.payload)
		tid, ok := transactionID(d.payload)
		req, found := requests[tid]
		switch {
		case !ok || !found:
			t.Errorf("victim got %s that answers no forged request", d)
		case req.changed && d.src == req.to:
			t.Errorf("a CHANGE-REQUEST to %s was answered from the same address", req.to)
		case len(d.payload) > req.size && (req.changed || len(d.payload) > req.size+12 || hasAttr(d.payload, 0x802C)):
			t.Errorf("amplification: victim got a %d-byte datagram from %s to a %d-byte forged request", len(d.payload), d.src, req.size)
		}
	}
	if nresp == 0 {
		t.Fatal("the victim got nothing: the forged requests never reached the supernode, the test proved nothing")
	}
	if respBytes > reqBytes+12*plain {
		t.Errorf("victim received %d bytes in %d datagrams for %d forged bytes (%d of them plain Bindings)", respBytes, nresp, reqBytes, plain)
	}
	if got := sn.metric(t, runner{n.sn}, "supernode_drops_total", `reason="change_too_small"`); got != float64(small) {
		t.Errorf("drops{change_too_small} = %v, want %d (every unpadded CHANGE-REQUEST)", got, small)
	}
	t.Logf("%d forged requests (%d bytes) drew %d datagrams (%d bytes) to the victim", len(requests), reqBytes, nresp, respBytes)
}

// stunRequest is a Binding request with CHANGE-REQUEST flags (0x04 change
// IP, 0x02 change port; 0: no CHANGE-REQUEST) and pad bytes of PADDING,
// built by hand (not with our codec).
func stunRequest(flags byte, pad int) []byte {
	b := []byte{0, 1, 0, 0, 0x21, 0x12, 0xa4, 0x42}
	tid := make([]byte, 12)
	rand.Read(tid)
	b = append(b, tid...)
	if flags != 0 {
		b = append(b, 0, 3, 0, 4, 0, 0, 0, flags)
	}
	if pad > 0 {
		b = append(b, 0, 0x26, byte(pad>>8), byte(pad))
		b = append(b, make([]byte, (pad+3)&^3)...)
	}
	binary.BigEndian.PutUint16(b[2:], uint16(len(b)-20))
	return b
}

// hasAttr reports whether STUN message b carries attribute type a.
func hasAttr(b []byte, a uint16) bool {
	for off := 20; off+4 <= len(b); {
		if binary.BigEndian.Uint16(b[off:]) == a {
			return true
		}
		off += 4 + (int(binary.BigEndian.Uint16(b[off+2:]))+3)&^3
	}
	return false
}
