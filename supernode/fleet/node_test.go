package fleet

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"net"
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

func newKey(t testing.TB) string {
	b := make([]byte, 32)
	rand.Read(b)
	return base64.StdEncoding.EncodeToString(b)
}

// freePorts returns a port p with p and p+1 free for TCP and UDP on
// loopback: the gossip port and the data channel.
func freePorts(t testing.TB) uint16 {
	t.Helper()
	for i := 0; i < 50; i++ {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		p := l.Addr().(*net.TCPAddr).Port
		l.Close()
		if p >= 65535 {
			continue
		}
		ok := true
		for _, q := range []int{p, p + 1} {
			u, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: q})
			if err != nil {
				ok = false
				break
			}
			u.Close()
			tl, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", q))
			if err != nil {
				ok = false
				break
			}
			tl.Close()
		}
		if ok {
			return uint16(p)
		}
	}
	t.Fatal("no free port pair on loopback")
	return 0
}

// fastConfig is a member on loopback with a failure detector tuned for
// tests (the LAN defaults take seconds; the logic is the same).
func fastConfig(t testing.TB, name, key string, seeds []string) Config {
	c := DefaultConfig()
	c.Name = name
	c.Bind = netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), freePorts(t))
	c.Keys = []string{key}
	c.Seeds = seeds
	// Fast enough for short tests, slow enough that a loaded CI machine
	// does not get members falsely suspected.
	c.ProbeInterval = 500 * time.Millisecond
	c.ProbeTimeout = 250 * time.Millisecond
	c.RejoinInterval = 300 * time.Millisecond
	c.LookupTimeout = 500 * time.Millisecond // generous: the test machine is shared
	return c
}

type testMember struct {
	*Node
	reg *prometheus.Registry
	mu  sync.Mutex
	got []string // introductions received: "key-hex payload"
}

