// Package update_test boots the appliance under QEMU and updates it the way
// an operator does (issue 14): signed bundles on a stick labelled SN-UPDATE,
// hot-plugged into a running appliance.
package update_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/supernode-appliance/appliance/image/builder"
	"github.com/supernode-appliance/appliance/image/disk"
	"github.com/supernode-appliance/appliance/image/qemu"
	"github.com/supernode-appliance/appliance/image/update"
	"github.com/supernode-appliance/appliance/tests/testenv"
)

// TestUpdateAndRollback builds versions 1.0.0, 2.0.0 and 3.0.0 of the
// image from this tree (3.0.0 with a supernode that exits at once), all
// signed by one operator key and with boot_tries = 1, boots 1.0.0 and then,
// in one machine that reboots by itself:
//
//  1. a stick with 2.0.0: installed into slot B, reboot, 2.0.0 passes the
//     health gate and is blessed; the stick, still in, is "nothing to do";
//  2. a stick with 3.0.0: installed into slot A, reboot, its health gate
//     fails, the machine reboots and systemd-boot falls back to 2.0.0,
//     which refuses 3.0.0 from then on;
//  3. a stick with a 4.0.0 signed by the operator whose root payload was
//     changed after signing: refused, nothing written.
//
// At the end the disk holds 3.0.0 in slot A, 2.0.0 in slot B, 2.0.0's UKI
// blessed and 3.0.0's with no tries left, and nothing of 4.0.0.
func TestUpdateAndRollback(t *testing.T) {
	t.Parallel()
	testenv.RequireRoot(t)
	testenv.RequireCommands(t, "mmdebstrap", "qemu-img", "qemu-system-x86_64", "mkfs.fat", "mcopy", "mdir")
	if _, _, err := qemu.FindOVMF(); err != nil {
		t.Skipf("%v; install the Debian package ovmf", err)
	}
	root := testenv.RepoRoot(t)
	work := t.TempDir()
	key := filepath.Join(work, "operator")
	bin := testenv.BuildBinaries(t)
	if out, err := exec.Command(filepath.Join(bin, "appliance"), "keygen", key).CombinedOutput(); err != nil {
		t.Fatalf("appliance keygen: %v\n%s", err, out)
	}

	start := time.Now()
	out := map[string]string{}
	for _, v := range []string{"1.0.0", "2.0.0", "3.0.0"} {
		out[v] = buildVersion(t, root, work, key+".asc", v)
		t.Logf("built %s in %s", v, time.Since(start).Round(time.Second))
	}
	stick := func(name, bundle string) string {
		img := filepath.Join(work, name+".img")
		makeStick(t, bundle, img)
		return img
	}
	stick2 := stick("stick2", filepath.Join(out["2.0.0"], "update"))
	stick3 := stick("stick3", filepath.Join(out["3.0.0"], "update"))
	stick4 := stick("stick4", tamperedBundle(t, filepath.Join(out["2.0.0"], "update"), "4.0.0", key+".asc", filepath.Join(work, "bundle4")))

	diskImg := filepath.Join(work, "disk.raw")
	if o, err := exec.Command("cp", "--sparse=always", filepath.Join(out["1.0.0"], "supernode-appliance.raw"), diskImg).CombinedOutput(); err != nil {
		t.Fatalf("%v %s", err, o)
	}
	// Room for /var (systemd-repart makes it on first boot).
	if o, err := exec.Command("qemu-img", "resize", "-f", "raw", diskImg, "+512M").CombinedOutput(); err != nil {
		t.Fatalf("%v %s", err, o)
	}
	accel := testenv.QEMUAccel()
	vm, err := qemu.Start(context.Background(), qemu.Options{
		Image: diskImg, Writable: true, Reboot: true, HotplugPorts: 1, Accel: accel,
		ExtraCmdline: "systemd.journald.forward_to_console=1",
		Credentials:  map[string]string{"supernode-xdp.allow_bogons": "10.0.2.0/24"},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer vm.Close()
	defer func() {
		if t.Failed() {
			c := vm.Console()
			if len(c) > 12000 {
				c = c[len(c)-12000:]
			}
			t.Logf("console %s (end):\n%s", vm.ConsolePath, c)
		}
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 45*time.Minute)
	defer cancel()
	mark := 0
	// wait waits for every marker, in order, in the console after mark.
	wait := func(phase string, markers ...string) {
		t.Helper()
		for _, m := range markers {
			for {
				c := vm.Console()
				if i := strings.Index(c[mark:], m); i >= 0 {
					mark += i + len(m)
					t.Logf("%s: %q after %s", phase, m, time.Since(start).Round(time.Second))
					break
				}
				if vm.Exited() {
					t.Fatalf("%s: QEMU exited before %q: %s", phase, m, vm.Stderr())
				}
				select {
				case <-ctx.Done():
					t.Fatalf("%s: no %q on the console: %v", phase, m, ctx.Err())
				case <-time.After(time.Second):
				}
			}
		}
	}
	wait("boot 1.0.0", "supernode ready")

	if err := vm.AttachDisk("stick2", stick2, 0); err != nil {
		t.Fatal(err)
	}
	wait("update to 2.0.0",
		"appliance-update: version 2.0.0 installed into the inactive slot",
		"health gate passed",
		"the bundle holds 2.0.0, the running version; nothing to do")
	if err := vm.DetachDisk(ctx, "stick2"); err != nil {
		t.Fatal(err)
	}

	if err := vm.AttachDisk("stick3", stick3, 0); err != nil {
		t.Fatal(err)
	}
	wait("update to the broken 3.0.0",
		"appliance-update: version 3.0.0 installed into the inactive slot",
		"health gate failed: supernode.service",
		"this version is on trial",
		"version 3.0.0 already failed its boot health gate on this appliance")
	if !strings.Contains(vm.Console()[mark:], "went back to 2.0.0") {
		wait("rollback", "went back to 2.0.0")
	}
	if err := vm.DetachDisk(ctx, "stick3"); err != nil {
		t.Fatal(err)
	}

	if err := vm.AttachDisk("stick4", stick4, 0); err != nil {
		t.Fatal(err)
	}
	wait("tampered 4.0.0", "does not match its sha256 in the signed SHA256SUMS")
	t.Logf("four update cases in %s", time.Since(start).Round(time.Second))
	if err := vm.Kill(); err != nil {
		t.Fatal(err)
	}
	vm.Wait(ctx)

	// What is on the disk now.
	parts, err := disk.ReadGPTFile(diskImg)
	if err != nil {
		t.Fatal(err)
	}
	var labels []string
	for _, s := range disk.Slots(parts, builder.TypeRootX86_64) {
		labels = append(labels, s.Name)
	}
	if want := []string{"supernode_3.0.0", "supernode_2.0.0"}; strings.Join(labels, " ") != strings.Join(want, " ") {
		t.Errorf("root slots %v, want %v", labels, want)
	}
	var espOff int64
	for _, p := range parts {
		if strings.EqualFold(p.Type, builder.TypeESP) {
			espOff = p.Start
		}
	}
	o, err := exec.Command("mdir", "-b", "-i", fmt.Sprintf("%s@@%d", diskImg, espOff), "::/EFI/Linux").CombinedOutput()
	if err != nil {
		t.Fatalf("mdir: %v %s", err, o)
	}
	var ukis []string
	for _, l := range strings.Fields(string(o)) {
		ukis = append(ukis, filepath.Base(l))
	}
	sort.Strings(ukis)
	if want := []string{"supernode_2.0.0_uki.efi", "supernode_3.0.0_uki+0-1.efi"}; strings.Join(ukis, " ") != strings.Join(want, " ") {
		t.Errorf("ESP holds %v, want %v (2.0.0 blessed, 3.0.0 out of tries)", ukis, want)
	}
}

// buildVersion builds the image at version v (binaries and image) with the
// operator key, one boot try and raw output only; 3.0.0's supernode exits
// at once. It returns the output directory.
func buildVersion(t *testing.T, root, work, key, v string) string {
	t.Helper()
	bin := filepath.Join(work, "bin-"+v)
	args := []string{"-s", "build", "VERSION=" + v, "BIN=" + bin}
	if v == "3.0.0" {
		args = append(args, "GOFLAGS=-mod=mod -overlay="+brokenSupernode(t, root, work, v))
	}
	cmd := exec.Command("make", args...)
	cmd.Dir = root
	if o, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("make build %s: %v\n%s", v, err, o)
	}
	if v == "3.0.0" {
		out, _ := exec.Command(filepath.Join(bin, builder.MultiCall), "supernode").CombinedOutput()
		if !strings.Contains(string(out), "broken on purpose") {
			t.Fatalf("the %s of 3.0.0 runs a supernode that is not the broken one: %q", builder.MultiCall, out)
		}
	}
	tmpl := testenv.TemplateWith(t, root, filepath.Join(work, "v"+v+".pkr.hcl"), `
  bin_dir     = "`+bin+`"
  signing_key = "`+key+`"
  boot_tries  = 1
  formats     = ["raw"]`)
	outDir := filepath.Join(work, "out-"+v)
	cmd = exec.Command(filepath.Join(bin, "appliance"), "build", "-out", outDir, tmpl)
	cmd.Dir = root
	if o, err := cmd.CombinedOutput(); err != nil {
		s := string(o)
		if len(s) > 4000 {
			s = s[len(s)-4000:]
		}
		t.Fatalf("build %s: %v\n%s", v, err, s)
	}
	return outDir
}

// brokenSupernode writes a `go build -overlay` file that adds one source
// file to image/cmd/appliance-multicall, replacing its supernode command by
// one that reports its version and otherwise exits 1: built with it, a
// release whose service cannot start, while appliance-update, the health
// gate and everything else are the real ones. The checkout is not touched.
func brokenSupernode(t *testing.T, root, work, v string) string {
	t.Helper()
	src := filepath.Join(work, "broken")
	os.MkdirAll(src, 0o755)
	file := filepath.Join(src, "zz_broken.go")
	os.WriteFile(file, []byte(`package main

import (
	"fmt"
	"os"
)

func init() {
	commands["supernode"] = func() {
		if len(os.Args) > 1 && (os.Args[1] == "-version" || os.Args[1] == "--version") {
			fmt.Println("supernode `+v+`")
			return
		}
		fmt.Fprintln(os.Stderr, "supernode: broken on purpose (the update test's release `+v+`)")
		os.Exit(1)
	}
}
`), 0o644)
	overlay, _ := json.Marshal(map[string]map[string]string{"Replace": {
		filepath.Join(root, "image/cmd", builder.MultiCall, "zz_broken.go"): file,
	}})
	ov := filepath.Join(src, "overlay.json")
	if err := os.WriteFile(ov, overlay, 0o644); err != nil {
		t.Fatal(err)
	}
	return ov
}

// tamperedBundle makes a bundle of version v from bundle (the payloads
// renamed), signed by the operator's key, and then changes one byte of the
// root payload: the signature verifies, the payload's sha256 does not.
func tamperedBundle(t *testing.T, bundle, v, keyPath, dst string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(bundle, update.SumsFile))
	if err != nil {
		t.Fatal(err)
	}
	sums, err := builder.ParseSHA256SUMS(b)
	if err != nil {
		t.Fatal(err)
	}
	p, err := update.Classify(sortedKeys(sums))
	if err != nil {
		t.Fatal(err)
	}
	os.MkdirAll(dst, 0o755)
	out := map[string]string{}
	var root string
	for name, sum := range sums {
		nn := strings.Replace(name, update.Prefix+p.Version+"_", update.Prefix+v+"_", 1)
		data, err := os.ReadFile(filepath.Join(bundle, name))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dst, nn), data, 0o644); err != nil {
			t.Fatal(err)
		}
		out[nn] = sum
		if name == p.Root {
			root = filepath.Join(dst, nn)
		}
	}
	rendered := builder.RenderSHA256SUMS(out)
	k, err := builder.ReadSigningKey(keyPath)
	if err != nil {
		t.Fatal(err)
	}
	sig, err := builder.SignDetached(k, rendered)
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dst, update.SumsFile), rendered, 0o644)
	os.WriteFile(filepath.Join(dst, update.SignatureFile), sig, 0o644)
	f, err := os.OpenFile(root, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	fi, _ := f.Stat()
	one := []byte{0}
	f.ReadAt(one, fi.Size()/2)
	one[0] ^= 0xff
	f.WriteAt(one, fi.Size()/2)
	f.Close()
	if got := fileSHA256(t, root); got == out[filepath.Base(root)] {
		t.Fatal("tampering did not change the root payload")
	}
	return dst
}

