package server

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"syscall"

	"golang.org/x/sys/unix"
)

// listen opens n UDP sockets on the same address with SO_REUSEPORT, so the
// kernel spreads datagrams over them by 4-tuple hash and each worker
// goroutine owns one socket (no shared receive queue, no lock). Only the
// same user may join the group, and the service runs under a unique
// DynamicUser, so no other process can steal its traffic.
func listen(ctx context.Context, addr string, n int) ([]*net.UDPConn, error) {
	if err := portTaken(addr); err != nil {
		return nil, err
	}
	lc := net.ListenConfig{Control: func(network, address string, c syscall.RawConn) error {
		var serr error
		err := c.Control(func(fd uintptr) {
			serr = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_REUSEPORT, 1)
			// Larger buffers absorb bursts while a worker is busy. The
			// kernel caps them at net.core.[rw]mem_max without privilege.
			unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_RCVBUF, 4<<20)
			unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_SNDBUF, 4<<20)
		})
		if err != nil {
			return err
		}
		return serr
	}}
	var conns []*net.UDPConn
	bind := addr
	for i := 0; i < n; i++ {
		pc, err := lc.ListenPacket(ctx, "udp", bind)
		if err != nil {
			for _, c := range conns {
				c.Close()
			}
			return nil, fmt.Errorf("cannot listen on UDP %s: %v; check that the address exists on this host and that no other service uses the port (change listen)", addr, unwrap(err))
		}
		c := pc.(*net.UDPConn)
		conns = append(conns, c)
		if i == 0 {
			// With port 0 the first socket picks the port; the others join it.
			bind = c.LocalAddr().String()
		}
	}
	return conns, nil
}

func unwrap(err error) error {
	if op, ok := err.(*net.OpError); ok && op.Err != nil {
		if sc, ok := op.Err.(*net.AddrError); ok {
			return sc
		}
		return op.Err
	}
	return err
}

func addrPortOf(a net.Addr) netip.AddrPort {
	if u, ok := a.(*net.UDPAddr); ok {
		return u.AddrPort()
	}
	return netip.AddrPort{}
}

// connFor picks a socket that can send to "to": the first whose address
// family fits (a dual-stack socket fits both). With one listen address, as
// by default, every socket shares the address the peer's NAT saw.
func (s *Server) connFor(to netip.AddrPort) *net.UDPConn {
	v4 := to.Addr().Unmap().Is4()
	for _, c := range s.conns {
		la := addrPortOf(c.LocalAddr()).Addr()
		switch {
		case la.Is4() && v4, la.Is6() && !v4, la.Is6() && la.IsUnspecified():
			return c
		}
	}
	return nil
}
