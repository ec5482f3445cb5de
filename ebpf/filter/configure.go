package filter

import (
	"errors"
	"fmt"
	"net/netip"
	"time"

	"github.com/cilium/ebpf"
)

// Configure validates c and writes it into the maps, replacing what was
// there. Entries are overwritten in place and stale ones deleted last, so a
// packet arriving meanwhile sees either the old or the new rule for a given
// prefix or port, never a gap in the lists.
func (f *Filter) Configure(c Config) error {
	if err := c.Validate(); err != nil {
		return err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.writePorts(c); err != nil {
		return fmt.Errorf("filter: write the port policy: %w", err)
	}
	if err := f.writeACL(c); err != nil {
		return fmt.Errorf("filter: write the source lists: %w", err)
	}
	if err := f.objs.Config.Put(uint32(0), settingsOf(c)); err != nil {
		return fmt.Errorf("filter: write the settings: %w", err)
	}
	return nil
}

func settingsOf(c Config) xdpSettings {
	s := xdpSettings{
		EphemeralFirst:  c.EphemeralFirst,
		EphemeralLast:   c.EphemeralLast,
		StunMethodFirst: c.STUNMethodFirst,
		StunMethodLast:  c.STUNMethodLast,
		Track:           bucketOf(c.TrackRate, c.TrackBurst),
	}
	if c.STUNMethodLast == 0 { // no custom methods: an empty range
		s.StunMethodFirst, s.StunMethodLast = 1, 0
	}
	if c.DropServiceFragments {
		s.Flags |= xdpSettingFlagSETTING_DROP_SERVICE_FRAGMENTS
	}
	if c.BindingFastPath {
		s.Flags |= xdpSettingFlagSETTING_BINDING_FAST_PATH
	}
	// Indexes follow enum rate_class.
	s.Rate[0] = bucketOf(c.SYNRate, c.SYNBurst)
	s.Rate[1] = bucketOf(c.UDPRate, c.UDPBurst)
	s.Rate[2] = bucketOf(c.ICMPRate, c.ICMPBurst)
	return s
}

// bucketOf precomputes a token bucket so the program never divides by a
// rate: a token every 1e9/rate ns, full after burst tokens' worth.
func bucketOf(rate, burst uint32) xdpBucketParam {
	if rate == 0 {
		return xdpBucketParam{}
	}
	per := uint64(1e9) / uint64(rate)
	return xdpBucketParam{NsPerToken: per, FillNs: per * uint64(burst), Burst: burst}
}

func (f *Filter) writePorts(c Config) error {
	vals := make([]xdpPortFlag, 65536)
	for _, p := range c.UDPPorts {
		vals[p] |= xdpPortFlagPORT_UDP
	}
	for _, p := range c.TCPPorts {
		vals[p] |= xdpPortFlagPORT_TCP
	}
	for _, p := range c.STUNPorts {
		vals[p] |= xdpPortFlagPORT_STUN
	}
	for _, p := range c.ReflectorPorts {
		vals[p] |= xdpPortFlagPORT_REFLECTOR
	}
	keys := make([]uint32, 65536)
	for i := range keys {
		keys[i] = uint32(i)
	}
	_, err := f.objs.Ports.BatchUpdate(keys, vals, nil)
	if errors.Is(err, ebpf.ErrNotSupported) {
		for i := range keys {
			if err := f.objs.Ports.Put(keys[i], vals[i]); err != nil {
				return err
			}
		}
		return nil
	}
	return err
}

// writeACL replaces the static lists and keeps the dynamic blocks in force,
// re-deriving what each blocked address falls back to under the new lists.
func (f *Filter) writeACL(c Config) error {
	static := aclEntries(c)
	want := make(map[netip.Prefix]aclEntry, len(static))
	for p, a := range static {
		want[p] = aclEntry{Action: a, IsStatic: 1}
	}
	now, err := monoNow()
	if err != nil {
		return err
	}
	have, err := f.entries()
	if err != nil {
		return err
	}
	for p, e := range have {
		if e.Expiry == 0 || time.Duration(e.Expiry) <= now {
			continue
		}
		if s, ok := static[p]; ok {
			want[p] = aclEntry{Action: s, IsStatic: 1, Expiry: e.Expiry}
		} else {
			want[p] = aclEntry{Action: staticVerdict(static, p), Expiry: e.Expiry}
		}
	}
	// A failed sync may have changed some entries: retire the cached
	// verdicts either way.
	err = f.syncTries(want)
	if gerr := f.bumpGeneration(); err == nil {
		err = gerr
	}
	if err != nil {
		return err
	}
	f.static = static
	return nil
}
