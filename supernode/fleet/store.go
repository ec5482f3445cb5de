package fleet

import (
	"sync"
	"sync/atomic"
	"time"
)

// store holds the replicas this member owns: a bounded, sharded map. Expired
// entries are invisible at once and reclaimed by a sweep that visits one
// shard per tick, so no single pass holds a lock over the whole table.
type store struct {
	shards [storeShards]storeShard
	count  atomic.Int64
	max    int64
}

const storeShards = 64

type storeShard struct {
	mu sync.RWMutex
	m  map[Key]*Entry
}

// putResult says what a put did.
type putResult int

const (
	putStored putResult = iota // new or newer: stored
	putStale                   // older than what we have: ignored
	putFull                    // new key, store full: refused
)

func newStore(max int) *store {
	s := &store{max: int64(max)}
	for i := range s.shards {
		s.shards[i].m = make(map[Key]*Entry)
	}
	return s
}

func (s *store) shard(k *Key) *storeShard { return &s.shards[k[0]&(storeShards-1)] }

// put stores e unless a newer record of the key is already held (last
// writer by heard time wins, so replicas converge whatever the order in
// which replication and handoff deliver them).
func (s *store) put(e *Entry) putResult {
	sh := s.shard(&e.Key)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if old, ok := sh.m[e.Key]; ok {
		if e.Heard.Before(old.Heard) {
			return putStale
		}
		*old = *e
		return putStored
	}
	if s.count.Load() >= s.max {
		return putFull
	}
	cp := *e
	sh.m[e.Key] = &cp
	s.count.Add(1)
	return putStored
}

// get returns a copy of the live entry for k.
func (s *store) get(k *Key, now time.Time) (Entry, bool) {
	sh := s.shard(k)
	sh.mu.RLock()
	e, ok := sh.m[*k]
	var cp Entry
	if ok {
		cp = *e
	}
	sh.mu.RUnlock()
	if !ok || !now.Before(cp.Expires()) {
		return Entry{}, false
	}
	return cp, true
}

// remove deletes k if the held record is not newer than heard (a delete
// that crossed a fresher registration in flight must not win).
func (s *store) remove(k *Key, heard time.Time) bool {
	sh := s.shard(k)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if e, ok := sh.m[*k]; ok && !e.Heard.After(heard) {
		delete(sh.m, *k)
		s.count.Add(-1)
		return true
	}
	return false
}

// len is the number of entries held (expired ones until swept).
func (s *store) len() int { return int(s.count.Load()) }

// sweepShard drops the expired entries of one shard and returns how many.
func (s *store) sweepShard(i int, now time.Time) int {
	sh := &s.shards[i%storeShards]
	sh.mu.Lock()
	defer sh.mu.Unlock()
	n := 0
	for k, e := range sh.m {
		if !now.Before(e.Expires()) {
			delete(sh.m, k)
			n++
		}
	}
	s.count.Add(int64(-n))
	return n
}

// snapshot copies the live entries of one shard, for handoff.
func (s *store) snapshot(i int, now time.Time, dst []Entry) []Entry {
	sh := &s.shards[i%storeShards]
	sh.mu.RLock()
	defer sh.mu.RUnlock()
	for _, e := range sh.m {
		if now.Before(e.Expires()) {
			dst = append(dst, *e)
		}
	}
	return dst
}
