package hardening

import (
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// evidenceScenarios audits the embedded profile in every way a check can
// end: an applied root with one real failure (pass, fail, exception), an
// empty root (nothing to read: fail and error), a root whose integrity
// check failed (every root-reading control aborted), and this host live.
func evidenceScenarios(t *testing.T) map[string]*Report {
	t.Helper()
	out := map[string]*Report{}
	rep, _ := sampleReport(t)
	out["applied root"] = rep

	p, err := Default()
	if err != nil {
		t.Fatal(err)
	}
	empty, err := NewRootTarget(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	out["empty root"] = p.Audit(empty)

	aborted, err := NewRootTarget(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	aborted.Abort = "root integrity verification failed (test)"
	out["aborted root"] = p.Audit(aborted)

	// Live, without the two slow methods (the SUID walk of / and
	// systemd-analyze), which the offline scenarios cover and
	// TestLiveAuditRuns runs live.
	live, err := NewLiveTarget()
	if err != nil {
		t.Fatal(err)
	}
	quick := *p
	quick.Controls = nil
	for _, c := range p.Controls {
		if c.Check != "no-suid" && c.Check != "exposure" {
			quick.Controls = append(quick.Controls, c)
		}
	}
	out["live host"] = quick.Audit(live)
	return out
}

// fallbackEvidence are the check methods whose errors do not yet say where
// they looked (check_net.go); their error evidence is the method and target.
var fallbackEvidence = map[string]bool{"listening": true, "xdp": true}

// TestEveryResultCarriesEvidence: every result of every check method, in
// every status, says what was read and where. Each check method must be
// exercised by at least one scenario, so a new method cannot slip by.
func TestEveryResultCarriesEvidence(t *testing.T) {
	methods := map[string]bool{}
	statuses := map[Status]bool{}
	for name, rep := range evidenceScenarios(t) {
		for _, r := range rep.Results {
			methods[r.Check] = true
			statuses[r.Status] = true
			if len(r.Evidence) == 0 {
				t.Errorf("%s: %s (check %s) is %s without evidence: %s", name, r.Control, r.Check, r.Status, r.Message)
			}
			for _, e := range r.Evidence {
				if strings.TrimSpace(e.Where) == "" || strings.TrimSpace(e.Found) == "" {
					t.Errorf("%s: %s (check %s): evidence without where or found: %+v", name, r.Control, r.Check, e)
				}
				if r.Status == Error && strings.HasPrefix(e.Where, "check "+r.Check+" on ") && !fallbackEvidence[r.Check] {
					t.Errorf("%s: %s (check %s): error evidence does not say where it looked: %+v", name, r.Control, r.Check, e)
				}
			}
		}
	}
	var missing []string
	for m := range checks {
		if !methods[m] {
			missing = append(missing, m)
		}
	}
	sort.Strings(missing)
	if len(missing) > 0 {
		t.Errorf("check methods no scenario exercised: %s", strings.Join(missing, ", "))
	}
	for _, s := range []Status{Pass, Fail, Exception, Error} {
		if !statuses[s] {
			t.Errorf("no scenario produced a %s result", s)
		}
	}
}

// TestErrorEvidenceSaysWhere: a check that could not be made names what it
// looked at; one whose method does not say (here: /proc/net/tcp is a
// directory) still gets the method, the target and the error.
func TestErrorEvidenceSaysWhere(t *testing.T) {
	p, err := Default()
	if err != nil {
		t.Fatal(err)
	}
	tg, err := NewRootTarget(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	res := map[string]Result{}
	for _, r := range p.Audit(tg).Results {
		res[r.Control] = r
	}
	for id, where := range map[string]string{
		"accounts-root-locked":   "/etc/shadow",
		"fs-root-verity":         tg.Name,
		"kconfig-no-bpf-syscall": "/boot/config-*",
	} {
		r := res[id]
		if r.Status != Error || len(r.Evidence) != 1 || !strings.HasPrefix(r.Evidence[0].Where, where) || r.Evidence[0].OK {
			t.Errorf("%s: %s %+v, want an error with evidence at %s", id, r.Status, r.Evidence, where)
		}
	}

	proc := t.TempDir()
	if err := os.MkdirAll(filepath.Join(proc, "net", "tcp"), 0o755); err != nil {
		t.Fatal(err)
	}
	live := &Target{Name: "testhost", Root: "/", Live: true, Proc: proc, Sys: t.TempDir(), Facts: map[string]string{}}
	c := p.Control("net-listening")
	if c == nil {
		t.Fatal("no net-listening control")
	}
	r := p.run(c, live)
	if r.Status != Error || len(r.Evidence) != 1 {
		t.Fatalf("listening on an unreadable /proc/net/tcp: %s %+v", r.Status, r.Evidence)
	}
	if e := r.Evidence[0]; !strings.HasPrefix(e.Where, filepath.Join(proc, "net")) || !strings.Contains(e.Found, "is a directory") {
		t.Errorf("evidence of an unreadable /proc/net: %+v", e)
	}
}
