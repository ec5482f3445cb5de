// Package controller runs the XDP filter on the appliance's uplinks: it
// loads the program (ebpf/filter), attaches it to every configured interface
// (native mode, generic as fallback) and pins the links so restarts and
// upgrades never leave an interface unfiltered, keeps the policy maps in
// step with the config file (SIGHUP reloads without detaching), serves the
// control socket through which the supernode and operators add dynamic
// blocks, and exports Prometheus metrics.
package controller

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/sys/unix"

	"github.com/supernode-appliance/appliance/ebpf/control"
	"github.com/supernode-appliance/appliance/ebpf/filter"
	"github.com/supernode-appliance/appliance/internal/daemon"
)

// Controller is one running supernode-xdp.
type Controller struct {
	log     *slog.Logger
	started time.Time

	mu         sync.Mutex
	cfg        Config
	filter     *filter.Filter
	att        *attacher
	blocks     map[netip.Prefix]blockInfo // the dynamic blocks in force (max_blocks)
	protected  []protection               // what reports may never block
	refused    map[string]uint64          // block requests refused, by cause
	ttlCapped  uint64                     // reports whose TTL report_max_ttl shortened
	ownAddrs   []netip.Addr               // own_addrs plus the addresses of attached interfaces
	attachOK   bool                       // the last sync attached everything wanted
	warnedNone bool                       // "no interface matches" was logged
	metrics    *metrics
	control    *net.UnixListener // the control socket, once served
	unlock     func()            // releases the lock on pin_dir
}

// New loads the filter (reusing maps pinned by an earlier run), writes the
// policy into it and takes over links pinned by an earlier run, replacing
// their program. It does not attach to new interfaces yet: Sync does.
func New(cfg Config, log *slog.Logger) (*Controller, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	// Check the file system before creating anything, so a wrong pin_dir
	// leaves no directories behind on a disk.
	existing := cfg.PinDir
	for {
		if _, err := os.Stat(existing); err == nil || existing == "/" {
			break
		}
		existing = filepath.Dir(existing)
	}
	var fs unix.Statfs_t
	if err := unix.Statfs(existing, &fs); err != nil || fs.Type != unix.BPF_FS_MAGIC {
		return nil, fmt.Errorf("pin_dir %s is not on a bpffs mount; mount one with `mount -t bpf bpf %s` (systemd mounts /sys/fs/bpf at boot)", cfg.PinDir, filepath.Dir(cfg.PinDir))
	}
	if err := os.MkdirAll(cfg.PinDir, 0o700); err != nil {
		return nil, fmt.Errorf("cannot create pin_dir %s: %v; it must belong to the daemon's user (supernode-xdp.tmpfiles.conf)", cfg.PinDir, err)
	}
	// One controller per pin_dir: a second one would swap its own program
	// into the pinned links and its own policy into the shared maps. The
	// lock comes before any pin, map or socket is touched, and the kernel
	// drops it when the process dies, however it dies.
	unlock, err := lockPinDir(cfg.PinDir)
	if err != nil {
		return nil, err
	}
	f, err := filter.Open(cfg.PinDir)
	if err != nil {
		unlock()
		if errors.Is(err, unix.EPERM) || errors.Is(err, unix.EACCES) {
			return nil, fmt.Errorf("cannot load the XDP filter: %w (supernode-xdp needs CAP_BPF, CAP_NET_ADMIN and CAP_PERFMON)", err)
		}
		return nil, fmt.Errorf("cannot load the XDP filter: %w", err)
	}
	c := &Controller{log: log, started: time.Now(), cfg: cfg, filter: f, blocks: map[netip.Prefix]blockInfo{}, refused: map[string]uint64{}, unlock: unlock}
	c.protected = protections(cfg)
	// The blocks a previous controller left in the pinned maps count
	// towards max_blocks; their reasons died with it.
	if bs, err := f.Blocks(); err == nil {
		for _, b := range bs {
			c.blocks[b.Prefix] = blockInfo{expires: b.Expires}
		}
	}
	// Include the interfaces' addresses from the first write on: the maps
	// may be the ones a running filter uses (restart), and dropping the own
	// addresses even briefly would let spoofed own-source packets through.
	ifaces, _ := c.wanted(cfg)
	c.ownAddrs = ownAddrs(cfg, ifaces)
	if err := c.configure(cfg, c.ownAddrs); err != nil {
		f.Close()
		unlock()
		return nil, err
	}
	c.att, err = newAttacher(filepath.Join(cfg.PinDir, "links"), cfg.Mode, f.InterfaceProgram, f.ReleaseInterface, log)
	if err == nil {
		err = c.att.adopt()
	}
	if err != nil {
		f.Close()
		unlock()
		return nil, err
	}
	c.metrics = newMetrics(c)
	return c, nil
}

