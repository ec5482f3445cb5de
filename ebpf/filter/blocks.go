package filter

import (
	"fmt"
	"net/netip"
	"path/filepath"
	"time"

	"github.com/cilium/ebpf"
	"golang.org/x/sys/unix"
)

// Block is one entry of the dynamic blocklist: the blocked prefix
// (BlockPrefix of the address asked for) and when the block ends.
type Block struct {
	Prefix  netip.Prefix
	Expires time.Time
}

// Block6Bits is the length of the IPv6 prefix a dynamic block covers: a
// /64, the unit the token buckets limit and that one subscriber usually
// owns (RFC 6177), so an abuser cannot step around its block by changing
// the interface identifier. xdp_filter.c deletes expired IPv6 blocks at
// this length (BLOCK6_PREFIXLEN; TestDynamicBlock keeps the two in step).
const Block6Bits = 64

// MaxDynamicBlocks is the room each source trie keeps for dynamic blocks
// besides the static lists (ACL_MAX_ENTRIES in xdp_filter.c is
// maxPrefixes + MaxDynamicBlocks; TestTrieCapacity checks it): the most
// the controller's max_blocks may allow.
const MaxDynamicBlocks = 65536

// BlockPrefix is what a dynamic block of a covers: the address itself for
// IPv4, its /64 for IPv6.
func BlockPrefix(a netip.Addr) netip.Prefix {
	a = a.Unmap().WithZone("")
	if a.Is4() {
		return netip.PrefixFrom(a, 32)
	}
	p, _ := a.Prefix(Block6Bits)
	return p
}

// monoNow is CLOCK_MONOTONIC, the clock behind bpf_ktime_get_coarse_ns (the
// coarse reading lags by at most one tick, so a block may last a tick
// longer than asked).
func monoNow() (time.Duration, error) {
	var ts unix.Timespec
	if err := unix.ClockGettime(unix.CLOCK_MONOTONIC, &ts); err != nil {
		return 0, fmt.Errorf("read the monotonic clock: %w", err)
	}
	return time.Duration(ts.Nano()), nil
}

// Block drops every packet from a (from its /64 for IPv6: BlockPrefix) for
// ttl. The entry lives in the source trie next to the static lists; once it
// expires the program applies the static lists' verdict again and deletes
// it. Blocking an address again replaces its expiry. An address on the
// allowlist stays allowed: allow wins (so does a more specific static
// entry inside a blocked /64).
func (f *Filter) Block(a netip.Addr, ttl time.Duration) error {
	if !a.IsValid() {
		return fmt.Errorf("filter: block: %v is not an address", a)
	}
	if ttl <= 0 {
		return fmt.Errorf("filter: block %v: the time to live %v must be positive", a, ttl)
	}
	now, err := monoNow()
	if err != nil {
		return fmt.Errorf("filter: block %v: %w", a, err)
	}
	p := BlockPrefix(a)
	f.mu.Lock()
	defer f.mu.Unlock()
	e := aclEntry{Action: staticVerdict(f.static, p), Expiry: uint64(now + ttl)}
	if s, ok := f.static[p]; ok {
		e.Action, e.IsStatic = s, 1
	}
	if e.Action == xdpAclActionACL_ALLOW {
		return fmt.Errorf("filter: block %v: the address is on the allowlist, which wins; remove it from the allowlist first", a)
	}
	if err := f.putEntry(p, e); err != nil {
		return fmt.Errorf("filter: block %v: %w", a, err)
	}
	if err := f.bumpGeneration(); err != nil {
		return fmt.Errorf("filter: block %v: %w", a, err)
	}
	return nil
}

// Unblock ends the dynamic block covering a (BlockPrefix); an address that
// is not blocked is not an error.
func (f *Filter) Unblock(a netip.Addr) error {
	p := BlockPrefix(a)
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.unblock(p); err != nil {
		return fmt.Errorf("filter: unblock %v: %w", a, err)
	}
	// A block of the address itself, as versions before the /64 blocks
	// pinned them, goes too.
	if h := hostPrefix(a); h != p {
		var e aclEntry
		if f.trieOf(h).Lookup(trieKey(h), &e) == nil && e.Expiry != 0 {
			if err := f.unblock(h); err != nil {
				return fmt.Errorf("filter: unblock %v: %w", a, err)
			}
		}
	}
	return nil
}

func (f *Filter) unblock(p netip.Prefix) error {
	var err error
	if s, ok := f.static[p]; ok {
		err = f.putEntry(p, aclEntry{Action: s, IsStatic: 1})
	} else {
		err = f.deleteEntry(p)
	}
	if err != nil {
		return err
	}
	return f.bumpGeneration()
}

// Blocks lists the dynamic blocks in force and removes expired ones the
// program has not met again yet.
func (f *Filter) Blocks() ([]Block, error) {
	now, err := monoNow()
	if err != nil {
		return nil, fmt.Errorf("filter: %w", err)
	}
	wall := time.Now()
	f.mu.Lock()
	defer f.mu.Unlock()
	all, err := f.entries()
	if err != nil {
		return nil, fmt.Errorf("filter: list the dynamic blocks: %w", err)
	}
	var out []Block
	for p, e := range all {
		if e.Expiry == 0 {
			continue
		}
		left := time.Duration(e.Expiry) - now
		if left <= 0 {
			if err := f.unblock(p); err != nil {
				return nil, fmt.Errorf("filter: remove the expired block of %v: %w", p.Addr(), err)
			}
			continue
		}
		out = append(out, Block{Prefix: p, Expires: wall.Add(left)})
	}
	return out, nil
}

// PinnedBlocks counts the dynamic blocks in force in the maps pinned under
// pinDir, without loading the program (for `supernode-xdp detach`, which
// says what it removes).
func PinnedBlocks(pinDir string) (int, error) {
	now, err := monoNow()
	if err != nil {
		return 0, err
	}
	n := 0
	for name, key := range map[string]any{"acl4": new(xdpLpm4Key), "acl6": new(xdpLpm6Key)} {
		m, err := ebpf.LoadPinnedMap(filepath.Join(pinDir, name), nil)
		if err != nil {
			return n, fmt.Errorf("filter: open the pinned map %s: %w", name, err)
		}
		var e aclEntry
		it := m.Iterate()
		for it.Next(key, &e) {
			if e.Expiry != 0 && time.Duration(e.Expiry) > now {
				n++
			}
		}
		err = it.Err()
		m.Close()
		if err != nil {
			return n, fmt.Errorf("filter: read the pinned map %s: %w", name, err)
		}
	}
	return n, nil
}
