package fleet

import (
	"crypto/cipher"
	"crypto/rand"
	"errors"
	"net"
	"net/netip"
	"sync"
	"time"
)

// channel is the fleet's data channel: one UDP socket, every datagram sealed
// with AES-256-GCM (version(1) nonce(12) ciphertext tag(16)) under a key
// derived from the fleet key. GCM authenticates, so a datagram from anyone
// without the key fails to open and is dropped before it is parsed: only
// members can write to another member's directory. Datagrams are handled
// inline by a fixed number of readers, so there is no receive queue to grow.
type channel struct {
	conn  *net.UDPConn
	aeads []cipher.AEAD
}

// sealVersion 2: the header carries boot and seq (replay window).
const sealVersion = 2

var errOpen = errors.New("cannot open fleet datagram")

func (c *channel) seal(dst, plain []byte) []byte {
	a := c.aeads[0]
	start := len(dst)
	dst = append(dst, sealVersion)
	dst = append(dst, make([]byte, a.NonceSize())...) // no allocation: appended in place
	nonce := dst[start+1:]
	rand.Read(nonce)
	// Seal appends after dst: the nonce and version bytes are read, never
	// overwritten.
	return a.Seal(dst, nonce, plain, dst[start:start+1])
}

// open authenticates and decrypts pkt into dst, trying every key of the
// ring (the primary first).
func (c *channel) open(dst, pkt []byte) ([]byte, error) {
	if len(pkt) < sealOverhead || pkt[0] != sealVersion {
		return nil, errOpen
	}
	for _, a := range c.aeads {
		ns := a.NonceSize()
		if out, err := a.Open(dst[:0], pkt[1:1+ns], pkt[1+ns:], pkt[:1]); err == nil {
			return out, nil
		}
	}
	return nil, errOpen
}

func (c *channel) send(to netip.AddrPort, plain []byte) error {
	bp := sendBufs.Get().(*[]byte)
	buf := c.seal((*bp)[:0], plain)
	_, err := c.conn.WriteToUDPAddrPort(buf, to)
	*bp = buf
	sendBufs.Put(bp)
	return err
}

// sendBufs are the sealed datagrams of send, reused.
var sendBufs = sync.Pool{New: func() any { b := make([]byte, 0, maxDatagram); return &b }}

// limiter is a token bucket per member name; messages from names that are
// not members share one small bucket.
type limiter struct {
	mu      sync.Mutex
	rate    float64
	buckets map[string]*bucket
}

type bucket struct {
	tokens float64
	last   time.Time
}

func newLimiter(rate int) *limiter {
	return &limiter{rate: float64(rate), buckets: make(map[string]*bucket)}
}

// allow takes one token from name's bucket.
func (l *limiter) allow(name string, member bool, now time.Time) bool {
	return l.allowN(name, member, 1, now)
}

// allowN takes n tokens (one per message of a batch frame) from name's
// bucket. Only names in the current view get their own bucket, so the map
// is bounded by the member count.
func (l *limiter) allowN(name string, member bool, n int, now time.Time) bool {
	if !member {
		name = "" // the shared bucket of strangers
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	b, ok := l.buckets[name]
	rate := l.rate
	if name == "" {
		rate = 100
	}
	if !ok {
		b = &bucket{tokens: rate, last: now}
		l.buckets[name] = b
	}
	b.tokens = min(rate, b.tokens+now.Sub(b.last).Seconds()*rate)
	b.last = now
	if b.tokens < float64(n) {
		return false
	}
	b.tokens -= float64(n)
	return true
}

// retain drops the buckets of names that left.
func (l *limiter) retain(keep func(string) bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for n := range l.buckets {
		if n != "" && !keep(n) {
			delete(l.buckets, n)
		}
	}
}
