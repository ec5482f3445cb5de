package builder

import (
	"bufio"
	"context"
	_ "embed"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/hashicorp/packer-plugin-sdk/multistep"

	"github.com/supernode-appliance/appliance/hardening"
	"github.com/supernode-appliance/appliance/image/kernel"
)

//go:embed modules.allowlist
var defaultAllowlist string

// StepPrepareKernel takes the kernel and the dracut-built initrd out of the
// root (they go into the UKI, not the read-only root), removes the initrd
// build tools, and deletes every kernel module not on the allowlist.
type StepPrepareKernel struct{}

func (*StepPrepareKernel) Describe() string { return "prepare kernel, initrd and modules" }

func (*StepPrepareKernel) Run(ctx context.Context, state multistep.StateBag) multistep.StepAction {
	st := GetState(state)
	// The audit reads the flavour from the verified root: controls of the
	// hardened kernel's build options are exceptions on the others.
	flavour := filepath.Join(st.Rootfs, hardening.KernelFlavourFile)
	if err := os.MkdirAll(filepath.Dir(flavour), 0o755); err != nil {
		return halt(state, err)
	}
	if err := os.WriteFile(flavour, []byte(st.Config.KernelFlavour+"\n"), 0o644); err != nil {
		return halt(state, err)
	}
	if st.Config.KernelFlavour == "hardened" {
		return prepareHardenedKernel(ctx, state, st)
	}
	kernels, _ := filepath.Glob(filepath.Join(st.Rootfs, "boot", "vmlinuz-*"))
	if len(kernels) != 1 {
		return halt(state, fmt.Errorf("expected one kernel in the root's /boot, found %d", len(kernels)))
	}
	st.KernelVersion = strings.TrimPrefix(filepath.Base(kernels[0]), "vmlinuz-")
	initrd := filepath.Join(st.Rootfs, "boot", "initrd.img-"+st.KernelVersion)
	if _, err := os.Stat(initrd); err != nil {
		return halt(state, fmt.Errorf("dracut did not produce an initrd for %s: %v", st.KernelVersion, err))
	}
	st.Kernel = filepath.Join(st.Work, "vmlinuz")
	st.Initrd = filepath.Join(st.Work, "initrd")
	if err := copyFile(kernels[0], st.Kernel); err != nil {
		return halt(state, err)
	}
	before := fileSize(initrd)
	if err := st.stripInitrd(ctx, initrd, st.Initrd); err != nil {
		return halt(state, err)
	}
	st.say("kernel %s (%s), initrd %s (dracut's: %s; %d shell, sulogin, emergency and dracut-hook entries removed)",
		st.KernelVersion, humanSize(fileSize(st.Kernel)), humanSize(fileSize(st.Initrd)), humanSize(before), len(st.InitrdRemoved))

	// The initrd exists; its build tools have no place in the appliance.
	// dpkg, not apt: apt would remove the kernel package with them (it
	// depends on some initramfs tool), and with it the modules.
	purge := append([]string{"dpkg", "--purge", "--force-depends"}, BuildOnlyPackages...)
	if _, err := st.inRoot(ctx, purge...); err != nil {
		return halt(state, err)
	}
	out, err := st.inRoot(ctx, "dpkg-query", "-W", "-f", "${Package}\t${Version}\t${Architecture}\n")
	if err != nil {
		return halt(state, err)
	}
	st.Packages = parsePackages(out)

	patterns := st.Config.ModuleAllowlist
	if len(patterns) == 0 {
		patterns = ParseAllowlist(defaultAllowlist)
	}
	modDir := filepath.Join(st.Rootfs, "usr/lib/modules", st.KernelVersion)
	kept, removed, err := StripModules(modDir, patterns)
	if err != nil {
		return halt(state, err)
	}
	if _, err := st.inRoot(ctx, "depmod", "-a", st.KernelVersion); err != nil {
		return halt(state, err)
	}
	st.say("modules: kept %d, removed %d", kept, removed)
	// Keep the kernel's build configuration where modules live (and where
	// the hardening audit looks for it) before /boot goes.
	kconfig := filepath.Join(st.Rootfs, "boot", "config-"+st.KernelVersion)
	if err := os.Rename(kconfig, filepath.Join(modDir, "config")); err != nil {
		return halt(state, fmt.Errorf("keep the kernel config: %w", err))
	}
	for _, g := range []string{"boot/*", "vmlinuz*", "initrd.img*"} {
		m, _ := filepath.Glob(filepath.Join(st.Rootfs, g))
		for _, p := range m {
			os.RemoveAll(p)
		}
	}
	return multistep.ActionContinue
}

func (*StepPrepareKernel) Cleanup(multistep.StateBag) {}

