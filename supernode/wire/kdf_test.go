package wire

import (
	"bytes"
	"crypto/ecdh"
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"math/big"
	"net/netip"
	"testing"
	"time"
)

func TestHMACMatchesStdlib(t *testing.T) {
	for klen := 0; klen <= 64; klen += 7 {
		for mlen := 0; mlen <= maxMACInput; mlen += 5 {
			key, msg := make([]byte, klen), make([]byte, mlen)
			rand.Read(key)
			rand.Read(msg)
			h := hmac.New(sha256.New, key)
			h.Write(msg)
			want := h.Sum(nil)
			cut := mlen / 3
			if got := hmacSHA256(key, msg[:cut], msg[cut:]); !bytes.Equal(got[:], want) {
				t.Fatalf("key %d bytes, message %d bytes: got %x, crypto/hmac %x", klen, mlen, got, want)
			}
		}
	}
}

func TestHKDFMatchesStdlib(t *testing.T) {
	for range 200 {
		var secret [32]byte
		var salt [12]byte
		var peer PeerID
		rand.Read(secret[:])
		rand.Read(salt[:])
		rand.Read(peer[:])
		want, err := hkdf.Key(sha256.New, secret[:], salt[:], sessionInfo+string(peer[:]), SessionKeySize)
		if err != nil {
			t.Fatal(err)
		}
		if got := hkdfSessionKey(secret[:], salt[:], &peer); !bytes.Equal(got[:SessionKeySize], want) {
			t.Fatalf("got %x, crypto/hkdf %x", got[:SessionKeySize], want)
		}
	}
}

func unhex(t *testing.T, s string) (b [32]byte) {
	t.Helper()
	v, err := hex.DecodeString(s)
	if err != nil || len(v) != 32 {
		t.Fatalf("bad vector %q", s)
	}
	return [32]byte(v)
}

// lowOrder are the u-coordinates X25519 maps to zero for every scalar or
// that are non-canonical encodings of them (the points of order 1, 2, 4
// and 8, and p, p+1 written out in 255 bits).
func lowOrder(t *testing.T) [][32]byte {
	p := new(big.Int).Sub(new(big.Int).Lsh(big.NewInt(1), 255), big.NewInt(19))
	le := func(n *big.Int) (b [32]byte) {
		n.FillBytes(b[:])
		for i := range 16 {
			b[i], b[31-i] = b[31-i], b[i]
		}
		return b
	}
	pts := [][32]byte{
		le(big.NewInt(0)),
		le(big.NewInt(1)),
		le(new(big.Int).Sub(p, big.NewInt(1))),
		le(p),
		le(new(big.Int).Add(p, big.NewInt(1))),
		unhex(t, "e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800"),
		unhex(t, "5f9c95bca3508c24b1d0b1559c83ef5b04445cc4581c8e86d8224eddd09f1157"),
	}
	return pts
}

func TestX25519MatchesStdlib(t *testing.T) {
	// RFC 7748 section 5.2.
	for _, v := range []struct{ k, u, out string }{
		{"a546e36bf0527c9d3b16154b82465edd62144c0ac1fc5a18506a2244ba449ac4",
			"e6db6867583030db3594c1a424b15f7c726624ec26b3353b10a903a6d0ab1c4c",
			"c3da55379de9c6908e94ea4df28d084f32eccf03491c71f754b4075577a28552"},
		{"4b66e9d4d1b4673c5ad22691957d6af5c11b6421e0ea01d42ca4169e7918ba0d",
			"e5210f12786811d3f4b7959d0538ae2c31dbe7106fc03c3efc4cd549c715a493",
			"95cbde9476e8907d7aade45cb4b873f88b595a68799fa152e6f8f7647aac7957"},
	} {
		k, u := unhex(t, v.k), unhex(t, v.u)
		var out [32]byte
		if !x25519(&out, &k, &u) || hex.EncodeToString(out[:]) != v.out {
			t.Errorf("RFC 7748 vector: got %x, want %s", out, v.out)
		}
	}
	// RFC 7748 section 5.2, the iterated vector after 1,000 rounds.
	k := unhex(t, "0900000000000000000000000000000000000000000000000000000000000000")
	u := k
	for range 1000 {
		var out [32]byte
		x25519(&out, &k, &u)
		u, k = k, out
	}
	if got := hex.EncodeToString(k[:]); got != "684cf59ba83309552800ef566f2f4d3c1c3887c49360e3875f2eb94d99532c51" {
		t.Errorf("RFC 7748 iterated vector after 1000 rounds: got %s", got)
	}

	c := ecdh.X25519()
	for i := range 2000 {
		a, _ := c.GenerateKey(rand.Reader)
		var scalar, point, out [32]byte
		copy(scalar[:], a.Bytes())
		rand.Read(point[:])
		if i%2 == 0 {
			b, _ := c.GenerateKey(rand.Reader)
			copy(point[:], b.PublicKey().Bytes())
		}
		pub, err := c.NewPublicKey(point[:])
		if err != nil {
			t.Fatal(err)
		}
		want, werr := a.ECDH(pub)
		ok := x25519(&out, &scalar, &point)
		if ok != (werr == nil) || ok && !bytes.Equal(out[:], want) {
			t.Fatalf("scalar %x point %x: got %x ok=%v, crypto/ecdh %x err=%v", scalar, point, out, ok, want, werr)
		}
	}
	for _, p := range lowOrder(t) {
		a, _ := c.GenerateKey(rand.Reader)
		var scalar, out [32]byte
		copy(scalar[:], a.Bytes())
		pub, _ := c.NewPublicKey(p[:])
		_, werr := a.ECDH(pub)
		if x25519(&out, &scalar, &p) || werr == nil {
			t.Errorf("low-order point %x: accepted (crypto/ecdh err=%v)", p, werr)
		}
	}
}

// TestRegisterCryptoAllocatesNothing: the server's per-registration crypto
// (cookie check, session key) allocates nothing (issue #17 item 3).
func TestRegisterCryptoAllocatesNothing(t *testing.T) {
	c := NewCookies(time.Minute)
	src := netip.MustParseAddrPort("192.0.2.1:4000")
	now := time.Now()
	ck := c.Issue(src, now)
	priv, _ := ecdh.X25519().GenerateKey(rand.Reader)
	peer, _ := ecdh.X25519().GenerateKey(rand.Reader)
	pub := peer.PublicKey().Bytes()
	var id [12]byte
	var pid PeerID
	for name, f := range map[string]func(){
		"Cookies.Issue":  func() { c.Issue(src, now) },
		"Cookies.Verify": func() { c.Verify(ck[:], src, now) },
		"SessionKey":     func() { SessionKey(priv, pub, id, pid) },
	} {
		if a := testing.AllocsPerRun(100, f); a != 0 {
			t.Errorf("%s allocates %.1f times per call, want 0", name, a)
		}
	}
}
