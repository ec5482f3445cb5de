package server

import (
	"net"
	"net/netip"
)

// SendBatch gathers datagrams the server sends from outside its packet
// workers (the answers to lookups the fleet answered, the introductions
// other members route here) while a caller handles a burst of work, and
// sends them with one sendmmsg(2) per socket at Flush: the fleet's receive
// goroutine handles a datagram of many answers or introductions, then
// flushes once. Each datagram is copied in, so the caller's buffers are
// free as soon as it is queued. A SendBatch belongs to one goroutine; nil
// means "send each at once".
type SendBatch struct {
	n     int
	bufs  [sendBatchMax][]byte
	dsts  [sendBatchMax]netip.AddrPort
	conns [sendBatchMax]*net.UDPConn
	srvs  [sendBatchMax]*Server // whose drop counters a failed send counts in
	out   []sendConn            // one sendmmsg writer per socket seen
}

// sendBatchMax is the most datagrams a batch holds before it flushes by
// itself: a fleet datagram carries at most 64 messages.
const sendBatchMax = 64

type sendConn struct {
	c  *net.UDPConn
	bc *batchConn
}

// NewSendBatch returns an empty batch.
func NewSendBatch() *SendBatch { return &SendBatch{} }

// sendOut sends b to "to" out of socket c at once (sb nil: sendNow), or
// queues it in sb; a queued datagram that then fails to leave is counted
// as a send error at Flush.
func (s *Server) sendOut(sb *SendBatch, c *net.UDPConn, b []byte, to netip.AddrPort) error {
	if sb == nil {
		return sendNow(c, b, to)
	}
	if sb.n == sendBatchMax {
		sb.Flush()
	}
	i := sb.n
	sb.bufs[i] = append(sb.bufs[i][:0], b...)
	sb.dsts[i], sb.conns[i], sb.srvs[i] = to, c, s
	sb.n++
	return nil
}

// Flush sends what is queued, one sendmmsg(2) per socket.
func (sb *SendBatch) Flush() {
	if sb == nil {
		return
	}
	for i := 0; i < sb.n; i++ {
		c := sb.conns[i]
		if c == nil {
			continue // sent with an earlier socket's
		}
		w, s, failed := sb.writer(c), sb.srvs[i], 0
		for j := i; j < sb.n; j++ {
			if sb.conns[j] != c {
				continue
			}
			sb.conns[j], sb.srvs[j] = nil, nil
			if w == nil {
				if sendNow(c, sb.bufs[j], sb.dsts[j]) != nil {
					failed++
				}
			} else if !w.queue(sb.bufs[j], sb.dsts[j]) {
				failed++
			}
		}
		if w != nil {
			n, err := w.flush()
			if err != nil {
				n = max(n, 1)
			}
			failed += n
		}
		for range failed {
			s.m.drop(dropSendError)
		}
	}
	sb.n = 0
}

// writer is the sendmmsg writer for c, nil if it has none (then each
// datagram is sent alone).
func (sb *SendBatch) writer(c *net.UDPConn) *batchConn {
	for _, o := range sb.out {
		if o.c == c {
			return o.bc
		}
	}
	bc, err := newBatchWriter(c, sendBatchMax)
	if err != nil {
		bc = nil
	} else {
		bc.noWait = true // as sendNow: never stall the caller
	}
	sb.out = append(sb.out, sendConn{c, bc})
	return bc
}
