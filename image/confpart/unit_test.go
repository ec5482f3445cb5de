package confpart

import (
	"github.com/supernode-appliance/appliance/tests/testenv"
	"path/filepath"
	"strings"
	"testing"

	"github.com/supernode-appliance/appliance/image/credstore"
)

// TestUnitMatchesCode: the unit waits for the mount the code reads, may
// write only the store the code writes and keeps the last good copy where
// the code looks for it; and it runs before every daemon that reads
// credentials.
func TestUnitMatchesCode(t *testing.T) {
	if got := testenv.UnitLines(t, "systemd/appliance-config.service", "WantsMountsFor"); len(got) != 1 || got[0] != DefaultMountDir {
		t.Errorf("WantsMountsFor=%q, want %s", got, DefaultMountDir)
	}
	if got := testenv.UnitLines(t, "systemd/appliance-config.service", "ReadWritePaths"); len(got) != 1 || got[0] != credstore.DefaultCredStore {
		t.Errorf("ReadWritePaths=%q, want %s", got, credstore.DefaultCredStore)
	}
	if got := testenv.UnitLines(t, "systemd/appliance-config.service", "StateDirectory"); len(got) != 1 || "/var/lib/"+got[0] != filepath.Dir(DefaultLastGood) {
		t.Errorf("StateDirectory=%q, want the directory of %s", got, DefaultLastGood)
	}
	before := strings.Join(testenv.UnitLines(t, "systemd/appliance-config.service", "Before"), " ")
	for _, u := range []string{"supernode-xdp.service", "supernode.service", "appliance-imds.service"} {
		if !strings.Contains(" "+before+" ", " "+u+" ") {
			t.Errorf("Before= lacks %s", u)
		}
	}
	if got := testenv.UnitLines(t, "systemd/appliance-config.service", "CapabilityBoundingSet"); len(got) != 1 || got[0] != "" {
		t.Errorf("CapabilityBoundingSet=%q, want empty", got)
	}
}
