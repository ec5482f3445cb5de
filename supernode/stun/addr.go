package stun

import "net/netip"

// Address families (RFC 8489 section 14.1).
const (
	familyIPv4 = 0x01
	familyIPv6 = 0x02
)

// AddMappedAddress appends a MAPPED-ADDRESS style attribute of type t holding
// ap in the clear (RFC 8489 section 14.1; RFC 3489 section 11.2.1).
func (m *Message) AddMappedAddress(t AttrType, ap netip.AddrPort) {
	m.addAddress(t, ap, false)
}

// AddXORAddress appends an XOR-MAPPED-ADDRESS style attribute of type t
// (RFC 8489 section 14.2): the port is XORed with the cookie's top half and
// the address with the cookie (IPv4) or cookie||transaction ID (IPv6), so NAT
// ALGs that rewrite addresses in payloads leave it alone.
func (m *Message) AddXORAddress(t AttrType, ap netip.AddrPort) {
	m.addAddress(t, ap, true)
}

// An IPv4-mapped IPv6 address (what a dual-stack socket reports for an IPv4
// peer) is sent with the IPv4 family: the peer's address is IPv4.
func (m *Message) addAddress(t AttrType, ap netip.AddrPort, xor bool) {
	a := ap.Addr().Unmap()
	port := ap.Port()
	if a.Is4() {
		v := m.grow(t, 8)
		v[1] = familyIPv4
		ip := a.As4()
		copy(v[4:], ip[:])
		bin.PutUint16(v[2:], port)
		if xor {
			m.xor(v[2:])
		}
		return
	}
	v := m.grow(t, 20)
	v[1] = familyIPv6
	ip := a.As16()
	copy(v[4:], ip[:])
	bin.PutUint16(v[2:], port)
	if xor {
		m.xor(v[2:])
	}
}

// xor applies the XOR-MAPPED-ADDRESS mask to port||address in place.
func (m *Message) xor(b []byte) {
	var mask [2 + 16]byte
	bin.PutUint16(mask[0:], uint16(MagicCookie>>16))
	bin.PutUint32(mask[2:], MagicCookie)
	copy(mask[6:], m.TransactionID[:])
	for i := range b {
		b[i] ^= mask[i]
	}
}

// MappedAddress decodes a MAPPED-ADDRESS style value.
func (m *Message) MappedAddress(v []byte) (netip.AddrPort, error) {
	return m.address(v, false)
}

// XORAddress decodes an XOR-MAPPED-ADDRESS style value of m.
func (m *Message) XORAddress(v []byte) (netip.AddrPort, error) {
	return m.address(v, true)
}

func (m *Message) address(v []byte, xor bool) (netip.AddrPort, error) {
	if len(v) < 4 {
		return netip.AddrPort{}, ErrBadAttribute
	}
	var b [2 + 16]byte
	var n int
	switch v[1] {
	case familyIPv4:
		n = 4
	case familyIPv6:
		n = 16
	default:
		return netip.AddrPort{}, ErrBadFamily
	}
	if len(v) != 4+n {
		return netip.AddrPort{}, ErrBadAttribute
	}
	copy(b[:], v[2:4+n])
	if xor {
		m.xor(b[:2+n])
	}
	port := bin.Uint16(b[0:])
	var a netip.Addr
	if n == 4 {
		a = netip.AddrFrom4([4]byte(b[2:6]))
	} else {
		a = netip.AddrFrom16([16]byte(b[2:18]))
	}
	return netip.AddrPortFrom(a, port), nil
}
