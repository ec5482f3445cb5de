package loadgen

import (
	"fmt"
	"net/netip"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// udpSocket is a connected, blocking UDP socket driven with sendmmsg and
// recvmmsg, so one system call moves a whole batch. A Go net.UDPConn costs
// one system call per datagram, and the generator would then saturate its
// core before a fast server does.
type udpSocket struct {
	fd    int
	local netip.AddrPort
	hdrs  []unix.Mmsghdr
	iovs  []unix.Iovec
}

func dialUDP(target netip.AddrPort, batch int, recvTimeout time.Duration) (*udpSocket, error) {
	family := unix.AF_INET
	var sa unix.Sockaddr
	if target.Addr().Is4() || target.Addr().Is4In6() {
		family = unix.AF_INET
		sa = &unix.SockaddrInet4{Port: int(target.Port()), Addr: target.Addr().Unmap().As4()}
	} else {
		family = unix.AF_INET6
		sa = &unix.SockaddrInet6{Port: int(target.Port()), Addr: target.Addr().As16()}
	}
	fd, err := unix.Socket(family, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, unix.IPPROTO_UDP)
	if err != nil {
		return nil, fmt.Errorf("socket: %w", err)
	}
	s := &udpSocket{fd: fd}
	// Large buffers so bursts of a whole window are not dropped by the
	// generator's own socket (the kernel caps them at rmem_max/wmem_max).
	unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_RCVBUF, 4<<20)
	unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_SNDBUF, 4<<20)
	tv := unix.NsecToTimeval(recvTimeout.Nanoseconds())
	if err := unix.SetsockoptTimeval(fd, unix.SOL_SOCKET, unix.SO_RCVTIMEO, &tv); err != nil {
		s.close()
		return nil, fmt.Errorf("SO_RCVTIMEO: %w", err)
	}
	if err := unix.Connect(fd, sa); err != nil {
		s.close()
		return nil, fmt.Errorf("connect %s: %w", target, err)
	}
	local, err := unix.Getsockname(fd)
	if err != nil {
		s.close()
		return nil, fmt.Errorf("getsockname: %w", err)
	}
	switch a := local.(type) {
	case *unix.SockaddrInet4:
		s.local = netip.AddrPortFrom(netip.AddrFrom4(a.Addr), uint16(a.Port))
	case *unix.SockaddrInet6:
		s.local = netip.AddrPortFrom(netip.AddrFrom16(a.Addr), uint16(a.Port))
	}
	s.hdrs = make([]unix.Mmsghdr, batch)
	s.iovs = make([]unix.Iovec, batch)
	return s, nil
}

func (s *udpSocket) close() { unix.Close(s.fd) }

// sendBatch sends every buffer in bufs (at most the batch size) and returns
// how many the kernel took.
func (s *udpSocket) sendBatch(bufs [][]byte) (int, error) {
	for i, b := range bufs {
		s.iovs[i].Base = &b[0]
		s.iovs[i].SetLen(len(b))
		s.hdrs[i] = unix.Mmsghdr{}
		s.hdrs[i].Hdr.Iov = &s.iovs[i]
		s.hdrs[i].Hdr.SetIovlen(1)
	}
	sent := 0
	for sent < len(bufs) {
		n, _, errno := unix.Syscall6(unix.SYS_SENDMMSG, uintptr(s.fd),
			uintptr(unsafe.Pointer(&s.hdrs[sent])), uintptr(len(bufs)-sent), 0, 0, 0)
		if errno == unix.EINTR {
			continue
		}
		if errno != 0 {
			return sent, errno
		}
		sent += int(n)
	}
	return sent, nil
}

// recvBatch waits (up to the receive timeout) for at least one datagram and
// returns the sizes of up to len(bufs) datagrams read into bufs.
// unix.EAGAIN means the timeout passed with nothing to read.
func (s *udpSocket) recvBatch(bufs [][]byte, sizes []int) (int, error) {
	for i, b := range bufs {
		s.iovs[i].Base = &b[0]
		s.iovs[i].SetLen(len(b))
		s.hdrs[i] = unix.Mmsghdr{}
		s.hdrs[i].Hdr.Iov = &s.iovs[i]
		s.hdrs[i].Hdr.SetIovlen(1)
	}
	for {
		n, _, errno := unix.Syscall6(unix.SYS_RECVMMSG, uintptr(s.fd),
			uintptr(unsafe.Pointer(&s.hdrs[0])), uintptr(len(bufs)), unix.MSG_WAITFORONE, 0, 0)
		if errno == unix.EINTR {
			continue
		}
		if errno != 0 {
			return 0, errno
		}
		for i := 0; i < int(n); i++ {
			sizes[i] = int(s.hdrs[i].Len)
		}
		return int(n), nil
	}
}
