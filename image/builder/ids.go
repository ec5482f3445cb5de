package builder

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"github.com/supernode-appliance/appliance/hardening"
	"strings"
)

// DerivedUUID is a stable UUID (version 4 layout) from the build inputs, so
// filesystem, verity and disk identifiers are the same in two builds of the
// same inputs (reproducible images) yet differ between images.
func DerivedUUID(parts ...string) string {
	h := sha256.Sum256([]byte(strings.Join(parts, "\x00")))
	b := h[:16]
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return formatUUID(b)
}

func formatUUID(b []byte) string {
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// VerityPartUUIDs: see hardening.VerityPartUUIDs.
func VerityPartUUIDs(rootHash string) (data, hash string, err error) {
	return hardening.VerityPartUUIDs(rootHash)
}

func derivedHex(n int, parts ...string) string {
	h := sha256.Sum256([]byte(strings.Join(parts, "\x00")))
	return hex.EncodeToString(h[:])[:n]
}
