package directory

import (
	"encoding/binary"
	"errors"
	"net/netip"
	"runtime"
	"strconv"
	"sync"
	"testing"
	"time"
)

func peerAt(src string, stamp uint64) *Peer {
	p := peer(stamp)
	p.Reflexive = netip.MustParseAddrPort(src)
	return p
}

// TestQuotaPerNetwork: issue #11 item 5. One network cannot take more than
// its quota of slots (before the fix one source could register every
// slot); others still register; a slot freed by leave or expiry is
// available again; the error names the prefix.
func TestQuotaPerNetwork(t *testing.T) {
	c := &clock{t: time.Unix(1000, 0)}
	d := New(Config{MaxPeers: 100, MaxLease: time.Minute, Now: c.now, Quota: Quota{IPv4Net24: 2, IPv6Net64: 2, IPv6Net48: 3}})
	reg := func(n uint64, src string) error { return d.Register(key(n), peerAt(src, 1), 30*time.Second) }

	for i, src := range []string{"203.0.113.1:1", "203.0.113.200:2"} {
		if err := reg(uint64(i), src); err != nil {
			t.Fatal(err)
		}
	}
	err := reg(2, "203.0.113.77:3")
	if !errors.Is(err, ErrQuota) || err != ErrQuotaIPv4Net24 {
		t.Fatalf("third peer of 203.0.113.0/24: %v, want %v", err, ErrQuotaIPv4Net24)
	}
	if err := reg(3, "[::ffff:203.0.113.78]:3"); err != ErrQuotaIPv4Net24 {
		t.Fatalf("IPv4-mapped form of the same /24: %v", err)
	}
	if err := reg(4, "203.0.114.1:1"); err != nil {
		t.Fatalf("another /24: %v", err)
	}
	// Re-registering a peer at the same place is not a new slot.
	if err := d.Register(key(0), peerAt("203.0.113.1:9", 2), 30*time.Second); err != nil {
		t.Fatalf("re-register in place: %v", err)
	}
	// A peer moving into a full /24 is refused and keeps its old entry.
	if err := d.Register(key(4), peerAt("203.0.113.9:1", 2), 30*time.Second); err != ErrQuotaIPv4Net24 {
		t.Fatalf("move into a full /24: %v", err)
	}
	var p Peer
	if !d.Lookup(key(4), &p) || p.Reflexive != netip.MustParseAddrPort("203.0.114.1:1") {
		t.Fatalf("refused move changed the entry: %+v", p)
	}
	// A refresh from elsewhere (the fleet's Store may do that; the server
	// never does) moves the count along, unchecked.
	if err := d.Refresh(key(4), netip.MustParseAddrPort("203.0.115.1:1"), 3, 1, 30*time.Second); err != nil {
		t.Fatal(err)
	}
	for i := range 2 {
		if err := reg(uint64(30+i), "203.0.114.50:1"); err != nil {
			t.Fatalf("203.0.114.0/24 after its peer moved away, peer %d: %v", i, err)
		}
	}
	d.Remove(key(30))
	d.Remove(key(31))
	d.Remove(key(4))
	// Leave frees a slot.
	d.Remove(key(1))
	if err := reg(2, "203.0.113.77:3"); err != nil {
		t.Fatalf("after a leave: %v", err)
	}

	// IPv6: /64 first, then /48.
	for i, src := range []string{"[2001:db8:1:1::1]:1", "[2001:db8:1:1::2]:1"} {
		if err := reg(uint64(10+i), src); err != nil {
			t.Fatal(err)
		}
	}
	if err := reg(12, "[2001:db8:1:1::3]:1"); err != ErrQuotaIPv6Net64 {
		t.Fatalf("third peer of one /64: %v", err)
	}
	if err := reg(13, "[2001:db8:1:2::1]:1"); err != nil {
		t.Fatalf("another /64 of the /48: %v", err)
	}
	if err := reg(14, "[2001:db8:1:3::1]:1"); err != ErrQuotaIPv6Net48 {
		t.Fatalf("fourth peer of one /48: %v", err)
	}
	if err := reg(15, "[2001:db8:2::1]:1"); err != nil {
		t.Fatalf("another /48: %v", err)
	}

	// Expiry frees the slots too.
	c.add(31 * time.Second)
	d.Expire(c.now())
	if d.Len() != 0 {
		t.Fatalf("%d peers after expiry", d.Len())
	}
	for i := range 2 {
		if err := reg(uint64(20+i), "[2001:db8:1:1::9]:1"); err != nil {
			t.Fatalf("after expiry: %v", err)
		}
	}
	// Nothing left behind: only the two live peers' /64 and /48.
	for k, want := range [nPrefixes][2]int{{0, 0}, {1, 2}, {1, 2}} {
		entries, sum := 0, 0
		for i := range d.quotas.stripes {
			for _, n := range d.quotas.stripes[i].n[k] {
				entries++
				sum += int(n)
			}
		}
		if entries != want[0] || sum != want[1] {
			t.Errorf("prefix kind %d: %d prefixes counting %d peers, want %d and %d", k, entries, sum, want[0], want[1])
		}
	}
}

