package stun

import (
	"crypto/rand"
)

// Message is one STUN message. Decode fills it from Raw without copying;
// the Build methods append to Raw. A Message is reused across datagrams so
// the hot path allocates nothing.
type Message struct {
	Type MessageType
	// Length is the body length from the header (without the 20-byte header).
	Length int
	// Cookie is bytes 4..8 of the header: MagicCookie for RFC 5389/8489, any
	// other value for RFC 3489, where those bytes are part of a 128-bit
	// transaction ID that a reply must echo.
	Cookie        uint32
	TransactionID [TransactionIDSize]byte
	Attributes    []RawAttribute
	Raw           []byte
	scratch       []byte // HMAC input buffer, reused
}

// New returns a message with room for a full datagram, so building replies
// into it never reallocates.
func New() *Message {
	return &Message{Raw: make([]byte, 0, MaxMessageSize), Attributes: make([]RawAttribute, 0, MaxAttributes)}
}

// Classic reports whether the message is an RFC 3489 message (no magic
// cookie). Such requests are answered with MAPPED-ADDRESS (RFC 8489 section
// 12, backwards compatibility).
func (m *Message) Classic() bool { return m.Cookie != MagicCookie }

// NewTransactionID returns a random transaction ID (RFC 8489 section 5:
// "uniformly and randomly chosen from the interval 0 .. 2**96-1").
func NewTransactionID() (id [TransactionIDSize]byte) {
	rand.Read(id[:])
	return id
}

// Decode parses b as one complete STUN message. m keeps slices into b (no
// copy), so b must stay unchanged while m is in use.
func (m *Message) Decode(b []byte) error {
	m.Raw = b
	m.Attributes = m.Attributes[:0]
	if len(b) < HeaderSize {
		return ErrTruncated
	}
	if len(b) > MaxReceiveSize {
		return ErrTooLarge
	}
	v := bin.Uint16(b[0:2])
	if v&0xc000 != 0 {
		return ErrNotSTUN
	}
	m.Type.ReadValue(v)
	m.Length = int(bin.Uint16(b[2:4]))
	m.Cookie = bin.Uint32(b[4:8])
	copy(m.TransactionID[:], b[8:HeaderSize])
	switch {
	case m.Length%4 != 0:
		return ErrBadLength
	case HeaderSize+m.Length > len(b):
		return ErrTruncated
	case HeaderSize+m.Length < len(b):
		// A datagram carries exactly one message (RFC 8489 section 6.2.1);
		// trailing bytes mean it is not what it claims to be.
		return ErrBadLength
	}
	off := HeaderSize
	for off < len(b) {
		if len(b)-off < attrHeaderSize {
			return ErrAttrTruncated
		}
		if len(m.Attributes) == MaxAttributes {
			return ErrTooManyAttributes
		}
		t := AttrType(bin.Uint16(b[off:]))
		n := int(bin.Uint16(b[off+2:]))
		end := off + attrHeaderSize + n
		if end > len(b) {
			return ErrAttrTruncated
		}
		m.Attributes = append(m.Attributes, RawAttribute{Type: t, Offset: uint16(off), Value: b[off+attrHeaderSize : end]})
		off = off + attrHeaderSize + padded(n)
	}
	if off != len(b) {
		return ErrAttrTruncated
	}
	return nil
}

// Reset empties m for building a new message, keeping its buffers.
func (m *Message) Reset() {
	m.Raw = m.Raw[:0]
	m.Attributes = m.Attributes[:0]
	m.Length = 0
}

// Build resets m and writes a header for type t with the given cookie field
// and transaction ID. Replies pass the request's Cookie and TransactionID so
// RFC 3489 clients get their 128-bit ID back.
func (m *Message) Build(t MessageType, cookie uint32, id [TransactionIDSize]byte) {
	m.Reset()
	m.Type = t
	m.Cookie = cookie
	m.TransactionID = id
	m.Raw = append(m.Raw, make([]byte, HeaderSize)...)
	bin.PutUint16(m.Raw[0:], t.Value())
	bin.PutUint32(m.Raw[4:], cookie)
	copy(m.Raw[8:], id[:])
}

// Reply starts a response of class c to request req, into m.
func (m *Message) Reply(req *Message, c Class) {
	m.Build(MessageType{req.Type.Method, c}, req.Cookie, req.TransactionID)
}

// UnknownRequired appends to dst the comprehension-required attribute types
// of m for which known returns false, for a 420 reply (RFC 8489 section
// 7.3.1).
func (m *Message) UnknownRequired(dst []AttrType, known func(AttrType) bool) []AttrType {
	for i := range m.Attributes {
		if t := m.Attributes[i].Type; t.Required() && !known(t) {
			dst = append(dst, t)
		}
	}
	return dst
}
