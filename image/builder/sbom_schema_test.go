package builder

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// The official JSON schemas, as published by the SPDX project
// (spdx-spec, branch support/2.3, schemas/spdx-schema.json) and by
// CycloneDX (specification, schema/bom-1.5.schema.json with the
// spdx.schema.json and jsf-0.82.schema.json it references), checked with
// Python's jsonschema, a validator neither SBOM writer shares code with.
const schemaCheck = `
import json, sys, jsonschema, pathlib
schema_dir = pathlib.Path(sys.argv[1])
schema = json.load(open(schema_dir / sys.argv[2]))
doc = json.load(open(sys.argv[3]))
store = {}
for f in schema_dir.glob("*.json"):
    s = json.load(open(f))
    store[f.name] = s
    if "$id" in s:
        store[s["$id"]] = s
cls = jsonschema.validators.validator_for(schema)
resolver = jsonschema.RefResolver.from_schema(schema, store=store)
errors = sorted(cls(schema, resolver=resolver).iter_errors(doc), key=lambda e: list(e.path))
for e in errors[:20]:
    print("/".join(map(str, e.path)), e.message[:300])
sys.exit(1 if errors else 0)
`

func checkSchema(t *testing.T, schema string, doc []byte) {
	t.Helper()
	if err := exec.Command("python3", "-c", "import jsonschema").Run(); err != nil {
		t.Skip("python3 with jsonschema (Debian: python3-jsonschema) not installed")
	}
	f := filepath.Join(t.TempDir(), "doc.json")
	if err := os.WriteFile(f, doc, 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("python3", "-W", "ignore", "-c", schemaCheck, "testdata/schema", schema, f).CombinedOutput()
	if err != nil {
		t.Fatalf("%s refuses the document: %v\n%s", schema, err, out)
	}
}

func TestSBOMMatchesSPDXSchema(t *testing.T) {
	inv := stripFixture(t, fixtureRoot(t))
	in := SBOMInput{ImageName: "img", RootHash: strings.Repeat("ab", 32), Suite: "trixie", Epoch: 1795676271, BuilderVersion: "1", Inventory: inv}
	sbom, err := RenderSBOM(in)
	if err != nil {
		t.Fatal(err)
	}
	checkSchema(t, "spdx-2.3.schema.json", sbom)
	// The schema alone catches issue #15's finding too.
	bad := strings.Replace(string(sbom), `"OPERATING_SYSTEM"`, `"OPERATING-SYSTEM"`, 1)
	t.Run("dash refused", func(t *testing.T) {
		f := filepath.Join(t.TempDir(), "bad.json")
		os.WriteFile(f, []byte(bad), 0o644)
		if err := exec.Command("python3", "-W", "ignore", "-c", schemaCheck, "testdata/schema", "spdx-2.3.schema.json", f).Run(); err == nil {
			t.Error("the schema accepts OPERATING-SYSTEM")
		}
	})
}

func TestCycloneDXMatchesSchema(t *testing.T) {
	inv := stripFixture(t, fixtureRoot(t))
	in := SBOMInput{ImageName: "img", RootHash: strings.Repeat("ab", 32), Suite: "trixie", Epoch: 1795676271, BuilderVersion: "1", Inventory: inv}
	cdx, err := RenderCycloneDX(in)
	if err != nil {
		t.Fatal(err)
	}
	checkSchema(t, "bom-1.5.schema.json", cdx)
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
