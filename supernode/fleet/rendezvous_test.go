package fleet

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"sort"
	"testing"
)

func randomKeys(n int, seed uint64) []Key {
	rng := rand.New(rand.NewPCG(seed, seed^0xabcdef))
	keys := make([]Key, n)
	for i := range keys {
		for j := 0; j < 32; j += 8 {
			v := rng.Uint64()
			for b := 0; b < 8; b++ {
				keys[i][j+b] = byte(v >> (8 * b))
			}
		}
	}
	return keys
}

func memberNames(n int) []string {
	names := make([]string, n)
	for i := range names {
		names[i] = fmt.Sprintf("sn-%05d", i)
	}
	return names
}

// referenceOwners ranks every member by score with a full sort: the
// definition Owners must match.
func referenceOwners(r *Ring, k *Key, n int) []string {
	kh := r.hasher.Key(k)
	type ms struct {
		name  string
		score uint64
	}
	all := make([]ms, r.Len())
	for i, name := range r.names {
		all[i] = ms{name, score(r.hasher.Member(name), kh)}
	}
	sort.Slice(all, func(a, b int) bool {
		if all[a].score != all[b].score {
			return all[a].score > all[b].score
		}
		return all[a].name < all[b].name
	})
	if n > len(all) {
		n = len(all)
	}
	out := make([]string, n)
	for i := range out {
		out[i] = all[i].name
	}
	return out
}

func TestOwnersMatchFullSort(t *testing.T) {
	h := NewHasher(42)
	for _, members := range []int{1, 2, 3, 7, 50} {
		r := NewRing(h, memberNames(members))
		for _, k := range randomKeys(500, uint64(members)) {
			for _, n := range []int{1, 2, 3, 5} {
				got := r.OwnerNames(&k, n)
				want := referenceOwners(r, &k, n)
				if !slices.Equal(got, want) {
					t.Fatalf("members=%d n=%d: owners %v, full sort says %v", members, n, got, want)
				}
			}
		}
	}
}

func TestOwnersIndependentOfMemberOrder(t *testing.T) {
	h := NewHasher(7)
	names := memberNames(20)
	shuffled := append([]string(nil), names...)
	rand.Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
	a, b := NewRing(h, names), NewRing(h, append(shuffled, shuffled[3])) // and a duplicate
	if a.Len() != b.Len() {
		t.Fatalf("duplicate member counted: %d vs %d", a.Len(), b.Len())
	}
	for _, k := range randomKeys(1000, 1) {
		if x, y := a.OwnerNames(&k, 2), b.OwnerNames(&k, 2); !slices.Equal(x, y) {
			t.Fatalf("owners depend on member order: %v vs %v", x, y)
		}
	}
}

func TestOwnersDistinctAndBounded(t *testing.T) {
	r := NewRing(NewHasher(1), memberNames(3))
	k := randomKeys(1, 9)[0]
	if got := r.OwnerNames(&k, 5); len(got) != 3 {
		t.Fatalf("asked 5 owners of a 3-member ring, got %v", got)
	}
	got := r.OwnerNames(&k, 3)
	if got[0] == got[1] || got[1] == got[2] || got[0] == got[2] {
		t.Fatalf("owners not distinct: %v", got)
	}
	if empty := NewRing(NewHasher(1), nil); len(empty.OwnerNames(&k, 2)) != 0 {
		t.Fatal("empty ring has owners")
	}
}

// TestSeedChangesOwners: a different fleet key gives a different placement,
// so an outsider who knows the member names still cannot aim keys.
func TestSeedChangesOwners(t *testing.T) {
	names := memberNames(10)
	a, b := NewRing(NewHasher(1), names), NewRing(NewHasher(2), names)
	same := 0
	keys := randomKeys(2000, 3)
	for _, k := range keys {
		if a.OwnerNames(&k, 1)[0] == b.OwnerNames(&k, 1)[0] {
			same++
		}
	}
	// Independent placements agree on 1/10 of keys; allow wide noise.
	if same > len(keys)/5 {
		t.Fatalf("%d of %d keys have the same owner under two seeds", same, len(keys))
	}
}

// TestMinimalMovementOnJoin: a join changes a key's owners only by inserting
// the new member; every other member keeps its relative rank.
func TestMinimalMovementOnJoin(t *testing.T) {
	const R = 2
	h := NewHasher(99)
	names := memberNames(30)
	before := NewRing(h, names)
	after := NewRing(h, append(names, "sn-new"))
	keys := randomKeys(20000, 5)
	moved := 0
	for _, k := range keys {
		old, cur := before.OwnerNames(&k, R), after.OwnerNames(&k, R)
		if slices.Equal(old, cur) {
			continue
		}
		moved++
		if !slices.Contains(cur, "sn-new") {
			t.Fatalf("owners changed from %v to %v without the new member", old, cur)
		}
		// Removing the new member from the new owners must leave a prefix
		// of the old owners.
		rest := slices.DeleteFunc(slices.Clone(cur), func(s string) bool { return s == "sn-new" })
		if !slices.Equal(rest, old[:len(rest)]) {
			t.Fatalf("join reordered survivors: %v -> %v", old, cur)
		}
	}
	// Expected fraction of keys touched: R/(N+1) = 2/31 = 6.45%.
	frac := float64(moved) / float64(len(keys))
	if frac < 0.05 || frac > 0.08 {
		t.Fatalf("join moved %.2f%% of keys, want about %.2f%%", 100*frac, 100*2.0/31)
	}
}

// TestMinimalMovementOnLeave: a leave changes only the keys the leaver owned.
func TestMinimalMovementOnLeave(t *testing.T) {
	const R = 2
	h := NewHasher(5)
	names := memberNames(30)
	before := NewRing(h, names)
	gone := names[17]
	after := NewRing(h, slices.Delete(slices.Clone(names), 17, 18))
	for _, k := range randomKeys(20000, 8) {
		old, cur := before.OwnerNames(&k, R), after.OwnerNames(&k, R)
		if !slices.Contains(old, gone) {
			if !slices.Equal(old, cur) {
				t.Fatalf("key not owned by %s moved: %v -> %v", gone, old, cur)
			}
			continue
		}
		survivors := slices.DeleteFunc(slices.Clone(old), func(s string) bool { return s == gone })
		if !slices.Equal(cur[:len(survivors)], survivors) {
			t.Fatalf("leave reordered survivors: %v -> %v", old, cur)
		}
	}
}

func BenchmarkOwners(b *testing.B) {
	for _, n := range []int{3, 100, 1000, 10000} {
		b.Run(fmt.Sprintf("members=%d", n), func(b *testing.B) {
			r := NewRing(NewHasher(1), memberNames(n))
			keys := randomKeys(1024, 2)
			var buf [maxReplicas]int
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				r.Owners(&keys[i&1023], DefaultReplicas, buf[:0])
			}
		})
	}
}
