package install

import (
	"bytes"
	"context"
	"crypto/rand"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/supernode-appliance/appliance/image/disk"
)

// image writes a small disk in the appliance's layout (ESP, root and
// verity, config, an empty slot B root, and /var as the first boot left
// it), each partition filled with random bytes.
func image(t *testing.T, path string) []disk.Partition {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	const mib = 1 << 20
	parts := []disk.Partition{
		{Number: 1, Name: "esp", Type: typeESP, UUID: "0a1b2c3d-4e5f-4061-8273-8495a6b7c8d9", Start: 1 * mib, Size: 4 * mib},
		{Number: 2, Name: "supernode_1.0.0", Type: typeRoot, UUID: "57bbd260-f943-111d-6388-ef238efb0e8e", Start: 5 * mib, Size: 8 * mib, Attributes: 1 << 60},
		{Number: 3, Name: "supernode_1.0.0", Type: typeRootVerity, UUID: "6a9e5fd2-3f0b-4c1e-9d8a-7b6c5d4e3f2a", Start: 13 * mib, Size: 1 * mib, Attributes: 1 << 60},
		{Number: 4, Name: "appliance-config", Type: "EBD0A0A2-B9E5-4433-87C0-68B6B72699C7", UUID: "11111111-2222-4333-8444-555555555555", Start: 14 * mib, Size: 1 * mib},
		{Number: 5, Name: "_empty", Type: typeRoot, UUID: "22222222-2222-4333-8444-555555555555", Start: 15 * mib, Size: 8 * mib},
		{Number: 7, Name: "var", Type: typeVar, UUID: "33333333-2222-4333-8444-555555555555", Start: 23 * mib, Size: 8 * mib},
	}
	const size = 32 * mib
	f.Truncate(size)
	for _, p := range parts {
		if p.Name == "_empty" {
			continue
		}
		if _, err := io.Copy(io.NewOffsetWriter(f, p.Start), io.LimitReader(rand.Reader, p.Size)); err != nil {
			t.Fatal(err)
		}
	}
	if err := disk.WriteGPT(f, size, "9d1e2f3a-4b5c-4d6e-8f70-8192a3b4c5d6", parts); err != nil {
		t.Fatal(err)
	}
	return parts
}

func read(t *testing.T, path string, off, n int64) []byte {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	b := make([]byte, n)
	if _, err := f.ReadAt(b, off); err != nil {
		t.Fatal(err)
	}
	return b
}

