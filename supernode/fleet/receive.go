package fleet

import (
	"encoding/binary"
	"net/netip"
	"sync"
	"time"

	"github.com/supernode-appliance/appliance/supernode/server"
)

// receive reads, authenticates and handles data-channel datagrams until the
// socket closes. Everything is handled inline and bounded by the datagram
// size; nothing from the network is trusted before the AEAD opens it, and
// nothing after that can make this member allocate more than the store's
// bound.
func (n *Node) receive() {
	defer n.wg.Done()
	pkt := make([]byte, maxDatagram+1)
	plain := make([]byte, maxDatagram)
	// What the server sends on behalf of one datagram (answers to
	// requesters, introductions) leaves in one sendmmsg after it.
	sb := server.NewSendBatch()
	for {
		sz, from, err := n.ch.conn.ReadFromUDPAddrPort(pkt)
		if err != nil {
			if n.ctx.Err() != nil {
				return
			}
			continue
		}
		n.handleBatch(pkt[:sz], plain, from, sb)
		sb.Flush()
	}
}

func (n *Node) drop(reason string) { n.met.dropped.WithLabelValues(reason).Inc() }

// handle handles one datagram; what the server sends for it leaves at
// once.
func (n *Node) handle(pkt, plain []byte, from netip.AddrPort) { n.handleBatch(pkt, plain, from, nil) }

// handleBatch handles one datagram; what the server sends for it goes into
// sb (nil: at once), which the caller flushes.
func (n *Node) handleBatch(pkt, plain []byte, from netip.AddrPort, sb *server.SendBatch) {
	if len(pkt) > maxDatagram || len(pkt) < sealOverhead {
		n.drop(dropShort)
		return
	}
	msg, err := n.ch.open(plain, pkt)
	if err != nil {
		n.drop(dropDecrypt)
		return
	}
	h, body, err := readHeader(msg)
	if err != nil {
		n.drop(dropMalformed)
		return
	}
	now := time.Now()
	if d := now.Sub(h.sent); d > maxClockSkew || d < -maxClockSkew {
		n.drop(dropStale) // a replay, or a member whose clock is off
		return
	}
	// Only a member of the view, in its current boot, may write: that is
	// what makes the replay window below per process, and gives the
	// address to answer (the member's, never the datagram's source, which
	// anyone on the path can forge).
	m, member := n.view.Load().members[string(h.name)] // no allocation to look up
	if !member || m.Name == n.name || h.boot != m.Boot {
		n.drop(dropNotMember)
		return
	}
	h.sender = m.Name
	if !n.replay.accept(h.sender, h.boot, h.seq) {
		n.drop(dropReplay)
		return
	}
	tokens := 1
	if h.typ == msgBatch {
		// Checked whole before anything in it is handled: a frame is
		// accepted or refused as a unit.
		count, err := checkBatch(body)
		if err != nil {
			n.drop(dropMalformed)
			return
		}
		tokens = count
	}
	if !n.lim.allowN(h.sender, true, tokens, now) {
		n.drop(dropRate)
		return
	}
	switch h.typ {
	case msgPut:
		n.handlePut(body, now)
		return
	case msgDelete:
		n.handleDelete(body)
		return
	}
	rp := replyBufs.Get().(*[]byte)
	replies := (*rp)[:0]
	if h.typ == msgBatch {
		for b := body; len(b) > 0; {
			typ, sub, rest, _ := nextSubFrame(b) // checkBatch has checked them all
			b = rest
			n.dispatch(typ, sub, &replies, now, sb)
		}
	} else {
		n.dispatch(h.typ, body, &replies, now, sb)
	}
	if len(replies) > 0 {
		n.reply(&m, replies)
	}
	*rp = replies
	replyBufs.Put(rp)
}

// replyBufs hold the answers to one datagram's lookups until they are
// queued, reused.
var replyBufs = sync.Pool{New: func() any { b := make([]byte, 0, maxPlain); return &b }}

// dispatch handles one message of the latency-bound kinds, alone in its
// datagram or one of a batch frame. Answers are appended to replies as
// sub-frames.
func (n *Node) dispatch(typ byte, body []byte, replies *[]byte, now time.Time, sb *server.SendBatch) {
	switch typ {
	case msgLookup:
		n.handleLookup(body, replies, now)
	case msgLookupResp:
		n.handleLookupResp(body, now, sb)
	case msgIntroduce:
		n.handleIntroduce(body, sb)
	default:
		n.drop(dropUnknown)
	}
}

