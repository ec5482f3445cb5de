package builder

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/supernode-appliance/appliance/image/update"
)

// TestUpdateBundleRoundTrip lays out a small A/B disk the way the build
// does, writes its bundle signed with a fresh key, and stages it the way
// the appliance does: the staged payloads are the slot A partitions.
func TestUpdateBundleRoundTrip(t *testing.T) {
	if _, err := exec.LookPath("sfdisk"); err != nil {
		t.Skip("needs sfdisk")
	}
	dir := t.TempDir()
	const rootHash = "00112233445566778899aabbccddeeff0123456789abcdef0123456789abcdef"
	dataUUID, hashUUID, _ := VerityPartUUIDs(rootHash)
	label := SlotLabel(Version)
	rootData := bytes.Repeat([]byte("erofs!"), 1000)
	treeData := bytes.Repeat([]byte("tree"), 100)
	os.WriteFile(filepath.Join(dir, "root"), rootData, 0o644)
	os.WriteFile(filepath.Join(dir, "tree"), treeData, 0o644)
	parts, size := Layout([]Partition{
		{Name: "esp", Type: TypeESP, UUID: DerivedUUID("e"), Size: mib},
		{Name: label, Type: TypeRootX86_64, UUID: dataUUID, Size: 2 * mib, Source: filepath.Join(dir, "root"), ReadOnly: true},
		{Name: label, Type: TypeRootVerityX864, UUID: hashUUID, Size: mib, Source: filepath.Join(dir, "tree"), ReadOnly: true},
		{Name: "appliance-config", Type: "EBD0A0A2-B9E5-4433-87C0-68B6B72699C7", UUID: DerivedUUID("c"), Size: mib},
		{Name: EmptyLabel, Type: TypeRootX86_64, UUID: DerivedUUID("b"), Size: 2 * mib},
		{Name: EmptyLabel, Type: TypeRootVerityX864, UUID: DerivedUUID("bv"), Size: mib},
	}, 0)
	raw := filepath.Join(dir, "img.raw")
	f, _ := os.Create(raw)
	f.Truncate(size)
	for _, p := range parts {
		if p.Source != "" {
			if err := writeAt(f, p.Start, p.Source); err != nil {
				t.Fatal(err)
			}
		}
	}
	f.Close()
	cmd := exec.Command("sfdisk", "--quiet", "--no-reread", "--no-tell-kernel", raw)
	cmd.Stdin = strings.NewReader(SfdiskScript(DerivedUUID("d"), parts))
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("sfdisk: %v %s", err, out)
	}
	m, _ := json.Marshal(Manifest{BuilderVersion: Version, RootHash: rootHash})
	os.WriteFile(filepath.Join(dir, ManifestFile), m, 0o644)
	os.WriteFile(filepath.Join(dir, "uki.efi"), []byte("MZ uki"), 0o644)
	priv, pub, err := GenerateSigningKey("t", "")
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "k.asc"), priv, 0o600)
	os.WriteFile(filepath.Join(dir, "k.pub.asc"), pub, 0o644)
	key, err := ReadSigningKey(filepath.Join(dir, "k.asc"))
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "update")
	names, err := WriteUpdateBundle(context.Background(), BundleInput{Raw: raw, Manifest: filepath.Join(dir, ManifestFile),
		UKI: filepath.Join(dir, "uki.efi"), Extras: []string{filepath.Join(dir, "absent.json")}, Key: key}, out)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{update.RootName(Version, dataUUID), update.VerityName(Version, hashUUID), update.UKIName(Version), ManifestFile}
	if strings.Join(names, " ") != strings.Join(want, " ") {
		t.Fatalf("bundle %v, want %v", names, want)
	}
	ring, err := update.ReadKey(filepath.Join(dir, "k.pub.asc"))
	if err != nil {
		t.Fatal(err)
	}
	st, err := update.Stage(context.Background(), out, update.Options{Key: ring, MinVersion: Version, WorkDir: filepath.Join(dir, "work")})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Remove()
	if st.Payloads.RootUUID != dataUUID || st.Payloads.VerityUUID != hashUUID || st.Payloads.Version != Version {
		t.Fatalf("staged %+v", st.Payloads)
	}
	for name, data := range map[string][]byte{st.Payloads.Root: rootData, st.Payloads.Verity: treeData} {
		zf, _ := os.Open(filepath.Join(st.Dir, name))
		zr, err := gzip.NewReader(zf)
		if err != nil {
			t.Fatal(err)
		}
		got, _ := io.ReadAll(zr)
		zf.Close()
		if !bytes.HasPrefix(got, data) || len(bytes.Trim(got[len(data):], "\x00")) != 0 {
			t.Errorf("%s: not the partition (%d bytes)", name, len(got))
		}
	}
	// A manifest of another image is refused.
	m2, _ := json.Marshal(Manifest{BuilderVersion: Version, RootHash: strings.Repeat("ab", 32)})
	os.WriteFile(filepath.Join(dir, ManifestFile), m2, 0o644)
	if _, err := WriteUpdateBundle(context.Background(), BundleInput{Raw: raw, Manifest: filepath.Join(dir, ManifestFile), UKI: filepath.Join(dir, "uki.efi")}, out); err == nil || !strings.Contains(err.Error(), "not this image's") {
		t.Fatalf("foreign manifest: %v", err)
	}
}
