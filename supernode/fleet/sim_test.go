package fleet

import (
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"runtime"
	"slices"
	"sync"
	"testing"
)

// The fleet simulation of issue #6: 100 to 10,000 supernodes sharing a
// directory of 100M peers, with the same Hasher and score as the live code.
// 100M keys do not fit here, so each size places a random sample of keys and
// extrapolates: rendezvous hashing places every key independently, so the
// per-member counts of the full population follow the same multinomial law as
// the sample. The test checks that (dispersion index close to 1) before it
// scales the balance figure. Run it with
//
//	FLEET_SIM=full go test -run TestSimulation -v ./supernode/fleet/
const simPeers = 100_000_000

type simResult struct {
	members, keys             int
	joinReplicaMoved          float64 // fraction of key replicas that moved, per join
	leaveReplicaMoved         float64
	joinPrimaryMoved          float64 // fraction of keys whose first owner changed
	replicaMaxMean            float64 // max/mean replicas per member in the sample
	dispersion                float64 // variance/mean of replicas per member (1 = multinomial)
	extrapolatedMaxMean       float64 // expected max/mean with simPeers keys
	meanLookupHops, maxHops   float64
	meanIntroMessages         float64 // extra fleet messages to deliver the introduction
	checkedAgainstRing        int
	replicasPerMemberAt100M   float64
	joinsSimulated, leavesSim int
}

// placement holds, per sampled key, its top R owners and the scores needed
// to decide joins in O(1).
type placement struct {
	kh     []uint64
	owners [][DefaultReplicas]int32
	first  []uint64 // best score
	last   []uint64 // R-th best score
}

func place(r *Ring, keys []Key) *placement {
	p := &placement{
		kh:     make([]uint64, len(keys)),
		owners: make([][DefaultReplicas]int32, len(keys)),
		first:  make([]uint64, len(keys)),
		last:   make([]uint64, len(keys)),
	}
	workers := runtime.GOMAXPROCS(0)
	var wg sync.WaitGroup
	chunk := (len(keys) + workers - 1) / workers
	for w := 0; w < workers; w++ {
		lo, hi := w*chunk, min((w+1)*chunk, len(keys))
		wg.Add(1)
		go func() {
			defer wg.Done()
			var buf [maxReplicas]int
			for i := lo; i < hi; i++ {
				kh := r.hasher.Key(&keys[i])
				o := r.ownersHashed(kh, DefaultReplicas, buf[:0])
				p.kh[i] = kh
				for j := range o {
					p.owners[i][j] = int32(o[j])
				}
				p.first[i] = score(r.hashes[o[0]], kh)
				p.last[i] = score(r.hashes[o[len(o)-1]], kh)
			}
		}()
	}
	wg.Wait()
	return p
}

func simulate(t testing.TB, members, keys, changes int) simResult {
	const R = DefaultReplicas
	h := NewHasher(0x5eed)
	names := memberNames(members)
	ring := NewRing(h, names)
	sample := randomKeys(keys, uint64(members))
	p := place(ring, sample)
	res := simResult{members: members, keys: keys, joinsSimulated: changes, leavesSim: changes}

	// Balance: replicas held per member.
	counts := make([]float64, members)
	for i := range p.owners {
		for _, o := range p.owners[i] {
			counts[o]++
		}
	}
	mean := float64(keys*R) / float64(members)
	var maxc, ss float64
	for _, c := range counts {
		maxc = max(maxc, c)
		ss += (c - mean) * (c - mean)
	}
	res.replicaMaxMean = maxc / mean
	res.dispersion = ss / float64(members-1) / mean
	// Extrapolate: with M = simPeers*R/members replicas per member and the
	// measured dispersion D, the largest of N near-normal counts sits about
	// sqrt(2 ln N) standard deviations (sqrt(D*M)) above the mean.
	res.replicasPerMemberAt100M = float64(simPeers*R) / float64(members)
	res.extrapolatedMaxMean = 1 + math.Sqrt(2*math.Log(float64(members)))*math.Sqrt(res.dispersion/res.replicasPerMemberAt100M)

	// Joins: a new member takes a key exactly when its score beats the R-th
	// owner's; it then holds one replica the old R-th owner gives up.
	rng := rand.New(rand.NewPCG(uint64(members), 77))
	var joinMoved, joinPrimary int
	for c := 0; c < changes; c++ {
		nh := h.Member(fmt.Sprintf("joiner-%d", c))
		for i, kh := range p.kh {
			s := score(nh, kh)
			if s > p.last[i] {
				joinMoved++
				if s > p.first[i] {
					joinPrimary++
				}
			}
		}
	}
	res.joinReplicaMoved = float64(joinMoved) / float64(changes*keys*R)
	res.joinPrimaryMoved = float64(joinPrimary) / float64(changes*keys)

	// Leaves: every replica the leaver held moves to the next-ranked member.
	var leaveMoved int
	for c := 0; c < changes; c++ {
		gone := int32(rng.IntN(members))
		for i := range p.owners {
			if slices.Contains(p.owners[i][:], gone) {
				leaveMoved++
			}
		}
	}
	res.leaveReplicaMoved = float64(leaveMoved) / float64(changes*keys*R)

	// Check the O(1) join rule against real rings on a subsample: the live
	// code recomputes owners with Ring.Owners, and the two must agree.
	joined := NewRing(h, append(slices.Clone(names), "joiner-0"))
	nh := h.Member("joiner-0")
	var buf [maxReplicas]int
	for i := 0; i < len(sample) && i < 2000; i++ {
		o := joined.Owners(&sample[i], R, buf[:0])
		got := slices.ContainsFunc(o, func(j int) bool { return joined.Name(j) == "joiner-0" })
		if want := score(nh, p.kh[i]) > p.last[i]; got != want {
			t.Fatalf("members=%d key %d: ring says joiner owns=%v, simulation says %v", members, i, got, want)
		}
		res.checkedAgainstRing++
	}

	// Lookup hops: a lookup arrives at the member the requester registered
	// with (uniform); it is answered there if that member owns the key,
	// else forwarded one hop (every member knows the full ring, so never
	// more). The introduction then goes to the member that last heard from
	// the target (uniform too): one more message unless it is the answerer.
	var hops, intro float64
	for i := range p.owners {
		at := int32(rng.IntN(members))
		if !slices.Contains(p.owners[i][:], at) {
			hops++
			res.maxHops = 1
		}
		if via := int32(rng.IntN(members)); via != at {
			intro++
		}
	}
	res.meanLookupHops = hops / float64(keys)
	res.meanIntroMessages = intro / float64(keys)
	return res
}