func (c *Controller) configure(cfg Config, own []netip.Addr) error {
	fc := cfg.Filter()
	fc.OwnAddrs = own
	if err := c.filter.Configure(fc); err != nil {
		return fmt.Errorf("cannot write the filter policy: %w", err)
	}
	return nil
}

// Sync lists the interfaces, attaches to those the config selects, detaches
// from those it no longer selects, refreshes the appliance's own addresses
// in the filter and removes expired dynamic blocks.
func (c *Controller) Sync() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	wanted, err := c.wanted(c.cfg)
	if err != nil {
		return err
	}
	err = c.att.sync(wanted)
	c.attachOK = err == nil
	if len(wanted) == 0 && !c.warnedNone {
		c.log.Warn("no interface matches the interfaces setting; nothing is filtered", "interfaces", c.cfg.Interfaces)
	}
	c.warnedNone = len(wanted) == 0
	own := ownAddrs(c.cfg, wanted)
	if !slices.Equal(own, c.ownAddrs) {
		if cerr := c.configure(c.cfg, own); cerr != nil {
			c.log.Error("cannot update the appliance's own addresses in the filter", "err", cerr)
		} else {
			c.ownAddrs = own
			c.log.Info("own addresses updated", "addrs", own)
		}
	}
	c.sweepLocked()
	c.protected = protections(c.cfg)
	return err
}

// wanted lists the interfaces cfg selects (never loopback).
func (c *Controller) wanted(cfg Config) ([]net.Interface, error) {
	ifaces, err := net.Interfaces()
	if err != nil {
		return nil, fmt.Errorf("cannot list interfaces: %v", err)
	}
	var out []net.Interface
	for _, i := range ifaces {
		if i.Flags&net.FlagLoopback == 0 && cfg.matches(i.Name) {
			out = append(out, i)
		}
	}
	return out, nil
}

// ownAddrs is own_addrs plus the addresses of the filtered interfaces: land
// and own-source checks need the addresses DHCP gave us, which an image
// cannot know in advance. Link-local addresses are left out (they are
// shared-scope and NDP/DHCP traffic uses them legitimately).
func ownAddrs(cfg Config, ifaces []net.Interface) []netip.Addr {
	own := slices.Clone(cfg.OwnAddrs)
	for _, i := range ifaces {
		addrs, _ := i.Addrs()
		for _, a := range addrs {
			if p, err := netip.ParsePrefix(a.String()); err == nil && !p.Addr().IsLinkLocalUnicast() {
				own = append(own, p.Addr())
			}
		}
	}
	slices.SortFunc(own, func(a, b netip.Addr) int { return a.Compare(b) })
	return slices.Compact(own)
}

// sweepLocked lets the filter delete expired dynamic blocks (the program
// already ignores them; this keeps the map from filling with dead entries)
// and forgets the blocks that are gone.
func (c *Controller) sweepLocked() {
	blocks, err := c.filter.Blocks()
	if err != nil {
		return
	}
	live := make(map[netip.Prefix]time.Time, len(blocks))
	for _, b := range blocks {
		live[b.Prefix] = b.Expires
	}
	for p, bi := range c.blocks {
		if exp, ok := live[p]; ok {
			bi.expires = exp
			c.blocks[p] = bi
		} else {
			delete(c.blocks, p)
		}
	}
}

// Run keeps the attachments in step with the interfaces (netlink
// notifications plus a periodic rescan) until ctx ends.
func (c *Controller) Run(ctx context.Context) error {
	changed := make(chan struct{}, 1)
	if err := watchLinks(ctx, changed); err != nil {
		c.log.Warn("no netlink notifications; relying on the periodic rescan", "err", err)
	}
	if err := c.Sync(); err != nil {
		c.log.Error("initial attach incomplete; retrying at each rescan", "err", err)
	}
	c.mu.Lock()
	rescan := c.cfg.Rescan
	c.mu.Unlock()
	t := time.NewTicker(rescan)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-changed:
			// Let a burst of notifications (link up + addresses) settle.
			time.Sleep(100 * time.Millisecond)
			select {
			case <-changed:
			default:
			}
		case <-t.C:
		}
		c.Sync()
		daemon.Status(c.StatusLine())
	}
}

