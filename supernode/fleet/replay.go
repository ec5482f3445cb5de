package fleet

import "sync"

// replayWindow remembers, per member, which data-channel sequence numbers
// of its current boot were already accepted: the highest one and a bitmap
// of the windowSize below it (RFC 6479's sliding window, as IPsec and
// WireGuard use). A datagram is accepted once; one older than the window is
// refused. Senders number datagrams from several goroutines and receivers
// read with several, so a little reordering is normal: the window covers it.
type replayWindow struct {
	mu      sync.Mutex
	members map[string]*seqWindow
}

const windowSize = 4096 // bits; a multiple of 64

type seqWindow struct {
	boot uint64
	top  uint64
	bits [windowSize / 64]uint64
}

func newReplayWindow() *replayWindow { return &replayWindow{members: make(map[string]*seqWindow)} }

// accept reports whether seq from member name in boot is new, and records it.
func (r *replayWindow) accept(name string, boot, seq uint64) bool {
	if seq == 0 {
		return false
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	w := r.members[name]
	if w == nil || w.boot != boot {
		w = &seqWindow{boot: boot}
		r.members[name] = w
	}
	if seq+windowSize <= w.top {
		return false // older than the window
	}
	if seq > w.top {
		for i, n := w.top+1, 0; i <= seq && n < windowSize; i, n = i+1, n+1 {
			w.bits[(i%windowSize)/64] &^= 1 << (i % 64)
		}
		w.top = seq
	}
	word, bit := &w.bits[(seq%windowSize)/64], uint64(1)<<(seq%64)
	if *word&bit != 0 {
		return false
	}
	*word |= bit
	return true
}

// retain forgets the members that left.
func (r *replayWindow) retain(keep func(string) bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for name := range r.members {
		if !keep(name) {
			delete(r.members, name)
		}
	}
}
