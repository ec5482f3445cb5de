package fleet

import (
	"math"
	"net/netip"
	"testing"
	"time"

	"github.com/supernode-appliance/appliance/supernode/directory"
	"github.com/supernode-appliance/appliance/supernode/server"
)

func newTable() *directory.Table {
	return directory.New(directory.Config{MaxPeers: 1000, MaxLease: time.Minute})
}

// The server finds the fleet's introduction hook through this interface.
var _ server.Introducer = (*Directory)(nil)

func TestDirectoryOverFleet(t *testing.T) {
	members := startFleet(t, 3, newKey(t))
	dirs := make([]*Directory, len(members))
	for i, m := range members {
		dirs[i] = NewDirectory(m.Node, newTable())
	}
	var id directory.Key
	copy(id[:], "directory-peer-key-32-bytes-long")
	p := directory.Peer{
		Reflexive: netip.MustParseAddrPort("203.0.113.9:40000"),
		NLocal:    1,
		Session:   [16]byte{1, 2, 3},
		Stamp:     7,
	}
	p.Local[0] = netip.MustParseAddrPort("192.168.1.9:40000")
	if err := dirs[0].Register(id, &p, 30*time.Second); err != nil {
		t.Fatal(err)
	}
	// Replay protection is the attached table's.
	if err := dirs[0].Register(id, &p, 30*time.Second); err != directory.ErrReplay {
		t.Fatalf("replayed registration: %v", err)
	}

	// At the member it is attached to: no hop, session included, Via 0.
	var got directory.Peer
	if !dirs[0].Lookup(id, &got) || got.Via != 0 || got.Session != p.Session {
		t.Fatalf("attached lookup: %+v", got)
	}
	// Elsewhere: found through the fleet, without the session key.
	for _, d := range dirs[1:] {
		var q directory.Peer
		waitFor(t, 3*time.Second, "fleet lookup", func() bool { return d.Lookup(id, &q) })
		if q.Reflexive != p.Reflexive || q.NLocal != 1 || q.Local[0] != p.Local[0] {
			t.Fatalf("fleet lookup: %+v", q)
		}
		if q.Session == p.Session {
			t.Fatal("the session key left the member that issued it")
		}
		if q.Session == ([16]byte{}) || q.Stamp != math.MaxUint64 {
			t.Fatal("a fleet result must carry an unusable session (random key, max stamp), not a zero key")
		}
		if q.Via == 0 {
			t.Fatal("a peer attached elsewhere came back with Via 0")
		}
		if time.Until(q.Expires) < 20*time.Second {
			t.Fatalf("expires %s", q.Expires)
		}
		// The introduction reaches the member the peer is attached to.
		if err := d.Introduce(id, &q, []byte("intro")); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, 3*time.Second, "introductions at the attached member", func() bool {
		members[0].mu.Lock()
		defer members[0].mu.Unlock()
		return len(members[0].got) == 2
	})

	// A keepalive from a new NAT mapping updates the replicas.
	moved := netip.MustParseAddrPort("203.0.113.9:40001")
	if err := dirs[0].Refresh(id, moved, 8, 0, 30*time.Second); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 3*time.Second, "refreshed replicas", func() bool {
		var q directory.Peer
		return dirs[2].Lookup(id, &q) && q.Reflexive == moved
	})

	// Leave removes it everywhere.
	if !dirs[0].Remove(id) {
		t.Fatal("remove: not present")
	}
	waitFor(t, 3*time.Second, "removal", func() bool {
		var q directory.Peer
		return !dirs[1].Lookup(id, &q) && !dirs[2].Lookup(id, &q)
	})
}
