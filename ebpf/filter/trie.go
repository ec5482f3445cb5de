package filter

import (
	"errors"
	"net/netip"

	"github.com/cilium/ebpf"
)

// The source tries hold one xdpAclEntry per prefix; these helpers hide the
// two key layouts (IPv4 and IPv6).

type aclEntry = xdpAclEntry

func (f *Filter) trieOf(p netip.Prefix) *ebpf.Map {
	if p.Addr().Is4() {
		return f.objs.Acl4
	}
	return f.objs.Acl6
}

func trieKey(p netip.Prefix) any {
	if p.Addr().Is4() {
		return xdpLpm4Key{Prefixlen: uint32(p.Bits()), Addr: p.Addr().As4()}
	}
	return xdpLpm6Key{Prefixlen: uint32(p.Bits()), Addr: p.Addr().As16()}
}

func (f *Filter) putEntry(p netip.Prefix, e aclEntry) error {
	return f.trieOf(p).Put(trieKey(p), e)
}

func (f *Filter) deleteEntry(p netip.Prefix) error {
	err := f.trieOf(p).Delete(trieKey(p))
	if errors.Is(err, ebpf.ErrKeyNotExist) {
		return nil
	}
	return err
}

// entries reads both tries.
func (f *Filter) entries() (map[netip.Prefix]aclEntry, error) {
	out := map[netip.Prefix]aclEntry{}
	var (
		k4 xdpLpm4Key
		k6 xdpLpm6Key
		e  aclEntry
	)
	it := f.objs.Acl4.Iterate()
	for it.Next(&k4, &e) {
		out[netip.PrefixFrom(netip.AddrFrom4(k4.Addr), int(k4.Prefixlen))] = e
	}
	if err := it.Err(); err != nil {
		return nil, err
	}
	it = f.objs.Acl6.Iterate()
	for it.Next(&k6, &e) {
		out[netip.PrefixFrom(netip.AddrFrom16(k6.Addr), int(k6.Prefixlen))] = e
	}
	return out, it.Err()
}

// syncTries makes the tries hold exactly want: put everything, then delete
// the rest, so no prefix is ever missing in between.
func (f *Filter) syncTries(want map[netip.Prefix]aclEntry) error {
	for p, e := range want {
		if err := f.putEntry(p, e); err != nil {
			return err
		}
	}
	have, err := f.entries()
	if err != nil {
		return err
	}
	for p := range have {
		if _, ok := want[p]; !ok {
			if err := f.deleteEntry(p); err != nil {
				return err
			}
		}
	}
	return nil
}

// bumpGeneration tells the program that the tries changed, so the verdicts
// it cached with the sources it tracks are stale. It runs after the writes
// (with f.mu held): a packet that read the old generation may have cached a
// verdict from the old tries, and it is the new generation that retires it.
func (f *Filter) bumpGeneration() error {
	var g uint64
	if err := f.objs.AclGen.Lookup(uint32(0), &g); err != nil {
		return err
	}
	g++
	if uint32(g) == 0 {
		g++ // the program caches the low 32 bits; 0 marks a cleared verdict
	}
	return f.objs.AclGen.Put(uint32(0), g)
}
