package version

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestOneVersionEverywhere builds every command with `make build
// VERSION=1.2.3-test` and checks that each one's --version prints exactly
// that, and that the Packer plugin's describe reports it too. The image's
// manifest, SBOM and os-release take builder.Version, which is this
// package's Version (tests/image checks the manifest of a real build).
func TestOneVersionEverywhere(t *testing.T) {
	if testing.Short() {
		t.Skip("builds every binary; skipped with -short")
	}
	const want = "1.2.3-test"
	bin := t.TempDir()
	cmd := exec.Command("make", "-s", "build", "BIN="+bin, "VERSION="+want)
	cmd.Dir = "../.."
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("make build: %v\n%s", err, out)
	}
	entries, err := os.ReadDir(bin)
	if err != nil || len(entries) < 6 {
		t.Fatalf("make build made %d binaries: %v", len(entries), err)
	}
	for _, e := range entries {
		out, err := exec.Command(filepath.Join(bin, e.Name()), "--version").Output()
		if got := strings.TrimSpace(string(out)); err != nil || got != e.Name()+" "+want {
			t.Errorf("%s --version: %q (%v), want %q", e.Name(), got, err, e.Name()+" "+want)
		}
	}
	out, err := exec.Command(filepath.Join(bin, "packer-plugin-supernode"), "describe").Output()
	var d struct{ Version string }
	if err != nil || json.Unmarshal(out, &d) != nil || d.Version != want {
		t.Errorf("plugin describe: %s (%v), want version %q", out, err, want)
	}
}
