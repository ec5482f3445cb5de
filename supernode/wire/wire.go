// Package wire defines the supernode's own STUN methods and attributes:
// register (with a stateless cookie challenge), keepalive, lookup, the
// introduce indication and leave. It holds what client and server must agree
// on (numbers, cookie, signature and session-key rules); the server and
// client packages do the I/O. supernode/README.md ("Wire protocol") is the
// prose version of this file.
package wire

import "github.com/supernode-appliance/appliance/supernode/stun"

// Methods. RFC 8489 section 18.1 reserves 0x800-0xFFF for "Designated
// Expert" assignment; we use that range so standard methods never collide.
const (
	MethodRegister  stun.Method = 0x801
	MethodLookup    stun.Method = 0x802
	MethodIntroduce stun.Method = 0x803 // indication only
	MethodLeave     stun.Method = 0x804
	MethodKeepalive stun.Method = 0x805
)

// Attributes. All are comprehension-optional (0xC000-0xFFFF, RFC 8489
// section 18.3 "Designated Expert" range), so a plain STUN implementation
// that sees them skips them instead of answering 420.
const (
	AttrPeerID         stun.AttrType = 0xC001 // 32-byte Ed25519 public key of the sender
	AttrTargetID       stun.AttrType = 0xC002 // 32-byte public key of the peer looked up
	AttrLocalCandidate stun.AttrType = 0xC003 // XOR-encoded host address; repeatable, at most MaxCandidates
	AttrXORPeerAddress stun.AttrType = 0xC004 // XOR-encoded reflexive address of another peer
	AttrCookie         stun.AttrType = 0xC005 // stateless source-address cookie, CookieSize bytes
	AttrTimestamp      stun.AttrType = 0xC006 // 64-bit sender counter (unix ms), strictly increasing per peer
	AttrEphemeralKey   stun.AttrType = 0xC007 // 32-byte X25519 public key for the session key
	AttrSignature      stun.AttrType = 0xC008 // 64-byte Ed25519 signature over the message before it
	AttrLease          stun.AttrType = 0xC009 // 32-bit lease in seconds
	AttrPadding        stun.AttrType = 0xC00A // zeros; makes a request at least as large as its challenge
)

// Error codes (RFC 8489 section 14.8 leaves 4xx numbers free for methods
// that define them).
const (
	CodeBadRequest      = 400
	CodeNotFound        = 404 // lookup: the target is not registered
	CodeUnknownAttr     = 420
	CodeCookieRequired  = 470 // register: repeat with the COOKIE carried in this reply
	CodeDirectoryFull   = 471 // register: the directory is at max_peers; try another supernode
	CodeNotRegistered   = 472 // keepalive/lookup/leave: no session for this peer (or it moved); register again
	CodeQuota           = 473 // register: too many peers from the source's network (/24, /64 or /48); try later
	CodeIntroLimited    = 474 // lookup: the requester or the target has used up its introduction budget; try later
	CodeServerOverload  = 503
	ReasonCookie        = "Cookie Required"
	ReasonFull          = "Directory Full"
	ReasonNotRegistered = "Not Registered"
	ReasonNotFound      = "Peer Not Found"
	ReasonQuota         = "Quota Exceeded"
	ReasonIntroLimited  = "Introductions Rate Limited"
)

// Sizes.
const (
	KeySize        = 32 // Ed25519 public key and X25519 key
	SignatureSize  = 64
	SessionKeySize = 16 // HMAC-SHA256 key for MESSAGE-INTEGRITY-SHA256; 128 bits suffice for a lease-long key
	MaxCandidates  = 4  // local addresses per peer: bounds directory memory and reply size
	// MinRegisterSize is what a client pads its first register to, so the
	// cookie challenge (76 bytes for the longest case) is never larger than
	// the request that triggered it (no amplification, like QUIC's 1200-byte
	// Initial padding, RFC 9000 section 8.1).
	MinRegisterSize = 128
)

// Known reports whether t is an attribute type the supernode understands;
// requests with any other comprehension-required type get 420.
func Known(t stun.AttrType) bool {
	switch t {
	case stun.AttrMappedAddress, stun.AttrXORMappedAddress, stun.AttrMessageIntegrity,
		stun.AttrMessageIntegritySHA256, stun.AttrErrorCode, stun.AttrUnknownAttributes,
		stun.AttrUsername, stun.AttrRealm, stun.AttrNonce:
		return true
	}
	return !t.Required()
}

// PeerID is a peer's identity: its Ed25519 public key.
type PeerID [KeySize]byte
