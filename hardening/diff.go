package hardening

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
)

// Diffs between two profiles (what the hardening is) and between two audit
// reports (what an image or a running appliance was found to have). An
// image's release notes carry both: what changed in the profile since the
// previous image, and which verdicts changed.

// FieldChange is one changed attribute of a control.
type FieldChange struct {
	Field string `json:"field"`
	Old   string `json:"old,omitempty"`
	New   string `json:"new,omitempty"`
}

// ControlChange lists what changed in one control present in both profiles.
type ControlChange struct {
	ID      string        `json:"id"`
	Title   string        `json:"title"`
	Changes []FieldChange `json:"changes"`
}

// ProfileDiff is the difference between two profiles.
type ProfileDiff struct {
	Old     string          `json:"old"` // name version
	New     string          `json:"new"`
	Added   []ControlRef    `json:"added,omitempty"`
	Removed []ControlRef    `json:"removed,omitempty"`
	Changed []ControlChange `json:"changed,omitempty"`
}

// ControlRef names a control.
type ControlRef struct {
	ID       string `json:"id"`
	Title    string `json:"title"`
	Severity string `json:"severity"`
}

// Empty reports whether the profiles define the same controls.
func (d *ProfileDiff) Empty() bool {
	return len(d.Added)+len(d.Removed)+len(d.Changed) == 0
}

// DiffProfiles compares two profiles control by control: added, removed,
// and for controls in both, every changed attribute (severity, methods,
// each setting, values, scope, references, exception, title, rationale).
func DiffProfiles(old, new *Profile) *ProfileDiff {
	d := &ProfileDiff{Old: old.Name + " " + old.Version, New: new.Name + " " + new.Version}
	for _, c := range new.Controls {
		if old.Control(c.ID) == nil {
			d.Added = append(d.Added, ControlRef{c.ID, c.Title, c.Severity})
		}
	}
	for _, c := range old.Controls {
		nc := new.Control(c.ID)
		if nc == nil {
			d.Removed = append(d.Removed, ControlRef{c.ID, c.Title, c.Severity})
			continue
		}
		if ch := diffControl(c, nc); len(ch) > 0 {
			d.Changed = append(d.Changed, ControlChange{ID: c.ID, Title: nc.Title, Changes: ch})
		}
	}
	return d
}

func diffControl(a, b *Control) []FieldChange {
	var out []FieldChange
	field := func(name, x, y string) {
		if x != y {
			out = append(out, FieldChange{name, x, y})
		}
	}
	field("severity", a.Severity, b.Severity)
	field("apply", a.Apply, b.Apply)
	field("check", a.Check, b.Check)
	field("key", a.Key, b.Key)
	field("expect", a.Expect, b.Expect)
	keys := map[string]bool{}
	for k := range a.Settings {
		keys[k] = true
	}
	for k := range b.Settings {
		keys[k] = true
	}
	for _, k := range unionKeys(keys) {
		x, inA := a.Settings[k]
		y, inB := b.Settings[k]
		switch {
		case inA && !inB:
			out = append(out, FieldChange{"setting " + k, showValue(x), ""})
		case !inA && inB:
			out = append(out, FieldChange{"setting " + k, "", showValue(y)})
		case x != y:
			out = append(out, FieldChange{"setting " + k, showValue(x), showValue(y)})
		}
	}
	out = append(out, listChange("values", a.Values, b.Values)...)
	field("scope", strings.Join(a.Scope, ","), strings.Join(b.Scope, ","))
	field("debug", a.Debug, b.Debug)
	out = append(out, listChange("references", a.References(), b.References())...)
	field("exception", exceptionText(a.Exception), exceptionText(b.Exception))
	field("title", a.Title, b.Title)
	if a.Rationale != b.Rationale {
		out = append(out, FieldChange{Field: "rationale", Old: "(text)", New: "(reworded)"})
	}
	return out
}

// showValue shows an empty setting (a bare flag such as slab_nomerge) so
// that it is not mistaken for a missing one.
func showValue(v string) string {
	if v == "" {
		return `""`
	}
	return v
}

// listChange reports items removed from and added to a list, in one change.
func listChange(name string, a, b []string) []FieldChange {
	inA, inB := map[string]bool{}, map[string]bool{}
	for _, x := range a {
		inA[x] = true
	}
	for _, x := range b {
		inB[x] = true
	}
	var gone, came []string
	for _, x := range a {
		if !inB[x] {
			gone = append(gone, x)
		}
	}
	for _, x := range b {
		if !inA[x] {
			came = append(came, x)
		}
	}
	if len(gone)+len(came) == 0 {
		return nil
	}
	return []FieldChange{{Field: name, Old: strings.Join(gone, ", "), New: strings.Join(came, ", ")}}
}

