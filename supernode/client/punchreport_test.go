package client

import (
	"net/netip"
	"strings"
	"testing"
)

func TestGuessNAT(t *testing.T) {
	ap := netip.MustParseAddrPort
	for _, c := range []struct {
		mapped  string
		local   []string
		noNAT   bool
		perDest bool
	}{
		{"203.0.113.5:4000", []string{"203.0.113.5:4000"}, true, false},
		{"198.51.100.1:4000", []string{"10.0.0.2:4000"}, false, false},
		{"198.51.100.1:61234", []string{"10.0.0.2:4000"}, false, true},
		{"198.51.100.1:61234", []string{"10.0.0.2:4000", "10.9.0.2:61234"}, false, false},
	} {
		var local []netip.AddrPort
		for _, l := range c.local {
			local = append(local, ap(l))
		}
		g := guessNAT(ap(c.mapped), local)
		if g.NoNAT != c.noNAT || g.PerDest != c.perDest {
			t.Errorf("guessNAT(%s, %v) = %+v, want noNAT=%v perDest=%v", c.mapped, c.local, g, c.noNAT, c.perDest)
		}
	}
}

// The failure text names what was tried, each NAT and a remedy, and uses
// evidence (the peer heard from a second port) over the port guess.
func TestPunchErrorExplains(t *testing.T) {
	c := loopClient(t)
	c.mu.Lock()
	c.mapped = netip.MustParseAddrPort("198.51.100.17:" + portOf(c.LocalAddr()))
	c.mu.Unlock()
	peer := loopClient(t).ID()
	p := c.track(peer)
	refl := netip.MustParseAddrPort("198.51.100.33:5000")
	c.paths.mu.Lock()
	p.heard = append(p.heard, netip.MustParseAddrPort("198.51.100.33:6000"))
	c.paths.mu.Unlock()
	e := c.punchError(peer, refl, []netip.AddrPort{netip.MustParseAddrPort("10.0.2.2:5000")}, PunchWindow)
	if !e.Theirs.Proved || e.Ours.PerDest {
		t.Fatalf("guesses: ours %+v theirs %+v", e.Ours, e.Theirs)
	}
	msg := e.Error()
	for _, want := range []string{"198.51.100.33:5000,10.0.2.2:5000", "heard its probes from 198.51.100.33:6000", "address-and-port-dependent mapping", "keeps ports", "port mapping (PCP/NAT-PMP/UPnP)", "relay"} {
		if !strings.Contains(msg, want) {
			t.Errorf("error lacks %q:\n%s", want, msg)
		}
	}
}

func portOf(a netip.AddrPort) string {
	s := a.String()
	return s[strings.LastIndexByte(s, ':')+1:]
}
