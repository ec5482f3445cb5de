package hardening

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// SARIF 2.1.0 (OASIS), the subset code-scanning tools read.
const (
	sarifVersion = "2.1.0"
	sarifSchema  = "https://json.schemastore.org/sarif-2.1.0.json"
	// Where rules link to: the profile's source for the embedded profile
	// (with the control's line), the hardening README otherwise.
	sourceURI  = "https://github.com/supernode-appliance/appliance/blob/main/hardening/"
	profileURI = sourceURI + "profile.hcl"
	readmeURI  = sourceURI + "README.md"
	// fingerprintKey names the partialFingerprints entry; bump the
	// version if its inputs ever change, so consumers do not match old
	// results to new ones.
	fingerprintKey = "controlLocation/v1"
)

type sarifLog struct {
	Schema  string     `json:"$schema"`
	Version string     `json:"version"`
	Runs    []sarifRun `json:"runs"`
}

type sarifRun struct {
	Tool              sarifTool              `json:"tool"`
	AutomationDetails sarifAutomation        `json:"automationDetails"`
	Invocations       []sarifInvocation      `json:"invocations"`
	Results           []sarifResult          `json:"results"`
	Properties        map[string]interface{} `json:"properties,omitempty"`
}

// sarifAutomation identifies the run (SARIF 3.17): "category/instance".
// GitHub code scanning keeps one analysis per category, so an image audit
// and a live audit of the same commit do not replace each other.
type sarifAutomation struct {
	ID string `json:"id"`
}

type sarifTool struct {
	Driver sarifDriver `json:"driver"`
}

type sarifDriver struct {
	Name           string      `json:"name"`
	Version        string      `json:"version,omitempty"`
	InformationURI string      `json:"informationUri,omitempty"`
	Rules          []sarifRule `json:"rules"`
}

type sarifText struct {
	Text string `json:"text"`
}

type sarifRule struct {
	ID               string                 `json:"id"`
	Name             string                 `json:"name"`
	ShortDescription sarifText              `json:"shortDescription"`
	FullDescription  sarifText              `json:"fullDescription"`
	Help             sarifHelp              `json:"help"`
	HelpURI          string                 `json:"helpUri"`
	Default          map[string]string      `json:"defaultConfiguration"`
	Properties       map[string]interface{} `json:"properties"`
}

type sarifHelp struct {
	Text     string `json:"text"`
	Markdown string `json:"markdown"`
}

type sarifInvocation struct {
	ExecutionSuccessful bool `json:"executionSuccessful"`
}

type sarifResult struct {
	RuleID       string             `json:"ruleId"`
	RuleIndex    int                `json:"ruleIndex"`
	Kind         string             `json:"kind"`
	Level        string             `json:"level"`
	Message      sarifText          `json:"message"`
	Locations    []sarifLocation    `json:"locations"`
	Suppressions []sarifSuppression `json:"suppressions,omitempty"`
	// Stable across runs for the same control and place, so consumers
	// track one finding instead of opening a new one per audit.
	PartialFingerprints map[string]string `json:"partialFingerprints"`
	Properties          map[string]any    `json:"properties,omitempty"`
}

type sarifLocation struct {
	PhysicalLocation sarifPhysical `json:"physicalLocation"`
	// What was found there (the evidence), SARIF 3.28.5.
	Message *sarifText `json:"message,omitempty"`
}

type sarifPhysical struct {
	ArtifactLocation struct {
		URI       string `json:"uri"`
		URIBaseID string `json:"uriBaseId,omitempty"`
	} `json:"artifactLocation"`
	Region *struct {
		StartLine int `json:"startLine"`
	} `json:"region,omitempty"`
}

type sarifSuppression struct {
	Kind          string `json:"kind"`
	Status        string `json:"status"`
	Justification string `json:"justification"`
}

// sarifLevel maps a control's severity to the level of a failing result.
func sarifLevel(sev string) string {
	switch sev {
	case "critical", "high":
		return "error"
	case "medium":
		return "warning"
	}
	return "note"
}

// securitySeverity is the numeric score GitHub code scanning ranks by.
var securitySeverity = map[string]string{"critical": "9.5", "high": "8.0", "medium": "5.5", "low": "3.0"}

