package stun

import "errors"

// Decode errors. They are values (not formatted) so the hot path never
// allocates, and the server counts drops by them.
var (
	ErrTruncated         = errors.New("stun: message shorter than its header or length field")
	ErrNotSTUN           = errors.New("stun: first two bits are not zero")
	ErrBadLength         = errors.New("stun: length field is not a multiple of 4 or disagrees with the datagram")
	ErrTooManyAttributes = errors.New("stun: too many attributes")
	ErrTooLarge          = errors.New("stun: message larger than MaxReceiveSize")
	ErrAttrTruncated     = errors.New("stun: attribute value runs past the end of the message")
	ErrAttrNotFound      = errors.New("stun: attribute not found")
	ErrBadAttribute      = errors.New("stun: attribute value malformed")
	ErrBadFamily         = errors.New("stun: unknown address family")
	ErrIntegrity         = errors.New("stun: message integrity check failed")
	ErrFingerprint       = errors.New("stun: fingerprint mismatch")
	ErrFingerprintOrder  = errors.New("stun: fingerprint is not the last attribute")
)
