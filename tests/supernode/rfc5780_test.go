package supernode

import (
	"encoding/json"
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