// Reload applies a new configuration without detaching: the policy maps are
// rewritten and the interface selection re-evaluated. Keys that need a
// restart are reported and keep their old value. On error the old
// configuration keeps running.
func (c *Controller) Reload(cfg Config) error {
	if err := cfg.Validate(); err != nil {
		return err
	}
	c.mu.Lock()
	old := c.cfg
	for _, k := range []struct {
		key      string
		old, new string
	}{
		{"pin_dir", old.PinDir, cfg.PinDir},
		{"control_socket", old.ControlSocket, cfg.ControlSocket},
		{"control_group", old.ControlGroup, cfg.ControlGroup},
		{"metrics_listen", old.MetricsListen, cfg.MetricsListen},
		{"rescan_interval", old.Rescan.String(), cfg.Rescan.String()},
	} {
		if k.old != k.new {
			c.log.Warn("this key takes effect at the next restart", "key", k.key, "running", k.old, "configured", k.new)
		}
	}
	cfg.PinDir, cfg.ControlSocket, cfg.ControlGroup, cfg.MetricsListen, cfg.Rescan =
		old.PinDir, old.ControlSocket, old.ControlGroup, old.MetricsListen, old.Rescan
	ifaces, _ := c.wanted(cfg)
	own := ownAddrs(cfg, ifaces)
	if err := c.configure(cfg, own); err != nil {
		// Best effort to put the old policy back in case the filter
		// applied part of the new one.
		c.configure(old, c.ownAddrs)
		c.mu.Unlock()
		return err
	}
	c.cfg, c.ownAddrs = cfg, own
	c.protected = protections(cfg)
	c.att.mode = cfg.Mode
	c.mu.Unlock()
	return c.Sync()
}

// Config returns the running configuration.
func (c *Controller) Config() Config {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.cfg
}

// BlockEntry is a dynamic block with the reason given when it was added.
type BlockEntry struct {
	filter.Block
	Reason string
}

type blockInfo struct {
	expires time.Time
	reason  string
}

// Causes of a refused block request, for the metrics and status.
const (
	refusedProtected = "protected"
	refusedFull      = "full"
)

// Block drops every packet from addr's block prefix (filter.BlockPrefix:
// the address, or its IPv6 /64) and returns the prefix and the TTL
// granted. A request (force false: the supernode's abuse reports, and
// operators by default) is refused if the prefix overlaps a protected one
// (protect.go) and has its TTL capped at report_max_ttl; force (an
// operator, see socket.go) skips both and may ask up to max_block_ttl.
// Either way a new block is refused while max_blocks are in force.
func (c *Controller) Block(addr netip.Addr, ttl time.Duration, reason string, force bool) (netip.Prefix, time.Duration, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	p := filter.BlockPrefix(addr)
	if !force {
		if pr, ok := protectedBy(c.protected, p); ok {
			c.refused[refusedProtected]++
			return p, 0, fmt.Errorf("%s is never blocked on a report: it overlaps %s, %s; an operator can still block it with supernode-xdp block -force", control.FormatBlock(p), control.FormatBlock(pr.prefix), pr.why)
		}
		if ttl > c.cfg.ReportMaxTTL {
			ttl = c.cfg.ReportMaxTTL
			c.ttlCapped++
		}
	}
	if ttl <= 0 || ttl > c.cfg.MaxBlockTTL {
		return p, 0, fmt.Errorf("ttl %s is out of range; use 1 to %d seconds (max_block_ttl)", ttl, int64(c.cfg.MaxBlockTTL/time.Second))
	}
	if _, renew := c.blocks[p]; !renew && c.liveBlocksLocked() >= c.cfg.MaxBlocks {
		c.refused[refusedFull]++
		return p, 0, fmt.Errorf("the dynamic block table is full (max_blocks = %d); raise max_blocks or wait for blocks to expire", c.cfg.MaxBlocks)
	}
	if err := c.filter.Block(addr.Unmap(), ttl); err != nil {
		return p, 0, err
	}
	c.blocks[p] = blockInfo{expires: time.Now().Add(ttl), reason: reason}
	return p, ttl, nil
}

// liveBlocksLocked counts the blocks in force, forgetting expired ones
// once the count reaches max_blocks.
func (c *Controller) liveBlocksLocked() int {
	if len(c.blocks) < c.cfg.MaxBlocks {
		return len(c.blocks)
	}
	now := time.Now()
	for p, bi := range c.blocks {
		if !bi.expires.After(now) {
			delete(c.blocks, p)
		}
	}
	return len(c.blocks)
}

// Unblock removes the dynamic block covering addr.
func (c *Controller) Unblock(addr netip.Addr) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.blocks, filter.BlockPrefix(addr))
	return c.filter.Unblock(addr.Unmap())
}

