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

// TestNATTypes checks the lab itself: one inside socket seen by two
// server ports keeps its public port behind a and b (endpoint-independent
// mapping, RFC 5780 section 4.3), gets a different one behind c, and is
// not translated behind d.
func TestNATTypes(t *testing.T) {
	bin := bins(t)
	l := New(t)
	sn := l.StartSupernode(t, bin)
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
		case APDM:
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

// TestNATMatrix runs every case NATLAB_TRIES times (default once) and
// prints the matrix. It fails when a pair that is possible without port
// prediction misses a direct path, or when a failed punch does not explain
// itself (names the NAT behaviour and what to change).
func TestNATMatrix(t *testing.T) {
	bin := bins(t)
	l := New(t)
	sn := l.StartSupernode(t, bin)
	n := tries(t)
	timeout := 5 * time.Second
	if s := os.Getenv("NATLAB_TIMEOUT"); s != "" {
		d, err := time.ParseDuration(s)
		if err != nil {
			t.Fatalf("NATLAB_TIMEOUT=%q: %v", s, err)
		}
		timeout = d
	}
	var rows []Row
	for _, c := range Cases() {
		row := Row{Case: c}
		for range n {
			r := l.Run(t, bin, sn, c, timeout)
			row.Results = append(row.Results, r)
			ok, why := c.Possible()
			if ok && !r.Connected {
				t.Errorf("%s: no direct path although one exists (%s)\n%s\n%s", c, why, r.Puncher, r.Listener)
			}
			if !r.Connected && !explains(r.Puncher) {
				t.Errorf("%s: the failed punch does not say why\n%s", c, r.Puncher)
			}
		}
		t.Logf("%s: %d/%d", c, row.Connected(), n)
		rows = append(rows, row)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "NAT matrix, %d tries per pair, punch -timeout %s:\n\n", n, timeout)
	WriteMatrix(&b, rows)
	b.WriteString("\n" + Legend())
	fmt.Print(b.String())
	if out := os.Getenv("NATLAB_OUT"); out != "" {
		if err := os.WriteFile(out, []byte(b.String()), 0o644); err != nil {
			t.Error(err)
		}
	}
}

// explains: a failed punch names the NAT behaviour it saw and a remedy.
func explains(out string) bool {
	return strings.Contains(out, "NAT") && (strings.Contains(out, "port mapping") || strings.Contains(out, "relay"))
}
