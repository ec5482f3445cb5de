package filter

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/cilium/ebpf"
)

// Per-interface counters. Counting by interface inside the program would
// cost a hash lookup per packet (ingress_ifindex is unbounded); instead each
// interface gets its own instance of the program, sharing every policy map
// (config, ports, source tries and their generation, token buckets, clock)
// with the Filter but counting into a counters map of its own. Zero cost
// per packet, no collisions.

type ifaceProg struct {
	prog     *ebpf.Program
	counters *ebpf.Map
}

// InterfaceProgram returns the program to attach to the interface with the
// given index: the same filter, with counters of its own that
// InterfaceCounters reads and Counters includes. Repeated calls return the
// same program. With a pin directory the counters are pinned as
// counters_<ifindex> (bpffs does not survive a reboot, where indexes are
// handed out anew).
func (f *Filter) InterfaceProgram(ifindex int) (*ebpf.Program, error) {
	if ifindex <= 0 {
		return nil, fmt.Errorf("filter: interface index %d is not valid", ifindex)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if ip, ok := f.ifaces[ifindex]; ok {
		return ip.prog, nil
	}
	spec, err := loadXdp()
	if err != nil {
		return nil, fmt.Errorf("filter: %w", err)
	}
	cs := spec.Maps[xdpMapCounters].Copy()
	cs.Name = fmt.Sprintf("counters_%d", ifindex)
	var counters *ebpf.Map
	if f.pinDir != "" {
		cs.Pinning = ebpf.PinByName
		if err := dropIncompatible(filepath.Join(f.pinDir, cs.Name), cs); err != nil {
			return nil, err
		}
		counters, err = ebpf.NewMapWithOptions(cs, ebpf.MapOptions{PinPath: f.pinDir})
	} else {
		counters, err = ebpf.NewMap(cs)
	}
	if err != nil {
		return nil, fmt.Errorf("filter: create the counters of interface %d: %w", ifindex, err)
	}
	o := &f.objs
	repl := map[string]*ebpf.Map{
		xdpMapCounters: counters, xdpMapConfig: o.Config, xdpMapPorts: o.Ports,
		xdpMapAcl4: o.Acl4, xdpMapAcl6: o.Acl6, xdpMapAclGen: o.AclGen, xdpMapSources: o.Sources,
		xdpMapTrackBudget: o.TrackBudget, xdpMapClock: o.Clock,
	}
	shared := 0
	for name := range spec.Maps {
		if !constant(name) {
			shared++
		}
	}
	if len(repl) != shared {
		counters.Close()
		return nil, fmt.Errorf("filter: the program has %d maps, %d shared: update InterfaceProgram", len(spec.Maps), len(repl))
	}
	var progs xdpPrograms
	if err := spec.LoadAndAssign(&progs, &ebpf.CollectionOptions{MapReplacements: repl}); err != nil {
		counters.Close()
		return nil, fmt.Errorf("filter: load the program for interface %d: %w", ifindex, err)
	}
	if f.ifaces == nil {
		f.ifaces = map[int]ifaceProg{}
	}
	f.ifaces[ifindex] = ifaceProg{prog: progs.XdpFilter, counters: counters}
	return progs.XdpFilter, nil
}

// InterfaceCounters returns the counters of the program InterfaceProgram
// made for ifindex, one per reason in the order of Reasons().
func (f *Filter) InterfaceCounters(ifindex int) ([]Counter, error) {
	f.mu.Lock()
	ip, ok := f.ifaces[ifindex]
	f.mu.Unlock()
	if !ok {
		return nil, fmt.Errorf("filter: no program was made for interface %d; call InterfaceProgram first", ifindex)
	}
	return readCounters(ip.counters, nil)
}

// ReleaseInterface closes the program and counters of an interface that
// is gone (its pinned counters are removed too, also when this Filter never
// made a program for it: an earlier run may have). Counters no longer
// include what it counted.
func (f *Filter) ReleaseInterface(ifindex int) error {
	f.mu.Lock()
	ip, ok := f.ifaces[ifindex]
	delete(f.ifaces, ifindex)
	f.mu.Unlock()
	if !ok {
		if f.pinDir == "" || ifindex <= 0 {
			return nil
		}
		err := os.Remove(filepath.Join(f.pinDir, fmt.Sprintf("counters_%d", ifindex)))
		if errors.Is(err, os.ErrNotExist) {
			err = nil
		}
		return err
	}
	var errs []error
	if ip.counters.IsPinned() {
		errs = append(errs, ip.counters.Unpin())
	}
	errs = append(errs, ip.prog.Close(), ip.counters.Close())
	return errors.Join(errs...)
}

func (f *Filter) closeInterfaces() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	var errs []error
	for _, ip := range f.ifaces {
		errs = append(errs, ip.prog.Close(), ip.counters.Close())
	}
	f.ifaces = nil
	return errors.Join(errs...)
}
