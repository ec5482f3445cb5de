package fleet

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"log"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"runtime"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/memberlist"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/supernode-appliance/appliance/supernode/server"
)

// Options are what the supernode daemon hands the fleet besides its Config.
type Options struct {
	Config Config
	// Supernode is this member's public supernode address (gossiped in the
	// metadata so operators and tools can see where each member serves).
	Supernode netip.AddrPort
	// Capacity is the number of peers this supernode can hold.
	Capacity uint32
	Logger   *slog.Logger
	Registry prometheus.Registerer
	// OnIntroduce is called on the member that last heard from target when
	// a lookup elsewhere found it, with the requesting member's unsealed
	// introduce indication: the server seals it with the target's session
	// key (which only this member has) and sends it from its own socket,
	// where the target's NAT has a pinhole (server.DeliverIntroduction). It
	// must not block for long. payload aliases the receive buffer: it is
	// valid only during the call (copy what is kept).
	OnIntroduce func(target Key, reflexive netip.AddrPort, payload []byte)
	// OnIntroduceBatch, when set, is called instead of OnIntroduce with
	// the send batch of the data channel's receive goroutine (nil: send
	// at once), flushed after each datagram
	// (server.Server.DeliverIntroductionBatch).
	OnIntroduceBatch func(sb *server.SendBatch, target Key, reflexive netip.AddrPort, payload []byte)
	// Lease is the longest registration lease peers get: after losing
	// every owner of some keys, lookups of those keys answer "owners
	// unavailable" instead of "not found" for this long (by then every
	// peer still online has re-registered). Zero means the longest lease
	// an entry may carry.
	Lease time.Duration
}

// Node is this supernode's membership in the fleet and the sharded
// directory on top of it.
type Node struct {
	cfg         Config
	name        string
	meta        meta
	log         *slog.Logger
	met         *metrics
	sec         *secrets
	hasher      Hasher
	ml          *memberlist.Memberlist
	ch          *channel
	st          *store
	lim         *limiter
	onIntroduce func(*server.SendBatch, Key, netip.AddrPort, []byte)

	view  atomic.Pointer[view]
	dirty chan struct{}

	leaving atomic.Bool // set by Close: gossiped in meta before the leave
	leavers sync.Map    // member name -> true: announced a graceful leave

	// outboxes maps member names to their outboxes. Readers (every
	// registration) load it without a lock; rebuildView replaces it
	// copy-on-write under outMu.
	outMu    sync.Mutex
	outboxes atomic.Pointer[map[string]*outbox]

	pendMu  sync.Mutex
	pending map[uint64]*request
	reqID   atomic.Uint64

	seq    atomic.Uint64 // data-channel datagrams sent since boot
	replay *replayWindow
	losses lostRanges

	failMu  sync.Mutex
	failed  map[string]failedMember // members declared dead, for the rejoin loop
	joining map[string]bool         // addresses with a rejoin attempt under way

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
	closed atomic.Bool
}

// ErrFull is returned when this member's share of the directory is full.
var ErrFull = errors.New("fleet directory full")

