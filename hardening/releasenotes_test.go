package hardening

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestReleaseNotesWithoutPrevious(t *testing.T) {
	p, _ := Default()
	var buf bytes.Buffer
	n := &ReleaseNotes{Title: "img 1.2.3", Facts: []string{"root hash: `ab`"}, Profile: p}
	if err := n.WriteMarkdown(&buf); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	for _, s := range []string{"# img 1.2.3\n", "- root hash: `ab`\n", "- hardening profile: supernode-appliance " + p.Version,
		"No previous profile was given", "`previous_profile`"} {
		if !strings.Contains(out, s) {
			t.Errorf("notes lack %q:\n%s", s, out)
		}
	}
	if strings.Contains(out, "### Hardening profile:") {
		t.Errorf("notes without a previous profile show a diff:\n%s", out)
	}
}

// TestReleaseNotesDiff: a previous release's output directory holding its
// published profile; the notes carry exactly the diff --markdown section.
func TestReleaseNotesDiff(t *testing.T) {
	cur, _ := Default()
	src := string(DefaultSource())
	for _, r := range [][2]string{
		{`version = "` + cur.Version + `"`, `version = "0.9.0"`},
		{`settings = { "kernel.kptr_restrict" = "2" }`, `settings = { "kernel.kptr_restrict" = "1" }`},
	} {
		if !strings.Contains(src, r[0]) {
			t.Fatalf("profile.hcl no longer contains %q; update the test", r[0])
		}
		src = strings.Replace(src, r[0], r[1], 1)
	}
	prevDir := t.TempDir()
	if err := os.WriteFile(filepath.Join(prevDir, PublishedProfileFile), []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	prev, sum, err := PreviousProfile(prevDir)
	if err != nil {
		t.Fatal(err)
	}
	if prev.Version != "0.9.0" || len(sum) != 64 {
		t.Fatalf("previous profile %s, sha256 %q", prev.Version, sum)
	}
	var buf bytes.Buffer
	if err := (&ReleaseNotes{Title: "img", Profile: cur, Previous: prev, PreviousSHA256: sum}).WriteMarkdown(&buf); err != nil {
		t.Fatal(err)
	}
	var diff bytes.Buffer
	(&Diff{Profile: DiffProfiles(prev, cur)}).WriteMarkdown(&diff)
	out := buf.String()
	if !strings.HasSuffix(out, diff.String()) || !strings.Contains(out, sum) {
		t.Errorf("notes do not end with the diff section:\n%s\nwant it to end with:\n%s", out, diff.String())
	}
	for _, s := range []string{"### Hardening profile: supernode-appliance 0.9.0 -> supernode-appliance " + cur.Version,
		"- changed `sysctl-kptr-restrict`: setting kernel.kptr_restrict 1 -> 2"} {
		if !strings.Contains(out, s) {
			t.Errorf("notes lack %q:\n%s", s, out)
		}
	}

	// The same profile: said in one line.
	buf.Reset()
	(&ReleaseNotes{Title: "img", Profile: cur, Previous: cur, PreviousSHA256: sum}).WriteMarkdown(&buf)
	if !strings.Contains(buf.String(), "- no control added, removed or changed") {
		t.Errorf("unchanged profile:\n%s", buf.String())
	}
}

func TestPreviousProfileErrors(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.hcl")
	os.WriteFile(bad, []byte("version = \"x\"\n"), 0o644)
	for path, want := range map[string]string{
		filepath.Join(dir, "none.hcl"): "give a profile file or the output directory of a previous build",
		dir:                            "holds no " + PublishedProfileFile,
		bad:                            "previous profile: " + bad,
	} {
		_, _, err := PreviousProfile(path)
		if err == nil || !strings.Contains(err.Error(), want) || strings.Contains(err.Error(), "\n") {
			t.Errorf("%s: %v, want one line with %q", path, err, want)
		}
	}
}
