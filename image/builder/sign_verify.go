package builder

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"

	pgperrors "github.com/ProtonMail/go-crypto/openpgp/errors"
)

// VerifyReport is what VerifyOutput found: one line per check passed, one
// sentence per problem.
type VerifyReport struct {
	Passed   []string
	Problems []string
	Signer   string // fingerprint of the key that signed SHA256SUMS
	RootHash string // from the verified manifest
	// Unchecked says why the signature was not checked (no key given):
	// the sums then only prove the files consistent, not the operator's.
	Unchecked string
}

// OK reports whether every check passed.
func (r *VerifyReport) OK() bool { return len(r.Problems) == 0 }

var rootHashRe = regexp.MustCompile(`^[0-9a-f]{64}$`)

// VerifyOutput checks a build's output directory: the signature over
// SHA256SUMS against the operator's public key pub (armored; nil skips the
// signature, and the report says so), every file against SHA256SUMS, the
// provenance's subjects against the files, the manifest, and the SBOM's
// validity. It trusts nothing in dir until the signature and sums hold.
func VerifyOutput(dir string, pub []byte) *VerifyReport {
	r := &VerifyReport{}
	pass := func(format string, a ...any) { r.Passed = append(r.Passed, fmt.Sprintf(format, a...)) }
	fail := func(format string, a ...any) { r.Problems = append(r.Problems, fmt.Sprintf(format, a...)) }
	sumsData, err := readRegular(filepath.Join(dir, SumsFile))
	if err != nil {
		fail("%s is missing from %s: this is not a build output of this builder, or it was stripped", SumsFile, dir)
		return r
	}
	// 1. The signature: SHA256SUMS is the operator's only if it holds.
	if pub == nil {
		r.Unchecked = "the signature was not checked: give the operator's public key with -key PUB.asc"
	} else if sig, err := readRegular(filepath.Join(dir, SignatureFile)); err != nil {
		fail("%s is missing: the build was not signed (set signing_key in the template), or the signature was removed", SignatureFile)
	} else if fp, err := VerifyDetached(pub, sumsData, sig); err != nil {
		switch {
		case errors.Is(err, pgperrors.ErrUnknownIssuer):
			fail("%s was not made by the given key: it is signed by another key", SignatureFile)
		case errors.As(err, new(pgperrors.SignatureError)):
			fail("%s does not match %s: %s was changed after it was signed (%v)", SignatureFile, SumsFile, SumsFile, err)
		default:
			fail("%s could not be checked against the given key: %v", SignatureFile, err)
		}
	} else {
		r.Signer = fp
		pass("%s signed by %s", SumsFile, fp)
	}
	// 2. Every file against its sum.
	sums, err := ParseSHA256SUMS(sumsData)
	if err != nil {
		fail("%v", err)
		return r
	}
	names := make([]string, 0, len(sums))
	for n := range sums {
		names = append(names, n)
	}
	sort.Strings(names)
	good := map[string]bool{}
	for _, n := range names {
		// Only regular files: a FIFO or device named in a hostile
		// SHA256SUMS must not hang or feed the check.
		got, err := "", error(nil)
		if fi, serr := os.Stat(filepath.Join(dir, n)); serr != nil {
			err = serr
		} else if !fi.Mode().IsRegular() {
			fail("%s is not a regular file", n)
			continue
		} else {
			got, err = sha256File(filepath.Join(dir, n))
		}
		switch {
		case err != nil:
			fail("%s is listed in %s but missing", n, SumsFile)
		case got != sums[n]:
			fail("%s does not match its sum in %s: it was changed after the build", n, SumsFile)
		default:
			good[n] = true
		}
	}
	// A file beside them that nothing vouches for (an image of an older
	// build, or one slipped in) must not pass for part of this build.
	if entries, err := os.ReadDir(dir); err == nil {
		for _, e := range entries {
			if _, ok := sums[e.Name()]; !ok && e.Type().IsRegular() && e.Name() != SumsFile && e.Name() != SignatureFile {
				fail("%s is not covered by %s: it is not part of this build", e.Name(), SumsFile)
			}
		}
	}
	for _, must := range []string{ManifestFile, SBOMFile, ProvenanceFile} {
		if _, ok := sums[must]; !ok {
			fail("%s is not covered by %s, so nothing vouches for it", must, SumsFile)
		}
	}
	if len(good) == len(sums) {
		pass("%d files match %s", len(sums), SumsFile)
	}
	// 3. The provenance names every other file with the same digest.
	if good[ProvenanceFile] {
		data, _ := os.ReadFile(filepath.Join(dir, ProvenanceFile))
		subjects, pred, err := ReadProvenance(data)
		if err != nil {
			fail("%s: %v", ProvenanceFile, err)
		} else {
			bad := 0
			for _, n := range names {
				if n == ProvenanceFile {
					continue
				}
				if d, ok := subjects[n]; !ok {
					fail("%s is not a subject of %s", n, ProvenanceFile)
					bad++
				} else if d != sums[n] {
					fail("%s gives %s another digest than %s does", ProvenanceFile, n, SumsFile)
					bad++
				}
			}
			if bad == 0 {
				pass("%s: SLSA v1 (%s), %d subjects match, %d resolved dependencies", ProvenanceFile,
					pred.GetBuildDefinition().GetBuildType(), len(subjects), len(pred.GetBuildDefinition().GetResolvedDependencies()))
			}
		}
	}
	// 4. The manifest: root hash and artifact list.
	var m Manifest
	if good[ManifestFile] {
		data, _ := os.ReadFile(filepath.Join(dir, ManifestFile))
		if err := json.Unmarshal(data, &m); err != nil {
			fail("%s is not JSON: %v", ManifestFile, err)
		} else if !rootHashRe.MatchString(m.RootHash) {
			fail("%s has no dm-verity root hash (root_hash %q)", ManifestFile, m.RootHash)
		} else {
			r.RootHash = m.RootHash
			bad := 0
			for _, a := range m.Artifacts {
				if sums[a.Path] != a.SHA256 {
					fail("%s lists %s with another sha256 than %s", ManifestFile, a.Path, SumsFile)
					bad++
				}
			}
			if bad == 0 {
				pass("%s: root hash %s, %d packages, %d artifacts", ManifestFile, m.RootHash, len(m.Packages), len(m.Artifacts))
			}
		}
	}
	// 5. The SBOM is valid SPDX 2.3 and describes this root.
	if good[SBOMFile] {
		data, _ := os.ReadFile(filepath.Join(dir, SBOMFile))
		if err := ValidateSBOM(data); err != nil {
			fail("%s is not valid SPDX 2.3: %v", SBOMFile, err)
		} else {
			var doc spdxDoc
			json.Unmarshal(data, &doc)
			if r.RootHash != "" && (len(doc.Packages) == 0 || doc.Packages[0].VersionInfo != r.RootHash) {
				fail("%s describes another image than %s (root hash differs)", SBOMFile, ManifestFile)
			} else {
				pass("%s: valid SPDX 2.3, %d packages, %d files", SBOMFile, len(doc.Packages), len(doc.Files))
			}
		}
	}
	return r
}

// readRegular reads path only if it is a regular file (a FIFO would hang).
func readRegular(path string) ([]byte, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("%s is not a regular file", path)
	}
	return os.ReadFile(path)
}