// Start binds the gossip and data ports, starts joining the seeds in the
// background (failing to reach any is logged, not fatal: the rejoin loop
// keeps trying, so the first member of a fleet can start alone) and returns
// the running node.
func Start(opts Options) (*Node, error) {
	cfg := opts.Config
	if !cfg.Enabled() {
		return nil, fmt.Errorf("fleet: fleet_bind is not set")
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	raw, _ := decodeKeys(cfg.Keys)
	sec, err := newSecrets(raw)
	if err != nil {
		return nil, err
	}
	logger := opts.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	name := cfg.Name
	if name == "" {
		if name, err = os.Hostname(); err != nil {
			return nil, fmt.Errorf("fleet: no fleet_name and no host name: %v", err)
		}
	}
	if len(name) > maxNameLen {
		return nil, fmt.Errorf("fleet_name %q is longer than %d bytes", name, maxNameLen)
	}
	n := &Node{
		cfg:         cfg,
		name:        name,
		meta:        meta{boot: randUint64(), capacity: opts.Capacity, dataPort: cfg.dataPort(), supernode: opts.Supernode, batch: true},
		log:         logger.With("fleet_member", name),
		met:         newMetrics(opts.Registry),
		sec:         sec,
		hasher:      NewHasher(sec.seed),
		st:          newStore(cfg.MaxEntries),
		lim:         newLimiter(cfg.MemberRate),
		onIntroduce: opts.OnIntroduceBatch,
		dirty:       make(chan struct{}, 1),
		pending:     make(map[uint64]*request),
		failed:      make(map[string]failedMember),
		joining:     make(map[string]bool),
		replay:      newReplayWindow(),
	}
	if n.onIntroduce == nil && opts.OnIntroduce != nil {
		f := opts.OnIntroduce
		n.onIntroduce = func(_ *server.SendBatch, k Key, a netip.AddrPort, p []byte) { f(k, a, p) }
	}
	n.losses.lease = opts.Lease
	if n.losses.lease <= 0 {
		n.losses.lease = maxLease
	}
	n.ctx, n.cancel = context.WithCancel(context.Background())
	n.view.Store(&view{ring: NewRing(n.hasher, nil), members: map[string]Member{}})
	n.outboxes.Store(&map[string]*outbox{})

	dataAddr := netip.AddrPortFrom(cfg.Bind.Addr(), cfg.dataPort())
	conn, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(dataAddr))
	if err != nil {
		return nil, fmt.Errorf("fleet: cannot bind the data channel on %s: %v; free the port or set fleet_data_port", dataAddr, err)
	}
	// Bursts of replication must not be lost in the socket buffer.
	conn.SetReadBuffer(4 << 20)
	conn.SetWriteBuffer(4 << 20)
	n.ch = &channel{conn: conn, aeads: sec.data}

	allow, err := cfg.allowedNets()
	if err != nil {
		conn.Close()
		return nil, err
	}
	self := cfg.Bind.Addr()
	if cfg.Advertise.IsValid() {
		self = cfg.Advertise
	}
	if !self.IsUnspecified() && !slices.ContainsFunc(allow, func(p net.IPNet) bool { return p.Contains(self.AsSlice()) }) {
		conn.Close()
		return nil, fmt.Errorf("fleet_allow does not contain this member's own address %s; add the members' network to it", self)
	}
	tr, err := newGossipTransport(cfg.Bind, allow, n.met, logger)
	if err != nil {
		conn.Close()
		return nil, fmt.Errorf("fleet: cannot start membership on %s: %v; free the port or change fleet_bind", cfg.Bind, err)
	}
	mc := memberlist.DefaultLANConfig()
	mc.Transport = tr
	mc.CIDRsAllowed = allow
	mc.Name = name
	mc.BindAddr = cfg.Bind.Addr().String()
	mc.BindPort = int(cfg.Bind.Port())
	mc.AdvertisePort = mc.BindPort
	if cfg.Advertise.IsValid() {
		mc.AdvertiseAddr = cfg.Advertise.String()
	}
	mc.Keyring = sec.gossip
	mc.GossipVerifyIncoming, mc.GossipVerifyOutgoing = true, true
	mc.Label = "supernode-fleet"
	mc.ProbeInterval = cfg.ProbeInterval
	mc.ProbeTimeout = cfg.ProbeTimeout
	mc.SuspicionMult = cfg.SuspicionMult
	mc.Delegate = delegate{n}
	mc.Events = events{n}
	mc.Logger = log.New(memberlistLog{n.log, n.met}, "", 0)
	ml, err := memberlist.Create(mc)
	if err != nil {
		conn.Close()
		tr.Shutdown()
		return nil, fmt.Errorf("fleet: cannot start membership on %s: %v; free the port or change fleet_bind", cfg.Bind, err)
	}
	n.ml = ml
	n.rebuildView()

	// One reader per core (at least two, so one slow datagram never stalls
	// the channel): handling is inline, so readers are the parallelism.
	for i := 0; i < max(2, runtime.GOMAXPROCS(0)); i++ {
		n.wg.Add(1)
		go n.receive()
	}
	n.wg.Add(3)
	go n.handoffLoop()
	go n.sweepLoop()
	go n.rejoinLoop()

	// Join in the background: an unreachable seed can block a Join for
	// memberlist's TCPTimeout (10 s) each, which must not delay the
	// supernode's start. Until then this member serves alone, and the
	// handoff moves what it took in to the owners once it has joined.
	if seeds := n.otherSeeds(); len(seeds) > 0 {
		n.wg.Add(1)
		go func() {
			defer n.wg.Done()
			if joined, err := ml.Join(seeds); err != nil {
				n.log.Warn("could not reach any fleet seed yet; will keep trying", "seeds", seeds, "err", err)
			} else {
				n.log.Info("joined the fleet", "contacted", joined, "members", ml.NumMembers())
			}
		}()
	}
	return n, nil
}

