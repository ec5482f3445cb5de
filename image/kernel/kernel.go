// Package kernel builds the appliance's hardened kernel (kernel_flavour =
// "hardened"): Debian's linux-source package of the pinned suite, configured
// from `make tinyconfig` plus the fragment hardened.config, monolithic (no
// modules), reproducible (build timestamp, user, host, the randstruct seed
// and the latent-entropy seed are pinned), and cached under the cache
// directory by every input, so a rebuild with the same inputs costs nothing.
package kernel

import (
	"bufio"
	"context"
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"sort"
	"strings"
	"time"

	"github.com/supernode-appliance/appliance/image/tools"
)

// Fragment is the configuration fragment, with a comment per group.
//
//go:embed hardened.config
var Fragment string

// SourcePackage is the Debian package with the kernel source.
const SourcePackage = "linux-source-6.12"

// DefaultSourceVersion is the pinned version of SourcePackage. Debian's
// security fixes arrive by bumping it (template option kernel_source_version).
const DefaultSourceVersion = "6.12.117-1"

// BuildPackages is the build tree's package list (besides the source and the
// checker): the compiler with its plugin headers (the GCC hardening plugins
// need them, and g++ to build them), and the kernel build's own tools.
var BuildPackages = []string{
	"make", "gcc", "g++", "gcc-14-plugin-dev", "libc6-dev", "bc", "bison", "flex",
	"libelf-dev", "libssl-dev", "cpio", "perl", "python3", "xz-utils",
	// KHC, from trixie-backports: the tests check the built kernel with it
	"kernel-hardening-checker",
}

// buildRecipe is versioned into the cache key: change it when the commands
// below change what is built.
const buildRecipe = "tinyconfig+fragment+olddefconfig, bzImage, pinned seeds v1"

// Inputs are what a kernel build depends on.
type Inputs struct {
	Mirror        string // Debian mirror URL (trixie and trixie-backports)
	SourceVersion string // version of SourcePackage; DefaultSourceVersion if empty
	Fragment      string // configuration fragment; Fragment if empty
}

func (in Inputs) withDefaults() Inputs {
	if in.SourceVersion == "" {
		in.SourceVersion = DefaultSourceVersion
	}
	if in.Fragment == "" {
		in.Fragment = Fragment
	}
	return in
}

// Key is the cache key of a build: the source version, the fragment's
// option lines (its comments change nothing that is built), the build
// tree's packages and the recipe. The mirror is not in it: the version pins
// the source, and the tree key pins the compiler's package list.
func (in Inputs) Key() string {
	in = in.withDefaults()
	h := sha256.New()
	fmt.Fprintf(h, "%s\n%s=%s\n%s\n%s\n", buildRecipe, SourcePackage, in.SourceVersion, strings.Join(BuildPackages, ","), optionLines(in.Fragment))
	return hex.EncodeToString(h.Sum(nil))[:16]
}

// optionLines is the fragment without comments and blank lines, in order.
func optionLines(fragment string) string {
	var b strings.Builder
	for _, line := range strings.Split(fragment, "\n") {
		if line = strings.TrimSpace(line); line != "" && !strings.HasPrefix(line, "#") {
			b.WriteString(line + "\n")
		}
	}
	return b.String()
}

// Result is a built kernel.
type Result struct {
	Dir     string // the cache directory holding the files below
	Image   string // bzImage (an EFI-stub kernel)
	Config  string // the final .config
	Release string // `make kernelrelease`, e.g. 6.12.117
	// SourceVersion is the Debian version of SourcePackage built.
	SourceVersion string
	Tree          string // the build tree (has kernel-hardening-checker)
	Cached        bool   // true when nothing was compiled
}

