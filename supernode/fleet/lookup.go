package fleet

import (
	"context"
	"encoding/binary"
	"errors"
	"net/netip"
	"sync"
	"time"

	"github.com/supernode-appliance/appliance/supernode/server"
)

// lookupResult is an owner's answer. A remote answer is decoded without
// allocating: its candidates are in local (e.Local stays nil).
type lookupResult struct {
	found  bool
	e      Entry
	local  [MaxLocal]netip.AddrPort
	nLocal uint8
}

// candidates are the entry's local candidates wherever they are.
func (r *lookupResult) candidates() []netip.AddrPort {
	if r.e.Local != nil {
		return r.e.Local
	}
	return r.local[:r.nLocal]
}

// lookupDone receives the outcome of a lookup started with lookupAsync,
// exactly once: res is valid only during the call. sb, when not nil, is
// the send batch of the receive goroutine that got the answer (flushed
// after the datagram), for whatever the outcome makes the server send.
type lookupDone interface {
	lookupDone(res *lookupResult, found bool, err error, sb *server.SendBatch)
}

// request is one lookup in flight, reused (requests pool). A forwarded
// lookup is a small state machine driven by the answers (the data
// channel's receive goroutines), its hedge and deadline timers and
// cancellation, under mu; nothing waits for it: the goroutine that
// completes it calls done. The timers' function only acts on what is due
// by the clock (hedgeAt, deadlineAt), so a late or stale firing, even on a
// request reused since, does nothing wrong.
type request struct {
	n  *Node
	mu sync.Mutex
	id uint64 // 0: not in flight (a stale answer or cancel finds no match)

	key        Key
	start      time.Time
	v          *view
	owners     [maxReplicas]string
	nOwners    int
	self       bool // this member is an owner (without the key)
	sent       int
	answers    int
	done       lookupDone
	body       [8 + 32]byte
	res        lookupResult
	err        error
	hedgeAt    time.Time // zero: the hedge is not armed
	deadlineAt time.Time
	hedge      *time.Timer // both run onTimer
	deadline   *time.Timer
}

var requests sync.Pool

func init() { requests.New = newRequest }

func newRequest() any {
	r := &request{}
	r.hedge = time.AfterFunc(time.Hour, r.onTimer)
	r.deadline = time.AfterFunc(time.Hour, r.onTimer)
	r.hedge.Stop()
	r.deadline.Stop()
	return r
}

// maxPending bounds the forwarded lookups in flight from this member.
const maxPending = 65536

// ErrBusy is returned when too many forwarded lookups are in flight.
var ErrBusy = errors.New("fleet: too many forwarded lookups in flight")

// ErrUnavailable is returned when no owner of the key answered.
var ErrUnavailable = errors.New("fleet: no owner of the key answered")

// Lookup finds a peer anywhere in the fleet. An owner answers from its own
// replica; any other member forwards the question one hop to the owners in
// rank order. The next owner is asked when the previous one has not answered
// within a hedge delay (LookupTimeout/4), so a crashed owner costs a few
// milliseconds, not a timeout, until the failure detector removes it; the
// last owner asked gets a full LookupTimeout. An
// owner that does not hold the key also asks the others: right after a join
// the new owner may not have its handoff yet. found=false with a nil error is
// an authoritative "not found".
func (n *Node) Lookup(ctx context.Context, key Key) (Entry, bool, error) {
	var res lookupResult
	found, err := n.lookup(ctx, key, &res)
	if !found {
		return Entry{}, false, err
	}
	e := res.e
	if e.Local == nil && res.nLocal > 0 {
		e.Local = append([]netip.AddrPort(nil), res.local[:res.nLocal]...)
	}
	return e, true, nil
}

// waiter is lookup's lookupDone: it hands the outcome to the waiting
// goroutine (reused, waiters pool). It keeps the result itself: holding
// the caller's would move every caller's result to the heap.
type waiter struct {
	ch    chan struct{}
	res   lookupResult
	found bool
	err   error
}

