package cli

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/supernode-appliance/appliance/hardening"
)

func TestCoverageCommand(t *testing.T) {
	code, out, errs := runCLI("coverage")
	if code != 0 || !strings.Contains(out, "CIS Debian Linux 12") || !strings.Contains(out, "Open in") {
		t.Fatalf("exit %d: %s %s", code, out, errs)
	}
	code, out, _ = runCLI("coverage", "--markdown")
	if code != 0 || !strings.HasPrefix(out, "| reference |") {
		t.Errorf("markdown: exit %d: %s", code, out)
	}
	if code, _, errs := runCLI("coverage", "--bogus"); code != 2 || !strings.Contains(errs, "see --help") {
		t.Errorf("bad flag: exit %d: %s", code, errs)
	}
}

func TestOSCALCommand(t *testing.T) {
	dir := t.TempDir()
	code, out, errs := runCLI("oscal", "component-definition")
	if code != 0 || !strings.Contains(out, `"component-definition"`) {
		t.Fatalf("exit %d: %.200s %s", code, out, errs)
	}
	// A small report as --json writes it, converted.
	rep := filepath.Join(dir, "r.json")
	writeReport(t, rep, hardening.Pass)
	ar := filepath.Join(dir, "ar.json")
	if code, _, errs := runCLI("oscal", "assessment-results", "--report", rep, "-o", ar); code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	if b, err := os.ReadFile(ar); err != nil || !strings.Contains(string(b), `"assessment-results"`) {
		t.Errorf("assessment results not written: %v", err)
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"oscal"}, "say component-definition or assessment-results"},
		{[]string{"oscal", "assessment-results"}, "--report FILE"},
		{[]string{"oscal", "assessment-results", "--report", filepath.Join(dir, "none.json")}, "no such file"},
		{[]string{"oscal", "assessment-results", "--report", ar}, "not an appliance-audit JSON report"},
	} {
		if code, _, errs := runCLI(c.args...); code != 2 || !strings.Contains(errs, c.want) {
			t.Errorf("%v: exit %d, %q; want 2 and %q", c.args, code, errs, c.want)
		}
	}
}

func writeReport(t *testing.T, path string, status hardening.Status) {
	t.Helper()
	r := &hardening.Report{Tool: "appliance-audit", Profile: "supernode-appliance", ProfileVersion: "1.0.0", Mode: "image",
		Target: "x.raw", Started: time.Date(2026, 12, 4, 5, 0, 0, 0, time.UTC), Duration: "1s",
		Counts: map[hardening.Status]int{status: 1},
		Results: []hardening.Result{{Control: "sysctl-aslr", Title: "ASLR", Severity: "medium", Check: "sysctl", Status: status,
			Message: "1 item(s) as expected", Evidence: []hardening.Evidence{{Where: "/etc/sysctl.d/x.conf:1", Found: "2", Expected: "2", OK: status == hardening.Pass}}}}}
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := r.WriteJSON(f); err != nil {
		t.Fatal(err)
	}
}

