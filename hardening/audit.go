package hardening

import (
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"
)

// Status is the outcome of one control.
type Status string

// Result statuses. An exception is a failed check the profile documents as
// a deliberate deviation whose compensating controls all pass.
const (
	Pass      Status = "pass"
	Fail      Status = "fail"
	Exception Status = "exception"
	Error     Status = "error"
)

// Evidence is one observed value and where it was observed.
type Evidence struct {
	Where    string `json:"where"`
	Found    string `json:"found"`
	Expected string `json:"expected,omitempty"`
	OK       bool   `json:"ok"`
}

func (e Evidence) String() string {
	s := fmt.Sprintf("%s: %s", e.Where, e.Found)
	if e.Expected != "" && !e.OK {
		s += " (expected " + e.Expected + ")"
	}
	return s
}

// lookError is a check that could not be made, with where it looked and
// what it found there, so an error result carries evidence too.
type lookError struct {
	ev  Evidence
	err error
}

func (e *lookError) Error() string { return e.err.Error() }
func (e *lookError) Unwrap() error { return e.err }

// errAt is err from a check that looked at where and found found.
func errAt(where, found, expected string, err error) error {
	return &lookError{Evidence{Where: where, Found: found, Expected: expected}, err}
}

// errorEvidence is the evidence of a check that could not be made: where
// it looked (from errAt) or, for checks that do not say, the method and
// the target, with the error as what was found.
func errorEvidence(c *Control, t *Target, err error) Evidence {
	var le *lookError
	if errors.As(err, &le) {
		return le.ev
	}
	return Evidence{Where: "check " + c.Check + " on " + t.Name, Found: "could not be checked: " + err.Error(), Expected: checkMethods[c.Check].doc}
}

// Result is the audit outcome of one control.
type Result struct {
	Control       string     `json:"control"`
	Title         string     `json:"title"`
	Severity      string     `json:"severity"`
	Check         string     `json:"check"`
	Status        Status     `json:"status"`
	Message       string     `json:"message"`
	Evidence      []Evidence `json:"evidence"`
	References    []string   `json:"references"`
	Rationale     string     `json:"rationale"`
	Justification string     `json:"justification,omitempty"`
	// CompensatedBy are the controls a documented exception relies on
	// (the profile's compensated_by), whatever the verdict.
	CompensatedBy []string `json:"compensated_by,omitempty"`
}

// Report is a full audit run.
type Report struct {
	Tool           string            `json:"tool"`
	ToolVersion    string            `json:"tool_version"`
	Profile        string            `json:"profile"`
	ProfileVersion string            `json:"profile_version"`
	Mode           string            `json:"mode"` // image or live
	Target         string            `json:"target"`
	Started        time.Time         `json:"started"`
	Duration       string            `json:"duration"`
	Facts          map[string]string `json:"facts,omitempty"`
	Counts         map[Status]int    `json:"counts"`
	Results        []Result          `json:"results"`
	// Sysctls (live only): the running kernel's value of every sysctl the
	// KSPP catalog names (kernel-hardening-checker's list), whether or not
	// a control checks it; absent when the kernel has no such sysctl.
	Sysctls map[string]string `json:"sysctls,omitempty"`
}

// Failed reports whether any control failed or could not be checked.
func (r *Report) Failed() bool { return r.Counts[Fail] > 0 || r.Counts[Error] > 0 }

// checkFunc verifies one control against a target. ok=false is a failed
// check; err means the check could not be made.
type checkFunc func(c *Control, t *Target) (ok bool, ev []Evidence, err error)

