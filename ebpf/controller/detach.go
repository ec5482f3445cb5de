package controller

import (
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/cilium/ebpf/link"

	"github.com/supernode-appliance/appliance/ebpf/filter"
	"github.com/supernode-appliance/appliance/internal/daemon"
)

// lockPinDir takes the lock that makes a controller the only one using
// pinDir (a flock on the directory itself: bpffs holds no regular files).
func lockPinDir(pinDir string) (func(), error) {
	unlock, err := daemon.Lock(pinDir)
	var held *daemon.LockedError
	if errors.As(err, &held) {
		return nil, fmt.Errorf("another supernode-xdp%s already runs with pin_dir %s; stop it first (systemctl stop supernode-xdp) or give this one its own pin_dir, control_socket and interfaces", pidText(held.PID), pinDir)
	}
	return unlock, err
}

func pidText(pid int) string {
	if pid > 0 {
		return fmt.Sprintf(" (pid %d)", pid)
	}
	return ""
}

// DetachReport says what Detach did.
type DetachReport struct {
	Stopped    int      // PID of the controller stopped first (force), or 0
	Unit       string   // the systemd unit it ran in, if any
	Interfaces []string // interfaces the filter was detached from
	Maps       []string // pinned maps removed
	Blocks     int      // dynamic blocks in force that went with the maps
}

// String is what `supernode-xdp detach` prints.
func (r DetachReport) String() string {
	var b strings.Builder
	if r.Stopped > 0 {
		fmt.Fprintf(&b, "stopped the running supernode-xdp (pid %d)\n", r.Stopped)
	}
	if r.Unit != "" {
		fmt.Fprintf(&b, "note: systemd restarts %s (Restart=always) and it attaches again; use systemctl stop %s to keep the filter off\n", r.Unit, r.Unit)
	}
	if len(r.Interfaces) == 0 && len(r.Maps) == 0 {
		b.WriteString("nothing was attached: no supernode-xdp pins found\n")
		return b.String()
	}
	if len(r.Interfaces) > 0 {
		fmt.Fprintf(&b, "detached the XDP filter from %s\n", strings.Join(r.Interfaces, ", "))
	} else {
		b.WriteString("the filter was attached to no interface\n")
	}
	if len(r.Maps) > 0 {
		fmt.Fprintf(&b, "removed %d pinned maps (counters, token buckets, policy and %d dynamic blocks)\n", len(r.Maps), r.Blocks)
	}
	return b.String()
}

// stopWait bounds how long a forced detach waits for the running
// controller to exit after SIGTERM (its unit's TimeoutStopSec is 10 s).
const stopWait = 10 * time.Second

