package builder

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/supernode-appliance/appliance/hardening"
)

// TestReleaseNotes: the output carries RELEASE-NOTES.md and the profile
// applied, both in SHA256SUMS and vouched for by the signature
// (VerifyOutput, as `appliance verify` runs it); without previous_profile
// the notes say so, with the previous release's output directory they
// carry the profile diff.
func TestReleaseNotes(t *testing.T) {
	keys := t.TempDir()
	priv, pub := testKey(t, keys, "operator")
	pubKey, _ := os.ReadFile(pub)

	first := buildOutput(t, priv)
	if r := VerifyOutput(first, pubKey); !r.OK() {
		t.Fatalf("output with release notes does not verify: %q", r.Problems)
	}
	sums, _ := os.ReadFile(filepath.Join(first, SumsFile))
	for _, f := range []string{ReleaseNotesFile, hardening.PublishedProfileFile} {
		if !strings.Contains(string(sums), "  "+f+"\n") {
			t.Errorf("%s not in %s:\n%s", f, SumsFile, sums)
		}
	}
	prof, _ := os.ReadFile(filepath.Join(first, hardening.PublishedProfileFile))
	if string(prof) != string(hardening.DefaultSource()) {
		t.Error("the published profile is not the one applied")
	}
	notes, _ := os.ReadFile(filepath.Join(first, ReleaseNotesFile))
	for _, s := range []string{"# img (builder ", "dm-verity root hash: `" + strings.Repeat("0123456789abcdef", 4) + "`",
		"No previous profile was given"} {
		if !strings.Contains(string(notes), s) {
			t.Errorf("notes lack %q:\n%s", s, notes)
		}
	}

	// The previous release had kptr_restrict=1 under profile 0.9.0.
	prevDir := t.TempDir()
	cur, _ := hardening.Default()
	old := strings.Replace(strings.Replace(string(hardening.DefaultSource()), `version = "`+cur.Version+`"`, `version = "0.9.0"`, 1),
		`settings = { "kernel.kptr_restrict" = "2" }`, `settings = { "kernel.kptr_restrict" = "1" }`, 1)
	if err := os.WriteFile(filepath.Join(prevDir, hardening.PublishedProfileFile), []byte(old), 0o644); err != nil {
		t.Fatal(err)
	}
	second := buildOutputWith(t, priv, prevDir)
	if r := VerifyOutput(second, pubKey); !r.OK() {
		t.Fatalf("output with a diff in its notes does not verify: %q", r.Problems)
	}
	notes, _ = os.ReadFile(filepath.Join(second, ReleaseNotesFile))
	for _, s := range []string{"### Hardening profile: supernode-appliance 0.9.0 -> supernode-appliance " + cur.Version,
		"- changed `sysctl-kptr-restrict`: setting kernel.kptr_restrict 1 -> 2"} {
		if !strings.Contains(string(notes), s) {
			t.Errorf("notes lack %q:\n%s", s, notes)
		}
	}

	// A changed notes file is caught like any other artifact.
	os.WriteFile(filepath.Join(second, ReleaseNotesFile), append(notes, "- nothing changed, honest\n"...), 0o644)
	if r := VerifyOutput(second, pubKey); r.OK() {
		t.Error("edited release notes verify")
	}
}
