// Package testenv holds what tests that cross parts share: skipping clearly
// when a test needs root or a tool, building the binaries once, and network
// namespaces joined by veth pairs.
//
// Under CI (SUPERNODE_CI=1, set by .ci/run) a missing tool is a failure, not
// a skip: CI runs as root with every package installed and must run every
// test.
package testenv

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"golang.org/x/sys/unix"
)

// InCI reports whether the tests run under .ci/run.
func InCI() bool { return os.Getenv("SUPERNODE_CI") == "1" }

// RequireRoot skips t unless the test runs as root.
func RequireRoot(t testing.TB) {
	t.Helper()
	if os.Geteuid() != 0 {
		skipOrFail(t, "needs root (network namespaces, XDP, loop devices); run the tests as root, as CI does")
	}
}

// RequireCommands skips t unless every named command is on PATH.
func RequireCommands(t testing.TB, names ...string) {
	t.Helper()
	for _, n := range names {
		if _, err := exec.LookPath(n); err != nil {
			skipOrFail(t, fmt.Sprintf("needs the command %q; run .ci/install-deps as root to install it", n))
		}
	}
}

func skipOrFail(t testing.TB, msg string) {
	t.Helper()
	if InCI() {
		t.Fatal(msg)
	}
	t.Skip(msg)
}

// RepoRoot returns the absolute path of the repository (the folder holding
// go.mod), found from the test's working directory.
func RepoRoot(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("testenv: no go.mod above the working directory")
		}
		dir = parent
	}
}

var (
	buildOnce sync.Once
	buildDir  string
	buildErr  error
)

// BuildBinaries runs `make build` once per test binary and returns the
// absolute bin/ directory. A file lock serialises test packages that run in
// parallel, so they never overwrite a binary another package is using.
func BuildBinaries(t testing.TB) string {
	t.Helper()
	root := RepoRoot(t)
	buildOnce.Do(func() {
		buildDir = filepath.Join(root, "bin")
		if err := os.MkdirAll(buildDir, 0o755); err != nil {
			buildErr = err
			return
		}
		unlock, err := lockFile(filepath.Join(buildDir, ".build.lock"))
		if err != nil {
			buildErr = err
			return
		}
		defer unlock()
		cmd := exec.Command("make", "-s", "build")
		cmd.Dir = root
		if out, err := cmd.CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("make build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return buildDir
}

// lockFile takes an exclusive flock on path and returns its release.
func lockFile(path string) (func(), error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, err
	}
	if err := unix.Flock(int(f.Fd()), unix.LOCK_EX); err != nil {
		f.Close()
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	return func() {
		unix.Flock(int(f.Fd()), unix.LOCK_UN)
		f.Close()
	}, nil
}

// UnitLines returns the values of every "key=" line of the systemd unit
// file at path, in order: what the unit tests compare against the code.
func UnitLines(t testing.TB, path, key string) []string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, key+"="); ok {
			out = append(out, v)
		}
	}
	return out
}

// DirFiles reads every file of dir by name (none when dir does not
// exist): a credential store, for the tests that check what was written.
func DirFiles(t testing.TB, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	ents, err := os.ReadDir(dir)
	if os.IsNotExist(err) {
		return out
	}
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		out[e.Name()] = string(b)
	}
	return out
}

// QEMUAccel is the accelerator the QEMU tests ask for: SUPERNODE_QEMU_ACCEL,
// or "auto" (KVM when it works, else TCG).
func QEMUAccel() string {
	if a := os.Getenv("SUPERNODE_QEMU_ACCEL"); a != "" {
		return a
	}
	return "auto"
}

// FreeUDPPort returns a UDP port on 127.0.0.1 that was free a moment ago
// (for a QEMU host forward).
func FreeUDPPort(t testing.TB) int {
	t.Helper()
	c, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	return c.LocalAddr().(*net.UDPAddr).Port
}

// LineWith returns the first line of s containing sub, trimmed ("" if none):
// the console line a test quotes.
func LineWith(s, sub string) string {
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			return strings.TrimSpace(l)
		}
	}
	return ""
}
