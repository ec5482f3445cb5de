package confpart

import (
	"bytes"
	"errors"
	"fmt"
	"os"

	"github.com/ProtonMail/go-crypto/openpgp"
)

// KeyPath is where the image carries the operator's configuration-signing
// public key (template option config_signing_key), inside the verified
// root. Without it, unsigned configuration is accepted.
const KeyPath = "/usr/lib/appliance-config/signing-key.asc"

// ReadPublicKey parses an armored (or binary) OpenPGP public key: exactly
// one key, no private part (the image must never carry the private key).
func ReadPublicKey(b []byte) (openpgp.EntityList, error) {
	if n := bytes.Count(b, []byte("-----BEGIN PGP ")); n > 1 {
		return nil, fmt.Errorf("holds %d armored blocks, want exactly one public key", n)
	}
	ring, err := openpgp.ReadArmoredKeyRing(bytes.NewReader(b))
	if err != nil {
		ring, err = openpgp.ReadKeyRing(bytes.NewReader(b))
	}
	if err != nil {
		return nil, fmt.Errorf("not an OpenPGP public key (export one with 'gpg --armor --export' or use the .pub.asc of 'appliance keygen'): %v", err)
	}
	if len(ring) != 1 {
		return nil, fmt.Errorf("holds %d OpenPGP keys, want exactly one", len(ring))
	}
	if ring[0].PrivateKey != nil {
		return nil, errors.New("is a private key; give the public key (the .pub.asc of 'appliance keygen'), the image must never carry the private one")
	}
	return ring, nil
}

// ReadPublicKeyFile is ReadPublicKey of a file; the error names it.
func ReadPublicKeyFile(path string) (openpgp.EntityList, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	ring, err := ReadPublicKey(b)
	if err != nil {
		return nil, fmt.Errorf("%s %v", path, err)
	}
	return ring, nil
}

// Fingerprint is the hex fingerprint of the key.
func Fingerprint(ring openpgp.EntityList) string {
	return fmt.Sprintf("%X", ring[0].PrimaryKey.Fingerprint)
}

// Sign returns a binary detached signature of conf by key.
func Sign(key *openpgp.Entity, conf []byte) ([]byte, error) {
	var sig bytes.Buffer
	if err := openpgp.DetachSign(&sig, key, bytes.NewReader(conf), nil); err != nil {
		return nil, fmt.Errorf("signing %s: %w", ConfFile, err)
	}
	return sig.Bytes(), nil
}

// Verify checks a detached signature (binary or armored) of conf against
// ring. The error is one sentence.
func Verify(ring openpgp.EntityList, conf, sig []byte) error {
	if len(sig) == 0 {
		return fmt.Errorf("%s is not signed (no %s) and this image accepts only configuration signed with key %s; sign it with 'appliance configure --sign-key'", ConfFile, SigFile, Fingerprint(ring))
	}
	if len(sig) > MaxSig {
		return fmt.Errorf("%s is %d bytes, more than the limit of %d", SigFile, len(sig), MaxSig)
	}
	var err error
	if bytes.HasPrefix(bytes.TrimSpace(sig), []byte("-----BEGIN PGP SIGNATURE")) {
		_, err = openpgp.CheckArmoredDetachedSignature(ring, bytes.NewReader(conf), bytes.NewReader(sig), nil)
	} else {
		_, err = openpgp.CheckDetachedSignature(ring, bytes.NewReader(conf), bytes.NewReader(sig), nil)
	}
	if err != nil {
		return fmt.Errorf("%s does not verify against key %s (%v); sign this exact file with 'appliance configure --sign-key'", SigFile, Fingerprint(ring), err)
	}
	return nil
}
