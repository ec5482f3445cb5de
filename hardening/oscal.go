package hardening

import (
	"crypto/sha1"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"
)

// OSCAL output: the appliance as an OSCAL component definition (what it
// implements) and each audit run as OSCAL assessment results (what was
// found), in the JSON format of OSCAL 1.1.1 (testdata/oscal holds the
// standard's schemas; oscal_test.go validates both documents against them).

// OSCALVersion is the OSCAL release whose JSON schemas the output follows.
const OSCALVersion = "1.1.1"

const (
	// oscalNS namespaces our own props, so OSCAL tools do not read them as
	// NIST-defined ones.
	oscalNS = "urn:supernode-appliance:oscal"
	// nist80053Source is NIST SP 800-53 rev5 (its DOI), the catalog the CIS
	// recommendations' mappings point into.
	nist80053Source = "https://doi.org/10.6028/NIST.SP.800-53r5"
)

// oscalUUID returns a name-based (version 5) UUID, so the same profile and
// report give byte-identical OSCAL documents.
func oscalUUID(parts ...string) string {
	h := sha1.Sum([]byte("supernode-appliance oscal\x00" + strings.Join(parts, "\x00")))
	h[6] = h[6]&0x0f | 0x50
	h[8] = h[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", h[0:4], h[4:6], h[6:8], h[8:10], h[10:16])
}

type oscalProp struct {
	Name  string `json:"name"`
	NS    string `json:"ns,omitempty"`
	Value string `json:"value"`
	Class string `json:"class,omitempty"`
}

type oscalLink struct {
	Href string `json:"href"`
	Rel  string `json:"rel,omitempty"`
	Text string `json:"text,omitempty"`
}

type oscalMetadata struct {
	Title        string      `json:"title"`
	LastModified string      `json:"last-modified"`
	Version      string      `json:"version"`
	OSCALVersion string      `json:"oscal-version"`
	Props        []oscalProp `json:"props,omitempty"`
	Remarks      string      `json:"remarks,omitempty"`
}

func prop(name, value string) oscalProp {
	return oscalProp{Name: name, NS: oscalNS, Value: oneLine(value)}
}

// oneLine makes a value fit OSCAL's string type (no leading/trailing space).
func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

func oscalTime(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// ---------------------------------------------------------------- component definition

type componentDefinitionDoc struct {
	ComponentDefinition struct {
		UUID       string           `json:"uuid"`
		Metadata   oscalMetadata    `json:"metadata"`
		Components []oscalComponent `json:"components"`
	} `json:"component-definition"`
}

type oscalComponent struct {
	UUID                   string                  `json:"uuid"`
	Type                   string                  `json:"type"`
	Title                  string                  `json:"title"`
	Description            string                  `json:"description"`
	Purpose                string                  `json:"purpose,omitempty"`
	Props                  []oscalProp             `json:"props,omitempty"`
	ControlImplementations []controlImplementation `json:"control-implementations"`
}

type controlImplementation struct {
	UUID                    string                   `json:"uuid"`
	Source                  string                   `json:"source"`
	Description             string                   `json:"description"`
	Props                   []oscalProp              `json:"props,omitempty"`
	ImplementedRequirements []implementedRequirement `json:"implemented-requirements"`
}

type implementedRequirement struct {
	UUID        string      `json:"uuid"`
	ControlID   string      `json:"control-id"`
	Description string      `json:"description"`
	Props       []oscalProp `json:"props,omitempty"`
	Remarks     string      `json:"remarks,omitempty"`
}

// ProfileSource is the control-implementation source of the appliance's own
// profile: a URN naming profile and version (it is not fetched).
func (p *Profile) ProfileSource() string {
	return "urn:supernode-appliance:hardening-profile:" + p.Name + ":" + p.Version
}

// NIST80053 maps each profile control to the NIST SP 800-53 rev5 controls
// of the CIS items it implements (the catalog's nist lists). Controls with
// no CIS item carrying a mapping get none: no mapping is invented.
func (c *Catalog) NIST80053(p *Profile) map[string][]string {
	out := map[string][]string{}
	cis := c.Reference("cis")
	if cis == nil {
		return out
	}
	seen := map[string]bool{}
	for _, it := range cis.Items {
		if it.Status != Implemented {
			continue
		}
		for _, ctl := range it.By {
			for _, n := range it.NIST {
				if p.Control(ctl) == nil || seen[ctl+" "+n] {
					continue
				}
				seen[ctl+" "+n] = true
				out[ctl] = append(out[ctl], n)
			}
		}
	}
	for _, v := range out {
		sort.Strings(v)
	}
	return out
}

// WriteOSCALComponentDefinition writes the appliance image as an OSCAL
// component definition with two control implementations: NIST SP 800-53
// rev5 (only the controls a mapping reaches, each listing the profile
// controls behind it), and the hardening profile itself (every control with
// its references), so nothing the appliance does is lost for lack of a
// mapping. modified is the document's last-modified time.
func WriteOSCALComponentDefinition(w io.Writer, p *Profile, c *Catalog, modified time.Time) error {
	var doc componentDefinitionDoc
	cd := &doc.ComponentDefinition
	cd.UUID = oscalUUID("component-definition", p.Name, p.Version)
	cd.Metadata = oscalMetadata{
		Title:        "Supernode Appliance hardening: component definition",
		LastModified: oscalTime(modified),
		Version:      p.Version,
		OSCALVersion: OSCALVersion,
		Props:        []oscalProp{prop("profile", p.Name), prop("profile-version", p.Version)},
	}
	comp := oscalComponent{
		UUID:  oscalUUID("component", p.Name),
		Type:  "software",
		Title: "Supernode Appliance image",
		Description: "A read-only, dm-verity verified Debian trixie image running the supernode service behind an XDP filter, " +
			"hardened by the profile " + p.Name + " " + p.Version + " and verified by appliance-audit.",
		Purpose: "Peer rendezvous (STUN-framed supernode) appliance.",
		Props:   []oscalProp{prop("controls", fmt.Sprint(len(p.Controls)))},
	}
	mapping := c.NIST80053(p)
	byNIST := map[string][]string{}
	for _, ctl := range p.Controls {
		for _, n := range mapping[ctl.ID] {
			byNIST[n] = append(byNIST[n], ctl.ID)
		}
	}
	var nistIDs []string
	for n := range byNIST {
		nistIDs = append(nistIDs, n)
	}
	sort.Slice(nistIDs, func(i, j int) bool { return controlLess(nistIDs[i], nistIDs[j]) })
	nist := controlImplementation{
		UUID:   oscalUUID("ci", "nist-800-53r5", p.Version),
		Source: nist80053Source,
		Description: "NIST SP 800-53 rev5 controls reached through the CIS Debian Linux 12 v1.1.0 recommendations the profile implements " +
			"(mapping as tagged in the ansible-lockdown DEBIAN12-CIS role). Profile controls without such a mapping appear only in the profile implementation.",
	}
	for _, n := range nistIDs {
		ctls := byNIST[n]
		req := implementedRequirement{
			UUID:        oscalUUID("ir", "nist", n, p.Version),
			ControlID:   strings.ToLower(n),
			Description: "Implemented by the hardening profile controls " + strings.Join(ctls, ", ") + ".",
		}
		for _, id := range ctls {
			req.Props = append(req.Props, prop("implemented-by", id))
		}
		nist.ImplementedRequirements = append(nist.ImplementedRequirements, req)
	}
	own := controlImplementation{
		UUID:        oscalUUID("ci", "profile", p.Name, p.Version),
		Source:      p.ProfileSource(),
		Description: "Every control of the hardening profile, with its references (KSPP, CIS Debian 12 v1.1.0, DISA STIG) and how it is checked.",
	}
	for _, ctl := range p.Controls {
		req := implementedRequirement{
			UUID:        oscalUUID("ir", "profile", ctl.ID, p.Version),
			ControlID:   ctl.ID,
			Description: oneLine(ctl.Title + ". " + ctl.Rationale),
			Props:       []oscalProp{prop("severity", ctl.Severity), prop("apply-method", ctl.Apply), prop("check-method", ctl.Check)},
		}
		for _, r := range ctl.References() {
			req.Props = append(req.Props, prop("reference", r))
		}
		for _, n := range mapping[ctl.ID] {
			req.Props = append(req.Props, prop("nist-800-53r5", strings.ToLower(n)))
		}
		if ctl.Exception != nil {
			req.Remarks = "Documented deviation: " + oneLine(ctl.Exception.Justification)
		}
		own.ImplementedRequirements = append(own.ImplementedRequirements, req)
	}
	if len(nist.ImplementedRequirements) > 0 {
		comp.ControlImplementations = append(comp.ControlImplementations, nist)
	}
	comp.ControlImplementations = append(comp.ControlImplementations, own)
	cd.Components = []oscalComponent{comp}
	return writeIndented(w, doc)
}

// ---------------------------------------------------------------- assessment results

type assessmentResultsDoc struct {
	AssessmentResults struct {
		UUID     string        `json:"uuid"`
		Metadata oscalMetadata `json:"metadata"`
		ImportAP struct {
			Href    string `json:"href"`
			Remarks string `json:"remarks,omitempty"`
		} `json:"import-ap"`
		Results []oscalResult `json:"results"`
	} `json:"assessment-results"`
}

type oscalResult struct {
	UUID             string             `json:"uuid"`
	Title            string             `json:"title"`
	Description      string             `json:"description"`
	Start            string             `json:"start"`
	End              string             `json:"end,omitempty"`
	Props            []oscalProp        `json:"props,omitempty"`
	ReviewedControls reviewedControls   `json:"reviewed-controls"`
	Observations     []oscalObservation `json:"observations,omitempty"`
	Findings         []oscalFinding     `json:"findings,omitempty"`
}

type reviewedControls struct {
	ControlSelections []struct {
		IncludeControls []controlRef `json:"include-controls"`
	} `json:"control-selections"`
}

type controlRef struct {
	ControlID string `json:"control-id"`
}

type oscalObservation struct {
	UUID             string          `json:"uuid"`
	Title            string          `json:"title,omitempty"`
	Description      string          `json:"description"`
	Props            []oscalProp     `json:"props,omitempty"`
	Methods          []string        `json:"methods"`
	RelevantEvidence []oscalEvidence `json:"relevant-evidence,omitempty"`
	Collected        string          `json:"collected"`
}

type oscalEvidence struct {
	Description string      `json:"description"`
	Props       []oscalProp `json:"props,omitempty"`
}

type oscalFinding struct {
	UUID                string           `json:"uuid"`
	Title               string           `json:"title"`
	Description         string           `json:"description"`
	Props               []oscalProp      `json:"props,omitempty"`
	Target              findingTarget    `json:"target"`
	RelatedObservations []observationRef `json:"related-observations,omitempty"`
	Remarks             string           `json:"remarks,omitempty"`
}

type findingTarget struct {
	Type     string `json:"type"`
	TargetID string `json:"target-id"`
	Status   struct {
		State  string `json:"state"`
		Reason string `json:"reason,omitempty"`
	} `json:"status"`
}

type observationRef struct {
	ObservationUUID string `json:"observation-uuid"`
}

// WriteOSCALAssessmentResults writes one audit report as OSCAL assessment
// results: one observation per control (the evidence), one finding per
// control (satisfied for pass and for a documented exception, not-satisfied
// for fail and error, with the audit status as the reason). The assessment
// plan it imports is the profile itself (by URN): the profile says what is
// checked and how.
func (r *Report) WriteOSCALAssessmentResults(w io.Writer) error {
	var doc assessmentResultsDoc
	ar := &doc.AssessmentResults
	runID := r.Started.UTC().Format(time.RFC3339Nano) + " " + r.Mode + " " + r.Target
	ar.UUID = oscalUUID("assessment-results", runID)
	ar.Metadata = oscalMetadata{
		Title:        fmt.Sprintf("appliance-audit %s audit of %s", r.Mode, r.Target),
		LastModified: oscalTime(r.Started),
		Version:      r.ProfileVersion,
		OSCALVersion: OSCALVersion,
		Props:        []oscalProp{prop("tool", r.Tool), prop("profile", r.Profile), prop("profile-version", r.ProfileVersion)},
	}
	if r.ToolVersion != "" {
		ar.Metadata.Props = append(ar.Metadata.Props, prop("tool-version", r.ToolVersion))
	}
	ar.ImportAP.Href = "urn:supernode-appliance:hardening-profile:" + r.Profile + ":" + r.ProfileVersion
	ar.ImportAP.Remarks = "No separate assessment plan: the hardening profile defines every check (appliance-audit --print-profile)."
	res := oscalResult{
		UUID:        oscalUUID("result", runID),
		Title:       fmt.Sprintf("%s audit: %d pass, %d fail, %d exception, %d error", r.Mode, r.Counts[Pass], r.Counts[Fail], r.Counts[Exception], r.Counts[Error]),
		Description: fmt.Sprintf("appliance-audit checked %d controls of profile %s %s against %s (%s).", len(r.Results), r.Profile, r.ProfileVersion, r.Target, r.Mode),
		Start:       oscalTime(r.Started),
	}
	if d, err := time.ParseDuration(r.Duration); err == nil {
		res.End = oscalTime(r.Started.Add(d))
	}
	var facts []string
	for k := range r.Facts {
		facts = append(facts, k)
	}
	sort.Strings(facts)
	for _, k := range facts {
		if v := oneLine(r.Facts[k]); v != "" {
			res.Props = append(res.Props, prop("fact-"+strings.ReplaceAll(k, "_", "-"), v))
		}
	}
	sel := struct {
		IncludeControls []controlRef `json:"include-controls"`
	}{}
	collected := oscalTime(r.Started)
	for _, rs := range r.Results {
		sel.IncludeControls = append(sel.IncludeControls, controlRef{rs.Control})
		obs := oscalObservation{
			UUID:        oscalUUID("observation", runID, rs.Control),
			Title:       rs.Control,
			Description: oneLine(fmt.Sprintf("%s check of %s: %s", rs.Check, rs.Control, nonEmpty(rs.Message, string(rs.Status)))),
			Methods:     []string{"TEST"},
			Collected:   collected,
			Props:       []oscalProp{prop("check-method", rs.Check), prop("audit-status", string(rs.Status))},
		}
		for _, e := range rs.Evidence {
			ev := oscalEvidence{Description: oneLine(nonEmpty(e.String(), e.Where)), Props: []oscalProp{prop("where", nonEmpty(e.Where, "-")), prop("ok", fmt.Sprint(e.OK))}}
			if f := oneLine(e.Found); f != "" {
				ev.Props = append(ev.Props, prop("found", f))
			}
			if x := oneLine(e.Expected); x != "" {
				ev.Props = append(ev.Props, prop("expected", x))
			}
			obs.RelevantEvidence = append(obs.RelevantEvidence, ev)
		}
		res.Observations = append(res.Observations, obs)

		f := oscalFinding{
			UUID:                oscalUUID("finding", runID, rs.Control),
			Title:               oneLine(rs.Control + ": " + rs.Title),
			Description:         oneLine(nonEmpty(rs.Message, string(rs.Status))),
			Props:               []oscalProp{prop("severity", rs.Severity)},
			RelatedObservations: []observationRef{{obs.UUID}},
		}
		f.Target.Type = "objective-id"
		f.Target.TargetID = rs.Control
		switch rs.Status {
		case Pass:
			f.Target.Status.State, f.Target.Status.Reason = "satisfied", "pass"
		case Exception:
			f.Target.Status.State, f.Target.Status.Reason = "satisfied", "exception"
			f.Remarks = "Documented deviation: " + oneLine(rs.Justification)
		case Fail:
			f.Target.Status.State, f.Target.Status.Reason = "not-satisfied", "fail"
		default:
			f.Target.Status.State, f.Target.Status.Reason = "not-satisfied", "error"
		}
		for _, ref := range rs.References {
			if v := oneLine(ref); v != "" {
				f.Props = append(f.Props, prop("reference", v))
			}
		}
		res.Findings = append(res.Findings, f)
	}
	if len(sel.IncludeControls) == 0 {
		return fmt.Errorf("the report has no results; OSCAL needs at least one reviewed control")
	}
	res.ReviewedControls.ControlSelections = append(res.ReviewedControls.ControlSelections, sel)
	ar.Results = []oscalResult{res}
	return writeIndented(w, doc)
}

// controlLess orders 800-53 ids by family, then number: AC-2 before AC-11.
func controlLess(a, b string) bool {
	fa, na, _ := strings.Cut(a, "-")
	fb, nb, _ := strings.Cut(b, "-")
	if fa != fb {
		return fa < fb
	}
	var x, y int
	fmt.Sscan(na, &x)
	fmt.Sscan(nb, &y)
	if x != y {
		return x < y
	}
	return a < b
}

func nonEmpty(s, fallback string) string {
	if strings.TrimSpace(s) == "" {
		return fallback
	}
	return s
}

func writeIndented(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// ReadReport reads a report written by WriteJSON.
func ReadReport(r io.Reader) (*Report, error) {
	var rep Report
	dec := json.NewDecoder(r)
	if err := dec.Decode(&rep); err != nil {
		return nil, fmt.Errorf("not an appliance-audit JSON report: %w", err)
	}
	if rep.Tool != "appliance-audit" {
		return nil, fmt.Errorf("not an appliance-audit JSON report (tool %q)", rep.Tool)
	}
	return &rep, nil
}
