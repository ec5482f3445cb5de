package client

import (
	"bytes"
	"crypto/ecdh"
	"crypto/ed25519"
	"crypto/hkdf"
	"crypto/sha256"
	"crypto/sha512"
	"errors"
	"math/big"

	"github.com/supernode-appliance/appliance/supernode/wire"
)

// pairKeySize is the HMAC-SHA256 key that authenticates punches between
// two peers (MESSAGE-INTEGRITY-SHA256, RFC 8489 section 14.6).
const pairKeySize = 32

// PairKey is the key two peers share without sending anything: X25519
// (RFC 7748) between our Ed25519 identity and theirs, each converted to its
// Montgomery form (the birational map of RFC 7748 section 4.1, as
// libsodium's crypto_sign_ed25519_*_to_curve25519 does), then HKDF-SHA256
// (RFC 5869) salted with both identities in sorted order, so both ends
// derive the same key.
//
// Why not a MAC over the supernode's introduction nonce: the supernode
// would know that key and could forge punches, and today the requester does
// not even receive the nonce. With the static pair key only the two
// introduced peers can authenticate a punch; freshness comes from the
// transaction IDs: an address is adopted only after it answers a probe we
// sent with a fresh transaction ID, under the pair key (see prflx.go), so
// replaying an old punch from elsewhere adopts nothing.
func PairKey(priv ed25519.PrivateKey, peer wire.PeerID) ([pairKeySize]byte, error) {
	var key [pairKeySize]byte
	h := sha512.Sum512(priv.Seed())
	mine, err := ecdh.X25519().NewPrivateKey(h[:32]) // X25519 clamps the scalar itself
	if err != nil {
		return key, err
	}
	u, err := edwardsToMontgomery(peer[:])
	if err != nil {
		return key, err
	}
	theirs, err := ecdh.X25519().NewPublicKey(u)
	if err != nil {
		return key, err
	}
	shared, err := mine.ECDH(theirs) // fails on low-order points (all-zero result)
	if err != nil {
		return key, err
	}
	self := priv.Public().(ed25519.PublicKey)
	a, b := self, ed25519.PublicKey(peer[:])
	if bytes.Compare(a, b) > 0 {
		a, b = b, a
	}
	k, err := hkdf.Key(sha256.New, shared, append(append([]byte(nil), a...), b...), "supernode punch v1", pairKeySize)
	if err != nil {
		return key, err
	}
	return [pairKeySize]byte(k), nil
}

// p25519 is the field prime 2^255 - 19.
var p25519 = new(big.Int).Sub(new(big.Int).Lsh(big.NewInt(1), 255), big.NewInt(19))

// edwardsToMontgomery maps an Ed25519 public key (little-endian y, sign of x
// in the top bit) to the X25519 u-coordinate u = (1 + y) / (1 - y) mod p.
func edwardsToMontgomery(pub []byte) ([]byte, error) {
	if len(pub) != ed25519.PublicKeySize {
		return nil, errors.New("peer key is not 32 bytes")
	}
	le := append([]byte(nil), pub...)
	le[31] &= 0x7f
	y := new(big.Int).SetBytes(reverse(le))
	if y.Cmp(p25519) >= 0 {
		return nil, errors.New("peer key is not a canonical Ed25519 point")
	}
	one := big.NewInt(1)
	den := new(big.Int).Sub(one, y)
	den.Mod(den, p25519)
	if den.Sign() == 0 {
		return nil, errors.New("peer key is the identity point")
	}
	u := new(big.Int).Add(one, y)
	u.Mul(u, den.ModInverse(den, p25519))
	u.Mod(u, p25519)
	out := make([]byte, 32)
	u.FillBytes(out)
	return reverse(out), nil
}

func reverse(b []byte) []byte {
	for i, j := 0, len(b)-1; i < j; i, j = i+1, j-1 {
		b[i], b[j] = b[j], b[i]
	}
	return b
}
