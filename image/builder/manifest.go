package builder

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

func bytesReader(b []byte) io.Reader { return bytes.NewReader(b) }

func sha256File(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// Manifest is manifest.json: what the image is made of and how to check it.
// The audit (hardening/) and the tests read it.
type Manifest struct {
	ImageName               string            `json:"image_name"`
	BuilderVersion          string            `json:"builder_version"`
	RootHash                string            `json:"root_hash"`
	KernelVersion           string            `json:"kernel_version"`
	KernelCmdline           string            `json:"kernel_cmdline"`
	UKIPath                 string            `json:"uki_path"`
	HardeningProfileVersion string            `json:"hardening_profile_version"`
	SourceDateEpoch         int64             `json:"source_date_epoch"`
	Packages                []Package         `json:"packages"`
	Artifacts               []FileInfo        `json:"artifacts"`
	Inputs                  map[string]any    `json:"inputs"`
	InstalledFiles          []string          `json:"installed_files"`
	MissingInputs           []string          `json:"missing_inputs,omitempty"`
	Timings                 []StepTiming      `json:"timings"`
	Partitions              map[string]string `json:"partitions"`
}

// inputs records everything that determines the image.
func (s *State) inputs() map[string]any {
	c := s.Config
	in := map[string]any{
		"suite": c.Suite, "mirror": s.Mirror, "kernel_flavour": c.KernelFlavour,
		"packages_requested": Packages(c), "debug": c.Debug, "stateless": c.Stateless,
		"formats": c.Formats, "erofs_compression": c.Compression, "hostname": c.Hostname,
		"static_addresses": c.StaticAddresses, "initrd_drivers": c.InitrdDrivers,
		"source_date_epoch": s.Epoch, "secure_boot": c.SecureBootKey != "",
		"hardening_profile": c.HardeningProfile, "extra_cmdline": c.KernelCmdline,
		"stub_patch": s.StubPatch, "initrd_removed": s.InitrdRemoved,
	}
	bins := map[string]string{}
	for _, b := range Binaries {
		if sum, err := sha256File(filepath.Join(c.BinDir, b)); err == nil {
			bins[b] = sum
		}
	}
	in["binaries_sha256"] = bins
	return in
}

// SPDX 2.3 JSON (spdx.github.io/spdx-spec/v2.3), the subset an SBOM of
// Debian packages and our binaries needs.
type spdxDoc struct {
	SPDXVersion       string        `json:"spdxVersion"`
	DataLicense       string        `json:"dataLicense"`
	SPDXID            string        `json:"SPDXID"`
	Name              string        `json:"name"`
	DocumentNamespace string        `json:"documentNamespace"`
	CreationInfo      spdxCreation  `json:"creationInfo"`
	Packages          []spdxPackage `json:"packages"`
	Relationships     []spdxRel     `json:"relationships"`
}

type spdxCreation struct {
	Created  string   `json:"created"`
	Creators []string `json:"creators"`
}

type spdxPackage struct {
	Name             string         `json:"name"`
	SPDXID           string         `json:"SPDXID"`
	VersionInfo      string         `json:"versionInfo,omitempty"`
	Supplier         string         `json:"supplier,omitempty"`
	DownloadLocation string         `json:"downloadLocation"`
	FilesAnalyzed    bool           `json:"filesAnalyzed"`
	LicenseConcluded string         `json:"licenseConcluded"`
	LicenseDeclared  string         `json:"licenseDeclared"`
	CopyrightText    string         `json:"copyrightText"`
	Checksums        []spdxChecksum `json:"checksums,omitempty"`
	ExternalRefs     []spdxRef      `json:"externalRefs,omitempty"`
	PrimaryPurpose   string         `json:"primaryPackagePurpose,omitempty"`
}

type spdxChecksum struct {
	Algorithm string `json:"algorithm"`
	Value     string `json:"checksumValue"`
}

type spdxRef struct {
	Category string `json:"referenceCategory"`
	Type     string `json:"referenceType"`
	Locator  string `json:"referenceLocator"`
}

type spdxRel struct {
	Element string `json:"spdxElementId"`
	Type    string `json:"relationshipType"`
	Related string `json:"relatedSpdxElement"`
}

func spdxID(s string) string {
	var b strings.Builder
	for _, r := range s {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '-' {
			b.WriteRune(r)
		} else {
			b.WriteByte('-')
		}
	}
	return b.String()
}

// SBOM renders the SPDX document of the image. Timestamps come from
// SOURCE_DATE_EPOCH, so the SBOM is reproducible too.
func (s *State) SBOM() ([]byte, error) {
	c := s.Config
	const none = "NOASSERTION"
	doc := spdxDoc{
		SPDXVersion: "SPDX-2.3", DataLicense: "CC0-1.0", SPDXID: "SPDXRef-DOCUMENT",
		Name:              c.ImageName,
		DocumentNamespace: "https://supernode-appliance.invalid/spdx/" + c.ImageName + "-" + s.RootHash,
		CreationInfo: spdxCreation{
			Created:  time.Unix(s.Epoch, 0).UTC().Format(time.RFC3339),
			Creators: []string{"Tool: supernode-appliance-builder-" + Version},
		},
	}
	image := spdxPackage{Name: c.ImageName, SPDXID: "SPDXRef-Image", VersionInfo: s.RootHash, DownloadLocation: none,
		LicenseConcluded: none, LicenseDeclared: none, CopyrightText: none, PrimaryPurpose: "OPERATING-SYSTEM"}
	doc.Packages = append(doc.Packages, image)
	doc.Relationships = append(doc.Relationships, spdxRel{"SPDXRef-DOCUMENT", "DESCRIBES", "SPDXRef-Image"})
	for _, p := range s.Packages {
		id := "SPDXRef-deb-" + spdxID(p.Name)
		arch := p.Arch
		if arch == "" {
			arch = "amd64"
		}
		doc.Packages = append(doc.Packages, spdxPackage{
			Name: p.Name, SPDXID: id, VersionInfo: p.Version, Supplier: "Organization: Debian",
			DownloadLocation: none, LicenseConcluded: none, LicenseDeclared: none, CopyrightText: none,
			ExternalRefs: []spdxRef{{"PACKAGE-MANAGER", "purl",
				fmt.Sprintf("pkg:deb/debian/%s@%s?arch=%s&distro=debian-%s", p.Name, strings.ReplaceAll(p.Version, ":", "%3A"), arch, c.Suite)}},
		})
		doc.Relationships = append(doc.Relationships, spdxRel{"SPDXRef-Image", "CONTAINS", id})
	}
	var bins []string
	for _, b := range Binaries {
		bins = append(bins, b)
	}
	sort.Strings(bins)
	for _, b := range bins {
		sum, err := sha256File(filepath.Join(c.BinDir, b))
		if err != nil {
			continue
		}
		id := "SPDXRef-bin-" + spdxID(b)
		doc.Packages = append(doc.Packages, spdxPackage{
			Name: b, SPDXID: id, VersionInfo: Version, Supplier: "Organization: supernode-appliance",
			DownloadLocation: none, LicenseConcluded: none, LicenseDeclared: none, CopyrightText: none,
			Checksums: []spdxChecksum{{"SHA256", sum}}, PrimaryPurpose: "APPLICATION",
		})
		doc.Relationships = append(doc.Relationships, spdxRel{"SPDXRef-Image", "CONTAINS", id})
	}
	return json.MarshalIndent(doc, "", "  ")
}
