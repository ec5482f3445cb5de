package directory

import (
	"math/rand/v2"
	"testing"
	"time"
)

// TestIndexAgainstMap drives random inserts and removals through the table
// and checks membership against a Go map, exercising backward-shift deletion
// and index growth.
func TestIndexAgainstMap(t *testing.T) {
	d := New(Config{MaxPeers: 1 << 20, MaxLease: time.Minute})
	want := map[Key]bool{}
	r := rand.New(rand.NewPCG(1, 2))
	var p Peer
	for range 200000 {
		k := key(uint64(r.IntN(5000)))
		if r.IntN(3) == 0 {
			if d.Remove(k) != want[k] {
				t.Fatalf("remove %x: table and map disagree", k[:8])
			}
			delete(want, k)
			continue
		}
		pp := peer(uint64(r.Int64()) + 1)
		err := d.Register(k, pp, time.Minute)
		if err != nil && err != ErrReplay {
			t.Fatal(err)
		}
		want[k] = true
	}
	for i := range 5000 {
		k := key(uint64(i))
		if d.Lookup(k, &p) != want[k] {
			t.Fatalf("key %d: lookup disagrees with map", i)
		}
	}
	if d.Len() != len(want) {
		t.Fatalf("len %d want %d", d.Len(), len(want))
	}
}
