package hardening

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
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
	if !strings.Contains(m.String(), `appliance_audit_controls{mode="image",profile_version="`+defaultVersion(t)+`",status="fail"} `+fmt.Sprint(rep.Counts[Fail])) ||
		!strings.Contains(m.String(), `appliance_audit_control_failed{control="sw-no-package-manager"`) {
		t.Errorf("metrics:\n%s", m.String())
	}
}

// TestSARIFHelpAndFingerprints: every rule has help (text and markdown)
// and a helpUri, the run has automationDetails.id, and every result has a
// partial fingerprint that is the same in a second audit of the same root.
func TestSARIFHelpAndFingerprints(t *testing.T) {
	rep, p := sampleReport(t)
	type doc struct {
		Runs []struct {
			AutomationDetails struct{ ID string } `json:"automationDetails"`
			Tool              struct {
				Driver struct {
					Rules []struct {
						ID      string `json:"id"`
						HelpURI string `json:"helpUri"`
						Help    struct{ Text, Markdown string }
					} `json:"rules"`
				} `json:"driver"`
			} `json:"tool"`
			Results []struct {
				RuleID              string            `json:"ruleId"`
				PartialFingerprints map[string]string `json:"partialFingerprints"`
			} `json:"results"`
		} `json:"runs"`
	}
	render := func(r *Report) doc {
		var buf bytes.Buffer
		if err := r.WriteSARIF(&buf, p); err != nil {
			t.Fatal(err)
		}
		var d doc
		if err := json.Unmarshal(buf.Bytes(), &d); err != nil {
			t.Fatal(err)
		}
		return d
	}
	d := render(rep)
	run := d.Runs[0]
	if !strings.HasPrefix(run.AutomationDetails.ID, "appliance-audit/"+rep.Mode+"/") {
		t.Errorf("automationDetails.id %q", run.AutomationDetails.ID)
	}
	for _, r := range run.Tool.Driver.Rules {
		if r.Help.Text == "" || !strings.Contains(r.Help.Markdown, "**") || !strings.HasPrefix(r.HelpURI, "https://") {
			t.Errorf("rule %s: help %q / %q, helpUri %q", r.ID, r.Help.Text, r.Help.Markdown, r.HelpURI)
		}
		if !strings.Contains(r.HelpURI, "profile.hcl#L") {
			t.Errorf("rule %s of the embedded profile does not link to its line: %q", r.ID, r.HelpURI)
		}
	}
	// A second report of the same root, later: same fingerprints.
	again := *rep
	again.Started = rep.Started.Add(time.Hour)
	d2 := render(&again)
	seen := map[string]bool{}
	for i, r := range run.Results {
		fp := r.PartialFingerprints["controlLocation/v1"]
		if len(fp) != 32 || d2.Runs[0].Results[i].PartialFingerprints["controlLocation/v1"] != fp {
			t.Errorf("result %s: fingerprint %q, second run %q", r.RuleID, fp, d2.Runs[0].Results[i].PartialFingerprints)
		}
		seen[fp] = true
	}
	if len(seen) != len(run.Results) {
		t.Errorf("%d distinct fingerprints for %d results", len(seen), len(run.Results))
	}
}

// TestJUnitTimeAndHostname: the attributes CI reporters show.
func TestJUnitTimeAndHostname(t *testing.T) {
	rep, _ := sampleReport(t)
	var buf bytes.Buffer
	if err := rep.WriteJUnit(&buf); err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Time   string `xml:"time,attr"`
		Suites []struct {
			Time     string `xml:"time,attr"`
			Hostname string `xml:"hostname,attr"`
			Cases    []struct {
				Time string `xml:"time,attr"`
			} `xml:"testcase"`
		} `xml:"testsuite"`
	}
	if err := xml.Unmarshal(buf.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	host, _ := os.Hostname()
	s := doc.Suites[0]
	if doc.Time == "" || s.Time != doc.Time || s.Hostname != host || s.Hostname == "" {
		t.Errorf("testsuites time %q, testsuite time %q hostname %q (want %q)", doc.Time, s.Time, s.Hostname, host)
	}
	for _, c := range s.Cases {
		if c.Time == "" {
			t.Fatal("a testcase without time")
		}
	}
}

// TestJUnitLoadsInAConsumer: junitparser (Debian's python3-junitparser, the
// library CI plugins use to read xUnit files) loads the JUnit report and
// sees the same counts, times and hostname the report states.
func TestJUnitLoadsInAConsumer(t *testing.T) {
	const py = "/usr/bin/python3" // Debian's, where python3-junitparser installs
	if err := exec.Command(py, "-c", "import junitparser").Run(); err != nil {
		if os.Getenv("SUPERNODE_CI") != "" {
			t.Fatalf("python3-junitparser is missing (.ci/install-deps installs it): %v", err)
		}
		t.Skipf("needs Debian's python3-junitparser: %v", err)
	}
	rep, _ := sampleReport(t)
	path := filepath.Join(t.TempDir(), "audit.xml")
	var buf bytes.Buffer
	if err := rep.WriteJUnit(&buf); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(py, "-c", `
import sys, junitparser
x = junitparser.JUnitXml.fromfile(sys.argv[1])
for s in x:
    cases = list(s)
    failed = sum(1 for c in cases if any(isinstance(r, (junitparser.Failure, junitparser.Error)) for r in c.result))
    skipped = sum(1 for c in cases if any(isinstance(r, junitparser.Skipped) for r in c.result))
    print(s.tests, len(cases), failed, skipped, int(s.time is not None), s.hostname)
`, path).CombinedOutput()
	if err != nil {
		t.Fatalf("junitparser could not load the report: %v\n%s", err, out)
	}
	var host string
	var tests, cases, failed, skipped, timed int
	if _, err := fmt.Sscan(string(out), &tests, &cases, &failed, &skipped, &timed, &host); err != nil {
		t.Fatalf("junitparser output %q: %v", out, err)
	}
	want := rep.Counts[Fail] + rep.Counts[Error]
	h, _ := os.Hostname()
	if tests != len(rep.Results) || cases != tests || failed != want || skipped != rep.Counts[Exception] || timed != 1 || host != h {
		t.Fatalf("junitparser read tests %d cases %d failed %d skipped %d timed %d host %q; the report has %d results, %d failing, %d exceptions, host %q",
			tests, cases, failed, skipped, timed, host, len(rep.Results), want, rep.Counts[Exception], h)
	}
}
