package natlab

import (
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/supernode-appliance/appliance/supernode/client"
	"github.com/supernode-appliance/appliance/tests/testenv"
)

// tries is NATLAB_TRIES (default 1: the run inside `make test`).
func tries(t *testing.T) int {
	n := 1
	if s := os.Getenv("NATLAB_TRIES"); s != "" {
		v, err := strconv.Atoi(s)
		if err != nil || v < 1 {
			t.Fatalf("NATLAB_TRIES=%q: want a positive number", s)
		}
		n = v
	}
	return n
}

func bins(t *testing.T) string {
	t.Helper()
	if dir := os.Getenv("SUPERNODE_TEST_BIN"); dir != "" {
		return dir
	}
	return testenv.BuildBinaries(t)
}

// TestNATLab builds one lab, checks that its routers behave as their
// types say, then runs the matrix.
func TestNATLab(t *testing.T) {
	bin := bins(t)
	l := New(t)
	sn := l.StartSupernode(t, bin)
	// Every router now, so their namespaces belong to this test, not to
	// the subtest that would first use them.
	for _, typ := range Types {
		l.Router(t, typ, 0)
		l.Router(t, typ, 1)
	}
	if !t.Run("types", func(t *testing.T) { testTypes(t, l, sn, bin) }) {
		return
	}
	t.Run("nat-type", func(t *testing.T) { testNATType(t, l, sn, bin) })
	t.Run("matrix", func(t *testing.T) { testMatrix(t, l, sn, bin, Cases(), "NAT matrix") })
	t.Run("netem", func(t *testing.T) { testNetem(t, l, sn, bin) })
}

// testNetem runs the possible pairs that need the most round trips again
// with delay and loss on the internet (NATLAB_DELAY, default 40ms;
// NATLAB_LOSS in percent, default 5), where the kernel has netem.
func testNetem(t *testing.T, l *Lab, sn *Supernode, bin string) {
	testenv.RequireCommands(t, "tc")
	delay, loss := 40*time.Millisecond, 5.0
	if s := os.Getenv("NATLAB_DELAY"); s != "" {
		d, err := time.ParseDuration(s)
		if err != nil {
			t.Fatalf("NATLAB_DELAY=%q: %v", s, err)
		}
		delay = d
	}
	if s := os.Getenv("NATLAB_LOSS"); s != "" {
		v, err := strconv.ParseFloat(s, 64)
		if err != nil {
			t.Fatalf("NATLAB_LOSS=%q: %v", s, err)
		}
		loss = v
	}
	undo, err := l.Impair(t, delay, loss)
	if err != nil {
		// Not a CI failure: the lab works without it, and the kernel (not
		// a package) decides. DESIGN.md: this host has no netem.
		t.Skipf("delay and loss skipped: this kernel has no netem qdisc (CONFIG_NET_SCH_NETEM / module sch_netem): %v", err)
	}
	defer undo()
	t.Logf("internet impaired: %s delay and %g%% loss on every link into a NAT", delay, loss)
	var cs []Case
	for _, c := range Cases() {
		if ok, _ := c.Possible(); ok && !c.SameNAT {
			cs = append(cs, c)
		}
	}
	testMatrix(t, l, sn, bin, cs, fmt.Sprintf("NAT matrix with %s delay and %g%% loss", delay, loss))
}

