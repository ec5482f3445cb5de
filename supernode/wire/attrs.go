package wire

import (
	"encoding/binary"
	"errors"
	"net/netip"

	"github.com/supernode-appliance/appliance/supernode/stun"
)

// Parse errors, counted by the server as drop reasons.
var (
	ErrMissing       = errors.New("wire: mandatory attribute missing")
	ErrMalformed     = errors.New("wire: attribute malformed")
	ErrTooMany       = errors.New("wire: more than MaxCandidates candidates")
	ErrBadSignature  = errors.New("wire: signature does not verify")
	ErrSignatureLast = errors.New("wire: SIGNATURE is not followed only by FINGERPRINT")
)

// AddPeerID appends a 32-byte key attribute (PEER-ID or TARGET-ID).
func AddPeerID(m *stun.Message, t stun.AttrType, id PeerID) { m.Add(t, id[:]) }

// GetPeerID reads a 32-byte key attribute.
func GetPeerID(m *stun.Message, t stun.AttrType) (id PeerID, err error) {
	v, ok := m.Get(t)
	if !ok {
		return id, ErrMissing
	}
	if len(v) != KeySize {
		return id, ErrMalformed
	}
	return PeerID(v), nil
}

// AddStamp appends TIMESTAMP.
func AddStamp(m *stun.Message, stamp uint64) {
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], stamp)
	m.Add(AttrTimestamp, b[:])
}

// GetStamp reads TIMESTAMP.
func GetStamp(m *stun.Message) (uint64, error) {
	v, ok := m.Get(AttrTimestamp)
	if !ok {
		return 0, ErrMissing
	}
	if len(v) != 8 {
		return 0, ErrMalformed
	}
	return binary.BigEndian.Uint64(v), nil
}

// AddLease appends LEASE in whole seconds.
func AddLease(m *stun.Message, seconds uint32) {
	var b [4]byte
	binary.BigEndian.PutUint32(b[:], seconds)
	m.Add(AttrLease, b[:])
}

// GetLease reads LEASE.
func GetLease(m *stun.Message) (uint32, error) {
	v, ok := m.Get(AttrLease)
	if !ok {
		return 0, ErrMissing
	}
	if len(v) != 4 {
		return 0, ErrMalformed
	}
	return binary.BigEndian.Uint32(v), nil
}

// Candidates is a peer's list of local (host) addresses.
type Candidates struct {
	N    uint8
	Addr [MaxCandidates]netip.AddrPort
}

// Slice returns the used part.
func (c *Candidates) Slice() []netip.AddrPort { return c.Addr[:c.N] }

// AddCandidates appends one LOCAL-CANDIDATE per address.
func AddCandidates(m *stun.Message, c *Candidates) {
	for _, a := range c.Slice() {
		m.AddXORAddress(AttrLocalCandidate, a)
	}
}

// GetCandidates reads every LOCAL-CANDIDATE of m.
func GetCandidates(m *stun.Message, c *Candidates) error {
	c.N = 0
	for _, a := range m.Attributes {
		if a.Type != AttrLocalCandidate {
			continue
		}
		if c.N == MaxCandidates {
			return ErrTooMany
		}
		ap, err := m.XORAddress(a.Value)
		if err != nil || !ap.IsValid() {
			return ErrMalformed
		}
		c.Addr[c.N] = ap
		c.N++
	}
	return nil
}
