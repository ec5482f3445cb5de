package fleet

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"fmt"

	"github.com/hashicorp/memberlist"
)

// Labels for deriving independent keys from the one fleet key, so the gossip
// layer, the data channel and the hash seed never share key material
// (NIST SP 800-108 style KDF with HMAC-SHA256).
const (
	labelData = "supernode-fleet data-channel v1"
	labelSeed = "supernode-fleet rendezvous seed v1"
)

func derive(key []byte, label string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(label))
	return m.Sum(nil)
}

// secrets is everything the fleet key gives a member.
type secrets struct {
	gossip *memberlist.Keyring // memberlist's AES-GCM on gossip and push/pull
	data   []cipher.AEAD       // data channel: [0] seals, all open (rotation)
	seed   uint64              // rendezvous seed, from the primary key
}

func newSecrets(raw [][]byte) (*secrets, error) {
	if len(raw) == 0 {
		return nil, fmt.Errorf("fleet: no key")
	}
	kr, err := memberlist.NewKeyring(raw[1:], raw[0])
	if err != nil {
		return nil, fmt.Errorf("fleet key: %v", err)
	}
	s := &secrets{gossip: kr}
	for _, k := range raw {
		block, err := aes.NewCipher(derive(k, labelData))
		if err != nil {
			return nil, err
		}
		aead, err := cipher.NewGCM(block)
		if err != nil {
			return nil, err
		}
		s.data = append(s.data, aead)
	}
	s.seed = binary.LittleEndian.Uint64(derive(raw[0], labelSeed))
	return s, nil
}
