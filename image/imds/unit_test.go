package imds

import (
	"fmt"
	"github.com/supernode-appliance/appliance/tests/testenv"
	"os"
	"strings"
	"testing"
)

// TestUnitConditionsMatchDetection: systemd skips the unit exactly where
// Detect would say None; one table, two readers.
func TestUnitConditionsMatchDetection(t *testing.T) {
	var want []string
	for _, s := range signatures {
		want = append(want, fmt.Sprintf("|smbios-field(%s = %q)", s.Field, s.Value))
	}
	got := testenv.UnitLines(t, "systemd/"+"appliance-imds.service", "ConditionFirmware")
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("appliance-imds.service ConditionFirmware=\n%s\nwant (from detect.go)\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// TestUnitPathsMatchCode: the paths the unit opens for writing and the
// address it allows are the ones the code uses.
func TestUnitPathsMatchCode(t *testing.T) {
	if got := testenv.UnitLines(t, "systemd/"+"appliance-imds.service", "ReadWritePaths"); len(got) != 1 || got[0] != DefaultCredStore {
		t.Errorf("ReadWritePaths=%q, want %s", got, DefaultCredStore)
	}
	if got := testenv.UnitLines(t, "systemd/"+"appliance-imds.service", "IPAddressAllow"); len(got) != 1 || "http://"+got[0] != DefaultBaseURL {
		t.Errorf("IPAddressAllow=%q, want the host of %s", got, DefaultBaseURL)
	}
	b, _ := os.ReadFile("systemd/appliance-imds.tmpfiles.conf")
	if !strings.Contains(string(b), "\nd "+DefaultCredStore+" 0700 root root -\n") {
		t.Errorf("appliance-imds.tmpfiles.conf does not create %s 0700 root", DefaultCredStore)
	}
	rt := testenv.UnitLines(t, "systemd/"+"appliance-imds.service", "RuntimeDirectory")
	cond := testenv.UnitLines(t, "systemd/"+"appliance-imds-restart@.service", "ConditionPathExists")
	if len(rt) != 1 || len(cond) != 1 || "/run/"+rt[0] != DefaultStateDir || cond[0] != DefaultStateDir+"/%i.imported" {
		t.Errorf("restart condition %q does not name the RuntimeDirectory %q", cond, rt)
	}
}

// TestCheckNameRefusesEarlyCredentials: network.* is on the allowlist but
// read before the metadata service answers, so user data may not carry it.
func TestCheckNameRefusesEarlyCredentials(t *testing.T) {
	allow := []string{"supernode.*", "network.network.*"}
	if err := CheckName("network.network.50-static", allow); err == nil || !strings.Contains(err.Error(), "SMBIOS or fw_cfg") {
		t.Errorf("network.network.* from user data: %v", err)
	}
	if err := CheckName("supernode.software", allow); err != nil {
		t.Error(err)
	}
}
