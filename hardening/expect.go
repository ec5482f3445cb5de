package hardening

import (
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"strings"
)

// ImageOptions are what the operator, not the image under audit, says the
// image must be (DESIGN.md, "Trust chain": the offline audit trusts the
// operator's manifest or given values, never the image). An image rebuilt
// by an attacker carries its own root hash, command line, signature-shaped
// bytes and debug stamp; none of them is evidence about itself.
type ImageOptions struct {
	RootHash     string            // expected dm-verity root hash (64 hex digits); required
	RootHashFrom string            // where it came from ("--root-hash", "manifest FILE")
	Cmdline      string            // expected UKI command line (from a manifest), "" = not checked
	Cert         *x509.Certificate // verify the UKI's Authenticode signature with it; nil = not verified
	CertFrom     string
	Debug        bool // the operator audits a debug image (debug exemptions apply)
}

// ManifestExpectations reads the builder's manifest.json (image/README.md)
// and returns the root hash and UKI command line it publishes.
func ManifestExpectations(path string) (ImageOptions, error) {
	var o ImageOptions
	b, err := os.ReadFile(path)
	if err != nil {
		return o, fmt.Errorf("manifest: %w", err)
	}
	var m struct {
		RootHash      string `json:"root_hash"`
		KernelCmdline string `json:"kernel_cmdline"`
	}
	if err := json.Unmarshal(b, &m); err != nil {
		return o, fmt.Errorf("manifest %s: not the builder's manifest.json: %w", path, err)
	}
	if err := validRootHash(m.RootHash); err != nil {
		return o, fmt.Errorf("manifest %s: root_hash: %w", path, err)
	}
	return ImageOptions{RootHash: m.RootHash, RootHashFrom: "manifest " + path, Cmdline: m.KernelCmdline}, nil
}

func validRootHash(h string) error {
	if b, err := hex.DecodeString(h); err != nil || len(b) != 32 {
		return fmt.Errorf("%q is not a SHA-256 root hash (64 hex digits)", h)
	}
	return nil
}

// check refuses options that cannot anchor an audit.
func (o *ImageOptions) check() error {
	if o.RootHash == "" {
		return fmt.Errorf("no expected root hash: pass --root-hash HEX or --manifest manifest.json (the image's own roothash= proves nothing about the image)")
	}
	o.RootHash = strings.ToLower(o.RootHash)
	if err := validRootHash(o.RootHash); err != nil {
		return fmt.Errorf("expected root hash: %w", err)
	}
	if o.RootHashFrom == "" {
		o.RootHashFrom = "--root-hash"
	}
	return nil
}