// Build returns the kernel for in, building it under cacheDir on first use.
// say reports progress (which step; during the compile, files compiled and
// time taken, about every 30 s). Concurrent builds of the same inputs wait
// for one another; a failed or interrupted build leaves nothing behind.
func Build(ctx context.Context, cacheDir string, in Inputs, say func(string)) (Result, error) {
	in = in.withDefaults()
	if say == nil {
		say = func(string) {}
	}
	key := in.Key()
	res := Result{Dir: filepath.Join(cacheDir, "kernel-"+key), SourceVersion: in.SourceVersion}
	res.Image, res.Config = filepath.Join(res.Dir, "bzImage"), filepath.Join(res.Dir, "config")
	if err := os.MkdirAll(cacheDir, 0o755); err != nil {
		return res, err
	}
	tree, err := BuildTree(ctx, cacheDir, in)
	if err != nil {
		return res, err
	}
	res.Tree = tree
	unlock, err := tools.Lock(ctx, res.Dir+".lock", func() { say("waiting for another build of the same kernel") })
	if err != nil {
		return res, err
	}
	defer unlock()
	if rel, err := os.ReadFile(filepath.Join(res.Dir, "release")); err == nil {
		res.Release, res.Cached = strings.TrimSpace(string(rel)), true
		return res, nil
	}
	// A build killed before it could clean up (SIGKILL, a power cut) left
	// its work directory; holding the lock, nobody else is using one.
	if stale, _ := filepath.Glob(filepath.Join(cacheDir, ".kernel-"+key+"-*")); len(stale) > 0 {
		for _, d := range stale {
			os.RemoveAll(d)
		}
	}
	work, err := os.MkdirTemp(cacheDir, ".kernel-"+key+"-")
	if err != nil {
		return res, err
	}
	defer os.RemoveAll(work)
	src := filepath.Join(work, "src")
	run := func(step string, argv ...string) ([]byte, error) {
		out, err := tools.Run(ctx, tree, []string{work}, argv...)
		if err != nil {
			return out, fmt.Errorf("kernel build, %s: %w", step, err)
		}
		return out, nil
	}
	say(fmt.Sprintf("unpacking %s %s", SourcePackage, in.SourceVersion))
	if err := os.MkdirAll(src, 0o755); err != nil {
		return res, err
	}
	if _, err := run("unpack", "tar", "-C", src, "--strip-components=1", "-xf", "/usr/src/"+SourcePackage+".tar.xz"); err != nil {
		return res, err
	}
	if err := os.WriteFile(filepath.Join(work, "appliance.config"), []byte(in.Fragment), 0o644); err != nil {
		return res, err
	}
	// The randstruct seed is derived from the inputs: every build of them
	// lays structures out the same way. (A binary kernel's layout is public
	// anyway; randstruct raises the cost of attacks built for other kernels.)
	seed := sha256.Sum256([]byte("randstruct\n" + key))
	if err := os.WriteFile(filepath.Join(src, "scripts/gen-randstruct-seed.sh"), []byte(seedScript(hex.EncodeToString(seed[:]))), 0o755); err != nil {
		return res, err
	}
	say("configuring: tinyconfig + hardened.config, olddefconfig")
	env := buildEnv(key)
	script := "set -e; cd " + src + "; make -s tinyconfig; scripts/kconfig/merge_config.sh -m -O . .config " + filepath.Join(work, "appliance.config") + " >/dev/null; make -s olddefconfig"
	if _, err := run("configure", append(append([]string{"env"}, env...), "sh", "-c", script)...); err != nil {
		return res, err
	}
	final, err := os.ReadFile(filepath.Join(src, ".config"))
	if err != nil {
		return res, err
	}
	if lost := Lost(in.Fragment, string(final)); len(lost) > 0 {
		return res, fmt.Errorf("the kernel configuration lost %d option(s) of the fragment after olddefconfig (a missing dependency or a renamed option): %s; add the dependency to the fragment or drop the option", len(lost), strings.Join(lost, ", "))
	}
	jobs := fmt.Sprint(runtime.NumCPU())
	say(fmt.Sprintf("compiling bzImage with make -j%s (about 15-25 min on 2 cores; cached afterwards)", jobs))
	if err := compile(ctx, tree, work, src, env, jobs, say); err != nil {
		return res, err
	}
	rel, err := run("kernelrelease", append(append([]string{"env"}, env...), "make", "-s", "-C", src, "kernelrelease")...)
	if err != nil {
		return res, err
	}
	out := filepath.Join(work, "out")
	if err := os.MkdirAll(out, 0o755); err != nil {
		return res, err
	}
	for from, to := range map[string]string{"arch/x86/boot/bzImage": "bzImage", ".config": "config"} {
		if err := copyFile(filepath.Join(src, from), filepath.Join(out, to)); err != nil {
			return res, err
		}
	}
	res.Release = strings.TrimSpace(string(rel))
	if err := os.WriteFile(filepath.Join(out, "release"), []byte(res.Release+"\n"), 0o644); err != nil {
		return res, err
	}
	if err := os.Rename(out, res.Dir); err != nil {
		return res, err
	}
	return res, nil
}

// BuildTree is the Debian trixie root the kernel is built in: compiler,
// the pinned source package and kernel-hardening-checker (trixie-backports).
func BuildTree(ctx context.Context, cacheDir string, in Inputs) (string, error) {
	in = in.withDefaults()
	if in.Mirror == "" {
		return "", errors.New("kernel build: no Debian mirror (set the template option mirror)")
	}
	pkgs := append([]string{SourcePackage + "=" + in.SourceVersion}, BuildPackages...)
	h := sha256.Sum256([]byte(in.Mirror + "\n" + strings.Join(pkgs, ",")))
	sources := []string{
		"deb " + in.Mirror + " " + tools.Suite + " main",
		"deb " + in.Mirror + " " + tools.Suite + "-backports main",
	}
	tree, err := tools.BuildTree(ctx, cacheDir, "kbuild-"+hex.EncodeToString(h[:])[:16], "usr/src/"+SourcePackage+".tar.xz", sources, pkgs)
	if err != nil && strings.Contains(err.Error(), SourcePackage) {
		return "", fmt.Errorf("%w\n(the mirror may no longer serve %s %s: set kernel_source_version to the version it serves)", err, SourcePackage, in.SourceVersion)
	}
	return tree, err
}

