package confpart

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/supernode-appliance/appliance/image/credstore"
)

func unitLines(t *testing.T, key string) []string {
	t.Helper()
	b, err := os.ReadFile("systemd/appliance-config.service")
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, key+"="); ok {
			out = append(out, v)
		}
	}
	return out
}

// TestUnitMatchesCode: the unit waits for the mount the code reads, may
// write only the store the code writes and keeps the last good copy where
// the code looks for it; and it runs before every daemon that reads
// credentials.
func TestUnitMatchesCode(t *testing.T) {
	if got := unitLines(t, "WantsMountsFor"); len(got) != 1 || got[0] != DefaultMountDir {
		t.Errorf("WantsMountsFor=%q, want %s", got, DefaultMountDir)
	}
	if got := unitLines(t, "ReadWritePaths"); len(got) != 1 || got[0] != credstore.DefaultCredStore {
		t.Errorf("ReadWritePaths=%q, want %s", got, credstore.DefaultCredStore)
	}
	if got := unitLines(t, "StateDirectory"); len(got) != 1 || "/var/lib/"+got[0] != filepath.Dir(DefaultLastGood) {
		t.Errorf("StateDirectory=%q, want the directory of %s", got, DefaultLastGood)
	}
	before := strings.Join(unitLines(t, "Before"), " ")
	for _, u := range []string{"supernode-xdp.service", "supernode.service", "appliance-imds.service"} {
		if !strings.Contains(" "+before+" ", " "+u+" ") {
			t.Errorf("Before= lacks %s", u)
		}
	}
	if got := unitLines(t, "CapabilityBoundingSet"); len(got) != 1 || got[0] != "" {
		t.Errorf("CapabilityBoundingSet=%q, want empty", got)
	}
}
