package disk

import (
	"encoding/binary"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf16"
)

// A GPT written by sfdisk (the tool the builder uses) must read back with
// the same names, types, UUIDs and offsets.
func TestReadGPTFromSfdisk(t *testing.T) {
	if _, err := exec.LookPath("sfdisk"); err != nil {
		t.Skip("sfdisk not installed (package fdisk)")
	}
	img := filepath.Join(t.TempDir(), "d.raw")
	f, _ := os.Create(img)
	f.Truncate(8 << 20)
	f.Close()
	script := `label: gpt
unit: sectors
start=2048, size=4096, type=C12A7328-F81F-11D2-BA4B-00A0C93EC93B, uuid=65687659-0949-4E9F-9EF1-A5A2067EDD32, name="esp"
start=6144, size=2048, type=4F68BCE3-E8CD-4DB1-96E7-FBCAF984B709, uuid=57BBD260-F943-111D-6388-EF238EFB0E8E, name="root", attrs="GUID:60"
`
	cmd := exec.Command("sfdisk", "--quiet", "--no-reread", "--no-tell-kernel", img)
	cmd.Stdin = strings.NewReader(script)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("sfdisk: %v %s", err, out)
	}
	parts, err := ReadGPTFile(img)
	if err != nil {
		t.Fatal(err)
	}
	if len(parts) != 2 {
		t.Fatalf("%+v", parts)
	}
	root, ok := Find(parts, "root")
	if !ok || root.Type != "4F68BCE3-E8CD-4DB1-96E7-FBCAF984B709" || root.UUID != "57bbd260-f943-111d-6388-ef238efb0e8e" ||
		root.Start != 6144*512 || root.Size != 2048*512 || root.Attributes != 1<<60 {
		t.Fatalf("root %+v", root)
	}
}

func TestReadGPTRejectsNonGPT(t *testing.T) {
	img := filepath.Join(t.TempDir(), "x")
	os.WriteFile(img, make([]byte, 4096), 0o644)
	if _, err := ReadGPTFile(img); err == nil {
		t.Fatal("accepted a disk without GPT")
	}
}

// FuzzReadGPT: a hostile image must never panic the reader.
func FuzzReadGPT(f *testing.F) {
	seed := make([]byte, 2048)
	copy(seed[512:], "EFI PART")
	binary.LittleEndian.PutUint64(seed[512+72:], 2)
	binary.LittleEndian.PutUint32(seed[512+80:], 4)
	binary.LittleEndian.PutUint32(seed[512+84:], 128)
	name := utf16.Encode([]rune("root"))
	for i, c := range name {
		binary.LittleEndian.PutUint16(seed[1024+56+2*i:], c)
	}
	seed[1024] = 1
	f.Add(seed)
	f.Fuzz(func(t *testing.T, b []byte) {
		ReadGPT(readerAt(b))
	})
}

type readerAt []byte

func (r readerAt) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 || off >= int64(len(r)) {
		return 0, os.ErrNotExist
	}
	n := copy(p, r[off:])
	if n < len(p) {
		return n, os.ErrNotExist
	}
	return n, nil
}