// location turns evidence "where" ("/etc/x.conf:12", "/proc/sys/...",
// "ESP:/EFI/...") into a SARIF location relative to the audited root.
func location(where string) sarifLocation {
	var l sarifLocation
	p := strings.Fields(where)
	uri := "/"
	if len(p) > 0 {
		uri = p[0]
	}
	base := "ROOTFS"
	if rest, ok := strings.CutPrefix(uri, "ESP:"); ok {
		uri, base = rest, "ESP"
	}
	if i := strings.LastIndex(uri, ":"); i > 0 {
		if n, err := strconv.Atoi(uri[i+1:]); err == nil {
			uri = uri[:i]
			l.PhysicalLocation.Region = &struct {
				StartLine int `json:"startLine"`
			}{n}
		}
	}
	if !strings.HasPrefix(uri, "/") {
		uri = "/"
	}
	l.PhysicalLocation.ArtifactLocation.URI = strings.TrimSuffix(strings.TrimPrefix(uri, "/"), ",")
	if l.PhysicalLocation.ArtifactLocation.URI == "" {
		l.PhysicalLocation.ArtifactLocation.URI = "."
	}
	l.PhysicalLocation.ArtifactLocation.URIBaseID = base
	return l
}

// ruleHelp is a control's help: what it demands and why, how it is
// applied and checked, its references and any exception.
func ruleHelp(res Result, c *Control) sarifHelp {
	var text, md strings.Builder
	fmt.Fprintf(&text, "%s\n\n%s\n", res.Title, res.Rationale)
	fmt.Fprintf(&md, "**%s** (severity %s)\n\n%s\n", res.Title, res.Severity, res.Rationale)
	if c != nil {
		fmt.Fprintf(&text, "\nApplied by %s, checked by %s.\n", orDash(c.Apply), orDash(c.Check))
		fmt.Fprintf(&md, "\nApplied by `%s`, checked by `%s` (defined at `%s`).\n", orDash(c.Apply), orDash(c.Check), c.Pos)
	}
	if len(res.References) > 0 {
		fmt.Fprintf(&text, "\nReferences: %s\n", strings.Join(res.References, "; "))
		md.WriteString("\nReferences:\n")
		for _, r := range res.References {
			fmt.Fprintf(&md, "- %s\n", r)
		}
	}
	if c != nil && c.Exception != nil {
		fmt.Fprintf(&text, "\nException: %s\n", c.Exception.Justification)
		fmt.Fprintf(&md, "\n**Exception:** %s\n", c.Exception.Justification)
	}
	return sarifHelp{Text: strings.TrimSpace(text.String()), Markdown: strings.TrimSpace(md.String())}
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// ruleHelpURI links a rule to its control in the embedded profile's source,
// or to the hardening README for a profile given with --profile.
func ruleHelpURI(c *Control) string {
	if c != nil {
		if line, ok := strings.CutPrefix(c.Pos, DefaultProfileName+":"); ok {
			return profileURI + "#L" + line
		}
	}
	return readmeURI
}

// isFileWhere reports whether evidence "where" names a file: an absolute
// path ("/etc/x.conf:12", "/proc/sys/...") or one on the ESP
// ("ESP:/EFI/..."). Other places (rtnetlink, "systemd-analyze security
// unit", "unit search path") are only in the message and the
// result's evidence property.
func isFileWhere(where string) bool {
	return strings.HasPrefix(where, "/") || strings.HasPrefix(where, "ESP:/")
}

// evidenceLocations are the result's locations: one per file the evidence
// points at (file and line once), each with what was found there. Failing
// results point at what is wrong, passing ones at what was read. A result
// whose evidence names no file points at the root with its evidence.
func evidenceLocations(res Result) []sarifLocation {
	var out []sarifLocation
	seen := map[string]bool{}
	for _, e := range res.Evidence {
		if res.Status != Pass && e.OK {
			continue
		}
		if !isFileWhere(e.Where) {
			continue
		}
		l := location(e.Where)
		key := l.PhysicalLocation.ArtifactLocation.URIBaseID + ":" + l.PhysicalLocation.ArtifactLocation.URI
		if l.PhysicalLocation.Region != nil {
			key += ":" + strconv.Itoa(l.PhysicalLocation.Region.StartLine)
		}
		if seen[key] {
			continue
		}
		seen[key] = true
		l.Message = &sarifText{e.String()}
		out = append(out, l)
	}
	if len(out) == 0 {
		l := location("/")
		var ev []string
		for _, e := range res.Evidence {
			ev = append(ev, e.String())
		}
		l.Message = &sarifText{nonEmpty(strings.Join(ev, "; "), res.Message)}
		out = append(out, l)
	}
	return out
}

// fingerprint is the partial fingerprint of a result: the control and its
// first location, hashed.
func fingerprint(control string, l sarifLocation) string {
	line := 0
	if l.PhysicalLocation.Region != nil {
		line = l.PhysicalLocation.Region.StartLine
	}
	sum := sha256.Sum256([]byte(fmt.Sprintf("%s\x00%s\x00%s\x00%d", control,
		l.PhysicalLocation.ArtifactLocation.URIBaseID, l.PhysicalLocation.ArtifactLocation.URI, line)))
	return hex.EncodeToString(sum[:16])
}

// WriteSARIF writes the report as SARIF 2.1.0: one rule per control (with
// its rationale and references), one result per control. Passing controls
// are kind "pass"; exceptions are failing results with an accepted external
// suppression carrying the justification; errors are kind "review".
func (r *Report) WriteSARIF(w io.Writer, p *Profile) error {
	run := sarifRun{
		Tool: sarifTool{Driver: sarifDriver{Name: "appliance-audit", Version: r.ToolVersion,
			InformationURI: "https://github.com/supernode-appliance/appliance/tree/main/hardening"}},
		AutomationDetails: sarifAutomation{ID: "appliance-audit/" + r.Mode + "/" + r.Started.UTC().Format("2006-01-02T15:04:05Z")},
		Invocations:       []sarifInvocation{{ExecutionSuccessful: true}},
		Results:           []sarifResult{},
		Properties:        map[string]interface{}{"profile": r.Profile, "profileVersion": r.ProfileVersion, "mode": r.Mode, "target": r.Target},
	}
	index := map[string]int{}
	for _, res := range r.Results {
		c := p.Control(res.Control)
		index[res.Control] = len(run.Tool.Driver.Rules)
		rule := sarifRule{ID: res.Control, Name: res.Control, ShortDescription: sarifText{res.Title},
			FullDescription: sarifText{res.Rationale}, Help: ruleHelp(res, c), HelpURI: ruleHelpURI(c), Default: map[string]string{"level": sarifLevel(res.Severity)},
			Properties: map[string]interface{}{"tags": append([]string{"security", "hardening"}, res.References...),
				"security-severity": securitySeverity[res.Severity], "precision": "very-high"}}
		if c != nil && c.Exception != nil {
			rule.Properties["exception"] = c.Exception.Justification
		}
		run.Tool.Driver.Rules = append(run.Tool.Driver.Rules, rule)
	}
	for _, res := range r.Results {
		sr := sarifResult{RuleID: res.Control, RuleIndex: index[res.Control], Message: sarifText{res.Message},
			Properties: map[string]any{"status": string(res.Status), "evidence": res.Evidence}}
		switch res.Status {
		case Pass:
			sr.Kind, sr.Level = "pass", "none"
		case Fail:
			sr.Kind, sr.Level = "fail", sarifLevel(res.Severity)
		case Exception:
			sr.Kind, sr.Level = "fail", "note"
			sr.Suppressions = []sarifSuppression{{Kind: "external", Status: "accepted", Justification: res.Justification}}
		case Error:
			sr.Kind, sr.Level = "review", "warning"
		}
		sr.Locations = evidenceLocations(res)
		sr.PartialFingerprints = map[string]string{fingerprintKey: fingerprint(res.Control, sr.Locations[0])}
		run.Results = append(run.Results, sr)
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(sarifLog{Schema: sarifSchema, Version: sarifVersion, Runs: []sarifRun{run}})
}
