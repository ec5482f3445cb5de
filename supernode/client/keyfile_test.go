package client

import (
	"crypto/ed25519"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestKeyFile(t *testing.T) {
	p := filepath.Join(t.TempDir(), "k")
	priv, err := GenerateKeyFile(p)
	if err != nil {
		t.Fatal(err)
	}
	if st, _ := os.Stat(p); st.Mode().Perm() != 0o600 {
		t.Fatalf("mode %v", st.Mode())
	}
	if _, err := GenerateKeyFile(p); err == nil || !strings.Contains(err.Error(), "already exists") {
		t.Fatalf("overwrite: %v", err)
	}
	back, err := LoadKeyFile(p)
	if err != nil || !back.Equal(priv) {
		t.Fatalf("load: %v", err)
	}
	h := PublicHex(priv)
	if len(h) != 64 || strings.ToLower(h) != h {
		t.Fatalf("hex %q", h)
	}
	id, err := ParsePeerID(h)
	if err != nil || id != [32]byte(priv.Public().(ed25519.PublicKey)) {
		t.Fatalf("parse: %v", err)
	}
	if _, err := ParsePeerID("abc"); err == nil {
		t.Fatal("short id accepted")
	}
	os.WriteFile(p+"x", []byte("junk"), 0o600)
	if _, err := LoadKeyFile(p + "x"); err == nil {
		t.Fatal("junk accepted")
	}
}
