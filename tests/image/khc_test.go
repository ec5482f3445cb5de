package image_test

import (
	"fmt"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/supernode-appliance/appliance/hardening"
	"github.com/supernode-appliance/appliance/tests/testenv/khc"
)

var sysctlMetric = regexp.MustCompile(`(?m)^appliance_audit_sysctl\{[^}]*name="([a-z0-9_.]+)"[^}]*\} (-?[0-9]+)$`)

// khcLiveSysctls runs kernel-hardening-checker on the booted appliance's
// sysctls, as its live audit exports them through the management listener
// (appliance_audit_sysctl, every sysctl the KSPP catalog names), with the
// hardened kernel's configuration beside them. Every FAIL must be a
// documented exception in the profile, an item the catalog says does not
// apply, or a sysctl the kernel lacks because its feature is compiled out
// (hardening.SysctlFeature, not set in the configuration).
func khcLiveSysctls(t *testing.T, metrics string) {
	t.Helper()
	found := sysctlMetric.FindAllStringSubmatch(metrics, -1)
	if len(found) < 20 {
		t.Errorf("the management scrape has %d appliance_audit_sysctl values; want the KSPP catalog's (~30 on the hardened kernel)", len(found))
		return
	}
	var sysctl strings.Builder
	for _, m := range found {
		fmt.Fprintf(&sysctl, "%s = %s\n", m[1], m[2])
	}
	res := khc.HardenedKernel(t)
	cfgText, err := os.ReadFile(res.Config)
	if err != nil {
		t.Fatal(err)
	}
	cfg := hardening.ParseKernelConfig(cfgText)
	profile, err := hardening.Default()
	if err != nil {
		t.Fatal(err)
	}
	cat, err := hardening.DefaultCatalog()
	if err != nil {
		t.Fatal(err)
	}
	kspp := cat.Reference("kspp")
	var rows []khc.Result
	for _, r := range khc.Run(t, res.Tree, khc.Input{Config: cfgText, Sysctl: sysctl.String()}) {
		if r.Type != "sysctl" {
			continue
		}
		rows = append(rows, r)
		if r.OK {
			continue
		}
		feature := hardening.SysctlFeature(r.Option)
		switch item := kspp.Item("sysctl " + r.Option); {
		case khc.Exception(profile, r) != "":
		case item != nil && item.Status == hardening.NotApplicable:
		case strings.Contains(r.Result, "is not found") && feature != "" && cfg[feature] != "y":
			t.Logf("%s: not in this kernel (%s is not set)", r.Option, feature)
		default:
			t.Errorf("kernel-hardening-checker FAIL on the live sysctl %s (want %s): %s", r.Option, r.Desired, r.Result)
		}
	}
	if len(rows) < 30 {
		t.Errorf("kernel-hardening-checker checked %d sysctls; want its whole list", len(rows))
	}
	t.Logf("kernel-hardening-checker on the live sysctls (%d exported by the live audit): %s", len(found), khc.Counts(rows))
}
