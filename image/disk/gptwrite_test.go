package disk

import (
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// TestWriteGPTRoundTrip writes a table, reads it back, and has sfdisk
// (util-linux, an independent reader) verify both headers and CRCs.
func TestWriteGPTRoundTrip(t *testing.T) {
	img := filepath.Join(t.TempDir(), "disk.raw")
	f, err := os.Create(img)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	const size = 64 << 20
	f.Truncate(size)
	parts := []Partition{
		{Number: 1, Name: "esp", Type: "C12A7328-F81F-11D2-BA4B-00A0C93EC93B", UUID: "0a1b2c3d-4e5f-4061-8273-8495a6b7c8d9", Start: 1 << 20, Size: 8 << 20},
		{Number: 2, Name: "supernode_2.0.0", Type: "4F68BCE3-E8CD-4DB1-96E7-FBCAF984B709", UUID: "57bbd260-f943-111d-6388-ef238efb0e8e", Start: 9 << 20, Size: 16 << 20, Attributes: 1 << 60},
		{Number: 4, Name: "appliance-config", Type: "EBD0A0A2-B9E5-4433-87C0-68B6B72699C7", UUID: "11111111-2222-4333-8444-555555555555", Start: 25 << 20, Size: 4 << 20},
	}
	const dg = "9d1e2f3a-4b5c-4d6e-8f70-8192a3b4c5d6"
	if err := WriteGPT(f, size, dg, parts); err != nil {
		t.Fatal(err)
	}
	got, err := ReadGPT(f)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, parts) {
		t.Fatalf("read back\n%+v\nwant\n%+v", got, parts)
	}
	if g, err := DiskGUID(f); err != nil || g != dg {
		t.Fatalf("disk GUID %q %v", g, err)
	}
	if _, err := exec.LookPath("sfdisk"); err == nil {
		out, err := exec.Command("sfdisk", "--verify", img).CombinedOutput()
		if err != nil || strings.Contains(strings.ToLower(string(out)), "corrupt") {
			t.Fatalf("sfdisk --verify: %v\n%s", err, out)
		}
		out, _ = exec.Command("sfdisk", "--dump", img).CombinedOutput()
		if !strings.Contains(strings.ToLower(string(out)), "label-id: "+dg) {
			t.Errorf("sfdisk sees another disk GUID:\n%s", out)
		}
	}
	if err := WriteGPT(f, size, dg, []Partition{{Number: 1, Name: "x", Type: parts[0].Type, UUID: parts[0].UUID, Start: 512, Size: 1 << 20}}); err == nil {
		t.Error("a partition over the primary table was accepted")
	}
}
