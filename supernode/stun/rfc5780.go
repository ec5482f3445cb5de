package stun

// NAT behaviour discovery attributes (RFC 5780 section 7, and the RFC 3489
// names classic clients read). OTHER-ADDRESS, RESPONSE-ORIGIN, SOURCE-
// ADDRESS and CHANGED-ADDRESS use the MAPPED-ADDRESS encoding
// (AddMappedAddress / MappedAddress): no XOR.
const (
	AttrChangeRequest  AttrType = 0x0003 // RFC 5780 7.2 (RFC 3489 11.2.4)
	AttrSourceAddress  AttrType = 0x0004 // RFC 3489 11.2.5: RESPONSE-ORIGIN's classic name
	AttrChangedAddress AttrType = 0x0005 // RFC 3489 11.2.3: OTHER-ADDRESS's classic name
	AttrPadding        AttrType = 0x0026 // RFC 5780 7.6
	AttrResponsePort   AttrType = 0x0027 // RFC 5780 7.5
	AttrResponseOrigin AttrType = 0x802B // RFC 5780 7.3
	AttrOtherAddress   AttrType = 0x802C // RFC 5780 7.4
)

// CHANGE-REQUEST flags (RFC 5780 section 7.2): bit "A" asks for a reply
// from the other IP address, bit "B" from the other port.
const (
	ChangeIP   uint32 = 0x04
	ChangePort uint32 = 0x02
)

// AddChangeRequest appends CHANGE-REQUEST with the given flags.
func (m *Message) AddChangeRequest(changeIP, changePort bool) {
	v := m.grow(AttrChangeRequest, 4)
	if changeIP {
		v[3] |= byte(ChangeIP)
	}
	if changePort {
		v[3] |= byte(ChangePort)
	}
}

// ParseChangeRequest decodes a CHANGE-REQUEST value: exactly 4 bytes
// (RFC 5780 section 7.2); other bits than A and B are ignored, as the RFC
// says of unassigned flags.
func ParseChangeRequest(v []byte) (changeIP, changePort bool, err error) {
	if len(v) != 4 {
		return false, false, ErrBadAttribute
	}
	f := bin.Uint32(v)
	return f&ChangeIP != 0, f&ChangePort != 0, nil
}

// AddPadding appends a PADDING attribute of n zero bytes (RFC 5780 section
// 7.6), to make a request as large as the answer it asks for.
func (m *Message) AddPadding(n int) { m.grow(AttrPadding, n) }
