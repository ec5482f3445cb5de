package natlab

import (
	"cmp"
	"encoding/json"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/supernode-appliance/appliance/supernode/client"
)

// Case is one pair and direction: a peer behind Puncher runs
// `supernode-client punch`, a peer behind Listener runs `listen`.
type Case struct {
	Puncher, Listener Type
	SameNAT           bool // both peers behind one router of type Puncher
	V6                bool
}

func (c Case) String() string {
	fam := "IPv4"
	if c.V6 {
		fam = "IPv6"
	}
	if c.SameNAT {
		if c.V6 {
			return fmt.Sprintf("%s same router (%s)", fam, c.Puncher.Describe6())
		}
		return fmt.Sprintf("%s same NAT %s", fam, c.Puncher)
	}
	if c.V6 {
		return fmt.Sprintf("%s %s-%s", fam, c.Puncher.Describe6(), c.Listener.Describe6())
	}
	return fmt.Sprintf("%s %s-%s", fam, c.Puncher, c.Listener)
}

// Possible is the theory column.
func (c Case) Possible() (bool, string) { return Possible(c.Puncher, c.Listener, c.SameNAT, c.V6) }

// Predictable: impossible without prediction, possible with it.
func (c Case) Predictable() bool {
	ok, _ := c.Possible()
	return !ok && Predictable(c.Puncher, c.Listener, c.SameNAT, c.V6)
}

// Cases is the whole matrix: every IPv4 pair of types in both directions,
// same-NAT for every NAT type, and IPv6 with and without a firewall.
func Cases() []Case {
	var cs []Case
	for _, p := range Types {
		for _, l := range Types {
			cs = append(cs, Case{Puncher: p, Listener: l})
		}
	}
	// c+pmp against every type, and c against c+pmp, sort after the rest.
	slices.SortStableFunc(cs, func(a, b Case) int {
		return cmp.Compare(pmpRank(a), pmpRank(b))
	})
	for _, t := range []Type{EIM, EIMAPDF, APDM} {
		cs = append(cs, Case{Puncher: t, Listener: t, SameNAT: true})
	}
	for _, p := range []Type{EIMAPDF, None} {
		for _, l := range []Type{EIMAPDF, None} {
			cs = append(cs, Case{Puncher: p, Listener: l, V6: true})
		}
	}
	cs = append(cs, Case{Puncher: EIMAPDF, Listener: EIMAPDF, SameNAT: true, V6: true})
	return cs
}

func pmpRank(c Case) int {
	if c.Puncher.portMapping() || c.Listener.portMapping() {
		return 1
	}
	return 0
}

// Supernode is bin/supernode running in the lab.
type Supernode struct {
	Addr4, Addr6 netip.AddrPort
	// Second is another port of the same server, for mapping tests.
	Second4 netip.AddrPort
	// AltPort is alternate_port: with SN4Alt the server offers RFC 5780
	// NAT behaviour discovery on SN4 and SN4Alt, ports 3478 and 3480.
	AltPort uint16
	p       *proc
}

