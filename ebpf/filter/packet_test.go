package filter

import (
	"encoding/binary"
	"net/netip"
)

// Frames for Program.Run, built byte by byte so every field an attack
// abuses can be set. Checksums stay zero: the program does not check them
// (the kernel does, after XDP).

const (
	ethIPv4 = 0x0800
	ethIPv6 = 0x86dd
	ethARP  = 0x0806
	tpid1Q  = 0x8100
	tpidAD  = 0x88a8

	protoICMP   = 1
	protoTCP    = 6
	protoUDP    = 17
	protoGRE    = 47
	protoICMPv6 = 58

	tcpFIN = 0x01
	tcpSYN = 0x02
	tcpRST = 0x04
	tcpPSH = 0x08
	tcpACK = 0x10
	tcpURG = 0x20
)

func be16(b []byte, v uint16) { binary.BigEndian.PutUint16(b, v) }

// ether frames l3 with the given ethertype behind VLAN tags (outermost
// first).
func ether(etype uint16, l3 []byte, tpids ...uint16) []byte {
	b := make([]byte, 12, 14+4*len(tpids)+len(l3))
	copy(b, []byte{2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2})
	for i, tp := range tpids {
		b = binary.BigEndian.AppendUint16(b, tp)
		b = binary.BigEndian.AppendUint16(b, uint16(100+i)) // VID
	}
	b = binary.BigEndian.AppendUint16(b, etype)
	return append(b, l3...)
}

func ip4(src, dst string, proto byte, l4 []byte) []byte {
	b := make([]byte, 20, 20+len(l4))
	b[0] = 0x45
	be16(b[2:], uint16(20+len(l4)))
	b[8] = 64
	b[9] = proto
	s, d := netip.MustParseAddr(src).As4(), netip.MustParseAddr(dst).As4()
	copy(b[12:], s[:])
	copy(b[16:], d[:])
	return append(b, l4...)
}

// ext is an IPv6 extension header: its type and its bytes after the
// next-header field (length byte included).
type ext struct {
	typ  byte
	body []byte
}

// opts is a Hop-by-Hop or Destination Options header with PadN only.
func opts(typ byte) ext { return ext{typ, []byte{0, 1, 4, 0, 0, 0, 0}} }

func ip6(src, dst string, proto byte, l4 []byte, exts ...ext) []byte {
	var chain []byte
	for i, e := range exts {
		next := proto
		if i+1 < len(exts) {
			next = exts[i+1].typ
		}
		chain = append(chain, next)
		chain = append(chain, e.body...)
	}
	b := make([]byte, 40, 40+len(chain)+len(l4))
	b[0] = 0x60
	be16(b[4:], uint16(len(chain)+len(l4)))
	b[6] = proto
	if len(exts) > 0 {
		b[6] = exts[0].typ
	}
	b[7] = 64
	s, d := netip.MustParseAddr(src).As16(), netip.MustParseAddr(dst).As16()
	copy(b[8:], s[:])
	copy(b[24:], d[:])
	b = append(b, chain...)
	return append(b, l4...)
}

func udp(sport, dport uint16, payload []byte) []byte {
	b := make([]byte, 8, 8+len(payload))
	be16(b, sport)
	be16(b[2:], dport)
	be16(b[4:], uint16(8+len(payload)))
	return append(b, payload...)
}

func tcp(sport, dport uint16, flags byte) []byte {
	b := make([]byte, 20)
	be16(b, sport)
	be16(b[2:], dport)
	b[12] = 5 << 4
	b[13] = flags
	be16(b[14:], 64240)
	return b
}

func icmp(typ, code byte) []byte {
	return append([]byte{typ, code, 0, 0, 0, 0, 0, 0}, make([]byte, 28)...)
}

// stunMsg is a STUN header with a body of n zero bytes.
func stunMsg(typ uint16, cookie uint32, n int) []byte {
	b := make([]byte, 20+n)
	be16(b, typ)
	be16(b[2:], uint16(n))
	binary.BigEndian.PutUint32(b[4:], cookie)
	copy(b[8:], "transaction!")
	return b
}

const magicCookie = 0x2112A442

// stunType encodes a method and class (0 request, 1 indication, 2 success,
// 3 error) into a message type (RFC 8489 5: class bits C1 C0 interleaved
// with the method bits).
func stunType(method uint16, class uint16) uint16 {
	return method&0x000f | (method&0x0070)<<1 | (method&0x0f80)<<2 | (class&1)<<4 | (class&2)<<7
}

func binding() []byte { return stunMsg(0x0001, magicCookie, 8) }

func arp() []byte {
	b := []byte{0, 1, 8, 0, 6, 4, 0, 1}
	b = append(b, 2, 0, 0, 0, 0, 2, 30, 0, 0, 1)
	return append(b, 0, 0, 0, 0, 0, 0, 20, 0, 0, 1)
}

// with returns a copy of b with fn applied: the way a case breaks a field.
func with(b []byte, fn func([]byte)) []byte {
	c := append([]byte(nil), b...)
	fn(c)
	return c
}

// udp4 and udp6 are the common frames of the tables.
func udp4(src string, sport, dport uint16, payload []byte) []byte {
	return ether(ethIPv4, ip4(src, own4, protoUDP, udp(sport, dport, payload)))
}

func udp6(src string, sport, dport uint16, payload []byte) []byte {
	return ether(ethIPv6, ip6(src, own6, protoUDP, udp(sport, dport, payload)))
}

func tcp4(src string, sport, dport uint16, flags byte) []byte {
	return ether(ethIPv4, ip4(src, own4, protoTCP, tcp(sport, dport, flags)))
}
