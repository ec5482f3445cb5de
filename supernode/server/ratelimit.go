package server

import (
	"hash/maphash"
	"net/netip"
	"sync"
	"time"
)

// limiter is a per-source token bucket in a fixed hashed table: bounded
// memory whatever the number of sources (a spoofing flood cannot grow it),
// no allocation, no cleanup pass. Two sources that share a slot share a
// bucket; with 65536 slots and a seeded hash that is rare and cannot be
// aimed. IPv6 sources are keyed by their /64, since one host usually owns a
// whole /64 (RFC 7421).
//
// The same slot counts the source's dropped datagrams within a window, which
// drives the abuse report.
type limiter struct {
	rate    float64 // tokens per nanosecond
	burst   float64
	thresh  uint32
	window  int64
	stripes [limiterStripes]struct {
		mu    sync.Mutex
		slots [limiterSlots / limiterStripes]bucket
		_     [64]byte
	}
}

const (
	limiterSlots   = 1 << 16
	limiterStripes = 64
)

type bucket struct {
	tokens     float64
	last       int64 // unix ns of the last refill
	bad        uint32
	badSince   int64
	reportedAt int64
}

var limiterSeed = maphash.MakeSeed()

func newLimiter(rate float64, burst int, thresh int, window time.Duration) *limiter {
	return &limiter{rate: rate / 1e9, burst: float64(burst), thresh: uint32(thresh), window: int64(window)}
}

func (l *limiter) lock(a netip.Addr) (*bucket, *sync.Mutex) {
	a = a.Unmap()
	var k [16]byte
	if a.Is4() {
		b := a.As4()
		copy(k[:], b[:])
	} else {
		b := a.As16()
		copy(k[:8], b[:8])
		k[15] = 6
	}
	h := maphash.Comparable(limiterSeed, k)
	st := &l.stripes[h%limiterStripes]
	st.mu.Lock()
	return &st.slots[(h/limiterStripes)%uint64(len(st.slots))], &st.mu
}

// allow takes one token for a; false means over the rate.
func (l *limiter) allow(a netip.Addr, now int64) bool {
	if l.rate == 0 {
		return true // rate_limit = 0: benchmarks, or a filter in front does it
	}
	b, mu := l.lock(a)
	defer mu.Unlock()
	return take(&b.tokens, &b.last, l.rate, l.burst, now)
}

// take refills a token bucket (rate per nanosecond, up to burst; a bucket
// never used starts full) and takes one token if there is one.
func take(tokens *float64, last *int64, rate, burst float64, now int64) bool {
	if *last == 0 {
		*tokens = burst
	} else if dt := now - *last; dt > 0 {
		*tokens = min(burst, *tokens+float64(dt)*rate)
	}
	*last = now
	if *tokens < 1 {
		return false
	}
	*tokens--
	return true
}

// bad counts one dropped datagram from a and reports true once the source
// crosses the threshold within the window (then not again for ttl).
func (l *limiter) bad(a netip.Addr, now int64, ttl time.Duration) bool {
	b, mu := l.lock(a)
	defer mu.Unlock()
	if now-b.badSince > l.window {
		b.bad, b.badSince = 0, now
	}
	b.bad++
	if b.bad < l.thresh || now-b.reportedAt < int64(ttl) && b.reportedAt != 0 {
		return false
	}
	b.reportedAt = now
	b.bad = 0
	return true
}
