package directory

import "hash/maphash"

// index maps a key to a record number with open addressing (linear probing,
// backward-shift deletion). Unlike map[Key]uint32 it stores only the 4-byte
// record number per slot and compares keys in the record itself, so the key
// is kept once per peer. Hashing is seeded (maphash), so peers cannot grind
// public keys into one probe chain.
type index struct {
	slots []uint32 // record number + 1; 0 = empty
	n     int
}

var seed = maphash.MakeSeed()

func hashKey(k *Key) uint64 { return maphash.Comparable(seed, *k) }

const minSlots = 16

func (ix *index) find(s *shard, k *Key, h uint64) (slot int, ok bool) {
	if len(ix.slots) == 0 {
		return -1, false
	}
	mask := len(ix.slots) - 1
	for i := int(h) & mask; ; i = (i + 1) & mask {
		v := ix.slots[i]
		if v == 0 {
			return i, false
		}
		if s.rec(v-1).key == *k {
			return i, true
		}
	}
}

// get returns the record number for k.
func (ix *index) get(s *shard, k *Key, h uint64) (uint32, bool) {
	i, ok := ix.find(s, k, h)
	if !ok {
		return 0, false
	}
	return ix.slots[i] - 1, true
}

// put adds k -> rec; k must not be present.
func (ix *index) put(s *shard, k *Key, h uint64, rec uint32) {
	// Grow at 3/4 load: probe chains stay short, and growth doubles the
	// 4-byte slots only, never the records.
	if (ix.n+1)*4 > len(ix.slots)*3 {
		ix.grow(s)
	}
	i, _ := ix.find(s, k, h)
	ix.slots[i] = rec + 1
	ix.n++
}

func (ix *index) grow(s *shard) {
	old := ix.slots
	ix.slots = make([]uint32, max(minSlots, 2*len(old)))
	mask := len(ix.slots) - 1
	for _, v := range old {
		if v == 0 {
			continue
		}
		i := int(hashKey(&s.rec(v-1).key)) & mask
		for ix.slots[i] != 0 {
			i = (i + 1) & mask
		}
		ix.slots[i] = v
	}
}

// del removes k, shifting later members of its probe chain back so lookups
// never need tombstones (Knuth 6.4, algorithm R).
func (ix *index) del(s *shard, k *Key, h uint64) {
	i, ok := ix.find(s, k, h)
	if !ok {
		return
	}
	mask := len(ix.slots) - 1
	ix.slots[i] = 0
	ix.n--
	for j := (i + 1) & mask; ix.slots[j] != 0; j = (j + 1) & mask {
		home := int(hashKey(&s.rec(ix.slots[j]-1).key)) & mask
		// Move slot j into the hole at i if its home is not in (i, j].
		if (j > i && (home <= i || home > j)) || (j < i && home <= i && home > j) {
			ix.slots[i] = ix.slots[j]
			ix.slots[j] = 0
			i = j
		}
	}
}
