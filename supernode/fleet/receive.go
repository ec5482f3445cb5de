package fleet

import (
	"encoding/binary"
	"net/netip"
	"time"
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
	for {
		sz, from, err := n.ch.conn.ReadFromUDPAddrPort(pkt)
		if err != nil {
			if n.ctx.Err() != nil {
				return
			}
			continue
		}
		n.handle(pkt[:sz], plain, from)
	}
}

func (n *Node) drop(reason string) { n.met.dropped.WithLabelValues(reason).Inc() }

func (n *Node) handle(pkt, plain []byte, from netip.AddrPort) {
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
	m, member := n.view.Load().members[h.sender]
	if !member || h.sender == n.name || h.boot != m.Boot {
		n.drop(dropNotMember)
		return
	}
	if !n.replay.accept(h.sender, h.boot, h.seq) {
		n.drop(dropReplay)
		return
	}
	if !n.lim.allow(h.sender, true, now) {
		n.drop(dropRate)
		return
	}
	switch h.typ {
	case msgPut:
		n.handlePut(body, now)
	case msgDelete:
		n.handleDelete(body)
	case msgLookup:
		n.handleLookup(body, m.Data, now)
	case msgLookupResp:
		n.handleLookupResp(body, now)
	case msgIntroduce:
		n.handleIntroduce(body)
	default:
		n.drop(dropUnknown)
	}
}

func (n *Node) handlePut(b []byte, now time.Time) {
	if len(b) < 2 {
		n.drop(dropMalformed)
		return
	}
	handoff := b[0] == putHandoff
	count := int(b[1])
	b = b[2:]
	for i := 0; i < count; i++ {
		e, rest, err := readEntry(b, now)
		if err != nil {
			n.drop(dropMalformed)
			return
		}
		b = rest
		// Share the member's name string instead of one copy per replica.
		if m, ok := n.view.Load().members[e.Via]; ok {
			e.Via = m.Name
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

func (n *Node) handleLookup(b []byte, to netip.AddrPort, now time.Time) {
	if len(b) != 8+32 {
		n.drop(dropMalformed)
		return
	}
	var k Key
	copy(k[:], b[8:])
	n.met.forwardedServed.Inc()
	e, found := n.st.get(&k, now)
	out := make([]byte, 0, maxPlain)
	out = n.header(out, msgLookupResp, now)
	out = append(out, b[:8]...) // the request id
	if found {
		out = append(out, 1)
		out = appendEntry(out, &e)
	} else {
		out = append(out, 0)
	}
	// Answer the asker's data address as its membership says, not the
	// datagram's source: a forged source must not draw the answer.
	n.ch.send(to, out)
}

func (n *Node) handleLookupResp(b []byte, now time.Time) {
	if len(b) < 9 {
		n.drop(dropMalformed)
		return
	}
	id := binary.BigEndian.Uint64(b)
	var res lookupResult
	if b[8] == 1 {
		e, _, err := readEntry(b[9:], now)
		if err != nil {
			n.drop(dropMalformed)
			return
		}
		res = lookupResult{found: true, e: e}
	}
	n.pendMu.Lock()
	ch := n.pending[id]
	n.pendMu.Unlock()
	if ch == nil {
		return // late answer after a timeout
	}
	select {
	case ch <- res:
	default:
	}
}

func (n *Node) handleIntroduce(b []byte) {
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
	n.met.introductions.WithLabelValues("received").Inc()
	if n.onIntroduce != nil {
		// rest aliases the receive buffer; the callback may keep its copy.
		n.onIntroduce(target, addr, append([]byte(nil), rest[2:]...))
	}
}
