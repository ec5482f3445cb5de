// Package tools provides a Debian trixie "tools tree": a cached root
// directory built with mmdebstrap that carries the build tools a Debian 12 or
// Ubuntu host lacks or has in too old a version (ukify, systemd-repart 257,
// erofs-utils 1.8, systemd-analyze 257, veritysetup, mtools, sfdisk). Running
// every tool from the same tree also makes builds independent of the host's
// tool versions, which reproducible images need.
package tools

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
)

// Suite is the Debian release the tree is built from.
const Suite = "trixie"

// Packages is the tools tree's package list. Changing it changes the cache
// key, so a stale tree is never reused.
var Packages = []string{
	"systemd",          // systemd-analyze 257
	"systemd-repart",   // systemd-repart 257
	"systemd-ukify",    // ukify: unified kernel images
	"systemd-boot-efi", // the unsigned sd-stub and systemd-boot loader
	"python3-pefile",   // ukify's PE library
	"binutils",         // objcopy for ukify fallbacks
	"sbsigntool",       // sbsign for Secure Boot signing
	"erofs-utils",      // mkfs.erofs 1.8 (lzma, fragments, dedupe)
	"cryptsetup-bin",   // veritysetup
	"dosfstools",       // mkfs.fat --invariant
	"mtools",           // mcopy honours SOURCE_DATE_EPOCH
	"fdisk",            // sfdisk writes the GPT
	"kmod",             // depmod/modinfo
}

// Key is the cache key of a tree: suite, mirror and package list.
func Key(mirror string) string {
	h := sha256.New()
	fmt.Fprintf(h, "%s\n%s\n%s\n", Suite, mirror, strings.Join(sorted(Packages), ","))
	return hex.EncodeToString(h.Sum(nil))[:16]
}

func sorted(s []string) []string {
	c := append([]string(nil), s...)
	sort.Strings(c)
	return c
}

// Tree returns the root directory of the tools tree for mirror, building it
// under cacheDir on first use.
func Tree(ctx context.Context, cacheDir, mirror string) (string, error) {
	return BuildTree(ctx, cacheDir, "tools-"+Key(mirror), "usr/bin/ukify", []string{mirror}, Packages)
}

// BuildTree returns cacheDir/name, a Debian trixie root with pkgs, building
// it with mmdebstrap from sources (a mirror URL, or whole "deb URL suite
// component" lines) when the file marker is missing from it. The apt
// archives are shared through cacheDir/apt so the image build and the
// trees download each .deb once. A half-built tree never becomes visible:
// it is built under a temporary name and renamed into place. name must
// carry a key of every input, so a changed input builds a new tree.
func BuildTree(ctx context.Context, cacheDir, name, marker string, sources, pkgs []string) (string, error) {
	root := filepath.Join(cacheDir, name)
	if _, err := os.Stat(filepath.Join(root, marker)); err == nil {
		return root, nil
	}
	if err := os.MkdirAll(filepath.Join(cacheDir, "apt"), 0o755); err != nil {
		return "", err
	}
	tmp, err := os.MkdirTemp(cacheDir, "."+name+"-")
	if err != nil {
		return "", err
	}
	// mmdebstrap wants to create the target itself or find it empty.
	args := append([]string{"--variant=minbase", "--mode=root", "--quiet",
		"--include=" + strings.Join(pkgs, ",")},
		AptCacheHooks(filepath.Join(cacheDir, "apt"))...)
	args = append(args, Suite, tmp)
	args = append(args, sources...)
	// A private mount namespace: mmdebstrap's mounts die with it, even on SIGKILL.
	args = append([]string{"--mount", "--propagation", "private", "mmdebstrap"}, args...)
	unlock, err := LockAptCache(ctx, filepath.Join(cacheDir, "apt"), nil)
	if err != nil {
		os.RemoveAll(tmp)
		return "", err
	}
	out, err := exec.CommandContext(ctx, "unshare", args...).CombinedOutput()
	unlock()
	if err != nil {
		os.RemoveAll(tmp)
		return "", fmt.Errorf("building the %s tree with mmdebstrap failed: %v: %s", name, err, tail(out))
	}
	if err := os.Rename(tmp, root); err != nil {
		os.RemoveAll(tmp)
		if _, serr := os.Stat(filepath.Join(root, marker)); serr == nil {
			return root, nil // a concurrent build won the race
		}
		return "", err
	}
	return root, nil
}

// AptCacheHooks are the mmdebstrap options that reuse and refill a shared apt
// archive directory (the recipe from mmdebstrap(1)).
func AptCacheHooks(dir string) []string {
	return []string{
		"--skip=download/empty", "--skip=essential/unlink",
		`--setup-hook=mkdir -p "$1"/var/cache/apt/archives/`,
		"--setup-hook=sync-in " + dir + " /var/cache/apt/archives/",
		"--customize-hook=sync-out /var/cache/apt/archives " + dir,
	}
}

// Command returns a command that runs argv inside the tree root: a private
// mount namespace gets /proc, /sys, /dev and every path in binds mounted at
// the same path inside the tree, then chroots. Paths in argv therefore mean
// the same inside and outside. The namespace dies with the command, so no
// mount outlives it even when the build is interrupted.
func Command(ctx context.Context, root string, binds []string, argv ...string) *exec.Cmd {
	var script strings.Builder
	script.WriteString("set -e\n")
	for _, d := range []string{"/proc", "/sys", "/dev"} {
		fmt.Fprintf(&script, "mount --rbind %s %s\n", d, shq(root+d))
	}
	for _, b := range binds {
		fmt.Fprintf(&script, "mkdir -p %s\nmount --bind %s %s\n", shq(root+b), shq(b), shq(root+b))
	}
	fmt.Fprintf(&script, "exec chroot %s \"$@\"\n", shq(root))
	args := append([]string{"--mount", "--propagation", "private", "sh", "-c", script.String(), "sh"}, argv...)
	cmd := exec.CommandContext(ctx, "unshare", args...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	return cmd
}

// Run runs argv inside the tree (see Command) and returns its stdout. A
// failure names the tool and carries the end of its stderr.
func Run(ctx context.Context, root string, binds []string, argv ...string) ([]byte, error) {
	cmd := Command(ctx, root, binds, argv...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return stdout.Bytes(), fmt.Errorf("%s failed: %v: %s", argv[0], err, tail(stderr.Bytes()))
	}
	return stdout.Bytes(), nil
}

func shq(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

// tail keeps the last lines of a tool's output for an error message.
func tail(b []byte) string {
	s := strings.TrimSpace(string(b))
	lines := strings.Split(s, "\n")
	if len(lines) > 8 {
		lines = lines[len(lines)-8:]
	}
	return strings.Join(lines, "\n")
}

// ErrNoMirror is returned by HostMirror when apt names no Debian mirror.
var ErrNoMirror = errors.New("no Debian mirror found in /etc/apt/sources.list or /etc/apt/sources.list.d; set the template option mirror")
