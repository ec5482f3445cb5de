package fleet

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/supernode-appliance/appliance/supernode/client"
)

// wirePeer is one client of the soak, attached to one member.
type wirePeer struct {
	c  *client.Client
	at int
}

// soakCounts are what the soak reports.
type soakCounts struct {
	keepalives, keepalive472, registrations, lookups, found, notFound, unavailable, noAnswer, outage int
}

func call(d time.Duration, fn func(ctx context.Context) error) error {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	return fn(ctx)
}

// TestFleetSoak is the long run behind `make soak` (SUPERNODE_SOAK=1; not
// part of `make test`): three member processes in namespaces running the
// real server over the fleet; in rounds, synthetic registrations are
// refreshed and replaced (churn) and looked up at every member, and real
// clients over the wire send keepalives and look each other up across
// members; a member is SIGKILLed and restarted halfway. It reports
// keepalives (and the 472s that made clients of the restarted member
// register again), registrations, lookups by answer, requests left without
// answer, and each member's RSS; it fails on any lookup of a live peer that
// is not found, and on any request left unanswered outside the outage of
// the killed member.
func TestFleetSoak(t *testing.T) {
	if os.Getenv("SUPERNODE_SOAK") == "" {
		t.Skip("soak test: run with `make soak` (SUPERNODE_SOAK=1, SOAK_DURATION=2m by default)")
	}
	dur := 2 * time.Minute
	if d, err := time.ParseDuration(os.Getenv("SOAK_DURATION")); err == nil {
		dur = d
	}
	l := newLab(t, 3)
	for _, m := range l.members {
		m.start()
	}
	waitMembers(t, l.members, 3, 15*time.Second)
	const peers = 300 // per member
	regs, lookups, failed, round := 0, 0, 0, 0
	killed := false

	// Real clients in their own namespace, 20 per member.
	cl := l.clientNS()
	var wire []*wirePeer
	if err := cl.Do(func() error {
		for i := range 60 {
			conn, err := net.ListenUDP("udp", nil)
			if err != nil {
				return err
			}
			_, priv, _ := ed25519.GenerateKey(rand.Reader)
			at := i % len(l.members)
			srv := netip.MustParseAddrPort(l.members[at].ip + ":3478")
			wire = append(wire, &wirePeer{c: client.New(conn, srv, priv, []netip.AddrPort{netip.MustParseAddrPort("10.77.0.100:1")}), at: at})
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	var n soakCounts
	for _, p := range wire {
		defer p.c.Close()
		if err := call(5*time.Second, func(ctx context.Context) error { _, err := p.c.Register(ctx); return err }); err != nil {
			t.Fatalf("register over the wire: %v", err)
		}
		n.registrations++
	}
	down := -1 // the member being killed and restarted
	wireRound := func() {
		for _, p := range wire {
			err := call(time.Second, func(ctx context.Context) error { _, err := p.c.Keepalive(ctx); return err })
			n.keepalives++
			if errors.Is(err, client.ErrNotRegistered) {
				n.keepalive472++
				if err = call(5*time.Second, func(ctx context.Context) error { _, err := p.c.Register(ctx); return err }); err == nil {
					n.registrations++
				}
			}
			if err != nil {
				if p.at == down {
					n.outage++
				} else {
					n.noAnswer++
					t.Logf("keepalive at %s: %v", l.members[p.at].name, err)
				}
			}
		}
		for i, p := range wire {
			target := wire[(i+1)%len(wire)] // attached to the next member
			err := call(time.Second, func(ctx context.Context) error { _, err := p.c.Lookup(ctx, target.c.ID()); return err })
			n.lookups++
			switch {
			case err == nil:
				n.found++
			case (p.at == down || target.at == down) && !errors.Is(err, client.ErrOwnersUnavailable):
				// The requester's member is down, or the target's is and
				// the target's lease ran out while it could not refresh.
				n.outage++
			case errors.Is(err, client.ErrNotFound):
				n.notFound++
				t.Logf("round %d: lookup at %s of a peer attached to %s: not found", round, l.members[p.at].name, l.members[target.at].name)
			case errors.Is(err, client.ErrOwnersUnavailable):
				n.unavailable++
			default:
				n.noAnswer++
				t.Logf("lookup at %s: %v", l.members[p.at].name, err)
			}
		}
	}

	start := time.Now()
	for time.Since(start) < dur {
		round++
		wireRound()
		for i, m := range l.members {
			m.do("reg %d %d %d", i*peers, (i+1)*peers, round)
			regs += peers
		}
		time.Sleep(500 * time.Millisecond) // replication
		for _, m := range l.members {
			var f, miss, stale, first int
			fmt.Sscanf(m.do("find 0 %d %d", peers*len(l.members), round), "found %d missing %d stale %d first-missing %d", &f, &miss, &stale, &first)
			lookups += f + miss + stale
			failed += miss + stale
		}
		if !killed && time.Since(start) > dur/2 {
			victim := l.members[2]
			down = 2
			victim.kill()
			wireRound() // while it is down
			waitMembers(t, l.members[:2], 2, convergeBound())
			victim.start()
			waitMembers(t, l.members, 3, 15*time.Second)
			wireRound() // its clients get 472 and register again
			down = -1
			killed = true
		}
	}
	var rss []string
	for _, m := range l.members {
		b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/status", m.cmd.Process.Pid))
		for _, line := range strings.Split(string(b), "\n") {
			if strings.HasPrefix(line, "VmRSS:") {
				rss = append(rss, m.name+"="+strings.Join(strings.Fields(line)[1:], " "))
			}
		}
	}
	for _, m := range l.members {
		var drops []string
		for _, r := range []string{"not_member", "replay", "stale", "rate", "decrypt", "malformed"} {
			if v := m.metric("supernode_fleet_dropped_total", "reason="+r); v > 0 {
				drops = append(drops, fmt.Sprintf("%s=%v", r, v))
			}
		}
		if len(drops) == 0 {
			drops = []string{"none"}
		}
		t.Logf("%s data-channel drops: %s", m.name, strings.Join(drops, " "))
	}
	t.Logf("soak %s, %d rounds, one member SIGKILLed and restarted halfway; RSS %s", dur, round, strings.Join(rss, " "))
	t.Logf("fleet store: %d registrations/refreshes, %d lookups, %d failed (stale or missing)", regs, lookups, failed)
	t.Logf("over the wire: %d keepalives (%d answered 472 -> registered again), %d registrations, %d lookups: %d found, %d not found, %d owners unavailable, %d without answer; %d requests by or for clients of the killed member during its outage",
		n.keepalives, n.keepalive472, n.registrations, n.lookups, n.found, n.notFound, n.unavailable, n.noAnswer, n.outage)
	if failed > 0 {
		t.Errorf("%d of %d fleet lookups failed", failed, lookups)
	}
	if n.noAnswer > 0 || n.notFound > 0 {
		t.Errorf("%d requests without answer and %d lookups not found outside the outage", n.noAnswer, n.notFound)
	}
	if n.keepalive472 == 0 {
		t.Errorf("no client of the restarted member was told to register again")
	}
}
