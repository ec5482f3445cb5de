package supernode

import (
	"encoding/binary"
	"fmt"
	"net/netip"

	"golang.org/x/sys/unix"
)

// sendForged sends payload as one IPv4 UDP datagram from src to dst through
// a raw socket (IPPROTO_RAW, which implies IP_HDRINCL): the source address
// is whatever the test writes into the header, the way a spoofing attacker
// builds packets. Call it inside the attacker's namespace.
func sendForged(src, dst netip.AddrPort, payload []byte) error {
	if !src.Addr().Is4() || !dst.Addr().Is4() {
		return fmt.Errorf("sendForged: IPv4 only (%s > %s)", src, dst)
	}
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_RAW|unix.SOCK_CLOEXEC, unix.IPPROTO_RAW)
	if err != nil {
		return fmt.Errorf("raw socket: %w", err)
	}
	defer unix.Close(fd)
	pkt := make([]byte, 20+8+len(payload))
	ip := pkt[:20]
	ip[0] = 0x45 // version 4, 20-byte header
	binary.BigEndian.PutUint16(ip[2:4], uint16(len(pkt)))
	ip[8] = 64 // TTL
	ip[9] = unix.IPPROTO_UDP
	s, d := src.Addr().As4(), dst.Addr().As4()
	copy(ip[12:16], s[:])
	copy(ip[16:20], d[:])
	// The kernel fills in the header checksum (and an id when it is 0).
	udp := pkt[20:]
	binary.BigEndian.PutUint16(udp[0:2], src.Port())
	binary.BigEndian.PutUint16(udp[2:4], dst.Port())
	binary.BigEndian.PutUint16(udp[4:6], uint16(8+len(payload)))
	copy(udp[8:], payload)
	binary.BigEndian.PutUint16(udp[6:8], udpChecksum(s, d, udp))
	return unix.Sendto(fd, pkt, 0, &unix.SockaddrInet4{Addr: d})
}

// udpChecksum is the RFC 768 checksum over the IPv4 pseudo-header and the
// UDP datagram (whose checksum field is zero).
func udpChecksum(src, dst [4]byte, udp []byte) uint16 {
	var sum uint32
	add := func(b []byte) {
		for i := 0; i+1 < len(b); i += 2 {
			sum += uint32(binary.BigEndian.Uint16(b[i:]))
		}
		if len(b)%2 == 1 {
			sum += uint32(b[len(b)-1]) << 8
		}
	}
	add(src[:])
	add(dst[:])
	sum += unix.IPPROTO_UDP + uint32(len(udp))
	add(udp)
	for sum>>16 != 0 {
		sum = sum&0xffff + sum>>16
	}
	c := ^uint16(sum)
	if c == 0 {
		c = 0xffff // 0 means "no checksum" in UDP over IPv4
	}
	return c
}
