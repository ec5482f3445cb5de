package image_test

import (
	"bytes"
	"compress/gzip"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/supernode-appliance/appliance/image/builder"
	"github.com/supernode-appliance/appliance/image/disk"
	"github.com/supernode-appliance/appliance/image/update"
	"github.com/supernode-appliance/appliance/tests/testenv"
)

// TestSysupdateInstallsIntoSlotB runs appliance-update and the image's own
// systemd-sysupdate 257 (chroot into slot A's erofs root, read-only)
// against a loop-device copy of the test image: a bundle signed by another
// key is refused and slot B stays _empty; a signed version 99.0.0 (the
// test image's payloads under new names and partition UUIDs) lands in
// slot B (labels, UUIDs from the names, read-only flag, the payload byte
// for byte) and its UKI on the ESP as supernode_99.0.0_uki+3-0.efi, while
// slot A, the running version, is left alone. No VM: the boot of the new
// slot is not part of it. The ESP is a copy in a directory (this host's
// kernel may lack vfat; SYSTEMD_RELAX_ESP_CHECKS).
func TestSysupdateInstallsIntoSlotB(t *testing.T) {
	testenv.RequireCommands(t, "losetup", "partx", "mount", "umount", "mcopy", "qemu-img")
	dir := testenv.Image(t)
	bin, _ := appliance(t)
	work := t.TempDir()
	img := filepath.Join(work, "disk.raw")
	if out, err := exec.Command("qemu-img", "convert", "-O", "raw", filepath.Join(dir, "supernode-appliance.raw"), img).CombinedOutput(); err != nil {
		t.Fatalf("%v %s", err, out)
	}
	out, err := exec.Command("losetup", "--find", "--show", "--partscan", img).Output()
	if err != nil {
		t.Fatal(err)
	}
	loop := strings.TrimSpace(string(out))
	t.Cleanup(func() { exec.Command("losetup", "-d", loop).Run() })
	for i := 0; i < 50; i++ {
		if _, err := os.Stat(loop + "p6"); err == nil {
			break
		}
		exec.Command("partx", "-a", loop).Run()
		time.Sleep(100 * time.Millisecond)
	}
	parts, err := disk.ReadGPTFile(img)
	if err != nil {
		t.Fatal(err)
	}
	roots := disk.Slots(parts, builder.TypeRootX86_64)
	if len(roots) != 2 || roots[1].Name != builder.EmptyLabel {
		t.Fatalf("want slot A and an empty slot B: %+v", roots)
	}

	// Slot A's root, read-only, with what a running appliance has mounted.
	root := filepath.Join(work, "root")
	os.Mkdir(root, 0o755)
	mount := func(args ...string) {
		t.Helper()
		if out, err := exec.Command("mount", args...).CombinedOutput(); err != nil {
			t.Fatalf("mount %v: %v %s", args, err, out)
		}
	}
	mount("-t", "erofs", "-o", "ro", loop+"p2", root)
	t.Cleanup(func() {
		if out, err := exec.Command("umount", "-R", root).CombinedOutput(); err != nil {
			t.Errorf("umount: %v %s", err, out)
		}
	})
	for _, d := range []string{"dev", "proc", "sys"} {
		mount("--rbind", "/"+d, filepath.Join(root, d))
		mount("--make-rslave", filepath.Join(root, d))
	}
	for _, d := range []string{"run", "tmp", "var"} {
		mount("-t", "tmpfs", "tmpfs", filepath.Join(root, d))
	}
	run := filepath.Join(root, "run")
	for _, d := range []string{"src", "other", "defs", "efi"} {
		os.Mkdir(filepath.Join(run, d), 0o755)
	}
	esp, _ := disk.Find(parts, "esp")
	if out, err := exec.Command("mcopy", "-s", "-n", "-i", img+"@@"+itoa(esp.Start), "::/EFI", "::/loader", filepath.Join(run, "efi")).CombinedOutput(); err != nil {
		t.Fatalf("mcopy ESP: %v %s", err, out)
	}
	// The image's transfers, aimed at the loop device instead of the disk
	// holding the running root (Path=auto).
	defs, _ := filepath.Glob(filepath.Join(root, "usr/lib/sysupdate.d/*.transfer"))
	if len(defs) != 3 {
		t.Fatalf("the image has %d transfers in /usr/lib/sysupdate.d, want 3", len(defs))
	}
	for _, d := range defs {
		b, _ := os.ReadFile(d)
		os.WriteFile(filepath.Join(run, "defs", filepath.Base(d)), bytes.ReplaceAll(b, []byte("Path=auto"), []byte("Path="+loop)), 0o644)
	}

	// Version 99.0.0: this image's payloads under new names, signed.
	keys := filepath.Join(work, "op")
	other := filepath.Join(work, "other")
	for _, k := range []string{keys, other} {
		if out, err := exec.Command(bin, "keygen", k).CombinedOutput(); err != nil {
			t.Fatalf("keygen: %v %s", err, out)
		}
	}
	v1 := filepath.Join(work, "v1")
	if out, err := exec.Command(bin, "update-bundle", "-out", v1, dir).CombinedOutput(); err != nil {
		t.Fatalf("update-bundle: %v %s", err, out)
	}
	const v2, rootUUID, hashUUID = "99.0.0", "11111111-2222-4333-8444-555555555555", "66666666-7777-4888-9999-aaaaaaaaaaaa"
	var m builder.Manifest
	readJSON(t, filepath.Join(dir, builder.ManifestFile), &m)
	v := m.BuilderVersion
	names := map[string]string{
		update.RootName(v, m.Partitions["root"]):          update.RootName(v2, rootUUID),
		update.VerityName(v, m.Partitions["root-verity"]): update.VerityName(v2, hashUUID),
		update.UKIName(v): update.UKIName(v2),
	}
	writeBundle := func(dst, key string) {
		var list []string
		for from, to := range names {
			b, err := os.ReadFile(filepath.Join(v1, from))
			if err != nil {
				t.Fatal(err)
			}
			os.WriteFile(filepath.Join(dst, to), b, 0o644)
			list = append(list, to)
		}
		sums, err := builder.SHA256SUMS(dst, list)
		if err != nil {
			t.Fatal(err)
		}
		k, err := builder.ReadSigningKey(key + ".asc")
		if err != nil {
			t.Fatal(err)
		}
		sig, _ := builder.SignDetached(k, sums)
		os.WriteFile(filepath.Join(dst, builder.SumsFile), sums, 0o644)
		os.WriteFile(filepath.Join(dst, builder.SignatureFile), sig, 0o644)
	}
	writeBundle(filepath.Join(run, "src"), keys)
	writeBundle(filepath.Join(run, "other"), other)
	pub, _ := os.ReadFile(keys + ".pub.asc")
	os.WriteFile(filepath.Join(run, "operator.asc"), pub, 0o644)
	// This checkout's appliance-update (static; the image carries the same
	// source at /usr/bin/appliance-update): the image under test may come
	// from SUPERNODE_TEST_IMAGE, built before the last change to it.
	au, err := os.ReadFile(filepath.Join(filepath.Dir(bin), "appliance-update"))
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(run, "appliance-update"), au, 0o755)
	if _, err := os.Stat(filepath.Join(root, "usr/bin/appliance-update")); err != nil {
		t.Errorf("the image has no /usr/bin/appliance-update: %v", err)
	}

	apply := func(src string) (string, error) {
		cmd := exec.Command("chroot", root, "/run/appliance-update", "-key", "/run/operator.asc",
			"-work", "/run/work", "-esp", "/run/efi", "-definitions", "/run/defs", src)
		cmd.Env = append(os.Environ(), "SYSTEMD_RELAX_ESP_CHECKS=1")
		b, err := cmd.CombinedOutput()
		return string(b), err
	}
	if out, err := apply("/run/other"); err == nil || !strings.Contains(out, "does not verify against the operator key") {
		t.Fatalf("bundle signed by another key: %v\n%s", err, out)
	}
	if p, _ := disk.ReadGPTFile(img); disk.Slots(p, builder.TypeRootX86_64)[1].Name != builder.EmptyLabel {
		t.Fatal("a refused bundle changed slot B")
	}
	start := time.Now()
	out2, err := apply("/run/src")
	t.Logf("appliance-update in %s:\n%s", time.Since(start).Round(time.Millisecond), tail(out2, 800))
	if err != nil {
		t.Fatalf("appliance-update: %v", err)
	}

	after, _ := disk.ReadGPTFile(img)
	a, b := disk.Slots(after, builder.TypeRootX86_64), disk.Slots(after, builder.TypeRootVerityX864)
	if a[0] != roots[0] {
		t.Errorf("slot A changed: %+v -> %+v", roots[0], a[0])
	}
	if a[1].Name != builder.SlotLabel(v2) || a[1].UUID != rootUUID || a[1].Attributes&(1<<60) == 0 {
		t.Errorf("slot B root: %+v, want label %s, UUID %s, read-only", a[1], builder.SlotLabel(v2), rootUUID)
	}
	if b[1].Name != builder.SlotLabel(v2) || b[1].UUID != hashUUID {
		t.Errorf("slot B verity: %+v", b[1])
	}
	f, _ := os.Open(filepath.Join(run, "src", update.RootName(v2, rootUUID)))
	zr, _ := gzip.NewReader(f)
	payload, _ := io.ReadAll(zr)
	f.Close()
	dev, _ := os.Open(img)
	slot := make([]byte, len(payload))
	dev.ReadAt(slot, a[1].Start)
	dev.Close()
	if !bytes.Equal(slot, payload) {
		t.Error("slot B does not hold the root payload")
	}
	if _, err := os.Stat(filepath.Join(run, "efi/EFI/Linux/supernode_"+v2+"_uki+3-0.efi")); err != nil {
		t.Errorf("no UKI with 3 tries on the ESP: %v", err)
	}
	if _, err := os.Stat(filepath.Join(run, "efi/EFI/Linux", builder.UKIFileName(v))); err != nil {
		t.Errorf("the running version's UKI is gone: %v", err)
	}
	if entries, _ := os.ReadDir(filepath.Join(run, "work")); len(entries) != 0 {
		t.Errorf("the staging copy was left behind: %d entries", len(entries))
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
