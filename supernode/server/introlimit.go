package server

import (
	"hash/maphash"
	"sync"
	"time"

	"github.com/supernode-appliance/appliance/supernode/wire"
)

// introLimiter bounds introductions: every lookup that finds its target
// makes the target send punching datagrams to the requester's candidates,
// so one token bucket per requester (a key cannot make many targets punch)
// and one per target (many keys cannot make one target punch all the time)
// must both have a token. Like the source limiter, each is a fixed hashed
// table: bounded memory, no allocation, a seeded hash nobody can aim.
// Two keys that share a slot share a budget; with 65536 slots and a
// million peers a slot holds ~15 keys, of which rarely more than one looks
// up or is looked up at the same moment.
type introLimiter struct {
	rate, burst float64 // tokens per nanosecond; bucket depth
	tables      [nLimited]idBuckets
}

const (
	idSlots   = 1 << 16
	idStripes = 64
)

type idBuckets struct {
	seed    maphash.Seed
	stripes [idStripes]struct {
		mu    sync.Mutex
		slots [idSlots / idStripes]idBucket
		_     [64]byte
	}
}

type idBucket struct {
	tokens float64
	last   int64
}

func newIntroLimiter(rate float64, burst int) *introLimiter {
	l := &introLimiter{rate: rate / float64(time.Second), burst: float64(burst)}
	for i := range l.tables {
		l.tables[i].seed = maphash.MakeSeed()
	}
	return l
}

// allow takes a token from the requester's bucket, then from the target's;
// on refusal it says whose budget was empty.
func (l *introLimiter) allow(requester, target wire.PeerID, now int64) (by int, ok bool) {
	if l.rate == 0 {
		return 0, true // introduce_rate = 0: no limit
	}
	if !l.tables[limitedRequester].take(&requester, l.rate, l.burst, now) {
		return limitedRequester, false
	}
	if !l.tables[limitedTarget].take(&target, l.rate, l.burst, now) {
		return limitedTarget, false
	}
	return 0, true
}

func (t *idBuckets) take(id *wire.PeerID, rate, burst float64, now int64) bool {
	h := maphash.Bytes(t.seed, id[:])
	st := &t.stripes[h%idStripes]
	st.mu.Lock()
	defer st.mu.Unlock()
	b := &st.slots[(h/idStripes)%uint64(len(st.slots))]
	return take(&b.tokens, &b.last, rate, burst, now)
}