func sortedKeys(m map[string]string) []string {
	var k []string
	for n := range m {
		k = append(k, n)
	}
	sort.Strings(k)
	return k
}

func fileSHA256(t *testing.T, path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// makeStick writes the bundle's files onto a FAT file system labelled
// SN-UPDATE in img, as an operator does on a USB stick.
func makeStick(t *testing.T, bundle, img string) {
	t.Helper()
	entries, err := os.ReadDir(bundle)
	if err != nil {
		t.Fatal(err)
	}
	var size int64 = 16 << 20
	var files []string
	for _, e := range entries {
		fi, _ := e.Info()
		size += fi.Size()
		files = append(files, filepath.Join(bundle, e.Name()))
	}
	if o, err := exec.Command("mkfs.fat", "-F", "32", "-n", update.MediaLabel, "-C", img, fmt.Sprint(size/1024)).CombinedOutput(); err != nil {
		t.Fatalf("mkfs.fat: %v %s", err, o)
	}
	if o, err := exec.Command("mcopy", append([]string{"-i", img}, append(files, "::/")...)...).CombinedOutput(); err != nil {
		t.Fatalf("mcopy: %v %s", err, o)
	}
}

// TestInstallToEmptyDisk boots the default image as install media with an
// empty second disk and appliance-install.target=auto (fw_cfg): it copies
// itself there and powers off. The disk then boots alone to READY, with
// its own disk GUID and ESP/config partition UUIDs and the image's root
// and verity UUIDs (roothash= finds them).
func TestInstallToEmptyDisk(t *testing.T) {
	t.Parallel()
	testenv.RequireRoot(t)
	testenv.RequireCommands(t, "mmdebstrap", "qemu-img", "qemu-system-x86_64")
	if _, _, err := qemu.FindOVMF(); err != nil {
		t.Skipf("%v; install the Debian package ovmf", err)
	}
	dir := testenv.Image(t)
	work := t.TempDir()
	stick := filepath.Join(dir, "supernode-appliance.raw")
	target := filepath.Join(work, "disk.raw")
	if err := os.WriteFile(target, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(target, 1<<30); err != nil {
		t.Fatal(err)
	}
	accel := testenv.QEMUAccel()
	start := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Minute)
	defer cancel()
	boot := func(o qemu.Options, want ...string) *qemu.VM {
		t.Helper()
		o.Accel = accel
		o.ExtraCmdline = "systemd.journald.forward_to_console=1"
		vm, err := qemu.Start(context.Background(), o)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			if t.Failed() {
				c := vm.Console()
				if len(c) > 8000 {
					c = c[len(c)-8000:]
				}
				t.Logf("console %s (end):\n%s", vm.ConsolePath, c)
			}
			vm.Close()
		})
		for _, w := range want {
			if _, err := vm.WaitConsole(ctx, w); err != nil {
				t.Fatalf("no %q on the console: %v", w, err)
			}
			t.Logf("%q after %s", w, time.Since(start).Round(time.Second))
		}
		return vm
	}
	// The stick is a snapshot: the install medium is never written.
	vm := boot(qemu.Options{Image: stick, Disks: []string{target},
		FwCfgCredentials: map[string]string{"appliance-install.target": "auto"}},
		"appliance-install: installing from /dev/vda to /dev/vdb",
		"appliance-install: installed to /dev/vdb",
		"remove the install medium")
	if err := vm.Wait(ctx); err != nil {
		t.Fatalf("the installer did not power off: %v", err)
	}

	src, err := disk.ReadGPTFile(stick)
	if err != nil {
		t.Fatal(err)
	}
	got, err := disk.ReadGPTFile(target)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(src) {
		t.Fatalf("installed %d partitions, the image has %d", len(got), len(src))
	}
	for i, p := range got {
		same := p.UUID == src[i].UUID
		if keep := p.Type == builder.TypeRootX86_64 || p.Type == builder.TypeRootVerityX864; keep != same {
			t.Errorf("partition %d (%s): UUID %s, image's %s", p.Number, p.Name, p.UUID, src[i].UUID)
		}
	}

	// The installed disk alone, with no credential: it boots and serves.
	boot(qemu.Options{Image: target, Writable: true,
		Credentials: map[string]string{"supernode-xdp.allow_bogons": "10.0.2.0/24"}},
		"supernode ready")
	t.Logf("installed and booted in %s", time.Since(start).Round(time.Second))
}
