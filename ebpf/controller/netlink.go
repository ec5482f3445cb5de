package controller

import (
	"context"
	"encoding/binary"
	"fmt"
	"os"
	"syscall"

	"golang.org/x/sys/unix"
)

// XDP attach modes as the kernel reports them (IFLA_XDP_ATTACHED,
// include/uapi/linux/if_link.h).
const (
	ModeNative  = "native"  // XDP_ATTACHED_DRV: runs in the driver, before any skb
	ModeGeneric = "generic" // XDP_ATTACHED_SKB: runs after the skb is built
	ModeOffload = "offload" // XDP_ATTACHED_HW
	ModeNone    = "none"
)

// IFLA_XDP_ATTACHED values (enum in include/uapi/linux/if_link.h; x/sys does
// not export them).
const (
	xdpAttachedDrv = 1
	xdpAttachedSKB = 2
	xdpAttachedHW  = 3
)

// xdpModes asks the kernel (RTM_GETLINK dump) in which mode an XDP program
// runs on each interface, by ifindex. The controller reports what the kernel
// says rather than what it asked for, so a silent fallback is visible.
func xdpModes() (map[int]string, error) {
	rib, err := syscall.NetlinkRIB(unix.RTM_GETLINK, unix.AF_UNSPEC)
	if err != nil {
		return nil, fmt.Errorf("netlink RTM_GETLINK: %w", err)
	}
	msgs, err := syscall.ParseNetlinkMessage(rib)
	if err != nil {
		return nil, fmt.Errorf("netlink RTM_GETLINK: %w", err)
	}
	modes := map[int]string{}
	for _, m := range msgs {
		if m.Header.Type != unix.RTM_NEWLINK || len(m.Data) < unix.SizeofIfInfomsg {
			continue
		}
		index := int(int32(binary.NativeEndian.Uint32(m.Data[4:8])))
		attrs, err := syscall.ParseNetlinkRouteAttr(&m)
		if err != nil {
			continue
		}
		modes[index] = ModeNone
		for _, a := range attrs {
			if a.Attr.Type&^unix.NLA_F_NESTED != unix.IFLA_XDP {
				continue
			}
			modes[index] = parseXDPAttached(a.Value)
		}
	}
	return modes, nil
}

// parseXDPAttached reads the nested IFLA_XDP attributes. With several
// programs attached (XDP_ATTACHED_MULTI) the driver one wins: that is the
// one that sees packets first.
func parseXDPAttached(b []byte) string {
	var attached byte
	var drv, skb, hw bool
	for len(b) >= 4 {
		l := int(binary.NativeEndian.Uint16(b[0:2]))
		t := binary.NativeEndian.Uint16(b[2:4]) &^ unix.NLA_F_NESTED
		if l < 4 || l > len(b) {
			break
		}
		v := b[4:l]
		switch {
		case t == unix.IFLA_XDP_ATTACHED && len(v) >= 1:
			attached = v[0]
		case t == unix.IFLA_XDP_DRV_PROG_ID && len(v) >= 4:
			drv = binary.NativeEndian.Uint32(v) != 0
		case t == unix.IFLA_XDP_SKB_PROG_ID && len(v) >= 4:
			skb = binary.NativeEndian.Uint32(v) != 0
		case t == unix.IFLA_XDP_HW_PROG_ID && len(v) >= 4:
			hw = binary.NativeEndian.Uint32(v) != 0
		}
		n := (l + 3) &^ 3 // attributes are 4-byte aligned (NLA_ALIGN)
		if n > len(b) {
			n = len(b)
		}
		b = b[n:]
	}
	switch {
	case attached == xdpAttachedDrv || drv:
		return ModeNative
	case attached == xdpAttachedSKB || skb:
		return ModeGeneric
	case attached == xdpAttachedHW || hw:
		return ModeOffload
	}
	return ModeNone
}

// watchLinks sends on changed (without blocking; one pending signal is
// enough) whenever an interface appears, disappears, changes state or gains
// or loses an address, until ctx ends. The caller then lists interfaces
// again; the periodic rescan covers a lost notification (ENOBUFS).
func watchLinks(ctx context.Context, changed chan<- struct{}) error {
	fd, err := unix.Socket(unix.AF_NETLINK, unix.SOCK_RAW|unix.SOCK_CLOEXEC|unix.SOCK_NONBLOCK, unix.NETLINK_ROUTE)
	if err != nil {
		return fmt.Errorf("netlink socket: %w", err)
	}
	groups := uint32(unix.RTMGRP_LINK | unix.RTMGRP_IPV4_IFADDR | unix.RTMGRP_IPV6_IFADDR)
	if err := unix.Bind(fd, &unix.SockaddrNetlink{Family: unix.AF_NETLINK, Groups: groups}); err != nil {
		unix.Close(fd)
		return fmt.Errorf("netlink bind RTNLGRP_LINK: %w", err)
	}
	// A non-blocking fd wrapped in os.File uses the runtime poller, so
	// Close below wakes the pending Read.
	f := os.NewFile(uintptr(fd), "netlink")
	go func() {
		<-ctx.Done()
		f.Close()
	}()
	go func() {
		buf := make([]byte, 64*1024)
		for {
			_, err := f.Read(buf)
			if ctx.Err() != nil {
				return
			}
			if err != nil && err != syscall.ENOBUFS {
				return
			}
			select {
			case changed <- struct{}{}:
			default:
			}
		}
	}()
	return nil
}
