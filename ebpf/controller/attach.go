package controller

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"sort"
	"strconv"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/link"
	"golang.org/x/sys/unix"
)

// Attachment is the filter attached to one interface.
type Attachment struct {
	Name    string
	Index   int
	Mode    string         // ModeNative, ModeGeneric, ... as the kernel reports it
	Program ebpf.ProgramID // the interface's own instance of the filter
	link    link.Link
	pin     string
}

// attacher owns the XDP links. Every link is pinned under dir (one file per
// ifindex: names can change, an ifindex cannot), so the filter outlives the
// controller process: a restart finds the pins and takes them over, an
// upgrade swaps the program inside the pinned link with BPF_LINK_UPDATE,
// which the kernel does atomically (no packet sees "no program").
//
// Each interface runs its own instance of the filter (progFor, normally
// filter.InterfaceProgram), which shares every policy map but counts into
// counters of its own: that is what makes per-interface metrics free.
type attacher struct {
	dir     string
	mode    string // config: auto, native or generic
	progFor func(ifindex int) (*ebpf.Program, error)
	release func(ifindex int) error // the instance of an interface that is gone
	log     *slog.Logger
	links   map[int]*Attachment
}

func newAttacher(dir, mode string, progFor func(int) (*ebpf.Program, error), release func(int) error, log *slog.Logger) (*attacher, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("cannot create the link pin directory %s: %v", dir, err)
	}
	return &attacher{dir: dir, mode: mode, progFor: progFor, release: release, log: log, links: map[int]*Attachment{}}, nil
}

// adopt takes over the links a previous controller pinned and moves them to
// this controller's program. Pins whose interface has gone (the kernel marks
// such a link defunct, ifindex 0) are removed.
func (a *attacher) adopt() error {
	entries, err := os.ReadDir(a.dir)
	if err != nil {
		return fmt.Errorf("cannot list pinned links in %s: %v", a.dir, err)
	}
	for _, e := range entries {
		pin := filepath.Join(a.dir, e.Name())
		l, err := link.LoadPinnedLink(pin, nil)
		if err != nil {
			a.log.Warn("ignoring a pin that is not an XDP link", "pin", pin, "err", err)
			continue
		}
		info, err := l.Info()
		var index int
		if err == nil && info.XDP() != nil {
			index = int(info.XDP().Ifindex)
		}
		iface, ierr := net.InterfaceByIndex(index)
		if index == 0 || ierr != nil {
			a.log.Info("removing the pinned link of an interface that is gone", "pin", pin)
			l.Unpin()
			l.Close()
			// The pin is named after the ifindex: drop that interface's
			// pinned counters too.
			if gone, err := strconv.Atoi(e.Name()); err == nil && gone > 0 {
				a.release(gone)
			}
			continue
		}
		old := ebpf.ProgramID(0)
		if info != nil {
			old = info.Program
		}
		at := &Attachment{Name: iface.Name, Index: index, Program: old, link: l, pin: pin}
		prog, err := a.progFor(index)
		if err == nil {
			err = l.Update(prog)
		}
		if err != nil {
			// The old program stays attached and keeps filtering; say so
			// loudly rather than detach.
			a.log.Error("cannot replace the XDP program on a pinned link; the previous version keeps running", "interface", iface.Name, "err", err)
		} else {
			at.Program = programID(prog)
			a.log.Info("took over pinned XDP link", "interface", iface.Name, "old_program", old, "new_program", at.Program)
		}
		a.links[index] = at
	}
	return nil
}

// sync attaches to every wanted interface not yet filtered and detaches from
// those no longer wanted or gone. It returns the first attach error (the
// others are logged); the next sync retries.
func (a *attacher) sync(wanted []net.Interface) error {
	want := map[int]net.Interface{}
	for _, i := range wanted {
		want[i.Index] = i
	}
	for idx, at := range a.links {
		if _, ok := want[idx]; ok {
			continue
		}
		if err := a.detach(at); err != nil {
			a.log.Warn("cannot detach", "interface", at.Name, "err", err)
		}
	}
	var first error
	for _, iface := range wanted {
		if at, ok := a.links[iface.Index]; ok {
			at.Name = iface.Name // follow renames
			continue
		}
		if err := a.attach(iface); err != nil {
			a.log.Error("cannot attach the XDP filter", "interface", iface.Name, "err", err)
			if first == nil {
				first = err
			}
		}
	}
	a.refreshModes()
	return first
}

func (a *attacher) attach(iface net.Interface) error {
	var tries []link.XDPAttachFlags
	switch a.mode {
	case "native":
		tries = []link.XDPAttachFlags{link.XDPDriverMode}
	case "generic":
		tries = []link.XDPAttachFlags{link.XDPGenericMode}
	default:
		tries = []link.XDPAttachFlags{link.XDPDriverMode, link.XDPGenericMode}
	}
	prog, err := a.progFor(iface.Index)
	if err != nil {
		return fmt.Errorf("load the filter for %s: %w", iface.Name, err)
	}
	var l link.Link
	for _, flags := range tries {
		l, err = link.AttachXDP(link.XDPOptions{Program: prog, Interface: iface.Index, Flags: flags})
		if err == nil {
			break
		}
		a.log.Debug("XDP attach failed", "interface", iface.Name, "flags", flags, "err", err)
	}
	if err != nil {
		// Keep the instance (and its pinned counters): the attach is
		// retried at the next sync.
		if errors.Is(err, os.ErrExist) || errors.Is(err, unix.EBUSY) {
			return fmt.Errorf("%s already has an XDP program not owned by supernode-xdp; remove it with `ip link set dev %s xdp off`", iface.Name, iface.Name)
		}
		return fmt.Errorf("attach XDP to %s: %w", iface.Name, err)
	}
	pin := filepath.Join(a.dir, strconv.Itoa(iface.Index))
	os.Remove(pin) // a stale pin of an earlier interface with the same index
	if err := l.Pin(pin); err != nil {
		l.Close()
		return fmt.Errorf("cannot pin the XDP link of %s at %s: %v", iface.Name, pin, err)
	}
	a.links[iface.Index] = &Attachment{Name: iface.Name, Index: iface.Index, Program: programID(prog), link: l, pin: pin}
	a.log.Info("attached XDP filter", "interface", iface.Name, "ifindex", iface.Index, "program", programID(prog))
	return nil
}

// detach removes the filter from an interface: unpinning drops the last
// reference besides our fd, closing the fd breaks the link.
func (a *attacher) detach(at *Attachment) error {
	delete(a.links, at.Index)
	err := at.link.Unpin()
	at.link.Close()
	a.log.Info("detached XDP filter", "interface", at.Name)
	return errors.Join(err, a.release(at.Index))
}

// refreshModes records the mode the kernel reports for each link.
func (a *attacher) refreshModes() {
	modes, err := xdpModes()
	if err != nil {
		a.log.Warn("cannot read XDP modes", "err", err)
		return
	}
	for idx, at := range a.links {
		at.Mode = modes[idx]
	}
}

// list returns the attachments sorted by interface name.
func (a *attacher) list() []Attachment {
	out := make([]Attachment, 0, len(a.links))
	for _, at := range a.links {
		out = append(out, Attachment{Name: at.Name, Index: at.Index, Mode: at.Mode, Program: at.Program})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// close releases the link fds; the pins keep every link attached.
func (a *attacher) close() {
	for _, at := range a.links {
		at.link.Close()
	}
	a.links = map[int]*Attachment{}
}

func programID(p *ebpf.Program) ebpf.ProgramID {
	if info, err := p.Info(); err == nil {
		if id, ok := info.ID(); ok {
			return id
		}
	}
	return 0
}