func TestSimulation(t *testing.T) {
	type size struct{ members, keys, changes int }
	// make test runs smaller samples (a few seconds); the benchmark script
	// sets FLEET_SIM=full for the published table.
	sizes := []size{{100, 300_000, 10}, {1000, 300_000, 10}, {10000, 60_000, 20}}
	if os.Getenv("FLEET_SIM") == "full" {
		sizes = []size{{100, 1_000_000, 20}, {1000, 1_000_000, 20}, {10000, 250_000, 40}}
	}
	t.Logf("%8s %9s %12s %12s %12s %10s %8s %10s %12s %9s",
		"members", "sample", "join moved", "leave moved", "ideal 1/N", "max/mean", "disp.", "@100M", "lookup hops", "intro msg")
	for _, s := range sizes {
		r := simulate(t, s.members, s.keys, s.changes)
		ideal := 1 / float64(s.members)
		t.Logf("%8d %9d %11.4f%% %11.4f%% %11.4f%% %10.3f %8.3f %10.4f %12.4f %9.4f",
			r.members, r.keys, 100*r.joinReplicaMoved, 100*r.leaveReplicaMoved, 100*ideal,
			r.replicaMaxMean, r.dispersion, r.extrapolatedMaxMean, r.meanLookupHops, r.meanIntroMessages)

		// Movement: expected R*K*changes/(N+1) replica moves per join batch;
		// allow 5 standard deviations of the Poisson count.
		expJoin := float64(DefaultReplicas*s.keys*s.changes) / float64(s.members+1)
		gotJoin := r.joinReplicaMoved * float64(DefaultReplicas*s.keys*s.changes)
		if math.Abs(gotJoin-expJoin) > 5*math.Sqrt(expJoin) {
			t.Errorf("members=%d: joins moved %.0f replicas, expected %.0f", s.members, gotJoin, expJoin)
		}
		expLeave := float64(DefaultReplicas*s.keys*s.changes) / float64(s.members)
		gotLeave := r.leaveReplicaMoved * float64(DefaultReplicas*s.keys*s.changes)
		// A leaver's share is itself binomial; the sum over changes members
		// has variance about changes * K*R/N.
		if math.Abs(gotLeave-expLeave) > 5*math.Sqrt(expLeave) {
			t.Errorf("members=%d: leaves moved %.0f replicas, expected %.0f", s.members, gotLeave, expLeave)
		}
		// The counts must look multinomial, or extrapolating is wrong.
		if r.dispersion < 0.6 || r.dispersion > 1.5 {
			t.Errorf("members=%d: dispersion index %.3f, want about 1 (uniform placement)", s.members, r.dispersion)
		}
		if want := 1 - float64(DefaultReplicas)/float64(s.members); math.Abs(r.meanLookupHops-want) > 0.01 {
			t.Errorf("members=%d: mean lookup hops %.4f, want %.4f", s.members, r.meanLookupHops, want)
		}
	}
}