// Audit checks every control in the target's scope. Controls whose
// exception is compensated by other controls are resolved after those.
func (p *Profile) Audit(t *Target) *Report {
	start := time.Now()
	r := &Report{Tool: "appliance-audit", Profile: p.Name, ProfileVersion: p.Version, Mode: t.Scope(),
		Target: t.Name, Started: start.UTC(), Counts: map[Status]int{}, Facts: t.Facts}
	t.profileVersion = p.Version
	if t.Live {
		r.Sysctls = liveSysctls(t)
	}
	byID := map[string]*Result{}
	for _, c := range p.Controls {
		if !c.InScope(t.Scope()) {
			continue
		}
		res := p.run(c, t)
		byID[c.ID] = &res
		r.Results = append(r.Results, res)
	}
	for i := range r.Results {
		res := &r.Results[i]
		c := p.Control(res.Control)
		if c.Exception != nil {
			res.CompensatedBy = c.Exception.CompensatedBy
		}
		if c.Exception == nil || res.Status != Fail {
			continue
		}
		// The unsigned-image exception cannot excuse a signature the
		// operator asked to verify (--cert) and that did not verify.
		if c.Check == "secure-boot" && t.Image != nil && t.Image.Expected.Cert != nil {
			res.Message = "not excused: a signature by " + t.Image.Expected.CertFrom + " was required: " + res.Message
			continue
		}
		// Only an unsigned image booted without Secure Boot may run a
		// command line it did not sign (the stock stub's SMBIOS extension).
		if c.Check == "signed-cmdline" && !(t.Live && !secureBootOn(t)) {
			res.Message = "not excused: Secure Boot is on or the image is audited offline: " + res.Message
			continue
		}
		var broken []string
		for _, id := range c.Exception.CompensatedBy {
			if cr, ok := byID[id]; ok && cr.Status != Pass {
				broken = append(broken, id+" "+string(cr.Status))
			}
		}
		if len(broken) > 0 {
			res.Message = "exception not honoured: compensating control " + strings.Join(broken, ", ")
			continue
		}
		res.Status = Exception
		res.Justification = c.Exception.Justification
		res.Message = "deviation documented in the profile: " + res.Message
	}
	for _, res := range r.Results {
		r.Counts[res.Status]++
	}
	// Failures first, then errors, exceptions, passes; profile order inside.
	rank := map[Status]int{Fail: 0, Error: 1, Exception: 2, Pass: 3}
	sort.SliceStable(r.Results, func(i, j int) bool { return rank[r.Results[i].Status] < rank[r.Results[j].Status] })
	r.Duration = time.Since(start).Round(time.Millisecond).String()
	return r
}

// rootless checks do not read the root filesystem, so they still run when
// the root could not be verified (and the verity check reports why).
var rootless = map[string]bool{"verity": true, "uki": true, "secure-boot": true, "cmdline": true, "initrd-no-shell": true}

func (p *Profile) run(c *Control, t *Target) Result {
	res := Result{Control: c.ID, Title: c.Title, Severity: c.Severity, Check: c.Check,
		References: c.References(), Rationale: c.Rationale}
	if t.Abort != "" && !rootless[c.Check] {
		res.Status, res.Message = Error, "not checked: "+t.Abort
		res.Evidence = []Evidence{{Where: t.Name + " (root filesystem)", Found: "not read: " + t.Abort, Expected: "a root verified against the published root hash"}}
		return res
	}
	fn := checks[c.Check]
	ok, ev, err := fn(c, t)
	if err != nil && len(ev) == 0 {
		ev = []Evidence{errorEvidence(c, t, err)}
	}
	res.Evidence = ev
	switch {
	case err != nil:
		res.Status, res.Message = Error, err.Error()
	case ok:
		res.Status, res.Message = Pass, summarize(ev, true)
	case c.Debug == "exempt" && t.Debug:
		res.Status, res.Message = Exception, summarize(ev, false)
		res.Justification = "debug image: this control is relaxed in images built with debug = true"
	case c.Kernel != "" && t.KernelFlavour() != "" && t.KernelFlavour() != c.Kernel:
		res.Status, res.Message = Exception, summarize(ev, false)
		res.Justification = fmt.Sprintf("the image runs the %s kernel flavour (%s); this control is met by the %s flavour only",
			t.KernelFlavour(), KernelFlavourFile, c.Kernel)
	default:
		res.Status, res.Message = Fail, summarize(ev, false)
	}
	return res
}

// summarize turns evidence into a one-line message: the failing items when
// failing, a count when passing.
func summarize(ev []Evidence, ok bool) string {
	if ok {
		return fmt.Sprintf("%d item(s) as expected", len(ev))
	}
	var bad []string
	for _, e := range ev {
		if !e.OK {
			bad = append(bad, e.String())
		}
	}
	if len(bad) == 0 {
		return "check failed"
	}
	if len(bad) > 5 {
		bad = append(bad[:5], fmt.Sprintf("and %d more", len(bad)-5))
	}
	return strings.Join(bad, "; ")
}

// allOK is the usual verdict: every evidence item as expected, and some.
func allOK(ev []Evidence) bool {
	for _, e := range ev {
		if !e.OK {
			return false
		}
	}
	return len(ev) > 0
}

// liveSysctls reads the sysctls of the KSPP catalog from the running kernel.
func liveSysctls(t *Target) map[string]string {
	c, err := DefaultCatalog()
	if err != nil {
		return nil
	}
	ref := c.Reference("kspp")
	if ref == nil {
		return nil
	}
	out := map[string]string{}
	for _, it := range ref.Items {
		name, ok := strings.CutPrefix(it.ID, "sysctl ")
		if !ok {
			continue
		}
		if _, v, err := t.liveSysctl(name); err == nil {
			out[name] = v
		}
	}
	return out
}
