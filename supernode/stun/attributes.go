package stun

// AttrType is a STUN attribute type (RFC 8489 section 14). Types below 0x8000
// are comprehension-required: a receiver that does not know one must reject
// the request with 420 (section 7.3.1).
type AttrType uint16

// Attribute types from RFC 8489 section 18.3 (and RFC 3489 for MAPPED-ADDRESS).
const (
	AttrMappedAddress          AttrType = 0x0001
	AttrUsername               AttrType = 0x0006
	AttrMessageIntegrity       AttrType = 0x0008
	AttrErrorCode              AttrType = 0x0009
	AttrUnknownAttributes      AttrType = 0x000A
	AttrRealm                  AttrType = 0x0014
	AttrNonce                  AttrType = 0x0015
	AttrMessageIntegritySHA256 AttrType = 0x001C
	AttrPasswordAlgorithm      AttrType = 0x001D
	AttrUserhash               AttrType = 0x001E
	AttrXORMappedAddress       AttrType = 0x0020
	AttrPasswordAlgorithms     AttrType = 0x8002
	AttrAlternateDomain        AttrType = 0x8003
	AttrSoftware               AttrType = 0x8022
	AttrAlternateServer        AttrType = 0x8023
	AttrFingerprint            AttrType = 0x8028
)

// Required reports whether t is comprehension-required (RFC 8489 section 14).
func (t AttrType) Required() bool { return t < 0x8000 }

// RawAttribute is one attribute as found in a decoded message. Value aliases
// Message.Raw; Offset is where the attribute header starts in Raw, which the
// integrity and fingerprint checks need.
type RawAttribute struct {
	Type   AttrType
	Offset uint16
	Value  []byte
}

// Get returns the value of the first attribute of type t. RFC 8489 section
// 14: "only the first occurrence needs to be processed".
func (m *Message) Get(t AttrType) ([]byte, bool) {
	for i := range m.Attributes {
		if m.Attributes[i].Type == t {
			return m.Attributes[i].Value, true
		}
	}
	return nil, false
}

// Find returns the index of the first attribute of type t, or -1.
func (m *Message) Find(t AttrType) int {
	for i := range m.Attributes {
		if m.Attributes[i].Type == t {
			return i
		}
	}
	return -1
}

// Add appends an attribute with value v (padded with zeros) and updates the
// header's length field.
func (m *Message) Add(t AttrType, v []byte) {
	copy(m.grow(t, len(v)), v)
}

// grow appends an attribute header for a value of n bytes plus padding and
// returns the value bytes to fill in, so callers encode without temporaries.
func (m *Message) grow(t AttrType, n int) []byte {
	start := len(m.Raw)
	total := attrHeaderSize + padded(n)
	// The compiler turns append(s, make(n)...) into an in-place zeroed
	// extension: no temporary, and padding bytes are zero as required.
	m.Raw = append(m.Raw, make([]byte, total)...)
	bin.PutUint16(m.Raw[start:], uint16(t))
	bin.PutUint16(m.Raw[start+2:], uint16(n))
	m.setLength()
	return m.Raw[start+attrHeaderSize : start+attrHeaderSize+n]
}

func (m *Message) setLength() {
	m.Length = len(m.Raw) - HeaderSize
	bin.PutUint16(m.Raw[2:], uint16(m.Length))
}