// StartSupernode runs bin/supernode in the supernode's namespace on port
// 3478 of both addresses (and 3479 on IPv4) and waits until it answers.
func (l *Lab) StartSupernode(t testing.TB, bin string) *Supernode {
	t.Helper()
	s := &Supernode{
		Addr4: netip.AddrPortFrom(l.SN4, 3478), Addr6: netip.AddrPortFrom(l.SN6, 3478),
		Second4: netip.AddrPortFrom(l.SN4, 3479), AltPort: 3480,
	}
	conf := fmt.Sprintf("listen = %s, %s, %s\nmetrics_listen = 127.0.0.1:9478\nalternate_address = %s\nalternate_port = %d\n",
		s.Addr4, s.Second4, s.Addr6, l.SN4Alt, s.AltPort)
	path := filepath.Join(t.TempDir(), "supernode.conf")
	if err := os.WriteFile(path, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	p, err := start("supernode", l.sn.Cmd(filepath.Join(bin, "supernode"), "-config", path))
	if err != nil {
		t.Fatal(err)
	}
	s.p = p
	t.Cleanup(p.stop)
	deadline := time.Now().Add(15 * time.Second)
	for _, a := range []netip.AddrPort{s.Addr4, s.Addr6} {
		for {
			cmd := l.sn.Cmd(filepath.Join(bin, "supernode-client"), "binding", "-timeout", "500ms", a.String())
			if cmd.Run() == nil {
				break
			}
			if p.exited(0) >= 0 || time.Now().After(deadline) {
				t.Fatalf("supernode does not answer on %s\n%s", a, p)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	return s
}

// StartDiscovery6 runs a second bin/supernode for RFC 5780 discovery over
// IPv6: the server takes one alternate address, of one family, so this
// one listens on [SN6]:3490 with alternate_address SN6Alt and
// alternate_port 3491. It returns its address once it answers.
func (l *Lab) StartDiscovery6(t testing.TB, bin string) netip.AddrPort {
	t.Helper()
	a := netip.AddrPortFrom(l.SN6, 3490)
	conf := fmt.Sprintf("listen = %s\nmetrics_listen = 127.0.0.1:9479\nalternate_address = %s\nalternate_port = 3491\n", a, l.SN6Alt)
	path := filepath.Join(t.TempDir(), "supernode6.conf")
	if err := os.WriteFile(path, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	p, err := start("supernode6", l.sn.Cmd(filepath.Join(bin, "supernode"), "-config", path))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.stop)
	deadline := time.Now().Add(15 * time.Second)
	for l.sn.Cmd(filepath.Join(bin, "supernode-client"), "binding", "-timeout", "500ms", a.String()).Run() != nil {
		if p.exited(0) >= 0 || time.Now().After(deadline) {
			t.Fatalf("the IPv6 discovery supernode does not answer on %s\n%s", a, p)
		}
		time.Sleep(100 * time.Millisecond)
	}
	return a
}

// NATType runs `supernode-client nat-type -json` on peer p against the
// supernode's IPv4 address and returns what it reported.
func (l *Lab) NATType(t testing.TB, bin string, sn *Supernode, p *Peer) client.NATBehaviour {
	t.Helper()
	return l.natType(t, bin, sn.Addr4, p.IP4, p)
}

// NATType6 is NATType over IPv6, against server (StartDiscovery6).
func (l *Lab) NATType6(t testing.TB, bin string, server netip.AddrPort, p *Peer) client.NATBehaviour {
	t.Helper()
	return l.natType(t, bin, server, p.IP6, p)
}

func (l *Lab) natType(t testing.TB, bin string, server netip.AddrPort, bind netip.Addr, p *Peer) client.NATBehaviour {
	t.Helper()
	out := p.NS.Exec(t, filepath.Join(bin, "supernode-client"), "nat-type", "-json", "-bind", bind.String(), "-server", server.String())
	var r client.NATBehaviour
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("nat-type -json printed %q: %v", out, err)
	}
	return r
}

// Result is one try of a case.
type Result struct {
	Connected bool
	// Elapsed runs from the listener printing its introduction to the
	// puncher printing the direct answer: the time to the first direct
	// datagram after both learned of each other.
	Elapsed time.Duration
	Sent    int            // datagrams both peers sent to anything but the supernode
	Direct  netip.AddrPort // where the puncher's answer came from
	// Puncher and Listener are the clients' output, for failure reports;
	// Why and ListenerWhy their explanations of a failure.
	Puncher, Listener string
	Why, ListenerWhy  string
}

// Run runs one try of c: fresh keys, listen, punch, and reads the
// counters when the puncher exits. With waitListener, a failed try also
// waits for the listener's own verdict at the end of its punch window.
func (l *Lab) Run(t testing.TB, bin string, sn *Supernode, c Case, timeout time.Duration, waitListener bool) Result {
	t.Helper()
	pr := l.Router(t, c.Puncher, 0)
	pp := pr.Peers[0]
	lp := pr.Peers[1]
	if !c.SameNAT {
		lp = l.Router(t, c.Listener, 1).Peers[0]
	}
	server := sn.Addr4
	if c.V6 {
		server = sn.Addr6
	}
	dir := t.TempDir()
	keyP, keyL := filepath.Join(dir, "p.key"), filepath.Join(dir, "l.key")
	keygen(t, bin, keyP)
	pubL := keygen(t, bin, keyL)
	cli := filepath.Join(bin, "supernode-client")

	listener, err := start("listen", lp.NS.Cmd(cli, "listen", "-key", keyL, "-bind", lp.Addr(c.V6).String(), server.String()))
	if err != nil {
		t.Fatal(err)
	}
	defer listener.stop()
	if _, ok := listener.out.wait("registered ", 15*time.Second, listener.done); !ok {
		t.Fatalf("%s: listener did not register\n%s", c, listener)
	}
	before := pp.Sent(t) + lp.Sent(t)
	msg := fmt.Sprintf("natlab-%d", time.Now().UnixNano())
	puncher, err := start("punch", pp.NS.Cmd(cli, "punch", "-key", keyP, "-peer", pubL, "-bind", pp.Addr(c.V6).String(),
		"-message", msg, "-timeout", timeout.String(), server.String()))
	if err != nil {
		t.Fatal(err)
	}
	defer puncher.stop()
	code := puncher.exited(timeout + 15*time.Second)
	r := Result{Sent: pp.Sent(t) + lp.Sent(t) - before}
	direct, okD := puncher.out.find("direct ")
	reply, okR := puncher.out.find("reply ")
	if code == 0 && okD && okR && reply.text == "reply echo:"+msg {
		r.Connected = true
		r.Direct, _ = netip.ParseAddrPort(strings.Fields(direct.text)[1])
		if intro, ok := listener.out.find("introduced "); ok {
			r.Elapsed = direct.at.Sub(intro.at)
		}
	}
	if !r.Connected {
		if e, ok := puncher.errb.find("supernode-client: punch: "); ok {
			r.Why = e.text
		}
		if waitListener {
			if f, ok := listener.out.wait("failed ", client.PunchWindow+5*time.Second, listener.done); ok {
				r.ListenerWhy = f.text
			}
		}
	}
	listener.stop()
	r.Puncher, r.Listener = puncher.String(), listener.String()
	return r
}

func keygen(t testing.TB, bin, path string) string {
	t.Helper()
	out, err := exec.Command(filepath.Join(bin, "supernode-client"), "keygen", "-o", path).Output()
	if err != nil {
		t.Fatalf("keygen: %v", err)
	}
	return strings.TrimSpace(string(out))
}
