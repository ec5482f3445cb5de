package hardening

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"strings"
	"testing"
)

func sampleReport(t *testing.T) (*Report, *Profile) {
	root, p := appliedRoot(t)
	// One real failure so every status shows up.
	if err := writeAt(root, "/usr/bin/dpkg", "binary"); err != nil {
		t.Fatal(err)
	}
	tg, err := NewRootTarget(root)
	if err != nil {
		t.Fatal(err)
	}
	rep := p.Audit(tg)
	for _, s := range []Status{Pass, Fail, Exception, Error} {
		if rep.Counts[s] == 0 {
			t.Fatalf("sample report has no %s result: %v", s, rep.Counts)
		}
	}
	return rep, p
}

// TestSARIF checks the 2.1.0 structure code-scanning tools require.
func TestSARIF(t *testing.T) {
	rep, p := sampleReport(t)
	var buf bytes.Buffer
	if err := rep.WriteSARIF(&buf, p); err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Schema  string `json:"$schema"`
		Version string `json:"version"`
		Runs    []struct {
			Tool struct {
				Driver struct {
					Name  string `json:"name"`
					Rules []struct {
						ID               string `json:"id"`
						ShortDescription struct{ Text string }
						FullDescription  struct{ Text string }
					} `json:"rules"`
				} `json:"driver"`
			} `json:"tool"`
			Results []struct {
				RuleID    string `json:"ruleId"`
				RuleIndex int    `json:"ruleIndex"`
				Level     string `json:"level"`
				Kind      string `json:"kind"`
				Message   struct{ Text string }
				Locations []struct {
					PhysicalLocation struct {
						ArtifactLocation struct {
							URI string `json:"uri"`
						} `json:"artifactLocation"`
					} `json:"physicalLocation"`
				} `json:"locations"`
				Suppressions []struct{ Kind, Justification string } `json:"suppressions"`
			} `json:"results"`
		} `json:"runs"`
	}
	if err := json.Unmarshal(buf.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	if doc.Version != "2.1.0" || !strings.Contains(doc.Schema, "sarif-2.1.0") || len(doc.Runs) != 1 {
		t.Fatalf("header: version %q schema %q runs %d", doc.Version, doc.Schema, len(doc.Runs))
	}
	run := doc.Runs[0]
	if run.Tool.Driver.Name == "" || len(run.Tool.Driver.Rules) != len(rep.Results) || len(run.Results) != len(rep.Results) {
		t.Fatalf("driver %q rules %d results %d", run.Tool.Driver.Name, len(run.Tool.Driver.Rules), len(run.Results))
	}
	levels := map[string]bool{"none": true, "note": true, "warning": true, "error": true}
	kinds := map[string]bool{"pass": true, "fail": true, "review": true, "open": true, "informational": true, "notApplicable": true}
	seenFail := false
	for _, r := range run.Results {
		rule := run.Tool.Driver.Rules[r.RuleIndex]
		if rule.ID != r.RuleID || rule.ShortDescription.Text == "" || rule.FullDescription.Text == "" {
			t.Errorf("result %s: rule index %d is %q", r.RuleID, r.RuleIndex, rule.ID)
		}
		if !levels[r.Level] || !kinds[r.Kind] || r.Message.Text == "" || len(r.Locations) == 0 {
			t.Errorf("result %s: level %q kind %q message %q locations %d", r.RuleID, r.Level, r.Kind, r.Message.Text, len(r.Locations))
		}
		for _, l := range r.Locations {
			if u := l.PhysicalLocation.ArtifactLocation.URI; u == "" || strings.HasPrefix(u, "/") {
				t.Errorf("result %s: uri %q must be relative to the root", r.RuleID, u)
			}
		}
		if r.RuleID == "sw-no-package-manager" {
			seenFail = r.Kind == "fail" && r.Level == "error" && r.Locations[0].PhysicalLocation.ArtifactLocation.URI == "usr/bin/dpkg" ||
				strings.Contains(r.Message.Text, "/usr/bin/dpkg")
		}
		if r.RuleID == "sysctl-log-martians" && (len(r.Suppressions) != 1 || r.Suppressions[0].Justification == "") {
			t.Errorf("exception without suppression: %+v", r)
		}
	}
	if !seenFail {
		t.Error("the dpkg failure is not reported as a failing SARIF result")
	}
}

