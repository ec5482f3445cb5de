package wire

import (
	"crypto/hmac"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"net/netip"
	"sync"
	"time"
)

// CookieSize is the COOKIE value: a 4-byte time bucket number and a 16-byte
// truncated HMAC-SHA256.
const CookieSize = 4 + 16

// Cookie errors, counted by the server as drop reasons.
var (
	ErrCookieMissing = errors.New("wire: no cookie")
	ErrCookieExpired = errors.New("wire: cookie from an expired time bucket")
	ErrCookieInvalid = errors.New("wire: cookie does not match the source address")
)

// Cookies issues and checks stateless source-address cookies: HMAC(secret of
// the time bucket, bucket || source IP || source port). Like QUIC Retry
// tokens (RFC 9000 section 8.1.2) and DTLS HelloVerifyRequest (RFC 6347
// section 4.2.1), a correct cookie proves the sender receives packets at its
// source address, so the server keeps no state for spoofed sources. Each
// bucket has its own random secret, kept for two buckets and then forgotten,
// so a cookie is valid for between one and two bucket lengths and a leaked
// secret stops mattering quickly.
type Cookies struct {
	bucket time.Duration
	mu     sync.RWMutex
	cur    uint32 // bucket number of secrets[0]
	secret [2][32]byte
}

// NewCookies returns a cookie jar with the given bucket length.
func NewCookies(bucket time.Duration) *Cookies {
	c := &Cookies{bucket: bucket}
	rand.Read(c.secret[0][:])
	rand.Read(c.secret[1][:])
	return c
}

// bucketAt is the time bucket of now; if the clock stepped back, the
// newest bucket already used, so cookies stay issuable and verifiable.
func (c *Cookies) bucketAt(now time.Time) uint32 {
	b := uint32(now.UnixNano() / int64(c.bucket))
	c.mu.RLock()
	defer c.mu.RUnlock()
	return max(b, c.cur)
}

// secretFor returns the secret of bucket b, first rotating if the clock has
// entered a new bucket (now); ok is false for buckets older than the
// previous one. Time never rotates backwards.
func (c *Cookies) secretFor(b uint32, now uint32) (s [32]byte, ok bool) {
	c.mu.RLock()
	if now > c.cur {
		c.mu.RUnlock()
		c.mu.Lock()
		if now > c.cur {
			if now == c.cur+1 {
				c.secret[1] = c.secret[0]
			} else {
				rand.Read(c.secret[1][:])
			}
			rand.Read(c.secret[0][:])
			c.cur = now
		}
		c.mu.Unlock()
		c.mu.RLock()
	}
	defer c.mu.RUnlock()
	switch b {
	case c.cur:
		return c.secret[0], true
	case c.cur - 1:
		return c.secret[1], true
	}
	return s, false
}

// Issue returns the cookie for src at time now.
func (c *Cookies) Issue(src netip.AddrPort, now time.Time) (out [CookieSize]byte) {
	b := c.bucketAt(now)
	s, _ := c.secretFor(b, b)
	binary.BigEndian.PutUint32(out[:4], b)
	mac(&s, b, src, out[4:])
	return out
}

// Verify checks cookie v for src at time now.
func (c *Cookies) Verify(v []byte, src netip.AddrPort, now time.Time) error {
	if len(v) != CookieSize {
		return ErrCookieInvalid
	}
	b := binary.BigEndian.Uint32(v[:4])
	cur := c.bucketAt(now)
	if b > cur {
		return ErrCookieInvalid
	}
	s, ok := c.secretFor(b, cur)
	if !ok {
		return ErrCookieExpired
	}
	var want [16]byte
	mac(&s, b, src, want[:])
	if !hmac.Equal(want[:], v[4:]) {
		return ErrCookieInvalid
	}
	return nil
}

func mac(secret *[32]byte, bucket uint32, src netip.AddrPort, out []byte) {
	var in [4 + 16 + 2]byte
	binary.BigEndian.PutUint32(in[:4], bucket)
	ip := src.Addr().Unmap().As16()
	copy(in[4:], ip[:])
	binary.BigEndian.PutUint16(in[20:], src.Port())
	sum := hmacSHA256(secret[:], in[:])
	copy(out, sum[:])
}
