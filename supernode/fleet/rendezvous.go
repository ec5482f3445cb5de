// Package fleet lets many supernodes share one peer directory.
//
// Membership and failure detection come from hashicorp/memberlist (SWIM with
// Lifeguard). Each peer key is owned by the R members that rank first by
// rendezvous (highest-random-weight) hashing over the live members
// (Thaler & Ravishankar 1998): every member computes the same owners from the
// same member list without any coordination, and a join or leave moves only
// the keys whose top R changed, about R/N of the replicas. Registrations are
// accepted anywhere and replicated to the owners; lookups are answered locally
// by an owner or forwarded one hop to one; introductions travel to the member
// that last heard from the target, the only one its NAT has a pinhole for.
package fleet

import (
	"encoding/binary"
	"sort"
)

// Key is a peer's identity: its Ed25519 public key.
type Key [32]byte

// DefaultReplicas is how many members own each key (issue #6: R defaults to
// 2, so one failure never loses a registration).
const DefaultReplicas = 2

// mix64 is the 64-bit finaliser of MurmurHash3 (fmix64). It is a bijection
// with full avalanche, so distinct inputs give distinct, well spread outputs.
func mix64(h uint64) uint64 {
	h ^= h >> 33
	h *= 0xff51afd7ed558ccd
	h ^= h >> 33
	h *= 0xc4ceb9fe1a85ec53
	h ^= h >> 33
	return h
}

// Hasher maps keys and member names to 64-bit values under a fleet-wide
// seed. The seed is derived from the fleet key, so outsiders cannot grind
// peer keys that all land on one member; inside the fleet every member
// computes the same values. It is a fast mixing hash, not a MAC.
type Hasher struct{ seed uint64 }

// NewHasher returns a Hasher for seed (all members must use the same one).
func NewHasher(seed uint64) Hasher { return Hasher{seed: seed} }

// Key hashes a peer key: each 64-bit word is folded in through mix64.
func (h Hasher) Key(k *Key) uint64 {
	x := h.seed
	x = mix64(x ^ binary.LittleEndian.Uint64(k[0:8]))
	x = mix64(x ^ binary.LittleEndian.Uint64(k[8:16]))
	x = mix64(x ^ binary.LittleEndian.Uint64(k[16:24]))
	x = mix64(x ^ binary.LittleEndian.Uint64(k[24:32]))
	return x
}

// Member hashes a member name (FNV-1a, then mixed with the seed).
func (h Hasher) Member(name string) uint64 {
	x := uint64(14695981039346656037)
	for i := 0; i < len(name); i++ {
		x ^= uint64(name[i])
		x *= 1099511628211
	}
	return mix64(x ^ mix64(h.seed^0x9e3779b97f4a7c15))
}

// score is the rendezvous weight of a member for a key.
func score(member, key uint64) uint64 { return mix64(member ^ key) }

// Ring is an immutable snapshot of the live members, ranked per key by
// rendezvous hashing. Build a new Ring on every membership change.
type Ring struct {
	hasher Hasher
	names  []string // sorted, unique
	hashes []uint64 // hashes[i] = hasher.Member(names[i])
}

// NewRing returns the ring over names (order and duplicates do not matter).
func NewRing(h Hasher, names []string) *Ring {
	sorted := append([]string(nil), names...)
	sort.Strings(sorted)
	uniq := sorted[:0]
	for i, n := range sorted {
		if i == 0 || n != sorted[i-1] {
			uniq = append(uniq, n)
		}
	}
	r := &Ring{hasher: h, names: uniq, hashes: make([]uint64, len(uniq))}
	for i, n := range uniq {
		r.hashes[i] = h.Member(n)
	}
	return r
}

// Len is the number of members.
func (r *Ring) Len() int { return len(r.names) }

// Names returns the members, sorted. The slice must not be modified.
func (r *Ring) Names() []string { return r.names }

// Name returns the name of member i.
func (r *Ring) Name(i int) string { return r.names[i] }

// Index returns the position of name, or -1.
func (r *Ring) Index(name string) int {
	i := sort.SearchStrings(r.names, name)
	if i < len(r.names) && r.names[i] == name {
		return i
	}
	return -1
}

// Hasher returns the ring's hasher.
func (r *Ring) Hasher() Hasher { return r.hasher }

// Owners appends to dst the indexes of the n members that own key, best
// first, and returns it. Fewer than n come back when the ring is smaller.
// It costs one mix per member (O(N)); n is small, so keeping the best n in a
// sorted array beats a heap.
func (r *Ring) Owners(key *Key, n int, dst []int) []int {
	return r.ownersHashed(r.hasher.Key(key), n, dst)
}

// maxReplicas bounds n so the top-n buffer lives on the stack.
const maxReplicas = 8

func (r *Ring) ownersHashed(kh uint64, n int, dst []int) []int {
	if n > len(r.hashes) {
		n = len(r.hashes)
	}
	if n > maxReplicas {
		n = maxReplicas
	}
	if n <= 0 {
		return dst
	}
	var bestS [maxReplicas]uint64
	var bestI [maxReplicas]int
	filled := 0
	for i, mh := range r.hashes {
		s := score(mh, kh)
		if filled == n && s <= bestS[n-1] {
			continue // the common case: not in the top n
		}
		// Insert s keeping bestS sorted descending. Ties go to the lower
		// index (the smaller name) because we only move strictly smaller.
		j := filled
		if filled < n {
			filled++
		} else {
			j = n - 1
		}
		for j > 0 && bestS[j-1] < s {
			bestS[j], bestI[j] = bestS[j-1], bestI[j-1]
			j--
		}
		bestS[j], bestI[j] = s, i
	}
	return append(dst, bestI[:filled]...)
}

// OwnerNames returns the names of the n owners of key, best first.
func (r *Ring) OwnerNames(key *Key, n int) []string {
	var buf [maxReplicas]int
	idx := r.Owners(key, n, buf[:0])
	out := make([]string, len(idx))
	for i, j := range idx {
		out[i] = r.names[j]
	}
	return out
}

// IsOwner reports whether name is among the n owners of key.
func (r *Ring) IsOwner(key *Key, n int, name string) bool {
	var buf [maxReplicas]int
	for _, j := range r.Owners(key, n, buf[:0]) {
		if r.names[j] == name {
			return true
		}
	}
	return false
}
