package fleet

import (
	"errors"
	"math"
	"slices"
	"sync"
	"time"
)

// lostRanges remembers membership changes that took every owner of part of
// the key space with them (R members gone between two settled views: with
// rendezvous hashing every set of R members is the top R for 1/C(N,R) of
// the keys). Their registrations are gone; the peers re-register within a
// lease. Until then a lookup of such a key that finds nothing is not an
// authoritative "not found" but "owners unavailable, retry".
type lostRanges struct {
	mu     sync.Mutex
	lease  time.Duration
	losses []loss
}

type loss struct {
	ring  *Ring // the view whose owners were lost
	lost  map[string]bool
	share float64 // fraction of the key space whose owners are all in lost
	until time.Time
}

// maxLosses bounds what is remembered; a fleet losing more than this many
// owner sets within one lease has bigger problems than precise answers.
const maxLosses = 16

// record compares the last settled view with the new one and returns the
// share of the key space that lost every owner (0: none).
func (l *lostRanges) record(old, cur *view, self string, R int, now time.Time) (float64, []string) {
	var gone []string
	for name := range old.members {
		if name != self && !sameBoot(old, cur, name) {
			gone = append(gone, name)
		}
	}
	r := min(R, old.ring.Len())
	if r == 0 || len(gone) < r {
		return 0, nil
	}
	slices.Sort(gone)
	lost := make(map[string]bool, len(gone))
	for _, g := range gone {
		lost[g] = true
	}
	share := binom(len(gone), r) / binom(old.ring.Len(), r)
	l.mu.Lock()
	defer l.mu.Unlock()
	l.prune(now)
	if len(l.losses) == maxLosses {
		l.losses = l.losses[1:]
	}
	l.losses = append(l.losses, loss{ring: old.ring, lost: lost, share: share, until: now.Add(l.lease)})
	return share, gone
}

func binom(n, k int) float64 {
	r := 1.0
	for i := 1; i <= k; i++ {
		r = r * float64(n-k+i) / float64(i)
	}
	return r
}

func (l *lostRanges) prune(now time.Time) {
	i := 0
	for i < len(l.losses) && !now.Before(l.losses[i].until) {
		i++
	}
	l.losses = l.losses[i:]
}

// lostUntil reports whether every owner of key under some recent view was
// lost, and until when that matters.
func (l *lostRanges) lostUntil(key *Key, R int, now time.Time) (time.Time, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.prune(now)
	for i := len(l.losses) - 1; i >= 0; i-- {
		ls := &l.losses[i]
		all := true
		for _, o := range ls.ring.OwnerNames(key, R) {
			all = all && ls.lost[o]
		}
		if all {
			return ls.until, true
		}
	}
	return time.Time{}, false
}

// share is the fraction of the key space whose owners were lost within the
// last lease (an upper bound when losses overlap).
func (l *lostRanges) share(now time.Time) float64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.prune(now)
	s := 0.0
	for _, ls := range l.losses {
		s += ls.share
	}
	return math.Min(s, 1)
}

// UnavailableError is Lookup's error when no owner of the key could answer,
// or every owner was lost recently (ErrUnavailable matches it); RetryAfter
// is when asking again is worth it.
type UnavailableError struct{ RetryAfter time.Duration }

func (e *UnavailableError) Error() string { return ErrUnavailable.Error() }

func (e *UnavailableError) Is(target error) bool { return target == ErrUnavailable }

// RetryAfter is the hint carried by an UnavailableError (0 if err is none).
func RetryAfter(err error) time.Duration {
	var ue *UnavailableError
	if errors.As(err, &ue) {
		return ue.RetryAfter
	}
	return 0
}
