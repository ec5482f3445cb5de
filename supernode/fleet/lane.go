package fleet

import (
	"net/netip"
	"runtime"
	"sync"
	"time"
)

// lane carries the latency-bound traffic to one member: forwarded lookups,
// their answers and routed introductions. Callers queue messages without
// blocking; the lane's goroutine packs whatever is queued when it wakes
// into batch frames (msgBatch, wire.go) of up to maxPlain bytes, so under
// load one seal, one sequence number and one sendto carry many messages,
// and with nothing else queued a message leaves at once, alone, in the
// format every member reads. There is no timer: a batch is what queued up
// while the previous datagram was being sealed and sent, so batching adds
// no latency of its own.
//
// Replication (puts and deletes) keeps its own outbox: handoff bursts
// would otherwise queue lookups behind thousands of entries.
type lane struct {
	n     *Node
	to    netip.AddrPort
	batch bool // the member reads batch frames; else one message per datagram

	mu   sync.Mutex
	q    []byte        // queued sub-frames: type(1) len(2) body
	kick chan struct{} // capacity 1: the queue became non-empty
	done chan struct{}
}

// laneQueue bounds the bytes queued for one member (about 1,600 lookups):
// beyond it a message is refused and its sender falls back or fails.
const laneQueue = 64 << 10

func newLane(n *Node, m Member, done chan struct{}) *lane {
	return &lane{n: n, to: m.Data, batch: m.Batch, kick: make(chan struct{}, 1), done: done}
}

// add queues one message of a batchable type.
func (l *lane) add(typ byte, body []byte) bool {
	l.mu.Lock()
	if len(l.q)+subHeader+len(body) > laneQueue {
		l.mu.Unlock()
		return false
	}
	first := len(l.q) == 0
	l.q = appendSubFrame(l.q, typ, body)
	l.mu.Unlock()
	if first {
		l.wake()
	}
	return true
}

// addFrames queues already framed messages (an owner's answers to one
// datagram of lookups).
func (l *lane) addFrames(frames []byte) bool {
	l.mu.Lock()
	if len(l.q)+len(frames) > laneQueue {
		l.mu.Unlock()
		return false
	}
	first := len(l.q) == 0
	l.q = append(l.q, frames...)
	l.mu.Unlock()
	if first {
		l.wake()
	}
	return true
}

func (l *lane) wake() {
	select {
	case l.kick <- struct{}{}:
	default:
	}
}

func (l *lane) run() {
	defer l.n.wg.Done()
	var q []byte
	plain := make([]byte, 0, maxPlain)
	pkt := make([]byte, 0, maxDatagram)
	for {
		select {
		case <-l.done:
			return
		case <-l.kick:
		}
		// Let the goroutines that are ready to run go first: lookups
		// woken by the same datagram of answers, or started by the
		// same receive batch of the server, queue their messages
		// meanwhile and leave in this datagram, not one each. This
		// waits for no timer and no network, only for work already
		// runnable on this process's cores.
		runtime.Gosched()
		// Swap the queue with the emptied one of the previous round: the
		// callers go on filling the other buffer meanwhile.
		l.mu.Lock()
		q, l.q = l.q, q[:0]
		l.mu.Unlock()
		plain, pkt = l.flush(q, plain, pkt)
	}
}

// flush sends q's messages in as few datagrams as fit.
func (l *lane) flush(q, plain, pkt []byte) ([]byte, []byte) {
	room := maxPlain - headerSize(l.n.name)
	for len(q) > 0 {
		end, count := 0, 0
		for end < len(q) && count < maxSubFrames {
			_, body, _, err := nextSubFrame(q[end:])
			if err != nil {
				return plain, pkt // cannot happen: only add and addFrames fill q
			}
			size := subHeader + len(body)
			if end+size > room && count > 0 {
				break
			}
			end += size
			count++
			if !l.batch {
				break
			}
		}
		now := time.Now()
		if count == 1 {
			typ, body, _, _ := nextSubFrame(q)
			plain = l.n.header(plain[:0], typ, now)
			plain = append(plain, body...)
		} else {
			plain = l.n.header(plain[:0], msgBatch, now)
			plain = append(plain, q[:end]...)
		}
		q = q[end:]
		if len(plain) > maxPlain {
			continue // cannot happen: every message type is bounded below it
		}
		pkt = l.n.ch.seal(pkt[:0], plain)
		if _, err := l.n.ch.conn.WriteToUDPAddrPort(pkt, l.to); err != nil {
			l.n.met.laneErrors.Add(float64(count))
			continue
		}
		l.n.met.laneMessages.Add(float64(count))
		l.n.met.laneDatagrams.Inc()
	}
	return plain, pkt
}

// lane returns the lane to a member, nil if it has none (not in the view).
func (n *Node) lane(member string) *lane {
	obs := n.outboxes.Load()
	if obs == nil {
		return nil // not started (tests that run the receive path alone)
	}
	if ob := (*obs)[member]; ob != nil {
		return ob.lane
	}
	return nil
}