// buildEnv pins everything the kernel build would otherwise take from the
// clock, the user, the host or /dev/urandom.
func buildEnv(key string) []string {
	return []string{
		"KBUILD_BUILD_TIMESTAMP=1970-01-01 00:00:00 UTC",
		"KBUILD_BUILD_USER=supernode", "KBUILD_BUILD_HOST=appliance", "KBUILD_BUILD_VERSION=1",
		// the latent-entropy plugin's constants come from GCC's random seed
		"KCFLAGS=-frandom-seed=" + key,
		"LC_ALL=C", "TZ=UTC",
	}
}

func seedScript(seed string) string {
	return `#!/bin/sh
# Written by the appliance's kernel build: a seed pinned by the inputs.
SEED=` + seed + `
echo "$SEED" > "$1"
HASH=$(echo -n "$SEED" | sha256sum | cut -d" " -f1)
echo "#define RANDSTRUCT_HASHED_SEED \"$HASH\"" > "$2"
`
}

var compiledLine = regexp.MustCompile(`^\s+(CC|AS|LD|AR|HOSTCC|HOSTCXX)\s`)

// compile runs make bzImage, reporting progress from its output.
func compile(ctx context.Context, tree, work, src string, env []string, jobs string, say func(string)) error {
	argv := append(append([]string{"env"}, env...), "make", "-C", src, "-j"+jobs, "bzImage")
	cmd := tools.Command(ctx, tree, []string{work}, argv...)
	pr, pw := io.Pipe()
	cmd.Stdout = pw
	logf, err := os.Create(filepath.Join(work, "build.log"))
	if err != nil {
		return err
	}
	defer logf.Close()
	cmd.Stderr = logf
	if err := cmd.Start(); err != nil {
		return err
	}
	start := time.Now()
	done := make(chan error, 1)
	go func() { err := cmd.Wait(); pw.Close(); done <- err }()
	sc := bufio.NewScanner(pr)
	n, last := 0, time.Now()
	for sc.Scan() {
		fmt.Fprintln(logf, sc.Text())
		if compiledLine.MatchString(sc.Text()) {
			n++
		}
		if time.Since(last) >= 30*time.Second {
			say(fmt.Sprintf("compiling: %d files, %s", n, time.Since(start).Round(time.Second)))
			last = time.Now()
		}
	}
	if err := <-done; err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		logf.Sync()
		b, _ := os.ReadFile(filepath.Join(work, "build.log"))
		return fmt.Errorf("kernel build, make bzImage: %v: %s", err, lastLines(string(b), 15))
	}
	say(fmt.Sprintf("compiled %d files in %s", n, time.Since(start).Round(time.Second)))
	return nil
}

// Lost lists the options the fragment sets that the final configuration
// does not have at that value ("CONFIG_X=y (got n)"). Kconfig drops an
// option silently when a dependency is missing; the build fails on any.
func Lost(fragment, final string) []string {
	want, have := Parse(fragment), Parse(final)
	var lost []string
	for k, v := range want {
		h, ok := have[k]
		if !ok {
			h = "n"
		}
		if h != v {
			lost = append(lost, fmt.Sprintf("%s=%s (got %s)", k, v, h))
		}
	}
	sort.Strings(lost)
	return lost
}

var (
	setLine   = regexp.MustCompile(`^(CONFIG_[A-Za-z0-9_]+)=(.*)$`)
	unsetLine = regexp.MustCompile(`^# (CONFIG_[A-Za-z0-9_]+) is not set$`)
)

// Parse reads a kernel configuration (or fragment): option -> value, "n"
// for "# CONFIG_X is not set" and for "CONFIG_X=n".
func Parse(text string) map[string]string {
	m := map[string]string{}
	for _, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(line)
		if s := setLine.FindStringSubmatch(line); s != nil {
			m[s[1]] = s[2]
		} else if s := unsetLine.FindStringSubmatch(line); s != nil {
			m[s[1]] = "n"
		}
	}
	return m
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

func copyFile(src, dst string) error {
	b, err := os.ReadFile(src)
	if err != nil {
		return err
	}
	return os.WriteFile(dst, b, 0o644)
}
