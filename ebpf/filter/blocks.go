package filter

import (
	"errors"
	"fmt"
	"net/netip"
	"time"

	"github.com/cilium/ebpf"
	"golang.org/x/sys/unix"
)

// Block is one entry of the dynamic blocklist.
type Block struct {
	Addr    netip.Addr
	Expires time.Time
}

// bootNow is CLOCK_BOOTTIME, the clock of bpf_ktime_get_boot_ns: it keeps
// counting through suspend, so a block's time to live means wall time.
func bootNow() (time.Duration, error) {
	var ts unix.Timespec
	if err := unix.ClockGettime(unix.CLOCK_BOOTTIME, &ts); err != nil {
		return 0, err
	}
	return time.Duration(ts.Nano()), nil
}

// Block drops every packet from a for ttl. The program itself ignores and
// deletes the entry once it has expired. Blocking an address again replaces
// its expiry.
func (f *Filter) Block(a netip.Addr, ttl time.Duration) error {
	if !a.IsValid() {
		return fmt.Errorf("filter: block: %v is not an address", a)
	}
	if ttl <= 0 {
		return fmt.Errorf("filter: block %v: the time to live %v must be positive", a, ttl)
	}
	now, err := bootNow()
	if err != nil {
		return fmt.Errorf("filter: block %v: read the boot clock: %w", a, err)
	}
	if err := f.objs.DynamicBlocks.Put(addrKey(a), uint64(now+ttl)); err != nil {
		return fmt.Errorf("filter: block %v: %w", a, err)
	}
	return nil
}

// Unblock removes a from the dynamic blocklist; an address that is not
// blocked is not an error.
func (f *Filter) Unblock(a netip.Addr) error {
	err := f.objs.DynamicBlocks.Delete(addrKey(a))
	if err != nil && !errors.Is(err, ebpf.ErrKeyNotExist) {
		return fmt.Errorf("filter: unblock %v: %w", a, err)
	}
	return nil
}

// Blocks lists the dynamic blocks still in force, deleting expired ones.
func (f *Filter) Blocks() ([]Block, error) {
	now, err := bootNow()
	if err != nil {
		return nil, fmt.Errorf("filter: read the boot clock: %w", err)
	}
	wall := time.Now()
	var (
		out     []Block
		expired []xdpAddr
		k       xdpAddr
		exp     uint64
	)
	it := f.objs.DynamicBlocks.Iterate()
	for it.Next(&k, &exp) {
		left := time.Duration(exp) - now
		if left <= 0 {
			expired = append(expired, k)
			continue
		}
		out = append(out, Block{Addr: netip.AddrFrom16(k.B).Unmap(), Expires: wall.Add(left)})
	}
	if err := it.Err(); err != nil {
		return nil, fmt.Errorf("filter: list the dynamic blocks: %w", err)
	}
	for _, k := range expired {
		_ = f.objs.DynamicBlocks.Delete(k) // the program may have deleted it already
	}
	return out, nil
}
