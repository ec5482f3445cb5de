package builder

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"time"
)

// SPDX 2.3 JSON (spdx.github.io/spdx-spec/v2.3), the subset an SBOM of an
// image needs: the image, its Debian packages (with their source packages,
// licenses and .deb checksums), the ELF files they put in the root, and the
// project's Go binaries with every module and the standard library linked
// into them. ValidateSBOM checks a document against the rules of the spec.
type spdxDoc struct {
	SPDXVersion       string            `json:"spdxVersion"`
	DataLicense       string            `json:"dataLicense"`
	SPDXID            string            `json:"SPDXID"`
	Name              string            `json:"name"`
	DocumentNamespace string            `json:"documentNamespace"`
	CreationInfo      spdxCreation      `json:"creationInfo"`
	Packages          []spdxPackage     `json:"packages"`
	Files             []spdxFile        `json:"files,omitempty"`
	OtherLicenses     []spdxOtherLicese `json:"hasExtractedLicensingInfos,omitempty"`
	Relationships     []spdxRel         `json:"relationships"`
}

type spdxCreation struct {
	Created  string   `json:"created"`
	Creators []string `json:"creators"`
	Comment  string   `json:"comment,omitempty"`
}

type spdxPackage struct {
	Name             string         `json:"name"`
	SPDXID           string         `json:"SPDXID"`
	VersionInfo      string         `json:"versionInfo,omitempty"`
	Supplier         string         `json:"supplier,omitempty"`
	DownloadLocation string         `json:"downloadLocation"`
	Homepage         string         `json:"homepage,omitempty"`
	FilesAnalyzed    bool           `json:"filesAnalyzed"`
	SourceInfo       string         `json:"sourceInfo,omitempty"`
	LicenseConcluded string         `json:"licenseConcluded"`
	LicenseDeclared  string         `json:"licenseDeclared"`
	CopyrightText    string         `json:"copyrightText"`
	Comment          string         `json:"comment,omitempty"`
	Checksums        []spdxChecksum `json:"checksums,omitempty"`
	ExternalRefs     []spdxRef      `json:"externalRefs,omitempty"`
	PrimaryPurpose   string         `json:"primaryPackagePurpose,omitempty"`
}

type spdxFile struct {
	FileName         string         `json:"fileName"`
	SPDXID           string         `json:"SPDXID"`
	FileTypes        []string       `json:"fileTypes,omitempty"`
	Checksums        []spdxChecksum `json:"checksums"`
	LicenseConcluded string         `json:"licenseConcluded"`
	CopyrightText    string         `json:"copyrightText"`
}