// reply queues answers for the asking member: on its lane, where they
// share datagrams with whatever else is going there, or, without a lane
// (not in the outboxes yet, or the lane's queue is full), one datagram
// each. Answers go to the member's data address as the view says, never
// the datagram's source: a forged source must not draw them.
func (n *Node) reply(m *Member, frames []byte) {
	if l := n.lane(m.Name); l != nil && l.to == m.Data && l.addFrames(frames) {
		return
	}
	pp := replyBufs.Get().(*[]byte)
	plain := *pp
	for len(frames) > 0 {
		typ, body, rest, err := nextSubFrame(frames)
		if err != nil {
			break
		}
		frames = rest
		plain = n.header(plain[:0], typ, time.Now())
		plain = append(plain, body...)
		n.ch.send(m.Data, plain)
	}
	*pp = plain
	replyBufs.Put(pp)
}

func (n *Node) handlePut(b []byte, now time.Time) {
	if len(b) < 2 {
		n.drop(dropMalformed)
		return
	}
	handoff := b[0] == putHandoff
	count := int(b[1])
	b = b[2:]
	members := n.view.Load().members
	var e Entry
	var local [MaxLocal]netip.AddrPort
	for i := 0; i < count; i++ {
		// Via shares the member's name string (no copy per replica); the
		// stored entry needs candidates of its own.
		k, rest, err := readEntryTo(b, now, &e, &local, members)
		if err != nil {
			n.drop(dropMalformed)
			return
		}
		b = rest
		if k > 0 {
			e.Local = append([]netip.AddrPort(nil), local[:k]...)
		}
		switch n.st.put(&e) {
		case putFull:
			n.met.replicationFail.WithLabelValues("store_full").Inc()
			continue
		case putStored:
			n.met.receivedEntries.Inc()
		case putStale:
			n.met.staleEntries.Inc() // overtaken by a newer record: fine
		}
		if !handoff {
			n.met.replicationLag.Observe(max(0, now.Sub(e.Heard).Seconds()))
		}
	}
}

func (n *Node) handleDelete(b []byte) {
	if len(b) < 1 || len(b) != 1+int(b[0])*40 {
		n.drop(dropMalformed)
		return
	}
	count := int(b[0])
	b = b[1:]
	for i := 0; i < count; i++ {
		var k Key
		copy(k[:], b)
		heard := time.UnixMilli(int64(binary.BigEndian.Uint64(b[32:])))
		n.st.remove(&k, heard)
		b = b[40:]
	}
}

// handleLookup answers a forwarded lookup from the store: the answer is
// appended to replies as a sub-frame (reqID(8) found(1) [entry]).
func (n *Node) handleLookup(b []byte, replies *[]byte, now time.Time) {
	if len(b) != 8+32 {
		n.drop(dropMalformed)
		return
	}
	var k Key
	copy(k[:], b[8:])
	n.met.forwardedServed.Inc()
	e, found := n.st.get(&k, now)
	r := *replies
	at := len(r)
	r = append(r, msgLookupResp, 0, 0)
	r = append(r, b[:8]...) // the request id
	if found {
		r = append(r, 1)
		r = appendEntry(r, &e)
	} else {
		r = append(r, 0)
	}
	binary.BigEndian.PutUint16(r[at+1:], uint16(len(r)-at-subHeader))
	*replies = r
}

// handleLookupResp hands an owner's answer to the lookup waiting for it,
// decoded without allocating.
func (n *Node) handleLookupResp(b []byte, now time.Time, sb *server.SendBatch) {
	if len(b) < 9 {
		n.drop(dropMalformed)
		return
	}
	id := binary.BigEndian.Uint64(b)
	var res lookupResult
	if b[8] == 1 {
		k, _, err := readEntryTo(b[9:], now, &res.e, &res.local, n.view.Load().members)
		if err != nil {
			n.drop(dropMalformed)
			return
		}
		res.found, res.nLocal = true, uint8(k)
	}
	n.answer(id, &res, sb)
}

func (n *Node) handleIntroduce(b []byte, sb *server.SendBatch) {
	if len(b) < 32 {
		n.drop(dropMalformed)
		return
	}
	var target Key
	copy(target[:], b)
	addr, rest, err := readAddr(b[32:])
	if err != nil || len(rest) < 2 {
		n.drop(dropMalformed)
		return
	}
	size := int(binary.BigEndian.Uint16(rest))
	if size > MaxIntroduction || len(rest) != 2+size {
		n.drop(dropMalformed)
		return
	}
	n.met.introReceived.Inc()
	if n.onIntroduce != nil {
		// rest aliases the receive buffer: valid for the call only
		// (Options.OnIntroduce).
		n.onIntroduce(sb, target, addr, rest[2:])
	}
}