// prepareHardenedKernel builds (or takes from the cache) the kernel of
// image/kernel and installs its configuration where a module tree would
// be, where the hardening audit and kernel-hardening-checker read it.
// There is no initrd and there are no modules.
func prepareHardenedKernel(ctx context.Context, state multistep.StateBag, st *State) multistep.StepAction {
	res, err := kernel.Build(ctx, st.Config.CacheDir, kernel.Inputs{Mirror: st.Mirror, SourceVersion: st.Config.KernelSourceVersion},
		func(msg string) { st.say("kernel: %s", msg) })
	if err != nil {
		return halt(state, err)
	}
	st.KernelVersion = res.Release
	st.KernelBuild = res
	st.Kernel = filepath.Join(st.Work, "vmlinuz")
	if err := copyFile(res.Image, st.Kernel); err != nil {
		return halt(state, err)
	}
	modDir := filepath.Join(st.Rootfs, "usr/lib/modules", st.KernelVersion)
	if err := os.MkdirAll(modDir, 0o755); err != nil {
		return halt(state, err)
	}
	if err := copyFile(res.Config, filepath.Join(modDir, "config")); err != nil {
		return halt(state, err)
	}
	how := "built"
	if res.Cached {
		how = "cached " + filepath.Base(res.Dir)
	}
	st.say("hardened kernel %s (%s, %s): monolithic, no initrd", st.KernelVersion, humanSize(fileSize(st.Kernel)), how)
	for _, g := range []string{"boot/*", "vmlinuz*", "initrd.img*"} {
		m, _ := filepath.Glob(filepath.Join(st.Rootfs, g))
		for _, p := range m {
			os.RemoveAll(p)
		}
	}
	return multistep.ActionContinue
}

// stripInitrd turns dracut's initrd into one with no shell, no sulogin,
// no emergency/rescue/debug-shell unit and no dracut hook
// (hardening.FilterInitrd), checks the result (hardening.CheckInitrd) and
// writes it, zstd-compressed, to dst. zstd is the root's own, still
// installed at this point (a build-only package).
func (s *State) stripInitrd(ctx context.Context, src, dst string) error {
	tmp := filepath.Join(s.Rootfs, "tmp")
	raw, filtered, packed := filepath.Join(tmp, "initrd.cpio"), filepath.Join(tmp, "initrd.filtered.cpio"), filepath.Join(tmp, "initrd.zst")
	defer os.Remove(raw)
	defer os.Remove(filtered)
	defer os.Remove(packed)
	inRoot := func(p string) string { return "/" + strings.TrimPrefix(p, s.Rootfs+"/") }
	if _, err := s.inRoot(ctx, "zstd", "-q", "-d", "-f", "-o", inRoot(raw), inRoot(src)); err != nil {
		return fmt.Errorf("unpack dracut's initrd: %w", err)
	}
	archive, err := os.ReadFile(raw)
	if err != nil {
		return err
	}
	out, removed, err := hardening.FilterInitrd(archive)
	if err != nil {
		return err
	}
	if bad, err := hardening.CheckInitrd(out); err != nil || len(bad) > 0 {
		return fmt.Errorf("the initrd still offers a shell after filtering: %v %v", bad, err)
	}
	if err := os.WriteFile(filtered, out, 0o644); err != nil {
		return err
	}
	if _, err := s.inRoot(ctx, "zstd", "-q", "-19", "-T1", "-f", "-o", inRoot(packed), inRoot(filtered)); err != nil {
		return fmt.Errorf("pack the initrd: %w", err)
	}
	s.InitrdRemoved = removed
	return copyFile(packed, dst)
}

// ParseAllowlist reads one glob per line; '#' starts a comment.
func ParseAllowlist(text string) []string {
	var out []string
	for _, line := range strings.Split(text, "\n") {
		if i := strings.IndexByte(line, '#'); i >= 0 {
			line = line[:i]
		}
		if line = strings.TrimSpace(line); line != "" {
			out = append(out, line)
		}
	}
	return out
}

// moduleName turns "kernel/drivers/net/virtio_net.ko.xz" into "virtio_net".
func moduleName(p string) string {
	b := path.Base(p)
	if i := strings.Index(b, ".ko"); i >= 0 {
		b = b[:i]
	}
	return strings.ReplaceAll(b, "-", "_")
}

// StripModules deletes every module under modDir that is neither matched by
// patterns nor a dependency (per modules.dep) of a matched one. It returns
// how many were kept and removed.
func StripModules(modDir string, patterns []string) (kept, removed int, err error) {
	f, err := os.Open(filepath.Join(modDir, "modules.dep"))
	if err != nil {
		return 0, 0, fmt.Errorf("reading modules.dep: %w", err)
	}
	defer f.Close()
	deps := map[string][]string{} // module path -> dependency paths
	var all []string
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		mod, rest, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			continue
		}
		all = append(all, mod)
		deps[mod] = strings.Fields(rest)
	}
	if err := sc.Err(); err != nil {
		return 0, 0, err
	}
	for i, p := range patterns {
		patterns[i] = strings.ReplaceAll(p, "-", "_")
	}
	keep := map[string]bool{}
	var visit func(string)
	visit = func(m string) {
		if keep[m] {
			return
		}
		keep[m] = true
		for _, d := range deps[m] {
			visit(d)
		}
	}
	for _, m := range all {
		name := moduleName(m)
		for _, p := range patterns {
			if ok, _ := path.Match(p, name); ok {
				visit(m)
				break
			}
		}
	}
	for _, m := range all {
		if keep[m] {
			kept++
			continue
		}
		if err := os.Remove(filepath.Join(modDir, m)); err != nil && !os.IsNotExist(err) {
			return kept, removed, err
		}
		removed++
	}
	return kept, removed, nil
}

func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	fi, err := in.Stat()
	if err != nil {
		return err
	}
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, fi.Mode().Perm())
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}