// unionKeys returns a set's members in order.
func unionKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func exceptionText(e *Deviation) string {
	if e == nil {
		return ""
	}
	s := "justification: " + e.Justification
	if len(e.CompensatedBy) > 0 {
		s += "; compensated by " + strings.Join(e.CompensatedBy, ", ")
	}
	return s
}

// ResultChange is one control whose audit verdict differs between reports.
type ResultChange struct {
	Control     string `json:"control"`
	Title       string `json:"title"`
	OldStatus   Status `json:"old_status,omitempty"` // empty: not in the old report
	NewStatus   Status `json:"new_status,omitempty"` // empty: not in the new report
	OldSeverity string `json:"old_severity,omitempty"`
	NewSeverity string `json:"new_severity,omitempty"`
	Message     string `json:"message,omitempty"` // the new report's message
}

// ReportDiff is the difference between two audit reports.
type ReportDiff struct {
	Old       string         `json:"old"` // target, mode, profile version
	New       string         `json:"new"`
	OldCounts map[Status]int `json:"old_counts"`
	NewCounts map[Status]int `json:"new_counts"`
	Changed   []ResultChange `json:"changed,omitempty"`
	Facts     []FieldChange  `json:"facts,omitempty"`
}

// DiffReports lists controls whose status or severity changed, controls
// checked in only one of the reports, and changed facts (root hash, kernel,
// profile version...). Regressions (to fail or error) come first.
func DiffReports(old, new *Report) *ReportDiff {
	d := &ReportDiff{Old: reportName(old), New: reportName(new), OldCounts: old.Counts, NewCounts: new.Counts}
	oldBy := map[string]Result{}
	for _, r := range old.Results {
		oldBy[r.Control] = r
	}
	seen := map[string]bool{}
	for _, r := range new.Results {
		seen[r.Control] = true
		o, ok := oldBy[r.Control]
		switch {
		case !ok:
			d.Changed = append(d.Changed, ResultChange{Control: r.Control, Title: r.Title, NewStatus: r.Status, NewSeverity: r.Severity, Message: r.Message})
		case o.Status != r.Status || o.Severity != r.Severity:
			d.Changed = append(d.Changed, ResultChange{Control: r.Control, Title: r.Title, OldStatus: o.Status, NewStatus: r.Status,
				OldSeverity: o.Severity, NewSeverity: r.Severity, Message: r.Message})
		}
	}
	for _, o := range old.Results {
		if !seen[o.Control] {
			d.Changed = append(d.Changed, ResultChange{Control: o.Control, Title: o.Title, OldStatus: o.Status, OldSeverity: o.Severity})
		}
	}
	rank := func(c ResultChange) int {
		switch {
		case c.NewStatus == Fail || c.NewStatus == Error:
			return 0
		case c.NewStatus == "":
			return 2
		}
		return 1
	}
	sort.SliceStable(d.Changed, func(i, j int) bool { return rank(d.Changed[i]) < rank(d.Changed[j]) })
	facts := map[string]bool{}
	for k := range old.Facts {
		facts[k] = true
	}
	for k := range new.Facts {
		facts[k] = true
	}
	for _, k := range unionKeys(facts) {
		if old.Facts[k] != new.Facts[k] {
			d.Facts = append(d.Facts, FieldChange{k, old.Facts[k], new.Facts[k]})
		}
	}
	if old.ProfileVersion != new.ProfileVersion {
		d.Facts = append(d.Facts, FieldChange{"profile_version", old.ProfileVersion, new.ProfileVersion})
	}
	return d
}

func reportName(r *Report) string {
	return fmt.Sprintf("%s audit of %s (profile %s %s, %s)", r.Mode, r.Target, r.Profile, r.ProfileVersion, r.Started.Format("2006-01-02 15:04Z"))
}

// Empty reports whether no verdict and no fact changed.
func (d *ReportDiff) Empty() bool { return len(d.Changed)+len(d.Facts) == 0 }

// Diff is a profile diff, a report diff, or both (two images: their
// profiles' versions and their audit results).
type Diff struct {
	Profile *ProfileDiff `json:"profile,omitempty"`
	Results *ReportDiff  `json:"results,omitempty"`
}

// Empty reports whether nothing changed.
func (d *Diff) Empty() bool {
	return (d.Profile == nil || d.Profile.Empty()) && (d.Results == nil || d.Results.Empty())
}

