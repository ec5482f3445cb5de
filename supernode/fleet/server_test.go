package fleet

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"log/slog"
	"net"
	"slices"
	"testing"
	"time"

	"github.com/supernode-appliance/appliance/supernode/client"
	"github.com/supernode-appliance/appliance/supernode/directory"
	"github.com/supernode-appliance/appliance/supernode/server"
	"github.com/supernode-appliance/appliance/supernode/stun"
	"github.com/supernode-appliance/appliance/supernode/wire"
)

// The tests below run the real server over the fleet's Directory, one
// server per in-process member, and talk to them with the client library.

// serveFleet starts a server (one socket, so one worker) over each
// member's Directory.
func serveFleet(t *testing.T, members []*testMember, mod ...func(*server.Config)) ([]*server.Server, []*Directory) {
	t.Helper()
	var srvs []*server.Server
	var dirs []*Directory
	for _, m := range members {
		d := NewDirectory(m.Node, directory.New(directory.Config{MaxPeers: 1000, MaxLease: time.Minute}))
		cfg := server.Defaults()
		cfg.Listen, cfg.Sockets, cfg.RateLimit, cfg.Store = []string{"127.0.0.1:0"}, 1, 0, d
		for _, f := range mod {
			f(&cfg)
		}
		srv, err := server.New(cfg, slog.New(slog.DiscardHandler), nil)
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { srv.Serve(ctx); close(done) }()
		t.Cleanup(func() { cancel(); <-done })
		srvs, dirs = append(srvs, srv), append(dirs, d)
	}
	return srvs, dirs
}

func dialServer(t *testing.T, srv *server.Server) *client.Client {
	t.Helper()
	_, priv, _ := ed25519.GenerateKey(rand.Reader)
	conn, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	c := client.New(conn, srv.Addrs()[0], priv, nil)
	t.Cleanup(func() { c.Close() })
	return c
}