func randUint64() uint64 {
	var b [8]byte
	rand.Read(b[:])
	return binary.LittleEndian.Uint64(b[:])
}

// Name is this member's name.
func (n *Node) Name() string { return n.name }

// DataAddr is the bound data-channel address.
func (n *Node) DataAddr() netip.AddrPort { return n.ch.conn.LocalAddr().(*net.UDPAddr).AddrPort() }

// Members returns the live members, this one included.
func (n *Node) Members() []Member {
	v := n.view.Load()
	out := make([]Member, 0, len(v.members))
	for _, name := range v.ring.Names() {
		out = append(out, v.members[name])
	}
	return out
}

// Holds reports whether this member stores a live replica of key (for
// diagnostics and tests; Lookup is the way to find a peer).
func (n *Node) Holds(key Key) bool {
	_, ok := n.st.get(&key, time.Now())
	return ok
}

// Owners returns the names of the members owning key, best first.
func (n *Node) Owners(key Key) []string {
	return n.view.Load().ring.OwnerNames(&key, n.cfg.Replicas)
}

// Close leaves the fleet gracefully (the others re-replicate at once instead
// of waiting for the failure detector) and stops everything. A nil Node (no
// fleet configured) closes as a no-op.
func (n *Node) Close() error {
	if n == nil || n.closed.Swap(true) {
		return nil
	}
	// Announce the leave in the metadata first, so the others count a
	// leave and not a failure (see meta), then leave.
	n.leaving.Store(true)
	_ = n.ml.UpdateNode(time.Second)
	err := n.ml.Leave(2 * time.Second)
	n.shutdown()
	return err
}

// Kill stops without leaving, as a crash would; for tests.
func (n *Node) Kill() {
	if n.closed.Swap(true) {
		return
	}
	n.shutdown()
}

func (n *Node) shutdown() {
	n.ml.Shutdown()
	n.cancel()
	n.ch.conn.Close()
	n.outMu.Lock()
	for _, ob := range *n.outboxes.Load() {
		close(ob.done)
	}
	n.outboxes.Store(&map[string]*outbox{})
	n.outMu.Unlock()
	n.wg.Wait()
}

// viewDirty asks the handoff loop for a rebuild. It is called from
// memberlist callbacks, which run under memberlist's node lock, so it must
// neither block nor call back into memberlist.
func (n *Node) viewDirty() {
	select {
	case n.dirty <- struct{}{}:
	default:
	}
}

// rebuildView snapshots memberlist's live members (alive and suspect: a
// suspect keeps its keys until it is declared dead, so a slow member does not
// cause churn) and updates the outboxes and gauges.
func (n *Node) rebuildView() {
	n.setView(buildView(n.hasher, n.ml.Members()))
}

// setView publishes v to the lookups, registrations and outboxes. Only
// Start (before the loops run) and the handoff loop call it.
//
// The members that left since the last published view are recorded as
// lost before v is published, not once the handoff loop has settled: from
// the moment a lookup can see a view in which every owner of a key is
// gone (this member then looks like its only owner, holding nothing), the
// loss record must be there to make the answer 504 Owners Unavailable and
// not an authoritative 404. (A member that flaps out and back with the same
// boot within one settle delay is recorded too: a 504 where a 404 was
// right, for at most a lease, as lostRanges allows.)
func (n *Node) setView(v *view) {
	if prev := n.view.Load(); prev != nil && !prev.equal(v) {
		if share, gone := n.losses.record(prev, v, n.name, n.cfg.Replicas, time.Now()); share > 0 {
			n.met.ownerLosses.Inc()
			n.met.unavailableShare.Set(share)
			n.log.Warn("the fleet lost every owner of part of the key space: those registrations are gone until their peers re-register; lookups there answer 504 Owners Unavailable meanwhile",
				"lost_members", gone, "share", share, "replicas", n.cfg.Replicas, "for", n.losses.lease)
		}
	}
	// Outboxes first, then the view: a registration that sees a member in
	// the view finds its outbox.
	n.updateOutboxes(v)
	n.view.Store(v)
	total := len(v.members)
	n.met.members.Set(float64(total))
	if total > 0 {
		n.met.ownershipShare.Set(float64(min(n.cfg.Replicas, total)) / float64(total))
	}
	n.lim.retain(func(name string) bool { _, ok := v.members[name]; return ok })
	n.replay.retain(func(name string) bool { _, ok := v.members[name]; return ok })
}

