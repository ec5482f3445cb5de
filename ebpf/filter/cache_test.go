package filter

import (
	"encoding/binary"
	"fmt"
	"net/netip"
	"testing"
	"time"

	"github.com/cilium/ebpf"
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

// sourceKey and sourceSlot mirror source_key and source_slot_index in
// xdp_filter.c.
func sourceKey(a netip.Addr) uint64 {
	var b [8]byte
	if a.Is4() {
		v4 := a.As4()
		b = [8]byte{0xff, 0xff, 0xff, 0xff, v4[0], v4[1], v4[2], v4[3]}
	} else {
		v6 := a.As16()
		copy(b[:], v6[:8]) // the /64
		if b == [8]byte{} {
			b[0] = 1 // ::/64 shares 100::/64's key: 0 marks an empty slot
		}
	}
	return binary.LittleEndian.Uint64(b[:]) // the program reads it from memory
}

const sourceSlotBits = 17

func sourceSlot(a netip.Addr) uint32 {
	return uint32((sourceKey(a) * 0x9e3779b97f4a7c15) >> (64 - sourceSlotBits))
}

// tracked returns the state the program holds for the source of a, and
// fails the test when it holds none.
func tracked(t *testing.T, f *Filter, a netip.Addr) xdpSourceState {
	t.Helper()
	var slot xdpSourceSlot
	if err := f.objs.Sources.Lookup(sourceSlot(a), &slot); err != nil {
		t.Fatal(err)
	}
	if slot.Key != sourceKey(a) {
		t.Fatalf("no state for %v: its slot %d holds key %#x", a, sourceSlot(a), slot.Key)
	}
	return slot.St
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
// /64 (one budget) is only used for the address it was read for: a static
// block of one address in a /64 does not block its neighbours, and the
// other way round. (Dynamic blocks cover the whole /64: TestDynamicBlock.)
func TestCachedVerdictPerAddress(t *testing.T) {
	c := cachedConfig()
	x := netip.MustParseAddr("2a00:30::1:1")
	y := netip.MustParseAddr("2a00:30::1:2")
	fx := udp6(x.String(), 40000, 3478, binding())
	fy := udp6(y.String(), 40000, 3478, binding())
	f := openTest(t, c)
	expect(t, f, fx, ReasonPassService)
	expect(t, f, fy, ReasonPassService)
	c.Block = append(c.Block, netip.PrefixFrom(x, 128))
	if err := f.Configure(c); err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		for _, s := range []struct {
			frame []byte
			want  Reason
		}{{fx, ReasonDropBlocked}, {fy, ReasonPassService}, {fy, ReasonPassService}, {fx, ReasonDropBlocked}} {
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

// spendAdmission spends every CPU's admission budget for good (its stamp in
// the far future, so it never refills): f tracks no new source, and every
// packet of an unknown source asks the trie.
func spendAdmission(tb testing.TB, f *Filter) {
	tb.Helper()
	ncpu, err := ebpf.PossibleCPU()
	if err != nil {
		tb.Fatal(err)
	}
	spent := make([]xdpBucket, ncpu)
	for i := range spent {
		spent[i].Stamp = 1 << 62
	}
	if err := f.objs.TrackBudget.Put(uint32(0), spent); err != nil {
		tb.Fatal(err)
	}
}

// uncachedFilter is a filter that never tracks a source, so never caches a
// verdict: the oracle the cache is compared with.
func uncachedFilter(tb testing.TB, c Config) *Filter {
	tb.Helper()
	c.TrackRate, c.TrackBurst = 1, 1
	f := openTest(tb, c)
	spendAdmission(tb, f)
	return f
}

// FuzzCachedVerdicts compares, frame by frame, a filter that caches
// verdicts with the sources it tracks (budgets on, and budgets off: the
// state is kept for the cache alone; each run twice so the second run meets
// the cache) with one that tracks nothing (every packet asks the trie).
// Neither the cache nor budgets too large to run out may change a verdict.
func FuzzCachedVerdicts(f *testing.F) {
	for _, c := range append(legitimate(), attacks()...) {
		f.Add(c.frame)
	}
	cached := openTest(f, cachedConfig())
	cachedOff := openTest(f, testConfig())
	plain := uncachedFilter(f, testConfig())
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
			if err := want(cachedOff, frame, w); err != nil {
				t.Fatalf("run %d with the budgets off: %v", run, err)
			}
		}
	})
}

// colliding returns an IPv4 address in 30.0.0.0/8, other than a, whose
// source takes the same slot as a's.
func colliding(t *testing.T, a netip.Addr) netip.Addr {
	t.Helper()
	want := sourceSlot(a)
	for i := uint32(1); i < 1<<24; i++ {
		b := netip.AddrFrom4([4]byte{30, byte(i >> 16), byte(i >> 8), byte(i)})
		if b != a && sourceSlot(b) == want {
			return b
		}
	}
	t.Fatalf("no address of 30.0.0.0/8 shares the slot of %v", a)
	return netip.Addr{}
}

// TestSlotCollision: the token buckets live in a direct-mapped table. A new
// source whose slot holds a source being limited passes untracked and
// leaves it alone (a collision never resets a budget); once the occupant's
// buckets have refilled, the newcomer takes the slot over.
func TestSlotCollision(t *testing.T) {
	c := testConfig()
	c.UDPRate, c.UDPBurst = 10, 2 // full again 200 ms after the last packet
	onOneCPU(t)
	timely(t, 150*time.Millisecond, func(int) error {
		f := openTest(t, c)
		heavyAddr := netip.MustParseAddr("30.0.3.1")
		newAddr := colliding(t, heavyAddr)
		heavy := udp4(heavyAddr.String(), 40000, 3478, binding())
		newcomer := udp4(newAddr.String(), 40000, 3478, binding())
		for i, w := range []Reason{ReasonPassService, ReasonPassService, ReasonDropRateUDP} {
			if err := want(f, heavy, w); err != nil {
				return fmt.Errorf("heavy source %v, packet %d: %w", heavyAddr, i, err)
			}
		}
		// The newcomer is not limited by the heavy source's empty
		// bucket, and does not take its slot.
		for i := range 5 {
			if err := want(f, newcomer, ReasonPassService); err != nil {
				return fmt.Errorf("newcomer %v (same slot), packet %d: %w", newAddr, i, err)
			}
		}
		if err := want(f, heavy, ReasonDropRateUDP); err != nil {
			return fmt.Errorf("heavy source after the newcomer: %w", err)
		}
		return nil
	})
	f := openTest(t, c)
	heavyAddr := netip.MustParseAddr("30.0.3.1")
	newAddr := colliding(t, heavyAddr)
	if err := want(f, udp4(heavyAddr.String(), 40000, 3478, binding()), ReasonPassService); err != nil {
		t.Fatal(err)
	}
	// 200 ms refill plus two ticks of the coarse clock's lag.
	time.Sleep(300 * time.Millisecond)
	if err := want(f, udp4(newAddr.String(), 40000, 3478, binding()), ReasonPassService); err != nil {
		t.Fatal(err)
	}
	if st := tracked(t, f, newAddr); st.B[1].Tokens != 1 {
		t.Errorf("newcomer's UDP bucket holds %d tokens, want burst - 1 = 1", st.B[1].Tokens)
	}
}

// TestCachedVerdictKeepsFamilies: an IPv4 source's key is the /64
// ffff:ffff:a.b.c.d::/64, so an IPv6 packet from that multicast /64 shares
// its slot; it must not share its cached verdict. Here an allowlisted IPv4
// source's "allow" would otherwise let an IPv6 multicast source in.
func TestCachedVerdictKeepsFamilies(t *testing.T) {
	c := cachedConfig()
	f := openTest(t, c)
	allowed := udp4("40.1.2.3", 40000, 3478, binding()) // 40.1.0.0/16 is allowed
	for range 2 {
		if err := want(f, allowed, ReasonPassService); err != nil {
			t.Fatal(err)
		}
	}
	twin := netip.MustParseAddr("ffff:ffff:2801:203::")
	if sourceSlot(twin) != sourceSlot(netip.MustParseAddr("40.1.2.3")) {
		t.Fatalf("test premise: %v and 40.1.2.3 should share a slot", twin)
	}
	if err := want(f, udp6(twin.String(), 40000, 3478, binding()), ReasonDropBogon); err != nil {
		t.Fatalf("IPv6 source in the IPv4 source's slot: %v", err)
	}
}

// TestUnspecifiedPrefixIsTracked: the all-zero key marks an empty slot, so
// the /64 ::/64 gets another key; ICMPv6 errors, which accept special-purpose
// sources, from ::/64 are charged to a budget like any other source.
func TestUnspecifiedPrefixIsTracked(t *testing.T) {
	c := testConfig()
	c.ICMPRate, c.ICMPBurst = 1, 2
	onOneCPU(t)
	timely(t, time.Second, func(int) error {
		f := openTest(t, c)
		for i, w := range []Reason{ReasonPassICMP, ReasonPassICMP, ReasonDropRateICMP} {
			ptb := ether(ethIPv6, ip6(fmt.Sprintf("::9:%d", i+1), own6, protoICMPv6, icmp(2, 0)))
			if err := want(f, ptb, w); err != nil {
				return fmt.Errorf("packet too big %d from ::/64: %w", i, err)
			}
		}
		return nil
	})
}
