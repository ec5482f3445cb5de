package stun

// Method is the 12-bit STUN method (RFC 8489 section 5).
type Method uint16

// Class is the 2-bit message class (RFC 8489 section 5).
type Class uint8

// Classes (RFC 8489 section 5).
const (
	ClassRequest    Class = 0b00
	ClassIndication Class = 0b01
	ClassSuccess    Class = 0b10
	ClassError      Class = 0b11
)

// MethodBinding is the only method RFC 8489 defines (section 18.2).
const MethodBinding Method = 0x001

// MessageType is a method and a class; on the wire they are interleaved in
// 14 bits as M11..M7 C1 M6..M4 C0 M3..M0 (RFC 8489 section 5, figure 3).
type MessageType struct {
	Method Method
	Class  Class
}

// Common message types.
var (
	BindingRequest = MessageType{MethodBinding, ClassRequest}
	BindingSuccess = MessageType{MethodBinding, ClassSuccess}
	BindingError   = MessageType{MethodBinding, ClassError}
)

// Value encodes t to its 16-bit wire form.
func (t MessageType) Value() uint16 {
	m := uint16(t.Method)
	c := uint16(t.Class)
	return m&0x000f | (m&0x0070)<<1 | (m&0x0f80)<<2 | (c&1)<<4 | (c&2)<<7
}

// ReadValue decodes the 16-bit wire form v.
func (t *MessageType) ReadValue(v uint16) {
	t.Method = Method(v&0x000f | (v&0x00e0)>>1 | (v&0x3e00)>>2)
	t.Class = Class((v>>4)&1 | (v>>7)&2)
}

func (c Class) String() string {
	switch c {
	case ClassRequest:
		return "request"
	case ClassIndication:
		return "indication"
	case ClassSuccess:
		return "success"
	default:
		return "error"
	}
}
