package wire

import "crypto/sha256"

// hmacSHA256 is HMAC-SHA256 (RFC 2104) of the concatenation of msg, for a
// key of at most one SHA-256 block and a message of at most maxMACInput
// bytes: the sizes the cookies and the session key use. crypto/hmac
// allocates its two hash states on every call (six allocations per MAC);
// this computes the same value on the stack, so a registration allocates
// nothing. TestHMACMatchesStdlib checks it against crypto/hmac.
func hmacSHA256(key []byte, msg ...[]byte) (sum [sha256.Size]byte) {
	const block = 64
	if len(key) > block {
		panic("wire: HMAC key longer than a SHA-256 block")
	}
	var inner [block + maxMACInput]byte
	n := block
	for _, m := range msg {
		if n+len(m) > len(inner) {
			panic("wire: HMAC input longer than maxMACInput")
		}
		n += copy(inner[n:], m)
	}
	copy(inner[:block], key)
	for i := range block {
		inner[i] ^= 0x36
	}
	ih := sha256.Sum256(inner[:n])
	var outer [block + sha256.Size]byte
	copy(outer[:block], key)
	for i := range block {
		outer[i] ^= 0x5c
	}
	copy(outer[block:], ih[:])
	return sha256.Sum256(outer[:])
}

// maxMACInput bounds hmacSHA256's message: the session key's HKDF info
// (sessionInfo, the peer ID, the counter byte) is the longest.
const maxMACInput = 64

// sessionInfo starts the HKDF info of a session key; the peer ID follows.
const sessionInfo = "supernode session v1 "

// hkdfSessionKey is HKDF-SHA256 (RFC 5869) with an output of one block or
// less, as crypto/hkdf.Key(sha256.New, secret, salt, sessionInfo+peer, n)
// computes it: PRK = HMAC(salt, secret), OKM = HMAC(PRK, info || 0x01).
// TestHKDFMatchesStdlib checks it against crypto/hkdf.
func hkdfSessionKey(secret, salt []byte, peer *PeerID) (okm [sha256.Size]byte) {
	prk := hmacSHA256(salt, secret)
	return hmacSHA256(prk[:], []byte(sessionInfo), peer[:], []byte{1})
}