var waiters = sync.Pool{New: func() any { return &waiter{ch: make(chan struct{}, 1)} }}

func (w *waiter) lookupDone(res *lookupResult, found bool, err error, _ *server.SendBatch) {
	if found {
		w.res = *res
	}
	w.found, w.err = found, err
	w.ch <- struct{}{}
}

// lookup is Lookup into res, without allocating: lookupAsync, waited for.
// When ctx ends first the lookup is cancelled and fails with ctx.Err().
func (n *Node) lookup(ctx context.Context, key Key, res *lookupResult) (bool, error) {
	w := waiters.Get().(*waiter)
	id := n.lookupAsync(&key, w)
	select {
	case <-w.ch:
	case <-ctx.Done():
		n.cancelLookup(id, ctx.Err())
		<-w.ch // completed by cancelLookup, or by whoever got there first
	}
	found, err := w.found, w.err
	if found {
		*res = w.res
	}
	*w = waiter{ch: w.ch}
	waiters.Put(w)
	return found, err
}

// lookupAsync starts a lookup whose outcome goes to done, without waiting
// and without allocating: at once (before it returns) when memory can
// answer, else when an owner has answered, all asked owners have answered
// "not found", or the last deadline passed, from the goroutine that saw it
// happen. It returns the request's id (0 if it completed at once), for
// cancelLookup.
func (n *Node) lookupAsync(key *Key, done lookupDone) uint64 {
	r := requests.Get().(*request)
	r.n, r.key, r.start, r.done = n, *key, time.Now(), done
	v := n.view.Load()
	var buf [maxReplicas]int
	for _, i := range v.ring.Owners(key, n.cfg.Replicas, buf[:0]) {
		owner := v.ring.Name(i)
		if owner == n.name {
			r.self = true
			if e, ok := n.st.get(key, r.start); ok {
				n.met.lookupLocal.Inc()
				r.res.found, r.res.e = true, e
				r.nOwners = 0 // none asked
				r.complete(nil)
				return 0
			}
			continue
		}
		if _, ok := v.members[owner]; ok && r.nOwners < len(r.owners) {
			r.owners[r.nOwners] = owner
			r.nOwners++
		}
	}
	if r.nOwners == 0 {
		r.complete(nil)
		return 0
	}
	id := n.reqID.Add(1)
	r.mu.Lock()
	n.pendMu.Lock()
	if len(n.pending) >= maxPending {
		n.pendMu.Unlock()
		r.mu.Unlock()
		r.err = ErrBusy
		r.complete(nil)
		return 0
	}
	n.pending[id] = r
	n.pendMu.Unlock()
	r.id, r.v = id, v
	binary.BigEndian.PutUint64(r.body[:], id)
	copy(r.body[8:], key[:])
	r.deadlineAt = r.start.Add(n.cfg.LookupTimeout)
	r.deadline.Reset(n.cfg.LookupTimeout)
	r.sendNext()
	r.armHedge()
	r.mu.Unlock()
	return id
}

// LookupLocal answers from this member's memory only: a replica it holds,
// or remote = true when only other members (or the recent-loss record) can
// tell. It never waits.
func (n *Node) LookupLocal(key Key) (e Entry, found, remote bool) {
	now := time.Now()
	if e, ok := n.st.get(&key, now); ok {
		n.met.lookupLocal.Inc()
		return e, true, false
	}
	v := n.view.Load()
	var buf [maxReplicas]int
	for _, i := range v.ring.Owners(&key, n.cfg.Replicas, buf[:0]) {
		if v.ring.Name(i) != n.name {
			return Entry{}, false, true
		}
	}
	if _, lost := n.losses.lostUntil(&key, n.cfg.Replicas, now); lost {
		return Entry{}, false, true
	}
	n.met.lookups.WithLabelValues("local", "not_found").Inc()
	return Entry{}, false, false
}

