package xdp

import (
	"encoding/binary"
	"fmt"
	"net"
	"net/netip"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/supernode-appliance/appliance/tests/testenv"
)

func htons(v uint16) uint16 { return v<<8 | v>>8 }

// rawSender writes crafted frames onto an interface through an AF_PACKET
// socket created inside the sender's namespace.
type rawSender struct{ fd int }

func newRawSender(t testing.TB, ns *testenv.NS, ifname string) *rawSender {
	t.Helper()
	var s rawSender
	err := ns.Do(func() error {
		ifc, err := net.InterfaceByName(ifname)
		if err != nil {
			return err
		}
		fd, err := unix.Socket(unix.AF_PACKET, unix.SOCK_RAW|unix.SOCK_CLOEXEC, 0)
		if err != nil {
			return fmt.Errorf("AF_PACKET socket: %w", err)
		}
		// Skip the sender's qdisc: the flood measures the receiver.
		unix.SetsockoptInt(fd, unix.SOL_PACKET, unix.PACKET_QDISC_BYPASS, 1)
		unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_SNDBUF, 4<<20)
		if err := unix.Bind(fd, &unix.SockaddrLinklayer{Protocol: htons(unix.ETH_P_IP), Ifindex: ifc.Index}); err != nil {
			unix.Close(fd)
			return err
		}
		s.fd = fd
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unix.Close(s.fd) })
	return &s
}

func (s *rawSender) send(t testing.TB, frames ...[]byte) {
	t.Helper()
	for _, f := range frames {
		for {
			_, err := unix.Write(s.fd, f)
			if err == unix.ENOBUFS || err == unix.EAGAIN {
				time.Sleep(50 * time.Microsecond)
				continue
			}
			if err != nil {
				t.Fatalf("send frame: %v", err)
			}
			break
		}
	}
}

// observer counts the IPv4 and IPv6 frames that arrive on an interface, as seen by
// an AF_PACKET tap in the receiver's namespace. Taps run after XDP, so the
// observer sees exactly what the filter let through to the kernel stack.
type observer struct {
	fd     int
	mu     sync.Mutex
	counts map[obsKey]int
	done   chan struct{}
}

type obsKey struct {
	src netip.Addr
	id  uint16
}

func newObserver(t testing.TB, ns *testenv.NS, ifname string) *observer {
	t.Helper()
	o := &observer{counts: map[obsKey]int{}, done: make(chan struct{})}
	err := ns.Do(func() error {
		ifc, err := net.InterfaceByName(ifname)
		if err != nil {
			return err
		}
		// SOCK_DGRAM: frames arrive without their Ethernet header.
		fd, err := unix.Socket(unix.AF_PACKET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, int(htons(unix.ETH_P_ALL)))
		if err != nil {
			return err
		}
		unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_RCVBUF, 8<<20)
		tv := unix.NsecToTimeval(int64(100 * time.Millisecond))
		unix.SetsockoptTimeval(fd, unix.SOL_SOCKET, unix.SO_RCVTIMEO, &tv)
		if err := unix.Bind(fd, &unix.SockaddrLinklayer{Protocol: htons(unix.ETH_P_ALL), Ifindex: ifc.Index}); err != nil {
			unix.Close(fd)
			return err
		}
		o.fd = fd
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	go o.loop()
	t.Cleanup(func() {
		close(o.done)
		time.Sleep(150 * time.Millisecond) // let loop see done after its timeout
		unix.Close(o.fd)
	})
	return o
}

func (o *observer) loop() {
	buf := make([]byte, 2048)
	for {
		select {
		case <-o.done:
			return
		default:
		}
		n, from, err := unix.Recvfrom(o.fd, buf, 0)
		if err != nil {
			continue
		}
		if ll, ok := from.(*unix.SockaddrLinklayer); ok && ll.Pkttype == unix.PACKET_OUTGOING {
			continue
		}
		var k obsKey
		switch {
		case n >= 20 && buf[0]>>4 == 4:
			k = obsKey{src: netip.AddrFrom4([4]byte(buf[12:16])), id: binary.BigEndian.Uint16(buf[4:6])}
		case n >= 40 && buf[0]>>4 == 6:
			// The tests put their marker into the flow label.
			k = obsKey{src: netip.AddrFrom16([16]byte(buf[8:24])), id: binary.BigEndian.Uint16(buf[2:4])}
		default:
			continue
		}
		o.mu.Lock()
		o.counts[k]++
		o.mu.Unlock()
	}
}

// seen returns how many frames from src with IP id arrived.
func (o *observer) seen(src netip.Addr, id uint16) int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.counts[obsKey{src, id}]
}

// seenID returns how many frames with IP id arrived from any source.
func (o *observer) seenID(id uint16) int {
	o.mu.Lock()
	defer o.mu.Unlock()
	n := 0
	for k, c := range o.counts {
		if k.id == id {
			n += c
		}
	}
	return n
}
