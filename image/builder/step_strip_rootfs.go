package builder

import (
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/hashicorp/packer-plugin-sdk/multistep"
)

// RemovePaths is what a running appliance must not carry (globs relative to
// the root). The package manager goes with its database: the appliance is
// replaced, never patched in place, and the manifest keeps the package list.
var RemovePaths = []string{
	// package management (CIS: no unneeded software; immutable appliance)
	"usr/bin/apt*", "usr/bin/dpkg*", "usr/sbin/dpkg*", "usr/lib/apt", "usr/lib/dpkg", "usr/share/dpkg",
	"etc/apt", "etc/dpkg", "var/lib/apt", "var/lib/dpkg", "var/cache/apt", "var/cache/debconf", "var/lib/dpkg",
	"usr/share/debconf", "usr/share/perl5", "usr/bin/debconf*", "usr/sbin/dpkg-*",
	"usr/bin/perl*", "usr/lib/x86_64-linux-gnu/perl*", "usr/share/perl*",
	// compilers and build tools, if any crept in
	"usr/bin/gcc*", "usr/bin/cc", "usr/bin/c++", "usr/bin/g++*", "usr/bin/as", "usr/bin/ld", "usr/bin/ld.*", "usr/bin/make",
	// documentation and data nothing reads at run time (copyright files stay)
	"usr/share/man", "usr/share/info", "usr/share/lintian", "usr/share/bash-completion", "usr/share/zsh",
	"usr/share/locale", "usr/share/i18n", "usr/share/polkit-1", "usr/share/menu", "usr/share/pixmaps",
	"usr/lib/systemd/catalog", "usr/lib/udev/hwdb.bin", "usr/lib/udev/hwdb.d", "etc/udev/hwdb.bin",
	"usr/lib/x86_64-linux-gnu/gconv",
	// the initrd recipe (the initrd itself is in the UKI)
	"etc/dracut.conf.d", "etc/kernel", "usr/lib/kernel", "etc/initramfs-tools",
	// state and caches: /var is a fresh partition or tmpfs at boot
	"var/*", "tmp/*", "run/*", "etc/ld.so.cache~", "etc/*-", "etc/.pwd.lock",
	"usr/lib/python3*",
	// systemd-debug-generator turns the system credentials
	// systemd.extra-unit.* and systemd.unit-dropin.* (SMBIOS, fw_cfg) into
	// units, and systemd.debug_shell / systemd.wants= / systemd.mask= into
	// jobs: configuration must never add code (hardening control
	// boot-no-debug-generator; the initrd's copy goes too, hardening.FilterInitrd).
	"usr/lib/systemd/system-generators/systemd-debug-generator",
}

// ShellPaths are removed unless the template asks for a debug image: with no
// shell or script interpreter (awk included) an attacker who gets code
// execution has nothing to pivot to.
var ShellPaths = []string{"usr/bin/awk", "usr/bin/mawk", "usr/bin/nawk", "etc/alternatives/awk", "etc/alternatives/nawk", "usr/bin/bash", "usr/bin/rbash", "usr/bin/dash", "usr/bin/sh", "usr/bin/sh.distrib", "usr/bin/login", "usr/bin/su", "usr/sbin/agetty", "usr/sbin/sulogin", "usr/sbin/nologin.*", "etc/profile.d", "etc/bash.bashrc", "etc/skel"}

// RemovePackages go completely, every file dpkg lists for them (the paths
// above take their main parts; this takes the rest, such as
// /etc/debconf.conf), so that no package is half there: the SBOM lists a
// package exactly when it has files in the image.
var RemovePackages = []string{"apt", "dpkg", "debconf", "perl-base"}

// ShellPackages go with ShellPaths unless debug (bash's bashbug and
// clear_console are of no use without bash).
var ShellPackages = []string{"bash", "dash", "mawk", "findutils", "diffutils", "grep", "sed", "ncurses-bin"}

// ShellToolsKeep: of coreutils, without a shell, only true and false stay
// (the hardening profile's "install <module> /bin/false" and core_pattern
// "|/bin/false" name them). Nothing on the appliance runs the other
// coreutils, findutils, grep, sed or diffutils: no unit, udev rule or
// tmpfiles line names them, and there is no shell to run a script.
var ShellToolsKeep = map[string][]string{"coreutils": {"usr/bin/true", "usr/bin/false"}}

// AuditRulesDropIn loads the rules augenrules merged at build time with
// auditctl, so the unit works without a shell.
const AuditRulesDropIn = "[Service]\nExecStart=\nExecStart=/usr/sbin/auditctl -R /etc/audit/audit.rules\n"

// StepStripRootfs removes the package manager, documentation, compilers,
// shells (unless debug) and every SUID/SGID bit.
type StepStripRootfs struct{}

