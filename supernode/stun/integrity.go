package stun

import (
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha256"
	"hash"
)

// Sizes of the integrity attributes (RFC 8489 sections 14.5 and 14.6).
const (
	integritySize       = sha1.Size   // MESSAGE-INTEGRITY: HMAC-SHA1, 20 bytes
	integritySHA256Size = sha256.Size // MESSAGE-INTEGRITY-SHA256: we always send all 32 bytes
	minIntegritySHA256  = 16          // section 14.6: may be truncated to no fewer than 16 bytes
)

// AddMessageIntegrity appends MESSAGE-INTEGRITY (HMAC-SHA1 with key; the
// short-term key is the password, the long-term key MD5(user:realm:pass),
// RFC 8489 section 9).
func (m *Message) AddMessageIntegrity(key []byte) {
	m.addMAC(AttrMessageIntegrity, sha1.New, integritySize, key)
}

// AddMessageIntegritySHA256 appends MESSAGE-INTEGRITY-SHA256 (HMAC-SHA256).
// It allocates nothing once m's scratch buffer exists.
func (m *Message) AddMessageIntegritySHA256(key []byte) {
	start := len(m.Raw)
	v := m.grow(AttrMessageIntegritySHA256, integritySHA256Size)
	sum := m.hmacSHA256(key, m.Raw[:4], m.Raw[4:start])
	copy(v, sum[:])
}

// CheckMessageIntegrity verifies MESSAGE-INTEGRITY with key.
func (m *Message) CheckMessageIntegrity(key []byte) error {
	return m.checkMAC(AttrMessageIntegrity, sha1.New, key)
}

// CheckMessageIntegritySHA256 verifies MESSAGE-INTEGRITY-SHA256 with key.
// This is the keepalive hot path: it allocates nothing once m's scratch
// buffer exists (crypto/hmac allocates two hash states per key).
func (m *Message) CheckMessageIntegritySHA256(key []byte) error {
	i := m.Find(AttrMessageIntegritySHA256)
	if i < 0 {
		return ErrAttrNotFound
	}
	a := m.Attributes[i]
	if len(a.Value) < minIntegritySHA256 || len(a.Value) > integritySHA256Size || len(a.Value)%4 != 0 {
		return ErrBadAttribute
	}
	var hdr [4]byte
	copy(hdr[:], m.Raw[:4])
	bin.PutUint16(hdr[2:], uint16(int(a.Offset)+attrHeaderSize+integritySHA256Size-HeaderSize))
	sum := m.hmacSHA256(key, hdr[:], m.Raw[4:a.Offset])
	if !hmac.Equal(sum[:len(a.Value)], a.Value) {
		return ErrIntegrity
	}
	return nil
}

// hmacSHA256 is HMAC-SHA256 (RFC 2104) of hdr||body, computed with
// sha256.Sum256 over m's scratch buffer so nothing escapes to the heap.
func (m *Message) hmacSHA256(key, hdr, body []byte) [sha256.Size]byte {
	const block = 64
	var k [block]byte
	if len(key) > block {
		h := sha256.Sum256(key)
		copy(k[:], h[:])
	} else {
		copy(k[:], key)
	}
	need := block + len(hdr) + len(body)
	if cap(m.scratch) < need {
		m.scratch = make([]byte, 0, max(need, block+MaxMessageSize))
	}
	b := m.scratch[:block]
	for i := range k {
		b[i] = k[i] ^ 0x36
	}
	b = append(append(b, hdr...), body...)
	inner := sha256.Sum256(b)
	b = m.scratch[:block]
	for i := range k {
		b[i] = k[i] ^ 0x5c
	}
	b = append(b, inner[:]...)
	return sha256.Sum256(b)
}

func (m *Message) addMAC(t AttrType, h func() hash.Hash, size int, key []byte) {
	start := len(m.Raw)
	v := m.grow(t, size)
	// The length field now counts this attribute, exactly what the MAC must
	// cover (RFC 8489 section 14.5).
	mac := hmac.New(h, key)
	mac.Write(m.Raw[:start])
	var sum [sha256.Size]byte
	copy(v, mac.Sum(sum[:0]))
}

func (m *Message) checkMAC(t AttrType, h func() hash.Hash, key []byte) error {
	i := m.Find(t)
	if i < 0 {
		return ErrAttrNotFound
	}
	a := m.Attributes[i]
	switch {
	case t == AttrMessageIntegrity && len(a.Value) != integritySize,
		t == AttrMessageIntegritySHA256 && (len(a.Value) < minIntegritySHA256 || len(a.Value) > integritySHA256Size || len(a.Value)%4 != 0):
		return ErrBadAttribute
	}
	mac := hmac.New(h, key)
	m.writePrefix(mac, i)
	var sum [sha256.Size]byte
	if !hmac.Equal(mac.Sum(sum[:0])[:len(a.Value)], a.Value) {
		return ErrIntegrity
	}
	return nil
}

// writePrefix writes to w the bytes an integrity attribute at index i covers:
// the header with its length field rewritten to end at that attribute
// (attributes after it, such as FINGERPRINT, are excluded), then the body up
// to the attribute (RFC 8489 section 14.5).
func (m *Message) writePrefix(w interface{ Write([]byte) (int, error) }, i int) {
	a := m.Attributes[i]
	end := int(a.Offset) + attrHeaderSize + padded(len(a.Value))
	var hdr [4]byte
	copy(hdr[:], m.Raw[:4])
	bin.PutUint16(hdr[2:], uint16(end-HeaderSize))
	w.Write(hdr[:])
	w.Write(m.Raw[4:a.Offset])
}

// Prefix appends to dst the bytes an attribute at index i covers, in the
// same form as the integrity attributes (for signatures).
func (m *Message) Prefix(dst []byte, i int) []byte {
	a := m.Attributes[i]
	end := int(a.Offset) + attrHeaderSize + padded(len(a.Value))
	n := len(dst)
	dst = append(dst, m.Raw[:a.Offset]...)
	bin.PutUint16(dst[n+2:], uint16(end-HeaderSize))
	return dst
}

// PrefixForNext appends to dst the bytes an attribute of valueLen bytes that
// is about to be appended to m will cover (the signer's view of Prefix).
func (m *Message) PrefixForNext(dst []byte, valueLen int) []byte {
	n := len(dst)
	dst = append(dst, m.Raw...)
	bin.PutUint16(dst[n+2:], uint16(len(m.Raw)+attrHeaderSize+padded(valueLen)-HeaderSize))
	return dst
}
