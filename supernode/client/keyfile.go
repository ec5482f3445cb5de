package client

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/supernode-appliance/appliance/supernode/wire"
)

// Keys are stored as PKCS#8 PEM ("PRIVATE KEY"), the format `openssl pkey`
// reads, so operators can inspect them with standard tools.

// GenerateKeyFile writes a new Ed25519 private key to path with mode 0600,
// refusing to overwrite an existing file.
func GenerateKeyFile(path string) (ed25519.PrivateKey, error) {
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, err
	}
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return nil, err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		if errors.Is(err, os.ErrExist) {
			return nil, fmt.Errorf("key file %s already exists; remove it or choose another -o", path)
		}
		return nil, fmt.Errorf("cannot create key file: %v", err)
	}
	if err := pem.Encode(f, &pem.Block{Type: "PRIVATE KEY", Bytes: der}); err != nil {
		f.Close()
		os.Remove(path)
		return nil, fmt.Errorf("cannot write key file %s: %v", path, err)
	}
	if err := f.Close(); err != nil {
		os.Remove(path)
		return nil, fmt.Errorf("cannot write key file %s: %v", path, err)
	}
	return priv, nil
}

// LoadKeyFile reads an Ed25519 private key written by GenerateKeyFile.
func LoadKeyFile(path string) (ed25519.PrivateKey, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("cannot read key file: %v; create one with `supernode-client keygen -o FILE`", err)
	}
	blk, _ := pem.Decode(b)
	if blk == nil || blk.Type != "PRIVATE KEY" {
		return nil, fmt.Errorf("%s is not a PEM private key; create one with `supernode-client keygen -o FILE`", path)
	}
	k, err := x509.ParsePKCS8PrivateKey(blk.Bytes)
	if err != nil {
		return nil, fmt.Errorf("%s: %v", path, err)
	}
	priv, ok := k.(ed25519.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("%s holds a %T, not an Ed25519 key", path, k)
	}
	return priv, nil
}

// PublicHex is the peer ID as 64 lowercase hex characters.
func PublicHex(priv ed25519.PrivateKey) string {
	return hex.EncodeToString(priv.Public().(ed25519.PublicKey))
}

// ParsePeerID reads a 64-character hex peer ID.
func ParsePeerID(s string) (wire.PeerID, error) {
	var id wire.PeerID
	b, err := hex.DecodeString(strings.TrimSpace(s))
	if err != nil || len(b) != len(id) {
		return id, fmt.Errorf("peer ID %q is not 64 hex characters (a public key as printed by keygen or pubkey)", s)
	}
	copy(id[:], b)
	return id, nil
}
