package xdp

import (
	"encoding/binary"
	"net"
	"net/netip"
)

// pkt describes one crafted IPv4 frame. The tests send frames they build
// themselves (not the kernel's) because attacks are, by definition, packets
// a well-behaved stack never emits: spoofed sources, bad flags, fragments.
type pkt struct {
	srcMAC, dstMAC net.HardwareAddr
	src, dst       netip.Addr
	proto          uint8 // 17 UDP, 6 TCP
	sport, dport   uint16
	tcpFlags       uint8
	id             uint16 // IPv4 identification: the tests' marker per class
	ttl            uint8
	fragOff        uint16 // in 8-byte units
	moreFrags      bool
	noUDPChecksum  bool // send UDP checksum 0 ("none", RFC 768), valid whatever the source
	payload        []byte
}

const (
	tcpFIN = 0x01
	tcpSYN = 0x02
	tcpRST = 0x04
	tcpPSH = 0x08
	tcpACK = 0x10
	tcpURG = 0x20
)

// frame encodes p as Ethernet + IPv4 + UDP/TCP with correct checksums (the
// receiving kernel would otherwise discard what the filter passed, and the
// tests could not tell the two apart).
func (p pkt) frame() []byte {
	var l4 []byte
	switch p.proto {
	case 17:
		l4 = make([]byte, 8+len(p.payload))
		binary.BigEndian.PutUint16(l4[0:], p.sport)
		binary.BigEndian.PutUint16(l4[2:], p.dport)
		binary.BigEndian.PutUint16(l4[4:], uint16(len(l4)))
		copy(l4[8:], p.payload)
		if !p.noUDPChecksum {
			binary.BigEndian.PutUint16(l4[6:], l4Checksum(p.src, p.dst, 17, l4))
		}
	case 6:
		l4 = make([]byte, 20+len(p.payload))
		binary.BigEndian.PutUint16(l4[0:], p.sport)
		binary.BigEndian.PutUint16(l4[2:], p.dport)
		binary.BigEndian.PutUint32(l4[4:], 0x01020304) // seq
		l4[12] = 5 << 4                                // data offset
		l4[13] = p.tcpFlags
		binary.BigEndian.PutUint16(l4[14:], 65535)
		copy(l4[20:], p.payload)
		binary.BigEndian.PutUint16(l4[16:], l4Checksum(p.src, p.dst, 6, l4))
	default:
		l4 = p.payload
	}
	if p.fragOff > 0 {
		// A non-first fragment carries no transport header.
		l4 = p.payload
	}
	ttl := p.ttl
	if ttl == 0 {
		ttl = 64
	}
	if p.src.Is6() {
		return p.frame6(l4, ttl)
	}
	f := make([]byte, 14+20+len(l4))
	copy(f[0:6], p.dstMAC)
	copy(f[6:12], p.srcMAC)
	binary.BigEndian.PutUint16(f[12:], 0x0800)
	ip := f[14:34]
	ip[0] = 0x45
	binary.BigEndian.PutUint16(ip[2:], uint16(20+len(l4)))
	binary.BigEndian.PutUint16(ip[4:], p.id)
	frag := p.fragOff & 0x1fff
	if p.moreFrags {
		frag |= 0x2000
	}
	binary.BigEndian.PutUint16(ip[6:], frag)
	ip[8] = ttl
	ip[9] = p.proto
	s, d := p.src.As4(), p.dst.As4()
	copy(ip[12:16], s[:])
	copy(ip[16:20], d[:])
	binary.BigEndian.PutUint16(ip[10:], checksum(ip, 0))
	copy(f[34:], l4)
	return f
}

// frame6 wraps l4 in Ethernet + IPv6; the tests' marker (id) goes into
// the flow label, IPv6 having no identification field.
func (p pkt) frame6(l4 []byte, hops uint8) []byte {
	f := make([]byte, 14+40+len(l4))
	copy(f[0:6], p.dstMAC)
	copy(f[6:12], p.srcMAC)
	binary.BigEndian.PutUint16(f[12:], 0x86dd)
	ip := f[14:54]
	binary.BigEndian.PutUint32(ip[0:], 6<<28|uint32(p.id))
	binary.BigEndian.PutUint16(ip[4:], uint16(len(l4)))
	ip[6] = p.proto
	ip[7] = hops
	s, d := p.src.As16(), p.dst.As16()
	copy(ip[8:24], s[:])
	copy(ip[24:40], d[:])
	copy(f[54:], l4)
	return f
}

func checksum(b []byte, sum uint32) uint16 {
	for i := 0; i+1 < len(b); i += 2 {
		sum += uint32(binary.BigEndian.Uint16(b[i:]))
	}
	if len(b)%2 == 1 {
		sum += uint32(b[len(b)-1]) << 8
	}
	for sum > 0xffff {
		sum = sum>>16 + sum&0xffff
	}
	return ^uint16(sum)
}

// l4Checksum is the UDP/TCP checksum over the pseudo-header (RFC 768,
// RFC 8200 section 8.1) and seg.
func l4Checksum(src, dst netip.Addr, proto uint8, seg []byte) uint16 {
	var sum uint32
	for _, a := range []netip.Addr{src, dst} {
		b := a.AsSlice()
		for i := 0; i < len(b); i += 2 {
			sum += uint32(binary.BigEndian.Uint16(b[i:]))
		}
	}
	sum += uint32(proto) + uint32(len(seg))
	c := checksum(seg, sum)
	if c == 0 && proto == 17 {
		c = 0xffff // RFC 768: a computed zero is sent as all ones
	}
	return c
}

// stunRequest is a 20-byte RFC 8489 Binding request with transaction id tid.
func stunRequest(tid uint64) []byte {
	b := make([]byte, 20)
	binary.BigEndian.PutUint16(b[0:], 0x0001)
	binary.BigEndian.PutUint32(b[4:], 0x2112A442)
	binary.BigEndian.PutUint64(b[12:], tid)
	return b
}

// stunResponse answers a Binding request from `from` with a success response
// carrying XOR-MAPPED-ADDRESS (RFC 8489 section 14.2); nil if req is not a
// Binding request.
func stunResponse(req []byte, from netip.AddrPort) []byte {
	if len(req) < 20 || binary.BigEndian.Uint16(req[0:]) != 0x0001 || binary.BigEndian.Uint32(req[4:]) != 0x2112A442 || !from.Addr().Unmap().Is4() {
		return nil
	}
	b := make([]byte, 32)
	binary.BigEndian.PutUint16(b[0:], 0x0101)
	binary.BigEndian.PutUint16(b[2:], 12)
	copy(b[4:20], req[4:20])
	binary.BigEndian.PutUint16(b[20:], 0x0020)
	binary.BigEndian.PutUint16(b[22:], 8)
	b[25] = 0x01
	binary.BigEndian.PutUint16(b[26:], from.Port()^0x2112)
	a := from.Addr().Unmap().As4()
	binary.BigEndian.PutUint32(b[28:], binary.BigEndian.Uint32(a[:])^0x2112A442)
	return b
}
