package hardening

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"errors"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// evidenceReport is an applied root with two real failures: dpkg present
// (evidence without a line) and a later sysctl.d file overriding a value
// (evidence with file and line). The audit runs once; each caller gets its
// own copy (through JSON, as the report is stored).
func evidenceReport(t *testing.T) (*Report, *Profile) {
	t.Helper()
	evidenceOnce.Do(func() { evidenceJSON, evidenceErr = auditForEvidence(t) })
	if evidenceErr != nil {
		t.Fatal(evidenceErr)
	}
	rep, err := ReadReport(bytes.NewReader(evidenceJSON))
	if err != nil {
		t.Fatal(err)
	}
	p, err := Default()
	if err != nil {
		t.Fatal(err)
	}
	return rep, p
}

var (
	evidenceOnce sync.Once
	evidenceJSON []byte
	evidenceErr  error
)

func auditForEvidence(t *testing.T) ([]byte, error) {
	root, p := appliedRoot(t)
	if err := writeAt(root, "/usr/bin/dpkg", "binary"); err != nil {
		return nil, err
	}
	if err := writeAt(root, "/etc/sysctl.d/99-local.conf", "# local\nkernel.kptr_restrict = 1\n"); err != nil {
		return nil, err
	}
	tg, err := NewRootTarget(root)
	if err != nil {
		return nil, err
	}
	rep := p.Audit(tg)
	var found bool
	for _, r := range rep.Results {
		for _, e := range r.Evidence {
			found = found || (r.Control == "sysctl-kptr-restrict" && !e.OK && e.Where == "/etc/sysctl.d/99-local.conf:2")
		}
	}
	if !found {
		return nil, errors.New("the sysctl override is not reported with its file and line")
	}
	var buf bytes.Buffer
	err = rep.WriteJSON(&buf)
	return buf.Bytes(), err
}

func TestTextCarriesEvidence(t *testing.T) {
	rep, _ := evidenceReport(t)
	var buf bytes.Buffer
	if err := rep.WriteText(&buf, true); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	for _, r := range rep.Results {
		for _, e := range r.Evidence {
			if !strings.Contains(out, evidenceLine(e)) {
				t.Errorf("%s: text (verbose) lacks %q", r.Control, evidenceLine(e))
			}
		}
	}
	if !strings.Contains(out, "BAD /etc/sysctl.d/99-local.conf:2: 1 (expected 2)") {
		t.Errorf("text lacks the sysctl override with file and line:\n%s", out)
	}
}

func TestJSONCarriesEvidence(t *testing.T) {
	rep, _ := evidenceReport(t)
	var buf bytes.Buffer
	if err := rep.WriteJSON(&buf); err != nil {
		t.Fatal(err)
	}
	back, err := ReadReport(&buf)
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range rep.Results {
		got := back.Results[i].Evidence
		if len(got) != len(r.Evidence) {
			t.Fatalf("%s: %d evidence items read back, want %d", r.Control, len(got), len(r.Evidence))
		}
		for j := range got {
			if got[j] != r.Evidence[j] {
				t.Errorf("%s: evidence %d read back as %+v, want %+v", r.Control, j, got[j], r.Evidence[j])
			}
		}
	}
}

