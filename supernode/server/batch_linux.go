package server

import (
	"encoding/binary"
	"net"
	"net/netip"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// batchConn reads and writes many datagrams per system call with
// recvmmsg(2)/sendmmsg(2) through the socket's RawConn, so the Go netpoller
// still parks the goroutine when the socket is empty. All buffers and the
// syscall closures are allocated once: the loop allocates nothing.
type batchConn struct {
	rc syscall.RawConn

	rmsgs  []unix.Mmsghdr
	riov   []unix.Iovec
	rnames []unix.RawSockaddrInet6
	rbufs  [][]byte
	rn     int
	rerr   error
	readFn func(fd uintptr) bool

	wmsgs   []unix.Mmsghdr
	wiov    []unix.Iovec
	wnames  []unix.RawSockaddrInet6
	wn      int // messages queued
	wsent   int
	werr    syscall.Errno
	wfailed int
	noWait  bool // a full send buffer drops the rest instead of waiting (SendBatch)
	writeFn func(fd uintptr) bool
	v4      bool // socket is AF_INET (bound to an IPv4 address)
}

// recvBufSize is larger than MaxMessageSize so oversize datagrams are seen
// (and counted) as such rather than silently truncated to a valid length.
const recvBufSize = 2048

func newBatchConn(c *net.UDPConn, n int) (*batchConn, error) {
	b, err := newBatchWriter(c, 2*n)
	if err != nil {
		return nil, err
	}
	b.rmsgs, b.riov, b.rnames, b.rbufs = make([]unix.Mmsghdr, n), make([]unix.Iovec, n), make([]unix.RawSockaddrInet6, n), make([][]byte, n)
	for i := range n {
		b.rbufs[i] = make([]byte, recvBufSize)
	}
	b.readFn = func(fd uintptr) bool {
		for i := range b.rmsgs {
			b.riov[i].Base = &b.rbufs[i][0]
			b.riov[i].SetLen(recvBufSize)
			h := &b.rmsgs[i].Hdr
			h.Iov = &b.riov[i]
			h.SetIovlen(1)
			h.Name = (*byte)(unsafe.Pointer(&b.rnames[i]))
			h.Namelen = uint32(unsafe.Sizeof(b.rnames[i]))
			h.Flags = 0
		}
		for {
			r, _, e := unix.Syscall6(unix.SYS_RECVMMSG, fd, uintptr(unsafe.Pointer(&b.rmsgs[0])), uintptr(len(b.rmsgs)), unix.MSG_DONTWAIT, 0, 0)
			switch e {
			case 0:
				b.rn, b.rerr = int(r), nil
				return true
			case unix.EINTR:
				continue
			case unix.EAGAIN:
				return false
			default:
				b.rn, b.rerr = 0, e
				return true
			}
		}
	}
	return b, nil
}

// newBatchWriter is a batchConn that only writes, up to m datagrams per
// flush (SendBatch).
func newBatchWriter(c *net.UDPConn, m int) (*batchConn, error) {
	rc, err := c.SyscallConn()
	if err != nil {
		return nil, err
	}
	b := &batchConn{
		rc: rc, wmsgs: make([]unix.Mmsghdr, m), wiov: make([]unix.Iovec, m), wnames: make([]unix.RawSockaddrInet6, m),
	}
	la := addrPortOf(c.LocalAddr())
	b.v4 = la.Addr().Is4()
	b.writeFn = func(fd uintptr) bool {
		for b.wsent < b.wn {
			r, _, e := unix.Syscall6(unix.SYS_SENDMMSG, fd, uintptr(unsafe.Pointer(&b.wmsgs[b.wsent])), uintptr(b.wn-b.wsent), unix.MSG_DONTWAIT, 0, 0)
			switch e {
			case 0:
				b.wsent += int(r)
			case unix.EINTR:
			case unix.EAGAIN:
				if b.noWait {
					b.werr, b.wfailed, b.wsent = e, b.wfailed+b.wn-b.wsent, b.wn
					return true
				}
				return false
			default:
				// sendmmsg reports the error of the first message that
				// failed; skip it and carry on with the rest.
				b.werr = e
				b.wfailed++
				b.wsent++
			}
		}
		return true
	}
	return b, nil
}

// read waits for and receives up to len(rbufs) datagrams.
func (b *batchConn) read() (int, error) {
	if err := b.rc.Read(b.readFn); err != nil {
		return 0, err
	}
	return b.rn, b.rerr
}

// datagram returns the i-th received datagram, its source, and whether it
// was truncated by the buffer.
func (b *batchConn) datagram(i int) ([]byte, netip.AddrPort, bool) {
	m := &b.rmsgs[i]
	return b.rbufs[i][:m.Len], sockaddrToAddrPort(&b.rnames[i]), m.Hdr.Flags&unix.MSG_TRUNC != 0
}

// queue adds a datagram to the next write. p must stay valid until flush.
func (b *batchConn) queue(p []byte, to netip.AddrPort) bool {
	if b.wn == len(b.wmsgs) || len(p) == 0 {
		return false
	}
	i := b.wn
	b.wiov[i].Base = &p[0]
	b.wiov[i].SetLen(len(p))
	h := &b.wmsgs[i].Hdr
	h.Iov = &b.wiov[i]
	h.SetIovlen(1)
	h.Name = (*byte)(unsafe.Pointer(&b.wnames[i]))
	h.Namelen = addrPortToSockaddr(&b.wnames[i], to, b.v4)
	if h.Namelen == 0 {
		return false
	}
	b.wn++
	return true
}

// flush sends every queued datagram; it returns how many failed.
func (b *batchConn) flush() (failed int, err error) {
	if b.wn == 0 {
		return 0, nil
	}
	b.wsent, b.werr, b.wfailed = 0, 0, 0
	err = b.rc.Write(b.writeFn)
	failed = b.wfailed
	b.wn = 0
	return failed, err
}

func sockaddrToAddrPort(sa *unix.RawSockaddrInet6) netip.AddrPort {
	port := binary.BigEndian.Uint16((*[2]byte)(unsafe.Pointer(&sa.Port))[:])
	switch sa.Family {
	case unix.AF_INET:
		sa4 := (*unix.RawSockaddrInet4)(unsafe.Pointer(sa))
		return netip.AddrPortFrom(netip.AddrFrom4(sa4.Addr), port)
	case unix.AF_INET6:
		return netip.AddrPortFrom(netip.AddrFrom16(sa.Addr).Unmap(), port)
	}
	return netip.AddrPort{}
}

// addrPortToSockaddr fills sa for "to"; IPv4 destinations on an IPv6
// (dual-stack) socket are written v4-mapped.
func addrPortToSockaddr(sa *unix.RawSockaddrInet6, to netip.AddrPort, v4sock bool) uint32 {
	a := to.Addr().Unmap()
	if v4sock {
		if !a.Is4() {
			return 0
		}
		sa4 := (*unix.RawSockaddrInet4)(unsafe.Pointer(sa))
		*sa4 = unix.RawSockaddrInet4{Family: unix.AF_INET, Addr: a.As4()}
		binary.BigEndian.PutUint16((*[2]byte)(unsafe.Pointer(&sa4.Port))[:], to.Port())
		return unix.SizeofSockaddrInet4
	}
	*sa = unix.RawSockaddrInet6{Family: unix.AF_INET6, Addr: a.As16()}
	binary.BigEndian.PutUint16((*[2]byte)(unsafe.Pointer(&sa.Port))[:], to.Port())
	return unix.SizeofSockaddrInet6
}