// hedgeDelay is how long an owner has before the next one is asked too.
func (n *Node) hedgeDelay() time.Duration { return max(n.cfg.LookupTimeout/4, time.Millisecond) }

// armHedge (re)starts the hedge timer; under r.mu.
func (r *request) armHedge() {
	d := r.n.hedgeDelay()
	r.hedgeAt = time.Now().Add(d)
	r.hedge.Reset(d)
}

// sendNext asks the next owner that can be reached; the last one asked
// gets a full timeout of its own. Under r.mu.
func (r *request) sendNext() {
	n := r.n
	for r.sent < r.nOwners {
		owner := r.owners[r.sent]
		r.sent++
		if n.sendTo(r.v, owner, msgLookup, r.body[:]) {
			break
		}
	}
	if r.sent == r.nOwners {
		r.deadlineAt = time.Now().Add(n.cfg.LookupTimeout)
		r.deadline.Reset(n.cfg.LookupTimeout)
	}
}

// answer is an owner's answer to request id (receive goroutine, whose
// send batch is sb).
func (n *Node) answer(id uint64, a *lookupResult, sb *server.SendBatch) {
	r := n.inFlight(id)
	if r == nil {
		return
	}
	r.answers++
	switch {
	case a.found:
		r.res = *a
	case r.answers < r.sent:
		r.mu.Unlock()
		return
	case r.sent < r.nOwners:
		r.sendNext()
		r.armHedge()
		r.mu.Unlock()
		return
	}
	r.finish(sb)
}

// onTimer is both timers' function: it does what is due.
func (r *request) onTimer() {
	r.mu.Lock()
	if r.id == 0 {
		r.mu.Unlock()
		return
	}
	now := time.Now()
	if !r.deadlineAt.IsZero() && !now.Before(r.deadlineAt) {
		r.finish(nil)
		return
	}
	if !r.hedgeAt.IsZero() && !now.Before(r.hedgeAt) {
		r.hedgeAt = time.Time{}
		if r.sent < r.nOwners {
			r.sendNext()
			r.armHedge()
		}
	}
	r.mu.Unlock()
}

// cancelLookup ends the forwarded lookup id, if still in flight, with err.
func (n *Node) cancelLookup(id uint64, err error) {
	if id == 0 {
		return
	}
	r := n.inFlight(id)
	if r == nil {
		return
	}
	r.err = err
	r.finish(nil)
}

// inFlight returns forwarded lookup id's request, locked, or nil when it
// has completed (and its request maybe been reused) meanwhile.
func (n *Node) inFlight(id uint64) *request {
	n.pendMu.Lock()
	r := n.pending[id]
	n.pendMu.Unlock()
	if r == nil {
		return nil
	}
	r.mu.Lock()
	if r.id != id {
		r.mu.Unlock()
		return nil
	}
	return r
}

// finish takes a forwarded lookup out of flight; called under r.mu, which
// it releases, then completes it. Only the goroutine that finds r.id still
// set gets here, so a request completes once.
func (r *request) finish(sb *server.SendBatch) {
	id := r.id
	r.id = 0
	r.hedgeAt, r.deadlineAt = time.Time{}, time.Time{}
	r.hedge.Stop()
	r.deadline.Stop()
	r.mu.Unlock()
	n := r.n
	n.pendMu.Lock()
	delete(n.pending, id)
	n.pendMu.Unlock()
	r.complete(sb)
}

