package confpart

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"

	"github.com/ProtonMail/go-crypto/openpgp"

	"github.com/supernode-appliance/appliance/image/credstore"
)

// Defaults of the boot side.
const (
	DefaultMountDir = "/run/appliance-config"
	DefaultLastGood = "/var/lib/appliance-config/last-good.conf"
)

// Config is what Run reads; zero paths mean the defaults.
type Config struct {
	Dir        string   // the partition, mounted read-only (DefaultMountDir)
	KeyFile    string   // KeyPath; a missing file means unsigned configuration is accepted
	CredStore  string   // credstore.DefaultCredStore
	ShadowDirs []string // credstore.DefaultShadowDirs; nil the default, empty none
	Allowlist  func() ([]string, error)
	// LastGood keeps the last accepted appliance.conf (and LastGood+".sig"
	// when signed); "" disables. Bad or unverifiable configuration imports
	// it instead, after the same checks.
	LastGood string
	Policy   Policy // limits; Allow comes from Allowlist
	// RequireMount: Dir must be a mount point. An empty directory where
	// the mount failed (a damaged FAT) is then a failure, which keeps the
	// last good configuration, not "no configuration", which forgets it.
	RequireMount bool
}

// Result is what Run did.
type Result struct {
	File     string // the file read (ConfFile or NewFile), "" if none
	Signed   string // the signer's key fingerprint when signatures are required
	NoData   bool   // no configuration (or one without settings)
	FellBack bool   // the last good configuration was imported instead
	Outcomes []credstore.Outcome
}

func (c *Config) defaults() {
	if c.Dir == "" {
		c.Dir = DefaultMountDir
	}
	if c.KeyFile == "" {
		c.KeyFile = KeyPath
	}
	if c.CredStore == "" {
		c.CredStore = credstore.DefaultCredStore
	}
	if c.ShadowDirs == nil {
		c.ShadowDirs = credstore.DefaultShadowDirs
	}
	c.Policy = c.Policy.withDefaults()
}

// Run imports the partition's configuration into the credential store. The
// error is one sentence for the console and the journal, ending with what
// serves instead: the last good configuration (checked again) or the
// built-in (or firmware-supplied) one. Nothing of a rejected file is
// written.
func Run(cfg Config) (Result, error) {
	cfg.defaults()
	var r Result
	if cfg.Allowlist == nil {
		return r, errors.New("no credential allowlist; refusing every credential")
	}
	allow, err := cfg.Allowlist()
	if err != nil {
		return r, err
	}
	cfg.Policy.Allow = allow
	var ring openpgp.EntityList
	if _, err := os.Stat(cfg.KeyFile); err == nil {
		if ring, err = ReadPublicKeyFile(cfg.KeyFile); err != nil {
			return r, fmt.Errorf("the image's configuration signing key %v; no configuration imported, the built-in configuration serves", err)
		}
		r.Signed = Fingerprint(ring)
	}
	if cfg.RequireMount && !isMountPoint(cfg.Dir) {
		return r, fallBack(&r, cfg, ring, fmt.Errorf("no configuration partition is mounted at %s (the %q partition is missing or its FAT file system is damaged; check with 'appliance configure DEVICE --show')", cfg.Dir, PartLabel))
	}
	f, err := Pick(Dir(cfg.Dir), cfg.Policy.MaxFile)
	r.File = f.Name
	if err == nil && f.Conf == nil {
		if ring != nil {
			// With signatures required, a deleted file must not be a way
			// back to the built-in configuration: only a signed (empty)
			// file clears it.
			if cfg.LastGood != "" {
				if _, serr := os.Stat(cfg.LastGood); serr == nil {
					return r, fallBack(&r, cfg, ring, fmt.Errorf("the configuration partition (%s) has no %s", cfg.Dir, ConfFile))
				}
			}
		} else if err := forget(cfg.LastGood); err != nil {
			return r, err
		}
		r.NoData = true
		r.File = ""
		return r, nil
	}
	var creds []credstore.Credential
	if err == nil {
		creds, err = check(f.Conf, f.Sig, ring, cfg.Policy)
	}
	if err != nil {
		return r, fallBack(&r, cfg, ring, fmt.Errorf("%s on the configuration partition rejected: %w", f.Name, err))
	}
	if len(creds) == 0 {
		r.NoData = true
		return r, forget(cfg.LastGood)
	}
	if r.Outcomes, err = credstore.WriteStore(cfg.CredStore, cfg.ShadowDirs, creds); err != nil {
		return r, err
	}
	if cfg.LastGood != "" {
		err := credstore.WriteFileAtomic(cfg.LastGood, f.Conf)
		if err == nil && ring != nil {
			err = credstore.WriteFileAtomic(cfg.LastGood+".sig", f.Sig)
		}
		if err != nil {
			return r, fmt.Errorf("imported, but cannot keep the configuration as the last good one: %v", err)
		}
	}
	return r, nil
}

// check verifies the signature (when ring is set) before anything of the
// file is believed, then parses it.
func check(conf, sig []byte, ring openpgp.EntityList, p Policy) ([]credstore.Credential, error) {
	if len(conf) > p.MaxFile {
		return nil, fmt.Errorf("%s is %d bytes, more than the limit of %d", ConfFile, len(conf), p.MaxFile)
	}
	if ring != nil {
		if err := Verify(ring, conf, sig); err != nil {
			return nil, err
		}
	}
	return Parse(conf, p)
}

func forget(lastGood string) error {
	if lastGood == "" {
		return nil
	}
	for _, p := range []string{lastGood, lastGood + ".sig"} {
		if err := os.Remove(p); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("cannot remove %s: %v", p, err)
		}
	}
	return nil
}

// fallBack imports the last good configuration instead, checked again
// (signature included: /var is writable) as if it had just arrived.
func fallBack(r *Result, cfg Config, ring openpgp.EntityList, err error) error {
	builtin := fmt.Errorf("%w; nothing imported, the built-in configuration serves", err)
	if cfg.LastGood == "" {
		return builtin
	}
	lg := Dir("/")
	conf, rerr := lg.ReadFile(cfg.LastGood, cfg.Policy.MaxFile)
	if errors.Is(rerr, os.ErrNotExist) {
		return builtin
	}
	var creds []credstore.Credential
	if rerr == nil {
		var sig []byte
		if ring != nil {
			sig, rerr = lg.ReadFile(cfg.LastGood+".sig", MaxSig)
			if errors.Is(rerr, os.ErrNotExist) {
				rerr = nil
			}
		}
		if rerr == nil {
			creds, rerr = check(conf, sig, ring, cfg.Policy)
		}
	}
	if rerr != nil {
		return fmt.Errorf("%w; the last good configuration %s is unusable too (%v), the built-in configuration serves", err, cfg.LastGood, rerr)
	}
	out, werr := credstore.WriteStore(cfg.CredStore, cfg.ShadowDirs, creds)
	r.Outcomes, r.FellBack = out, true
	if werr != nil {
		return fmt.Errorf("%w; and the last good configuration could not be imported: %v", err, werr)
	}
	return fmt.Errorf("%w; the last good configuration %s was imported instead", err, cfg.LastGood)
}

// isMountPoint reports whether dir is on another file system than its
// parent.
func isMountPoint(dir string) bool {
	var a, b syscall.Stat_t
	if syscall.Stat(dir, &a) != nil || syscall.Stat(filepath.Join(dir, ".."), &b) != nil {
		return false
	}
	return a.Dev != b.Dev
}
