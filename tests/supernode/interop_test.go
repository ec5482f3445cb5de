package supernode

import (
	"context"
	"net"
	"net/netip"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/pion/stun/v3"
	"github.com/supernode-appliance/appliance/tests/loadgen"
	"github.com/supernode-appliance/appliance/tests/testenv"
)

var (
	loop4 = netip.MustParseAddr("127.0.0.1")
	loop6 = netip.MustParseAddr("::1")
)

// requireIPv6Loopback skips when ::1 is unavailable (IPv6 disabled).
func requireIPv6Loopback(t *testing.T) {
	t.Helper()
	if out, err := exec.Command("ip", "-6", "addr", "show", "dev", "lo").Output(); err != nil || !strings.Contains(string(out), "::1") {
		t.Skip("IPv6 loopback ::1 is not configured on this machine")
	}
}

// stunServers are the servers each third-party client is run against:
// ours, and coturn as the control that shows the tool and the test's
// reading of its output work, so a failure on ours is ours.
var stunServers = []struct {
	name  string
	start func(t *testing.T, ip netip.Addr) netip.AddrPort
}{
	{"supernode", func(t *testing.T, ip netip.Addr) netip.AddrPort {
		return startSupernode(t, runner{}, bins(t), ip).addr
	}},
	{"coturn", func(t *testing.T, ip netip.Addr) netip.AddrPort {
		return startCoturn(t, runner{}, ip)
	}},
}

// eachServer runs fn for every server and address family.
func eachServer(t *testing.T, ips []netip.Addr, fn func(t *testing.T, ip netip.Addr, server netip.AddrPort)) {
	for _, srv := range stunServers {
		for _, ip := range ips {
			t.Run(srv.name+"/"+ip.String(), func(t *testing.T) {
				if ip.Is6() {
					requireIPv6Loopback(t)
				}
				fn(t, ip, srv.start(t, ip))
			})
		}
	}
}

// TestTurnutilsStunclient: coturn's RFC 5389 client gets our server's
// answer and prints the mapped address, over IPv4 and IPv6.
func TestTurnutilsStunclient(t *testing.T) {
	testenv.RequireCommands(t, "turnutils_stunclient")
	eachServer(t, []netip.Addr{loop4, loop6}, func(t *testing.T, ip netip.Addr, server netip.AddrPort) {
		{
			out, err := exec.Command("turnutils_stunclient", "-p", itoa(server.Port()), ip.String()).CombinedOutput()
			if err != nil {
				t.Fatalf("turnutils_stunclient: %v\n%s", err, out)
			}
			// "0: : IPv4. UDP reflexive addr: 127.0.0.1:33358"
			m := regexp.MustCompile(`UDP reflexive addr: (\S+)`).FindAllStringSubmatch(string(out), -1)
			if len(m) == 0 {
				t.Fatalf("turnutils_stunclient printed no reflexive address:\n%s", out)
			}
			for _, g := range m {
				// coturn prints IPv6 as "::1:49943" (no brackets): the
				// port follows the last colon.
				i := strings.LastIndexByte(g[1], ':')
				addr, err := netip.ParseAddr(g[1][:i])
				port := atoi(g[1][i+1:])
				if err != nil || addr != ip || port < 1024 || port > 65535 {
					t.Fatalf("reflexive address %q, want %s and the client's ephemeral port\n%s", g[1], ip, out)
				}
			}
		}
	})
}

// TestClassicStunClient: Debian's `stun` (stund 0.97) speaks RFC 3489
// without the magic cookie; our server must answer with MAPPED-ADDRESS
// carrying the exact source address (the client binds the port we give).
// The tool is IPv4 only.
func TestClassicStunClient(t *testing.T) {
	testenv.RequireCommands(t, "stun")
	eachServer(t, []netip.Addr{loop4}, func(t *testing.T, ip netip.Addr, server netip.AddrPort) {
		src := freeUDPPort(t, runner{}, ip)
		// Test 1 of RFC 3489 §10.1: a plain Binding request, no CHANGE-REQUEST.
		cmd := exec.Command("stun", server.String(), "1", "-v", "-p", itoa(src))
		out, _ := cmd.CombinedOutput() // its exit status is a NAT-type bit mask, not success
		want := "MappedAddress = " + netip.AddrPortFrom(ip, src).String()
		if !strings.Contains(string(out), want) {
			t.Fatalf("stun client: want %q in its output:\n%s", want, out)
		}
	})
}

