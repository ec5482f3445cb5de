package kernel

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/supernode-appliance/appliance/hardening"
	"github.com/supernode-appliance/appliance/tests/testenv"
	"github.com/supernode-appliance/appliance/tests/testenv/khc"
)

// cloudLines turn the default template (the hardened flavour) into the
// cloud flavour, Debian's kernel: the peer the KHC counts are set beside,
// and the flavour TestXDPFilterLoadsOnApplianceKernel checks.
const cloudLines = "\n  kernel_flavour = \"cloud\"\n"

func hardenedImage(t *testing.T) string {
	t.Helper()
	testenv.RequireCommands(t, "qemu-system-x86_64", "qemu-img")
	return testenv.Image(t) // the default flavour
}

// TestKernelHardeningChecker opens the hardened image the way an auditor
// does (verity verified before anything is read), audits it offline with
// the default profile (no failure, no error: the boot without initrd, the
// signed command line with its verity table, the kernel config's
// exceptions), and runs kernel-hardening-checker (KHC, from
// trixie-backports, in the kernel's build tree) on the kernel configuration
// inside the image and the UKI's command line. Every KHC FAIL must be a
// documented exception in the hardening profile: a control whose settings
// name the option, with an exception block giving the reason. The default
// image's stock kernel is checked beside it, for BENCHMARKS.md.
func TestKernelHardeningChecker(t *testing.T) {
	t.Parallel()
	dir := hardenedImage(t)
	// The image build put the kernel in the cache: this is a cache hit.
	res := khc.HardenedKernel(t)
	if !res.Cached {
		t.Errorf("the hardened kernel was compiled again: the image build did not leave it in the cache %s", res.Dir)
	}
	profile, err := hardening.Default()
	if err != nil {
		t.Fatal(err)
	}
	hardenedCfg, hardenedCmdline, rep := imageKernel(t, dir, profile)
	for _, r := range rep.Results {
		if r.Status == hardening.Fail || r.Status == hardening.Error {
			t.Errorf("offline audit of the hardened image: %s %s: %s %+v", r.Status, r.Control, r.Message, r.Evidence)
		}
	}
	t.Logf("offline audit of the hardened image: %d pass, %d fail, %d exception, %d error",
		rep.Counts[hardening.Pass], rep.Counts[hardening.Fail], rep.Counts[hardening.Exception], rep.Counts[hardening.Error])
	if want, _ := os.ReadFile(res.Config); string(want) != string(hardenedCfg) {
		t.Errorf("the kernel configuration in the image is not the cached build's %s", res.Config)
	}
	rows := khc.Run(t, res.Tree, khc.Input{Config: hardenedCfg, Cmdline: hardenedCmdline})
	if len(rows) < 100 {
		t.Fatalf("kernel-hardening-checker checked only %d options", len(rows))
	}
	var unexplained []string
	for _, r := range rows {
		if !r.OK && khc.Exception(profile, r) == "" {
			unexplained = append(unexplained, fmt.Sprintf("%s %s (want %s): %s", r.Type, r.Option, r.Desired, r.Result))
		}
	}
	sort.Strings(unexplained)
	for _, u := range unexplained {
		t.Errorf("KHC FAIL with no exception in the hardening profile: %s", u)
	}
	stockCfg, stockCmdline, stockRep := imageKernel(t, testenv.ImageWith(t, cloudLines), profile)
	// Debian's kernel misses the hardened flavour's build options: each
	// kernel = "hardened" control is an exception naming the flavour,
	// never a pass and never silently skipped.
	scoped := 0
	for _, c := range profile.Controls {
		if c.Kernel != "hardened" {
			continue
		}
		scoped++
		for _, r := range stockRep.Results {
			if r.Control == c.ID && (r.Status != hardening.Exception || !strings.Contains(r.Justification, "cloud kernel flavour")) {
				t.Errorf("%s on the cloud-flavour image: %s %q; want an exception naming the cloud flavour", c.ID, r.Status, r.Justification)
			}
		}
	}
	if scoped < 3 {
		t.Errorf("%d controls carry kernel = \"hardened\"; want the three kconfig-kspp-* controls", scoped)
	}
	t.Logf("kernel-hardening-checker, hardened flavour: %s", khc.Counts(rows))
	t.Logf("kernel-hardening-checker, cloud flavour (Debian's cloud kernel): %s", khc.Counts(khc.Run(t, res.Tree, khc.Input{Config: stockCfg, Cmdline: stockCmdline})))
}

// imageKernel opens an image read-only (root verified against its
// manifest), audits it offline with profile, and returns its kernel
// configuration, its UKI command line and the report.
func imageKernel(t *testing.T, dir string, profile *hardening.Profile) ([]byte, string, *hardening.Report) {
	t.Helper()
	o, err := hardening.ManifestExpectations(filepath.Join(dir, "manifest.json"))
	if err != nil {
		t.Fatal(err)
	}
	img, err := hardening.OpenImage(context.Background(), filepath.Join(dir, "supernode-appliance.raw"), o)
	if err != nil {
		t.Fatal(err)
	}
	defer img.Close()
	tg := img.Target
	if tg.Abort != "" {
		t.Fatalf("opening %s: %s", dir, tg.Abort)
	}
	rep := profile.Audit(tg)
	cfgs, _ := filepath.Glob(filepath.Join(tg.Root, "usr/lib/modules/*/config"))
	if len(cfgs) != 1 {
		t.Fatalf("%s: %d kernel configurations under /usr/lib/modules, want 1", dir, len(cfgs))
	}
	cfg, err := os.ReadFile(cfgs[0])
	if err != nil {
		t.Fatal(err)
	}
	return cfg, tg.Cmdline, rep
}
