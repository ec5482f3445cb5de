package hardening

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
)

// WriteText writes the human summary: counts, then failures and errors
// with their evidence, then exceptions with their justification. Passing
// controls, with their evidence, only when verbose.
func (r *Report) WriteText(w io.Writer, verbose bool) error {
	fmt.Fprintf(w, "appliance-audit %s: profile %s %s, %s audit of %s\n", r.ToolVersion, r.Profile, r.ProfileVersion, r.Mode, r.Target)
	fmt.Fprintf(w, "%d controls: %d pass, %d fail, %d exception, %d error (%s)\n",
		len(r.Results), r.Counts[Pass], r.Counts[Fail], r.Counts[Exception], r.Counts[Error], r.Duration)
	for _, res := range r.Results {
		if res.Status == Pass && !verbose {
			continue
		}
		fmt.Fprintf(w, "\n%-9s %s [%s] %s\n", strings.ToUpper(string(res.Status)), res.Control, res.Severity, res.Title)
		switch res.Status {
		case Exception:
			fmt.Fprintf(w, "          justification: %s\n", res.Justification)
		case Error:
			fmt.Fprintf(w, "          %s\n", res.Message)
		case Fail:
			if strings.HasPrefix(res.Message, "exception not honoured") {
				fmt.Fprintf(w, "          %s\n", res.Message)
			}
		}
		if res.Status != Pass || verbose {
			for _, e := range res.Evidence {
				fmt.Fprintf(w, "          %s\n", evidenceLine(e))
			}
			if len(res.References) > 0 {
				fmt.Fprintf(w, "          refs: %s\n", strings.Join(res.References, "; "))
			}
		}
	}
	_, err := fmt.Fprintln(w)
	return err
}

// evidenceLine is one evidence item as the text and JUnit reports show
// it: "ok " or "BAD", where, what was found (and what was expected).
func evidenceLine(e Evidence) string {
	mark := "ok "
	if !e.OK {
		mark = "BAD"
	}
	return mark + " " + e.String()
}

// WriteJSON writes the full report.
func (r *Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}
