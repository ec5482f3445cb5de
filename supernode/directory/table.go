package directory

import (
	"encoding/binary"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"
)

const (
	nShards   = 256 // lock striping: contention is ~1/256 with many cores
	chunkBits = 8   // records are allocated 256 at a time per shard
	chunkSize = 1 << chunkBits
	nilIndex  = ^uint32(0)
)

// addr is a compact netip.AddrPort (netip.Addr carries a zone pointer and is
// 24 bytes; peers never have zones). IPv4 is stored v4-mapped.
type addr struct {
	ip   [16]byte
	port [2]byte
}

func packAddr(ap netip.AddrPort) (a addr) {
	a.ip = ap.Addr().As16()
	binary.BigEndian.PutUint16(a.port[:], ap.Port())
	return a
}

func (a *addr) unpack() netip.AddrPort {
	return netip.AddrPortFrom(netip.AddrFrom16(a.ip).Unmap(), binary.BigEndian.Uint16(a.port[:]))
}

// record is one peer, 168 bytes including its key (the index holds only
// record numbers).
type record struct {
	key     Key
	refl    addr
	local   [MaxLocal]addr
	nlocal  uint8
	via     uint16
	session [16]byte
	stamp   uint64
	expiry  uint32 // seconds since Table.epoch
	prev    uint32 // timing-wheel list links (record indexes)
	next    uint32
}

type shard struct {
	mu     sync.Mutex
	index  index
	chunks [][]record
	free   uint32 // free list through record.next
	used   uint32 // records handed out from chunks so far
	wheel  []uint32
	reaped uint32 // last second whose wheel slot was processed
}

// Table is the in-memory Store: 256 shards, each an open-addressing index of
// record numbers, a chunked record slab and a timing wheel with one-second
// slots.
// Expiry visits only the records whose lease ends in the elapsed seconds
// (no table scan); a lookup of an entry past its lease but not yet reaped
// misses.
type Table struct {
	max      int64
	count    atomic.Int64
	expired  atomic.Uint64
	epoch    time.Time
	now      func() time.Time
	wheelLen uint32
	quotas   *quotas
	shards   [nShards]shard
}

// Config sizes a Table.
type Config struct {
	MaxPeers int
	MaxLease time.Duration    // longest lease ever granted; sizes the wheel
	Quota    Quota            // peers per network; zero values: no limit
	Now      func() time.Time // clock; time.Now if nil
}

// New returns an empty table.
func New(cfg Config) *Table {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	w := uint32(4)
	for time.Duration(w)*time.Second < cfg.MaxLease+2*time.Second {
		w *= 2
	}
	t := &Table{max: int64(cfg.MaxPeers), epoch: cfg.Now(), now: cfg.Now, wheelLen: w, quotas: newQuotas(cfg.Quota)}
	for i := range t.shards {
		s := &t.shards[i]
		s.free = nilIndex
		s.wheel = make([]uint32, w)
		for j := range s.wheel {
			s.wheel[j] = nilIndex
		}
	}
	return t
}

// shardOf picks the shard from the top bits of the seeded hash; the low bits
// pick the index slot.
func (t *Table) shardOf(id *Key) (*shard, uint64) {
	h := hashKey(id)
	return &t.shards[h>>56], h
}

// second is the table's clock in whole seconds since epoch.
func (t *Table) second(now time.Time) uint32 { return uint32(now.Sub(t.epoch) / time.Second) }

func (t *Table) expiryFor(now time.Time, lease time.Duration) uint32 {
	return uint32((now.Sub(t.epoch) + lease + time.Second - 1) / time.Second)
}

func (s *shard) rec(i uint32) *record { return &s.chunks[i>>chunkBits][i&(chunkSize-1)] }

func (s *shard) alloc() uint32 {
	if s.free != nilIndex {
		i := s.free
		s.free = s.rec(i).next
		return i
	}
	if s.used == uint32(len(s.chunks))*chunkSize {
		s.chunks = append(s.chunks, make([]record, chunkSize))
	}
	i := s.used
	s.used++
	return i
}

func (s *shard) link(t *Table, i uint32) {
	r := s.rec(i)
	slot := &s.wheel[r.expiry&(t.wheelLen-1)]
	r.prev, r.next = nilIndex, *slot
	if *slot != nilIndex {
		s.rec(*slot).prev = i
	}
	*slot = i
}

func (s *shard) unlink(t *Table, i uint32) {
	r := s.rec(i)
	if r.prev != nilIndex {
		s.rec(r.prev).next = r.next
	} else {
		s.wheel[r.expiry&(t.wheelLen-1)] = r.next
	}
	if r.next != nilIndex {
		s.rec(r.next).prev = r.prev
	}
}

func (s *shard) release(t *Table, i uint32) {
	s.unlink(t, i)
	r := s.rec(i)
	s.index.del(s, &r.key, hashKey(&r.key))
	t.quotas.release(r.refl.unpack().Addr())
	*r = record{next: s.free}
	s.free = i
	t.count.Add(-1)
}

