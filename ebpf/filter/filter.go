// Package filter is the appliance's XDP filter: the C program xdp_filter.c
// (compiled by bpf2go) and the Go code that loads it, writes its
// configuration into its maps and reads its counters back.
//
// The controller (ebpf/controller) attaches Program() to the uplinks; this
// package never attaches anything.
package filter

import (
	"errors"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/cilium/ebpf"
)

// Filter is the loaded program and its maps.
type Filter struct {
	objs   xdpObjects
	pinDir string

	mu     sync.Mutex                 // serialises writers of the source tries
	static map[netip.Prefix]aclAction // the merged static lists in the tries
	ifaces map[int]ifaceProg          // InterfaceProgram's instances by ifindex
}

// Open loads the program and its maps. If pinDir != "" maps are pinned there
// and reused when already pinned (state survives controller restarts and
// upgrades). A pinned map whose layout no longer matches the program (an
// upgrade changed it) is replaced, losing only that map's state.
func Open(pinDir string) (*Filter, error) {
	spec, err := loadXdp()
	if err != nil {
		return nil, fmt.Errorf("filter: %w", err)
	}
	opts := &ebpf.CollectionOptions{}
	if pinDir != "" {
		if err := os.MkdirAll(pinDir, 0o700); err != nil {
			return nil, fmt.Errorf("filter: create the pin directory: %w", err)
		}
		opts.Maps.PinPath = pinDir
		for name, ms := range spec.Maps {
			if constant(name) {
				continue // read-only data (the CRC table): nothing to keep
			}
			ms.Pinning = ebpf.PinByName
			if err := dropIncompatible(filepath.Join(pinDir, name), ms); err != nil {
				return nil, err
			}
		}
	}
	f := &Filter{pinDir: pinDir}
	if err := spec.LoadAndAssign(&f.objs, opts); err != nil {
		var ve *ebpf.VerifierError
		if errors.As(err, &ve) {
			return nil, fmt.Errorf("filter: the kernel's verifier rejected the program: %+v", ve)
		}
		if pinDir != "" {
			return nil, fmt.Errorf("filter: load the program with maps pinned in %s (is it on a bpf file system, mounted with `mount -t bpf bpf /sys/fs/bpf`?): %w", pinDir, err)
		}
		return nil, fmt.Errorf("filter: load the program (needs root or CAP_BPF, CAP_NET_ADMIN and CAP_PERFMON): %w", err)
	}
	// Reused tries already hold a configuration: learn its static part,
	// so Block and Unblock are right before the first Configure.
	all, err := f.entries()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("filter: read the source lists: %w", err)
	}
	f.static = map[netip.Prefix]aclAction{}
	for p, e := range all {
		if e.IsStatic != 0 {
			f.static[p] = e.Action
		}
	}
	// Reused token buckets may carry verdicts cached by an older program
	// version: retire them, the trie answers once per source.
	if err := f.bumpGeneration(); err != nil {
		f.Close()
		return nil, fmt.Errorf("filter: retire the cached source verdicts: %w", err)
	}
	return f, nil
}

// dropIncompatible unpins the map at path if its layout differs from ms.
func dropIncompatible(path string, ms *ebpf.MapSpec) error {
	m, err := ebpf.LoadPinnedMap(path, nil)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("filter: open the pinned map %s: %w", path, err)
	}
	defer m.Close()
	if ms.Compatible(m) == nil {
		return nil
	}
	if err := m.Unpin(); err != nil {
		return fmt.Errorf("filter: replace the outdated pinned map %s: %w", path, err)
	}
	return nil
}

// Program is the XDP program to attach.
func (f *Filter) Program() *ebpf.Program { return f.objs.XdpFilter }

// Close releases the programs and the maps; pinned maps stay pinned.
func (f *Filter) Close() error { return errors.Join(f.closeInterfaces(), f.objs.Close()) }

// Unpin removes the pinned maps (uninstall); the filter stays usable until
// Close.
func (f *Filter) Unpin() error {
	if f.pinDir == "" {
		return nil
	}
	var errs []error
	maps := f.maps()
	f.mu.Lock()
	for _, ip := range f.ifaces {
		maps = append(maps, ip.counters)
	}
	f.mu.Unlock()
	for _, m := range maps {
		if m.IsPinned() {
			errs = append(errs, m.Unpin())
		}
	}
	return errors.Join(errs...)
}

func (f *Filter) maps() []*ebpf.Map {
	o := &f.objs
	return []*ebpf.Map{o.Counters, o.Config, o.Ports, o.Acl4, o.Acl6, o.AclGen, o.Sources, o.TrackBudget, o.Clock}
}

// constant reports whether the map named name holds the program's
// read-only data (.rodata: the CRC-32 table of the Binding fast path). The
// kernel freezes it after loading, so it is neither pinned nor shared: every
// program instance gets its own copy of the same bytes.
func constant(name string) bool { return strings.HasPrefix(name, ".") }
