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
// rank order, each with LookupTimeout, so one dead owner costs one timeout
// until the failure detector removes it. An owner that does not hold the key
// also asks the other owners: right after a join the new owner may not have
// received its handoff yet. found=false with a nil error is an authoritative
// "not found".
func (n *Node) Lookup(ctx context.Context, key Key) (Entry, bool, error) {
	now := time.Now()
	v := n.view.Load()
	var buf [maxReplicas]int
	owners := v.ring.Owners(&key, n.cfg.Replicas, buf[:0])
	for _, i := range owners {
		if v.ring.Name(i) == n.name {
			if e, ok := n.st.get(&key, now); ok {
				n.met.lookups.WithLabelValues("local", "found").Inc()
				return e, true, nil
			}
		}
	}
	answered := false
	for _, i := range owners {
		owner := v.ring.Name(i)
		if owner == n.name {
			answered = true // our own "not found" counts as an answer
			continue
		}
		m, ok := v.members[owner]
		if !ok {
			continue
		}
		res, err := n.ask(ctx, m.Data, &key)
		if err != nil {
			if ctx.Err() != nil {
				n.met.lookups.WithLabelValues("forwarded", "failed").Inc()
				return Entry{}, false, err
			}
			continue
		}
		answered = true
		if res.found {
			n.met.lookups.WithLabelValues("forwarded", "found").Inc()
			return res.e, true, nil
		}
	}
	// A member that stopped owning the key may still hold it until its
	// handoff runs; better a slightly stale answer than none.
	if e, ok := n.st.get(&key, now); ok {
		n.met.lookups.WithLabelValues("local", "found").Inc()
		return e, true, nil
	}
	if !answered && len(owners) > 0 {
		n.met.lookups.WithLabelValues("forwarded", "failed").Inc()
		return Entry{}, false, ErrUnavailable
	}
	n.met.lookups.WithLabelValues("forwarded", "not_found").Inc()
	return Entry{}, false, nil
}

// ask sends one lookup to an owner and waits for its answer.
func (n *Node) ask(ctx context.Context, to netip.AddrPort, key *Key) (lookupResult, error) {
	id := n.reqID.Add(1)
	ch := make(chan lookupResult, 1)
	n.pendMu.Lock()
	if len(n.pending) >= maxPending {
		n.pendMu.Unlock()
		return lookupResult{}, ErrBusy
	}
	n.pending[id] = ch
	n.pendMu.Unlock()
	defer func() {
		n.pendMu.Lock()
		delete(n.pending, id)
		n.pendMu.Unlock()
	}()
	b := make([]byte, 0, headerSize(n.name)+40)
	b = appendHeader(b, msgLookup, n.name, time.Now())
	b = binary.BigEndian.AppendUint64(b, id)
	b = append(b, key[:]...)
	if err := n.ch.send(to, b); err != nil {
		return lookupResult{}, err
	}
	t := time.NewTimer(n.cfg.LookupTimeout)
	defer t.Stop()
	select {
	case r := <-ch:
		return r, nil
	case <-t.C:
		return lookupResult{}, ErrUnavailable
	case <-ctx.Done():
		return lookupResult{}, ctx.Err()
	}
}

// ErrViaGone means the member that last heard the target is no longer in
// the fleet: no NAT pinhole exists for anyone else, so the introduction
// cannot be delivered until the target re-registers.
var ErrViaGone = errors.New("fleet: the member that last heard the target left")

// Introduce delivers an introduction for target through target.Via, the
// member whose address the target's NAT has a pinhole for: locally through
// OnIntroduce if that is this member, else in one datagram to it.
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
	b = appendHeader(b, msgIntroduce, n.name, time.Now())
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
