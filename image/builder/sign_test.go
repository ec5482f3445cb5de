package builder

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/hashicorp/packer-plugin-sdk/multistep"
)

// testKey writes a throwaway operator key pair into dir.
func testKey(t *testing.T, dir, name string) (privPath, pubPath string) {
	t.Helper()
	priv, pub, err := GenerateSigningKey(name, name+"@example.invalid")
	if err != nil {
		t.Fatal(err)
	}
	privPath, pubPath = filepath.Join(dir, name+".asc"), filepath.Join(dir, name+".pub.asc")
	if err := os.WriteFile(privPath, priv, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(pubPath, pub, 0o644); err != nil {
		t.Fatal(err)
	}
	return privPath, pubPath
}

// buildOutput runs the manifest and publish steps on a fixture root and two
// fake images, as the end of a real build does, and returns output_dir.
func buildOutput(t *testing.T, signingKey string) string {
	t.Helper()
	return buildOutputWith(t, signingKey, "")
}

// buildOutputWith is buildOutput with previous_profile set.
func buildOutputWith(t *testing.T, signingKey, previousProfile string) string {
	t.Helper()
	root := fixtureRoot(t)
	inv := stripFixture(t, root)
	work := t.TempDir()
	staging, out := filepath.Join(work, "staging"), filepath.Join(work, "out")
	os.MkdirAll(staging, 0o755)
	os.MkdirAll(out, 0o755)
	os.WriteFile(filepath.Join(staging, "img.raw"), []byte("raw disk image"), 0o644)
	os.WriteFile(filepath.Join(staging, "img.qcow2"), []byte("qcow2 disk image"), 0o644)
	tmpl := filepath.Join(work, "appliance.pkr.hcl")
	os.WriteFile(tmpl, []byte(`source "supernode" "x" {}`), 0o644)
	st := &State{
		Config: &Config{ImageName: "img", Suite: "trixie", BinDir: t.TempDir(), SourceDir: ".", SigningKey: signingKey,
			PreviousProfile: previousProfile, templatePath: tmpl},
		Started: time.Now(), Epoch: 1795676271, Staging: staging, OutputDir: out, Mirror: "http://mirror.invalid/debian",
		RootHash: strings.Repeat("0123456789abcdef", 4), KernelVersion: "6.12.0-test-cloud-amd64",
		Inventory: inv, Packages: debPackages(inv.Packages),
	}
	state := new(multistep.BasicStateBag)
	state.Put(stateKey, st)
	for _, step := range []multistep.Step{&StepWriteManifest{}, &StepPublishArtifacts{}} {
		if a := step.Run(context.Background(), state); a != multistep.ActionContinue {
			t.Fatalf("%T: %v", step, state.Get("error"))
		}
	}
	return out
}

func TestSignedOutputVerifies(t *testing.T) {
	keys := t.TempDir()
	priv, pub := testKey(t, keys, "operator")
	out := buildOutput(t, priv)
	entries, _ := os.ReadDir(out)
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	if got := strings.Join(names, " "); got != "RELEASE-NOTES.md SHA256SUMS SHA256SUMS.gpg hardening-profile.hcl img.qcow2 img.raw manifest.json provenance.intoto.json sbom.cdx.json sbom.spdx.json" {
		t.Fatalf("output: %s", got)
	}
	pubKey, _ := os.ReadFile(pub)
	r := VerifyOutput(out, pubKey)
	if !r.OK() || r.Signer == "" || r.Unchecked != "" {
		t.Fatalf("a fresh signed output is refused: %q", r.Problems)
	}
	for _, p := range r.Passed {
		t.Log(p)
	}
	sums, _ := os.ReadFile(filepath.Join(out, SumsFile))
	for _, n := range []string{"img.raw", "img.qcow2", ManifestFile, SBOMFile, CycloneDXFile, ProvenanceFile} {
		if !strings.Contains(string(sums), "  "+n+"\n") {
			t.Errorf("%s does not cover %s", SumsFile, n)
		}
	}
	// The manifest carries the root hash the offline audit takes.
	var m Manifest
	b, _ := os.ReadFile(filepath.Join(out, ManifestFile))
	json.Unmarshal(b, &m)
	if m.RootHash != r.RootHash || len(m.RemovedPackages) != 2 || len(m.GoBinaries) != 1 || m.GoBinaries[0].Modules == 0 {
		t.Errorf("manifest: root %s removed %v go %+v", m.RootHash, m.RemovedPackages, m.GoBinaries)
	}
	// The provenance names the source commit, the template and the packages.
	prov, _ := os.ReadFile(filepath.Join(out, ProvenanceFile))
	_, pred, err := ReadProvenance(prov)
	if err != nil {
		t.Fatal(err)
	}
	deps := map[string]string{}
	for _, d := range pred.GetBuildDefinition().GetResolvedDependencies() {
		deps[d.GetName()] = d.GetUri() + " " + d.GetDigest()["sha256"] + d.GetDigest()["gitCommit"]
	}
	if !strings.Contains(deps["source"], "@") || deps["libc6"] == "" || !strings.HasPrefix(deps["template:"+filepath.Join(filepath.Dir(out), "appliance.pkr.hcl")], " ") {
		t.Errorf("resolved dependencies: %v", deps)
	}
	if v := pred.GetRunDetails().GetBuilder().GetVersion(); v["appliance-builder"] == "" || v["go"] == "" || v["kernel"] == "" {
		t.Errorf("builder versions: %v", v)
	}
}

// TestVerifyRefuses: every way to forge an output is refused with a
// sentence that says what is wrong.
func TestVerifyRefuses(t *testing.T) {
	keys := t.TempDir()
	priv, pub := testKey(t, keys, "operator")
	otherPriv, _ := testKey(t, keys, "mallory")
	pubKey, _ := os.ReadFile(pub)
	cases := []struct {
		name   string
		forge  func(t *testing.T, dir string)
		signed string
		want   string
	}{
		{"tampered artifact", func(t *testing.T, dir string) {
			os.WriteFile(filepath.Join(dir, "img.raw"), []byte("raw disk imagE"), 0o644)
		}, priv, "img.raw does not match its sum in SHA256SUMS"},
		{"tampered SHA256SUMS", func(t *testing.T, dir string) {
			os.WriteFile(filepath.Join(dir, "img.raw"), []byte("evil"), 0o644)
			sums, _ := SHA256SUMS(dir, []string{"img.raw", "img.qcow2", ManifestFile, SBOMFile, CycloneDXFile, ProvenanceFile})
			os.WriteFile(filepath.Join(dir, SumsFile), sums, 0o644)
		}, priv, "SHA256SUMS was changed after it was signed"},
		{"signature by another key", func(t *testing.T, dir string) {}, otherPriv, "signed by another key"},
		{"missing signature", func(t *testing.T, dir string) { os.Remove(filepath.Join(dir, SignatureFile)) }, priv, "SHA256SUMS.gpg is missing"},
		{"unsigned build", func(t *testing.T, dir string) {}, "", "SHA256SUMS.gpg is missing"},
		{"tampered manifest", func(t *testing.T, dir string) {
			b, _ := os.ReadFile(filepath.Join(dir, ManifestFile))
			os.WriteFile(filepath.Join(dir, ManifestFile), []byte(strings.Replace(string(b), "0123", "ffff", 1)), 0o644)
		}, priv, "manifest.json does not match its sum"},
		{"file not covered", func(t *testing.T, dir string) {
			os.WriteFile(filepath.Join(dir, "img.vmdk"), []byte("slipped in"), 0o644)
		}, priv, "img.vmdk is not covered by SHA256SUMS"},
		{"FIFO in place of an image", func(t *testing.T, dir string) {
			os.Remove(filepath.Join(dir, "img.raw"))
			if err := syscall.Mkfifo(filepath.Join(dir, "img.raw"), 0o644); err != nil {
				t.Skip(err)
			}
		}, priv, "img.raw is not a regular file"},
		{"missing SHA256SUMS", func(t *testing.T, dir string) { os.Remove(filepath.Join(dir, SumsFile)) }, priv, "SHA256SUMS is missing"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := buildOutput(t, c.signed)
			c.forge(t, dir)
			r := VerifyOutput(dir, pubKey)
			if r.OK() {
				t.Fatalf("accepted; passed: %q", r.Passed)
			}
			if !strings.Contains(strings.Join(r.Problems, "\n"), c.want) {
				t.Errorf("problems %q; want one saying %q", r.Problems, c.want)
			}
		})
	}
}

