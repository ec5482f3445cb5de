package builder

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"

	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/ProtonMail/go-crypto/openpgp/armor"
	"github.com/ProtonMail/go-crypto/openpgp/packet"
)

// The operator signs one file, SHA256SUMS, with an OpenPGP key: the same
// pair of files (SHA256SUMS + SHA256SUMS.gpg, a detached binary signature)
// systemd-sysupdate fetches and checks with gpg before it takes an update,
// so one signature serves `appliance verify`, the offline audit and the
// appliance's own updates. SHA256SUMS covers every artifact, the SBOM, the
// provenance and manifest.json (which carries the root hash).

const (
	SumsFile      = "SHA256SUMS"
	SignatureFile = "SHA256SUMS.gpg"
	// PassphraseEnv holds the passphrase of an encrypted signing key; an
	// environment variable keeps it out of the template and the manifest.
	PassphraseEnv = "SUPERNODE_SIGNING_PASSPHRASE"
)

// ReadSigningKey reads an armored OpenPGP private key (the signing_key
// template option). An encrypted key is unlocked with $PassphraseEnv.
func ReadSigningKey(path string) (*openpgp.Entity, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("signing_key: %w", err)
	}
	defer f.Close()
	ring, err := openpgp.ReadArmoredKeyRing(f)
	if err != nil {
		return nil, fmt.Errorf("signing_key %s is not an armored OpenPGP key (export one with 'gpg --armor --export-secret-keys' or run 'appliance keygen'): %v", path, err)
	}
	if len(ring) != 1 || ring[0].PrivateKey == nil {
		return nil, fmt.Errorf("signing_key %s must hold exactly one OpenPGP private key", path)
	}
	key := ring[0]
	if key.PrivateKey.Encrypted {
		pass := os.Getenv(PassphraseEnv)
		if pass == "" {
			return nil, fmt.Errorf("signing_key %s is encrypted; put its passphrase in $%s", path, PassphraseEnv)
		}
		if err := key.DecryptPrivateKeys([]byte(pass)); err != nil {
			return nil, fmt.Errorf("signing_key %s: wrong passphrase in $%s", path, PassphraseEnv)
		}
	}
	return key, nil
}

// SignDetached returns a binary detached signature of data, the format
// of SHA256SUMS.gpg.
func SignDetached(key *openpgp.Entity, data []byte) ([]byte, error) {
	var sig bytes.Buffer
	if err := openpgp.DetachSign(&sig, key, bytes.NewReader(data), nil); err != nil {
		return nil, fmt.Errorf("signing %s: %w", SumsFile, err)
	}
	return sig.Bytes(), nil
}

// VerifyDetached checks sig (binary or armored) over data against the
// armored public key(s) in pub and returns the signer's fingerprint.
func VerifyDetached(pub, data, sig []byte) (string, error) {
	ring, err := openpgp.ReadArmoredKeyRing(bytes.NewReader(pub))
	if err != nil {
		ring, err = openpgp.ReadKeyRing(bytes.NewReader(pub))
	}
	if err != nil {
		return "", fmt.Errorf("the public key is not an OpenPGP key: %v", err)
	}
	var signer *openpgp.Entity
	if bytes.HasPrefix(bytes.TrimSpace(sig), []byte("-----BEGIN PGP SIGNATURE")) {
		signer, err = openpgp.CheckArmoredDetachedSignature(ring, bytes.NewReader(data), bytes.NewReader(sig), nil)
	} else {
		signer, err = openpgp.CheckDetachedSignature(ring, bytes.NewReader(data), bytes.NewReader(sig), nil)
	}
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("%X", signer.PrimaryKey.Fingerprint), nil
}

// Fingerprint is the hex fingerprint of key's primary key.
func Fingerprint(key *openpgp.Entity) string { return fmt.Sprintf("%X", key.PrimaryKey.Fingerprint) }

// GenerateSigningKey makes a new Ed25519 (OpenPGP v4, which gpg 2.2 and
// later read) signing key and returns it armored, private and public.
func GenerateSigningKey(name, email string) (private, public []byte, err error) {
	key, err := openpgp.NewEntity(name, "supernode appliance image signing", email,
		&packet.Config{Algorithm: packet.PubKeyAlgoEdDSA})
	if err != nil {
		return nil, nil, err
	}
	var priv, pub bytes.Buffer
	w, err := armor.Encode(&priv, openpgp.PrivateKeyType, nil)
	if err != nil {
		return nil, nil, err
	}
	if err := key.SerializePrivate(w, nil); err != nil {
		return nil, nil, err
	}
	w.Close()
	w, err = armor.Encode(&pub, openpgp.PublicKeyType, nil)
	if err != nil {
		return nil, nil, err
	}
	if err := key.Serialize(w); err != nil {
		return nil, nil, err
	}
	w.Close()
	return append(priv.Bytes(), '\n'), append(pub.Bytes(), '\n'), nil
}

// SHA256SUMS renders the sums of the named files in dir in sha256sum's
// format ("HEX  NAME"), sorted by name: the format systemd-sysupdate
// parses.
func SHA256SUMS(dir string, names []string) ([]byte, error) {
	sums := map[string]string{}
	for _, n := range names {
		sum, err := sha256File(filepath.Join(dir, n))
		if err != nil {
			return nil, err
		}
		sums[n] = sum
	}
	return RenderSHA256SUMS(sums), nil
}

// RenderSHA256SUMS renders name -> sum sorted by name.
func RenderSHA256SUMS(sums map[string]string) []byte {
	names := make([]string, 0, len(sums))
	for n := range sums {
		names = append(names, n)
	}
	sort.Strings(names)
	var b bytes.Buffer
	for _, n := range names {
		fmt.Fprintf(&b, "%s  %s\n", sums[n], n)
	}
	return b.Bytes()
}

var sumLineRe = regexp.MustCompile(`^([0-9a-f]{64}) [ *]([^/\\]+)$`)

// ParseSHA256SUMS reads a SHA256SUMS file into name -> sum. Names with a
// directory part are refused: every artifact sits next to the file.
func ParseSHA256SUMS(b []byte) (map[string]string, error) {
	sums := map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(b))
	line := 0
	for sc.Scan() {
		line++
		if strings.TrimSpace(sc.Text()) == "" {
			continue
		}
		m := sumLineRe.FindStringSubmatch(sc.Text())
		if m == nil || m[2] == "." || m[2] == ".." {
			return nil, fmt.Errorf("%s line %d is not 'SHA256  NAME'", SumsFile, line)
		}
		if _, dup := sums[m[2]]; dup {
			return nil, fmt.Errorf("%s names %s twice", SumsFile, m[2])
		}
		sums[m[2]] = m[1]
	}
	if len(sums) == 0 {
		return nil, errors.New(SumsFile + " is empty")
	}
	return sums, nil
}
