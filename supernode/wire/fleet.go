package wire

import (
	"encoding/binary"
	"errors"

	"github.com/supernode-appliance/appliance/supernode/stun"
)

// The fleet's answer when no owner of a lookup target could answer (both
// died, or none replied in time): a lookup error distinct from 404, so a
// client can tell "nobody has registered that peer" from "the members that
// know are unreachable right now", with a hint of when to ask again.
const (
	CodeOwnersUnavailable   = 504 // lookup: the target's owners are unreachable; retry after RETRY-AFTER
	ReasonOwnersUnavailable = "Owners Unavailable"
	// AttrRetryAfter carries a 32-bit number of milliseconds after which
	// the request is worth repeating (comprehension-optional).
	AttrRetryAfter stun.AttrType = 0xC00B
)

// AddRetryAfter adds RETRY-AFTER in milliseconds.
func AddRetryAfter(m *stun.Message, ms uint32) {
	var b [4]byte
	binary.BigEndian.PutUint32(b[:], ms)
	m.Add(AttrRetryAfter, b[:])
}

// GetRetryAfter reads RETRY-AFTER in milliseconds.
func GetRetryAfter(m *stun.Message) (uint32, error) {
	v, ok := m.Get(AttrRetryAfter)
	if !ok || len(v) != 4 {
		return 0, errors.New("no RETRY-AFTER")
	}
	return binary.BigEndian.Uint32(v), nil
}
