package filter

import (
	"net/netip"
	"testing"
	"time"
)

// The program caches the source lists' verdict with each tracked source
// (struct source_state), which only happens with the budgets on. These
// tests run with budgets too large to run out, so every packet of a known
// source takes the cached path, and check that the cache never answers
// differently from the tries.

func cachedConfig() Config {
	c := testConfig()
	c.UDPRate, c.UDPBurst = 1e6, 1e6
	c.SYNRate, c.SYNBurst = 1e6, 1e6
	c.ICMPRate, c.ICMPBurst = 1e6, 1e6
	return c
}

// tracked reports whether the program holds state for the source of a.
func tracked(t *testing.T, f *Filter, a netip.Addr) xdpSourceState {
	t.Helper()
	var k xdpAddr
	if a.Is4() {
		b := a.As4()
		k.B = [8]byte{0xff, 0xff, 0xff, 0xff, b[0], b[1], b[2], b[3]}
	} else {
		b := a.As16()
		copy(k.B[:], b[:8]) // the /64
	}
	var st xdpSourceState
	if err := f.objs.Sources.Lookup(k, &st); err != nil {
		t.Fatalf("no state for %v: %v", a, err)
	}
	return st
}

// TestVerdictsCached runs every legitimate and attack packet three times
// with the budgets on: the first time a source is new (trie lookup, entry
// inserted), then known (cached verdict). Sources are shared between cases
// of different classes, so a verdict cached by one class meets the others.
func TestVerdictsCached(t *testing.T) {
	f := openTest(t, cachedConfig())
	cases := append(legitimate(), attacks()...)
	for round := range 3 {
		for _, tc := range cases {
			if err := want(f, tc.frame, tc.want); err != nil {
				t.Errorf("round %d, %s: %v", round, tc.name, err)
			}
		}
	}
	tracked(t, f, netip.MustParseAddr(client4))
	tracked(t, f, netip.MustParseAddr(client6))
}

// TestCachedVerdictFollowsChanges checks that Block, Unblock, Configure and
// a block's expiry apply at once to sources whose verdict is cached.
func TestCachedVerdictFollowsChanges(t *testing.T) {
	c := cachedConfig()
	f := openTest(t, c)
	a := netip.MustParseAddr("30.0.5.1")
	frame := udp4(a.String(), 40000, 3478, binding())
	expect(t, f, frame, ReasonPassService)
	expect(t, f, frame, ReasonPassService)
	if st := tracked(t, f, a); st.Verdict&0xff != uint64(xdpAclActionACL_NONE) {
		t.Fatalf("cached verdict %#x, want action none", st.Verdict)
	}

	if err := f.Block(a, time.Hour); err != nil {
		t.Fatal(err)
	}
	expect(t, f, frame, ReasonDropDynamic)
	expect(t, f, frame, ReasonDropDynamic)
	if err := f.Unblock(a); err != nil {
		t.Fatal(err)
	}
	expect(t, f, frame, ReasonPassService)

	// A new configuration that lists the source.
	blocked := c
	blocked.Block = append(append([]netip.Prefix{}, c.Block...), netip.MustParsePrefix("30.0.5.0/24"))
	if err := f.Configure(blocked); err != nil {
		t.Fatal(err)
	}
	expect(t, f, frame, ReasonDropBlocked)
	if err := f.Configure(c); err != nil {
		t.Fatal(err)
	}
	expect(t, f, frame, ReasonPassService)

	// A block that runs out ends for a known source too, and the program
	// still deletes the expired entry.
	timely(t, 300*time.Millisecond, func(try int) error {
		if err := f.Block(a, 300*time.Millisecond); err != nil {
			t.Fatal(err)
		}
		return want(f, frame, ReasonDropDynamic)
	})
	time.Sleep(400 * time.Millisecond)
	expect(t, f, frame, ReasonPassService)
	if all, err := f.entries(); err != nil {
		t.Fatal(err)
	} else if _, ok := all[hostPrefix(a)]; ok {
		t.Fatal("the program did not delete the expired entry")
	}

	// A tracked allowlisted source skips the budgets.
	lim := c
	lim.UDPRate, lim.UDPBurst = 1, 1
	if err := f.Configure(lim); err != nil {
		t.Fatal(err)
	}
	for range 5 {
		expect(t, f, udp4("40.1.0.9", 40000, 3478, binding()), ReasonPassService)
	}
}

