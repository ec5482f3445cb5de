package fleet

import (
	"math/rand/v2"
	"net/netip"
	"runtime"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/supernode-appliance/appliance/supernode/directory"
)

const benchPeers = 3000

var benchKeys = func() []directory.Key {
	keys := make([]directory.Key, benchPeers)
	for i := range keys {
		keys[i] = directory.Key(peer(i).Key)
	}
	return keys
}()

func benchPeer(i int) (directory.Key, *directory.Peer) {
	e := peer(i)
	p := &directory.Peer{Reflexive: e.Reflexive, NLocal: 2, Stamp: 1}
	copy(p.Local[:], e.Local)
	return directory.Key(e.Key), p
}

// missRatio reports lookups that found nothing: on a loaded machine a
// forwarded lookup can time out (both owners' answers late or a datagram
// dropped); the benchmark counts that instead of stopping.
func missRatio(b *testing.B, misses int64) {
	b.ReportMetric(float64(misses)/float64(b.N), "misses/op")
}

func reportRate(b *testing.B, unit string) {
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), unit)
}

// BenchmarkLookup compares lookups answered by one supernode's own table
// with lookups through an in-process 3-member fleet (all three share this
// machine's cores, so the fleet figures understate three real machines).
// "fleet3" asks a random member about a peer attached at a random member,
// as real traffic would: 1/3 of the answers come from the attached table,
// most of the rest from a local replica (R=2 of 3), the others one hop away.
// "fleet3-forwarded" always asks a member that must forward.
func BenchmarkLookup(b *testing.B) {
	b.Run("single", func(b *testing.B) {
		t := directory.New(directory.Config{MaxPeers: benchPeers, MaxLease: time.Minute})
		for i := 0; i < benchPeers; i++ {
			k, p := benchPeer(i)
			t.Register(k, p, time.Minute)
		}
		b.ResetTimer()
		b.RunParallel(func(pb *testing.PB) {
			var p directory.Peer
			rng := rand.New(rand.NewPCG(rand.Uint64(), 1))
			for pb.Next() {
				if !t.Lookup(benchKeys[rng.IntN(benchPeers)], &p) {
					b.Error("not found")
				}
			}
		})
		reportRate(b, "lookups/s")
	})
	members := startFleet(b, 3, newKey(b))
	dirs := make([]*Directory, 3)
	for i, m := range members {
		dirs[i] = NewDirectory(m.Node, directory.New(directory.Config{MaxPeers: benchPeers, MaxLease: time.Minute}))
	}
	attachedAt := make([]int, benchPeers)
	for i := 0; i < benchPeers; i++ {
		attachedAt[i] = i % 3
		k, p := benchPeer(i)
		dirs[i%3].Register(k, p, time.Minute)
	}
	waitFor(b, 10*time.Second, "replication", func() bool {
		total := 0
		for _, m := range members {
			total += m.st.len()
		}
		return total == benchPeers*DefaultReplicas
	})
	b.Run("fleet3", func(b *testing.B) {
		b.SetParallelism(32) // many lookups in flight, as many peers ask at once
		var misses atomic.Int64
		b.RunParallel(func(pb *testing.PB) {
			var p directory.Peer
			rng := rand.New(rand.NewPCG(rand.Uint64(), 2))
			for pb.Next() {
				if !dirs[rng.IntN(3)].Lookup(benchKeys[rng.IntN(benchPeers)], &p) {
					misses.Add(1)
				}
			}
		})
		reportRate(b, "lookups/s")
		missRatio(b, misses.Load())
	})
	b.Run("fleet3-forwarded", func(b *testing.B) {
		// For each peer, the one member that neither owns it nor has it
		// attached (with R=2 of 3 the non-owner; skip peers attached there).
		var keys []directory.Key
		var at []int
		for i := 0; i < benchPeers; i++ {
			k, _ := benchPeer(i)
			for j, m := range members {
				if !m.view.Load().ring.IsOwner((*Key)(&k), DefaultReplicas, m.Name()) && attachedAt[i] != j {
					keys, at = append(keys, k), append(at, j)
				}
			}
		}
		b.SetParallelism(32)
		var misses atomic.Int64
		cpu0 := cpuTime()
		b.ReportAllocs()
		b.ResetTimer()
		b.RunParallel(func(pb *testing.PB) {
			var p directory.Peer
			rng := rand.New(rand.NewPCG(rand.Uint64(), 3))
			for pb.Next() {
				i := rng.IntN(len(keys))
				if !dirs[at[i]].Lookup(keys[i], &p) {
					misses.Add(1)
				}
			}
		})
		reportRate(b, "lookups/s")
		missRatio(b, misses.Load())
		// Both ends' CPU (asker and owner are in this process).
		b.ReportMetric(float64(cpuTime()-cpu0)/float64(time.Microsecond)/float64(b.N), "cpu-us/lookup")
	})
}

