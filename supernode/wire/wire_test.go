package wire

import (
	"crypto/ecdh"
	"crypto/ed25519"
	"crypto/rand"
	"net/netip"
	"testing"
	"time"

	"github.com/supernode-appliance/appliance/supernode/stun"
)

func TestCookie(t *testing.T) {
	c := NewCookies(10 * time.Second)
	src := netip.MustParseAddrPort("192.0.2.1:4000")
	now := time.Unix(1_000_000, 0)
	ck := c.Issue(src, now)
	if err := c.Verify(ck[:], src, now.Add(5*time.Second)); err != nil {
		t.Fatalf("fresh cookie: %v", err)
	}
	if err := c.Verify(ck[:], src, now.Add(15*time.Second)); err != nil {
		t.Fatalf("previous bucket: %v", err)
	}
	if err := c.Verify(ck[:], netip.MustParseAddrPort("192.0.2.1:4001"), now); err != ErrCookieInvalid {
		t.Fatalf("other port: %v", err)
	}
	if err := c.Verify(ck[:], netip.MustParseAddrPort("[::ffff:192.0.2.1]:4000"), now.Add(15*time.Second)); err != nil {
		t.Fatalf("v4-mapped source must be the same address: %v", err)
	}
	if err := c.Verify(ck[:], src, now.Add(25*time.Second)); err != ErrCookieExpired {
		t.Fatalf("two buckets later: %v", err)
	}
	ck2 := c.Issue(src, now.Add(25*time.Second))
	ck2[10] ^= 1
	if err := c.Verify(ck2[:], src, now.Add(25*time.Second)); err != ErrCookieInvalid {
		t.Fatalf("flipped bit: %v", err)
	}
	if err := c.Verify(ck2[:5], src, now); err != ErrCookieInvalid {
		t.Fatalf("short: %v", err)
	}
}

func TestRegisterSignature(t *testing.T) {
	pub, priv, _ := ed25519.GenerateKey(rand.Reader)
	eph, _ := ecdh.X25519().GenerateKey(rand.Reader)
	r := Registration{ID: PeerID(pub), Cookie: make([]byte, CookieSize), Stamp: 42}
	r.Local.Addr[0] = netip.MustParseAddrPort("10.0.0.2:5000")
	r.Local.Addr[1] = netip.MustParseAddrPort("[fd00::2]:5000")
	r.Local.N = 2
	copy(r.Ephemeral[:], eph.PublicKey().Bytes())
	m := stun.New()
	BuildRegister(m, stun.NewTransactionID(), priv, &r)

	d := stun.New()
	raw := append([]byte(nil), m.Raw...)
	if err := d.Decode(raw); err != nil {
		t.Fatal(err)
	}
	var got Registration
	if err := ParseRegister(d, &got); err != nil {
		t.Fatal(err)
	}
	if got.ID != r.ID || got.Stamp != 42 || got.Local != r.Local || got.Ephemeral != r.Ephemeral {
		t.Fatalf("parsed %+v", got)
	}
	if err := VerifySignature(d, got.ID); err != nil {
		t.Fatal(err)
	}
	// Any change to a signed byte (here the timestamp) breaks the signature.
	raw[len(raw)-8-68-36-1] ^= 1
	if err := d.Decode(raw); err != nil {
		t.Fatal(err)
	}
	if err := VerifySignature(d, got.ID); err != ErrBadSignature {
		t.Fatalf("tampered: %v", err)
	}
	other, _, _ := ed25519.GenerateKey(rand.Reader)
	d.Decode(m.Raw)
	if err := VerifySignature(d, PeerID(other)); err != ErrBadSignature {
		t.Fatalf("other key: %v", err)
	}
}

func TestProbePadding(t *testing.T) {
	var r Registration
	m := stun.New()
	BuildRegister(m, stun.NewTransactionID(), nil, &r)
	if len(m.Raw) < MinRegisterSize {
		t.Fatalf("probe is %d bytes, want >= %d", len(m.Raw), MinRegisterSize)
	}
	// The longest challenge: error + cookie + fingerprint.
	c := stun.New()
	c.Reply(m, stun.ClassError)
	c.AddErrorCode(CodeCookieRequired, ReasonCookie)
	c.Add(AttrCookie, make([]byte, CookieSize))
	c.AddFingerprint()
	if len(c.Raw) > len(m.Raw) {
		t.Fatalf("challenge %d > probe %d", len(c.Raw), len(m.Raw))
	}
}

func TestSessionKeyAgreement(t *testing.T) {
	a, _ := ecdh.X25519().GenerateKey(rand.Reader)
	b, _ := ecdh.X25519().GenerateKey(rand.Reader)
	id := stun.NewTransactionID()
	var p PeerID
	k1, err1 := SessionKey(a, b.PublicKey().Bytes(), id, p)
	k2, err2 := SessionKey(b, a.PublicKey().Bytes(), id, p)
	if err1 != nil || err2 != nil || k1 != k2 {
		t.Fatalf("keys differ: %x %x %v %v", k1, k2, err1, err2)
	}
	p[0] = 1
	if k3, _ := SessionKey(a, b.PublicKey().Bytes(), id, p); k3 == k1 {
		t.Fatal("key not bound to peer id")
	}
	if _, err := SessionKey(a, make([]byte, 5), id, p); err == nil {
		t.Fatal("short ephemeral accepted")
	}
}

func FuzzParseRegister(f *testing.F) {
	pub, priv, _ := ed25519.GenerateKey(rand.Reader)
	m := stun.New()
	BuildRegister(m, stun.NewTransactionID(), priv, &Registration{ID: PeerID(pub), Cookie: make([]byte, CookieSize)})
	f.Add(append([]byte(nil), m.Raw...))
	f.Fuzz(func(t *testing.T, b []byte) {
		d := stun.New()
		if d.Decode(b) != nil {
			return
		}
		var r Registration
		if ParseRegister(d, &r) == nil {
			VerifySignature(d, r.ID)
		}
		GetLease(d)
	})
}

func TestCookieClockStepsBack(t *testing.T) {
	c := NewCookies(10 * time.Second)
	src := netip.MustParseAddrPort("192.0.2.1:4000")
	now := time.Unix(1_000_000, 0)
	c.Issue(src, now)
	earlier := now.Add(-time.Hour)
	ck := c.Issue(src, earlier)
	if err := c.Verify(ck[:], src, earlier); err != nil {
		t.Fatalf("after the clock stepped back: %v", err)
	}
}
