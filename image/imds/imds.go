// Package imds imports per-instance configuration on clouds: on a
// recognised cloud (DMI strings only, no network probe), it reads the
// instance's user data from the metadata service (AWS IMDSv2, GCP, Azure),
// checks it against the hardening profile's credential allowlist and
// writes the credentials into /run/credstore, where the daemons'
// ImportCredential= finds them. The document is the one systemd-imds(8)
// --import reads, so that tool can replace this one without changing the
// user data or the units.
package imds

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/supernode-appliance/appliance/image/credstore"
)

// Limits. Azure caps user data at 64 KiB and AWS at 16 KiB; GCP metadata
// values at 256 KiB, more than any configuration of ours needs.
const (
	DefaultMaxUserData = 64 << 10
	DefaultMaxValue    = 16 << 10
	DefaultMaxCount    = 64
	DefaultTimeout     = 10 * time.Second
	DefaultLastGood    = "/var/lib/appliance-imds/last-good.json"
)

// Config is everything Run reads; the zero values of paths and limits mean
// the defaults above.
type Config struct {
	SysRoot    string   // "/" in production; DMI strings are read below it
	BaseURL    string   // DefaultBaseURL
	CredStore  string   // DefaultCredStore
	ShadowDirs []string // DefaultShadowDirs; nil means the default, empty slice none
	// Allowlist returns the credential name globs (Allowlist in
	// production). Called only on a cloud, so bare metal never depends on it.
	Allowlist   func() ([]string, error)
	Timeout     time.Duration
	MaxUserData int
	MaxValue    int
	MaxCount    int
	// LastGood keeps the last accepted document ("" disables): when the
	// user data is bad or unreachable it is imported instead, so the
	// previous good configuration keeps serving; DefaultLastGood on the
	// appliance's persistent /var.
	LastGood string
}

// Result is what Run did, for the log and the exit status.
type Result struct {
	Platform Platform
	Vendor   string
	NoData   bool
	FellBack bool // the last good document was imported instead
	Outcomes []Outcome
}

func (c *Config) defaults() {
	if c.SysRoot == "" {
		c.SysRoot = "/"
	}
	if c.BaseURL == "" {
		c.BaseURL = DefaultBaseURL
	}
	if c.CredStore == "" {
		c.CredStore = DefaultCredStore
	}
	if c.ShadowDirs == nil {
		c.ShadowDirs = DefaultShadowDirs
	}
	if c.Timeout == 0 {
		c.Timeout = DefaultTimeout
	}
	if c.MaxUserData == 0 {
		c.MaxUserData = DefaultMaxUserData
	}
	if c.MaxValue == 0 {
		c.MaxValue = DefaultMaxValue
	}
	if c.MaxCount == 0 {
		c.MaxCount = DefaultMaxCount
	}
}

// Run detects the platform and, on a cloud, imports its user data. The
// error is one sentence for the console and the journal, ending with what
// serves instead: the last good document (checked again), or the built-in
// (or firmware-supplied) configuration. Nothing of a rejected document is
// ever written.
func Run(ctx context.Context, cfg Config) (Result, error) {
	cfg.defaults()
	r := Result{Platform: Detect(cfg.SysRoot), Vendor: DMIVendor(cfg.SysRoot)}
	if r.Platform == None {
		return r, nil
	}
	var allow []string
	if cfg.Allowlist != nil {
		var err error
		if allow, err = cfg.Allowlist(); err != nil {
			return r, err
		}
	}
	if len(allow) == 0 {
		return r, errors.New("no credential allowlist; refusing every credential")
	}
	ctx, cancel := context.WithTimeout(ctx, cfg.Timeout)
	defer cancel()
	var raw []byte
	var err error
	switch r.Platform {
	case AWS:
		raw, err = fetchAWS(ctx, newClient(cfg.BaseURL, int64(cfg.MaxUserData)))
	case GCP:
		raw, err = fetchGCP(ctx, newClient(cfg.BaseURL, int64(cfg.MaxUserData)))
	case Azure:
		// The answer is base64: allow its encoded size, check the decoded.
		raw, err = fetchAzure(ctx, newClient(cfg.BaseURL, int64(base64.StdEncoding.EncodedLen(cfg.MaxUserData))+2))
		if err == nil && len(raw) > cfg.MaxUserData {
			err = fmt.Errorf("user data is larger than the %d-byte limit", cfg.MaxUserData)
		}
	}
	if errors.Is(err, errNoUserData) || (err == nil && strings.TrimSpace(string(raw)) == "") {
		// No user data is a decision, not a failure: forget the last
		// good document, the built-in configuration serves.
		r.NoData = true
		if cfg.LastGood != "" {
			if err := os.Remove(cfg.LastGood); err != nil && !errors.Is(err, os.ErrNotExist) {
				return r, fmt.Errorf("cannot remove %s: %v", cfg.LastGood, err)
			}
		}
		return r, nil
	}
	policy := Policy{Allow: allow, MaxValue: cfg.MaxValue, MaxCount: cfg.MaxCount}
	var creds []Credential
	switch {
	case err != nil && ctx.Err() != nil:
		err = fmt.Errorf("%s metadata service at %s gave no complete answer within %s", r.Platform, cfg.BaseURL, cfg.Timeout)
	case err != nil:
		err = fmt.Errorf("%s metadata service: %w", r.Platform, err)
	default:
		creds, err = ParseDocument(raw, policy)
		if err != nil {
			err = fmt.Errorf("%s user data rejected: %w", r.Platform, err)
		}
	}
	if err != nil {
		return r, fallBack(&r, cfg, policy, err)
	}
	if r.Outcomes, err = WriteStore(cfg.CredStore, cfg.ShadowDirs, creds); err != nil {
		return r, err
	}
	if cfg.LastGood != "" {
		if err := credstore.WriteFileAtomic(cfg.LastGood, raw); err != nil {
			return r, fmt.Errorf("imported, but cannot keep the document as the last good one: %v", err)
		}
	}
	return r, nil
}

// fallBack imports the last good document instead, after checking it
// again as if it had just arrived (the state partition is writable, so it
// is no more trusted than the metadata service), and returns err with
// what now serves.
func fallBack(r *Result, cfg Config, p Policy, err error) error {
	if cfg.LastGood == "" {
		return fmt.Errorf("%w; nothing imported, the built-in configuration serves", err)
	}
	b, rerr := os.ReadFile(cfg.LastGood)
	if errors.Is(rerr, os.ErrNotExist) {
		return fmt.Errorf("%w; nothing imported, the built-in configuration serves", err)
	}
	var creds []Credential
	if rerr == nil && len(b) <= cfg.MaxUserData {
		creds, rerr = ParseDocument(b, p)
	} else if rerr == nil {
		rerr = fmt.Errorf("larger than %d bytes", cfg.MaxUserData)
	}
	if rerr != nil {
		return fmt.Errorf("%w; the last good document %s is unusable too (%v), the built-in configuration serves", err, cfg.LastGood, rerr)
	}
	out, werr := WriteStore(cfg.CredStore, cfg.ShadowDirs, creds)
	r.Outcomes, r.FellBack = out, true
	if werr != nil {
		return fmt.Errorf("%w; and the last good document could not be imported: %v", err, werr)
	}
	return fmt.Errorf("%w; the last good document %s was imported instead", err, cfg.LastGood)
}
