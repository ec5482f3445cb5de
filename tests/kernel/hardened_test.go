package kernel

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pion/stun/v3"

	"github.com/supernode-appliance/appliance/hardening"
	"github.com/supernode-appliance/appliance/image/builder"
	"github.com/supernode-appliance/appliance/image/disk"
	"github.com/supernode-appliance/appliance/image/kernel"
	"github.com/supernode-appliance/appliance/image/qemu"
	"github.com/supernode-appliance/appliance/image/tools"
	"github.com/supernode-appliance/appliance/tests/testenv"
)

// cloudLines turn the default template (the hardened flavour) into the
// cloud flavour, Debian's kernel: the peer the KHC counts are set beside,
// and the flavour TestXDPFilterLoadsOnApplianceKernel checks.
const cloudLines = "\n  kernel_flavour = \"cloud\"\n"

// bootTimeout is generous: TCG on two shared cores.
const bootTimeout = 10 * time.Minute

func hardenedImage(t *testing.T) string {
	t.Helper()
	testenv.RequireCommands(t, "qemu-system-x86_64", "qemu-img")
	return testenv.Image(t) // the default flavour
}

// TestHardenedKernelBootsToReady boots the hardened image: a UKI with no
// initrd, whose kernel maps the verity root from dm-mod.create= on the
// signed command line. The supernode must become READY and answer STUN,
// the XDP filter must attach (the monolithic kernel has what it needs),
// the live audit must pass, and the appliance must power off on the ACPI
// button. The boot time is logged for BENCHMARKS.md, not asserted.
func TestHardenedKernelBootsToReady(t *testing.T) {
	t.Parallel()
	dir := hardenedImage(t)
	var man builder.Manifest
	b, err := os.ReadFile(filepath.Join(dir, "manifest.json"))
	if err == nil {
		err = json.Unmarshal(b, &man)
	}
	if err != nil {
		t.Fatal(err)
	}
	if !hardening.KernelMapsRoot(man.KernelCmdline, man.RootHash) || strings.Contains(man.KernelCmdline, "/dev/mapper/root") {
		t.Fatalf("the hardened image's command line does not have the kernel map the verity root: %s", man.KernelCmdline)
	}
	port := testenv.FreeUDPPort(t)
	vm := testenv.StartVM(t, qemu.Options{
		Image:        filepath.Join(dir, "supernode-appliance.qcow2"),
		HostFwd:      []string{"udp:127.0.0.1:" + strconv.Itoa(port) + "-:3478"},
		ExtraCmdline: "systemd.journald.forward_to_console=1",
		Credentials:  map[string]string{"supernode-xdp.allow_bogons": "10.0.2.0/24"},
	})
	ctx, cancel := context.WithTimeout(context.Background(), bootTimeout)
	defer cancel()
	start := time.Now()
	if _, err := vm.WaitConsole(ctx, "supernode ready"); err != nil {
		t.Fatal(err)
	}
	t.Logf("hardened image: supernode READY %.1fs after QEMU start (%s, OVMF included)", time.Since(start).Seconds(), vm.Accel)
	con := vm.LastConsole()
	for _, bad := range []string{"initrd", "Initramfs", "emergency mode", "Failed to start", "Kernel panic"} {
		if strings.Contains(con, bad) {
			t.Errorf("serial console shows %q: %s", bad, testenv.LineWith(con, bad))
		}
	}
	sctx, scancel := context.WithTimeout(ctx, 2*time.Minute)
	defer scancel()
	if err := stunBinding(sctx, "127.0.0.1:"+strconv.Itoa(port)); err != nil {
		t.Fatalf("no STUN Binding response: %v", err)
	}
	seen, err := vm.WaitConsole(ctx, "attached XDP filter", "cannot load the XDP filter")
	if err != nil || seen != "attached XDP filter" {
		t.Fatalf("the XDP filter did not attach on the hardened kernel: %v %s", err, testenv.LineWith(vm.Console(), seen))
	}
	if _, err := vm.WaitConsole(ctx, " controls: "); err != nil {
		t.Fatalf("no live audit summary on the console: %v", err)
	}
	con = vm.Console()
	t.Logf("live audit: %s", testenv.LineWith(con, " controls: "))
	for _, l := range regexp.MustCompile(`appliance-audit\[\d+\]: (FAIL|ERROR) .*`).FindAllString(con, -1) {
		t.Errorf("live audit: %s", l)
	}
	if !regexp.MustCompile(` controls: \d+ pass, 0 fail, \d+ exception, 0 error`).MatchString(con) {
		t.Errorf("the live audit of the hardened image found failures or errors")
	}
	if err := vm.Powerdown(); err != nil {
		t.Fatal(err)
	}
	wctx, wcancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer wcancel()
	if err := vm.Wait(wctx); err != nil {
		t.Fatalf("QEMU did not exit after the ACPI power button: %v", err)
	}
}