// complete decides the outcome once no owner will be asked any more (the
// rules of Lookup), calls done and puts r back in the pool.
func (r *request) complete(sb *server.SendBatch) {
	n, key, now := r.n, &r.key, r.start
	found, err := r.res.found, r.err
	switch {
	case found && r.nOwners == 0:
		// answered from this member's replica
	case found:
		n.met.lookupForwarded.Inc()
	case err != nil:
		n.met.lookups.WithLabelValues("forwarded", "failed").Inc()
	default:
		self := r.self || r.answers > 0 // some owner answered "not found"
		if e, ok := n.st.get(key, now); ok {
			// A member that stopped owning the key may still hold it
			// until its handoff runs; better a slightly stale answer
			// than none.
			n.met.lookupLocal.Inc()
			r.res = lookupResult{found: true, e: e}
			found = true
		} else if !self && r.nOwners > 0 {
			// No owner answered: the failure detector will settle who
			// owns the key within seconds.
			n.met.lookups.WithLabelValues("forwarded", "failed").Inc()
			err = &UnavailableError{RetryAfter: n.cfg.ProbeInterval}
		} else if until, lost := n.losses.lostUntil(key, n.cfg.Replicas, now); lost {
			// Not found, but the members that held it died recently:
			// its peer may be re-registering right now.
			n.met.lookups.WithLabelValues("forwarded", "unavailable").Inc()
			err = &UnavailableError{RetryAfter: min(until.Sub(now), max(n.losses.lease/3, time.Second))}
		} else {
			n.met.lookups.WithLabelValues("forwarded", "not_found").Inc()
		}
	}
	r.done.lookupDone(&r.res, found, err, sb)
	// A stale timer may hold mu right now (it finds id 0 and returns):
	// every field but mu and the timers is reset under it.
	r.mu.Lock()
	r.key, r.start, r.v, r.owners, r.nOwners, r.self = Key{}, time.Time{}, nil, [maxReplicas]string{}, 0, false
	r.sent, r.answers, r.done, r.res, r.err = 0, 0, nil, lookupResult{}, nil
	r.mu.Unlock()
	requests.Put(r)
}

// sendTo queues a message for member on its lane, or, without one (not
// in the outboxes yet, or its queue full), sends it in a datagram of its
// own. It reports whether the message left or was queued.
func (n *Node) sendTo(v *view, member string, typ byte, body []byte) bool {
	m, ok := v.members[member]
	if !ok {
		return false
	}
	if l := n.lane(member); l != nil && l.to == m.Data && l.add(typ, body) {
		return true
	}
	bp := replyBufs.Get().(*[]byte)
	plain := n.header((*bp)[:0], typ, time.Now())
	plain = append(plain, body...)
	err := n.ch.send(m.Data, plain)
	*bp = plain
	replyBufs.Put(bp)
	return err == nil
}

// ErrViaGone means the member that last heard the target is no longer in
// the fleet: no NAT pinhole exists for anyone else, so the introduction
// cannot be delivered until the target re-registers.
var ErrViaGone = errors.New("fleet: the member that last heard the target left")

// Introduce delivers an introduction for target through target.Via, the
// member whose address the target's NAT has a pinhole for: locally through
// OnIntroduce if that is this member, else in one datagram to it, whose
// OnIntroduce sends it on. payload is the server's unsealed introduce
// indication (at most MaxIntroduction bytes); only the target's member can
// seal it, with the target's session key.
func (n *Node) Introduce(target *Entry, payload []byte) error {
	if len(payload) > MaxIntroduction {
		return errors.New("fleet: introduction payload too large")
	}
	if target.Via == n.name {
		if n.onIntroduce != nil {
			n.onIntroduce(nil, target.Key, target.Reflexive, payload)
		}
		return nil
	}
	v := n.view.Load()
	if _, ok := v.members[target.Via]; !ok {
		return ErrViaGone
	}
	var buf [32 + 19 + 2 + MaxIntroduction]byte
	if !n.sendTo(v, target.Via, msgIntroduce, n.introBody(target, payload, buf[:0])) {
		return errors.New("fleet: cannot send the introduction")
	}
	n.met.introSent.Inc()
	return nil
}

// introBody encodes an introduction: key(32) addr payloadLen(2) payload.
func (n *Node) introBody(target *Entry, payload, b []byte) []byte {
	b = append(b, target.Key[:]...)
	b = appendAddr(b, target.Reflexive)
	b = binary.BigEndian.AppendUint16(b, uint16(len(payload)))
	return append(b, payload...)
}