// BenchmarkReplicationReceive is an owner's cost of taking in replicated
// refreshes: sealed put datagrams of 10 entries each (refreshes of known
// peers, the steady state of keepalives) through open, parse and store.
func BenchmarkReplicationReceive(b *testing.B) {
	n := offlineNode(b)
	n.st = newStore(1 << 20)
	const perDatagram = 10
	var pkts [][]byte
	for d := 0; d < 100; d++ {
		msg := appendHeader(nil, msgPut, "other", 0, uint64(d+1), time.Now())
		msg = append(msg, putLive, perDatagram)
		for j := 0; j < perDatagram; j++ {
			e := peer(d*perDatagram + j)
			e.Heard, e.Via = time.Now(), "other"
			msg = appendEntry(msg, &e)
		}
		pkts = append(pkts, n.ch.seal(nil, msg))
	}
	plain := make([]byte, maxDatagram)
	from := netip.MustParseAddrPort("127.0.0.1:9")
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if i%len(pkts) == 0 {
			n.replay = newReplayWindow() // the same datagrams again are not replays here
		}
		n.handle(pkts[i%len(pkts)], plain, from)
	}
	b.ReportMetric(float64(b.N*perDatagram)/b.Elapsed().Seconds(), "entries/s")
}

// BenchmarkRegister is the whole fleet's cost of one registration or
// keepalive refresh accepted at one member of an in-process 3-member fleet:
// owners by rendezvous hashing, the local put when this member owns the key,
// batching, sealing and sending to the other owners, and their receiving,
// opening and storing. It waits until every replica has arrived and reports
// the process CPU time (user + system, all members) per refresh.
func BenchmarkRegister(b *testing.B) {
	members := startFleet(b, 3, newKey(b))
	const distinct = 1000
	entries := make([]Entry, distinct)
	remote := make([]int, distinct)
	for i := range entries {
		entries[i] = peer(i)
		for _, o := range members[0].Owners(entries[i].Key) {
			if o != members[0].Name() {
				remote[i]++
			}
		}
	}
	received := func() float64 {
		sum := 0.0
		for _, m := range members[1:] {
			sum += value(m.met.receivedEntries) + value(m.met.staleEntries) + value(m.met.replicationFail.WithLabelValues("store_full"))
		}
		return sum
	}
	base := received()
	want := 0
	cpu0 := cpuTime()
	b.ReportAllocs()
	b.ResetTimer()
	backlog := func() int {
		n := 0
		for _, ob := range *members[0].outboxes.Load() {
			n = max(n, len(ob.ch))
		}
		return n
	}
	for i := 0; i < b.N; i++ {
		// Offer load no faster than the fleet absorbs it (a real server is
		// paced by its peers): Register itself never blocks and drops when
		// an outbox is full, which is not what this measures.
		for i%256 == 0 && backlog() > outboxDepth/4 {
			time.Sleep(50 * time.Microsecond)
		}
		members[0].Register(entries[i%distinct])
		want += remote[i%distinct]
	}
	lost := 0.0
	deadline := time.Now().Add(10 * time.Second)
	for received()-base < float64(want) && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	if got := received() - base; got < float64(want) {
		lost = float64(want) - got
	}
	b.StopTimer()
	reportRate(b, "refreshes/s")
	b.ReportMetric(float64(cpuTime()-cpu0)/float64(time.Microsecond)/float64(b.N), "cpu-us/refresh")
	b.ReportMetric(lost/float64(max(want, 1)), "lost/replica")
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkReplicaBytes measures the memory one replica costs an owner.
func BenchmarkReplicaBytes(b *testing.B) {
	const entries = 200_000
	for i := 0; i < b.N; i++ {
		runtime.GC()
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		st := newStore(entries)
		for j := 0; j < entries; j++ {
			e := peer(j)
			e.Key[31] ^= byte(j) // peer() keys are unique already; keep them so
			e.Heard, e.Via = time.Now(), "member-name"
			st.put(&e)
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		if st.len() != entries {
			b.Fatalf("stored %d of %d", st.len(), entries)
		}
		b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/entries, "B/replica")
		runtime.KeepAlive(st)
	}
}