// testTypes checks the lab itself: one inside socket seen by two server
// ports keeps its public port behind a and b (endpoint-independent mapping,
// RFC 5780 section 4.3), gets a different one behind c, and is not
// translated behind d.
func testTypes(t *testing.T, l *Lab, sn *Supernode, bin string) {
	for i, typ := range Types {
		p := l.Router(t, typ, 0).Peers[0]
		local := netip.AddrPortFrom(p.IP4, uint16(41000+i))
		var mapped []netip.AddrPort
		for _, srv := range []netip.AddrPort{sn.Addr4, sn.Second4} {
			out := p.NS.Exec(t, filepath.Join(bin, "supernode-client"), "binding", "-bind", local.String(), srv.String())
			m, err := netip.ParseAddrPort(strings.TrimPrefix(strings.TrimSpace(out), "mapped "))
			if err != nil {
				t.Fatalf("%s: binding printed %q", typ, out)
			}
			mapped = append(mapped, m)
		}
		switch typ {
		case EIM, EIMAPDF:
			if mapped[0] != mapped[1] || mapped[0].Addr() != p.Router.WAN4 {
				t.Errorf("%s: mapped %v from %s, want one mapping on %s", typ, mapped, local, p.Router.WAN4)
			}
		case APDM, APDMPortMap:
			if mapped[0].Addr() != p.Router.WAN4 || mapped[0] == mapped[1] {
				t.Errorf("%s: mapped %v from %s, want two different ports on %s", typ, mapped, local, p.Router.WAN4)
			}
		case None:
			if mapped[0] != local || mapped[1] != local {
				t.Errorf("%s: mapped %v, want %s untranslated", typ, mapped, local)
			}
		}
		t.Logf("%s: %s -> %v", typ, local, mapped)
	}
}

// testNATType: `supernode-client nat-type` (RFC 5780 discovery against
// the lab's supernode, which has a second address) behind each router
// reports the behaviour the router's nftables rules implement: a
// endpoint-independent mapping and filtering, b endpoint-independent
// mapping with address-and-port-dependent filtering, c address-and-port-
// dependent mapping (and filtering), d no NAT and no filter. Each report
// goes into the matrix's nat-type column.
func testNATType(t *testing.T, l *Lab, sn *Supernode, bin string) {
	want := map[Type][2]string{
		EIM:     {client.BehaviourEndpointIndependent, client.BehaviourEndpointIndependent},
		EIMAPDF: {client.BehaviourEndpointIndependent, client.BehaviourAddressAndPortDependent},
		APDM:    {client.BehaviourAddressAndPortDependent, client.BehaviourAddressAndPortDependent},
		None:    {client.BehaviourNone, client.BehaviourEndpointIndependent},
		// nat-type measures the NAT, not the mappings a client may ask for.
		APDMPortMap: {client.BehaviourAddressAndPortDependent, client.BehaviourAddressAndPortDependent},
	}
	for _, typ := range Types {
		r := l.Router(t, typ, 0)
		got := l.NATType(t, bin, sn, r.Peers[0])
		t.Logf("%s: nat-type %s (mapping %s, filtering %s, mapped %s)", typ, ShortNATType(map[Type]client.NATBehaviour{typ: got}, typ), got.Mapping, got.Filtering, got.Mapped)
		if got.Mapping != want[typ][0] || got.Filtering != want[typ][1] || got.NAT != (typ != None) ||
			got.Other != netip.AddrPortFrom(l.SN4Alt, sn.AltPort) || got.Dropped != 0 {
			t.Errorf("%s (%s): nat-type reported %+v, want mapping %s, filtering %s, other address %s:%d",
				typ, typ.Describe(), got, want[typ][0], want[typ][1], l.SN4Alt, sn.AltPort)
		}
		if typ != None && got.Mapped.Addr() != r.WAN4 {
			t.Errorf("%s: mapped %s, want the router's WAN address %s", typ, got.Mapped, r.WAN4)
		}
		l.NATTypes[typ] = got
	}
	// IPv6: never translated, so the mapping is always "none" (the mapped
	// address is the peer's own) and the filtering is the firewall's:
	// address-and-port-dependent behind the stateful ones (only replies
	// get in), endpoint-independent behind d.
	srv6 := l.StartDiscovery6(t, bin)
	for _, typ := range Types {
		r := l.Router(t, typ, 0)
		p := r.Peers[0]
		got := l.NATType6(t, bin, srv6, p)
		wantF := client.BehaviourAddressAndPortDependent
		if typ == None {
			wantF = client.BehaviourEndpointIndependent
		}
		t.Logf("%s IPv6 (%s): nat-type %s (mapping %s, filtering %s, mapped %s)", typ, typ.Describe6(), ShortNATType(map[Type]client.NATBehaviour{typ: got}, typ), got.Mapping, got.Filtering, got.Mapped)
		if got.NAT || got.Mapping != client.BehaviourNone || got.Filtering != wantF || got.Mapped.Addr() != p.IP6 ||
			got.Other != netip.AddrPortFrom(l.SN6Alt, 3491) || got.Dropped != 0 {
			t.Errorf("%s IPv6 (%s): nat-type reported %+v, want no NAT (mapped %s), filtering %s, other address [%s]:3491",
				typ, typ.Describe6(), got, p.IP6, wantF, l.SN6Alt)
		}
		l.NATTypes6[typ] = got
	}
}