// TestQuotaOff: a zero Quota counts nothing (the fleet's replica tables and
// the benchmarks).
func TestQuotaOff(t *testing.T) {
	d := New(Config{MaxPeers: 10, MaxLease: time.Minute})
	for i := range 10 {
		if err := d.Register(key(uint64(i)), peer(1), time.Minute); err != nil {
			t.Fatal(err)
		}
	}
	if d.quotas.on {
		t.Fatal("quotas on without limits")
	}
}

// BenchmarkMillionPeersQuota is BenchmarkMillionPeers with the quotas on
// and every peer in its own network: the worst case for the quota counts
// (IPv4: one /24 each; IPv6: one /64 and one /48 each).
func BenchmarkMillionPeersQuota(b *testing.B) {
	const n = 1_000_000
	for _, v6 := range []bool{false, true} {
		name := "ipv4"
		if v6 {
			name = "ipv6"
		}
		b.Run(name, func(b *testing.B) {
			p := peer(1)
			for b.Loop() {
				runtime.GC()
				var before, after runtime.MemStats
				runtime.ReadMemStats(&before)
				d := New(Config{MaxPeers: n, MaxLease: 30 * time.Second, Quota: Quota{IPv4Net24: 4096, IPv6Net64: 256, IPv6Net48: 4096}})
				for i := range n {
					if v6 {
						var a [16]byte
						binary.BigEndian.PutUint64(a[:], 0x2001_0db8_0000_0000|uint64(i)<<16)
						p.Reflexive = netip.AddrPortFrom(netip.AddrFrom16(a), 4000)
					} else {
						p.Reflexive = netip.AddrPortFrom(netip.AddrFrom4([4]byte{byte(i >> 16), byte(i >> 8), byte(i), 1}), 4000)
					}
					if err := d.Register(key(uint64(i)), p, 30*time.Second); err != nil {
						b.Fatal(err)
					}
				}
				runtime.GC()
				runtime.ReadMemStats(&after)
				b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/n-32, "bytes/peer-beyond-key")
				runtime.KeepAlive(d)
			}
		})
	}
}

// TestQuotaConcurrent: registers, moves, refreshes and removes from many
// goroutines (run with -race) leave counts that match the table exactly:
// every network at its limit or below, and nothing once the table is empty.
func TestQuotaConcurrent(t *testing.T) {
	d := New(Config{MaxPeers: 100000, MaxLease: time.Minute, Quota: Quota{IPv4Net24: 50, IPv6Net64: 20, IPv6Net48: 40}})
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 500 {
				k := key(uint64(g*10000 + i))
				src := netip.AddrPortFrom(netip.AddrFrom4([4]byte{198, 51, byte(i % 3), byte(g)}), 4000)
				if i%2 == 1 {
					src = netip.MustParseAddrPort("[2001:db8:0:" + strconv.Itoa(i%3) + "::" + strconv.Itoa(g+1) + "]:4000")
				}
				p := peer(1)
				p.Reflexive = src
				if d.Register(k, p, time.Minute) != nil {
					continue
				}
				p.Stamp, p.Reflexive = 2, netip.AddrPortFrom(netip.AddrFrom4([4]byte{198, 51, 100 + byte(i%2), byte(g)}), 4000)
				d.Register(k, p, time.Minute) // a move, refused or not
				if i%3 == 0 {
					d.Remove(k)
				}
			}
		}()
	}
	wg.Wait()
	count := func() (sum [nPrefixes]int, over bool) {
		for i := range d.quotas.stripes {
			for k := range nPrefixes {
				for _, n := range d.quotas.stripes[i].n[k] {
					sum[k] += int(n)
					over = over || n > d.quotas.limit[k]
				}
			}
		}
		return sum, over
	}
	sum, over := count()
	if over {
		t.Fatal("a network above its quota")
	}
	// Every live peer counted once (IPv6 ones in /64 and /48 alike).
	if sum[prefixV4Net24]+sum[prefixV6Net64] != d.Len() || sum[prefixV6Net64] != sum[prefixV6Net48] {
		t.Fatalf("counts %v for %d peers", sum, d.Len())
	}
	for g := range 8 {
		for i := range 500 {
			d.Remove(key(uint64(g*10000 + i)))
		}
	}
	if sum, _ := count(); sum != [nPrefixes]int{} || d.Len() != 0 {
		t.Fatalf("counts %v left for %d peers", sum, d.Len())
	}
}
