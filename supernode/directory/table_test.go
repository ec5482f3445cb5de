package directory

import (
	"crypto/rand"
	"encoding/binary"
	"net/netip"
	"runtime"
	"sync"
	"testing"
	"time"
)

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func key(n uint64) (k Key) {
	binary.LittleEndian.PutUint64(k[:], n)
	binary.LittleEndian.PutUint64(k[24:], n*0x9E3779B97F4A7C15) // spread over shards
	return k
}

func peer(stamp uint64) *Peer {
	p := &Peer{Reflexive: netip.MustParseAddrPort("198.51.100.1:4000"), Stamp: stamp, NLocal: 2}
	p.Local[0] = netip.MustParseAddrPort("10.0.0.1:5000")
	p.Local[1] = netip.MustParseAddrPort("[fd00::1]:5000")
	rand.Read(p.Session[:])
	return p
}

func TestRegisterLookupRefreshRemove(t *testing.T) {
	c := &clock{t: time.Unix(1000, 0)}
	d := New(Config{MaxPeers: 10, MaxLease: 30 * time.Second, Now: c.now})
	in := peer(1)
	if err := d.Register(key(1), in, 30*time.Second); err != nil {
		t.Fatal(err)
	}
	var out Peer
	if !d.Lookup(key(1), &out) {
		t.Fatal("not found")
	}
	if out.Reflexive != in.Reflexive || out.Local != in.Local || out.NLocal != 2 || out.Session != in.Session || out.Stamp != 1 {
		t.Fatalf("got %+v want %+v", out, in)
	}
	if err := d.Register(key(1), peer(1), 30*time.Second); err != ErrReplay {
		t.Fatalf("same stamp: %v", err)
	}
	from := netip.MustParseAddrPort("[2001:db8::9]:7")
	if err := d.Refresh(key(1), from, 2, 3, 30*time.Second); err != nil {
		t.Fatal(err)
	}
	if err := d.Refresh(key(1), from, 2, 3, 30*time.Second); err != ErrReplay {
		t.Fatalf("refresh replay: %v", err)
	}
	d.Lookup(key(1), &out)
	if out.Reflexive != from || out.Via != 3 || out.Stamp != 2 {
		t.Fatalf("after refresh %+v", out)
	}
	if err := d.Refresh(key(2), from, 5, 0, time.Second); err != ErrNotFound {
		t.Fatalf("refresh unknown: %v", err)
	}
	if !d.Remove(key(1)) || d.Remove(key(1)) || d.Lookup(key(1), &out) || d.Len() != 0 {
		t.Fatal("remove")
	}
}

func TestFullRefusesNew(t *testing.T) {
	d := New(Config{MaxPeers: 3, MaxLease: time.Minute})
	for i := range 3 {
		if err := d.Register(key(uint64(i)), peer(1), time.Minute); err != nil {
			t.Fatal(err)
		}
	}
	if err := d.Register(key(99), peer(1), time.Minute); err != ErrFull {
		t.Fatalf("4th peer: %v", err)
	}
	// A live peer re-registering is not new and is accepted.
	if err := d.Register(key(0), peer(2), time.Minute); err != nil {
		t.Fatalf("re-register when full: %v", err)
	}
	d.Remove(key(1))
	if err := d.Register(key(99), peer(1), time.Minute); err != nil {
		t.Fatalf("after remove: %v", err)
	}
	if d.Len() != 3 {
		t.Fatalf("len %d", d.Len())
	}
}

func TestExpiry(t *testing.T) {
	c := &clock{t: time.Unix(5000, 0)}
	d := New(Config{MaxPeers: 1000, MaxLease: 30 * time.Second, Now: c.now})
	for i := range 100 {
		lease := 10 * time.Second
		if i%2 == 1 {
			lease = 20 * time.Second
		}
		d.Register(key(uint64(i)), peer(1), lease)
	}
	c.add(9 * time.Second)
	if n := d.Expire(c.now()); n != 0 {
		t.Fatalf("expired %d early", n)
	}
	// Refresh one short-lease peer: it must survive the 10 s mark.
	d.Refresh(key(0), netip.MustParseAddrPort("192.0.2.1:1"), 2, 0, 20*time.Second)
	c.add(1 * time.Second)
	var p Peer
	if d.Lookup(key(2), &p) {
		t.Fatal("lookup returned an entry past its lease")
	}
	if n := d.Expire(c.now()); n != 49 {
		t.Fatalf("at 10s expired %d, want 49", n)
	}
	// Skip far ahead without calling Expire each second: catch-up works.
	c.add(time.Hour)
	if n := d.Expire(c.now()); n != 51 {
		t.Fatalf("later expired %d, want 51", n)
	}
	if d.Len() != 0 || d.Expired() != 100 {
		t.Fatalf("len %d expired %d", d.Len(), d.Expired())
	}
	// Slots are reused after expiry.
	if err := d.Register(key(1), peer(1), time.Second); err != nil {
		t.Fatal(err)
	}
}

func TestConcurrent(t *testing.T) {
	d := New(Config{MaxPeers: 100000, MaxLease: time.Minute})
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var p Peer
			for i := range 2000 {
				k := key(uint64(g*10000 + i))
				d.Register(k, peer(1), time.Minute)
				d.Refresh(k, netip.MustParseAddrPort("192.0.2.1:1"), 2, 0, time.Minute)
				if !d.Lookup(k, &p) {
					t.Error("lost entry")
					return
				}
				if i%2 == 0 {
					d.Remove(k)
				}
				d.Expire(time.Now())
			}
		}()
	}
	wg.Wait()
	if d.Len() != 8000 {
		t.Fatalf("len %d", d.Len())
	}
}

// BenchmarkMillionPeers inserts 1,000,000 synthetic peers and reports the
// heap growth per peer, beyond the 32-byte key (target <= 256).
func BenchmarkMillionPeers(b *testing.B) {
	const n = 1_000_000
	p := peer(1)
	for b.Loop() {
		runtime.GC()
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		d := New(Config{MaxPeers: n, MaxLease: 30 * time.Second})
		for i := range n {
			if err := d.Register(key(uint64(i)), p, 30*time.Second); err != nil {
				b.Fatal(err)
			}
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/n-32, "bytes/peer-beyond-key")
		runtime.KeepAlive(d)
	}
}

func BenchmarkRegister(b *testing.B) {
	d := New(Config{MaxPeers: 1 << 30, MaxLease: time.Minute})
	p := peer(1)
	b.ReportAllocs()
	i := uint64(0)
	for b.Loop() {
		d.Register(key(i%1_000_000), p, time.Minute)
		p.Stamp++
		i++
	}
}

func BenchmarkLookupParallel(b *testing.B) {
	d := New(Config{MaxPeers: 1 << 20, MaxLease: time.Minute})
	for i := range 100000 {
		d.Register(key(uint64(i)), peer(1), time.Minute)
	}
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		var p Peer
		i := uint64(0)
		for pb.Next() {
			d.Lookup(key(i%100000), &p)
			i++
		}
	})
}
