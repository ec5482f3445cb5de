package update_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/supernode-appliance/appliance/image/update"
)

// transferKeys reads "Key=value" lines of a .transfer file by section
// (continuation lines joined).
func transferKeys(t *testing.T, path string) map[string]string {
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	section := ""
	text := strings.ReplaceAll(string(b), "\\\n", " ")
	for _, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(line)
		switch {
		case line == "" || strings.HasPrefix(line, "#"):
		case strings.HasPrefix(line, "["):
			section = strings.Trim(line, "[]")
		default:
			k, v, _ := strings.Cut(line, "=")
			out[section+"."+k] = strings.Join(strings.Fields(v), " ")
		}
	}
	return out
}

// TestTransfersMatchBundleNames: the sysupdate.d transfers shipped in the
// image take exactly the names the bundle writer makes and the verifier
// accepts, and write them where the image builder puts them.
func TestTransfersMatchBundleNames(t *testing.T) {
	const v, u = "0.1.0-dev+g57793ce.dirty", "0a1b2c3d-0000-4000-8000-000000000001"
	expand := func(p string) string {
		return strings.NewReplacer("@v", v, "@u", u).Replace(p)
	}
	cases := []struct {
		file, source, targetType, target string
	}{
		{"50-supernode-verity.transfer", update.VerityName(v, u), "partition", "supernode_@v"},
		{"60-supernode-root.transfer", update.RootName(v, u), "partition", "supernode_@v"},
		{"70-supernode-uki.transfer", update.UKIName(v), "regular-file", "supernode_@v_uki+@l-@d.efi supernode_@v_uki+@l.efi supernode_@v_uki.efi"},
	}
	for _, c := range cases {
		k := transferKeys(t, filepath.Join("systemd", c.file))
		if got := expand(k["Source.MatchPattern"]); got != c.source {
			t.Errorf("%s: source pattern makes %q, the bundle has %q", c.file, got, c.source)
		}
		for key, want := range map[string]string{"Source.Type": "regular-file", "Source.PathRelativeTo": "explicit",
			"Target.Type": c.targetType, "Target.MatchPattern": c.target, "Transfer.ProtectVersion": "%A"} {
			if k[key] != want {
				t.Errorf("%s: %s=%q, want %q", c.file, key, k[key], want)
			}
		}
	}
	// The version must not contain the separator the patterns split on.
	if strings.Contains(v, "_") {
		t.Fatal("versions never contain _")
	}
}