// TestSignatureVerifiesWithGPG: systemd-sysupdate checks SHA256SUMS.gpg
// with gpg and a keyring; the signature must pass there too.
func TestSignatureVerifiesWithGPG(t *testing.T) {
	gpg, err := exec.LookPath("gpg")
	if err != nil {
		t.Skip("gpg not installed")
	}
	keys := t.TempDir()
	priv, pub := testKey(t, keys, "operator")
	out := buildOutput(t, priv)
	home := t.TempDir()
	ring := filepath.Join(home, "import-pubring.gpg")
	if b, err := exec.Command(gpg, "--homedir", home, "--batch", "--no-default-keyring", "--keyring", ring, "--import", pub).CombinedOutput(); err != nil {
		t.Fatalf("gpg --import: %v\n%s", err, b)
	}
	// The arguments systemd-sysupdate (257, src/sysupdate/sysupdate-resource.c) passes.
	cmd := exec.Command(gpg, "--homedir", home, "--no-options", "--no-default-keyring", "--no-auto-key-locate",
		"--no-auto-check-trustdb", "--batch", "--trust-model=always", "--keyring="+ring,
		"--verify", filepath.Join(out, SignatureFile), filepath.Join(out, SumsFile))
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("gpg refuses the signature: %v\n%s", err, b)
	}
}

func TestParseSHA256SUMS(t *testing.T) {
	sum := strings.Repeat("a", 64)
	if _, err := ParseSHA256SUMS([]byte(sum + "  ../etc/passwd\n")); err == nil {
		t.Error("a name with a directory part was accepted")
	}
	if _, err := ParseSHA256SUMS([]byte(sum + "  a\n" + sum + " *a\n")); err == nil {
		t.Error("a name listed twice was accepted")
	}
	m, err := ParseSHA256SUMS([]byte(sum + "  img.raw\n" + sum + " *img.qcow2\n"))
	if err != nil || len(m) != 2 {
		t.Errorf("%v %v", m, err)
	}
}

func TestSigningKeyOption(t *testing.T) {
	dir := t.TempDir()
	_, pub := testKey(t, dir, "operator")
	if _, err := ReadSigningKey(pub); err == nil || !strings.Contains(err.Error(), "private key") {
		t.Errorf("a public key as signing_key: %v", err)
	}
	junk := filepath.Join(dir, "junk.asc")
	os.WriteFile(junk, []byte("not a key"), 0o600)
	if _, err := ReadSigningKey(junk); err == nil || !strings.Contains(err.Error(), "not an armored OpenPGP key") {
		t.Errorf("junk as signing_key: %v", err)
	}
}