// WriteJSON writes the diff as JSON.
func (d *Diff) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(d)
}

// WriteText writes the diff for a terminal.
func (d *Diff) WriteText(w io.Writer) error {
	return d.write(w, false)
}

// WriteMarkdown writes the diff as a release-notes section.
func (d *Diff) WriteMarkdown(w io.Writer) error {
	return d.write(w, true)
}

func (d *Diff) write(w io.Writer, md bool) error {
	h := func(s string) {
		if md {
			fmt.Fprintf(w, "### %s\n\n", s)
		} else {
			fmt.Fprintf(w, "%s\n", s)
		}
	}
	item := func(format string, a ...any) {
		if md {
			fmt.Fprintf(w, "- "+format+"\n", a...)
		} else {
			fmt.Fprintf(w, "  "+format+"\n", a...)
		}
	}
	code := func(s string) string {
		if md {
			return "`" + s + "`"
		}
		return s
	}
	end := func() { fmt.Fprintln(w) }
	if d.Empty() {
		fmt.Fprintln(w, "No change in the hardening profile or the audit results.")
		return nil
	}
	if p := d.Profile; p != nil {
		h(fmt.Sprintf("Hardening profile: %s -> %s", p.Old, p.New))
		if p.Empty() {
			item("no control added, removed or changed")
		}
		for _, c := range p.Added {
			item("added %s [%s] %s", code(c.ID), c.Severity, c.Title)
		}
		for _, c := range p.Removed {
			item("removed %s [%s] %s", code(c.ID), c.Severity, c.Title)
		}
		for _, c := range p.Changed {
			var parts []string
			for _, f := range c.Changes {
				parts = append(parts, describeChange(f))
			}
			item("changed %s: %s", code(c.ID), strings.Join(parts, "; "))
		}
		end()
	}
	if r := d.Results; r != nil {
		h("Audit results: " + r.Old + " -> " + r.New)
		item("before: %s; after: %s", countsText(r.OldCounts), countsText(r.NewCounts))
		for _, c := range r.Changed {
			switch {
			case c.OldStatus == "":
				item("%s new control, %s [%s]: %s", code(c.Control), c.NewStatus, c.NewSeverity, c.Message)
			case c.NewStatus == "":
				item("%s no longer checked (was %s)", code(c.Control), c.OldStatus)
			default:
				s := fmt.Sprintf("%s %s -> %s", code(c.Control), c.OldStatus, c.NewStatus)
				if c.OldSeverity != c.NewSeverity {
					s += fmt.Sprintf(", severity %s -> %s", c.OldSeverity, c.NewSeverity)
				}
				if c.NewStatus != Pass && c.Message != "" {
					s += ": " + c.Message
				}
				item("%s", s)
			}
		}
		for _, f := range r.Facts {
			item("%s", describeChange(f))
		}
		end()
	}
	return nil
}

func describeChange(f FieldChange) string {
	switch {
	case f.Field == "references" || f.Field == "values":
		var p []string
		if f.Old != "" {
			p = append(p, "removed "+f.Old)
		}
		if f.New != "" {
			p = append(p, "added "+f.New)
		}
		return f.Field + " " + strings.Join(p, ", ")
	case f.Old == "":
		return f.Field + " added (" + f.New + ")"
	case f.New == "":
		return f.Field + " removed (was " + f.Old + ")"
	case f.Field == "rationale":
		return "rationale reworded"
	}
	return f.Field + " " + f.Old + " -> " + f.New
}

func countsText(c map[Status]int) string {
	return fmt.Sprintf("%d pass, %d fail, %d exception, %d error", c[Pass], c[Fail], c[Exception], c[Error])
}

// DiffImages audits two images read-only against the same profile, one
// after the other, each against what its publisher said (ImageOptions:
// root hash, command line), and compares their results (and facts: root
// hash, profile stamp, kernel...). Each image is closed before the next opens.
func DiffImages(ctx context.Context, p *Profile, oldImage string, oldOpts ImageOptions, newImage string, newOpts ImageOptions) (*Diff, error) {
	var reps [2]*Report
	opts := []ImageOptions{oldOpts, newOpts}
	for i, path := range []string{oldImage, newImage} {
		img, err := OpenImage(ctx, path, opts[i])
		if err != nil {
			if img != nil {
				img.Close()
			}
			return nil, err
		}
		reps[i] = p.Audit(img.Target)
		if err := img.Close(); err != nil {
			return nil, fmt.Errorf("%s: cleanup: %w", path, err)
		}
	}
	return &Diff{Results: DiffReports(reps[0], reps[1])}, nil
}
