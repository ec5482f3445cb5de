package stun

// Error codes of RFC 8489 section 14.8 that the supernode sends.
const (
	CodeTryAlternate     = 300
	CodeBadRequest       = 400
	CodeUnauthenticated  = 401
	CodeUnknownAttribute = 420
	CodeStaleNonce       = 438
	CodeServerError      = 500
)

// maxReason is the longest reason phrase: RFC 8489 section 14.8 allows
// fewer than 128 characters (763 bytes).
const maxReason = 127

// AddErrorCode appends an ERROR-CODE attribute (RFC 8489 section 14.8):
// 21 reserved bits, the hundreds digit as "class", the rest as "number".
func (m *Message) AddErrorCode(code int, reason string) {
	if len(reason) > maxReason {
		reason = reason[:maxReason]
	}
	v := m.grow(AttrErrorCode, 4+len(reason))
	v[2] = byte(code / 100)
	v[3] = byte(code % 100)
	copy(v[4:], reason)
}

// ParseErrorCode decodes an ERROR-CODE value. The reason aliases v.
func ParseErrorCode(v []byte) (code int, reason []byte, err error) {
	if len(v) < 4 {
		return 0, nil, ErrBadAttribute
	}
	class, number := int(v[2]&0x07), int(v[3])
	if class < 3 || class > 6 || number > 99 {
		return 0, nil, ErrBadAttribute
	}
	return class*100 + number, v[4:], nil
}
