package server

import (
	"crypto/ecdh"
	"crypto/rand"
	"net"
	"net/netip"
	"time"

	"github.com/supernode-appliance/appliance/supernode/directory"
	"github.com/supernode-appliance/appliance/supernode/stun"
	"github.com/supernode-appliance/appliance/supernode/wire"
)

// worker owns one socket and every buffer its loop needs, so the packet
// path shares nothing with other workers except the directory, the rate
// limiter and the counters.
type worker struct {
	s    *Server
	conn *net.UDPConn
	bc   *batchConn // nil when batch = 1
	pos  discPos    // place among the RFC 5780 addresses (discovery.go)

	req     *stun.Message
	outs    []*stun.Message
	dsts    []netip.AddrPort
	vias    []*net.UDPConn // nil: this worker's socket; else another (a CHANGE-REQUEST's answer)
	nout    int
	unknown []stun.AttrType
	reg     wire.Registration
	peer    directory.Peer
	target  directory.Peer

	// The server's X25519 share for session keys, rotated every minute so
	// keygen is not paid per registration (the client's share is fresh
	// each time, so every session key is still distinct).
	eph    *ecdh.PrivateKey
	ephPub [wire.KeySize]byte
	ephAt  time.Time
}

const ephemeralLifetime = time.Minute

func newWorker(s *Server, c *net.UDPConn) (*worker, error) {
	w := &worker{s: s, conn: c, pos: s.pos[c], req: stun.New(), unknown: make([]stun.AttrType, 0, stun.MaxAttributes)}
	n := 1
	if s.cfg.Batch > 1 {
		bc, err := newBatchConn(c, s.cfg.Batch)
		if err != nil {
			return nil, err
		}
		w.bc, n = bc, s.cfg.Batch
	}
	// Each request yields at most two datagrams (reply + introduction).
	w.outs = make([]*stun.Message, 2*n)
	w.dsts = make([]netip.AddrPort, 2*n)
	w.vias = make([]*net.UDPConn, 2*n)
	for i := range w.outs {
		w.outs[i] = stun.New()
	}
	return w, nil
}

func (w *worker) run() error {
	if w.bc == nil {
		return w.runPlain()
	}
	for {
		n, err := w.bc.read()
		if err != nil {
			if w.s.stopped(err) {
				return nil
			}
			// recvmmsg errors such as ENOMEM concern a moment, not the
			// socket; keep serving, but never spin on a persistent one.
			w.s.log.Debug("recvmmsg", "err", err)
			time.Sleep(time.Millisecond)
			continue
		}
		for i := 0; i < n; i++ {
			pkt, src, trunc := w.bc.datagram(i)
			w.handle(pkt, src, trunc)
		}
		for i := 0; i < w.nout; i++ {
			if c := w.vias[i]; c != nil {
				// Another socket (discovery.go): rare, one write each.
				if _, err := c.WriteToUDPAddrPort(w.outs[i].Raw, w.dsts[i]); err != nil {
					w.s.m.drop(dropSendError)
				}
				continue
			}
			if !w.bc.queue(w.outs[i].Raw, w.dsts[i]) {
				w.s.m.drop(dropSendError) // e.g. an IPv6 target on an IPv4-only socket
			}
		}
		w.nout = 0
		if failed, err := w.bc.flush(); failed > 0 || err != nil {
			if err != nil && w.s.stopped(err) {
				return nil
			}
			w.s.m.drop(dropSendError)
		}
	}
}

func (w *worker) runPlain() error {
	buf := make([]byte, recvBufSize)
	for {
		n, src, err := w.conn.ReadFromUDPAddrPort(buf)
		if err != nil {
			if w.s.stopped(err) {
				return nil
			}
			w.s.log.Debug("read", "err", err)
			time.Sleep(time.Millisecond)
			continue
		}
		w.handle(buf[:n], src, n > stun.MaxReceiveSize)
		for i := 0; i < w.nout; i++ {
			c := w.conn
			if w.vias[i] != nil {
				c = w.vias[i]
			}
			if _, err := c.WriteToUDPAddrPort(w.outs[i].Raw, w.dsts[i]); err != nil {
				w.s.m.drop(dropSendError)
			}
		}
		w.nout = 0
	}
}

// out returns the next output buffer; send commits it.
func (w *worker) out() *stun.Message { return w.outs[w.nout] }

func (w *worker) send(to netip.AddrPort) { w.sendVia(to, nil) }

// sendVia commits the pending output to go out of socket c (nil: the
// worker's own).
func (w *worker) sendVia(to netip.AddrPort, c *net.UDPConn) {
	w.dsts[w.nout] = to
	w.vias[w.nout] = c
	w.nout++
}

// sendBounded sends the pending output only if it is no larger than the
// request: the rule for every reply to an address not yet proven.
func (w *worker) sendBounded(to netip.AddrPort, reqLen int) bool {
	if len(w.out().Raw) > reqLen {
		w.drop(dropAmplification, to)
		return false
	}
	w.send(to)
	return true
}

// drop counts a datagram dropped without service. It never reports the
// source: its address may be forged (abuse.go, dropProven).
func (w *worker) drop(r dropReason, src netip.AddrPort) {
	w.s.m.drop(r)
}

func (w *worker) ephemeral(now time.Time) *ecdh.PrivateKey {
	if w.eph == nil || now.Sub(w.ephAt) > ephemeralLifetime {
		k, err := ecdh.X25519().GenerateKey(rand.Reader)
		if err != nil {
			panic("crypto/rand failed: " + err.Error()) // cannot happen on Linux (getrandom)
		}
		w.eph, w.ephAt = k, now
		copy(w.ephPub[:], k.PublicKey().Bytes())
	}
	return w.eph
}
