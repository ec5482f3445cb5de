package loadgen

import "time"

// histogram counts latencies in 1 µs buckets up to histMax; slower answers
// land in the last bucket. Fixed buckets keep recording allocation-free and
// make merging the per-socket histograms a plain sum.
type histogram struct {
	buckets []uint64
	max     time.Duration
}

const histMax = 100 * time.Millisecond

func newHistogram() *histogram {
	return &histogram{buckets: make([]uint64, histMax/time.Microsecond+1)}
}

func (h *histogram) record(d time.Duration) {
	if d > h.max {
		h.max = d
	}
	i := int(d / time.Microsecond)
	if i < 0 {
		i = 0
	}
	if i >= len(h.buckets) {
		i = len(h.buckets) - 1
	}
	h.buckets[i]++
}

func (h *histogram) merge(o *histogram) {
	for i, n := range o.buckets {
		h.buckets[i] += n
	}
	if o.max > h.max {
		h.max = o.max
	}
}

// quantile returns the upper edge of the bucket holding the q-th latency
// (0 < q <= 1), so a reported p99 of 40µs means 99% answered within 40µs.
func (h *histogram) quantile(q float64) time.Duration {
	var total uint64
	for _, n := range h.buckets {
		total += n
	}
	if total == 0 {
		return 0
	}
	rank := uint64(q*float64(total) + 0.5)
	if rank < 1 {
		rank = 1
	}
	var seen uint64
	for i, n := range h.buckets {
		seen += n
		if seen >= rank {
			return time.Duration(i+1) * time.Microsecond
		}
	}
	return h.max
}
