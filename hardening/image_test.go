package hardening

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/supernode-appliance/appliance/tests/testenv"
)

// buildTestImage assembles a small disk laid out like the appliance image
// with the real tools: an erofs root made from an applied root directory,
// its dm-verity tree, an ESP (vfat) holding a UKI-shaped PE whose .cmdline
// carries roothash= and the profile's tokens, all in a GPT with the
// Discoverable Partitions type GUIDs. It returns the raw image path and
// what its publisher would tell an auditor (root hash, command line).
func buildTestImage(t *testing.T, root string, p *Profile) (string, ImageOptions) {
	return buildTestImageUKI(t, root, p, nil)
}

// buildTestImageUKI is buildTestImage with a hook that may change the UKI
// (a PE file) before it goes onto the ESP.
func buildTestImageUKI(t *testing.T, root string, p *Profile, editUKI func([]byte) []byte) (string, ImageOptions) {
	t.Helper()
	testenv.RequireCommands(t, "mkfs.erofs", "veritysetup", "sfdisk", "mkfs.vfat", "mmd", "mcopy", "losetup")
	dir := t.TempDir()
	sh := func(name string, args ...string) string {
		out, err := exec.Command(name, args...).CombinedOutput()
		if err != nil {
			t.Fatalf("%s %v: %v\n%s", name, args, err, out)
		}
		return string(out)
	}
	rootImg, verityImg, espImg := filepath.Join(dir, "root.erofs"), filepath.Join(dir, "root.verity"), filepath.Join(dir, "esp.vfat")
	sh("mkfs.erofs", "--quiet", rootImg, root)
	out := sh("veritysetup", "format", rootImg, verityImg)
	m := regexp.MustCompile(`Root hash:\s+([0-9a-f]{64})`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("no root hash in %s", out)
	}
	cmdline := "root=/dev/mapper/root roothash=" + m[1] + " " + strings.Join(p.KernelCmdline(), " ")
	uki := buildPE(t, []string{".osrel", ".cmdline", ".linux", ".initrd"},
		[][]byte{[]byte("ID=debian\n"), []byte(cmdline + "\x00"), []byte("kernel"), []byte("initrd")}, 0)
	if editUKI != nil {
		uki = editUKI(uki)
	}
	ukiPath := filepath.Join(dir, "supernode.efi")
	os.WriteFile(ukiPath, uki, 0o644)
	sh("truncate", "-s", "16M", espImg)
	sh("mkfs.vfat", "-n", "ESP", espImg)
	sh("mmd", "-i", espImg, "::/EFI", "::/EFI/Linux")
	sh("mcopy", "-i", espImg, ukiPath, "::/EFI/Linux/supernode.efi")

	const mib = 1 << 20
	size := func(p string) int64 {
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		return (fi.Size() + mib - 1) / mib * mib
	}
	espSz, rootSz, verSz := size(espImg), size(rootImg), size(verityImg)
	disk := filepath.Join(dir, "supernode-appliance.raw")
	sh("truncate", "-s", fmt.Sprint(mib+espSz+rootSz+verSz+mib), disk)
	script := fmt.Sprintf("label: gpt\nstart=2048, size=%d, type=%s, name=esp\nsize=%d, type=%s, name=root\nsize=%d, type=%s, name=root-verity\n",
		espSz/512, GUIDESP, rootSz/512, GUIDRootX86_64, verSz/512, GUIDRootVerity)
	cmd := exec.Command("sfdisk", "--quiet", disk)
	cmd.Stdin = strings.NewReader(script)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("sfdisk: %v\n%s", err, out)
	}
	off := int64(mib)
	for _, part := range []string{espImg, rootImg, verityImg} {
		sh("dd", "if="+part, "of="+disk, "bs=1M", fmt.Sprintf("seek=%d", off/mib), "conv=notrunc,fsync", "status=none")
		off += size(part)
	}
	return disk, ImageOptions{RootHash: m[1], RootHashFrom: "test publisher", Cmdline: cmdline}
}

// ownTemp points TMPDIR (where OpenImage makes its mount point) at a
// directory of this test, so leftovers sees this test's mounts only: the
// audits of other test binaries running at the same time (go test runs
// packages in parallel) mount images too.
func ownTemp(t *testing.T) {
	t.Setenv("TMPDIR", t.TempDir())
}

// leftovers lists what the audit of file left behind, so tests can prove
// Close cleaned up: loop devices backed by file (a device-mapper table
// left on one keeps it attached), and mounts under this test's TMPDIR
// (see ownTemp).
func leftovers(t *testing.T, file string) string {
	out, _ := exec.Command("losetup", "-j", file).CombinedOutput()
	var left []string
	if s := strings.TrimSpace(string(out)); s != "" {
		left = append(left, s)
	}
	mounts, _ := os.ReadFile("/proc/self/mountinfo")
	own := filepath.Join(os.TempDir(), "appliance-audit-")
	for _, line := range strings.Split(string(mounts), "\n") {
		if strings.Contains(line, own) {
			left = append(left, line)
		}
	}
	return strings.Join(left, "\n")
}

