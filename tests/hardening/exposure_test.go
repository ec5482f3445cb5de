package hardening_test

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/supernode-appliance/appliance/hardening"
)

var exposureRE = regexp.MustCompile(`Overall exposure level for \S+: ([0-9.]+)`)

// TestSystemdAnalyzeExposure scores every enabled service of the image with
// systemd-analyze 257 (the trixie tools tree, not the host's systemd) and
// compares it with the threshold the profile declares for it.
func TestSystemdAnalyzeExposure(t *testing.T) {
	dir := defaultImage(t)
	tree := toolsTree(t)
	p, err := hardening.Default()
	if err != nil {
		t.Fatal(err)
	}
	// Every control checked by exposure declares thresholds for its units.
	thresholds := map[string]string{}
	for _, c := range p.Controls {
		if c.Check == "exposure" {
			for u, v := range c.Settings {
				thresholds[u] = v
			}
		}
	}
	expect, err := hardening.ManifestExpectations(filepath.Join(dir, "manifest.json"))
	if err != nil {
		t.Fatal(err)
	}
	img, err := hardening.OpenImage(context.Background(), filepath.Join(dir, "supernode-appliance.raw"), expect)
	if err != nil {
		t.Fatal(err)
	}
	defer img.Close()
	root := img.Target.Root
	if root == "" {
		t.Fatalf("image root not verified: %s", img.Target.Abort)
	}
	// The tools tree runner creates the bind mount point inside the tree;
	// remove the empty skeleton once the namespace is gone.
	t.Cleanup(func() {
		os.Remove(filepath.Join(tree, root))
		os.Remove(filepath.Join(tree, filepath.Dir(root)))
	})
	run := func(args ...string) string {
		out, _ := toolsRun(t, tree, []string{root}, args...)
		return out
	}
	list := run("systemctl", "--root="+root, "list-unit-files", "--state=enabled", "--type=service", "--no-legend", "--no-pager")
	var units []string
	for _, line := range strings.Split(list, "\n") {
		if f := strings.Fields(line); len(f) > 0 {
			units = append(units, instances(root, f[0])...)
		}
	}
	if len(units) == 0 {
		t.Fatalf("no enabled services found: %q", list)
	}
	for _, u := range []string{"supernode.service", "supernode-xdp.service"} {
		if !contains(units, u) {
			t.Errorf("%s is not enabled in the image", u)
		}
	}
	for _, u := range units {
		out := run("systemd-analyze", "security", "--offline=yes", "--root="+root, "--no-pager", u)
		m := exposureRE.FindStringSubmatch(out)
		if m == nil {
			t.Errorf("%s: no exposure score in: %s", u, lastLines(out, 3))
			continue
		}
		score, _ := strconv.ParseFloat(m[1], 64)
		limit, ok := thresholds[u]
		if !ok {
			t.Errorf("%s scores %.1f but svc-exposure declares no threshold for it", u, score)
			continue
		}
		max, _ := strconv.ParseFloat(limit, 64)
		t.Logf("systemd-analyze 257: %-40s %.1f (threshold %s)", u, score, limit)
		if score > max {
			t.Errorf("%s: exposure %.1f above its threshold %s", u, score, limit)
		}
	}
}

// instances turns an enabled template (foo@.service) into the instances the
// image enables (links named foo@bar.service in *.wants directories).
func instances(root, unit string) []string {
	if !strings.HasSuffix(unit, "@.service") {
		return []string{unit}
	}
	prefix := strings.TrimSuffix(unit, ".service")
	m, _ := filepath.Glob(filepath.Join(root, "etc/systemd/system/*.wants", prefix+"*.service"))
	seen := map[string]bool{}
	var out []string
	for _, p := range m {
		if n := filepath.Base(p); !seen[n] {
			seen[n] = true
			out = append(out, n)
		}
	}
	return out
}

func contains(s []string, x string) bool {
	for _, v := range s {
		if v == x {
			return true
		}
	}
	return false
}
