package filter

import "fmt"

// Counter is the traffic counted under one reason since the maps were
// created, summed over CPUs.
type Counter struct {
	Reason         Reason
	Packets, Bytes uint64
}

// Counters returns one Counter per reason, in the order of Reasons().
func (f *Filter) Counters() ([]Counter, error) {
	rs := Reasons()
	out := make([]Counter, 0, len(rs))
	var per []xdpCounter
	for _, r := range rs {
		if err := f.objs.Counters.Lookup(uint32(r), &per); err != nil {
			return nil, fmt.Errorf("filter: read the counter %s: %w", r, err)
		}
		c := Counter{Reason: r}
		for _, v := range per {
			c.Packets += v.Packets
			c.Bytes += v.Bytes
		}
		out = append(out, c)
	}
	return out, nil
}