type spdxOtherLicese struct {
	LicenseID     string `json:"licenseId"`
	ExtractedText string `json:"extractedText"`
	Name          string `json:"name,omitempty"`
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

// spdxID turns s into the characters an SPDX identifier may hold
// ([A-Za-z0-9.-], spec 3.2).
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

func purlRef(purl string) []spdxRef {
	return []spdxRef{{Category: "PACKAGE-MANAGER", Type: "purl", Locator: purl}}
}

// SBOMInput is what an SBOM is made from, so tests can make one from a
// small fixture without a build.
type SBOMInput struct {
	ImageName      string
	RootHash       string
	Suite          string
	Epoch          int64
	BuilderVersion string
	Inventory      *RootInventory
	// Kernel is the kernel built from source (kernel_flavour = "hardened");
	// nil when the kernel is a Debian package of Inventory.
	Kernel *KernelBuild
}

// kernelSource is the Debian source package linux-source-<major> is built
// from: Debian names it linux, at the same version.
const kernelSource = "linux"

// SBOM renders the SPDX document of the image. Timestamps come from
// SOURCE_DATE_EPOCH and every list is sorted, so the SBOM is reproducible.
func (s *State) SBOM() ([]byte, error) {
	if s.Inventory == nil {
		return nil, fmt.Errorf("no inventory of the final root: the strip step did not run")
	}
	return RenderSBOM(s.sbomInput())
}

func (s *State) sbomInput() SBOMInput {
	return SBOMInput{ImageName: s.Config.ImageName, RootHash: s.RootHash, Suite: s.Config.Suite,
		Epoch: s.Epoch, BuilderVersion: Version, Inventory: s.Inventory, Kernel: s.kernelBuild()}
}

// RenderSBOM renders in as SPDX 2.3 JSON.
func RenderSBOM(in SBOMInput) ([]byte, error) {
	const none = "NOASSERTION"
	inv := in.Inventory
	doc := spdxDoc{
		SPDXVersion: "SPDX-2.3", DataLicense: "CC0-1.0", SPDXID: "SPDXRef-DOCUMENT",
		Name:              in.ImageName,
		DocumentNamespace: "https://supernode-appliance.invalid/spdx/" + in.ImageName + "-" + in.RootHash,
		CreationInfo: spdxCreation{
			Created:  time.Unix(in.Epoch, 0).UTC().Format(time.RFC3339),
			Creators: []string{"Tool: supernode-appliance-builder-" + in.BuilderVersion},
			Comment:  "Packages are those of the final root, after the build removed the package manager, shells and documentation.",
		},
	}
	rel := func(a, typ, b string) { doc.Relationships = append(doc.Relationships, spdxRel{a, typ, b}) }
	doc.Packages = append(doc.Packages, spdxPackage{Name: in.ImageName, SPDXID: "SPDXRef-Image", VersionInfo: in.RootHash,
		DownloadLocation: none, LicenseConcluded: none, LicenseDeclared: none, CopyrightText: none,
		Comment: "versionInfo is the dm-verity root hash of the image's root file system", PrimaryPurpose: "OPERATING_SYSTEM"})
	rel("SPDXRef-DOCUMENT", "DESCRIBES", "SPDXRef-Image")

	refs := map[string]string{}
	fileIDs := map[string][]string{} // package name -> its files' ids
	for _, f := range inv.Files {
		id := "SPDXRef-file-" + spdxID(f.Path)
		doc.Files = append(doc.Files, spdxFile{FileName: "./" + f.Path, SPDXID: id, FileTypes: []string{"BINARY"},
			Checksums:        []spdxChecksum{{"SHA1", f.SHA1}, {"SHA256", f.SHA256}},
			LicenseConcluded: none, CopyrightText: none})
		fileIDs[f.Package] = append(fileIDs[f.Package], id)
	}
	sources := map[string]bool{}
	for _, p := range inv.Packages {
		id := "SPDXRef-deb-" + spdxID(p.Name)
		lic := inv.Licenses[p.Name]
		if lic.Expression == "" {
			lic.Expression = none
		}
		for k, v := range lic.Refs {
			refs[k] = v
		}
		pkg := spdxPackage{
			Name: p.Name, SPDXID: id, VersionInfo: p.Version, Supplier: spdxSupplier(p.Maintainer),
			DownloadLocation: none, Homepage: p.Homepage,
			SourceInfo:       fmt.Sprintf("built package from: %s %s", p.Source, p.SourceVersion),
			LicenseConcluded: none, LicenseDeclared: lic.Expression, CopyrightText: none,
			ExternalRefs: purlRef(DebPurl(p.Name, p.Version, p.Arch, in.Suite)),
		}
		if sum := inv.DebSHA256[p.Name]; sum != "" {
			pkg.Checksums = []spdxChecksum{{"SHA256", sum}}
			pkg.Comment = "checksum of " + debFileName(p)
		}
		doc.Packages = append(doc.Packages, pkg)
		rel("SPDXRef-Image", "CONTAINS", id)
		for _, f := range fileIDs[p.Name] {
			rel(id, "CONTAINS", f)
		}
		// The source package, once per name and version.
		srcID := "SPDXRef-debsrc-" + spdxID(p.Source+"-"+p.SourceVersion)
		if !sources[srcID] {
			sources[srcID] = true
			doc.Packages = append(doc.Packages, spdxPackage{
				Name: p.Source, SPDXID: srcID, VersionInfo: p.SourceVersion, Supplier: spdxSupplier(p.Maintainer),
				DownloadLocation: none, LicenseConcluded: none, LicenseDeclared: lic.Expression, CopyrightText: none,
				ExternalRefs: purlRef(DebPurl(p.Source, p.SourceVersion, "source", in.Suite)), PrimaryPurpose: "SOURCE",
			})
		}
		rel(id, "GENERATED_FROM", srcID)
	}

	if k := in.Kernel; k != nil {
		srcID := "SPDXRef-debsrc-" + spdxID(kernelSource+"-"+k.SourceVersion)
		doc.Packages = append(doc.Packages, spdxPackage{
			Name: "linux", SPDXID: "SPDXRef-kernel", VersionInfo: k.Release, Supplier: "Organization: supernode-appliance",
			DownloadLocation: none, LicenseConcluded: none, LicenseDeclared: "GPL-2.0-only", CopyrightText: none,
			Checksums: []spdxChecksum{{"SHA256", k.ImageSHA256}}, PrimaryPurpose: "OPERATING_SYSTEM",
			SourceInfo: fmt.Sprintf("built from Debian's %s %s (source package %s)", k.SourcePackage, k.SourceVersion, kernelSource),
			Comment:    fmt.Sprintf("the hardened kernel in the UKI, built by image/kernel: checksum of its bzImage; sha256 of its .config %s; build cache key %s", k.ConfigSHA256, k.Key),
		})
		rel("SPDXRef-Image", "CONTAINS", "SPDXRef-kernel")
		if !sources[srcID] {
			sources[srcID] = true
			doc.Packages = append(doc.Packages, spdxPackage{
				Name: kernelSource, SPDXID: srcID, VersionInfo: k.SourceVersion, DownloadLocation: none,
				LicenseConcluded: none, LicenseDeclared: "GPL-2.0-only", CopyrightText: none,
				ExternalRefs: purlRef(DebPurl(kernelSource, k.SourceVersion, "source", in.Suite)), PrimaryPurpose: "SOURCE",
			})
		}
		rel("SPDXRef-kernel", "GENERATED_FROM", srcID)
	}

	modIDs := map[string]string{}
	goModID := func(m GoModule) string { return "SPDXRef-gomod-" + spdxID(m.Path+"-"+m.Version) }
	for _, m := range inv.GoModules() {
		id := goModID(m)
		modIDs[m.Path+"@"+m.Version] = id
		p := spdxPackage{Name: m.Path, SPDXID: id, VersionInfo: m.Version, DownloadLocation: none,
			LicenseConcluded: none, LicenseDeclared: none, CopyrightText: none,
			ExternalRefs: purlRef(GoPurl(m.Path, m.Version)), PrimaryPurpose: "LIBRARY"}
		if m.Sum != "" {
			p.Comment = "go.sum " + m.Sum
		}
		if m.Replace != "" {
			p.Comment = strings.TrimSpace(p.Comment + "; replaces " + m.Replace)
		}
		doc.Packages = append(doc.Packages, p)
	}
	stdlibs := map[string]bool{}
	for _, b := range inv.GoBinaries {
		id := "SPDXRef-bin-" + spdxID(b.Name)
		fileID := "SPDXRef-file-" + spdxID(b.Path)
		var settings []string
		for k, v := range b.Settings {
			settings = append(settings, k+"="+v)
		}
		sort.Strings(settings)
		doc.Packages = append(doc.Packages, spdxPackage{
			Name: b.Name, SPDXID: id, VersionInfo: in.BuilderVersion, Supplier: "Organization: supernode-appliance",
			DownloadLocation: none, LicenseConcluded: none, LicenseDeclared: none, CopyrightText: none,
			Checksums: []spdxChecksum{{"SHA1", b.SHA1}, {"SHA256", b.SHA256}}, PrimaryPurpose: "APPLICATION",
			ExternalRefs: purlRef(b.Purl()),
			Comment:      fmt.Sprintf("Go binary built with %s from module %s; build settings: %s", b.GoVersion, b.Main.Path, strings.Join(settings, " ")),
		})
		doc.Files = append(doc.Files, spdxFile{FileName: "./" + b.Path, SPDXID: fileID, FileTypes: []string{"BINARY"},
			Checksums:        []spdxChecksum{{"SHA1", b.SHA1}, {"SHA256", b.SHA256}},
			LicenseConcluded: none, CopyrightText: none})
		rel("SPDXRef-Image", "CONTAINS", id)
		rel(id, "CONTAINS", fileID)
		stdID := "SPDXRef-gostdlib-" + spdxID(b.GoVersion)
		if !stdlibs[stdID] {
			stdlibs[stdID] = true
			doc.Packages = append(doc.Packages, spdxPackage{Name: "stdlib", SPDXID: stdID, VersionInfo: b.GoVersion,
				DownloadLocation: none, LicenseConcluded: none, LicenseDeclared: "BSD-3-Clause", CopyrightText: none,
				Comment:      "the Go standard library of toolchain " + b.GoVersion + ", which also built the binary",
				ExternalRefs: purlRef(StdlibPurl(b.GoVersion)), PrimaryPurpose: "LIBRARY"})
		}
		rel(id, "DEPENDS_ON", stdID)
		for _, d := range b.Deps {
			rel(id, "DEPENDS_ON", modIDs[d.Path+"@"+d.Version])
		}
	}
	var refIDs []string
	for k := range refs {
		refIDs = append(refIDs, k)
	}
	sort.Strings(refIDs)
	for _, k := range refIDs {
		doc.OtherLicenses = append(doc.OtherLicenses, spdxOtherLicese{LicenseID: k, ExtractedText: refs[k],
			Name: strings.TrimPrefix(k, "LicenseRef-")})
	}
	sort.SliceStable(doc.Files, func(i, j int) bool { return doc.Files[i].FileName < doc.Files[j].FileName })
	return json.MarshalIndent(doc, "", "  ")
}

// spdxSupplier turns a Debian Maintainer ("Name <mail>") into an SPDX
// supplier ("Organization: Name (mail)").
func spdxSupplier(maint string) string {
	if maint == "" {
		return "Organization: Debian"
	}
	name, mail, ok := strings.Cut(maint, "<")
	name = strings.TrimSpace(name)
	if !ok {
		return "Organization: " + name
	}
	return fmt.Sprintf("Organization: %s (%s)", name, strings.TrimSuffix(strings.TrimSpace(mail), ">"))
}
