package hardening

import (
	"bytes"
	"context"
	"regexp"
	"strings"
	"testing"

	"github.com/supernode-appliance/appliance/tests/testenv"
)

// editedProfile is the embedded profile with one of each kind of change:
// a setting and a severity changed, a reference added, a control removed
// and one added, an exception added, the version bumped.
func editedProfile(t *testing.T) *Profile {
	t.Helper()
	src := string(DefaultSource())
	cur, _ := Default()
	for _, r := range []struct{ old, new string }{
		{`version = "` + cur.Version + `"`, `version = "99.0.0"`},
		{`settings = { "kernel.kptr_restrict" = "2" }`, `settings = { "kernel.kptr_restrict" = "1" }`},
		{"  severity  = \"medium\"\n  references {\n    kspp = [\"sysctl kernel.kptr_restrict=2\"]", "  severity  = \"high\"\n  references {\n    kspp = [\"sysctl kernel.kptr_restrict=2\"]\n    other = [\"new ref\"]"},
		{"  settings = { \"kernel.sysrq\" = \"0\" }\n}", "  settings = { \"kernel.sysrq\" = \"0\" }\n  exception {\n    justification = \"console debugging\"\n  }\n}\n\ncontrol \"sysctl-new\" {\n  title = \"New\"\n  rationale = \"r\"\n  severity = \"low\"\n  references {\n    other = [\"x\"]\n  }\n  apply = \"sysctl\"\n  check = \"sysctl\"\n  settings = { \"vm.mmap_min_addr\" = \"65536\" }\n}"},
	} {
		if !strings.Contains(src, r.old) {
			t.Fatalf("profile.hcl no longer contains %q; update the test", r.old)
		}
		src = strings.Replace(src, r.old, r.new, 1)
	}
	// Remove cmdline-tsx-off.
	src = regexp.MustCompile(`(?s)control "cmdline-tsx-off" \{.*?\n\}\n`).ReplaceAllString(src, "")
	p, err := Parse("edited.hcl", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestDiffProfiles(t *testing.T) {
	old, _ := Default()
	if d := DiffProfiles(old, old); !d.Empty() {
		t.Errorf("a profile differs from itself: %+v", d)
	}
	d := DiffProfiles(old, editedProfile(t))
	if len(d.Added) != 1 || d.Added[0].ID != "sysctl-new" {
		t.Errorf("added %+v", d.Added)
	}
	if len(d.Removed) != 1 || d.Removed[0].ID != "cmdline-tsx-off" {
		t.Errorf("removed %+v", d.Removed)
	}
	changed := map[string][]FieldChange{}
	for _, c := range d.Changed {
		changed[c.ID] = c.Changes
	}
	if len(changed) != 2 {
		t.Errorf("changed %+v, want sysctl-kptr-restrict and sysctl-sysrq", d.Changed)
	}
	want := []FieldChange{{"severity", "medium", "high"}, {"setting kernel.kptr_restrict", "2", "1"}, {"references", "", "new ref"}}
	if got := changed["sysctl-kptr-restrict"]; len(got) != len(want) {
		t.Errorf("kptr changes %+v, want %+v", got, want)
	} else {
		for i := range want {
			if got[i] != want[i] {
				t.Errorf("kptr change %d: %+v, want %+v", i, got[i], want[i])
			}
		}
	}
	if got := changed["sysctl-sysrq"]; len(got) != 1 || got[0].Field != "exception" || got[0].Old != "" {
		t.Errorf("sysrq changes %+v", got)
	}
	var md bytes.Buffer
	(&Diff{Profile: d}).WriteMarkdown(&md)
	for _, s := range []string{"### Hardening profile: supernode-appliance " + old.Version + " -> supernode-appliance 99.0.0",
		"- added `sysctl-new` [low] New", "- removed `cmdline-tsx-off`",
		"- changed `sysctl-kptr-restrict`: severity medium -> high; setting kernel.kptr_restrict 2 -> 1; references added new ref"} {
		if !strings.Contains(md.String(), s) {
			t.Errorf("markdown lacks %q:\n%s", s, md.String())
		}
	}
}

func TestDiffReports(t *testing.T) {
	old, _ := sampleReport(t)
	if d := DiffReports(old, old); !d.Empty() {
		t.Errorf("a report differs from itself: %+v", d)
	}
	// The new run: one pass turns into a fail, one control is gone, one is
	// new, one severity changes, a fact changes.
	nr := *old
	nr.Results = append([]Result(nil), old.Results...)
	nr.Facts = map[string]string{"root_hash": "new"}
	var passIdx []int
	for i, r := range nr.Results {
		if r.Status == Pass {
			passIdx = append(passIdx, i)
		}
	}
	regressed, sev := nr.Results[passIdx[0]].Control, nr.Results[passIdx[1]].Control
	nr.Results[passIdx[0]].Status = Fail
	nr.Results[passIdx[0]].Message = "found 0"
	nr.Results[passIdx[1]].Severity = "critical"
	gone := nr.Results[passIdx[2]].Control
	nr.Results = append(nr.Results[:passIdx[2]], nr.Results[passIdx[2]+1:]...)
	nr.Results = append(nr.Results, Result{Control: "brand-new", Status: Pass, Severity: "low"})
	d := DiffReports(old, &nr)
	if len(d.Changed) != 4 {
		t.Fatalf("changes %+v", d.Changed)
	}
	if c := d.Changed[0]; c.Control != regressed || c.OldStatus != Pass || c.NewStatus != Fail {
		t.Errorf("the regression is not first: %+v", c)
	}
	byID := map[string]ResultChange{}
	for _, c := range d.Changed {
		byID[c.Control] = c
	}
	if c := byID[sev]; c.NewSeverity != "critical" || c.OldStatus != c.NewStatus {
		t.Errorf("severity change %+v", c)
	}
	if c := byID[gone]; c.NewStatus != "" {
		t.Errorf("removed control %+v", c)
	}
	if c := byID["brand-new"]; c.OldStatus != "" || c.NewStatus != Pass {
		t.Errorf("new control %+v", c)
	}
	var txt bytes.Buffer
	(&Diff{Results: d}).WriteText(&txt)
	for _, s := range []string{regressed + " pass -> fail: found 0", gone + " no longer checked", "brand-new new control", "root_hash"} {
		if !strings.Contains(txt.String(), s) {
			t.Errorf("text lacks %q:\n%s", s, txt.String())
		}
	}
}

// Two synthetic images built with the real tools: the second carries dpkg,
// so sw-no-package-manager regresses and the root hash changes.
func TestDiffImages(t *testing.T) {
	ownTemp(t)
	testenv.RequireRoot(t)
	root, p := appliedRoot(t)
	oldImg, oldOpts := buildTestImage(t, root, p)
	if err := writeAt(root, "/usr/bin/dpkg", "binary"); err != nil {
		t.Fatal(err)
	}
	newImg, newOpts := buildTestImage(t, root, p)
	d, err := DiffImages(context.Background(), p, oldImg, oldOpts, newImg, newOpts)
	if err != nil {
		t.Fatal(err)
	}
	if d.Results == nil || len(d.Results.Changed) != 1 {
		t.Fatalf("changes %+v", d.Results)
	}
	if c := d.Results.Changed[0]; c.Control != "sw-no-package-manager" || c.OldStatus != Pass || c.NewStatus != Fail {
		t.Errorf("change %+v", c)
	}
	if msg := leftovers(t, oldImg) + leftovers(t, newImg); msg != "" {
		t.Errorf("left behind: %s", msg)
	}
}
