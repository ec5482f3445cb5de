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
	"strings"
	"time"
)

// Limits. Azure caps user data at 64 KiB and AWS at 16 KiB; GCP metadata
// values at 256 KiB, more than any configuration of ours needs.
const (
	DefaultMaxUserData = 64 << 10
	DefaultMaxValue    = 16 << 10
	DefaultMaxCount    = 64
	DefaultTimeout     = 10 * time.Second
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
}

// Result is what Run did, for the log and the exit status.
type Result struct {
	Platform Platform
	Vendor   string
	NoData   bool
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
// error is one sentence for the console and the journal; when it is not
// nil nothing was written, so whatever configuration the appliance had
// (built in, or from firmware) keeps serving.
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
		r.NoData = true
		return r, nil
	}
	if err != nil {
		if ctx.Err() != nil {
			return r, fmt.Errorf("%s metadata service at %s gave no complete answer within %s; nothing imported", r.Platform, cfg.BaseURL, cfg.Timeout)
		}
		return r, fmt.Errorf("%s metadata service: %w; nothing imported", r.Platform, err)
	}
	creds, err := ParseDocument(raw, Policy{Allow: allow, MaxValue: cfg.MaxValue, MaxCount: cfg.MaxCount})
	if err != nil {
		return r, fmt.Errorf("%s user data rejected, nothing imported: %w", r.Platform, err)
	}
	r.Outcomes, err = WriteStore(cfg.CredStore, cfg.ShadowDirs, creds)
	return r, err
}