// TestCachedVerdictPerAddress checks that the verdict cached with an IPv6
// /64 (one budget) is only used for the address it was read for: a block
// of one address in a /64 does not block its neighbours, and the other way
// round.
func TestCachedVerdictPerAddress(t *testing.T) {
	f := openTest(t, cachedConfig())
	x := netip.MustParseAddr("2a00:30::1:1")
	y := netip.MustParseAddr("2a00:30::1:2")
	fx := udp6(x.String(), 40000, 3478, binding())
	fy := udp6(y.String(), 40000, 3478, binding())
	expect(t, f, fx, ReasonPassService)
	expect(t, f, fy, ReasonPassService)
	if err := f.Block(x, time.Hour); err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		for _, s := range []struct {
			frame []byte
			want  Reason
		}{{fx, ReasonDropDynamic}, {fy, ReasonPassService}, {fy, ReasonPassService}, {fx, ReasonDropDynamic}} {
			if err := want(f, s.frame, s.want); err != nil {
				t.Fatalf("round %d: %v", i, err)
			}
		}
	}
}

// TestCachedActionNotDecision checks that the cache holds the lists'
// action, not the verdict of the packet that read it: a private router may
// send ICMP errors (bogon accepted), but not UDP to the service.
func TestCachedActionNotDecision(t *testing.T) {
	f := openTest(t, cachedConfig())
	src := "10.1.1.1"
	icmpErr := ether(ethIPv4, ip4(src, own4, protoICMP, icmp(3, 4)))
	stun := udp4(src, 40000, 3478, binding())
	for i := range 3 {
		if err := want(f, icmpErr, ReasonPassICMP); err != nil {
			t.Fatalf("round %d: %v", i, err)
		}
		if err := want(f, stun, ReasonDropBogon); err != nil {
			t.Fatalf("round %d: %v", i, err)
		}
	}
	if st := tracked(t, f, netip.MustParseAddr(src)); st.Verdict&0xff != uint64(xdpAclActionACL_BOGON) {
		t.Fatalf("cached verdict %#x, want action bogon", st.Verdict)
	}
}

// TestOpenRetiresCachedVerdicts checks that a filter reopening pinned maps
// does not trust verdicts cached before: here the trie is changed behind
// the generation's back (as an older controller or program version might
// have), and the reopened filter still sees the change.
func TestOpenRetiresCachedVerdicts(t *testing.T) {
	dir := pinDir(t)
	f1, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := f1.Configure(cachedConfig()); err != nil {
		t.Fatal(err)
	}
	a := netip.MustParseAddr("30.0.6.1")
	frame := udp4(a.String(), 40000, 3478, binding())
	expect(t, f1, frame, ReasonPassService)
	if err := f1.putEntry(hostPrefix(a), aclEntry{Action: xdpAclActionACL_BLOCK, IsStatic: 1}); err != nil {
		t.Fatal(err)
	}
	expect(t, f1, frame, ReasonPassService) // the stale cached verdict
	f1.Close()

	f2, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer f2.Close()
	expect(t, f2, frame, ReasonDropBlocked)
	if err := f2.Unpin(); err != nil {
		t.Fatal(err)
	}
}

// FuzzCachedVerdicts compares, frame by frame, a filter with the budgets
// on (verdicts cached with the tracked sources, run twice so the second run
// meets the cache) with one with the budgets off (every packet asks the
// trie). Budgets too large to run out must never change a verdict.
func FuzzCachedVerdicts(f *testing.F) {
	for _, c := range append(legitimate(), attacks()...) {
		f.Add(c.frame)
	}
	cached := openTest(f, cachedConfig())
	plain := openTest(f, testConfig())
	f.Fuzz(func(t *testing.T, frame []byte) {
		if len(frame) < 14 || len(frame) > maxTestFrame {
			return // BPF_PROG_TEST_RUN wants a whole Ethernet header, and a linear buffer
		}
		w, err := outcome(plain, frame)
		if err != nil {
			t.Fatal(err)
		}
		for run := range 2 {
			if err := want(cached, frame, w); err != nil {
				t.Fatalf("run %d with the budgets on: %v", run, err)
			}
		}
	})
}
