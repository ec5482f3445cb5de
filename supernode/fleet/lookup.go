package fleet

import (
	"context"
	"encoding/binary"
	"errors"
	"net/netip"
	"sync"
	"time"
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

// request is one forwarded lookup in flight, reused (requests pool): the
// channel its answers arrive on and its two timers.
type request struct {
	ch              chan lookupResult
	hedge, deadline *time.Timer
}

var requests = sync.Pool{New: func() any {
	r := &request{ch: make(chan lookupResult, maxReplicas), hedge: time.NewTimer(time.Hour), deadline: time.NewTimer(time.Hour)}
	r.hedge.Stop()
	r.deadline.Stop()
	return r
}}

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

// lookup is Lookup into res, without allocating.
func (n *Node) lookup(ctx context.Context, key Key, res *lookupResult) (bool, error) {
	now := time.Now()
	v := n.view.Load()
	var buf [maxReplicas]int
	var names [maxReplicas]string
	remote := names[:0]
	self := false
	for _, i := range v.ring.Owners(&key, n.cfg.Replicas, buf[:0]) {
		owner := v.ring.Name(i)
		if owner == n.name {
			self = true
			if e, ok := n.st.get(&key, now); ok {
				n.met.lookupLocal.Inc()
				res.found, res.e = true, e
				return true, nil
			}
			continue
		}
		if _, ok := v.members[owner]; ok {
			remote = append(remote, owner)
		}
	}
	if len(remote) > 0 {
		answers, err := n.ask(ctx, v, remote, &key, res)
		switch {
		case res.found:
			n.met.lookupForwarded.Inc()
			return true, nil
		case err != nil:
			n.met.lookups.WithLabelValues("forwarded", "failed").Inc()
			return false, err
		case answers > 0:
			self = true // some owner answered "not found"
		}
	}
	// A member that stopped owning the key may still hold it until its
	// handoff runs; better a slightly stale answer than none.
	if e, ok := n.st.get(&key, now); ok {
		n.met.lookupLocal.Inc()
		*res = lookupResult{found: true, e: e}
		return true, nil
	}
	if !self && len(remote) > 0 {
		// No owner answered: the failure detector will settle who owns
		// the key within seconds.
		n.met.lookups.WithLabelValues("forwarded", "failed").Inc()
		return false, &UnavailableError{RetryAfter: n.cfg.ProbeInterval}
	}
	if until, lost := n.losses.lostUntil(&key, n.cfg.Replicas, now); lost {
		// Not found, but the members that held it died recently: its peer
		// may be re-registering right now.
		n.met.lookups.WithLabelValues("forwarded", "unavailable").Inc()
		return false, &UnavailableError{RetryAfter: min(until.Sub(now), max(n.losses.lease/3, time.Second))}
	}
	n.met.lookups.WithLabelValues("forwarded", "not_found").Inc()
	return false, nil
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

// ask sends the lookup to the owners in order, hedging, and leaves the
// first positive answer in res (res.found), returning how many owners
// answered "not found" otherwise. err is set only when the context ended
// or too many lookups are in flight. The question goes on each owner's
// lane, batched with whatever else is going there.
func (n *Node) ask(ctx context.Context, v *view, owners []string, key *Key, res *lookupResult) (int, error) {
	id := n.reqID.Add(1)
	r := requests.Get().(*request)
	n.pendMu.Lock()
	if len(n.pending) >= maxPending {
		n.pendMu.Unlock()
		requests.Put(r)
		return 0, ErrBusy
	}
	n.pending[id] = r
	n.pendMu.Unlock()
	defer func() {
		n.pendMu.Lock()
		delete(n.pending, id)
		n.pendMu.Unlock()
		// Nothing is sent on r.ch any more: empty it and reuse it.
		r.hedge.Stop()
		r.deadline.Stop()
		for len(r.ch) > 0 {
			<-r.ch
		}
		requests.Put(r)
	}()
	var body [8 + 32]byte
	binary.BigEndian.PutUint64(body[:], id)
	copy(body[8:], key[:])

	hedge := max(n.cfg.LookupTimeout/4, time.Millisecond)
	r.deadline.Reset(n.cfg.LookupTimeout)
	r.hedge.Reset(hedge)
	sent, answers := 0, 0
	sendNext := func() {
		for sent < len(owners) {
			owner := owners[sent]
			sent++
			if n.sendTo(v, owner, msgLookup, body[:]) {
				break
			}
		}
		if sent == len(owners) {
			// The last owner asked gets a full timeout of its own.
			r.deadline.Reset(n.cfg.LookupTimeout)
		}
	}
	sendNext()
	for {
		select {
		case a := <-r.ch:
			answers++
			if a.found {
				*res = a
				return answers, nil
			}
			if answers >= sent {
				if sent == len(owners) {
					return answers, nil
				}
				sendNext()
				r.hedge.Reset(hedge)
			}
		case <-r.hedge.C:
			if sent < len(owners) {
				sendNext()
				r.hedge.Reset(hedge)
			}
		case <-r.deadline.C:
			return answers, nil
		case <-ctx.Done():
			return answers, ctx.Err()
		}
	}
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
			n.onIntroduce(target.Key, target.Reflexive, payload)
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
	n.met.introductions.WithLabelValues("sent").Inc()
	return nil
}

// introBody encodes an introduction: key(32) addr payloadLen(2) payload.
func (n *Node) introBody(target *Entry, payload, b []byte) []byte {
	b = append(b, target.Key[:]...)
	b = appendAddr(b, target.Reflexive)
	b = binary.BigEndian.AppendUint16(b, uint16(len(payload)))
	return append(b, payload...)
}
