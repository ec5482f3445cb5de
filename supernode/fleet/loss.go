package fleet

import (
	"errors"
	"math"
	"slices"
	"sync"
	"time"
)

// lostRanges remembers the members that left the view (died, left, or came
// back with an empty store under a new boot) within the last lease, with
// the view each left from. With rendezvous hashing every set of R members
// of a view is the top R for 1/C(N,R) of the keys, so once R members of one
// view are gone, the registrations they owned together are gone too: the
// handoff that would have saved them needs a surviving old owner, and
// members often fail together or before the detector has noticed the
// first. Those peers re-register within a lease; until then a lookup of
// such a key that finds nothing is not an authoritative "not found" but
// "owners unavailable, retry". (Members that left a lease apart or more
// never count together; two that left less than a lease apart count even if
// the handoff after the first had completed: the answer is then a 504
// where a 404 was right, for at most a lease.)
type lostRanges struct {
	mu    sync.Mutex
	lease time.Duration
	r     int // replicas
	gone  []departure
	share float64 // of the last record
}

type departure struct {
	name  string
	from  *Ring // the view it left
	until time.Time
}

// maxDepartures bounds what is remembered.
const maxDepartures = 64

// record notes the members of old that are not in cur (or rebooted), and
// returns the share of the key space whose owners are now all gone, if that
// grew, and who is gone.
func (l *lostRanges) record(old, cur *view, self string, R int, now time.Time) (grew float64, gone []string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.r = R
	l.prune(now)
	for name := range old.members {
		if name != self && !sameBoot(old, cur, name) {
			if len(l.gone) == maxDepartures {
				l.gone = l.gone[1:]
			}
			l.gone = append(l.gone, departure{name: name, from: old.ring, until: now.Add(l.lease)})
		}
	}
	s := l.lostShare(R)
	prev := l.share
	l.share = s
	if s <= prev {
		return 0, nil
	}
	for _, d := range l.gone {
		if !slices.Contains(gone, d.name) {
			gone = append(gone, d.name)
		}
	}
	slices.Sort(gone)
	return s, gone
}

// lostShare is the largest share of one remembered view's key space whose
// R owners are all gone.
func (l *lostRanges) lostShare(R int) float64 {
	best := 0.0
	for _, d := range l.gone {
		n := d.from.Len()
		r := min(R, n)
		k := 0
		for _, name := range d.from.Names() {
			if l.isGone(name) {
				k++
			}
		}
		if r > 0 && k >= r {
			best = math.Max(best, binom(k, r)/binom(n, r))
		}
	}
	return best
}

func (l *lostRanges) isGone(name string) bool {
	return slices.ContainsFunc(l.gone, func(d departure) bool { return d.name == name })
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
	for i < len(l.gone) && !now.Before(l.gone[i].until) {
		i++
	}
	if i > 0 {
		l.gone = l.gone[i:]
		l.share = l.lostShare(l.r)
	}
}

// lostUntil reports whether every owner of key under a view some member
// left from is gone, and until when that matters.
func (l *lostRanges) lostUntil(key *Key, R int, now time.Time) (time.Time, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.prune(now)
	for i := len(l.gone) - 1; i >= 0; i-- {
		all := true
		for _, o := range l.gone[i].from.OwnerNames(key, R) {
			all = all && l.isGone(o)
		}
		if all {
			return l.gone[len(l.gone)-1].until, true
		}
	}
	return time.Time{}, false
}

// current is the share of the key space whose owners were lost within the
// last lease.
func (l *lostRanges) current(now time.Time) float64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.prune(now)
	if len(l.gone) == 0 {
		return 0
	}
	return l.share
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