func TestOpenImageVerifiesAndAudits(t *testing.T) {
	ownTemp(t)
	testenv.RequireRoot(t)
	root, p := appliedRoot(t)
	disk, expect := buildTestImage(t, root, p)

	img, err := OpenImage(context.Background(), disk, expect)
	if err != nil {
		t.Fatal(err)
	}
	rep := p.Audit(img.Target)
	res := map[string]Result{}
	for _, r := range rep.Results {
		res[r.Control] = r
	}
	for _, id := range append([]string{"fs-root-verity", "boot-uki"}, rootChecked...) {
		if r := res[id]; r.Status != Pass {
			t.Errorf("%s: %s %s", id, r.Status, r.Message)
		}
	}
	if r := res["boot-secure-boot"]; r.Status != Exception {
		t.Errorf("unsigned UKI: %s %s", r.Status, r.Message)
	}
	if !strings.Contains(res["cmdline-lockdown"].Evidence[0].Where, "ESP:/EFI/Linux/supernode.efi .cmdline") {
		t.Errorf("cmdline evidence must come from the UKI: %+v", res["cmdline-lockdown"].Evidence)
	}
	// The mounted root is the erofs image, read-only.
	if err := os.WriteFile(filepath.Join(img.Target.Root, "etc/probe"), []byte("x"), 0o644); err == nil {
		t.Error("image root is writable")
	}
	if err := img.Close(); err != nil {
		t.Fatal(err)
	}
	if l := leftovers(t, disk); l != "" {
		t.Fatalf("left behind after Close:\n%s", l)
	}
	if _, err := os.Stat(filepath.Dir(img.Target.Root)); !os.IsNotExist(err) {
		t.Errorf("temporary directory %s remains", filepath.Dir(img.Target.Root))
	}

	// qcow2: converted to a temporary raw copy, same verdicts.
	if _, err := exec.LookPath("qemu-img"); err == nil {
		q := strings.TrimSuffix(disk, ".raw") + ".qcow2"
		if out, err := exec.Command("qemu-img", "convert", "-O", "qcow2", disk, q).CombinedOutput(); err != nil {
			t.Fatalf("qemu-img: %v %s", err, out)
		}
		img, err := OpenImage(context.Background(), q, expect)
		if err != nil {
			t.Fatal(err)
		}
		rq := p.Audit(img.Target)
		img.Close()
		if rq.Counts[Pass] != rep.Counts[Pass] || rq.Counts[Fail] != rep.Counts[Fail] {
			t.Errorf("qcow2 %v vs raw %v", rq.Counts, rep.Counts)
		}
	}
}

// A single flipped byte in the root partition must stop the audit at the
// integrity check: verity fails, nothing is read from the unverified root.
func TestOpenImageRejectsTamperedRoot(t *testing.T) {
	ownTemp(t)
	testenv.RequireRoot(t)
	root, p := appliedRoot(t)
	disk, expect := buildTestImage(t, root, p)
	f, err := os.Open(disk)
	if err != nil {
		t.Fatal(err)
	}
	parts, err := ReadGPT(f)
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	rp, _ := findPartition(parts, GUIDRootX86_64, "root")
	before, _ := os.ReadFile(disk)
	flipByte(t, disk, rp.Offset+4096+17)

	img, err := OpenImage(context.Background(), disk, expect)
	if err != nil {
		t.Fatal(err)
	}
	defer img.Close()
	if img.Target.Root != "" || img.Target.Abort == "" {
		t.Fatalf("tampered root was mounted (root %q, abort %q)", img.Target.Root, img.Target.Abort)
	}
	rep := p.Audit(img.Target)
	if !rep.Failed() {
		t.Fatal("audit of a tampered image passed")
	}
	for _, r := range rep.Results {
		switch {
		case r.Control == "fs-root-verity":
			if r.Status != Fail || !strings.Contains(r.Message, "FAILED") {
				t.Errorf("verity: %s %s", r.Status, r.Message)
			}
		case rootless[r.Check]:
		default:
			if r.Status != Error {
				t.Errorf("%s checked an unverified root: %s", r.Control, r.Status)
			}
		}
	}
	img.Close()
	if l := leftovers(t, disk); l != "" {
		t.Fatalf("left behind:\n%s", l)
	}
	after, _ := os.ReadFile(disk)
	diff := 0
	for i := range after {
		if after[i] != before[i] {
			diff++
		}
	}
	if diff != 1 {
		t.Errorf("the audit wrote to the image: %d bytes differ from the tampered copy", diff-1)
	}
}

func flipByte(t *testing.T, path string, off int64) {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	b := make([]byte, 1)
	f.ReadAt(b, off)
	b[0] ^= 0xff
	if _, err := f.WriteAt(b, off); err != nil {
		t.Fatal(err)
	}
}

func TestOpenImageErrors(t *testing.T) {
	ownTemp(t)
	testenv.RequireRoot(t)
	dir := t.TempDir()
	any := ImageOptions{RootHash: strings.Repeat("ab", 32)}
	if _, err := OpenImage(context.Background(), filepath.Join(dir, "missing.raw"), ImageOptions{}); err == nil || !strings.Contains(err.Error(), "--root-hash HEX or --manifest") {
		t.Errorf("no expected root hash: %v", err)
	}
	if _, err := OpenImage(context.Background(), filepath.Join(dir, "missing.raw"), ImageOptions{RootHash: "abc"}); err == nil || !strings.Contains(err.Error(), "64 hex digits") {
		t.Errorf("bad root hash: %v", err)
	}
	if _, err := OpenImage(context.Background(), filepath.Join(dir, "missing.raw"), any); err == nil || !strings.Contains(err.Error(), "make image") {
		t.Errorf("missing image: %v", err)
	}
	junk := filepath.Join(dir, "junk.raw")
	os.WriteFile(junk, make([]byte, 1<<20), 0o644)
	if _, err := OpenImage(context.Background(), junk, any); err == nil || !strings.Contains(err.Error(), "no GPT") {
		t.Errorf("junk image: %v", err)
	}
	if l := leftovers(t, junk); l != "" {
		t.Errorf("left behind: %s", l)
	}
}
