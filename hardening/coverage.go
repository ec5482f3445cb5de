package hardening

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
)

// Coverage is how much of one reference the appliance covers.
type Coverage struct {
	Reference string         `json:"reference"`
	Title     string         `json:"title"`
	Scope     string         `json:"scope"`
	Group     string         `json:"group,omitempty"` // e.g. "Level 1" for CIS, "kconfig" for KSPP
	Items     int            `json:"items"`
	Counts    map[string]int `json:"counts"`
	// Implemented is implemented items / all items, in percent.
	Implemented float64 `json:"implemented_percent"`
	// Addressed is (implemented + exception + not-applicable) / all items:
	// the share that needs no more work.
	Addressed float64 `json:"addressed_percent"`
	// Applicable is (implemented + exception) / (all - not-applicable).
	Applicable float64 `json:"applicable_done_percent"`
}

// Coverage computes one row per reference, then one per group inside it
// (CIS levels, KSPP option types). Extra items are not counted.
func (c *Catalog) Coverage() []Coverage {
	var out []Coverage
	for _, r := range c.References {
		out = append(out, r.coverage("", func(*Item) bool { return true }))
		for _, g := range r.groups() {
			g := g
			out = append(out, r.coverage(g.name, g.match))
		}
	}
	return out
}

type group struct {
	name  string
	match func(*Item) bool
}

func (r *Reference) groups() []group {
	switch r.Key {
	case "cis":
		return []group{
			{"Level 1", func(it *Item) bool { return it.Level == 1 }},
			{"Level 2 only", func(it *Item) bool { return it.Level == 2 }},
		}
	case "kspp":
		var gs []group
		for _, t := range []string{"kconfig", "cmdline", "sysctl"} {
			t := t
			gs = append(gs, group{t, func(it *Item) bool { return strings.HasPrefix(it.ID, t+" ") }})
		}
		return gs
	}
	return nil
}

func (r *Reference) coverage(groupName string, match func(*Item) bool) Coverage {
	cv := Coverage{Reference: r.Key, Title: r.Title, Scope: r.Scope, Group: groupName, Counts: map[string]int{}}
	for _, it := range r.Items {
		if it.Extra || !match(it) {
			continue
		}
		cv.Items++
		cv.Counts[it.Status]++
	}
	if cv.Items > 0 {
		n := float64(cv.Items)
		cv.Implemented = pct(float64(cv.Counts[Implemented]), n)
		cv.Addressed = pct(float64(cv.Counts[Implemented]+cv.Counts[Excepted]+cv.Counts[NotApplicable]), n)
		if app := cv.Items - cv.Counts[NotApplicable]; app > 0 {
			cv.Applicable = pct(float64(cv.Counts[Implemented]+cv.Counts[Excepted]), float64(app))
		}
	}
	return cv
}

func pct(a, b float64) float64 { return float64(int(a/b*1000+0.5)) / 10 }

// OpenItems returns the open items of a reference, in catalog order.
func (r *Reference) OpenItems() []*Item {
	var out []*Item
	for _, it := range r.Items {
		if it.Status == Open {
			out = append(out, it)
		}
	}
	return out
}

func (cv Coverage) label() string {
	if cv.Group != "" {
		return "  " + cv.Group
	}
	return cv.Title
}

// WriteCoverageText prints the per-reference table and, if withOpen, every
// open item with its note.
func (c *Catalog) WriteCoverageText(w io.Writer, withOpen bool) error {
	fmt.Fprintf(w, "%-66s %5s %5s %4s %4s %5s %7s %7s %7s\n", "reference", "items", "impl", "exc", "n/a", "open", "impl%", "done%", "appl%")
	for _, cv := range c.Coverage() {
		if cv.Scope == ScopeCitedOnly {
			fmt.Fprintf(w, "%-66s %5d %5s %4s %4s %5s %7s %7s %7s\n", cv.label(), cv.Items, "-", "-", "-", "-", "-", "-", "-")
			continue
		}
		fmt.Fprintf(w, "%-66s %5d %5d %4d %4d %5d %6.1f%% %6.1f%% %6.1f%%\n", cv.label(), cv.Items,
			cv.Counts[Implemented], cv.Counts[Excepted], cv.Counts[NotApplicable], cv.Counts[Open], cv.Implemented, cv.Addressed, cv.Applicable)
	}
	fmt.Fprintln(w, "\nimpl% = implemented / items; done% = (implemented + exception + n/a) / items; appl% = (implemented + exception) / (items - n/a).")
	for _, r := range c.References {
		if r.Scope == ScopeCitedOnly {
			fmt.Fprintf(w, "%s: cross-references only, not measured (see %s).\n", r.Title, r.File)
		}
	}
	if !withOpen {
		return nil
	}
	for _, r := range c.References {
		open := r.OpenItems()
		if len(open) == 0 {
			continue
		}
		fmt.Fprintf(w, "\nOpen in %s (%d):\n", r.Title, len(open))
		for _, it := range open {
			line := fmt.Sprintf("  %-44s %s", it.ID, it.Title)
			if it.Note != "" {
				line += " -- " + it.Note
			}
			fmt.Fprintln(w, line)
		}
	}
	return nil
}

// WriteCoverageMarkdown prints the table for hardening/README.md.
func (c *Catalog) WriteCoverageMarkdown(w io.Writer) error {
	fmt.Fprintln(w, "| reference | items | implemented | exception | n/a | open | implemented % | done % | applicable done % |")
	fmt.Fprintln(w, "|---|---:|---:|---:|---:|---:|---:|---:|---:|")
	for _, cv := range c.Coverage() {
		label := cv.Title
		if cv.Group != "" {
			label = "&nbsp;&nbsp;" + cv.Group
		}
		if cv.Scope == ScopeCitedOnly {
			fmt.Fprintf(w, "| %s | %d | (cross-references only, not measured) |||||||\n", label, cv.Items)
			continue
		}
		fmt.Fprintf(w, "| %s | %d | %d | %d | %d | %d | %.1f | %.1f | %.1f |\n", label, cv.Items,
			cv.Counts[Implemented], cv.Counts[Excepted], cv.Counts[NotApplicable], cv.Counts[Open], cv.Implemented, cv.Addressed, cv.Applicable)
	}
	return nil
}

// WriteCoverageJSON writes the coverage rows and every item of every
// reference, for dashboards.
func (c *Catalog) WriteCoverageJSON(w io.Writer) error {
	type ref struct {
		Key     string            `json:"key"`
		Title   string            `json:"title"`
		Scope   string            `json:"scope"`
		Reasons map[string]string `json:"reasons,omitempty"`
		Items   []*Item           `json:"items"`
	}
	out := struct {
		Coverage   []Coverage `json:"coverage"`
		References []ref      `json:"references"`
	}{Coverage: c.Coverage()}
	for _, r := range c.References {
		out.References = append(out.References, ref{r.Key, r.Title, r.Scope, r.Reasons, r.Items})
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}