// TestPionClient: pion/stun, an independent RFC 8489 implementation, gets
// the exact source address back in XOR-MAPPED-ADDRESS, IPv4 and IPv6.
func TestPionClient(t *testing.T) {
	eachServer(t, []netip.Addr{loop4, loop6}, func(t *testing.T, ip netip.Addr, server netip.AddrPort) {
		local := netip.AddrPortFrom(ip, freeUDPPort(t, runner{}, ip))
		got, err := pionBinding(runner{}, local, server, 2*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		if got != local {
			t.Fatalf("XOR-MAPPED-ADDRESS %s, want %s", got, local)
		}
	})
}

// TestClientBindingAgainstCoturn: our client's plain Binding works against
// coturn's `turnserver --stun-only`, IPv4 and IPv6.
func TestClientBindingAgainstCoturn(t *testing.T) {
	bin := bins(t)
	for _, ip := range []netip.Addr{loop4, loop6} {
		t.Run(ip.String(), func(t *testing.T) {
			if ip.Is6() {
				requireIPv6Loopback(t)
			}
			addr := startCoturn(t, runner{}, ip)
			out := client(t, runner{}, bin, "binding", "-timeout", "3s", addr.String())
			f := strings.Fields(strings.TrimSpace(out))
			if len(f) != 2 || f[0] != "mapped" {
				t.Fatalf("want one line `mapped IP:PORT`, got %q", out)
			}
			got, err := netip.ParseAddrPort(f[1])
			if err != nil || got.Addr() != ip || got.Port() == 0 {
				t.Fatalf("mapped %q, want %s and a port", f[1], ip)
			}
		})
	}
}

// TestLoadgenAgainstServers: the benchmark's load generator is accepted by
// both servers it compares, and every answer carries the generator's own
// address (no "bad" answers), so the req/s it reports are real answers.
func TestLoadgenAgainstServers(t *testing.T) {
	eachServer(t, []netip.Addr{loop4, loop6}, func(t *testing.T, ip netip.Addr, server netip.AddrPort) {
		res, err := loadgen.Run(context.Background(), loadgen.Config{Target: server, Sockets: 2, Window: 4, Duration: 300 * time.Millisecond, CheckMapped: true})
		if err != nil {
			t.Fatal(err)
		}
		if res.Answered == 0 || res.Bad != 0 {
			t.Fatalf("want answers and no bad ones: %s", res)
		}
	})
}

// TestPionUnknownAttribute: a request carrying a comprehension-required
// attribute the server cannot know gets the RFC 8489 §7.3.1 answer, a 420
// error listing it in UNKNOWN-ATTRIBUTES, as decoded by pion/stun.
func TestPionUnknownAttribute(t *testing.T) {
	const unknown = stun.AttrType(0x7F31) // comprehension-required, unassigned
	eachServer(t, []netip.Addr{loop4, loop6}, func(t *testing.T, ip netip.Addr, server netip.AddrPort) {
		req := stun.MustBuild(stun.TransactionID, stun.BindingRequest,
			stun.RawAttribute{Type: unknown, Value: []byte{1, 2, 3, 4}}, stun.Fingerprint)
		resp := pionExchange(t, server, req.Raw)
		if resp.TransactionID != req.TransactionID {
			t.Fatalf("answer to another transaction: %x", resp.TransactionID)
		}
		if resp.Type != stun.NewType(stun.MethodBinding, stun.ClassErrorResponse) {
			t.Fatalf("answer of type %s, want a Binding error response", resp.Type)
		}
		var code stun.ErrorCodeAttribute
		if err := code.GetFrom(resp); err != nil || code.Code != stun.CodeUnknownAttribute {
			t.Fatalf("ERROR-CODE %v (%v), want 420", code, err)
		}
		var ua stun.UnknownAttributes
		if err := ua.GetFrom(resp); err != nil || len(ua) != 1 || ua[0] != unknown {
			t.Fatalf("UNKNOWN-ATTRIBUTES %v (%v), want [%s]", ua, err, unknown)
		}
	})
}

// pionExchange sends raw to server and decodes the first answer with
// pion/stun, checking its FINGERPRINT when there is one.
func pionExchange(t *testing.T, server netip.AddrPort, raw []byte) *stun.Message {
	t.Helper()
	conn, err := net.DialUDP("udp", nil, net.UDPAddrFromAddrPort(server))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	buf := make([]byte, 1500)
	for attempt := 0; attempt < 3; attempt++ {
		if _, err := conn.Write(raw); err != nil {
			t.Fatal(err)
		}
		conn.SetReadDeadline(time.Now().Add(time.Second))
		n, err := conn.Read(buf)
		if err != nil {
			continue
		}
		m := &stun.Message{Raw: append([]byte(nil), buf[:n]...)}
		if err := m.Decode(); err != nil {
			t.Fatalf("pion/stun cannot decode the answer: %v", err)
		}
		if m.Contains(stun.AttrFingerprint) {
			if err := stun.Fingerprint.Check(m); err != nil {
				t.Fatalf("answer's FINGERPRINT: %v", err)
			}
		}
		return m
	}
	t.Fatalf("no answer from %s", server)
	return nil
}
