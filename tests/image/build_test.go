package image_test

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/supernode-appliance/appliance/image/disk"
	"github.com/supernode-appliance/appliance/tests/testenv"
)

func appliance(t *testing.T) (bin, root string) {
	t.Helper()
	return filepath.Join(testenv.BuildBinaries(t), "appliance"), testenv.RepoRoot(t)
}

// Operator mistakes stop before any work with one sentence naming the
// problem and the fix.
func TestBuildRejectsBadTemplates(t *testing.T) {
	bin, root := appliance(t)
	dir := t.TempDir()
	cases := map[string]struct{ body, want string }{
		"unknown key":  {`source "supernode" "a" { colour = "red" }`, `An argument named "colour" is not expected here`},
		"impossible":   {`source "supernode" "a" { formats = ["qcow2"] }`, `formats: must include "raw"`},
		"missing file": {"", "not found; pass the path of a .pkr.hcl file"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			tmpl := filepath.Join(dir, strings.ReplaceAll(name, " ", "-")+".pkr.hcl")
			if c.body != "" {
				os.WriteFile(tmpl, []byte(c.body), 0o644)
			}
			cmd := exec.Command(bin, "build", "-out", filepath.Join(dir, "out"), tmpl)
			cmd.Dir = root
			out, err := cmd.CombinedOutput()
			if code := exitCode(err); code != 1 {
				t.Fatalf("exit %d, want 1: %s", code, out)
			}
			if !strings.Contains(string(out), c.want) {
				t.Fatalf("output %q lacks %q", out, c.want)
			}
			if _, err := os.Stat(filepath.Join(dir, "out")); err == nil {
				t.Fatal("a rejected template still created the output directory")
			}
		})
	}
	out, err := exec.Command(bin, "build", "-bogus").CombinedOutput()
	if exitCode(err) != 2 || strings.Count(strings.TrimSpace(string(out)), "\n") > 1 {
		t.Fatalf("bad flag: exit %d, want 2 and a short message: %s", exitCode(err), out)
	}
	if out, err := exec.Command(bin, "--help").Output(); err != nil || !strings.Contains(string(out), "build [-out DIR]") {
		t.Fatalf("--help: %v %s", err, out)
	}
}

func exitCode(err error) int {
	if err == nil {
		return 0
	}
	if ee, ok := err.(*exec.ExitError); ok {
		return ee.ExitCode()
	}
	return -1
}

// TestInterruptUndoesEverything sends SIGINT in the middle of the build
// (while mmdebstrap works) and checks that nothing is left: no work
// directory, no artifact, no mount under the output directory.
func TestInterruptUndoesEverything(t *testing.T) {
	testenv.RequireRoot(t)
	testenv.RequireCommands(t, "mmdebstrap")
	bin, root := appliance(t)
	out := filepath.Join(t.TempDir(), "out")
	cmd := exec.Command(bin, "build", "-out", out, filepath.Join(root, "image", "appliance.pkr.hcl"))
	cmd.Dir = root
	stdout, _ := cmd.StdoutPipe()
	cmd.Stderr = cmd.Stdout
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var log bytes.Buffer
	sc := bufio.NewScanner(stdout)
	for sc.Scan() {
		log.WriteString(sc.Text() + "\n")
		if strings.Contains(sc.Text(), "bootstrap Debian rootfs") {
			break
		}
	}
	time.Sleep(5 * time.Second)
	cmd.Process.Signal(syscall.SIGINT)
	go io.Copy(&log, stdout)
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err == nil {
			t.Fatalf("interrupted build exited 0:\n%s", log.String())
		}
	case <-time.After(2 * time.Minute):
		cmd.Process.Kill()
		t.Fatalf("build did not stop within 2 minutes of SIGINT:\n%s", log.String())
	}
	entries, _ := os.ReadDir(out)
	for _, e := range entries {
		t.Errorf("left behind in the output directory: %s", e.Name())
	}
	mounts, _ := os.ReadFile("/proc/self/mountinfo")
	if strings.Contains(string(mounts), out) {
		t.Errorf("mounts left under %s", out)
	}
}

// TestReproducibleBuild builds the default template a second time with the
// first build's SOURCE_DATE_EPOCH and compares the raw images bit for bit.
// If they differ, the test names the partitions (and GPT) that differ.
func TestReproducibleBuild(t *testing.T) {
	first := testenv.Image(t)
	bin, root := appliance(t)
	var m struct {
		Epoch    int64  `json:"source_date_epoch"`
		RootHash string `json:"root_hash"`
	}
	b, err := os.ReadFile(filepath.Join(first, "manifest.json"))
	if err != nil {
		t.Fatal(err)
	}
	json.Unmarshal(b, &m)
	out := filepath.Join(t.TempDir(), "out")
	cmd := exec.Command(bin, "build", "-out", out, filepath.Join(root, "image", "appliance.pkr.hcl"))
	cmd.Dir = root
	cmd.Env = append(os.Environ(), fmt.Sprintf("SOURCE_DATE_EPOCH=%d", m.Epoch))
	if o, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("second build: %v\n%s", err, o)
	}
	a, bb := filepath.Join(first, "supernode-appliance.raw"), filepath.Join(out, "supernode-appliance.raw")
	if sumFile(t, a) == sumFile(t, bb) {
		return
	}
	pa, _ := disk.ReadGPTFile(a)
	pb, _ := disk.ReadGPTFile(bb)
	var diffs []string
	if len(pa) != len(pb) {
		t.Fatalf("raw images differ, even in their partition count (%d vs %d)", len(pa), len(pb))
	}
	for i := range pa {
		if pa[i] != pb[i] {
			diffs = append(diffs, fmt.Sprintf("GPT entry %s (%+v vs %+v)", pa[i].Name, pa[i], pb[i]))
			continue
		}
		if sumRange(t, a, pa[i].Start, pa[i].Size) != sumRange(t, bb, pb[i].Start, pb[i].Size) {
			diffs = append(diffs, "partition "+pa[i].Name)
		}
	}
	var m2 struct {
		RootHash string `json:"root_hash"`
	}
	b2, _ := os.ReadFile(filepath.Join(out, "manifest.json"))
	json.Unmarshal(b2, &m2)
	t.Fatalf("raw images differ: %s (root hashes %s vs %s)", strings.Join(diffs, ", "), m.RootHash, m2.RootHash)
}

func sumFile(t *testing.T, p string) string {
	fi, err := os.Stat(p)
	if err != nil {
		t.Fatal(err)
	}
	return sumRange(t, p, 0, fi.Size())
}

func sumRange(t *testing.T, p string, off, n int64) string {
	f, err := os.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	h := sha256.New()
	io.Copy(h, io.NewSectionReader(f, off, n))
	return fmt.Sprintf("%x", h.Sum(nil))
}
