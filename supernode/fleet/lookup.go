package fleet

import (
	"context"
	"encoding/binary"
	"errors"
	"net/netip"
	"time"
)

type lookupResult struct {
	found bool
	e     Entry
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
	now := time.Now()
	v := n.view.Load()
	var buf [maxReplicas]int
	var remote []netip.AddrPort
	self := false
	for _, i := range v.ring.Owners(&key, n.cfg.Replicas, buf[:0]) {
		owner := v.ring.Name(i)
		if owner == n.name {
			self = true
			if e, ok := n.st.get(&key, now); ok {
				n.met.lookupLocal.Inc()
				return e, true, nil
			}
			continue
		}
		if m, ok := v.members[owner]; ok {
			remote = append(remote, m.Data)
		}
	}
	if len(remote) > 0 {
		res, answers, err := n.ask(ctx, remote, &key)
		switch {
		case res.found:
			n.met.lookupForwarded.Inc()
			return res.e, true, nil
		case err != nil:
			n.met.lookups.WithLabelValues("forwarded", "failed").Inc()
			return Entry{}, false, err
		case answers > 0:
			self = true // some owner answered "not found"
		}
	}
	// A member that stopped owning the key may still hold it until its
	// handoff runs; better a slightly stale answer than none.
	if e, ok := n.st.get(&key, now); ok {
		n.met.lookupLocal.Inc()
		return e, true, nil
	}
	if !self && len(remote) > 0 {
		// No owner answered: the failure detector will settle who owns
		// the key within seconds.
		n.met.lookups.WithLabelValues("forwarded", "failed").Inc()
		return Entry{}, false, &UnavailableError{RetryAfter: n.cfg.ProbeInterval}
	}
	if until, lost := n.losses.lostUntil(&key, n.cfg.Replicas, now); lost {
		// Not found, but the members that held it died recently: its peer
		// may be re-registering right now.
		n.met.lookups.WithLabelValues("forwarded", "unavailable").Inc()
		return Entry{}, false, &UnavailableError{RetryAfter: min(until.Sub(now), max(n.losses.lease/3, time.Second))}
	}
	n.met.lookups.WithLabelValues("forwarded", "not_found").Inc()
	return Entry{}, false, nil
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

// ask sends the lookup to the owners in order, hedging, and returns the
// first positive answer, or how many owners answered "not found". err is
// set only when the context ended or nothing could be asked.
func (n *Node) ask(ctx context.Context, owners []netip.AddrPort, key *Key) (lookupResult, int, error) {
	id := n.reqID.Add(1)
	ch := make(chan lookupResult, len(owners))
	n.pendMu.Lock()
	if len(n.pending) >= maxPending {
		n.pendMu.Unlock()
		return lookupResult{}, 0, ErrBusy
	}
	n.pending[id] = ch
	n.pendMu.Unlock()
	defer func() {
		n.pendMu.Lock()
		delete(n.pending, id)
		n.pendMu.Unlock()
	}()
	b := make([]byte, 0, headerSize(n.name)+40)
	b = n.header(b, msgLookup, time.Now())
	b = binary.BigEndian.AppendUint64(b, id)
	b = append(b, key[:]...)

	hedge := max(n.cfg.LookupTimeout/4, time.Millisecond)
	deadline := time.NewTimer(n.cfg.LookupTimeout)
	defer deadline.Stop()
	next := time.NewTimer(hedge)
	defer next.Stop()
	sent, answers := 0, 0
	sendNext := func() {
		for sent < len(owners) {
			to := owners[sent]
			sent++
			if n.ch.send(to, b) == nil {
				break
			}
		}
		if sent == len(owners) {
			// The last owner asked gets a full timeout of its own.
			deadline.Reset(n.cfg.LookupTimeout)
		}
	}
	sendNext()
	for {
		select {
		case r := <-ch:
			answers++
			if r.found {
				return r, answers, nil
			}
			if answers >= sent {
				if sent == len(owners) {
					return lookupResult{}, answers, nil
				}
				sendNext()
				next.Reset(hedge)
			}
		case <-next.C:
			if sent < len(owners) {
				sendNext()
				next.Reset(hedge)
			}
		case <-deadline.C:
			return lookupResult{}, answers, nil
		case <-ctx.Done():
			return lookupResult{}, answers, ctx.Err()
		}
	}
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
	m, ok := n.view.Load().members[target.Via]
	if !ok {
		return ErrViaGone
	}
	b := make([]byte, 0, headerSize(n.name)+32+19+2+len(payload))
	b = n.header(b, msgIntroduce, time.Now())
	b = append(b, target.Key[:]...)
	b = appendAddr(b, target.Reflexive)
	b = binary.BigEndian.AppendUint16(b, uint16(len(payload)))
	b = append(b, payload...)
	if err := n.ch.send(m.Data, b); err != nil {
		return err
	}
	n.met.introductions.WithLabelValues("sent").Inc()
	return nil
}
