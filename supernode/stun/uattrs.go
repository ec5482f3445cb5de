package stun

// AddUnknownAttributes appends UNKNOWN-ATTRIBUTES (RFC 8489 section 14.9),
// the list that accompanies a 420 error.
func (m *Message) AddUnknownAttributes(types []AttrType) {
	v := m.grow(AttrUnknownAttributes, 2*len(types))
	for i, t := range types {
		bin.PutUint16(v[2*i:], uint16(t))
	}
}

// ParseUnknownAttributes decodes an UNKNOWN-ATTRIBUTES value, appending to dst.
func ParseUnknownAttributes(dst []AttrType, v []byte) ([]AttrType, error) {
	if len(v)%2 != 0 {
		return dst, ErrBadAttribute
	}
	for i := 0; i < len(v); i += 2 {
		dst = append(dst, AttrType(bin.Uint16(v[i:])))
	}
	return dst, nil
}
