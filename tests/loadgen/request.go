// Package loadgen is a STUN Binding load generator used to compare the
// supernode with coturn. It encodes and checks messages itself, with no code
// from either server (neither the supernode's codec nor pion/stun), so the
// same, independent generator measures both.
package loadgen

import (
	"encoding/binary"
	"net/netip"
)

// Wire constants from RFC 8489.
const (
	headerLen          = 20         // §5: type, length, magic cookie, transaction id
	magicCookie        = 0x2112A442 // §5
	bindingRequest     = 0x0001     // §18.1 method 0x001, class request
	bindingSuccess     = 0x0101     // class success response
	attrXORMapped      = 0x0020     // §14.2 XOR-MAPPED-ADDRESS
	attrMapped         = 0x0001     // §14.1 MAPPED-ADDRESS (RFC 3489 servers)
	familyIPv4         = 0x01
	familyIPv6         = 0x02
	transactionIDLen   = 12
	transactionIDStart = 8
)

// putRequest writes a 20-byte Binding request with transaction id tid into
// b. No attributes: the smallest request every server must answer, so the
// benchmark measures the server's packet path, not attribute parsing.
func putRequest(b []byte, tid [transactionIDLen]byte) {
	binary.BigEndian.PutUint16(b[0:2], bindingRequest)
	binary.BigEndian.PutUint16(b[2:4], 0)
	binary.BigEndian.PutUint32(b[4:8], magicCookie)
	copy(b[transactionIDStart:headerLen], tid[:])
}

// response is what checkResponse learns from a datagram.
type response struct {
	tid    [transactionIDLen]byte
	mapped netip.AddrPort // zero if the response carried no (XOR-)MAPPED-ADDRESS
}

// parseResponse validates a Binding success response: header, declared
// length within the datagram, 4-byte aligned attributes (RFC 8489 §14), and
// decodes XOR-MAPPED-ADDRESS (or MAPPED-ADDRESS when only that is present).
// It reports false for anything else: wrong class, method, cookie, or a
// truncated attribute.
func parseResponse(b []byte) (response, bool) {
	var r response
	if len(b) < headerLen ||
		binary.BigEndian.Uint16(b[0:2]) != bindingSuccess ||
		binary.BigEndian.Uint32(b[4:8]) != magicCookie {
		return r, false
	}
	n := int(binary.BigEndian.Uint16(b[2:4]))
	if n%4 != 0 || headerLen+n > len(b) {
		return r, false
	}
	copy(r.tid[:], b[transactionIDStart:headerLen])
	var plain netip.AddrPort
	attrs := b[headerLen : headerLen+n]
	for len(attrs) > 0 {
		if len(attrs) < 4 {
			return r, false
		}
		typ := binary.BigEndian.Uint16(attrs[0:2])
		alen := int(binary.BigEndian.Uint16(attrs[2:4]))
		padded := (alen + 3) &^ 3
		if 4+padded > len(attrs) {
			return r, false
		}
		val := attrs[4 : 4+alen]
		switch typ {
		case attrXORMapped:
			ap, ok := decodeAddr(val, b[4:headerLen], true)
			if !ok {
				return r, false
			}
			r.mapped = ap
		case attrMapped:
			if ap, ok := decodeAddr(val, nil, false); ok {
				plain = ap
			}
		}
		attrs = attrs[4+padded:]
	}
	if !r.mapped.IsValid() {
		r.mapped = plain
	}
	return r, true
}

// decodeAddr decodes a (XOR-)MAPPED-ADDRESS value without allocating. For
// XOR, key is the magic cookie followed by the transaction id (RFC 8489
// §14.2).
func decodeAddr(v, key []byte, xor bool) (netip.AddrPort, bool) {
	if len(v) < 4 {
		return netip.AddrPort{}, false
	}
	port := binary.BigEndian.Uint16(v[2:4])
	if xor {
		port ^= uint16(magicCookie >> 16)
	}
	var ip [16]byte
	var n int
	switch v[1] {
	case familyIPv4:
		n = 4
	case familyIPv6:
		n = 16
	default:
		return netip.AddrPort{}, false
	}
	if len(v) != 4+n {
		return netip.AddrPort{}, false
	}
	copy(ip[:n], v[4:])
	if xor {
		for i := 0; i < n; i++ {
			ip[i] ^= key[i]
		}
	}
	if n == 4 {
		return netip.AddrPortFrom(netip.AddrFrom4([4]byte(ip[:4])), port), true
	}
	return netip.AddrPortFrom(netip.AddrFrom16(ip), port), true
}
