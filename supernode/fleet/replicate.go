package fleet

import (
	"net/netip"
	"slices"
	"time"
)

// outbox batches the entries and deletes bound for one member into as few
// datagrams as fit. It is bounded: live replication that finds it full is
// dropped and counted (the peer's next refresh repairs it); handoff waits.
type outbox struct {
	n    *Node
	to   netip.AddrPort
	ch   chan outItem
	done chan struct{}
	lane *lane // lookups, answers and introductions to the same member
}

// outboxDepth bounds the memory one slow or dead member can pin here.
const outboxDepth = 16384

type outItem struct {
	kind    byte // msgPut or msgDelete
	handoff bool
	e       Entry
}

func newOutbox(n *Node, m Member) *outbox {
	o := &outbox{n: n, to: m.Data, ch: make(chan outItem, outboxDepth), done: make(chan struct{})}
	o.lane = newLane(n, m, o.done)
	return o
}

// Put flags.
const (
	putLive    byte = 0
	putHandoff byte = 1
)

func (o *outbox) run() {
	defer o.n.wg.Done()
	buf := make([]byte, 0, maxPlain)
	var carry *outItem
	for {
		var first outItem
		if carry != nil {
			first, carry = *carry, nil
		} else {
			select {
			case <-o.done:
				return
			case first = <-o.ch:
			}
		}
		// Start a datagram with the first item, then add whatever else is
		// queued of the same kind while it fits.
		buf = o.n.header(buf[:0], first.kind, time.Now())
		flags := putLive
		if first.handoff {
			flags = putHandoff
		}
		if first.kind == msgPut {
			buf = append(buf, flags)
		}
		countAt := len(buf)
		buf = append(buf, 0)
		count := 0
		add := func(it *outItem) bool {
			if it.kind != first.kind || it.handoff != first.handoff || count == 255 {
				return false
			}
			if it.kind == msgPut {
				if len(buf)+entrySize(&it.e) > maxPlain {
					return false
				}
				buf = appendEntry(buf, &it.e)
			} else {
				if len(buf)+40 > maxPlain {
					return false
				}
				buf = append(buf, it.e.Key[:]...)
				buf = appendUint64(buf, uint64(it.e.Heard.UnixMilli()))
			}
			count++
			return true
		}
		add(&first)
	fill:
		for {
			select {
			case it := <-o.ch:
				if !add(&it) {
					carry = &it
					break fill
				}
			default:
				break fill
			}
		}
		buf[countAt] = byte(count)
		if err := o.n.ch.send(o.to, buf); err != nil {
			o.n.met.replicationFail.WithLabelValues("send_error").Add(float64(count))
		} else if first.kind == msgPut {
			o.n.met.sentEntries.Add(float64(count))
		}
	}
}

func appendUint64(b []byte, v uint64) []byte {
	return append(b, byte(v>>56), byte(v>>48), byte(v>>40), byte(v>>32), byte(v>>24), byte(v>>16), byte(v>>8), byte(v))
}

// enqueue hands it to the member's outbox without blocking.
func (n *Node) enqueue(member string, it outItem) {
	ob := (*n.outboxes.Load())[member]
	if ob == nil {
		n.met.replicationFail.WithLabelValues("no_route").Inc()
		return
	}
	select {
	case ob.ch <- it:
	default:
		n.met.replicationFail.WithLabelValues("queue_full").Inc()
	}
}

// enqueueWait hands it over, waiting while the outbox is full (handoff).
func (n *Node) enqueueWait(member string, it outItem) bool {
	ob := (*n.outboxes.Load())[member]
	if ob == nil {
		return false
	}
	select {
	case ob.ch <- it:
		return true
	case <-ob.done:
		return false
	case <-n.ctx.Done():
		return false
	}
}

// Register records a peer this supernode just heard from (a registration or
// a keepalive refresh): this member becomes the entry's Via, and the entry
// goes to its R owners, stored here if this member is one. A zero Heard
// means now. ErrFull means this member's own share is full (it was still
// sent to the other owners).
func (n *Node) Register(e Entry) error {
	if e.Heard.IsZero() {
		e.Heard = time.Now()
	}
	e.Heard = e.Heard.Truncate(time.Millisecond) // the wire's precision
	e.Via = n.name
	if len(e.Local) > MaxLocal {
		e.Local = e.Local[:MaxLocal]
	}
	if e.Lease <= 0 || e.Lease > maxLease {
		e.Lease = min(max(e.Lease, time.Second), maxLease)
	}
	v := n.view.Load()
	var buf [maxReplicas]int
	var err error
	for _, i := range v.ring.Owners(&e.Key, n.cfg.Replicas, buf[:0]) {
		owner := v.ring.Name(i)
		if owner == n.name {
			if n.st.put(&e) == putFull {
				n.met.replicationFail.WithLabelValues("store_full").Inc()
				err = ErrFull
			}
			continue
		}
		n.enqueue(owner, outItem{kind: msgPut, e: e})
	}
	if v.ring.Len() == 0 { // not even ourselves yet (starting): keep it here
		if n.st.put(&e) == putFull {
			err = ErrFull
		}
	}
	return err
}

