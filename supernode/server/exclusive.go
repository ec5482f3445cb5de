package server

import (
	"bufio"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"net"
	"net/netip"
	"os"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// A second supernode on the same port joins the SO_REUSEPORT group (same
// user, e.g. root or a second unit) and the kernel splits the peers between
// two directories: lookups then fail for the half the other one holds. So
// a server serves a port only if every UDP socket bound to it in this
// network namespace is its own. The check reads /proc/net/udp{,6} (the
// namespace's table, inode per socket) before binding, and again after, so
// two daemons that bind at the same moment agree on one: the one holding
// the oldest socket (lowest inode) stays, the other stops.

// udpSocket is one bound socket from /proc/net/udp{,6}.
type udpSocket struct {
	addr  netip.AddrPort
	inode uint64
}

// boundUDP lists the unconnected UDP sockets of this network namespace.
func boundUDP() ([]udpSocket, error) {
	var out []udpSocket
	// /proc/self/net, not /proc/net: the unit's ProcSubset=pid hides the
	// latter, and a check that cannot read the table would pass silently.
	for _, path := range []string{"/proc/self/net/udp", "/proc/self/net/udp6"} {
		f, err := os.Open(path)
		if err != nil {
			if os.IsNotExist(err) {
				continue // no IPv6 in this kernel
			}
			return nil, err
		}
		sc := bufio.NewScanner(f)
		sc.Scan() // header
		for sc.Scan() {
			fs := strings.Fields(sc.Text())
			if len(fs) < 10 || fs[3] != "07" { // 07 = TCP_CLOSE: bound, not connected
				continue
			}
			ap, ok := parseProcAddr(fs[1])
			ino, err := strconv.ParseUint(fs[9], 10, 64)
			if !ok || err != nil {
				continue
			}
			out = append(out, udpSocket{ap, ino})
		}
		f.Close()
	}
	return out, nil
}

// parseProcAddr decodes "0100007F:0D96": the address in 32-bit words of
// host byte order, the port in hex.
func parseProcAddr(s string) (netip.AddrPort, bool) {
	h, p, ok := strings.Cut(s, ":")
	port, err := strconv.ParseUint(p, 16, 16)
	raw, err2 := hex.DecodeString(h)
	if !ok || err != nil || err2 != nil || (len(raw) != 4 && len(raw) != 16) {
		return netip.AddrPort{}, false
	}
	for i := 0; i < len(raw); i += 4 {
		binary.BigEndian.PutUint32(raw[i:], binary.NativeEndian.Uint32(raw[i:]))
	}
	a, _ := netip.AddrFromSlice(raw)
	return netip.AddrPortFrom(a.Unmap(), uint16(port)), true
}

// overlaps reports whether datagrams for one address can reach the other
// (same port, and the same address or a wildcard on either side).
func overlaps(a, b netip.AddrPort) bool {
	return a.Port() == b.Port() && (a.Addr() == b.Addr() || a.Addr().IsUnspecified() || b.Addr().IsUnspecified())
}

func inodeOf(c *net.UDPConn) uint64 {
	rc, err := c.SyscallConn()
	if err != nil {
		return 0
	}
	var st unix.Stat_t
	rc.Control(func(fd uintptr) { unix.Fstat(int(fd), &st) })
	return st.Ino
}

// foreignSocket returns a socket of another process that overlaps addr, and
// the lowest inode among own and foreign overlapping sockets.
func foreignSocket(all []udpSocket, addr netip.AddrPort, own map[uint64]bool) (foreign *udpSocket, oldest uint64) {
	for i := range all {
		s := &all[i]
		if !overlaps(s.addr, addr) {
			continue
		}
		if oldest == 0 || s.inode < oldest {
			oldest = s.inode
		}
		if !own[s.inode] && (foreign == nil || s.inode < foreign.inode) {
			foreign = s
		}
	}
	return foreign, oldest
}

// portTaken is the check before binding l: an error naming the port if a
// socket of another process serves it.
func portTaken(l string) error {
	want, err := parseListen(l)
	if err != nil || want.Port() == 0 {
		return nil // port 0 picks a free port
	}
	if !want.Addr().IsValid() {
		want = netip.AddrPortFrom(netip.IPv6Unspecified(), want.Port())
	}
	all, err := boundUDP()
	if err != nil {
		return nil // no /proc: nothing to compare with
	}
	if f, _ := foreignSocket(all, want, nil); f != nil {
		return fmt.Errorf("UDP port %d is already served by another process (socket %s, inode %d), probably another supernode; stop it or change listen", want.Port(), f.addr, f.inode)
	}
	return nil
}

// claimPorts is the check after binding: our sockets must be the only ones
// on our ports, except that of two daemons that bound at the same moment
// the one with the oldest socket keeps the port.
func (s *Server) claimPorts() error {
	all, err := boundUDP()
	if err != nil {
		return nil
	}
	own := make(map[uint64]bool, len(s.conns))
	for _, c := range s.conns {
		own[inodeOf(c)] = true
	}
	addrs := s.addrs
	if s.disc != nil {
		addrs = append(addrs[:len(addrs):len(addrs)], s.disc.addr[0][1], s.disc.addr[1][0], s.disc.addr[1][1])
	}
	for _, a := range addrs {
		if f, oldest := foreignSocket(all, a, own); f != nil && !own[oldest] {
			return fmt.Errorf("UDP port %d is already served by another process (socket %s, inode %d), probably another supernode; stop it or change listen", a.Port(), f.addr, f.inode)
		}
	}
	return nil
}
