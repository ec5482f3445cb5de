package wire

import (
	"crypto/subtle"

	"filippo.io/edwards25519/field"
)

// x25519 sets out to X25519(scalar, point) (RFC 7748 section 5) and reports
// false when the result is all zeros (a low-order point: RFC 7748 section
// 6.1 says to abort), as crypto/ecdh does. crypto/ecdh allocates its public
// key copy, the key object and the result on every call; this is the same
// Montgomery ladder over the same constant-time field arithmetic
// (filippo.io/edwards25519/field, the package Go's standard library vendors
// for it) with every value on the stack. TestX25519MatchesStdlib checks it
// against crypto/ecdh on the RFC's vectors, random keys and the low-order
// points.
func x25519(out *[32]byte, scalar, point *[32]byte) bool {
	var k [32]byte
	copy(k[:], scalar[:])
	k[0] &= 248
	k[31] &= 127
	k[31] |= 64

	var x1, x2, z2, x3, z3 field.Element
	var a, aa, b, bb, e, c, d, da, cb field.Element
	x1.SetBytes(point[:]) // 32 bytes: cannot fail; the top bit is ignored
	x2.One()
	x3.Set(&x1)
	z3.One()

	swap := 0
	for t := 254; t >= 0; t-- {
		kt := int(k[t/8]>>uint(t%8)) & 1
		swap ^= kt
		x2.Swap(&x3, swap)
		z2.Swap(&z3, swap)
		swap = kt

		a.Add(&x2, &z2)
		aa.Square(&a)
		b.Subtract(&x2, &z2)
		bb.Square(&b)
		e.Subtract(&aa, &bb)
		c.Add(&x3, &z3)
		d.Subtract(&x3, &z3)
		da.Multiply(&d, &a)
		cb.Multiply(&c, &b)
		x3.Add(&da, &cb)
		x3.Square(&x3)
		z3.Subtract(&da, &cb)
		z3.Square(&z3)
		z3.Multiply(&x1, &z3)
		x2.Multiply(&aa, &bb)
		z2.Mult32(&e, 121665) // a24 = (486662 - 2) / 4
		z2.Add(&aa, &z2)
		z2.Multiply(&e, &z2)
	}
	x2.Swap(&x3, swap)
	z2.Swap(&z3, swap)

	z2.Invert(&z2)
	x2.Multiply(&x2, &z2)
	copy(out[:], x2.Bytes())
	var zero [32]byte
	return subtle.ConstantTimeCompare(out[:], zero[:]) == 0
}