// TestHardenedKernelRefusesTamperedRoot flips one byte of the root (the
// erofs superblock): with no initrd, the kernel's own dm-verity mapping
// must report the corrupted block, and the supernode must never start.
func TestHardenedKernelRefusesTamperedRoot(t *testing.T) {
	t.Parallel()
	dir := hardenedImage(t)
	bad := filepath.Join(t.TempDir(), "tampered.raw")
	if out, err := exec.Command("qemu-img", "convert", "-O", "raw", filepath.Join(dir, "supernode-appliance.raw"), bad).CombinedOutput(); err != nil {
		t.Fatalf("%v %s", err, out)
	}
	parts, err := disk.ReadGPTFile(bad)
	if err != nil {
		t.Fatal(err)
	}
	roots := disk.Slots(parts, "4F68BCE3-E8CD-4DB1-96E7-FBCAF984B709")
	if len(roots) == 0 {
		t.Fatal("no root partition")
	}
	f, err := os.OpenFile(bad, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	off := roots[0].Start + 1024 + 8
	one := make([]byte, 1)
	f.ReadAt(one, off)
	one[0] ^= 0xff
	if _, err := f.WriteAt(one, off); err != nil {
		t.Fatal(err)
	}
	f.Close()
	vm := testenv.StartVM(t, qemu.Options{Image: bad})
	ctx, cancel := context.WithTimeout(context.Background(), bootTimeout)
	defer cancel()
	seen, err := vm.WaitConsole(ctx, "is corrupted", "supernode ready")
	if err != nil {
		t.Fatal(err)
	}
	if seen != "is corrupted" {
		t.Fatal("the tampered hardened image booted to the supernode")
	}
	t.Logf("dm-verity: %s", testenv.LineWith(vm.Console(), "is corrupted"))
	// With no initrd there is no emergency shell to fall into: the kernel
	// cannot mount the root, panics, and panic=10 reboots it (so boot
	// counting falls back on a slot like this). QEMU runs with -no-reboot:
	// the reboot ends it.
	if _, err := vm.WaitConsole(ctx, "Kernel panic"); err != nil {
		t.Fatalf("no kernel panic after the corrupted root: %v", err)
	}
	t.Logf("%s", testenv.LineWith(vm.Console(), "Kernel panic"))
	wctx, wcancel := context.WithTimeout(ctx, 2*time.Minute)
	defer wcancel()
	if err := vm.Wait(wctx); err != nil {
		t.Fatalf("the panicked kernel did not reboot (panic=10): %v", err)
	}
	if strings.Contains(vm.Console(), "supernode ready") {
		t.Fatal("the supernode started from a tampered root")
	}
}

// khcResult is one row of kernel-hardening-checker -m json.
type khcResult struct {
	Option  string `json:"option_name"`
	Type    string `json:"type"`
	Desired string `json:"desired_val"`
	Result  string `json:"check_result"`
	OK      bool   `json:"check_result_bool"`
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
	mirror, err := tools.HostMirror("/etc/apt")
	if err != nil {
		t.Fatal(err)
	}
	// The image build put the kernel in the cache: this is a cache hit.
	res, err := kernel.Build(context.Background(), builder.DefaultCacheDir, kernel.Inputs{Mirror: mirror}, nil)
	if err != nil {
		t.Fatal(err)
	}
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
	rows := runKHC(t, res.Tree, hardenedCfg, hardenedCmdline)
	var unexplained []string
	for _, r := range rows {
		if !r.OK && khcException(profile, r) == "" {
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
	t.Logf("kernel-hardening-checker, hardened flavour: %s", khcCounts(rows))
	t.Logf("kernel-hardening-checker, cloud flavour (Debian's cloud kernel): %s", khcCounts(runKHC(t, res.Tree, stockCfg, stockCmdline)))
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

// khcCounts is "kconfig N OK / M FAIL, cmdline ...".
func khcCounts(rows []khcResult) string {
	counts := map[string][2]int{}
	for _, r := range rows {
		c := counts[r.Type]
		if r.OK {
			c[0]++
		} else {
			c[1]++
		}
		counts[r.Type] = c
	}
	var out []string
	for _, k := range []string{"kconfig", "cmdline"} {
		out = append(out, fmt.Sprintf("%s %d OK / %d FAIL", k, counts[k][0], counts[k][1]))
	}
	return strings.Join(out, ", ")
}

// runKHC runs KHC in tree on a config and a command line.
func runKHC(t *testing.T, tree string, config []byte, cmdline string) []khcResult {
	t.Helper()
	work := t.TempDir()
	cfg, cl := filepath.Join(work, "config"), filepath.Join(work, "cmdline")
	if err := os.WriteFile(cfg, config, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(cl, []byte(cmdline+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := tools.Run(context.Background(), tree, []string{work}, "kernel-hardening-checker", "-c", cfg, "-l", cl, "-m", "json")
	if err != nil {
		t.Fatal(err)
	}
	var rows []khcResult
	if err := json.Unmarshal(out, &rows); err != nil {
		t.Fatalf("KHC json: %v: %.300s", err, out)
	}
	if len(rows) < 100 {
		t.Fatalf("KHC checked only %d options", len(rows))
	}
	return rows
}

// khcException returns the profile control that documents a KHC FAIL as
// an exception: its check is the row's type (kconfig, cmdline), its
// settings name the option, and it has an exception block.
func khcException(p *hardening.Profile, r khcResult) string {
	for _, c := range p.Controls {
		if c.Exception == nil || c.Check != r.Type {
			continue
		}
		if _, ok := c.Settings[r.Option]; ok {
			return c.ID
		}
	}
	return ""
}

// stunBinding sends Binding requests until one is answered.
func stunBinding(ctx context.Context, addr string) error {
	conn, err := net.Dial("udp", addr)
	if err != nil {
		return err
	}
	defer conn.Close()
	buf := make([]byte, 1500)
	for {
		req := stun.MustBuild(stun.TransactionID, stun.BindingRequest, stun.Fingerprint)
		conn.Write(req.Raw)
		conn.SetReadDeadline(time.Now().Add(2 * time.Second))
		if n, err := conn.Read(buf); err == nil {
			res := &stun.Message{Raw: append([]byte(nil), buf[:n]...)}
			if res.Decode() == nil && res.TransactionID == req.TransactionID && res.Type == stun.BindingSuccess {
				return nil
			}
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		time.Sleep(time.Second)
	}
}
