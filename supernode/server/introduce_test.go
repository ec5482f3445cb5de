package server

import (
	"context"
	"testing"
	"time"

	"github.com/supernode-appliance/appliance/supernode/client"
	"github.com/supernode-appliance/appliance/supernode/directory"
)

// remoteStore is the smallest two-member "fleet": its own table, plus the
// other server's table seen as remote (Via 1, no session key), with
// introductions handed to the other server as the fleet layer does.
type remoteStore struct {
	*directory.Table
	other *Server
}

func (r *remoteStore) Lookup(id directory.Key, p *directory.Peer) bool {
	if r.Table.Lookup(id, p) {
		return true
	}
	if r.other.Store().Lookup(id, p) {
		p.Via, p.Session = 1, [16]byte{}
		return true
	}
	return false
}

func (r *remoteStore) Introduce(target directory.Key, p *directory.Peer, payload []byte) error {
	return r.other.DeliverIntroduction(target, p.Reflexive, payload)
}

// twoMembers starts member b and member a (whose store sees b's table as
// remote), with the given sockets each, and registers client x at b and y
// at a.
func twoMembers(t *testing.T, sockets int) (b *Server, x, y *client.Client) {
	b = start(t, func(c *Config) { c.Listen = []string{"127.0.0.1:0"}; c.Sockets = sockets })
	a := start(t, func(c *Config) {
		c.Listen = []string{"127.0.0.1:0"}
		c.Sockets = sockets
		c.Store = &remoteStore{Table: directory.New(directory.Config{MaxPeers: 10, MaxLease: time.Minute}), other: b}
	})
	x = newClient(t, b.Addrs()[0], true)
	y = newClient(t, a.Addrs()[0], true)
	ctx := ctxT(t)
	if _, err := x.Register(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := y.Register(ctx); err != nil {
		t.Fatal(err)
	}
	return b, x, y
}

// TestIntroductionThroughAnotherMember: Y (on server A) looks up X (on
// server B). The introduction must reach X from B's address, sealed with X's
// session key, which A never has.
func TestIntroductionThroughAnotherMember(t *testing.T) {
	b, x, y := twoMembers(t, 2)
	ctx := ctxT(t)
	p, err := y.Lookup(ctx, x.ID())
	if err != nil {
		t.Fatal(err)
	}
	if p.Reflexive != x.LocalAddr() {
		t.Fatalf("lookup via the other member: %+v", p)
	}
	// x's client accepts only introductions from its own supernode (b) that
	// verify under its session key.
	select {
	case in := <-x.Introductions():
		if in.Peer != y.ID() || in.Reflexive != y.LocalAddr() {
			t.Fatalf("introduction %+v", in)
		}
	case <-ctx.Done():
		t.Fatal("no introduction through the other member")
	}
	// A payload that is not an unsealed introduction is refused.
	if err := b.DeliverIntroduction(x.ID(), x.LocalAddr(), []byte("junk")); err != ErrIntroductionMalformed {
		t.Fatalf("junk payload: %v", err)
	}
}

// TestRoutedIntroductionKeepsSocketWritable: delivering an introduction
// routed from another member must not leave a deadline on the socket that
// every worker shares. It once set a one-second write deadline, and from
// then on every reply on that socket failed (issue: a fleet member stopped
// answering one second after a routed introduction).
func TestRoutedIntroductionKeepsSocketWritable(t *testing.T) {
	b, x, y := twoMembers(t, 1)
	ctx := ctxT(t)
	if _, err := y.Lookup(ctx, x.ID()); err != nil {
		t.Fatal(err)
	}
	select {
	case <-x.Introductions():
	case <-ctx.Done():
		t.Fatal("no introduction through the other member")
	}
	time.Sleep(1500 * time.Millisecond) // past the deadline the bug left behind
	ctx2, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	if _, err := x.Keepalive(ctx2); err != nil {
		t.Fatalf("keepalive to the delivering member after a routed introduction: %v", err)
	}
	if _, err := newClient(t, b.Addrs()[0], false).Binding(ctx2); err != nil {
		t.Fatalf("binding to the delivering member after a routed introduction: %v", err)
	}
}
