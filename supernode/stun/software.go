package stun

// MaxSoftware is the longest SOFTWARE value we emit: RFC 8489 section 14.14
// allows fewer than 128 characters and at most 763 bytes.
const MaxSoftware = 127

// AddSoftware appends a SOFTWARE attribute (RFC 8489 section 14.14),
// truncated to MaxSoftware bytes.
func (m *Message) AddSoftware(s string) {
	if len(s) > MaxSoftware {
		s = s[:MaxSoftware]
	}
	copy(m.grow(AttrSoftware, len(s)), s)
}
