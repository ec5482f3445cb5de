package builder

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// The official JSON schemas, as published by the SPDX project
// (spdx-spec, branch support/2.3, schemas/spdx-schema.json) and by
// CycloneDX (specification, schema/bom-1.5.schema.json with the
// spdx.schema.json and jsf-0.82.schema.json it references; see
// testdata/schema/README.md), checked with santhosh-tekuri/jsonschema, a
// validator neither SBOM writer shares code with.
func schemaValidate(t *testing.T, schema string, doc []byte) error {
	t.Helper()
	c := jsonschema.NewCompiler()
	files, _ := filepath.Glob("testdata/schema/*.json")
	var main string
	for _, f := range files {
		r, err := os.Open(f)
		if err != nil {
			t.Fatal(err)
		}
		d, err := jsonschema.UnmarshalJSON(r)
		r.Close()
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		id, _ := d.(map[string]any)["$id"].(string)
		if err := c.AddResource(id, d); err != nil {
			t.Fatal(err)
		}
		if filepath.Base(f) == schema {
			main = id
		}
	}
	s, err := c.Compile(main)
	if err != nil {
		t.Fatalf("compiling %s: %v", schema, err)
	}
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(doc))
	if err != nil {
		t.Fatal(err)
	}
	return s.Validate(inst)
}

func checkSchema(t *testing.T, schema string, doc []byte) {
	t.Helper()
	if err := schemaValidate(t, schema, doc); err != nil {
		t.Fatalf("%s refuses the document: %v", schema, err)
	}
}

// testKernel is a hardened kernel build as the manifest records it.
var testKernel = &KernelBuild{SourcePackage: "linux-source-6.12", SourceVersion: "6.12.117-1", Release: "6.12.117",
	Key: "ecd03b881f340001", ConfigSHA256: strings.Repeat("c", 64), ImageSHA256: strings.Repeat("d", 64)}

// fixtureSBOMInput is the SBOM input of the stripped fixture root, with
// testKernel as its kernel.
func fixtureSBOMInput(t *testing.T) SBOMInput {
	t.Helper()
	return SBOMInput{ImageName: "img", RootHash: strings.Repeat("ab", 32), Suite: "trixie", Epoch: 1795676271,
		BuilderVersion: "1", Inventory: stripFixture(t, fixtureRoot(t)), Kernel: testKernel}
}

func TestSBOMMatchesSPDXSchema(t *testing.T) {
	in := fixtureSBOMInput(t)
	sbom, err := RenderSBOM(in)
	if err != nil {
		t.Fatal(err)
	}
	checkSchema(t, "spdx-2.3.schema.json", sbom)
	// The schema alone catches issue #15's finding too.
	bad := strings.Replace(string(sbom), `"OPERATING_SYSTEM"`, `"OPERATING-SYSTEM"`, 1)
	if schemaValidate(t, "spdx-2.3.schema.json", []byte(bad)) == nil {
		t.Error("the schema accepts OPERATING-SYSTEM")
	}
}

func TestCycloneDXMatchesSchema(t *testing.T) {
	in := fixtureSBOMInput(t)
	cdx, err := RenderCycloneDX(in)
	if err != nil {
		t.Fatal(err)
	}
	checkSchema(t, "bom-1.5.schema.json", cdx)
	if schemaValidate(t, "bom-1.5.schema.json", bytes.Replace(cdx, []byte(`"operating-system"`), []byte(`"os"`), 1)) == nil {
		t.Error("the schema accepts a component of type os")
	}
	spdx, _ := RenderSBOM(in)
	// Every purl of the SPDX document is a component of the CycloneDX one.
	for _, line := range strings.Split(string(spdx), "\n") {
		if i := strings.Index(line, `"referenceLocator": "`); i >= 0 {
			purl := strings.TrimSuffix(strings.TrimSpace(line[i+len(`"referenceLocator": "`):]), `"`)
			if strings.Contains(purl, "arch=source") {
				continue // CycloneDX records the source package as a property
			}
			if !strings.Contains(string(cdx), `"purl": "`+purl+`"`) {
				t.Errorf("%s is in the SPDX SBOM but not in the CycloneDX one", purl)
			}
		}
	}
}

// The kernel built from source is in both SBOMs: its bzImage checksum, its
// release, and the Debian source package it came from.
func TestSBOMsListTheBuiltKernel(t *testing.T) {
	in := fixtureSBOMInput(t)
	spdx, err := RenderSBOM(in)
	if err != nil {
		t.Fatal(err)
	}
	if err := ValidateSBOM(spdx); err != nil {
		t.Fatal(err)
	}
	var doc spdxDoc
	json.Unmarshal(spdx, &doc)
	var kernel *spdxPackage
	for i, p := range doc.Packages {
		if p.SPDXID == "SPDXRef-kernel" {
			kernel = &doc.Packages[i]
		}
	}
	if kernel == nil || kernel.VersionInfo != "6.12.117" || len(kernel.Checksums) != 1 || kernel.Checksums[0].Value != testKernel.ImageSHA256 {
		t.Fatalf("SPDX kernel package: %+v", kernel)
	}
	rels := map[string]bool{}
	for _, r := range doc.Relationships {
		rels[r.Element+" "+r.Type+" "+r.Related] = true
	}
	for _, want := range []string{"SPDXRef-Image CONTAINS SPDXRef-kernel", "SPDXRef-kernel GENERATED_FROM SPDXRef-debsrc-linux-6.12.117-1"} {
		if !rels[want] {
			t.Errorf("SPDX: no relationship %s", want)
		}
	}
	if !strings.Contains(string(spdx), "pkg:deb/debian/linux@6.12.117-1?arch=source") {
		t.Error("SPDX: no purl of the linux source package")
	}
	cdx, err := RenderCycloneDX(in)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"bom-ref": "kernel"`, testKernel.ImageSHA256, `"ancestors"`, "pkg:deb/debian/linux@6.12.117-1?arch=source"} {
		if !bytes.Contains(cdx, []byte(want)) {
			t.Errorf("CycloneDX has no %s", want)
		}
	}
	// Debian's packaged kernels are packages of the root, not this entry.
	in.Kernel = nil
	if spdx, _ := RenderSBOM(in); strings.Contains(string(spdx), "SPDXRef-kernel") {
		t.Error("an SBOM without a built kernel lists one")
	}
}
