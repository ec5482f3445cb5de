package image_test

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/supernode-appliance/appliance/image/builder"
	"github.com/supernode-appliance/appliance/tests/testenv"
)

// packerCLI returns the real Packer (v1.16.0) that sits beside the clone in
// ../shared/tools/packer, with an environment that keeps its plugins and
// config in dir and never calls home. Packer is a test tool only (BUSL,
// not shipped) and the Go module proxy does not serve it, so without that
// file the test skips, in CI too, saying why.
func packerCLI(t *testing.T, root, dir string) (bin string, env []string) {
	t.Helper()
	wrapper := filepath.Join(filepath.Dir(root), "shared", "tools", "packer")
	if _, err := os.Stat(wrapper); err != nil {
		t.Skipf("no Packer at %s (the shared tools folder beside the clone); the Packer front door is not tested", wrapper)
	}
	out, err := exec.Command(wrapper, "--path").Output()
	if err != nil {
		t.Fatalf("%s --path: %v", wrapper, err)
	}
	env = append(os.Environ(),
		"PACKER_PLUGIN_PATH="+filepath.Join(dir, "plugins"),
		"PACKER_CONFIG_DIR="+filepath.Join(dir, "config"),
		"HOME="+dir,
		"PACKER_CHECKPOINT_DISABLE=1",
		"PACKER_NO_COLOR=1",
	)
	return strings.TrimSpace(string(out)), env
}

func readManifest(t *testing.T, dir string) builder.Manifest {
	t.Helper()
	var m builder.Manifest
	b, err := os.ReadFile(filepath.Join(dir, "manifest.json"))
	if err == nil {
		err = json.Unmarshal(b, &m)
	}
	if err != nil {
		t.Fatalf("manifest in %s: %v", dir, err)
	}
	return m
}

// TestPackerBuild is the Packer front door end to end: install the plugin
// with `packer plugins install --path`, `packer validate`, then `packer
// build` of the default template from another directory (the template finds
// its inputs itself), and the image's root hash must equal that of the
// standalone CLI's build of the same template (testenv.Image, shared with
// the other image tests): one extra image build. Before it, two cheap
// checks: a template without its inputs fails at once with one sentence,
// and an interrupted Packer build says "cancelled" and leaves nothing.
func TestPackerBuild(t *testing.T) {
	testenv.RequireRoot(t)
	testenv.RequireCommands(t, "mmdebstrap", "qemu-img")
	root := testenv.RepoRoot(t)
	tmp := t.TempDir()
	packer, env := packerCLI(t, root, tmp)
	bin := testenv.BuildBinaries(t)
	tmpl := filepath.Join(root, "image", "appliance.pkr.hcl")
	run := func(dir string, args ...string) (string, error) {
		cmd := exec.Command(packer, args...)
		cmd.Dir, cmd.Env = dir, env
		out, err := cmd.CombinedOutput()
		return string(out), err
	}

	if out, err := run(tmp, "plugins", "install", "--path", filepath.Join(bin, "packer-plugin-supernode"), "github.com/supernode-appliance/supernode"); err != nil {
		t.Fatalf("packer plugins install --path: %v\n%s", err, out)
	}
	if out, err := run(filepath.Join(root, "image"), "validate", "appliance.pkr.hcl"); err != nil {
		t.Fatalf("packer validate: %v\n%s", err, out)
	}

	t.Run("missing inputs", func(t *testing.T) {
		dir := t.TempDir()
		bad := filepath.Join(dir, "bad.pkr.hcl")
		body, _ := os.ReadFile(tmpl)
		body = bytes.Replace(body, []byte(`"${path.root}/../bin"`), []byte(`"${path.root}/no-bin"`), 1)
		os.WriteFile(bad, body, 0o644)
		out, err := run(dir, "build", bad)
		if err == nil || !strings.Contains(out, "missing build inputs "+filepath.Join(dir, "no-bin", builder.MultiCall)) {
			t.Fatalf("packer build without binaries: %v\n%s", err, out)
		}
		if _, err := os.Stat(filepath.Join(dir, "out")); err == nil {
			t.Error("a build that could not start created out/")
		}
	})

	t.Run("interrupt", func(t *testing.T) {
		dir := t.TempDir()
		cmd := exec.Command(packer, "build", tmpl)
		cmd.Dir, cmd.Env = dir, env
		// Ctrl-C in a terminal signals the whole process group. Packer
		// relies on that: its outer (panicwrap) process ignores SIGINT and
		// the inner one cancels the build.
		cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
		log := interruptAtBootstrap(t, cmd, func() { syscall.Kill(-cmd.Process.Pid, syscall.SIGINT) },
			func() { syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) })
		if !strings.Contains(log.String(), "cancelled") || strings.Contains(log.String(), "context canceled") {
			t.Errorf("an interrupted build must say it was cancelled:\n%s", log.String())
		}
		if _, err := os.Stat(filepath.Join(dir, "out")); err == nil {
			t.Errorf("out/ is left after the interrupted build:\n%s", log.String())
		}
	})

	t.Run("same root hash as the CLI", func(t *testing.T) { packerMatchesCLI(t, run, tmp, tmpl, bin) })
}

// packerMatchesCLI runs the one real packer build and compares it with the
// standalone CLI's image of the same template.
func packerMatchesCLI(t *testing.T, run func(string, ...string) (string, error), tmp, tmpl, bin string) {
	start := time.Now()
	out, err := run(tmp, "build", tmpl)
	if err != nil {
		t.Fatalf("packer build: %v\n%s", err, out)
	}
	t.Logf("packer build took %s", time.Since(start).Round(time.Second))
	got := readManifest(t, filepath.Join(tmp, "out"))
	// The standalone image second (usually cached by the other image tests;
	// SUPERNODE_TEST_IMAGE may be built meanwhile).
	want := readManifest(t, testenv.Image(t))
	if !equalMaps(got.Inputs["binaries_sha256"], want.Inputs["binaries_sha256"]) {
		t.Fatalf("the standalone image was built from other binaries than bin/ now holds (SUPERNODE_TEST_IMAGE?), so the root hashes cannot be compared:\n packer %v\n cli    %v",
			got.Inputs["binaries_sha256"], want.Inputs["binaries_sha256"])
	}
	if got.RootHash != want.RootHash {
		t.Fatalf("packer build root hash %s, standalone CLI %s (same template, same inputs)", got.RootHash, want.RootHash)
	}
	// One version: the manifest of both builds, the CLI and the plugin.
	cliVersion, _ := exec.Command(filepath.Join(bin, "appliance"), "--version").Output()
	pluginVersion, _ := exec.Command(filepath.Join(bin, "packer-plugin-supernode"), "--version").Output()
	v := strings.TrimPrefix(strings.TrimSpace(string(cliVersion)), "appliance ")
	if got.BuilderVersion != v || want.BuilderVersion != v || strings.TrimSpace(string(pluginVersion)) != "packer-plugin-supernode "+v {
		t.Errorf("versions disagree: manifest (packer) %q, manifest (CLI) %q, appliance --version %q, plugin --version %q",
			got.BuilderVersion, want.BuilderVersion, cliVersion, pluginVersion)
	}
	t.Logf("packer build and standalone CLI: same root hash %s", got.RootHash)
}

func equalMaps(a, b any) bool {
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	return len(ja) > 2 && bytes.Equal(ja, jb)
}
