package filter

import (
	"fmt"

	"github.com/cilium/ebpf"
)

// Counter is the traffic counted under one reason since the maps were
// created, summed over CPUs.
type Counter struct {
	Reason         Reason
	Packets, Bytes uint64
}

// Counters returns one Counter per reason, in the order of Reasons(): what
// Program() counted plus what every InterfaceProgram counted.
func (f *Filter) Counters() ([]Counter, error) {
	out, err := readCounters(f.objs.Counters, nil)
	if err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, ip := range f.ifaces {
		if out, err = readCounters(ip.counters, out); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// readCounters adds the per-CPU counters of m to sum (nil: start from zero).
func readCounters(m *ebpf.Map, sum []Counter) ([]Counter, error) {
	rs := Reasons()
	if sum == nil {
		sum = make([]Counter, len(rs))
		for i, r := range rs {
			sum[i].Reason = r
		}
	}
	var per []xdpCounter
	for i, r := range rs {
		if err := m.Lookup(uint32(r), &per); err != nil {
			return nil, fmt.Errorf("filter: read the counter %s: %w", r, err)
		}
		for _, v := range per {
			sum[i].Packets += v.Packets
			sum[i].Bytes += v.Bytes
		}
	}
	return sum, nil
}
