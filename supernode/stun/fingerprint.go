package stun

import "hash/crc32"

// fingerprintXOR is XORed into the CRC-32 so FINGERPRINT differs from a CRC
// other protocols might carry (RFC 8489 section 14.7).
const fingerprintXOR uint32 = 0x5354554e

const fingerprintSize = 4

// AddFingerprint appends FINGERPRINT; it must be the last attribute. The CRC
// covers the message up to the attribute with the length field already
// counting it (RFC 8489 section 14.7).
func (m *Message) AddFingerprint() {
	start := len(m.Raw)
	v := m.grow(AttrFingerprint, fingerprintSize)
	bin.PutUint32(v, crc32.ChecksumIEEE(m.Raw[:start])^fingerprintXOR)
}

// CheckFingerprint verifies FINGERPRINT if present. It returns
// ErrAttrNotFound when absent so callers decide whether it is mandatory.
func (m *Message) CheckFingerprint() error {
	i := m.Find(AttrFingerprint)
	if i < 0 {
		return ErrAttrNotFound
	}
	a := m.Attributes[i]
	if i != len(m.Attributes)-1 {
		return ErrFingerprintOrder
	}
	if len(a.Value) != fingerprintSize {
		return ErrBadAttribute
	}
	// The fingerprint is last, so the length field already covers it and
	// the CRC input is simply everything before the attribute.
	if crc32.ChecksumIEEE(m.Raw[:a.Offset])^fingerprintXOR != bin.Uint32(a.Value) {
		return ErrFingerprint
	}
	return nil
}
