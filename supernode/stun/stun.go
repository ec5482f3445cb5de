// Package stun is the supernode's STUN codec (RFC 8489, with RFC 3489
// "classic" compatibility). It follows pion/stun's layout, one concept per
// file, and decodes in place: Message.Decode keeps slices into the datagram
// and reuses the Attributes slice, so the Binding path allocates nothing.
package stun

import "encoding/binary"

const (
	// MagicCookie is the fixed value of bytes 4..8 of every RFC 5389/8489
	// message (RFC 8489 section 5). Its absence marks an RFC 3489 request.
	MagicCookie uint32 = 0x2112A442
	// HeaderSize is the size of the STUN header (RFC 8489 section 5).
	HeaderSize = 20
	// TransactionIDSize is the 96-bit transaction ID (RFC 8489 section 5).
	TransactionIDSize = 12
	// attrHeaderSize is type (16 bit) + length (16 bit) (RFC 8489 section 14).
	attrHeaderSize = 4
	// MaxAttributes bounds the work one datagram can cause; no message of
	// ours or of a standard client comes close.
	MaxAttributes = 32
	// MaxMessageSize is the largest message we accept or build: a STUN
	// message must fit one UDP datagram and RFC 8489 section 6.1 advises
	// staying under the path MTU (576 bytes for IPv4 without discovery).
	MaxMessageSize = 1280
	// MaxReceiveSize is the largest datagram Decode accepts. It is larger
	// than what we build: RFC 5780 probes padded for path MTU tests
	// (turnutils_natdiscovery -P: a 1500-byte PADDING, 1532 bytes in all)
	// must be answered, and coturn pads its answers to a padded request
	// (1604 bytes) for our client. Larger requests cost us nothing in
	// amplification, since no reply is larger than MaxMessageSize.
	MaxReceiveSize = 1800
)

var bin = binary.BigEndian

// padded rounds n up to the 4-byte boundary every attribute value is padded
// to (RFC 8489 section 14).
func padded(n int) int { return (n + 3) &^ 3 }
