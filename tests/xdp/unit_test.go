package xdp

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/supernode-appliance/appliance/tests/testenv"
)

func unitPath(t *testing.T) string {
	return filepath.Join(testenv.RepoRoot(t), "ebpf", "systemd", "supernode-xdp.service")
}

// TestUnitCapabilities ties the unit file to the capability set the
// privilege tests prove sufficient and necessary.
func TestUnitCapabilities(t *testing.T) {
	b, err := os.ReadFile(unitPath(t))
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	for _, c := range unitCaps {
		want = append(want, "CAP_"+strings.ToUpper(c))
	}
	for _, key := range []string{"CapabilityBoundingSet", "AmbientCapabilities"} {
		m := regexp.MustCompile(`(?m)^` + key + `=(.*)$`).FindStringSubmatch(string(b))
		if m == nil {
			t.Fatalf("unit has no %s=", key)
		}
		got := strings.Fields(m[1])
		slices.Sort(got)
		w := slices.Clone(want)
		slices.Sort(w)
		if !slices.Equal(got, w) {
			t.Errorf("unit %s=%v, the tests prove %v", key, got, w)
		}
	}
}

// TestUnitExposure checks the unit's `systemd-analyze security` score
// (offline, from the file) against the target of 2.0.
func TestUnitExposure(t *testing.T) {
	testenv.RequireCommands(t, "systemd-analyze")
	// systemd-analyze names the unit after the file, so copy it as is.
	dir := t.TempDir()
	b, err := os.ReadFile(unitPath(t))
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "supernode-xdp.service")
	writeFile(t, path, string(b))
	out, _ := exec.Command("systemd-analyze", "security", "--offline=yes", "--no-pager", path).CombinedOutput()
	m := regexp.MustCompile(`Overall exposure level for supernode-xdp.service: ([0-9.]+)`).FindSubmatch(out)
	if m == nil {
		t.Fatalf("no exposure level in systemd-analyze output:\n%s", out)
	}
	score, _ := strconv.ParseFloat(string(m[1]), 64)
	if score > 2.0 {
		t.Errorf("exposure %.1f, target <= 2.0:\n%s", score, out)
	}
	t.Logf("systemd-analyze security exposure: %.1f", score)
}