// updateOutboxes starts outboxes for new members and stops those of members
// that left or moved.
func (n *Node) updateOutboxes(v *view) {
	n.outMu.Lock()
	defer n.outMu.Unlock()
	if n.closed.Load() {
		return
	}
	next := make(map[string]*outbox, len(v.members))
	for name, ob := range *n.outboxes.Load() {
		if m, ok := v.members[name]; ok && m.Data == ob.to && m.Batch == ob.lane.batch {
			next[name] = ob
		} else {
			close(ob.done)
		}
	}
	for name, m := range v.members {
		if name == n.name {
			continue
		}
		if _, ok := next[name]; !ok {
			ob := newOutbox(n, m)
			next[name] = ob
			n.wg.Add(2)
			go ob.run()
			go ob.lane.run()
		}
	}
	n.outboxes.Store(&next)
}

// failedMember is a member declared dead, remembered for rejoinFor so a
// partition heals; a machine that never comes back is forgotten then.
type failedMember struct {
	addr  string
	since time.Time
}

const rejoinFor = time.Hour

func (n *Node) rememberFailed(name, addr string) {
	n.failMu.Lock()
	n.failed[name] = failedMember{addr: addr, since: time.Now()}
	n.failMu.Unlock()
}

func (n *Node) forgetFailed(name string) {
	n.failMu.Lock()
	delete(n.failed, name)
	n.failMu.Unlock()
}

func (n *Node) otherSeeds() []string {
	self := n.ml.LocalNode()
	selfAddr := net.JoinHostPort(self.Addr.String(), strconv.Itoa(int(self.Port)))
	out := make([]string, 0, len(n.cfg.Seeds))
	for _, s := range n.cfg.Seeds {
		if s != selfAddr {
			out = append(out, s)
		}
	}
	return out
}

// rejoinLoop periodically joins failed members and seeds that are not in
// the view. memberlist stops gossiping to a dead member after
// GossipToTheDeadTime, so without this two halves of a healed partition would
// each keep believing the other dead (serf's reconnect does the same job).
func (n *Node) rejoinLoop() {
	defer n.wg.Done()
	t := time.NewTicker(n.cfg.RejoinInterval)
	defer t.Stop()
	for {
		select {
		case <-n.ctx.Done():
			return
		case <-t.C:
		}
		v := n.view.Load()
		known := map[string]bool{}
		for _, m := range v.members {
			known[m.Gossip.String()] = true
		}
		var addrs []string
		n.failMu.Lock()
		for name, f := range n.failed {
			switch _, back := v.members[name]; {
			case back:
			case time.Since(f.since) > rejoinFor:
				delete(n.failed, name)
			default:
				addrs = append(addrs, f.addr)
			}
		}
		n.failMu.Unlock()
		for _, s := range n.otherSeeds() {
			if !known[s] {
				addrs = append(addrs, s)
			}
		}
		for _, a := range addrs {
			n.rejoin(a)
		}
	}
}

// rejoin joins one address in the background, at most one attempt per
// address at a time. Each address gets its own attempt because a Join can
// block for memberlist's TCPTimeout (10 s) on an address whose replies are
// still being dropped, and must not hold up the others: that is what made
// a healed partition wait for memberlist's 30 s push/pull instead.
func (n *Node) rejoin(addr string) {
	n.failMu.Lock()
	if n.joining[addr] {
		n.failMu.Unlock()
		return
	}
	n.joining[addr] = true
	n.failMu.Unlock()
	n.wg.Add(1)
	go func() {
		defer n.wg.Done()
		if joined, err := n.ml.Join([]string{addr}); err == nil && joined > 0 {
			n.log.Debug("rejoined a fleet member", "addr", addr)
		}
		n.failMu.Lock()
		delete(n.joining, addr)
		n.failMu.Unlock()
	}()
}

// sweepLoop reclaims expired replicas one shard at a time and keeps the
// entries gauge current.
func (n *Node) sweepLoop() {
	defer n.wg.Done()
	t := time.NewTicker(100 * time.Millisecond)
	defer t.Stop()
	for i := 0; ; i++ {
		select {
		case <-n.ctx.Done():
			return
		case now := <-t.C:
			n.st.sweepShard(i, now)
			n.met.entries.Set(float64(n.st.len()))
			n.met.unavailableShare.Set(n.losses.current(now))
		}
	}
}
