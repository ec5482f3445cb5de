package confpart

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// testDisk makes a small GPT disk image the way the builder lays it out
// (sfdisk, a FAT made by mkfs.fat copied in at the partition's offset),
// with the configuration partition as partition 2 after a filler.
func testDisk(t *testing.T, label, typ string) string {
	t.Helper()
	for _, c := range []string{"sfdisk", "mkfs.fat", "mcopy", "mtype", "mdir", "mdel", "mren"} {
		if _, err := exec.LookPath(c); err != nil {
			t.Skipf("%s not installed (Debian packages fdisk, dosfstools, mtools; .ci/install-deps installs them)", c)
		}
	}
	dir := t.TempDir()
	img, part := filepath.Join(dir, "disk.raw"), filepath.Join(dir, "part.img")
	if err := os.WriteFile(img, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	os.Truncate(img, 8<<20)
	script := "label: gpt\nunit: sectors\nstart=2048, size=2048, type=0FC63DAF-8483-4772-8E79-3D69D8477DE4, name=\"root\"\nstart=4096, size=8192, type=" + typ + ", name=\"" + label + "\"\n"
	cmd := exec.Command("sfdisk", "--quiet", "--no-reread", "--no-tell-kernel", img)
	cmd.Stdin = strings.NewReader(script)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("sfdisk: %v %s", err, out)
	}
	if out, err := exec.Command("mkfs.fat", "--invariant", "-n", "APPLIANCE", "-C", part, "4096").CombinedOutput(); err != nil {
		t.Fatalf("mkfs.fat: %v %s", err, out)
	}
	b, _ := os.ReadFile(part)
	f, _ := os.OpenFile(img, os.O_RDWR, 0)
	if _, err := f.WriteAt(b, 4096*512); err != nil {
		t.Fatal(err)
	}
	f.Close()
	return img
}

// TestAreaWriteOnRealFAT: writes through mtools at the partition's offset
// read back through Pick, the sibling partition keeps every byte, and a
// write interrupted earlier (appliance.new left beside or instead of
// appliance.conf) is finished or discarded correctly.
func TestAreaWriteOnRealFAT(t *testing.T) {
	img := testDisk(t, PartLabel, TypeBasicData)
	a, err := Locate(img)
	if err != nil {
		t.Fatal(err)
	}
	if a.Number != 2 || a.Offset != 4096*512 {
		t.Fatalf("located %+v", a)
	}
	sibling := func() string {
		f, _ := os.Open(img)
		defer f.Close()
		b := make([]byte, 2048*512)
		f.ReadAt(b, 2048*512)
		return string(b)
	}
	before := sibling()
	if f, err := Pick(a, 0); err != nil || f.Conf != nil {
		t.Fatalf("empty partition: %+v %v", f, err)
	}
	if err := a.Write([]byte("supernode.software=a\n"), []byte("sig-a")); err != nil {
		t.Fatal(err)
	}
	if f, err := Pick(a, 0); err != nil || string(f.Conf) != "supernode.software=a\n" || string(f.Sig) != "sig-a" || f.Name != ConfFile {
		t.Fatalf("after the first write: %+v %v", f, err)
	}
	// Unsigned now: the old signature must go with the old file.
	if err := a.Write([]byte("supernode.software=b\n"), nil); err != nil {
		t.Fatal(err)
	}
	if f, err := Pick(a, 0); err != nil || string(f.Conf) != "supernode.software=b\n" || f.Sig != nil {
		t.Fatalf("after the unsigned write: %+v %v", f, err)
	}
	names, _ := a.names()
	if len(names) != 1 || !names[ConfFile] {
		t.Errorf("files left on the partition: %v", names)
	}
	// An earlier write stopped after step 2 (appliance.conf deleted):
	// appliance.new is in force; the next write finishes that first.
	a.mtools(nil, "mdel", "::/"+ConfFile)
	tmp := filepath.Join(t.TempDir(), NewFile)
	os.WriteFile(tmp, []byte("supernode.software=c\n"), 0o600)
	a.mtools(nil, "mcopy", tmp, "::/"+NewFile)
	if f, _ := Pick(a, 0); string(f.Conf) != "supernode.software=c\n" || f.Name != NewFile {
		t.Fatalf("interrupted state: %+v", f)
	}
	if err := a.Write([]byte("supernode.software=d\n"), []byte("sig-d")); err != nil {
		t.Fatal(err)
	}
	if f, err := Pick(a, 0); err != nil || string(f.Conf) != "supernode.software=d\n" || string(f.Sig) != "sig-d" {
		t.Fatalf("after finishing an interrupted write: %+v %v", f, err)
	}
	// A partial appliance.new beside appliance.conf (stopped in step 1)
	// is discarded.
	os.WriteFile(tmp, []byte("supernode.softw"), 0o600)
	a.mtools(nil, "mcopy", tmp, "::/"+NewFile)
	if f, _ := Pick(a, 0); string(f.Conf) != "supernode.software=d\n" {
		t.Fatalf("partial new file read: %+v", f)
	}
	if err := a.Write([]byte("supernode.software=e\n"), nil); err != nil {
		t.Fatal(err)
	}
	names, _ = a.names()
	if f, _ := Pick(a, 0); string(f.Conf) != "supernode.software=e\n" || len(names) != 1 {
		t.Fatalf("after discarding a partial write: %+v, files %v", f, names)
	}
	if sibling() != before {
		t.Error("writing the configuration partition changed the partition before it")
	}
}

func TestLocateRefuses(t *testing.T) {
	img := testDisk(t, "something-else", TypeBasicData)
	if _, err := Locate(img); err == nil || !strings.Contains(err.Error(), "has no \"appliance-config\" partition") {
		t.Errorf("no partition: %v", err)
	}
	img = testDisk(t, PartLabel, "0FC63DAF-8483-4772-8E79-3D69D8477DE4")
	if _, err := Locate(img); err == nil || !strings.Contains(err.Error(), "refusing to write it") {
		t.Errorf("wrong type: %v", err)
	}
	f := filepath.Join(t.TempDir(), "not-a-disk")
	os.WriteFile(f, make([]byte, 4096), 0o644)
	if _, err := Locate(f); err == nil || !strings.Contains(err.Error(), "no GPT header") {
		t.Errorf("not a disk: %v", err)
	}
}

func TestMountedOn(t *testing.T) {
	info := "36 25 8:20 / /media/usb rw,nosuid - vfat /dev/sdb4 rw\n37 25 8:1 / / rw - ext4 /dev/sda1 rw\n"
	if err := mountedOn("sdb", info); err == nil || !strings.Contains(err.Error(), "umount /media/usb") {
		t.Errorf("sdb with sdb4 mounted: %v", err)
	}
	for _, dev := range []string{"sdc", "sd", "sdb4x"} {
		if err := mountedOn(dev, info); err != nil {
			t.Errorf("%s: %v", dev, err)
		}
	}
	if err := mountedOn("nvme0n1", "1 2 3:4 / /mnt rw - vfat /dev/nvme0n1p4 rw\n"); err == nil {
		t.Error("nvme0n1p4 mounted not seen")
	}
}