// Detach removes the filter from every interface and deletes the pins
// under pinDir (the directory itself stays: tmpfiles.d made it, owned by
// the daemon's user). It refuses while a controller holds pinDir, unless
// force, which stops that controller (SIGTERM) and waits for it first.
// With nothing pinned under pinDir it is an error if an interface still
// carries an XDP program (the pins are elsewhere: a wrong pin_dir), and a
// no-op otherwise.
func Detach(pinDir string, force bool) (DetachReport, error) {
	var rep DetachReport
	if _, err := os.Stat(pinDir); errors.Is(err, os.ErrNotExist) {
		return rep, nothingPinned(pinDir)
	} else if err != nil {
		return rep, fmt.Errorf("cannot read pin_dir %s: %v", pinDir, errors.Unwrap(err))
	}
	unlock, err := daemon.Lock(pinDir)
	var held *daemon.LockedError
	if errors.As(err, &held) {
		if !force {
			return rep, fmt.Errorf("supernode-xdp%s is running with pin_dir %s; stop it first (systemctl stop supernode-xdp), or use detach -force to stop it and detach", pidText(held.PID), pinDir)
		}
		if held.PID <= 0 {
			return rep, fmt.Errorf("cannot tell which process holds pin_dir %s; stop the running supernode-xdp first (systemctl stop supernode-xdp)", pinDir)
		}
		rep.Unit = serviceOf(held.PID)
		if err := syscall.Kill(held.PID, syscall.SIGTERM); err != nil {
			return rep, fmt.Errorf("cannot stop supernode-xdp (pid %d): %v; stop it with systemctl stop supernode-xdp", held.PID, err)
		}
		for deadline := time.Now().Add(stopWait); ; time.Sleep(50 * time.Millisecond) {
			if unlock, err = daemon.Lock(pinDir); err == nil || time.Now().After(deadline) {
				break
			}
		}
		if err != nil {
			return rep, fmt.Errorf("supernode-xdp (pid %d) did not stop within %s of SIGTERM; stop it with systemctl stop supernode-xdp and run detach again", held.PID, stopWait)
		}
		rep.Stopped = held.PID
	} else if err != nil {
		return rep, err
	}
	defer unlock()

	links := filepath.Join(pinDir, "links")
	entries, _ := os.ReadDir(links)
	for _, e := range entries {
		pin := filepath.Join(links, e.Name())
		name := "ifindex " + e.Name()
		if l, err := link.LoadPinnedLink(pin, nil); err == nil {
			if info, err := l.Info(); err == nil && info.XDP() != nil {
				if iface, err := net.InterfaceByIndex(int(info.XDP().Ifindex)); err == nil {
					name = iface.Name
				}
			}
			// BPF_LINK_DETACH takes the program off even if some other
			// process still holds the link open; then the pin goes.
			l.Detach()
			l.Unpin()
			l.Close()
		}
		if err := os.Remove(pin); err != nil && !errors.Is(err, os.ErrNotExist) {
			return rep, fmt.Errorf("cannot remove the pinned link %s: %v", pin, errors.Unwrap(err))
		}
		rep.Interfaces = append(rep.Interfaces, name)
	}
	os.Remove(links)
	sort.Strings(rep.Interfaces)

	rep.Blocks, _ = filter.PinnedBlocks(pinDir)
	entries, err = os.ReadDir(pinDir)
	if err != nil {
		return rep, fmt.Errorf("cannot list pin_dir %s: %v", pinDir, errors.Unwrap(err))
	}
	for _, e := range entries {
		if err := os.RemoveAll(filepath.Join(pinDir, e.Name())); err != nil {
			return rep, fmt.Errorf("cannot remove the pinned map %s: %v", filepath.Join(pinDir, e.Name()), errors.Unwrap(err))
		}
		rep.Maps = append(rep.Maps, e.Name())
	}
	if len(rep.Interfaces) == 0 && len(rep.Maps) == 0 {
		return rep, nothingPinned(pinDir)
	}
	return rep, nil
}

// nothingPinned is the answer when pinDir holds nothing: fine if no
// interface carries an XDP program, else the pins are somewhere else.
func nothingPinned(pinDir string) error {
	modes, err := xdpModes()
	if err != nil {
		return nil
	}
	var busy []string
	for idx, mode := range modes {
		if mode == ModeNone {
			continue
		}
		name := "ifindex " + strconv.Itoa(idx)
		if iface, err := net.InterfaceByIndex(idx); err == nil {
			name = iface.Name
		}
		busy = append(busy, name)
	}
	if len(busy) == 0 {
		return nil
	}
	sort.Strings(busy)
	return fmt.Errorf("nothing is pinned under pin_dir %s, but %s still carries an XDP program; run detach with the -config the controller runs with (its pin_dir), or remove a foreign program with `ip link set dev %s xdp off`", pinDir, strings.Join(busy, ", "), busy[0])
}

// serviceOf names the supernode-xdp systemd service pid runs in (from its
// cgroup path, e.g. 0::/system.slice/supernode-xdp.service), or "".
func serviceOf(pid int) string {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/cgroup", pid))
	if err != nil {
		return ""
	}
	for _, part := range strings.Split(strings.TrimSpace(string(b)), "/") {
		if strings.HasPrefix(part, "supernode-xdp") && strings.HasSuffix(part, ".service") {
			return part
		}
	}
	return ""
}
