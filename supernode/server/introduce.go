package server

import (
	"errors"
	"net"
	"net/netip"
	"sync"

	"golang.org/x/sys/unix"

	"github.com/supernode-appliance/appliance/supernode/directory"
	"github.com/supernode-appliance/appliance/supernode/stun"
	"github.com/supernode-appliance/appliance/supernode/wire"
)

// Introducer is implemented by a Store that can reach peers registered with
// other members (the fleet layer): for a lookup target with Via != 0 the
// server passes it the unsealed introduce indication (no integrity, no
// fingerprint), and the member that holds the target calls
// DeliverIntroduction with it.
type Introducer interface {
	Introduce(target directory.Key, peer *directory.Peer, payload []byte) error
}

// Errors of DeliverIntroduction.
var (
	ErrIntroductionMalformed = errors.New("introduction payload is not an unsealed introduce indication")
	ErrIntroductionTarget    = errors.New("introduction target is not registered with this member at that address")
)

// DeliverIntroduction seals an introduction built by another member with the
// target's session key (which never leaves this member) and sends it to the
// target from this member's socket, the address the target's NAT has a
// pinhole for. It is the fleet's OnIntroduce callback.
func (s *Server) DeliverIntroduction(target directory.Key, reflexive netip.AddrPort, payload []byte) error {
	return s.DeliverIntroductionBatch(nil, target, reflexive, payload)
}

// DeliverIntroductionBatch is DeliverIntroduction whose datagram goes into
// sb (the caller flushes it), or out at once when sb is nil. A queued
// introduction counts as delivered; if it then fails to leave, it counts
// as a send error.
func (s *Server) DeliverIntroductionBatch(sb *SendBatch, target directory.Key, reflexive netip.AddrPort, payload []byte) error {
	x := deliveries.Get().(*delivery)
	err := s.deliverIntroduction(x, sb, target, reflexive, payload)
	x.in.Raw = nil // it aliased payload
	deliveries.Put(x)
	return err
}

// delivery is DeliverIntroduction's reused state: in is only ever decoded
// into (its Raw aliases the payload), out only ever built.
type delivery struct {
	in, out *stun.Message
	p       directory.Peer
}

var deliveries = sync.Pool{New: func() any { return &delivery{in: stun.New(), out: stun.New()} }}

func (s *Server) deliverIntroduction(x *delivery, sb *SendBatch, target directory.Key, reflexive netip.AddrPort, payload []byte) error {
	in, out, p := x.in, x.out, &x.p
	if err := in.Decode(payload); err != nil || in.Type != (stun.MessageType{Method: wire.MethodIntroduce, Class: stun.ClassIndication}) ||
		in.Find(stun.AttrMessageIntegritySHA256) >= 0 || in.Find(stun.AttrFingerprint) >= 0 || len(payload) > stun.MaxMessageSize-36-8 {
		s.m.introduced[introFailed].Inc()
		return ErrIntroductionMalformed
	}
	// Only a peer attached here can be introduced from here (its session
	// key and pinhole are here); never ask the fleet from its receive path.
	if !s.requesterStore().Lookup(target, p) || p.Via != 0 || p.Reflexive != netip.AddrPortFrom(reflexive.Addr().Unmap(), reflexive.Port()) {
		s.m.introduced[introFailed].Inc()
		return ErrIntroductionTarget
	}
	out.Raw = append(out.Raw[:0], payload...)
	sealIntroduction(out, p.Session[:])
	c := s.connFor(p.Reflexive)
	if c == nil {
		s.m.introduced[introFailed].Inc()
		return ErrIntroductionTarget
	}
	if err := s.sendOut(sb, c, out.Raw, p.Reflexive); err != nil {
		s.m.introduced[introFailed].Inc()
		return err
	}
	s.m.introduced[introDelivered].Inc()
	return nil
}

// sendNow sends one datagram on a socket that the packet workers share,
// without waiting: MSG_DONTWAIT makes a full send buffer an error
// (EAGAIN) instead of a stall. It never touches the socket's deadlines,
// which belong to every worker: a deadline set here once made every later
// reply on the socket fail.
func sendNow(c *net.UDPConn, b []byte, to netip.AddrPort) error {
	rc, err := c.SyscallConn()
	if err != nil {
		return err
	}
	// The socket addresses are reused: Sendto only reads them.
	var sa unix.Sockaddr
	if la := addrPortOf(c.LocalAddr()).Addr(); la.Is4() {
		sa4 := sockaddrs4.Get().(*unix.SockaddrInet4)
		defer sockaddrs4.Put(sa4)
		*sa4 = unix.SockaddrInet4{Port: int(to.Port()), Addr: to.Addr().Unmap().As4()}
		sa = sa4
	} else {
		sa6 := sockaddrs6.Get().(*unix.SockaddrInet6)
		defer sockaddrs6.Put(sa6)
		*sa6 = unix.SockaddrInet6{Port: int(to.Port()), Addr: to.Addr().As16()}
		sa = sa6
	}
	var serr error
	if err := rc.Write(func(fd uintptr) bool {
		serr = unix.Sendto(int(fd), b, unix.MSG_DONTWAIT, sa)
		return true
	}); err != nil {
		return err
	}
	return serr
}

var (
	sockaddrs4 = sync.Pool{New: func() any { return new(unix.SockaddrInet4) }}
	sockaddrs6 = sync.Pool{New: func() any { return new(unix.SockaddrInet6) }}
)
