package directory

import (
	"encoding/binary"
	"errors"
	"net/netip"
	"sync"
)

// Quota bounds how many peers one network may hold in the table, so one
// source cannot fill every slot (issue #11 item 5): an IPv4 /24 (a
// customer's or a CGNAT's block), an IPv6 /64 (one LAN, RFC 7421) and an
// IPv6 /48 (one site). Zero means no limit for that prefix. The count is
// of the peers' reflexive addresses, the ones the cookie proved.
type Quota struct {
	IPv4Net24 int
	IPv6Net64 int
	IPv6Net48 int
}

// Prefix kinds a quota applies to.
const (
	prefixV4Net24 = iota
	prefixV6Net64
	prefixV6Net48
	nPrefixes
)

// QuotaError is the error of a registration refused by a quota; it names
// the prefix. errors.Is(err, ErrQuota) holds for every QuotaError.
type QuotaError struct{ Prefix string }

func (e *QuotaError) Error() string        { return "directory: too many peers from one " + e.Prefix }
func (e *QuotaError) Is(target error) bool { return target == ErrQuota }

// ErrQuota matches every QuotaError.
var ErrQuota = errors.New("directory: too many peers from the source's network")

// The quota errors, one per prefix (preallocated: Register does not allocate).
var (
	ErrQuotaIPv4Net24 = &QuotaError{"IPv4 /24"}
	ErrQuotaIPv6Net64 = &QuotaError{"IPv6 /64"}
	ErrQuotaIPv6Net48 = &QuotaError{"IPv6 /48"}
)

var quotaErrs = [nPrefixes]*QuotaError{ErrQuotaIPv4Net24, ErrQuotaIPv6Net64, ErrQuotaIPv6Net48}

// quotas counts live entries per prefix: exact counts in maps that hold
// only prefixes with at least one peer (so memory follows the table), under
// 64 lock stripes. Taken only with a shard lock held, never the reverse.
type quotas struct {
	limit   [nPrefixes]uint32
	on      bool
	stripes [quotaStripes]struct {
		mu sync.Mutex
		n  [nPrefixes]map[uint64]uint32
		_  [64]byte
	}
}

const quotaStripes = 64

func newQuotas(q Quota) *quotas {
	qs := &quotas{limit: [nPrefixes]uint32{uint32(max(q.IPv4Net24, 0)), uint32(max(q.IPv6Net64, 0)), uint32(max(q.IPv6Net48, 0))}}
	for _, l := range qs.limit {
		qs.on = qs.on || l > 0
	}
	for i := range qs.stripes {
		for k := range nPrefixes {
			qs.stripes[i].n[k] = map[uint64]uint32{}
		}
	}
	return qs
}

// prefixKey is one prefix of an address.
type prefixKey struct {
	kind int
	val  uint64
}

// prefixesOf returns the prefixes of a that have a limit.
func (q *quotas) prefixesOf(a netip.Addr) (keys [2]prefixKey, n int) {
	a = a.Unmap()
	if a.Is4() {
		b := a.As4()
		if q.limit[prefixV4Net24] > 0 {
			keys[0], n = prefixKey{prefixV4Net24, uint64(b[0])<<16 | uint64(b[1])<<8 | uint64(b[2])}, 1
		}
		return keys, n
	}
	if !a.Is6() {
		return keys, 0
	}
	b := a.As16()
	hi := binary.BigEndian.Uint64(b[:8])
	if q.limit[prefixV6Net64] > 0 {
		keys[n] = prefixKey{prefixV6Net64, hi}
		n++
	}
	if q.limit[prefixV6Net48] > 0 {
		keys[n] = prefixKey{prefixV6Net48, hi >> 16}
		n++
	}
	return keys, n
}

func (q *quotas) stripe(k prefixKey) *struct {
	mu sync.Mutex
	n  [nPrefixes]map[uint64]uint32
	_  [64]byte
} {
	return &q.stripes[(k.val*0x9E3779B97F4A7C15+uint64(k.kind))>>58]
}

// add counts one more peer in k; unless force, it refuses (false) when k is
// at its limit.
func (q *quotas) add(k prefixKey, force bool) bool {
	st := q.stripe(k)
	st.mu.Lock()
	defer st.mu.Unlock()
	c := st.n[k.kind][k.val]
	if !force && c >= q.limit[k.kind] {
		return false
	}
	st.n[k.kind][k.val] = c + 1
	return true
}

func (q *quotas) sub(k prefixKey) {
	st := q.stripe(k)
	st.mu.Lock()
	defer st.mu.Unlock()
	switch c := st.n[k.kind][k.val]; c {
	case 0:
	case 1:
		delete(st.n[k.kind], k.val)
	default:
		st.n[k.kind][k.val] = c - 1
	}
}

// acquire counts a peer at a, or refuses with the QuotaError of the first
// prefix at its limit (counting nothing).
func (q *quotas) acquire(a netip.Addr) error {
	if !q.on {
		return nil
	}
	keys, n := q.prefixesOf(a)
	for i := range n {
		if !q.add(keys[i], false) {
			for j := range i {
				q.sub(keys[j])
			}
			return quotaErrs[keys[i].kind]
		}
	}
	return nil
}

// release uncounts a peer at a.
func (q *quotas) release(a netip.Addr) {
	if !q.on {
		return
	}
	keys, n := q.prefixesOf(a)
	for i := range n {
		q.sub(keys[i])
	}
}

// move recounts a peer that moved from old to new: prefixes they share
// keep their count, new ones are checked against their limits unless force
// (a refresh the server already allowed).
func (q *quotas) move(old, new netip.Addr, force bool) error {
	if !q.on {
		return nil
	}
	ok, nk := q.prefixesOf(old)
	nw, nn := q.prefixesOf(new)
	has := func(keys [2]prefixKey, n int, k prefixKey) bool {
		for i := range n {
			if keys[i] == k {
				return true
			}
		}
		return false
	}
	var added [2]prefixKey
	na := 0
	for i := range nn {
		if has(ok, nk, nw[i]) {
			continue
		}
		if !q.add(nw[i], force) {
			for j := range na {
				q.sub(added[j])
			}
			return quotaErrs[nw[i].kind]
		}
		added[na] = nw[i]
		na++
	}
	for i := range nk {
		if !has(nw, nn, ok[i]) {
			q.sub(ok[i])
		}
	}
	return nil
}
