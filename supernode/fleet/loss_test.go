package fleet

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"slices"
	"testing"
	"time"
)

// lossNode is an offline node (no memberlist) whose views the test
// publishes itself, as the handoff loop does on a membership change.
func lossNode(t *testing.T) *Node {
	t.Helper()
	n := offlineNode(t)
	n.log = slog.New(slog.DiscardHandler)
	n.losses.lease = time.Minute
	n.view.Store(&view{ring: NewRing(n.hasher, nil), members: map[string]Member{}})
	n.outboxes.Store(&map[string]*outbox{})
	t.Cleanup(func() {
		n.setView(lossView(t, n, n.name)) // stops the outboxes
		n.wg.Wait()
	})
	return n
}

// lossView is a view of the named members, each with a data address that
// nothing answers on.
func lossView(t *testing.T, n *Node, names ...string) *view {
	t.Helper()
	v := &view{ring: NewRing(n.hasher, names), members: map[string]Member{}}
	for _, name := range names {
		conn, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { conn.Close() })
		v.members[name] = Member{Name: name, Boot: 1, Data: conn.LocalAddr().(*net.UDPAddr).AddrPort()}
	}
	return v
}

// TestLossVisibleWithTheView: the moment a view in which every owner of a
// key has left is published, lookups of that key answer "owners
// unavailable", never an authoritative "not found". The loss used to be
// recorded only after the handoff loop's settle delay (200 ms, more on a
// loaded machine), while the view was published at once: a lookup in
// between, at the member that had become the key's only owner, found
// nothing, asked nobody and answered 404 (the flaky
// TestFleetLookupLeavesPacketPathFree: the client's retransmission landed
// there).
func TestLossVisibleWithTheView(t *testing.T) {
	for _, steps := range [][][]string{
		{{"a", "b", "self"}, {"self"}},                // both owners in one change
		{{"a", "b", "self"}, {"b", "self"}, {"self"}}, // one change each
		{{"a", "b", "self"}, {"a", "self"}, {"self"}},
	} {
		n := lossNode(t)
		views := make([]*view, len(steps))
		for i, names := range steps {
			views[i] = lossView(t, n, names...)
		}
		var key Key
		for i := 0; ; i++ {
			key = peer(1000 + i).Key
			if o := views[0].ring.OwnerNames(&key, n.cfg.Replicas); !slices.Contains(o, n.name) {
				break
			}
		}
		for _, v := range views {
			n.setView(v)
		}
		if _, found, remote := n.LookupLocal(key); found || !remote {
			t.Errorf("%v: LookupLocal right after the view change: found=%v remote=%v, want remote (only the loss record can tell)", steps, found, remote)
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		_, found, err := n.Lookup(ctx, key)
		cancel()
		if found || !errors.Is(err, ErrUnavailable) || RetryAfter(err) <= 0 {
			t.Errorf("%v: Lookup right after the view change: found=%v err=%v, want ErrUnavailable with a retry hint", steps, found, err)
		}
		if value(n.met.ownerLosses) != 1 {
			t.Errorf("%v: owner losses counted %v, want 1", steps, value(n.met.ownerLosses))
		}
		// A key a survivor owned is still an authoritative "not found".
		for i := 0; ; i++ {
			k := peer(5000 + i).Key
			if slices.Contains(views[0].ring.OwnerNames(&k, n.cfg.Replicas), n.name) {
				if _, found, err := n.Lookup(context.Background(), k); found || err != nil {
					t.Errorf("%v: lookup of a never-registered key this member owned: found=%v err=%v, want not found", steps, found, err)
				}
				break
			}
		}
	}
}
