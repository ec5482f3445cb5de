package update

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/ProtonMail/go-crypto/openpgp"

	"github.com/supernode-appliance/appliance/image/confpart"
)

// Options says whom to trust and what to accept.
type Options struct {
	// Key is the operator's public key (ReadKey of OperatorKeyPath).
	Key openpgp.EntityList
	// MinVersion: a bundle older than this is refused (the running
	// version by default: no downgrades).
	MinVersion string
	// WorkDir is where the private staging directory is made (on the
	// appliance /var/lib/appliance-update, on the writable /var).
	WorkDir string
	// Client fetches https:// sources (http.DefaultClient if nil).
	Client *http.Client
	// Accept, when set, may refuse the signed bundle's version before
	// anything is copied (the running one, one that failed here).
	Accept func(version string) error
}

// Staged is a verified bundle in a private directory: what sysupdate may
// read with --transfer-source. Remove deletes it.
type Staged struct {
	Dir      string
	Payloads *Payloads
	Signer   string // fingerprint of the operator key that signed SHA256SUMS
}

// Remove deletes the staging directory.
func (s *Staged) Remove() error { return os.RemoveAll(s.Dir) }

// ReadKey reads the operator's public key (armored or binary, exactly one
// key, never a private one).
func ReadKey(path string) (openpgp.EntityList, error) {
	ring, err := confpart.ReadPublicKeyFile(path)
	if err != nil {
		return nil, fmt.Errorf("the operator key %v", err)
	}
	return ring, nil
}

// Stage copies the bundle at src (a directory or an https:// URL of one)
// into a new private directory under o.WorkDir, verifying on the way: the
// signature over SHA256SUMS by o.Key, every name SHA256SUMS lists (payload
// names of one version, no paths), the version against o.MinVersion, and
// the sha256 of every copy. The copies are what get checked, so a source
// that changes after the check changes nothing. On any refusal the
// directory is removed and the error is one sentence.
func Stage(ctx context.Context, src string, o Options) (st *Staged, err error) {
	if len(o.Key) == 0 {
		return nil, errors.New("no operator key to check the bundle's signature with; the image carries it at " + OperatorKeyPath + " when it was built with signing_key")
	}
	open, err := opener(ctx, src, o.Client)
	if err != nil {
		return nil, err
	}
	sums, err := readSmall(open, SumsFile)
	if err != nil {
		return nil, err
	}
	sig, err := readSmall(open, SignatureFile)
	if err != nil {
		return nil, err
	}
	signer, err := checkSignature(o.Key, sums, sig)
	if err != nil {
		return nil, err
	}
	list, order, err := ParseSums(sums)
	if err != nil {
		return nil, err
	}
	p, err := Classify(order)
	if err != nil {
		return nil, err
	}
	if o.MinVersion != "" && CompareVersions(p.Version, o.MinVersion) < 0 {
		return nil, fmt.Errorf("the bundle holds version %s, older than %s (the minimum: the running version unless -min-version says otherwise); downgrades are refused", p.Version, o.MinVersion)
	}
	if o.Accept != nil {
		if err := o.Accept(p.Version); err != nil {
			return nil, err
		}
	}
	if err := os.MkdirAll(o.WorkDir, 0o700); err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp(o.WorkDir, "staging-")
	if err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			os.RemoveAll(dir)
		}
	}()
	for _, name := range order {
		if err := copyChecked(open, name, filepath.Join(dir, name), list[name]); err != nil {
			return nil, err
		}
	}
	for name, b := range map[string][]byte{SumsFile: sums, SignatureFile: sig} {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o400); err != nil {
			return nil, err
		}
	}
	return &Staged{Dir: dir, Payloads: p, Signer: signer}, nil
}

// opener returns a function that opens one file of the bundle.
func opener(ctx context.Context, src string, client *http.Client) (func(string) (io.ReadCloser, error), error) {
	if strings.Contains(src, "://") {
		u, err := url.Parse(src)
		if err != nil || u.Scheme != "https" || u.Host == "" {
			return nil, fmt.Errorf("update source %q: only https:// URLs or local directories (a mounted USB stick) are accepted", src)
		}
		if client == nil {
			client = http.DefaultClient
		}
		base := strings.TrimRight(src, "/") + "/"
		return func(name string) (io.ReadCloser, error) {
			req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+url.PathEscape(name), nil)
			if err != nil {
				return nil, err
			}
			resp, err := client.Do(req)
			if err != nil {
				return nil, fmt.Errorf("fetching %s: %v", name, err)
			}
			if resp.StatusCode != http.StatusOK {
				resp.Body.Close()
				return nil, fmt.Errorf("fetching %s%s: %s; the bundle is incomplete", base, name, resp.Status)
			}
			return resp.Body, nil
		}, nil
	}
	fi, err := os.Stat(src)
	if err != nil || !fi.IsDir() {
		return nil, fmt.Errorf("update source %s is not a directory (give the bundle's directory, e.g. the USB stick's mount point, or an https:// URL)", src)
	}
	return func(name string) (io.ReadCloser, error) {
		p := filepath.Join(src, name)
		fi, err := os.Lstat(p)
		if err != nil {
			return nil, fmt.Errorf("%s is missing from the bundle in %s", name, src)
		}
		if !fi.Mode().IsRegular() {
			return nil, fmt.Errorf("%s in %s is not a regular file (a symbolic link or a directory); refused", name, src)
		}
		return os.Open(p)
	}, nil
}

