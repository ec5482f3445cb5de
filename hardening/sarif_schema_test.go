package hardening

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	sarif "github.com/owenrumney/go-sarif/v3/pkg/report/v210/sarif"
	"github.com/xeipuuv/gojsonschema"
)

// TestSARIFSchema validates the report, byte for byte as written, against
// the OASIS SARIF 2.1.0 JSON schema (errata 01) with a JSON Schema validator
// (xeipuuv/gojsonschema). The schema is the copy github.com/owenrumney/go-sarif
// carries, read from the module cache (go.sum pins its hash), so the
// project holds no copy of the OASIS file. The report is also decoded into
// go-sarif's object model with unknown fields refused.
func TestSARIFSchema(t *testing.T) {
	rep, p := sampleReport(t)
	var buf bytes.Buffer
	if err := rep.WriteSARIF(&buf, p); err != nil {
		t.Fatal(err)
	}
	schema := gojsonschema.NewStringLoader(oasisSARIFSchema(t))
	validate := func(doc []byte) []string {
		res, err := gojsonschema.Validate(schema, gojsonschema.NewBytesLoader(doc))
		if err != nil {
			t.Fatal(err)
		}
		var errs []string
		for _, e := range res.Errors() {
			errs = append(errs, e.String())
		}
		return errs
	}
	if errs := validate(buf.Bytes()); len(errs) > 0 {
		t.Fatalf("our SARIF does not validate against the 2.1.0 schema:\n%s", strings.Join(errs, "\n"))
	}
	decodeSARIF(t, buf.Bytes())

	// The validator is not blind: the same report with a result level the
	// schema does not list, and with a property SARIF does not define, fails.
	bad := strings.Replace(buf.String(), `"level": "error"`, `"level": "fatal"`, 1)
	if bad == buf.String() {
		t.Fatal("sample report has no error-level result to corrupt")
	}
	if errs := validate([]byte(bad)); len(errs) == 0 {
		t.Error("a result with level \"fatal\" validated")
	}
	unknown := strings.Replace(buf.String(), `"version": "2.1.0"`, `"version": "2.1.0", "verdict": "ok"`, 1)
	dec := json.NewDecoder(strings.NewReader(unknown))
	dec.DisallowUnknownFields()
	if err := dec.Decode(new(sarif.Report)); err == nil {
		t.Error("a top-level property SARIF does not define was accepted")
	}
}

func decodeSARIF(t *testing.T, b []byte) *sarif.Report {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var doc sarif.Report
	if err := dec.Decode(&doc); err != nil {
		t.Fatalf("SARIF has a property the 2.1.0 object model does not define: %v", err)
	}
	return &doc
}

// oasisSARIFSchema returns the schema text from go-sarif's source in the module
// cache (an unexported constant there).
func oasisSARIFSchema(t *testing.T) string {
	t.Helper()
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "github.com/owenrumney/go-sarif/v3").Output()
	if err != nil {
		t.Fatalf("go list the SARIF schema's module: %v", err)
	}
	src, err := os.ReadFile(filepath.Join(strings.TrimSpace(string(out)), "pkg/report/v210/sarif/schema.go"))
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(src), "const schema = `")
	text, _, ok2 := strings.Cut(rest, "`")
	if !ok || !ok2 || !strings.Contains(text, "sarif-schema-2.1.0.json") {
		t.Fatal("go-sarif's schema.go no longer holds the 2.1.0 schema as `const schema`")
	}
	return text
}
