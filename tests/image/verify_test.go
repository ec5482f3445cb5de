package image_test

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/supernode-appliance/appliance/image/builder"
	"github.com/supernode-appliance/appliance/tests/testenv"
)

// TestVerifyBuiltImage: `appliance verify` accepts the built output, and
// the SBOM and manifest describe the final root: none of the packages the
// strip removed, every project binary with its Go modules and the very
// bytes `make build` produced.
func TestVerifyBuiltImage(t *testing.T) {
	dir := testenv.Image(t)
	bin, _ := appliance(t)
	out, err := exec.Command(bin, "verify", dir).CombinedOutput()
	if err != nil {
		t.Fatalf("verify refuses the built image: %v\n%s", err, out)
	}
	t.Logf("%s", out)
	if !strings.Contains(string(out), "signature was not checked") {
		t.Errorf("verify without -key does not say the signature went unchecked:\n%s", out)
	}

	var m builder.Manifest
	b, err := os.ReadFile(filepath.Join(dir, builder.ManifestFile))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	inImage := map[string]bool{}
	for _, p := range m.Packages {
		inImage[p.Name] = true
	}
	removed := map[string]bool{}
	for _, p := range m.RemovedPackages {
		removed[p] = true
	}
	for _, p := range append(builder.RemovePackages, builder.ShellPackages...) {
		if inImage[p] || !removed[p] {
			t.Errorf("package %s: in the manifest's packages %v, in removed_packages %v", p, inImage[p], removed[p])
		}
	}

	sbom, err := os.ReadFile(filepath.Join(dir, builder.SBOMFile))
	if err != nil {
		t.Fatal(err)
	}
	if err := builder.ValidateSBOM(sbom); err != nil {
		t.Fatalf("the SBOM is not valid SPDX 2.3: %v", err)
	}
	var doc struct {
		Packages []struct {
			SPDXID       string `json:"SPDXID"`
			Name         string `json:"name"`
			ExternalRefs []struct {
				Locator string `json:"referenceLocator"`
			} `json:"externalRefs"`
		} `json:"packages"`
		Files []struct {
			FileName  string `json:"fileName"`
			Checksums []struct {
				Algorithm string `json:"algorithm"`
				Value     string `json:"checksumValue"`
			} `json:"checksums"`
		} `json:"files"`
	}
	json.Unmarshal(sbom, &doc)
	debs, gomods, stdlib := 0, 0, 0
	for _, p := range doc.Packages {
		switch {
		case strings.HasPrefix(p.SPDXID, "SPDXRef-deb-"):
			debs++
			if !inImage[p.Name] {
				t.Errorf("the SBOM lists %s, which the manifest does not", p.Name)
			}
		case strings.HasPrefix(p.SPDXID, "SPDXRef-gomod-"):
			gomods++
		case strings.HasPrefix(p.SPDXID, "SPDXRef-gostdlib-"):
			stdlib++
		}
	}
	if debs != len(m.Packages) || gomods == 0 || stdlib == 0 {
		t.Errorf("SBOM: %d Debian packages (manifest: %d), %d Go modules, %d standard libraries", debs, len(m.Packages), gomods, stdlib)
	}
	t.Logf("SBOM: %d Debian packages (%d removed by the strip), %d Go modules, %d files with checksums", debs, len(m.RemovedPackages), gomods, len(doc.Files))
	// The binaries in the image are the ones this checkout built (an
	// image from elsewhere, SUPERNODE_TEST_IMAGE, may be of another commit).
	if os.Getenv("SUPERNODE_TEST_IMAGE") != "" {
		return
	}
	built := testenv.BuildBinaries(t)
	if len(m.GoBinaries) != len(builder.Binaries) {
		t.Errorf("go_binaries %+v; want %v", m.GoBinaries, builder.Binaries)
	}
	for _, g := range m.GoBinaries {
		want, err := sha256Of(filepath.Join(built, filepath.Base(g.Path)))
		if err != nil || want != g.SHA256 || g.Modules == 0 {
			t.Errorf("%s: sha256 %s in the image, %s built (%v); %d modules", g.Path, g.SHA256, want, err, g.Modules)
		}
	}
}

// TestVerifyRefusesTamperedBuild: one changed byte in the SBOM of a real
// build output (the images linked, the small files copied) is refused.
func TestVerifyRefusesTamperedBuild(t *testing.T) {
	dir := testenv.Image(t)
	bin, _ := appliance(t)
	copyDir := t.TempDir()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		src, dst := filepath.Join(dir, e.Name()), filepath.Join(copyDir, e.Name())
		if strings.HasSuffix(e.Name(), ".json") || strings.HasPrefix(e.Name(), "SHA256SUMS") {
			b, _ := os.ReadFile(src)
			os.WriteFile(dst, b, 0o644)
		} else {
			os.Symlink(src, dst)
		}
	}
	sbom := filepath.Join(copyDir, builder.SBOMFile)
	b, _ := os.ReadFile(sbom)
	os.WriteFile(sbom, []byte(strings.Replace(string(b), `"SPDX-2.3"`, `"SPDX-2.2"`, 1)), 0o644)
	out, err := exec.Command(bin, "verify", copyDir).CombinedOutput()
	if exitCode(err) != 1 || !strings.Contains(string(out), "sbom.spdx.json does not match its sum in SHA256SUMS") {
		t.Fatalf("a tampered SBOM: exit %d:\n%s", exitCode(err), out)
	}
}

func sha256Of(path string) (string, error) {
	out, err := exec.Command("sha256sum", path).Output()
	if err != nil {
		return "", err
	}
	return strings.Fields(string(out))[0], nil
}
