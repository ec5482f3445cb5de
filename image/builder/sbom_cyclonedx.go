package builder

import (
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"time"
)

// CycloneDXFile is the same inventory as the SPDX SBOM in CycloneDX 1.5
// JSON (cyclonedx.org/docs/1.5/json), for scanners that read only that.
const CycloneDXFile = "sbom.cdx.json"

type cdxBOM struct {
	BOMFormat    string          `json:"bomFormat"`
	SpecVersion  string          `json:"specVersion"`
	SerialNumber string          `json:"serialNumber"`
	Version      int             `json:"version"`
	Metadata     cdxMetadata     `json:"metadata"`
	Components   []cdxComponent  `json:"components"`
	Dependencies []cdxDependency `json:"dependencies"`
}

type cdxMetadata struct {
	Timestamp string       `json:"timestamp"`
	Tools     cdxTools     `json:"tools"`
	Component cdxComponent `json:"component"`
}

type cdxTools struct {
	Components []cdxComponent `json:"components"`
}

type cdxComponent struct {
	Type       string        `json:"type"`
	BOMRef     string        `json:"bom-ref,omitempty"`
	Supplier   *cdxSupplier  `json:"supplier,omitempty"`
	Name       string        `json:"name"`
	Version    string        `json:"version,omitempty"`
	Hashes     []cdxHash     `json:"hashes,omitempty"`
	Licenses   []cdxLicense  `json:"licenses,omitempty"`
	Purl       string        `json:"purl,omitempty"`
	Properties []cdxProperty `json:"properties,omitempty"`
	Pedigree   *cdxPedigree  `json:"pedigree,omitempty"`
}

// cdxPedigree names what a component was built from (the kernel: Debian's
// linux source package).
type cdxPedigree struct {
	Ancestors []cdxComponent `json:"ancestors"`
}

type cdxSupplier struct {
	Name string `json:"name"`
}

type cdxHash struct {
	Alg     string `json:"alg"`
	Content string `json:"content"`
}

type cdxLicense struct {
	Expression string `json:"expression"`
}

type cdxProperty struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

type cdxDependency struct {
	Ref       string   `json:"ref"`
	DependsOn []string `json:"dependsOn,omitempty"`
}

// RenderCycloneDX renders in as CycloneDX 1.5 JSON: the image as the
// metadata component, Debian packages, the project binaries, their Go
// modules and the standard library as components, and which binary links
// which module as dependencies.
func RenderCycloneDX(in SBOMInput) ([]byte, error) {
	inv := in.Inventory
	// A serial number derived from the root hash: one image, one BOM.
	h := sha256.Sum256([]byte("cyclonedx:" + in.ImageName + ":" + in.RootHash))
	h[6], h[8] = h[6]&0x0f|0x50, h[8]&0x3f|0x80
	bom := cdxBOM{
		BOMFormat: "CycloneDX", SpecVersion: "1.5", Version: 1,
		SerialNumber: fmt.Sprintf("urn:uuid:%x-%x-%x-%x-%x", h[0:4], h[4:6], h[6:8], h[8:10], h[10:16]),
		Metadata: cdxMetadata{
			Timestamp: time.Unix(in.Epoch, 0).UTC().Format(time.RFC3339),
			Tools:     cdxTools{Components: []cdxComponent{{Type: "application", Name: "supernode-appliance-builder", Version: in.BuilderVersion}}},
			Component: cdxComponent{Type: "operating-system", BOMRef: "image", Name: in.ImageName, Version: in.RootHash},
		},
	}
	top := []string{}
	for _, p := range inv.Packages {
		purl := DebPurl(p.Name, p.Version, p.Arch, in.Suite)
		c := cdxComponent{Type: "library", BOMRef: purl, Name: p.Name, Version: p.Version, Purl: purl,
			Properties: []cdxProperty{{"debian:source", p.Source + " " + p.SourceVersion}}}
		if p.Maintainer != "" {
			c.Supplier = &cdxSupplier{Name: p.Maintainer}
		}
		if e := inv.Licenses[p.Name].Expression; e != "" && e != "NOASSERTION" {
			c.Licenses = []cdxLicense{{e}}
		}
		if sum := inv.DebSHA256[p.Name]; sum != "" {
			c.Hashes = []cdxHash{{"SHA-256", sum}}
		}
		bom.Components = append(bom.Components, c)
		top = append(top, purl)
	}
	if k := in.Kernel; k != nil {
		src := DebPurl(kernelSource, k.SourceVersion, "source", in.Suite)
		bom.Components = append(bom.Components, cdxComponent{Type: "operating-system", BOMRef: "kernel", Name: "linux",
			Version: k.Release, Hashes: []cdxHash{{"SHA-256", k.ImageSHA256}}, Licenses: []cdxLicense{{"GPL-2.0-only"}},
			Properties: []cdxProperty{{"debian:source", k.SourcePackage + " " + k.SourceVersion}, {"kernel:config-sha256", k.ConfigSHA256}, {"kernel:cache-key", k.Key}},
			Pedigree:   &cdxPedigree{Ancestors: []cdxComponent{{Type: "library", BOMRef: src, Name: kernelSource, Version: k.SourceVersion, Purl: src}}}})
		top = append(top, "kernel")
	}
	for _, m := range inv.GoModules() {
		purl := GoPurl(m.Path, m.Version)
		c := cdxComponent{Type: "library", BOMRef: purl, Name: m.Path, Version: m.Version, Purl: purl}
		if m.Replace != "" {
			c.Properties = []cdxProperty{{"golang:replaces", m.Replace}}
		}
		bom.Components = append(bom.Components, c)
	}
	stdlibs := map[string]bool{}
	for _, b := range inv.GoBinaries {
		ref := "bin:" + b.Name
		std := StdlibPurl(b.GoVersion)
		if !stdlibs[std] {
			stdlibs[std] = true
			bom.Components = append(bom.Components, cdxComponent{Type: "library", BOMRef: std, Name: "stdlib",
				Version: b.GoVersion, Purl: std, Licenses: []cdxLicense{{"BSD-3-Clause"}}})
		}
		bom.Components = append(bom.Components, cdxComponent{Type: "application", BOMRef: ref, Name: b.Name,
			Version: in.BuilderVersion, Purl: b.Purl(), Hashes: []cdxHash{{"SHA-1", b.SHA1}, {"SHA-256", b.SHA256}},
			Properties: []cdxProperty{{"path", "/" + b.Path}, {"golang:toolchain", b.GoVersion}}})
		dep := cdxDependency{Ref: ref, DependsOn: []string{std}}
		for _, d := range b.Deps {
			dep.DependsOn = append(dep.DependsOn, GoPurl(d.Path, d.Version))
		}
		bom.Dependencies = append(bom.Dependencies, dep)
		top = append(top, ref)
	}
	bom.Dependencies = append([]cdxDependency{{Ref: "image", DependsOn: top}}, bom.Dependencies...)
	return json.MarshalIndent(bom, "", "  ")
}

// CycloneDX renders the CycloneDX BOM of the image.
func (s *State) CycloneDX() ([]byte, error) {
	if s.Inventory == nil {
		return nil, fmt.Errorf("no inventory of the final root: the strip step did not run")
	}
	return RenderCycloneDX(s.sbomInput())
}
