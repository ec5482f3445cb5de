package hardening

import (
	_ "embed"
	"fmt"
	"html/template"
	"io"
	"regexp"
	"sort"
	"strings"
)

// The HTML report: one self-contained page (inline CSS and SVG, no script,
// no font, image or style sheet fetched from anywhere), made from the
// report alone, so a report.json from any run can be turned into it. Every
// value goes through html/template, which escapes it for where it lands.

//go:embed report.html.tmpl
var htmlTemplateText string

var htmlTemplate = template.Must(template.New("report").Funcs(template.FuncMap{
	"upper": strings.ToUpper,
}).Parse(htmlTemplateText))

// htmlStatuses is the order statuses appear in: what needs attention first.
var htmlStatuses = []Status{Fail, Error, Exception, Pass}

var htmlSeverities = []string{"critical", "high", "medium", "low"}

// referenceFamily groups a reference (as Control.References writes it)
// for the summary chart.
func referenceFamily(ref string) string {
	switch {
	case strings.HasPrefix(ref, "CIS "):
		return "CIS Debian 12 v1.1.0"
	case strings.HasPrefix(ref, "KSPP"):
		return "KSPP"
	case strings.HasPrefix(ref, "DISA STIG"):
		return "DISA STIG"
	}
	return "other"
}

var manPageRE = regexp.MustCompile(`^([A-Za-z0-9_.:-]+)\(([1-9])\)`)

// referenceURL is where a reference can be read, or "" when it names no
// public document (project practice).
func referenceURL(ref string) string {
	for _, f := range strings.Fields(ref) {
		if strings.HasPrefix(f, "https://") {
			return f
		}
	}
	switch {
	case strings.HasPrefix(ref, "KSPP"):
		return "https://kspp.github.io/Recommended_Settings"
	case strings.HasPrefix(ref, "CIS "):
		return "https://www.cisecurity.org/benchmark/debian_linux"
	case strings.HasPrefix(ref, "DISA STIG RHEL 8"):
		return "https://www.stigviewer.com/stig/red_hat_enterprise_linux_8/"
	case strings.HasPrefix(ref, "kernel-hardening-checker"):
		return "https://github.com/a13xp0p0v/kernel-hardening-checker"
	case strings.HasPrefix(ref, "DESIGN.md"):
		return "https://github.com/supernode-appliance/appliance/blob/main/DESIGN.md"
	case strings.Contains(ref, "Discoverable Partitions"):
		return "https://uapi-group.org/specifications/specs/discoverable_partitions_specification/"
	case strings.Contains(ref, "Unified Kernel Image"):
		return "https://uapi-group.org/specifications/specs/unified_kernel_image/"
	case strings.HasPrefix(ref, "UEFI"):
		return "https://uefi.org/specifications"
	}
	if m := manPageRE.FindStringSubmatch(ref); m != nil {
		return fmt.Sprintf("https://man7.org/linux/man-pages/man%s/%s.%s.html", m[2], m[1], m[2])
	}
	return ""
}

type htmlCount struct {
	Status Status
	N      int
}

type htmlBar struct {
	Status Status
	N      int
	X, W   string // SVG coordinates
}

type htmlRow struct {
	Key   string
	Cells []htmlCount
	Total int
	Bars  []htmlBar
	Y     int // SVG row offset
}

type htmlChart struct {
	ID, Title, Caption string
	Rows               []htmlRow
	Height             int
}

type htmlRef struct{ Text, URL string }

type htmlComp struct {
	ID     string
	Status Status // "" when the control was not audited in this run
}

type htmlControl struct {
	Result
	Refs []htmlRef
	Comp []htmlComp
}

type htmlPage struct {
	R        *Report
	Total    int
	Counts   []htmlCount
	Charts   []htmlChart
	Controls []htmlControl
	Facts    [][2]string
}

// chart lays out one stacked bar per row, scaled to the longest row.
func chart(id, title, caption string, keys []string, of func(Result) []string, results []Result) htmlChart {
	const x0, width, rowH = 190.0, 380.0, 30
	counts := map[string]map[Status]int{}
	for _, r := range results {
		for _, k := range of(r) {
			if counts[k] == nil {
				counts[k] = map[Status]int{}
			}
			counts[k][r.Status]++
		}
	}
	max := 1
	for _, c := range counts {
		n := 0
		for _, v := range c {
			n += v
		}
		if n > max {
			max = n
		}
	}
	ch := htmlChart{ID: id, Title: title, Caption: caption}
	for _, k := range keys {
		row := htmlRow{Key: k, Y: len(ch.Rows) * rowH}
		x := x0
		for _, s := range htmlStatuses {
			n := counts[k][s]
			row.Cells = append(row.Cells, htmlCount{s, n})
			row.Total += n
			if n > 0 {
				w := width * float64(n) / float64(max)
				row.Bars = append(row.Bars, htmlBar{Status: s, N: n, X: fmt.Sprintf("%.1f", x), W: fmt.Sprintf("%.1f", w)})
				x += w
			}
		}
		ch.Rows = append(ch.Rows, row)
	}
	ch.Height = len(ch.Rows)*rowH + 4
	return ch
}

// WriteHTML writes the report as one self-contained HTML page: the
// counts, charts of pass/fail/exception/error by severity and by
// reference, then every control (failures first) with its rationale,
// evidence, linked references and, for exceptions, the justification and
// the compensating controls with their verdicts.
func (r *Report) WriteHTML(w io.Writer) error {
	pg := htmlPage{R: r, Total: len(r.Results)}
	for _, s := range htmlStatuses {
		pg.Counts = append(pg.Counts, htmlCount{s, r.Counts[s]})
	}
	sev := htmlSeverities
	for _, res := range r.Results { // a profile may use others
		found := false
		for _, s := range sev {
			found = found || s == res.Severity
		}
		if !found {
			sev = append(append([]string(nil), sev...), res.Severity)
		}
	}
	pg.Charts = append(pg.Charts, chart("by-severity", "By severity", "controls per severity and status",
		sev, func(res Result) []string { return []string{res.Severity} }, r.Results))
	var fams []string
	famSeen := map[string]bool{}
	byFamily := func(res Result) []string {
		var out []string
		seen := map[string]bool{}
		for _, ref := range res.References {
			f := referenceFamily(ref)
			if !seen[f] {
				seen[f] = true
				out = append(out, f)
			}
		}
		return out
	}
	for _, res := range r.Results {
		for _, f := range byFamily(res) {
			famSeen[f] = true
		}
	}
	for _, f := range []string{"CIS Debian 12 v1.1.0", "KSPP", "DISA STIG", "other"} {
		if famSeen[f] {
			fams = append(fams, f)
		}
	}
	pg.Charts = append(pg.Charts, chart("by-reference", "By reference", "controls citing each source, per status (a control citing two sources counts in both)",
		fams, byFamily, r.Results))

	status := map[string]Status{}
	for _, res := range r.Results {
		status[res.Control] = res.Status
	}
	for _, res := range r.Results {
		hc := htmlControl{Result: res}
		for _, ref := range res.References {
			hc.Refs = append(hc.Refs, htmlRef{ref, referenceURL(ref)})
		}
		for _, id := range res.CompensatedBy {
			hc.Comp = append(hc.Comp, htmlComp{id, status[id]})
		}
		pg.Controls = append(pg.Controls, hc)
	}
	keys := make([]string, 0, len(r.Facts))
	for k := range r.Facts {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		pg.Facts = append(pg.Facts, [2]string{k, r.Facts[k]})
	}
	return htmlTemplate.Execute(w, pg)
}
