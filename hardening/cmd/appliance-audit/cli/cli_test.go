package cli

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/supernode-appliance/appliance/hardening"
)

func runCLI(args ...string) (int, string, string) {
	var out, errb bytes.Buffer
	code := run(args, &out, &errb)
	return code, out.String(), errb.String()
}

func TestUsageErrors(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.hcl")
	os.WriteFile(bad, []byte("version = \"1.0.0\"\nname = \"x\"\ncontrol \"a-b\" {\n title = \"t\"\n}\n"), 0o644)
	cases := []struct {
		args []string
		code int
		want string
	}{
		{[]string{"--help"}, 0, "Usage:"},
		{nil, 2, "give exactly one of --image PATH or --live"},
		{[]string{"--live", "--image", "x.raw"}, 2, "give exactly one of"},
		{[]string{"--bogus"}, 2, "flag provided but not defined: -bogus; see --help"},
		{[]string{"x.raw"}, 2, "unexpected argument \"x.raw\""},
		{[]string{"--live", "--json", "-", "--sarif", "-"}, 2, "only one report can go to stdout (-)"},
		{[]string{"--live", "--html", "-", "--junit", "-"}, 2, "only one report can go to stdout (-)"},
		{[]string{"--live", "--profile", bad}, 2, "bad.hcl:3"},
		{[]string{"--live", "--profile", filepath.Join(dir, "none.hcl")}, 2, "no such file"},
		// Offline, the expected root hash comes from the operator.
		{[]string{"--image", "x.raw"}, 2, "give exactly one of --manifest manifest.json or --root-hash HEX"},
		{[]string{"--image", "x.raw", "--root-hash", "ab", "--manifest", "m.json"}, 2, "give exactly one of --manifest"},
		{[]string{"--image", "x.raw", "--root-hash", "ab"}, 2, "64 hex digits"},
		{[]string{"--image", "x.raw", "--manifest", filepath.Join(dir, "none.json")}, 2, "manifest"},
		{[]string{"--image", "x.raw", "--root-hash", strings.Repeat("ab", 32), "--cert", bad}, 2, "not an X.509 certificate"},
		{[]string{"--live", "--debug"}, 2, "are for --image"},
		{[]string{"--live", "--root-hash", "ab"}, 2, "are for --image"},
	}
	for _, c := range cases {
		code, out, errs := runCLI(c.args...)
		if code != c.code || !strings.Contains(out+errs, c.want) {
			t.Errorf("%v: exit %d, stdout %q, stderr %q; want %d and %q", c.args, code, out, errs, c.code, c.want)
		}
		if c.code == 2 && strings.Count(strings.TrimSpace(errs), "\n") > 0 {
			t.Errorf("%v: error is more than one line: %q", c.args, errs)
		}
	}
}

func TestPrintProfileRoundTrips(t *testing.T) {
	code, out, _ := runCLI("--print-profile")
	if code != 0 {
		t.Fatal(code)
	}
	p, err := hardening.Parse("printed.hcl", []byte(out))
	if err != nil {
		t.Fatal(err)
	}
	d, _ := hardening.Default()
	if p.Version != d.Version || len(p.Controls) != len(d.Controls) {
		t.Errorf("printed profile %s/%d vs embedded %s/%d", p.Version, len(p.Controls), d.Version, len(d.Controls))
	}
}

// The live audit runs on any host: it writes every report and exits 0 or 1
// depending on what this host really has, never 2.
func TestLiveWritesReports(t *testing.T) {
	dir := t.TempDir()
	code, out, errs := runCLI("--live", "--json", filepath.Join(dir, "r.json"), "--sarif", filepath.Join(dir, "r.sarif"),
		"--junit", filepath.Join(dir, "r.xml"), "--html", filepath.Join(dir, "r.html"), "--metrics", filepath.Join(dir, "r.prom"))
	if code == 2 || !strings.Contains(out, "controls:") {
		t.Fatalf("exit %d: %s %s", code, out, errs)
	}
	for _, f := range []string{"r.json", "r.sarif", "r.xml", "r.html", "r.prom"} {
		if fi, err := os.Stat(filepath.Join(dir, f)); err != nil || fi.Size() == 0 {
			t.Errorf("%s not written", f)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "r.json.tmp")); err == nil {
		t.Error("temporary file left")
	}
	// The html subcommand makes the same page from the JSON report.
	code, page, errs := runCLI("html", "--report", filepath.Join(dir, "r.json"))
	direct, _ := os.ReadFile(filepath.Join(dir, "r.html"))
	if code != 0 || page != string(direct) {
		t.Errorf("html --report: exit %d, %d bytes (--html wrote %d): %s", code, len(page), len(direct), errs)
	}
	if code, _, errs := runCLI("html"); code != 2 || !strings.Contains(errs, "give the audit's JSON report with --report FILE") {
		t.Errorf("html without --report: exit %d %q", code, errs)
	}
}