func TestDiffCommand(t *testing.T) {
	dir := t.TempDir()
	old, niu := filepath.Join(dir, "old.json"), filepath.Join(dir, "new.json")
	writeReport(t, old, hardening.Pass)
	writeReport(t, niu, hardening.Fail)
	code, out, errs := runCLI("diff", old, niu)
	if code != 1 || !strings.Contains(out, "sysctl-aslr pass -> fail") {
		t.Errorf("reports: exit %d: %s %s", code, out, errs)
	}
	if code, out, _ := runCLI("diff", old, old); code != 0 || !strings.Contains(out, "No change") {
		t.Errorf("same report: exit %d: %s", code, out)
	}
	// Two profiles: the embedded one and a copy with a severity raised.
	src := string(hardening.DefaultSource())
	p1, p2 := filepath.Join(dir, "a.hcl"), filepath.Join(dir, "b.hcl")
	os.WriteFile(p1, []byte(src), 0o644)
	os.WriteFile(p2, []byte(strings.Replace(src, "severity  = \"low\"", "severity  = \"high\"", 1)), 0o644)
	code, out, errs = runCLI("diff", "--markdown", "--json", filepath.Join(dir, "d.json"), p1, p2)
	if code != 1 || !strings.Contains(out, "### Hardening profile") || !strings.Contains(out, "severity low -> high") {
		t.Errorf("profiles: exit %d: %s %s", code, out, errs)
	}
	if _, err := os.Stat(filepath.Join(dir, "d.json")); err != nil {
		t.Error(err)
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"diff", old}, "give two profiles"},
		{[]string{"diff", old, p1}, "compare like with like"},
		{[]string{"diff", p1, filepath.Join(dir, "none.hcl")}, "no such file"},
	} {
		if code, _, errs := runCLI(c.args...); code != 2 || !strings.Contains(errs, c.want) {
			t.Errorf("%v: exit %d, %q; want 2 and %q", c.args, code, errs, c.want)
		}
	}
}

func TestAttestAndVerifyCommands(t *testing.T) {
	if _, err := exec.LookPath("openssl"); err != nil {
		t.Skip("openssl not installed")
	}
	dir := t.TempDir()
	key, pub := filepath.Join(dir, "op.key"), filepath.Join(dir, "op.pub")
	for _, args := range [][]string{{"genpkey", "-algorithm", "ed25519", "-out", key}, {"pkey", "-in", key, "-pubout", "-out", pub}} {
		if out, err := exec.Command("openssl", args...).CombinedOutput(); err != nil {
			t.Fatalf("openssl %v: %v %s", args, err, out)
		}
	}
	img := filepath.Join(dir, "x.raw")
	os.WriteFile(img, []byte("an image"), 0o644)
	rep := filepath.Join(dir, "r.json")
	writeReport(t, rep, hardening.Pass)
	st := filepath.Join(dir, "r.intoto.json")
	if code, _, errs := runCLI("attest", "--report", rep, "--key", key, "--image", img, "-o", st); code != 0 {
		t.Fatalf("attest: exit %d: %s", code, errs)
	}
	code, out, errs := runCLI("verify", "--pub", pub, "--image", img, "--require-pass", st)
	if code != 0 || !strings.Contains(out, "verified: x.raw sha256:") || !strings.Contains(out, "PASSED") {
		t.Errorf("verify: exit %d: %s %s", code, out, errs)
	}
	// Another image, another key, a failed audit with --require-pass: refused.
	other := filepath.Join(dir, "y.raw")
	os.WriteFile(other, []byte("another image"), 0o644)
	if code, _, errs := runCLI("verify", "--pub", pub, "--image", other, st); code != 1 || !strings.Contains(errs, "but") {
		t.Errorf("other image: exit %d: %s", code, errs)
	}
	key2, pub2 := filepath.Join(dir, "k2"), filepath.Join(dir, "p2")
	exec.Command("openssl", "genpkey", "-algorithm", "ed25519", "-out", key2).Run()
	exec.Command("openssl", "pkey", "-in", key2, "-pubout", "-out", pub2).Run()
	if code, _, errs := runCLI("verify", "--pub", pub2, st); code != 1 || !strings.Contains(errs, "no valid signature") {
		t.Errorf("other key: exit %d: %s", code, errs)
	}
	writeReport(t, rep, hardening.Fail)
	runCLI("attest", "--report", rep, "--key", key, "--image-sha256", strings.Repeat("ab", 32), "-o", st)
	if code, _, errs := runCLI("verify", "--pub", pub, "--require-pass", st); code != 1 || !strings.Contains(errs, "FAILED") {
		t.Errorf("failed audit: exit %d: %s", code, errs)
	}
	if code, _, errs := runCLI("attest", "--report", rep); code != 2 || !strings.Contains(errs, "give --report, --key") {
		t.Errorf("usage: exit %d: %s", code, errs)
	}
}