func readSmall(open func(string) (io.ReadCloser, error), name string) ([]byte, error) {
	r, err := open(name)
	if err != nil {
		if name == SignatureFile {
			return nil, fmt.Errorf("the bundle is not signed (%s is missing: %v); only bundles signed with the operator key are accepted", SignatureFile, err)
		}
		return nil, err
	}
	defer r.Close()
	b, err := io.ReadAll(io.LimitReader(r, MaxSums+1))
	if err != nil {
		return nil, fmt.Errorf("reading %s: %v", name, err)
	}
	if len(b) > MaxSums {
		return nil, fmt.Errorf("%s is larger than %d bytes; refused", name, MaxSums)
	}
	return b, nil
}

func checkSignature(ring openpgp.EntityList, sums, sig []byte) (string, error) {
	var signer *openpgp.Entity
	var err error
	if bytes.HasPrefix(bytes.TrimSpace(sig), []byte("-----BEGIN PGP SIGNATURE")) {
		signer, err = openpgp.CheckArmoredDetachedSignature(ring, bytes.NewReader(sums), bytes.NewReader(sig), nil)
	} else {
		signer, err = openpgp.CheckDetachedSignature(ring, bytes.NewReader(sums), bytes.NewReader(sig), nil)
	}
	if err != nil {
		return "", fmt.Errorf("%s does not verify against the operator key %s baked into this image (%v); the bundle was not signed by this image's operator or was changed", SignatureFile, confpart.Fingerprint(ring), err)
	}
	return fmt.Sprintf("%X", signer.PrimaryKey.Fingerprint), nil
}

var sumLine = regexp.MustCompile(`^([0-9a-f]{64}) [ *](.+)$`)

// ParseSums reads SHA256SUMS (sha256sum's format): name -> sum and the
// names in file order. A name that is a path (a "/" or "\", "..", a
// leading dot), has control characters or appears twice is refused.
func ParseSums(b []byte) (map[string]string, []string, error) {
	sums := map[string]string{}
	var order []string
	sc := bufio.NewScanner(bytes.NewReader(b))
	for line := 1; sc.Scan(); line++ {
		text := strings.TrimSuffix(sc.Text(), "\r")
		if strings.TrimSpace(text) == "" {
			continue
		}
		m := sumLine.FindStringSubmatch(text)
		if m == nil {
			return nil, nil, fmt.Errorf("%s line %d is not \"SHA256  NAME\"; refused", SumsFile, line)
		}
		name := m[2]
		if strings.ContainsAny(name, "/\\") || strings.HasPrefix(name, ".") || strings.IndexFunc(name, func(r rune) bool { return r < 0x20 || r == 0x7f }) >= 0 {
			return nil, nil, fmt.Errorf("%s line %d names %q, a path outside the bundle's directory; refused", SumsFile, line, name)
		}
		if _, dup := sums[name]; dup {
			return nil, nil, fmt.Errorf("%s names %s twice; refused", SumsFile, name)
		}
		sums[name] = m[1]
		order = append(order, name)
	}
	if len(order) == 0 {
		return nil, nil, fmt.Errorf("%s lists no files; refused", SumsFile)
	}
	return sums, order, nil
}

// copyChecked copies one bundle file to dst, at most MaxPayload bytes,
// and compares the copy's sha256 with want.
func copyChecked(open func(string) (io.ReadCloser, error), name, dst, want string) error {
	r, err := open(name)
	if err != nil {
		return err
	}
	defer r.Close()
	f, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o400)
	if err != nil {
		return err
	}
	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(f, h), io.LimitReader(r, MaxPayload+1))
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("copying %s: %v", name, err)
	}
	if n > MaxPayload {
		return fmt.Errorf("%s is larger than %d bytes; refused", name, MaxPayload)
	}
	if got := hex.EncodeToString(h.Sum(nil)); got != want {
		return fmt.Errorf("%s does not match its sha256 in the signed %s (got %s, want %s): it was changed after signing; refused", name, SumsFile, got[:16], want[:16])
	}
	return nil
}