// Register implements Store.
func (t *Table) Register(id Key, p *Peer, lease time.Duration) error {
	now := t.now()
	s, h := t.shardOf(&id)
	s.mu.Lock()
	defer s.mu.Unlock()
	i, ok := s.index.get(s, &id, h)
	if ok && t.live(s.rec(i), now) {
		if p.Stamp <= s.rec(i).stamp {
			return ErrReplay
		}
		if err := t.quotas.move(s.rec(i).refl.unpack().Addr(), p.Reflexive.Addr(), false); err != nil {
			return err
		}
		s.unlink(t, i)
	} else {
		if ok {
			// Past its lease but not yet reaped: reuse the slot.
			if err := t.quotas.move(s.rec(i).refl.unpack().Addr(), p.Reflexive.Addr(), false); err != nil {
				return err
			}
			s.unlink(t, i)
		} else {
			if err := t.quotas.acquire(p.Reflexive.Addr()); err != nil {
				return err
			}
			if t.count.Add(1) > t.max {
				t.count.Add(-1)
				t.quotas.release(p.Reflexive.Addr())
				return ErrFull
			}
			i = s.alloc()
			s.rec(i).key = id
			s.index.put(s, &id, h, i)
		}
	}
	r := s.rec(i)
	r.key = id
	r.refl = packAddr(p.Reflexive)
	r.nlocal = min(p.NLocal, MaxLocal)
	for j := range r.local {
		r.local[j] = addr{}
		if j < int(r.nlocal) {
			r.local[j] = packAddr(p.Local[j])
		}
	}
	r.via = p.Via
	r.session = p.Session
	r.stamp = p.Stamp
	r.expiry = t.expiryFor(now, lease)
	s.link(t, i)
	return nil
}

func (t *Table) live(r *record, now time.Time) bool {
	return now.Sub(t.epoch) < time.Duration(r.expiry)*time.Second
}

// Refresh implements Store.
func (t *Table) Refresh(id Key, from netip.AddrPort, stamp uint64, via uint16, lease time.Duration) error {
	now := t.now()
	s, h := t.shardOf(&id)
	s.mu.Lock()
	defer s.mu.Unlock()
	i, ok := s.index.get(s, &id, h)
	if !ok || !t.live(s.rec(i), now) {
		return ErrNotFound
	}
	r := s.rec(i)
	if stamp <= r.stamp {
		return ErrReplay
	}
	r.stamp = stamp
	if nr := packAddr(from); nr != r.refl {
		// The server refreshes only from the registered address; another
		// Store user may move a peer, which moves its quota count too.
		t.quotas.move(r.refl.unpack().Addr(), from.Addr(), true)
		r.refl = nr
	}
	r.via = via
	if e := t.expiryFor(now, lease); e != r.expiry {
		s.unlink(t, i)
		r.expiry = e
		s.link(t, i)
	}
	return nil
}

// Lookup implements Store.
func (t *Table) Lookup(id Key, p *Peer) bool {
	now := t.now()
	s, h := t.shardOf(&id)
	s.mu.Lock()
	defer s.mu.Unlock()
	i, ok := s.index.get(s, &id, h)
	if !ok {
		return false
	}
	r := s.rec(i)
	if !t.live(r, now) {
		return false
	}
	p.Reflexive = r.refl.unpack()
	p.NLocal = r.nlocal
	for j := range p.Local {
		p.Local[j] = netip.AddrPort{}
		if j < int(r.nlocal) {
			p.Local[j] = r.local[j].unpack()
		}
	}
	p.Session = r.session
	p.Stamp = r.stamp
	p.Via = r.via
	p.Expires = t.epoch.Add(time.Duration(r.expiry) * time.Second)
	return true
}

// Remove implements Store.
func (t *Table) Remove(id Key) bool {
	s, h := t.shardOf(&id)
	s.mu.Lock()
	defer s.mu.Unlock()
	i, ok := s.index.get(s, &id, h)
	if !ok {
		return false
	}
	s.release(t, i)
	return true
}

// Len implements Store.
func (t *Table) Len() int { return int(t.count.Load()) }

// Expired is the number of leases that ran out (not counting Remove).
func (t *Table) Expired() uint64 { return t.expired.Load() }

// Expire reaps every entry whose lease ended by now, visiting only the wheel
// slots of the seconds elapsed since the last call. Call it about once a
// second; it returns how many entries it removed.
func (t *Table) Expire(now time.Time) int {
	sec := t.second(now)
	n := 0
	for k := range t.shards {
		s := &t.shards[k]
		s.mu.Lock()
		// Catch up at most one wheel turn: older slots were covered by it.
		from := s.reaped + 1
		if sec >= t.wheelLen && from < sec-t.wheelLen+1 {
			from = sec - t.wheelLen + 1
		}
		for x := from; x <= sec && x != 0; x++ {
			i := s.wheel[x&(t.wheelLen-1)]
			for i != nilIndex {
				r := s.rec(i)
				next := r.next
				if r.expiry <= sec {
					s.release(t, i)
					n++
				}
				i = next
			}
		}
		if sec > s.reaped {
			s.reaped = sec
		}
		s.mu.Unlock()
	}
	t.expired.Add(uint64(n))
	return n
}
