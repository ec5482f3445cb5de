// Package update checks an update bundle before systemd-sysupdate may see
// it. A bundle (written by `appliance update-bundle` or by every build
// into <output_dir>/update/) holds the three payloads of one version, named
// as the image's /usr/lib/sysupdate.d/*.transfer expect them:
//
//	supernode_<version>_<root partition uuid>.root.gz
//	supernode_<version>_<hash partition uuid>.verity.gz
//	supernode_<version>_uki.efi
//
// plus manifest.json and the SBOMs, SHA256SUMS over all of them and
// SHA256SUMS.gpg, a detached OpenPGP signature by the operator key whose
// public half the image carries in its verified root (OperatorKeyPath).
//
// sysupdate's own regular-file source verifies nothing, so the appliance
// never points it at a bundle: Stage copies the bundle (a directory, a USB
// stick's mount point, or an HTTPS URL) into a private directory, checks
// the signature, every name and every sum there, refuses a downgrade, and
// only then hands that directory to `systemd-sysupdate
// --transfer-source=DIR`. A refusal is one sentence and leaves nothing
// behind.
package update

import (
	"fmt"
	"regexp"
)

const (
	// Prefix starts every payload name, slot label and UKI name.
	Prefix = "supernode_"
	// SumsFile and SignatureFile are what the operator signs.
	SumsFile      = "SHA256SUMS"
	SignatureFile = "SHA256SUMS.gpg"
	// OperatorKeyPath is the operator's public key inside the verified
	// root: the public half of the build's signing_key.
	OperatorKeyPath = "/usr/lib/appliance-update/operator.asc"
	// MaxSums bounds SHA256SUMS and its signature.
	MaxSums = 64 << 10
	// MaxPayload bounds each file of a bundle (the root payload is at most
	// a compressed 128 MiB slot).
	MaxPayload = 256 << 20
)

// Extra files a bundle may carry (checked like the payloads when listed).
var Extra = []string{"manifest.json", "sbom.spdx.json", "sbom.cdx.json"}

const (
	versionRe = `([0-9A-Za-z][0-9A-Za-z.+-]*)`
	uuidRe    = `([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})`
)

var (
	rootRe   = regexp.MustCompile(`^` + Prefix + versionRe + `_` + uuidRe + `\.root\.gz$`)
	verityRe = regexp.MustCompile(`^` + Prefix + versionRe + `_` + uuidRe + `\.verity\.gz$`)
	ukiRe    = regexp.MustCompile(`^` + Prefix + versionRe + `_uki\.efi$`)
)

// RootName, VerityName and UKIName are the payload names of a version.
func RootName(version, uuid string) string   { return Prefix + version + "_" + uuid + ".root.gz" }
func VerityName(version, uuid string) string { return Prefix + version + "_" + uuid + ".verity.gz" }
func UKIName(version string) string          { return Prefix + version + "_uki.efi" }

// Payloads are the three files of one version in a bundle.
type Payloads struct {
	Version              string
	Root, Verity, UKI    string // file names
	RootUUID, VerityUUID string
}

// Classify sorts the names of a SHA256SUMS into the payloads of exactly
// one version and the extra files; any other name is refused.
func Classify(names []string) (*Payloads, error) {
	p := &Payloads{}
	setVersion := func(name, v string) error {
		if p.Version != "" && p.Version != v {
			return fmt.Errorf("%s names version %s but another payload names %s; a bundle holds one version", name, v, p.Version)
		}
		p.Version = v
		return nil
	}
	for _, n := range names {
		var err error
		switch {
		case rootRe.MatchString(n):
			m := rootRe.FindStringSubmatch(n)
			if p.Root != "" {
				return nil, fmt.Errorf("%s lists two root payloads (%s, %s)", SumsFile, p.Root, n)
			}
			p.Root, p.RootUUID, err = n, m[2], setVersion(n, m[1])
		case verityRe.MatchString(n):
			m := verityRe.FindStringSubmatch(n)
			if p.Verity != "" {
				return nil, fmt.Errorf("%s lists two verity payloads (%s, %s)", SumsFile, p.Verity, n)
			}
			p.Verity, p.VerityUUID, err = n, m[2], setVersion(n, m[1])
		case ukiRe.MatchString(n):
			m := ukiRe.FindStringSubmatch(n)
			if p.UKI != "" {
				return nil, fmt.Errorf("%s lists two UKIs (%s, %s)", SumsFile, p.UKI, n)
			}
			p.UKI, err = n, setVersion(n, m[1])
		case isExtra(n):
		default:
			return nil, fmt.Errorf("%s lists %q, which is no payload name of an update bundle (%s<version>_<uuid>.root.gz, .verity.gz, %s<version>_uki.efi, manifest.json, sbom.*.json)", SumsFile, n, Prefix, Prefix)
		}
		if err != nil {
			return nil, err
		}
	}
	for what, n := range map[string]string{"root (.root.gz)": p.Root, "verity (.verity.gz)": p.Verity, "UKI (_uki.efi)": p.UKI} {
		if n == "" {
			return nil, fmt.Errorf("%s lists no %s payload; the bundle is incomplete", SumsFile, what)
		}
	}
	return p, nil
}

func isExtra(n string) bool {
	for _, e := range Extra {
		if n == e {
			return true
		}
	}
	return false
}