// Remove unregisters a peer (its explicit leave) at every owner.
func (n *Node) Remove(key Key) {
	now := time.Now().Truncate(time.Millisecond)
	n.st.remove(&key, now)
	v := n.view.Load()
	var buf [maxReplicas]int
	for _, i := range v.ring.Owners(&key, n.cfg.Replicas, buf[:0]) {
		if owner := v.ring.Name(i); owner != n.name {
			n.enqueue(owner, outItem{kind: msgDelete, e: Entry{Key: key, Heard: now}})
		}
	}
}

// handoffLoop rebuilds the view on membership changes and then moves only
// the keys whose owners changed. A short settle delay merges the bursts of
// events a join or a partition produces. A while after the last change it
// also releases what this member holds but does not own: other members'
// handoffs for views this one never settled on (a member that died and
// came back within the settle delay, say) can still arrive after its own.
func (n *Node) handoffLoop() {
	defer n.wg.Done()
	const (
		settle       = 200 * time.Millisecond
		releaseAfter = 3 * time.Second
	)
	handed := n.view.Load()
	release := time.NewTimer(time.Hour)
	release.Stop()
	defer release.Stop()
	for {
		select {
		case <-n.ctx.Done():
			return
		case <-release.C:
			if cur := n.view.Load(); cur.equal(handed) {
				if k := n.releaseUnowned(cur); k > 0 {
					n.log.Info("released replicas this member does not own", "released", k)
				}
			}
			continue
		case <-n.dirty:
		}
		n.rebuildView()
		timer := time.NewTimer(settle)
	wait:
		for {
			select {
			case <-n.ctx.Done():
				timer.Stop()
				return
			case <-n.dirty:
				n.rebuildView()
			case <-timer.C:
				break wait
			}
		}
		cur := n.view.Load()
		if cur.equal(handed) {
			continue
		}
		n.log.Debug("membership view changed", "from", handed.ring.Names(), "to", cur.ring.Names())
		// The departures were recorded as lost when each view was
		// published (setView), before any lookup could see it.
		sent, dropped := n.handoff(handed, cur)
		if sent > 0 || dropped > 0 {
			n.log.Info("membership changed: re-replicated the keys whose owners changed",
				"members", cur.ring.Len(), "sent", sent, "released", dropped)
		}
		handed = cur
		release.Reset(releaseAfter)
	}
}

// releaseUnowned drops the held entries this member does not own under v.
func (n *Node) releaseUnowned(v *view) int {
	now := time.Now()
	released := 0
	var entries []Entry
	for s := 0; s < storeShards; s++ {
		entries = n.st.snapshot(s, now, entries[:0])
		for i := range entries {
			e := &entries[i]
			if !v.ring.IsOwner(&e.Key, n.cfg.Replicas, n.name) && n.st.remove(&e.Key, e.Heard) {
				released++
			}
		}
	}
	return released
}

// handoff compares each held entry's owners under the old and the new view.
// For a key whose owners changed, one member sends it to each new owner: the
// best-ranked old owner that is still alive (so R replicas do not all send
// the same entry), or this member if no old owner survives. An owner that
// restarted (new boot) counts as new: it came back empty. Entries this member
// no longer owns are released afterwards.
func (n *Node) handoff(old, cur *view) (sent, released int) {
	now := time.Now()
	R := n.cfg.Replicas
	var entries []Entry
	for s := 0; s < storeShards; s++ {
		entries = n.st.snapshot(s, now, entries[:0])
		for i := range entries {
			e := &entries[i]
			before := old.ring.OwnerNames(&e.Key, R)
			after := cur.ring.OwnerNames(&e.Key, R)
			fresh := func(o string) bool { return !slices.Contains(before, o) || !sameBoot(old, cur, o) }
			if slices.Equal(before, after) && !slices.ContainsFunc(after, fresh) {
				continue
			}
			sender := n.name
			for _, o := range before {
				if sameBoot(old, cur, o) {
					sender = o
					break
				}
			}
			if sender == n.name {
				for _, o := range after {
					if o != n.name && fresh(o) {
						if n.enqueueWait(o, outItem{kind: msgPut, handoff: true, e: *e}) {
							sent++
							n.met.handoff.Inc()
						}
					}
				}
			}
			if !slices.Contains(after, n.name) {
				n.st.remove(&e.Key, e.Heard)
				released++
			}
		}
	}
	return sent, released
}