// TestSARIFCarriesEvidence: each result's locations are the files its
// evidence points at, with the line when the evidence has one and what was
// found as the location's message; the full evidence is in properties.
func TestSARIFCarriesEvidence(t *testing.T) {
	rep, p := evidenceReport(t)
	var buf bytes.Buffer
	if err := rep.WriteSARIF(&buf, p); err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Runs []struct {
			Results []struct {
				RuleID    string `json:"ruleId"`
				Locations []struct {
					PhysicalLocation struct {
						ArtifactLocation struct{ URI, URIBaseID string } `json:"artifactLocation"`
						Region           *struct {
							StartLine int `json:"startLine"`
						} `json:"region"`
					} `json:"physicalLocation"`
					Message *struct{ Text string } `json:"message"`
				} `json:"locations"`
				Properties struct {
					Evidence []Evidence `json:"evidence"`
				} `json:"properties"`
			} `json:"results"`
		} `json:"runs"`
	}
	if err := json.Unmarshal(buf.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	for i, sr := range doc.Runs[0].Results {
		r := rep.Results[i]
		if len(sr.Properties.Evidence) != len(r.Evidence) || len(sr.Properties.Evidence) == 0 {
			t.Errorf("%s: %d evidence items in properties, want %d", r.Control, len(sr.Properties.Evidence), len(r.Evidence))
		}
		msgs := map[string]bool{}
		for _, l := range sr.Locations {
			if l.Message == nil || l.Message.Text == "" {
				t.Errorf("%s: location %s without a message", r.Control, l.PhysicalLocation.ArtifactLocation.URI)
				continue
			}
			msgs[l.Message.Text] = true
		}
		for _, e := range r.Evidence {
			if (r.Status != Pass && e.OK) || !isFileWhere(e.Where) {
				continue
			}
			// Each file (and line) once: the first item there names it.
			l := location(e.Where)
			var hit bool
			for _, sl := range sr.Locations {
				line := 0
				if sl.PhysicalLocation.Region != nil {
					line = sl.PhysicalLocation.Region.StartLine
				}
				want := 0
				if l.PhysicalLocation.Region != nil {
					want = l.PhysicalLocation.Region.StartLine
				}
				hit = hit || (sl.PhysicalLocation.ArtifactLocation.URI == l.PhysicalLocation.ArtifactLocation.URI && line == want)
			}
			if !hit {
				t.Errorf("%s: no location for evidence %q", r.Control, e.Where)
			}
		}
		if sr.RuleID == "sysctl-kptr-restrict" {
			l := sr.Locations[0]
			if l.PhysicalLocation.ArtifactLocation.URI != "etc/sysctl.d/99-local.conf" || l.PhysicalLocation.Region == nil ||
				l.PhysicalLocation.Region.StartLine != 2 || !strings.Contains(l.Message.Text, "1 (expected 2)") {
				t.Errorf("sysctl override location: %+v %v", l.PhysicalLocation, l.Message)
			}
		}
		if sr.RuleID == "sw-no-package-manager" && sr.Locations[0].PhysicalLocation.Region != nil {
			t.Errorf("dpkg has no line but its location has a region: %+v", sr.Locations[0])
		}
	}
}

func TestJUnitCarriesEvidence(t *testing.T) {
	rep, _ := evidenceReport(t)
	var buf bytes.Buffer
	if err := rep.WriteJUnit(&buf); err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Suites []struct {
			Cases []struct {
				Name string `xml:"name,attr"`
				Out  string `xml:"system-out"`
			} `xml:"testcase"`
		} `xml:"testsuite"`
	}
	if err := xml.Unmarshal(buf.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	for i, c := range doc.Suites[0].Cases {
		r := rep.Results[i]
		lines := strings.Split(c.Out, "\n")
		if len(lines) != len(r.Evidence) {
			t.Errorf("%s: %d system-out lines for %d evidence items", c.Name, len(lines), len(r.Evidence))
			continue
		}
		for j, e := range r.Evidence {
			if lines[j] != evidenceLine(e) {
				t.Errorf("%s: system-out line %d %q, want %q", c.Name, j, lines[j], evidenceLine(e))
			}
		}
	}
}

// TestOSCALCarriesEvidence: each observation's relevant-evidence is the
// result's evidence, with where, found and expected as props.
func TestOSCALCarriesEvidence(t *testing.T) {
	rep, _ := evidenceReport(t)
	var buf bytes.Buffer
	if err := rep.WriteOSCALAssessmentResults(&buf); err != nil {
		t.Fatal(err)
	}
	type prop struct{ Name, Value string }
	var doc struct {
		AssessmentResults struct {
			Results []struct {
				Observations []struct {
					Title            string `json:"title"`
					RelevantEvidence []struct {
						Description string `json:"description"`
						Props       []prop `json:"props"`
					} `json:"relevant-evidence"`
				} `json:"observations"`
			} `json:"results"`
		} `json:"assessment-results"`
	}
	if err := json.Unmarshal(buf.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	obs := doc.AssessmentResults.Results[0].Observations
	if len(obs) != len(rep.Results) {
		t.Fatalf("%d observations for %d results", len(obs), len(rep.Results))
	}
	for i, o := range obs {
		r := rep.Results[i]
		if o.Title != r.Control || len(o.RelevantEvidence) != len(r.Evidence) {
			t.Errorf("%s: observation %s with %d evidence items, want %d", r.Control, o.Title, len(o.RelevantEvidence), len(r.Evidence))
			continue
		}
		for j, e := range r.Evidence {
			got := map[string]string{}
			for _, pr := range o.RelevantEvidence[j].Props {
				got[pr.Name] = pr.Value
			}
			if got["where"] != oneLine(e.Where) || got["found"] != oneLine(e.Found) || got["ok"] != strconv.FormatBool(e.OK) {
				t.Errorf("%s: relevant-evidence %d props %v, want %+v", r.Control, j, got, e)
			}
		}
	}
}