func startMember(t testing.TB, cfg Config) *testMember {
	t.Helper()
	tm := &testMember{reg: prometheus.NewRegistry()}
	n, err := Start(Options{
		Config: cfg, Registry: tm.reg, Capacity: 1000,
		Supernode: netip.MustParseAddrPort("192.0.2.1:3478"),
		OnIntroduce: func(k Key, addr netip.AddrPort, payload []byte) {
			tm.mu.Lock()
			tm.got = append(tm.got, fmt.Sprintf("%x %s %s", k[:4], addr, payload))
			tm.mu.Unlock()
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	tm.Node = n
	t.Cleanup(n.Kill)
	return tm
}

func startFleet(t testing.TB, size int, key string) []*testMember {
	t.Helper()
	var members []*testMember
	var seeds []string
	for i := 0; i < size; i++ {
		cfg := fastConfig(t, fmt.Sprintf("m%d", i), key, seeds)
		members = append(members, startMember(t, cfg))
		if i == 0 {
			seeds = []string{cfg.Bind.String()}
		}
	}
	waitMembers(t, members, size)
	return members
}

func waitFor(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", timeout, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func waitMembers(t testing.TB, members []*testMember, want int) {
	t.Helper()
	waitFor(t, 15*time.Second, fmt.Sprintf("%d members everywhere", want), func() bool {
		for _, m := range members {
			if len(m.Members()) != want {
				return false
			}
		}
		return true
	})
}

func peer(i int) Entry {
	var k Key
	copy(k[:], fmt.Sprintf("peer-%08d-padding-to-32-bytes!", i))
	return Entry{
		Key:       k,
		Reflexive: netip.AddrPortFrom(netip.AddrFrom4([4]byte{198, 51, 100, byte(i)}), uint16(10000+i)),
		Local:     []netip.AddrPort{netip.MustParseAddrPort("10.0.0.2:5000"), netip.MustParseAddrPort("[fd00::2]:5000")},
		Lease:     30 * time.Second,
	}
}

// lookupAll checks every peer is found from every member with the right
// record; it returns the first problem.
func lookupAll(members []*testMember, peers int, via func(i int) string) error {
	for _, m := range members {
		for i := 0; i < peers; i++ {
			want := peer(i)
			start := time.Now()
			e, ok, err := m.Lookup(context.Background(), want.Key)
			if err != nil || !ok {
				return fmt.Errorf("%s: peer %d not found (err %v) after %s; owners %v", m.Name(), i, err, time.Since(start), m.Owners(want.Key))
			}
			if e.Reflexive != want.Reflexive || len(e.Local) != 2 || e.Local[1] != want.Local[1] {
				return fmt.Errorf("%s: peer %d: got %+v", m.Name(), i, e)
			}
			if via != nil && e.Via != via(i) {
				return fmt.Errorf("%s: peer %d via %s, want %s", m.Name(), i, e.Via, via(i))
			}
		}
	}
	return nil
}

// waitPlaced waits until all R replicas of the peers are stored: found
// from everywhere is not enough before a member is killed, since a lookup can
// be answered by one owner while the datagram to the other is in flight.
func waitPlaced(t testing.TB, members []*testMember, peers int) {
	t.Helper()
	waitFor(t, 5*time.Second, "every replica in place", func() bool {
		total := 0
		for _, m := range members {
			total += m.st.len()
		}
		return total == peers*DefaultReplicas && lookupAll(members, peers, nil) == nil
	})
}

func TestFleetRegisterLookupEverywhere(t *testing.T) {
	members := startFleet(t, 3, newKey(t))
	const peers = 300
	for i := 0; i < peers; i++ {
		if err := members[i%3].Register(peer(i)); err != nil {
			t.Fatal(err)
		}
	}
	via := func(i int) string { return members[i%3].Name() }
	waitFor(t, 5*time.Second, "replication", func() bool { return lookupAll(members, peers, via) == nil })

	// Each key lives exactly on its R owners (once replication, which a
	// lookup can overtake by asking the other owner, has landed).
	misplaced := func() error {
		for i := 0; i < peers; i++ {
			p := peer(i)
			owners := members[0].Owners(p.Key)
			if len(owners) != DefaultReplicas {
				return fmt.Errorf("owners %v", owners)
			}
			for _, m := range members {
				_, held := m.st.get(&p.Key, time.Now())
				isOwner := owners[0] == m.Name() || owners[1] == m.Name()
				if held != isOwner {
					return fmt.Errorf("peer %d: %s holds=%v but owners are %v", i, m.Name(), held, owners)
				}
			}
		}
		return nil
	}
	deadline := time.Now().Add(5 * time.Second)
	for err := misplaced(); err != nil; err = misplaced() {
		if time.Now().After(deadline) {
			t.Fatal(err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	// Forwarded lookups happened and were counted; ownership share is 2/3.
	var forwarded float64
	for _, m := range members {
		forwarded += value(m.met.lookups.WithLabelValues("forwarded", "found"))
		if got := value(m.met.ownershipShare); got < 0.66 || got > 0.67 {
			t.Fatalf("%s ownership share %.3f, want 2/3", m.Name(), got)
		}
	}
	if forwarded == 0 {
		t.Fatal("no lookup was forwarded: every member owns every key?")
	}

	// A missing peer is an authoritative not-found, not an error.
	if _, ok, err := members[1].Lookup(context.Background(), Key{1, 2, 3}); ok || err != nil {
		t.Fatalf("unknown peer: found=%v err=%v", ok, err)
	}

	// Leave (explicit unregister) removes it everywhere.
	members[2].Remove(peer(5).Key)
	waitFor(t, 3*time.Second, "removal", func() bool {
		for _, m := range members {
			if _, ok, _ := m.Lookup(context.Background(), peer(5).Key); ok {
				return false
			}
		}
		return true
	})
}

func TestFleetIntroductionGoesThroughVia(t *testing.T) {
	members := startFleet(t, 3, newKey(t))
	target := peer(42)
	members[2].Register(target)
	var e Entry
	waitFor(t, 3*time.Second, "replication", func() bool {
		var ok bool
		e, ok, _ = members[0].Lookup(context.Background(), target.Key)
		return ok
	})
	if e.Via != members[2].Name() {
		t.Fatalf("via %s, want %s", e.Via, members[2].Name())
	}
	if err := members[0].Introduce(&e, []byte("unsealed-indication")); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 3*time.Second, "introduction at the via member", func() bool {
		members[2].mu.Lock()
		defer members[2].mu.Unlock()
		return len(members[2].got) == 1
	})
	want := fmt.Sprintf("%x %s unsealed-indication", target.Key[:4], target.Reflexive)
	if members[2].got[0] != want {
		t.Fatalf("introduction %q, want %q", members[2].got[0], want)
	}
	for _, m := range members[:2] {
		if len(m.got) != 0 {
			t.Fatalf("%s got an introduction meant for %s", m.Name(), members[2].Name())
		}
	}
}

func TestFleetSurvivesCrashAndRejoin(t *testing.T) {
	key := newKey(t)
	members := startFleet(t, 3, key)
	const peers = 300
	for i := 0; i < peers; i++ {
		members[i%3].Register(peer(i))
	}
	waitPlaced(t, members, peers)

	// Crash m2 (no leave): with two replicas every peer stays findable,
	// even before the failure detector notices.
	victim := members[2]
	victimCfg := victim.cfg
	victim.Kill()
	live := members[:2]
	if err := lookupAll(live, peers, nil); err != nil {
		t.Fatalf("right after the crash: %v", err)
	}
	waitMembers(t, live, 2)
	// A crash is a failure: counted, and remembered for the rejoin loop
	// (memberlist reports it through the same NotifyLeave as a leave).
	for _, m := range live {
		if got := value(m.met.memberEvents.WithLabelValues("fail")); got != 1 {
			t.Errorf("%s counted %v failures after one crash", m.Name(), got)
		}
		m.failMu.Lock()
		_, remembered := m.failed[victim.Name()]
		m.failMu.Unlock()
		if !remembered {
			t.Errorf("%s does not remember the crashed member for the rejoin loop", m.Name())
		}
	}
	// After re-replication the two survivors hold every key (R=2 of 2).
	waitFor(t, 5*time.Second, "re-replication to survivors", func() bool {
		return live[0].st.len() == peers && live[1].st.len() == peers
	})

	// Peers that were attached to m2 re-register at survivors.
	for i := 2; i < peers; i += 3 {
		live[i%2].Register(peer(i))
	}
	if err := lookupAll(live, peers, nil); err != nil {
		t.Fatal(err)
	}

	// Restart m2 on the same address: it rejoins and takes back its share.
	back := startMember(t, victimCfg)
	members = []*testMember{live[0], live[1], back}
	waitMembers(t, members, 3)
	waitFor(t, 5*time.Second, "handoff to the restarted member", func() bool {
		owned := 0
		for i := 0; i < peers; i++ {
			p := peer(i)
			if back.view.Load().ring.IsOwner(&p.Key, DefaultReplicas, back.Name()) {
				owned++
			}
		}
		return owned > 0 && back.st.len() == owned
	})
	if err := lookupAll(members, peers, nil); err != nil {
		t.Fatal(err)
	}
	// Survivors released what they no longer own.
	waitFor(t, 5*time.Second, "release", func() bool {
		total := 0
		for _, m := range members {
			total += m.st.len()
		}
		return total == peers*DefaultReplicas
	})
}

// TestFleetFastRestartRefills: a member that crashes and is back under the
// same name before anyone declared it dead has an empty store; its new boot
// id makes the others refill it.
func TestFleetFastRestartRefills(t *testing.T) {
	members := startFleet(t, 3, newKey(t))
	const peers = 200
	for i := 0; i < peers; i++ {
		members[i%3].Register(peer(i))
	}
	waitPlaced(t, members, peers)
	cfg := members[2].cfg
	members[2].Kill()
	back := startMember(t, cfg)
	members = []*testMember{members[0], members[1], back}
	waitMembers(t, members, 3)
	owned := 0
	for i := 0; i < peers; i++ {
		p := peer(i)
		if members[0].view.Load().ring.IsOwner(&p.Key, DefaultReplicas, back.Name()) {
			owned++
		}
	}
	waitFor(t, 5*time.Second, fmt.Sprintf("refill of the restarted member (owns %d)", owned), func() bool {
		return owned > 0 && back.st.len() == owned
	})
}

func TestFleetGracefulLeave(t *testing.T) {
	members := startFleet(t, 3, newKey(t))
	for i := 0; i < 60; i++ {
		members[i%3].Register(peer(i))
	}
	waitPlaced(t, members, 60)
	start := time.Now()
	if err := members[1].Close(); err != nil {
		t.Fatal(err)
	}
	live := []*testMember{members[0], members[2]}
	waitMembers(t, live, 2)
	// A leave is gossiped, not detected: it is seen well within one
	// suspicion timeout.
	if d := time.Since(start); d > 3*time.Second {
		t.Logf("leave took %s to converge", d)
	}
	if err := lookupAll(live, 60, nil); err != nil {
		t.Fatal(err)
	}
	for _, m := range live {
		if got := value(m.met.memberEvents.WithLabelValues("leave")); got < 1 {
			t.Errorf("%s: leave events %v", m.Name(), got)
		}
		if got := value(m.met.memberEvents.WithLabelValues("fail")); got != 0 {
			t.Errorf("%s counted the graceful leave as %v failures", m.Name(), got)
		}
	}
}

// TestFleetWrongKey: a member with another key can neither join nor write.
func TestFleetWrongKey(t *testing.T) {
	members := startFleet(t, 3, newKey(t))
	seed := members[0].cfg.Bind.String()
	intruderCfg := fastConfig(t, "intruder", newKey(t), []string{seed})
	intruder := startMember(t, intruderCfg)
	if _, err := intruder.ml.Join([]string{seed}); err == nil {
		t.Fatal("a member with the wrong key joined")
	}
	time.Sleep(time.Second) // several probe intervals
	for _, m := range members {
		if got := len(m.Members()); got != 3 {
			t.Fatalf("%s sees %d members after the intruder tried", m.Name(), got)
		}
	}
	if got := len(intruder.Members()); got != 1 {
		t.Fatalf("intruder sees %d members", got)
	}
	if got := value(members[0].met.dropped.WithLabelValues(dropGossipDecrypt)); got < 1 {
		t.Fatalf("the seed counted %v undecryptable gossip messages", got)
	}

	// Write directly to a member's data channel with the wrong key.
	p := peer(7)
	p.Heard = time.Now()
	p.Via = "intruder"
	owner := members[0].Owners(p.Key)[0]
	var target, sender *testMember
	for _, m := range members {
		if m.Name() == owner {
			target = m
		} else {
			sender = m
		}
	}
	// Under a member's name and boot: the intruder's only obstacle is the key.
	msg := sender.header(nil, msgPut, time.Now())
	msg = append(msg, putLive, 1)
	msg = appendEntry(msg, &p)
	before := value(target.met.dropped.WithLabelValues(dropDecrypt))
	if err := intruder.ch.send(target.DataAddr(), msg); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 2*time.Second, "decrypt drop", func() bool {
		return value(target.met.dropped.WithLabelValues(dropDecrypt)) > before
	})
	if _, ok, _ := members[1].Lookup(context.Background(), p.Key); ok {
		t.Fatal("the intruder's entry was stored")
	}
	// The same message sealed with the right key is accepted: the drop
	// above was the key, not the message.
	if err := sender.ch.send(target.DataAddr(), msg); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 2*time.Second, "accepted put", func() bool {
		_, ok := target.st.get(&p.Key, time.Now())
		return ok
	})
}

// TestFleetHostileDatagrams: garbage, truncation and stale replays are
// dropped and counted; the member keeps serving.
func TestFleetHostileDatagrams(t *testing.T) {
	members := startFleet(t, 2, newKey(t))
	a, b := members[0], members[1]
	conn, err := net.DialUDP("udp", nil, net.UDPAddrFromAddrPort(b.DataAddr()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	junk := make([]byte, 900)
	rand.Read(junk)
	conn.Write(junk)
	conn.Write(junk[:5])
	conn.Write(make([]byte, 3000))
	// Authentic but stale (a replay from two minutes ago).
	stale := a.header(nil, msgLookup, time.Now().Add(-2*time.Minute))
	stale = append(stale, make([]byte, 40)...)
	a.ch.send(b.DataAddr(), stale)
	// Authentic but malformed bodies of every type.
	for _, typ := range []byte{msgPut, msgDelete, msgLookup, msgLookupResp, msgIntroduce, 99} {
		m := a.header(nil, typ, time.Now())
		m = append(m, 1, 2, 3)
		a.ch.send(b.DataAddr(), m)
	}
	waitFor(t, 2*time.Second, "drop counters", func() bool {
		d := b.met.dropped
		return value(d.WithLabelValues(dropDecrypt)) >= 1 &&
			value(d.WithLabelValues(dropShort)) >= 1 &&
			value(d.WithLabelValues(dropStale)) == 1 &&
			value(d.WithLabelValues(dropMalformed)) >= 5 &&
			value(d.WithLabelValues(dropUnknown)) == 1
	})
	a.Register(peer(1))
	waitFor(t, 2*time.Second, "still serving", func() bool {
		_, ok, _ := b.Lookup(context.Background(), peer(1).Key)
		return ok
	})
}

func TestFleetMemberRateLimit(t *testing.T) {
	key := newKey(t)
	cfgA := fastConfig(t, "a", key, nil)
	a := startMember(t, cfgA)
	cfgB := fastConfig(t, "b", key, []string{cfgA.Bind.String()})
	cfgB.MemberRate = 50
	b := startMember(t, cfgB)
	waitMembers(t, []*testMember{a, b}, 2)
	for i := 0; i < 500; i++ {
		m := a.header(nil, msgDelete, time.Now())
		m = append(m, 0)
		a.ch.send(b.DataAddr(), m)
	}
	waitFor(t, 2*time.Second, "rate drops", func() bool {
		return value(b.met.dropped.WithLabelValues(dropRate)) >= 300
	})
}

func TestConfigValidate(t *testing.T) {
	good := DefaultConfig()
	good.Bind = netip.MustParseAddrPort("0.0.0.0:7946")
	good.Keys = []string{newKey(t)}
	if err := good.Validate(); err != nil {
		t.Fatal(err)
	}
	off := DefaultConfig()
	if err := off.Validate(); err != nil || off.Enabled() {
		t.Fatalf("a config without fleet_bind must be valid and disabled: %v", err)
	}
	for name, mut := range map[string]func(*Config){
		"fleet_key is empty":  func(c *Config) { c.Keys = nil },
		"not base64":          func(c *Config) { c.Keys = []string{"@@@"} },
		"decodes to 5 bytes":  func(c *Config) { c.Keys = []string{base64.StdEncoding.EncodeToString([]byte("12345"))} },
		"fleet_replicas":      func(c *Config) { c.Replicas = 0 },
		"fleet_seeds entry":   func(c *Config) { c.Seeds = []string{"nohostport"} },
		"fleet_probe_timeout": func(c *Config) { c.ProbeTimeout = 2 * time.Second },
		"has no port":         func(c *Config) { c.Bind = netip.MustParseAddrPort("0.0.0.0:0") },
	} {
		c := good
		mut(&c)
		err := c.Validate()
		if err == nil || !contains(err.Error(), name) {
			t.Errorf("%s: got %v", name, err)
		}
	}
}

func contains(s, sub string) bool {
	return len(sub) == 0 || (len(s) >= len(sub) && (s[:len(sub)] == sub || contains(s[1:], sub)))
}

// value reads a counter or gauge (client_golang's testutil would pull a
// module go.mod does not have).
func value(m prometheus.Metric) float64 {
	var d dto.Metric
	if err := m.Write(&d); err != nil {
		panic(err)
	}
	if d.Counter != nil {
		return d.Counter.GetValue()
	}
	return d.Gauge.GetValue()
}