func within(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

// TestKeepaliveFromForgottenPeerGets472 (issue #20 item 2): a member holds
// a peer's replica but not its session (it restarted, or the peer
// registered elsewhere). A keepalive from that peer must be answered 472,
// every time, so the client registers again at once; it used to be checked
// against the replica's random key and dropped as bad integrity, and the
// client stayed unreachable for up to a lease.
func TestKeepaliveFromForgottenPeerGets472(t *testing.T) {
	members := startFleet(t, 3, newKey(t))
	srvs, dirs := serveFleet(t, members)
	for i := range 6 {
		c := dialServer(t, srvs[0])
		if _, err := c.Register(within(t, 5*time.Second)); err != nil {
			t.Fatal(err)
		}
		id := Key(c.ID())
		waitFor(t, 5*time.Second, "both replicas", func() bool {
			held := 0
			for _, m := range members {
				if m.Holds(id) {
					held++
				}
			}
			return held == 2
		})
		dirs[0].attached.Remove(directory.Key(id)) // forgotten here, as after a restart; the replicas live on
		if _, err := c.Keepalive(within(t, 3*time.Second)); !errors.Is(err, client.ErrNotRegistered) {
			t.Fatalf("peer %d: keepalive at a member that holds its replica but not its session: %v, want 472 Not Registered", i, err)
		}
		// What the client library's KeepAlive loop does next.
		if _, err := c.Register(within(t, 5*time.Second)); err != nil {
			t.Fatal(err)
		}
		if _, err := c.Keepalive(within(t, 3*time.Second)); err != nil {
			t.Fatalf("peer %d: keepalive after registering again: %v", i, err)
		}
	}
}

// TestUnauthenticatedKeepaliveCostsNoFleetLookup (issue #11 item 3): a
// keepalive with a random PEER-ID and a made-up key is answered 472 from
// the attached table alone; no member is asked.
func TestUnauthenticatedKeepaliveCostsNoFleetLookup(t *testing.T) {
	members := startFleet(t, 3, newKey(t))
	srvs, _ := serveFleet(t, members)
	served := func() (n float64) {
		for _, m := range members {
			n += value(m.met.forwardedServed)
		}
		return n
	}
	before := served()
	conn, err := net.DialUDP("udp", nil, net.UDPAddrFromAddrPort(srvs[1].Addrs()[0]))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	buf := make([]byte, 1500)
	for i := range 20 {
		var id wire.PeerID
		var key [16]byte
		rand.Read(id[:])
		rand.Read(key[:])
		m := stun.New()
		m.Build(stun.MessageType{Method: wire.MethodKeepalive, Class: stun.ClassRequest}, stun.MagicCookie, stun.NewTransactionID())
		wire.AddPeerID(m, wire.AttrPeerID, id)
		wire.AddStamp(m, uint64(time.Now().UnixMilli()))
		m.AddMessageIntegritySHA256(key[:])
		m.AddFingerprint()
		conn.Write(m.Raw)
		n, err := conn.Read(buf)
		if err != nil {
			t.Fatalf("keepalive %d with a random PEER-ID: no answer (%v), want 472", i, err)
		}
		resp := stun.New()
		if resp.Decode(buf[:n]) != nil {
			t.Fatal("undecodable answer")
		}
		v, _ := resp.Get(stun.AttrErrorCode)
		if code, _, _ := stun.ParseErrorCode(v); code != wire.CodeNotRegistered {
			t.Fatalf("keepalive %d with a random PEER-ID: answer code %d, want 472", i, code)
		}
	}
	if got := served() - before; got != 0 {
		t.Fatalf("20 unauthenticated keepalives made %v forwarded fleet lookups, want 0", got)
	}
}

// keyOwnedBy returns a peer entry whose owners are exactly names.
func keyOwnedBy(t *testing.T, m *testMember, names ...string) Entry {
	t.Helper()
	for i := 1000; i < 100000; i++ {
		e := peer(i)
		if o := m.Owners(e.Key); len(o) == len(names) && !slices.ContainsFunc(o, func(s string) bool { return !slices.Contains(names, s) }) {
			return e
		}
	}
	t.Fatal("no key with those owners")
	return Entry{}
}

// TestLookupWithBothOwnersDeadIsUnavailable (issue #20 item 3): with both
// owners of a key dead, a lookup answers 504 Owners Unavailable with a
// retry hint, before and after the failure detector has noticed, never
// 404 and never silence; a key that a surviving member owned still gets an
// authoritative 404; the loss is counted.
func TestLookupWithBothOwnersDeadIsUnavailable(t *testing.T) {
	members := startFleet(t, 3, newKey(t))
	srvs, _ := serveFleet(t, members)
	a, b, c := members[0], members[1], members[2]
	lost := keyOwnedBy(t, c, a.Name(), b.Name())
	never := keyOwnedBy(t, c, a.Name(), c.Name()) // never registered
	c.Register(lost)
	waitFor(t, 5*time.Second, "replicas at a and b", func() bool { return a.Holds(lost.Key) && b.Holds(lost.Key) })
	req := dialServer(t, srvs[2])
	if _, err := req.Register(within(t, 5*time.Second)); err != nil {
		t.Fatal(err)
	}
	if _, err := req.Lookup(within(t, 5*time.Second), wire.PeerID(lost.Key)); err != nil {
		t.Fatalf("lookup before the crash: %v", err)
	}
	a.Kill()
	b.Kill()
	unavailable := func(when string) {
		t.Helper()
		_, err := req.Lookup(within(t, 5*time.Second), wire.PeerID(lost.Key))
		var ue *client.UnavailableError
		if !errors.As(err, &ue) || !errors.Is(err, client.ErrOwnersUnavailable) || ue.RetryAfter <= 0 {
			t.Fatalf("lookup %s of a key whose owners both died: %v, want 504 Owners Unavailable with a retry hint", when, err)
		}
	}
	unavailable("before the failure detector noticed")
	waitMembers(t, []*testMember{c}, 1)
	waitFor(t, 5*time.Second, "the loss counted", func() bool { return value(c.met.ownerLosses) >= 1 })
	unavailable("after the failure detector noticed")
	if v := value(c.met.unavailableShare); v <= 0 || v > 1 {
		t.Fatalf("unavailable share %v", v)
	}
	if _, err := req.Lookup(within(t, 5*time.Second), wire.PeerID(never.Key)); !errors.Is(err, client.ErrNotFound) {
		t.Fatalf("lookup of a never-registered key a survivor owned: %v, want 404", err)
	}
}

// TestFleetLookupLeavesPacketPathFree (issue #20 item 3, #11 item 3): a
// lookup waiting for owners that do not answer must not hold up the
// worker: a Binding sent to the same socket (the server has one) while the
// lookup waits is answered first.
func TestFleetLookupLeavesPacketPathFree(t *testing.T) {
	key := newKey(t)
	var members []*testMember
	var seeds []string
	for i := range 3 {
		cfg := fastConfig(t, []string{"a", "b", "c"}[i], key, seeds)
		cfg.LookupTimeout = 4 * time.Second // owners that never answer keep the lookup waiting
		members = append(members, startMember(t, cfg))
		seeds = []string{members[0].cfg.Bind.String()}
	}
	waitMembers(t, members, 3)
	srvs, _ := serveFleet(t, members)
	a, b, c := members[0], members[1], members[2]
	lost := keyOwnedBy(t, c, a.Name(), b.Name())
	req := dialServer(t, srvs[2])
	if _, err := req.Register(within(t, 5*time.Second)); err != nil {
		t.Fatal(err)
	}
	a.Kill()
	b.Kill()
	done := make(chan error, 1)
	go func() {
		_, err := req.Lookup(within(t, 20*time.Second), wire.PeerID(lost.Key))
		done <- err
	}()
	waitFor(t, 5*time.Second, "the lookup waiting for the owners", func() bool {
		c.pendMu.Lock()
		defer c.pendMu.Unlock()
		return len(c.pending) > 0
	})
	other := dialServer(t, srvs[2])
	if _, err := other.Binding(within(t, 3*time.Second)); err != nil {
		t.Fatalf("Binding while a fleet lookup waits: %v (the worker is blocked)", err)
	}
	select {
	case err := <-done:
		t.Fatalf("the lookup finished (%v) before the Binding was answered", err)
	default:
	}
	if err := <-done; !errors.Is(err, client.ErrOwnersUnavailable) {
		t.Fatalf("lookup with no owner answering: %v, want 504", err)
	}
}

// TestRemoteLookupKeepsIntroductionBudgets: a lookup answered after asking
// other members spends the same introduction budgets as one answered in
// the worker (issue #11 item 6): past the burst it gets 474 and no
// introduction.
func TestRemoteLookupKeepsIntroductionBudgets(t *testing.T) {
	members := startFleet(t, 3, newKey(t))
	srvs, _ := serveFleet(t, members, func(c *server.Config) { c.IntroduceRate, c.IntroduceBurst = 0.001, 2 })
	c := members[2]
	var target *client.Client
	for target == nil {
		p := dialServer(t, srvs[0])
		if !slices.Contains(c.Owners(Key(p.ID())), c.Name()) {
			target = p
		}
	}
	if _, err := target.Register(within(t, 5*time.Second)); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 5*time.Second, "the replicas", func() bool {
		held := 0
		for _, m := range members {
			if m.Holds(Key(target.ID())) {
				held++
			}
		}
		return held == 2
	})
	req := dialServer(t, srvs[2])
	if _, err := req.Register(within(t, 5*time.Second)); err != nil {
		t.Fatal(err)
	}
	for i := range 2 {
		if _, err := req.Lookup(within(t, 5*time.Second), target.ID()); err != nil {
			t.Fatalf("lookup %d through the fleet: %v", i, err)
		}
	}
	_, err := req.Lookup(within(t, 5*time.Second), target.ID())
	var er *client.ErrorResponse
	if !errors.As(err, &er) || er.Code != wire.CodeIntroLimited {
		t.Fatalf("third lookup with a burst of 2: %v, want 474", err)
	}
}