func TestJUnit(t *testing.T) {
	rep, _ := sampleReport(t)
	var buf bytes.Buffer
	if err := rep.WriteJUnit(&buf); err != nil {
		t.Fatal(err)
	}
	var doc struct {
		XMLName  xml.Name `xml:"testsuites"`
		Tests    int      `xml:"tests,attr"`
		Failures int      `xml:"failures,attr"`
		Errors   int      `xml:"errors,attr"`
		Skipped  int      `xml:"skipped,attr"`
		Suites   []struct {
			Tests int `xml:"tests,attr"`
			Cases []struct {
				Name    string `xml:"name,attr"`
				Failure *struct {
					Message string `xml:"message,attr"`
				} `xml:"failure"`
				Error   *struct{} `xml:"error"`
				Skipped *struct {
					Message string `xml:"message,attr"`
				} `xml:"skipped"`
				Out string `xml:"system-out"`
			} `xml:"testcase"`
		} `xml:"testsuite"`
	}
	if err := xml.Unmarshal(buf.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	if doc.Tests != len(rep.Results) || doc.Failures != rep.Counts[Fail] || doc.Errors != rep.Counts[Error] || doc.Skipped != rep.Counts[Exception] {
		t.Fatalf("totals %d/%d/%d/%d vs %v", doc.Tests, doc.Failures, doc.Errors, doc.Skipped, rep.Counts)
	}
	failed := map[string]string{}
	for _, r := range rep.Results {
		if r.Status == Fail {
			failed[r.Control] = r.Message
		}
	}
	var f, e, s int
	for _, c := range doc.Suites[0].Cases {
		if c.Failure != nil {
			f++
			id, _, _ := strings.Cut(c.Name, ":")
			if msg, ok := failed[id]; !ok || c.Failure.Message != msg {
				t.Errorf("unexpected failure %s: %s", c.Name, c.Failure.Message)
			}
		}
		if c.Error != nil {
			e++
		}
		if c.Skipped != nil {
			s++
		}
	}
	if f != rep.Counts[Fail] || e != rep.Counts[Error] || s != rep.Counts[Exception] || len(doc.Suites[0].Cases) != doc.Suites[0].Tests {
		t.Errorf("cases: %d failures %d errors %d skipped", f, e, s)
	}
}

func TestTextAndJSON(t *testing.T) {
	rep, _ := sampleReport(t)
	var txt bytes.Buffer
	rep.WriteText(&txt, false)
	out := txt.String()
	first := strings.Index(out, "\nFAIL")
	if first < 0 || strings.Index(out, "\nEXCEPTION") < first || strings.Index(out, "\nERROR") < first {
		t.Errorf("failures must come first:\n%s", out)
	}
	if !strings.Contains(out, fmt.Sprintf("pass, %d fail,", rep.Counts[Fail])) || strings.Contains(out, "\nPASS") || !strings.Contains(out, "BAD /usr/bin/dpkg") {
		t.Errorf("summary:\n%s", out)
	}
	var js bytes.Buffer
	rep.WriteJSON(&js)
	var back Report
	if err := json.Unmarshal(js.Bytes(), &back); err != nil || len(back.Results) != len(rep.Results) || back.Counts[Fail] != rep.Counts[Fail] {
		t.Errorf("JSON round trip: %v", err)
	}
	var m bytes.Buffer
	rep.WriteMetrics(&m)
	if !strings.Contains(m.String(), `appliance_audit_controls{mode="image",profile_version="1.0.0",status="fail"} `+fmt.Sprint(rep.Counts[Fail])) ||
		!strings.Contains(m.String(), `appliance_audit_control_failed{control="sw-no-package-manager"`) {
		t.Errorf("metrics:\n%s", m.String())
	}
}