func TestInstallCopiesAndRenames(t *testing.T) {
	dir := t.TempDir()
	src, dst := filepath.Join(dir, "stick.raw"), filepath.Join(dir, "disk.raw")
	parts := image(t, src)
	if err := os.WriteFile(dst, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	os.Truncate(dst, 128<<20)
	if ok, why, err := Empty(dst); !ok || err != nil {
		t.Fatalf("a zeroed disk is not empty: %s %v", why, err)
	}
	var progress strings.Builder
	if err := Install(context.Background(), Options{Source: src, Target: dst, Progress: &progress}); err != nil {
		t.Fatal(err)
	}
	t.Log(progress.String())
	got, err := disk.ReadGPTFile(dst)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 5 {
		t.Fatalf("installed %d partitions, want 5 (no /var): %+v", len(got), got)
	}
	for i, p := range got {
		want := parts[i]
		if p.Number != want.Number || p.Start != want.Start || p.Size != want.Size || p.Type != want.Type || p.Name != want.Name || p.Attributes != want.Attributes {
			t.Errorf("partition %d: %+v, want %+v", i, p, want)
		}
		keepUUID := p.Type == typeRoot || p.Type == typeRootVerity
		if keepUUID != (p.UUID == want.UUID) {
			t.Errorf("partition %d (%s): UUID %s (source %s); root and verity keep theirs (roothash= finds them), the others get new ones", p.Number, p.Name, p.UUID, want.UUID)
		}
		if !bytes.Equal(read(t, src, p.Start, p.Size), read(t, dst, p.Start, p.Size)) {
			t.Errorf("partition %d (%s) differs after the copy", p.Number, p.Name)
		}
	}
	sf, _ := os.Open(src)
	df, _ := os.Open(dst)
	a, _ := disk.DiskGUID(sf)
	b, _ := disk.DiskGUID(df)
	sf.Close()
	df.Close()
	if a == b || b == "" {
		t.Errorf("disk GUID %q kept (source %q)", b, a)
	}

	// The installed disk is no longer empty: a second install is refused,
	// and goes through only when forced.
	err = Install(context.Background(), Options{Source: src, Target: dst})
	if err == nil || !strings.Contains(err.Error(), "is not empty (it holds a GPT partition table); refused: set appliance-install.force=1") {
		t.Fatalf("non-empty target: %v", err)
	}
	if err := Install(context.Background(), Options{Source: src, Target: dst, Force: true}); err != nil {
		t.Fatalf("forced: %v", err)
	}

	small := filepath.Join(dir, "small.raw")
	os.WriteFile(small, nil, 0o644)
	os.Truncate(small, 24<<20)
	if err := Install(context.Background(), Options{Source: src, Target: small}); err == nil || !strings.Contains(err.Error(), "the appliance needs at least") {
		t.Fatalf("small target: %v", err)
	}
	if err := Install(context.Background(), Options{Source: small, Target: dst, Force: true}); err == nil || !strings.Contains(err.Error(), "boot disk") {
		t.Fatalf("source without GPT: %v", err)
	}
}

func TestEmptyNamesWhatItFound(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "d")
	os.WriteFile(p, nil, 0o644)
	os.Truncate(p, 8<<20)
	f, _ := os.OpenFile(p, os.O_RDWR, 0)
	f.WriteAt([]byte{0x55, 0xAA}, 510)
	f.Close()
	if ok, why, _ := Empty(p); ok || why != "an MBR partition table or boot sector" {
		t.Errorf("MBR: %v %q", ok, why)
	}
	os.Truncate(p, 0)
	os.Truncate(p, 8<<20)
	f, _ = os.OpenFile(p, os.O_RDWR, 0)
	f.WriteAt([]byte("x"), 8<<20-10)
	f.Close()
	if ok, why, _ := Empty(p); ok || !strings.Contains(why, "end") {
		t.Errorf("backup table: %v %q", ok, why)
	}
}

func TestPickTarget(t *testing.T) {
	sys, dev := t.TempDir(), t.TempDir()
	// A fake /sys/class/block is not enough to open devices; PickTarget
	// with an explicit target only refuses the boot disk itself.
	src := filepath.Join(dev, "vda")
	os.WriteFile(src, nil, 0o644)
	if _, err := PickTarget(Options{Source: src, Target: src, SysBlock: sys}); err == nil || !strings.Contains(err.Error(), "the disk this appliance booted from") {
		t.Fatalf("boot disk as target: %v", err)
	}
	for _, n := range []string{"loop0", "zram0", "dm-0", "sr0"} {
		os.MkdirAll(filepath.Join(sys, n), 0o755)
	}
	os.MkdirAll(filepath.Join(sys, "vdb"), 0o755)
	os.WriteFile(filepath.Join(sys, "vdb", "ro"), []byte("1\n"), 0o644)
	os.MkdirAll(filepath.Join(sys, "vdc"), 0o755)
	os.WriteFile(filepath.Join(sys, "vdc", "size"), []byte("2048\n"), 0o644)
	os.MkdirAll(filepath.Join(sys, "vdc1"), 0o755)
	os.WriteFile(filepath.Join(sys, "vdc1", "partition"), []byte("1\n"), 0o644)
	disks, err := Disks(sys)
	if err != nil || strings.Join(disks, " ") != "/dev/vdc" {
		t.Fatalf("disks %v %v: only vdc may take an installation", disks, err)
	}
}
