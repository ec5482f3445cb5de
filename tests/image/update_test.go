package image_test

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/supernode-appliance/appliance/image/builder"
	"github.com/supernode-appliance/appliance/image/disk"
	"github.com/supernode-appliance/appliance/image/update"
	"github.com/supernode-appliance/appliance/tests/testenv"
)

// TestUpdateBundleOfBuiltImage: the build wrote update/ (unsigned: the
// test template has no signing_key); `appliance update-bundle -key`
// writes a signed one for the same image; the payloads are slot A's
// partitions and the UKI of this version (its roothash= names slot A's
// UUIDs); the real appliance-update binary accepts the bundle with the
// operator's public key and refuses it, one line, exit 1, once a payload
// is changed or when it is older than the running version.
func TestUpdateBundleOfBuiltImage(t *testing.T) {
	testenv.RequireCommands(t, "mcopy")
	dir := testenv.Image(t)
	bin, _ := appliance(t)
	var m builder.Manifest
	readJSON(t, filepath.Join(dir, builder.ManifestFile), &m)
	v := m.BuilderVersion
	for _, n := range []string{update.RootName(v, m.Partitions["root"]), update.VerityName(v, m.Partitions["root-verity"]), update.UKIName(v), builder.SumsFile} {
		if _, err := os.Stat(filepath.Join(dir, builder.UpdateDir, n)); err != nil {
			t.Errorf("the build's %s/ lacks %s", builder.UpdateDir, n)
		}
	}

	work := t.TempDir()
	keys := filepath.Join(work, "keys", "operator")
	if out, err := exec.Command(bin, "keygen", keys).CombinedOutput(); err != nil {
		t.Fatalf("keygen: %v %s", err, out)
	}
	bundle := filepath.Join(work, "bundle")
	out, err := exec.Command(bin, "update-bundle", "-key", keys+".asc", "-out", bundle, dir).CombinedOutput()
	if err != nil {
		t.Fatalf("update-bundle: %v %s", err, out)
	}
	t.Logf("%s", out)

	// The root payload is slot A, byte for byte.
	parts, err := disk.ReadGPTFile(filepath.Join(dir, "supernode-appliance.raw"))
	if err != nil {
		t.Fatal(err)
	}
	slotA := disk.Slots(parts, builder.TypeRootX86_64)[0]
	raw, _ := os.Open(filepath.Join(dir, "supernode-appliance.raw"))
	want, _ := io.ReadAll(io.NewSectionReader(raw, slotA.Start, slotA.Size))
	raw.Close()
	zf, err := os.Open(filepath.Join(bundle, update.RootName(v, slotA.UUID)))
	if err != nil {
		t.Fatalf("root payload not named for slot A's UUID %s: %v", slotA.UUID, err)
	}
	zr, _ := gzip.NewReader(zf)
	got, _ := io.ReadAll(zr)
	zf.Close()
	if !bytes.Equal(got, want) {
		t.Errorf("root payload (%d bytes) is not slot A (%d bytes)", len(got), len(want))
	}
	uki, _ := os.Open(filepath.Join(bundle, update.UKIName(v)))
	cmdline, _ := disk.UKISection(uki, ".cmdline")
	osrel, _ := disk.UKISection(uki, ".osrel")
	uki.Close()
	if !strings.Contains(cmdline, "roothash="+m.RootHash) || !strings.Contains(osrel, "IMAGE_VERSION="+v) {
		t.Errorf("bundle UKI: cmdline %q, osrel %q; want roothash=%s, IMAGE_VERSION=%s", cmdline, osrel, m.RootHash, v)
	}

	// The appliance's verifier, as it runs there (-check: stage only).
	osRelease := filepath.Join(work, "os-release")
	verify := func(running, src string) (string, error) {
		os.WriteFile(osRelease, []byte("IMAGE_VERSION="+running+"\n"), 0o644)
		cmd := exec.Command(filepath.Join(filepath.Dir(bin), "appliance-update"), "-check", "-key", keys+".pub.asc",
			"-os-release", osRelease, "-work", filepath.Join(work, "staging"), src)
		b, err := cmd.CombinedOutput()
		return strings.TrimSpace(string(b)), err
	}
	if out, err := verify(v, bundle); err != nil || !strings.Contains(out, "verified: version "+v) {
		t.Fatalf("appliance-update -check refuses the signed bundle: %v %s", err, out)
	}
	if out, err := verify("999.0.0", bundle); err == nil || !strings.Contains(out, "downgrades are refused") || strings.Count(out, "\n") > 0 {
		t.Errorf("downgrade: %v %q", err, out)
	}
	if out, err := verify(v, filepath.Join(dir, builder.UpdateDir)); err == nil || !strings.Contains(out, "is not signed") {
		t.Errorf("the unsigned build bundle: %v %q", err, out)
	}
	f, _ := os.OpenFile(filepath.Join(bundle, update.UKIName(v)), os.O_WRONLY|os.O_APPEND, 0)
	f.Write([]byte("x"))
	f.Close()
	if out, err := verify(v, bundle); err == nil || !strings.Contains(out, "does not match its sha256") || strings.Count(out, "\n") > 0 {
		t.Errorf("tampered UKI: %v %q", err, out)
	}
	if entries, _ := os.ReadDir(filepath.Join(work, "staging")); len(entries) != 0 {
		t.Errorf("staging left %d entries", len(entries))
	}
}

func readJSON(t *testing.T, path string, v any) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}
