package client

import (
	"net/netip"
	"slices"
	"testing"
	"time"
)

// TestPunchTargets: issue #11 item 6, client side. Whatever an
// introduction or a lookup carries, the client punches only candidates a
// peer can own, each once, at most 1 + MaxCandidates, never the supernode.
func TestPunchTargets(t *testing.T) {
	server := netip.MustParseAddrPort("192.0.2.1:3478")
	var in []netip.AddrPort
	for _, s := range []string{
		"198.51.100.7:40000", "255.255.255.255:9", "127.0.0.1:22", "169.254.169.254:80",
		"[ff02::1]:9", "10.0.0.2:0", "192.0.2.1:3478", "[::ffff:198.51.100.7]:40000",
		"10.0.0.2:5000", "10.0.0.3:5000", "10.0.0.4:5000", "10.0.0.5:5000", "10.0.0.6:5000",
	} {
		in = append(in, netip.MustParseAddrPort(s))
	}
	got := punchTargets(server, in)
	want := []netip.AddrPort{
		netip.MustParseAddrPort("198.51.100.7:40000"), netip.MustParseAddrPort("10.0.0.2:5000"),
		netip.MustParseAddrPort("10.0.0.3:5000"), netip.MustParseAddrPort("10.0.0.4:5000"),
		netip.MustParseAddrPort("10.0.0.5:5000"),
	}
	if !slices.Equal(got, want) {
		t.Fatalf("punch targets %v, want %v", got, want)
	}
	// A supernode on loopback (development, tests): loopback peers are real.
	loop := punchTargets(netip.MustParseAddrPort("127.0.0.1:3478"), []netip.AddrPort{netip.MustParseAddrPort("127.0.0.1:4000")})
	if len(loop) != 1 {
		t.Fatalf("loopback supernode: targets %v", loop)
	}
}

// TestPunchBudget: the process-wide bucket gives PunchBurst datagrams at
// once and PunchRate per second after that (times given, not measured).
func TestPunchBudget(t *testing.T) {
	b := &budget{rate: PunchRate, burst: PunchBurst, tokens: PunchBurst}
	t0 := time.Unix(1000, 0)
	n := 0
	for range 1000 {
		if b.take(t0) {
			n++
		}
	}
	if n != PunchBurst {
		t.Fatalf("%d datagrams at once, want %d", n, PunchBurst)
	}
	n = 0
	for i := range 1000 { // one second, in 1 ms steps
		if b.take(t0.Add(time.Duration(i+1) * time.Millisecond)) {
			n++
		}
	}
	if n > PunchRate+1 {
		t.Fatalf("%d datagrams in the next second, want at most %d", n, PunchRate)
	}
}
