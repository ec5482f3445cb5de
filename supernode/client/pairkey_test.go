package client

import (
	"crypto/ecdh"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha512"
	"testing"

	"github.com/supernode-appliance/appliance/supernode/wire"
)

// The Montgomery form of an Ed25519 public key equals X25519(scalar, 9) for
// the scalar derived from the same seed: the conversion is the birational
// map, not just some function of the key.
func TestEdwardsToMontgomery(t *testing.T) {
	for range 20 {
		pub, priv, _ := ed25519.GenerateKey(rand.Reader)
		h := sha512.Sum512(priv.Seed())
		x, err := ecdh.X25519().NewPrivateKey(h[:32])
		if err != nil {
			t.Fatal(err)
		}
		u, err := edwardsToMontgomery(pub)
		if err != nil {
			t.Fatal(err)
		}
		if string(u) != string(x.PublicKey().Bytes()) {
			t.Fatalf("u = %x, X25519 public key = %x", u, x.PublicKey().Bytes())
		}
	}
}

func TestPairKeyAgrees(t *testing.T) {
	pa, a, _ := ed25519.GenerateKey(rand.Reader)
	pb, b, _ := ed25519.GenerateKey(rand.Reader)
	_, c, _ := ed25519.GenerateKey(rand.Reader)
	kab, err := PairKey(a, wire.PeerID(pb))
	if err != nil {
		t.Fatal(err)
	}
	kba, err := PairKey(b, wire.PeerID(pa))
	if err != nil {
		t.Fatal(err)
	}
	kcb, _ := PairKey(c, wire.PeerID(pb))
	if kab != kba {
		t.Fatal("the two peers derive different keys")
	}
	if kcb == kab {
		t.Fatal("a third key derives the same pair key")
	}
}

func TestPairKeyRejectsBadPeer(t *testing.T) {
	_, a, _ := ed25519.GenerateKey(rand.Reader)
	var identity wire.PeerID
	identity[0] = 1 // y = 1: the neutral element
	if _, err := PairKey(a, identity); err == nil {
		t.Fatal("identity point accepted")
	}
	var small wire.PeerID // y = 0: a point of order 4, low order
	if _, err := PairKey(a, small); err == nil {
		t.Fatal("low-order point accepted")
	}
}