func (*StepStripRootfs) Describe() string {
	return "strip rootfs (package manager, docs, shells, SUID)"
}

func (*StepStripRootfs) Run(ctx context.Context, state multistep.StateBag) multistep.StepAction {
	st := GetState(state)
	// ld.so.cache must describe the final library set; rebuild it while
	// ldconfig is still there, deterministically.
	if _, err := st.inRoot(ctx, "ldconfig", "-X"); err != nil {
		return halt(state, err)
	}
	if !st.Config.Debug {
		// No shell, so no console login: keep getty off the consoles.
		if _, err := st.inRoot(ctx, "systemctl", "mask", "getty.target", "serial-getty@.service", "getty@.service", "console-getty.service"); err != nil {
			return halt(state, err)
		}
	}
	// audit-rules.service runs augenrules, a shell script: merge the rules
	// now, while there is a shell, and load the result with auditctl.
	if _, err := os.Stat(filepath.Join(st.Rootfs, "usr/sbin/augenrules")); err == nil {
		if _, err := st.inRoot(ctx, "augenrules"); err != nil {
			return halt(state, err)
		}
		dropin := filepath.Join(st.Rootfs, "etc/systemd/system/audit-rules.service.d/no-shell.conf")
		os.MkdirAll(filepath.Dir(dropin), 0o755)
		if err := os.WriteFile(dropin, []byte(AuditRulesDropIn), 0o644); err != nil {
			return halt(state, err)
		}
	}
	// The package database goes below: read it first, so the SBOM can
	// list exactly the packages that stay (sbom_dpkg.go).
	db, err := ReadDpkgDB(st.Rootfs)
	if err != nil {
		return halt(state, err)
	}
	pkgs := append([]string(nil), RemovePackages...)
	paths := append([]string(nil), RemovePaths...)
	if !st.Config.Debug {
		pkgs = append(pkgs, ShellPackages...)
		paths = append(paths, ShellPaths...)
	}
	n, err := RemoveGlobs(st.Rootfs, paths)
	if err != nil {
		return halt(state, err)
	}
	// With each package goes every package only it needed (libapt-pkg
	// with apt; libcurl's libraries with libcurl).
	m, err := db.RemovePackageFiles(st.Rootfs, db.Orphans(append(pkgs, UpdateStripPackages...)))
	if err != nil {
		return halt(state, err)
	}
	n += m
	keep := map[string][]string{}
	for name, files := range UpdateKeep {
		keep[name] = files
	}
	if !st.Config.Debug {
		for name, files := range ShellToolsKeep {
			keep[name] = files
		}
	}
	var partial []string
	for name := range keep {
		partial = append(partial, name)
	}
	sort.Strings(partial)
	for _, name := range partial {
		m, err := db.RemovePackageFilesExcept(st.Rootfs, name, keep[name])
		if err != nil {
			return halt(state, err)
		}
		n += m
	}
	if err := checkLibraries(st.Rootfs); err != nil {
		return halt(state, err)
	}
	cleared, err := ClearSUID(st.Rootfs)
	if err != nil {
		return halt(state, err)
	}
	st.say("removed %d paths, cleared SUID/SGID on %d files", n, cleared)
	inv, err := InventoryRoot(st.Rootfs, db, Binaries, filepath.Join(st.Config.CacheDir, "apt"))
	if err != nil {
		return halt(state, err)
	}
	st.Inventory, st.Packages = inv, debPackages(inv.Packages)
	st.say("%d of %d packages remain (removed: %s)", len(inv.Packages), len(db.Packages), strings.Join(inv.Removed, " "))
	return multistep.ActionContinue
}

func (*StepStripRootfs) Cleanup(multistep.StateBag) {}

// RemoveGlobs removes every path under root matching one of globs. A glob
// can never escape root: matches are checked to stay inside it.
func RemoveGlobs(root string, globs []string) (int, error) {
	n := 0
	for _, g := range globs {
		m, err := filepath.Glob(filepath.Join(root, g))
		if err != nil {
			return n, err
		}
		for _, p := range m {
			if !strings.HasPrefix(p, root+"/") {
				continue
			}
			if err := os.RemoveAll(p); err != nil {
				return n, err
			}
			n++
		}
	}
	return n, nil
}

// ClearSUID removes set-user-ID and set-group-ID bits from every regular
// file under root (CIS 6.1.x reviews SUID/SGID files; the appliance has no
// user that could need one).
func ClearSUID(root string) (int, error) {
	n := 0
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.Type().IsRegular() {
			return nil
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		if fi.Mode()&(fs.ModeSetuid|fs.ModeSetgid) != 0 {
			n++
			return os.Chmod(p, fi.Mode().Perm())
		}
		return nil
	})
	return n, err
}
