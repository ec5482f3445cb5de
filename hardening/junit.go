package hardening

import (
	"encoding/xml"
	"fmt"
	"io"
	"os"
	"strings"
	"time"
)

// JUnit XML as read by Jenkins, GitLab and GitHub test reporters.
type junitSuites struct {
	XMLName  xml.Name     `xml:"testsuites"`
	Name     string       `xml:"name,attr"`
	Tests    int          `xml:"tests,attr"`
	Failures int          `xml:"failures,attr"`
	Errors   int          `xml:"errors,attr"`
	Skipped  int          `xml:"skipped,attr"`
	Time     string       `xml:"time,attr"`
	Suites   []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name       string          `xml:"name,attr"`
	Tests      int             `xml:"tests,attr"`
	Failures   int             `xml:"failures,attr"`
	Errors     int             `xml:"errors,attr"`
	Skipped    int             `xml:"skipped,attr"`
	Time       string          `xml:"time,attr"`
	Timestamp  string          `xml:"timestamp,attr"`
	Hostname   string          `xml:"hostname,attr"`
	Properties []junitProperty `xml:"properties>property"`
	Cases      []junitCase     `xml:"testcase"`
}

type junitProperty struct {
	Name  string `xml:"name,attr"`
	Value string `xml:"value,attr"`
}

type junitCase struct {
	Name      string        `xml:"name,attr"`
	Classname string        `xml:"classname,attr"`
	Time      string        `xml:"time,attr"`
	Failure   *junitMessage `xml:"failure,omitempty"`
	Error     *junitMessage `xml:"error,omitempty"`
	Skipped   *junitMessage `xml:"skipped,omitempty"`
	SystemOut string        `xml:"system-out,omitempty"`
}

type junitMessage struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr,omitempty"`
	Body    string `xml:",chardata"`
}

// WriteJUnit writes one test case per control: failures as <failure>,
// errors as <error>, exceptions as <skipped> with the justification, and
// the evidence in <system-out>.
//
// time is the run's duration in seconds (the audit does not time controls
// one by one, so each test case says 0); hostname is the machine that ran
// the audit, as JUnit means it (the audited image is in the suite name).
func (r *Report) WriteJUnit(w io.Writer) error {
	secs := "0"
	if d, err := time.ParseDuration(r.Duration); err == nil {
		secs = fmt.Sprintf("%.3f", d.Seconds())
	}
	host, err := os.Hostname()
	if err != nil {
		host = "localhost"
	}
	s := junitSuite{Name: fmt.Sprintf("appliance-audit %s %s", r.Mode, r.Target), Tests: len(r.Results),
		Failures: r.Counts[Fail], Errors: r.Counts[Error], Skipped: r.Counts[Exception], Time: secs, Hostname: host,
		Timestamp:  r.Started.Format("2006-01-02T15:04:05"),
		Properties: []junitProperty{{"profile", r.Profile}, {"profile_version", r.ProfileVersion}, {"mode", r.Mode}}}
	for _, res := range r.Results {
		var ev []string
		for _, e := range res.Evidence {
			ev = append(ev, evidenceLine(e))
		}
		tc := junitCase{Name: res.Control + ": " + res.Title, Classname: "hardening." + res.Check, Time: "0", SystemOut: strings.Join(ev, "\n")}
		switch res.Status {
		case Fail:
			tc.Failure = &junitMessage{Message: res.Message, Type: res.Severity, Body: strings.Join(res.References, "\n")}
		case Error:
			tc.Error = &junitMessage{Message: res.Message}
		case Exception:
			tc.Skipped = &junitMessage{Message: "exception: " + res.Justification}
		}
		s.Cases = append(s.Cases, tc)
	}
	doc := junitSuites{Name: "appliance-audit", Tests: s.Tests, Failures: s.Failures, Errors: s.Errors, Skipped: s.Skipped, Time: secs, Suites: []junitSuite{s}}
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(doc); err != nil {
		return err
	}
	_, err = io.WriteString(w, "\n")
	return err
}
