package version

import (
	"os/exec"
	"regexp"
	"strings"
	"testing"
)

func TestParts(t *testing.T) {
	for in, want := range map[string][3]string{
		"1.2.3":                    {"1.2.3", "", ""},
		"0.1.0-dev+gc5bffc9.dirty": {"0.1.0", "dev", "gc5bffc9.dirty"},
		"1.2.4-dev+3.gabc":         {"1.2.4", "dev", "3.gabc"},
		"1.2.3-test":               {"1.2.3", "test", ""},
	} {
		c, p, m := Parts(in)
		if [3]string{c, p, m} != want {
			t.Errorf("Parts(%q) = %q %q %q, want %v", in, c, p, m, want)
		}
	}
}

// version.sh prints a version Packer accepts for a plugin: X.Y.Z, or
// X.Y.Z-dev with build metadata.
func TestVersionScript(t *testing.T) {
	out, err := exec.Command("sh", "version.sh").Output()
	if err != nil {
		t.Fatal(err)
	}
	v := strings.TrimSpace(string(out))
	if !regexp.MustCompile(`^[0-9]+\.[0-9]+\.[0-9]+(-dev(\+[0-9A-Za-z.]+)?)?$`).MatchString(v) {
		t.Fatalf("version.sh printed %q", v)
	}
}