// testMatrix runs every case NATLAB_TRIES times (default once) and prints
// the matrix. It fails when a pair that is possible without port prediction
// misses a direct path, or when a failed punch does not explain itself
// (names the NAT behaviour and what to change). In the short run the pairs
// that are impossible without prediction punch for 3 s only: what they
// must show is the explanation, not the window.
func testMatrix(t *testing.T, l *Lab, sn *Supernode, bin string, cases []Case, title string) {
	n := tries(t)
	timeout := client.PunchWindow
	if s := os.Getenv("NATLAB_TIMEOUT"); s != "" {
		d, err := time.ParseDuration(s)
		if err != nil {
			t.Fatalf("NATLAB_TIMEOUT=%q: %v", s, err)
		}
		timeout = d
	}
	// The short run (make test) does not wait for the listener's window to
	// end; the full one checks the listener's explanation once per case.
	full := os.Getenv("NATLAB_TRIES") != ""
	var rows []Row
	for _, c := range cases {
		// NATLAB_ONLY=TEXT runs only the cases whose name contains TEXT
		// (development; the matrix then has only those rows).
		if only := os.Getenv("NATLAB_ONLY"); only != "" && !strings.Contains(c.String(), only) {
			continue
		}
		row := Row{Case: c}
		begin := time.Now()
		ok, why := c.Possible()
		tmo := timeout
		if !ok && !full {
			tmo = 3 * time.Second
			if c.Predictable() {
				tmo = 6 * time.Second // prediction runs from 1 s to about 3.5 s
			}
		}
		for i := range n {
			r := l.Run(t, bin, sn, c, tmo, full && i == 0)
			row.Results = append(row.Results, r)
			if ok && !r.Connected {
				t.Errorf("%s: no direct path although one exists (%s)\n%s\n%s", c, why, r.Puncher, r.Listener)
			}
			if !r.Connected && !explains(r.Why) {
				t.Errorf("%s: the failed punch does not say why\n%s", c, r.Puncher)
			}
			if !r.Connected && full && i == 0 && !explains(r.ListenerWhy) {
				t.Errorf("%s: the listener did not explain the failure within its window\n%s", c, r.Listener)
			}
			if !r.Connected && i == 0 {
				t.Logf("%s: puncher: %s", c, r.Why)
				if r.ListenerWhy != "" {
					t.Logf("%s: listener: %s", c, r.ListenerWhy)
				}
			}
		}
		via := ""
		for _, r := range row.Results {
			if r.Connected {
				via = fmt.Sprintf(", the puncher's first answer from %s", r.Direct)
				break
			}
		}
		t.Logf("%s: %d/%d direct (%s%s)", c, row.Connected(), n, time.Since(begin).Round(time.Millisecond), via)
		rows = append(rows, row)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s, %d tries per pair, punch -timeout %s:\n\n", title, n, timeout)
	WriteMatrix(&b, rows, l.NATTypes, l.NATTypes6)
	b.WriteString("\n" + Legend())
	fmt.Print(b.String())
	if out := os.Getenv("NATLAB_OUT"); out != "" {
		f, err := os.OpenFile(out, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
		if err == nil {
			_, err = f.WriteString(b.String() + "\n")
			f.Close()
		}
		if err != nil {
			t.Error(err)
		}
	}
}

// explains: a failed punch names the NAT behaviour it saw and a remedy.
func explains(out string) bool {
	return strings.Contains(out, "NAT") && (strings.Contains(out, "port mapping") || strings.Contains(out, "relay"))
}
