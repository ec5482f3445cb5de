package hardening

import (
	"bytes"
	"encoding/json"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// oscalSchema compiles one of the OSCAL 1.1.1 JSON schemas in testdata/oscal
// (the standard's own files; see testdata/oscal/README.md) with format
// assertions on, so date-times, URIs and UUIDs are checked too.
func oscalSchema(t *testing.T, file string) *jsonschema.Schema {
	t.Helper()
	f, err := os.Open("testdata/oscal/" + file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	doc, err := jsonschema.UnmarshalJSON(f)
	if err != nil {
		t.Fatal(err)
	}
	refSiblings(doc)
	// Register the schema under its own $id, which its anchors are relative to.
	id, _ := doc.(map[string]any)["$id"].(string)
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	if err := c.AddResource(id, doc); err != nil {
		t.Fatal(err)
	}
	s, err := c.Compile(id)
	if err != nil {
		t.Fatalf("compile %s: %v", file, err)
	}
	return s
}

// refSiblings adapts the schema in memory (the file stays as NIST publishes
// it): the OSCAL schemas declare draft-07 but give many definitions both an
// anchor ("$id": "#name") and a "$ref". Draft-07 says siblings of "$ref" are
// ignored, so a strict validator such as this one never sees those anchors
// and cannot resolve the "$ref": "#name" that point at them. Moving the
// "$ref" into an "allOf" keeps the meaning the authors intended (the
// definition is the referenced type) and makes the anchor visible.
func refSiblings(v any) {
	switch x := v.(type) {
	case map[string]any:
		if ref, ok := x["$ref"]; ok {
			if _, hasID := x["$id"]; hasID {
				delete(x, "$ref")
				x["allOf"] = append([]any{map[string]any{"$ref": ref}}, anySlice(x["allOf"])...)
			}
		}
		for _, e := range x {
			refSiblings(e)
		}
	case []any:
		for _, e := range x {
			refSiblings(e)
		}
	}
}

func anySlice(v any) []any {
	s, _ := v.([]any)
	return s
}

func validateOSCAL(t *testing.T, s *jsonschema.Schema, out []byte) {
	t.Helper()
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(out))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Validate(inst); err != nil {
		t.Fatalf("not valid OSCAL: %v", err)
	}
}

func TestOSCALComponentDefinitionIsValid(t *testing.T) {
	p, _ := Default()
	c, _ := DefaultCatalog()
	var buf bytes.Buffer
	if err := WriteOSCALComponentDefinition(&buf, p, c, time.Date(2026, 12, 4, 0, 0, 0, 0, time.UTC)); err != nil {
		t.Fatal(err)
	}
	validateOSCAL(t, oscalSchema(t, "oscal_component_schema.json"), buf.Bytes())

	var doc componentDefinitionDoc
	json.Unmarshal(buf.Bytes(), &doc)
	cis := doc.ComponentDefinition.Components[0].ControlImplementations
	if len(cis) != 2 || cis[0].Source != nist80053Source {
		t.Fatalf("want a NIST 800-53 and a profile control implementation, got %d", len(cis))
	}
	// Every profile control is in the profile implementation.
	if n := len(cis[1].ImplementedRequirements); n != len(p.Controls) {
		t.Errorf("profile implementation has %d requirements, profile has %d controls", n, len(p.Controls))
	}
	// The mapping reaches 800-53 through the CIS items: fs-tmp implements
	// CIS 1.1.2.1.x, tagged CM-7, AC-3 and MP-2.
	byID := map[string]implementedRequirement{}
	for _, r := range cis[0].ImplementedRequirements {
		byID[r.ControlID] = r
	}
	for _, id := range []string{"cm-7", "ac-3", "mp-2"} {
		if !strings.Contains(byID[id].Description, "fs-tmp") {
			t.Errorf("800-53 %s does not list fs-tmp: %q", id, byID[id].Description)
		}
	}
	// Same input, same document (name-based UUIDs).
	var again bytes.Buffer
	WriteOSCALComponentDefinition(&again, p, c, time.Date(2026, 12, 4, 0, 0, 0, 0, time.UTC))
	if !bytes.Equal(buf.Bytes(), again.Bytes()) {
		t.Error("component definition is not reproducible")
	}
}

func TestOSCALAssessmentResultsAreValid(t *testing.T) {
	rep, _ := sampleReport(t)
	s := oscalSchema(t, "oscal_assessment-results_schema.json")
	var buf bytes.Buffer
	if err := rep.WriteOSCALAssessmentResults(&buf); err != nil {
		t.Fatal(err)
	}
	validateOSCAL(t, s, buf.Bytes())

	var doc assessmentResultsDoc
	json.Unmarshal(buf.Bytes(), &doc)
	res := doc.AssessmentResults.Results[0]
	if len(res.Findings) != len(rep.Results) || len(res.Observations) != len(rep.Results) {
		t.Fatalf("%d findings, %d observations for %d results", len(res.Findings), len(res.Observations), len(rep.Results))
	}
	states := map[string]int{}
	for _, f := range res.Findings {
		states[f.Target.Status.State+"/"+f.Target.Status.Reason]++
	}
	want := map[string]int{"satisfied/pass": rep.Counts[Pass], "satisfied/exception": rep.Counts[Exception],
		"not-satisfied/fail": rep.Counts[Fail], "not-satisfied/error": rep.Counts[Error]}
	for k, n := range want {
		if states[k] != n {
			t.Errorf("%s: %d findings, want %d", k, states[k], n)
		}
	}

	// Through the JSON report, as `appliance-audit oscal assessment-results` does.
	var js bytes.Buffer
	rep.WriteJSON(&js)
	back, err := ReadReport(&js)
	if err != nil {
		t.Fatal(err)
	}
	var buf2 bytes.Buffer
	if err := back.WriteOSCALAssessmentResults(&buf2); err != nil {
		t.Fatal(err)
	}
	validateOSCAL(t, s, buf2.Bytes())

	// The validator is real: a document missing a required field fails.
	broken := strings.Replace(buf.String(), `"import-ap"`, `"import-xx"`, 1)
	inst, _ := jsonschema.UnmarshalJSON(strings.NewReader(broken))
	if s.Validate(inst) == nil {
		t.Error("a document without import-ap validated")
	}
	// ...and so does a malformed UUID deep inside (a pattern check).
	obs := res.Observations[0].UUID
	broken = strings.Replace(buf.String(), obs, "not-a-uuid", 1)
	inst, _ = jsonschema.UnmarshalJSON(strings.NewReader(broken))
	if s.Validate(inst) == nil {
		t.Error("a document with a malformed observation uuid validated")
	}
}