// Blocks lists the dynamic blocks that have not expired, soonest first.
func (c *Controller) Blocks() ([]BlockEntry, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	bs, err := c.filter.Blocks()
	if err != nil {
		return nil, err
	}
	now := time.Now()
	out := make([]BlockEntry, 0, len(bs))
	for _, b := range bs {
		if b.Expires.After(now) {
			out = append(out, BlockEntry{Block: b, Reason: c.blocks[b.Prefix].reason})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Expires.Before(out[j].Expires) })
	return out, nil
}

// Refusals returns how many block requests were refused, by cause
// (protected, full), and how many reports had their TTL capped.
func (c *Controller) Refusals() (map[string]uint64, uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return maps.Clone(c.refused), c.ttlCapped
}

// Counters returns the filter's counters, summed over every interface.
func (c *Controller) Counters() ([]filter.Counter, error) {
	return c.filter.Counters()
}

// InterfaceCounters returns the counters of the filter on one attached
// interface, by name.
func (c *Controller) InterfaceCounters(name string) ([]filter.Counter, error) {
	for _, a := range c.Interfaces() {
		if a.Name == name {
			return c.filter.InterfaceCounters(a.Index)
		}
	}
	return nil, fmt.Errorf("the filter is not attached to %q; the interfaces command lists those it is", name)
}

// Interfaces lists the attachments.
func (c *Controller) Interfaces() []Attachment {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.att.list()
}

// Healthy is what the systemd watchdog checks: the filter's maps still
// answer. (An interface that cannot be attached is reported, not fatal: a
// restart would not fix it.)
func (c *Controller) Healthy() bool {
	_, err := c.filter.Counters()
	return err == nil
}

// StatusLine is the one line `systemctl status` shows.
func (c *Controller) StatusLine() string {
	ifs := c.Interfaces()
	if len(ifs) == 0 {
		return "no interface attached"
	}
	s := "filtering"
	for _, i := range ifs {
		s += " " + i.Name + "(" + i.Mode + ")"
	}
	return s
}

// Status is the key/value summary of the status command.
func (c *Controller) Status() [][2]string {
	ifs := c.Interfaces()
	blocks, _ := c.Blocks()
	c.mu.Lock()
	cfg, ok := c.cfg, c.attachOK
	nProtected := len(c.protected)
	refusedP, refusedF, capped := c.refused[refusedProtected], c.refused[refusedFull], c.ttlCapped
	own := make([]string, len(c.ownAddrs))
	for i, a := range c.ownAddrs {
		own[i] = a.String()
	}
	c.mu.Unlock()
	if len(own) == 0 {
		own = []string{"-"}
	}
	names, progs := "", ""
	for i, a := range ifs {
		if i > 0 {
			names += ","
			progs += ","
		}
		names += a.Name + ":" + a.Mode
		progs += a.Name + ":" + strconv.FormatUint(uint64(a.Program), 10)
	}
	if names == "" {
		names, progs = "-", "-"
	}
	return [][2]string{
		{"version", daemon.Version},
		{"uptime", time.Since(c.started).Round(time.Second).String()},
		{"interfaces", names},
		{"programs", progs},
		{"all_attached", strconv.FormatBool(ok)},
		{"own_addrs", strings.Join(own, ",")},
		{"blocks", strconv.Itoa(len(blocks))},
		{"max_blocks", strconv.Itoa(cfg.MaxBlocks)},
		{"protected_prefixes", strconv.Itoa(nProtected)},
		{"refused_protected", strconv.FormatUint(refusedP, 10)},
		{"refused_full", strconv.FormatUint(refusedF, 10)},
		{"ttl_capped", strconv.FormatUint(capped, 10)},
		{"pin_dir", cfg.PinDir},
	}
}

// Close releases the controller's handles. The pinned links and maps stay,
// so the filter keeps running until the next controller takes over. The
// control socket is removed before the lock on pin_dir is released, so it
// can never remove the socket of a successor.
func (c *Controller) Close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.control != nil {
		c.control.Close()
	}
	c.att.close()
	err := c.filter.Close()
	c.unlock()
	return err
}

// AttachedPins lists the interfaces whose pinned link is still in place,
// for the last word at stop: the filter stays on exactly these.
func (c *Controller) AttachedPins() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []string
	for _, at := range c.att.links {
		if _, err := os.Lstat(at.pin); err == nil {
			out = append(out, at.Name)
		}
	}
	sort.Strings(out)
	return out
}
