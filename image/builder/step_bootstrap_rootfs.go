package builder

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/hashicorp/packer-plugin-sdk/multistep"

	"github.com/supernode-appliance/appliance/image/tools"
)

// BasePackages is the pinned package list of the appliance root on top of
// mmdebstrap's minbase. Versions are whatever the suite serves at build time
// and are recorded in the manifest; pin a snapshot mirror for fixed versions.
var BasePackages = []string{
	"systemd", "systemd-sysv", "udev", "kmod",
	"systemd-cryptsetup", // systemd-veritysetup(-generator) for the initrd
	// The hardening profile's firewall (default-deny nftables ruleset) and
	// audit rules need their tools on the appliance.
	"nftables", "auditd",
	"netbase", // /etc/protocols: nft resolves "ipv6-icmp" in the ruleset
	// systemd-logind handles the ACPI power button (a hypervisor's
	// "shut down" or a pressed button); it needs the system bus.
	"dbus",
	// Log shipping (opt-in, appliance-logship): the journal as RFC 5424
	// syslog over UDP/TCP/TLS/DTLS; 178 KiB, its libraries are already in.
	"systemd-netlogd",
	"dracut", "zstd", // build the small initrd (dracut provides linux-initramfs-tool, so no initramfs-tools); removed after
}

// InitrdPackages are in BasePackages only for the initrd: images without
// one (the hardened kernel) leave them out.
var InitrdPackages = []string{"systemd-cryptsetup", "dracut", "zstd"}

// BuildOnlyPackages are installed to build the initrd and removed afterwards.
var BuildOnlyPackages = []string{"dracut", "dracut-core", "dracut-install", "zstd"}

// StepBootstrapRootfs builds the appliance root with mmdebstrap: Debian
// minbase, the pinned list, the kernel of the chosen flavour, documentation
// excluded at unpack time, a shared apt cache and SOURCE_DATE_EPOCH. The
// kernel's postinst runs dracut with our configuration, so the initrd is the
// small one from the start (only the drivers to find and verify root). The
// result is cached (rootfs_cache.go): a build whose bootstrap inputs and
// mirror snapshot are unchanged unpacks it instead of running mmdebstrap.
type StepBootstrapRootfs struct{}

func (*StepBootstrapRootfs) Describe() string { return "bootstrap Debian rootfs (mmdebstrap)" }

// Packages returns the package list for c.
func Packages(c *Config) []string {
	var pkgs []string
	if c.KernelFlavour == "hardened" {
		// Built from source, no modules, no initrd: neither the kernel
		// package nor the initrd's tools (dracut, zstd, the veritysetup
		// generator, whose units would try to map the root a second time).
		for _, p := range BasePackages {
			if !slices.Contains(InitrdPackages, p) {
				pkgs = append(pkgs, p)
			}
		}
	} else {
		pkgs = append(pkgs, BasePackages...)
		pkgs = append(pkgs, "linux-image-"+c.KernelFlavour+"-amd64")
	}
	if !c.Stateless {
		pkgs = append(pkgs, "systemd-repart", "e2fsprogs") // /var made on first boot
	}
	pkgs = append(pkgs, UpdatePackages...) // step_install_update.go
	pkgs = append(pkgs, c.ExtraPackages...)
	sort.Strings(pkgs)
	return pkgs
}

// DracutConfig is the initrd recipe: a systemd initrd with udev, the
// veritysetup generator and only the listed drivers. hostonly=no because the
// build host is not the target; reproducible=yes clamps timestamps.
func DracutConfig(c *Config) string {
	return fmt.Sprintf(`# Written by the supernode image builder.
hostonly="no"
reproducible="yes"
early_microcode="no"
compress="zstd -19 -T1"
do_strip="no"
dracutmodules="systemd systemd-initrd systemd-udevd systemd-journald systemd-veritysetup systemd-modules-load systemd-sysctl udev-rules dracut-systemd dm base fs-lib"
drivers="%s"
# dm pulls every device-mapper target; the appliance needs only verity.
omit_drivers+=" dm-vdo dm-raid dm-cache dm-cache-smq dm-thin-pool dm-era dm-clone dm-integrity dm-crypt dm-log-writes dm-zoned dm-multipath dm-snapshot dm-mirror dm-writecache dm-ebs dm-unstripe dm-flakey dm-delay dm-dust dm-switch dm-region-hash dm-log dm-log-userspace dm-service-time dm-round-robin dm-queue-length dm-historical-service-time dm-io-affinity dm-bio-prison dm-persistent-data raid456 raid1 raid10 raid0 md-mod dm-vdo "
`, strings.Join(c.InitrdDrivers, " "))
}

func (*StepBootstrapRootfs) Run(ctx context.Context, state multistep.StateBag) multistep.StepAction {
	st := GetState(state)
	c := st.Config
	dracutConf := filepath.Join(st.Work, "dracut.conf")
	if err := os.WriteFile(dracutConf, []byte(DracutConfig(c)), 0o644); err != nil {
		return halt(state, err)
	}
	args, env := BootstrapCommand(c, st.Work, st.Rootfs, st.Mirror, st.Epoch)
	if err := bootstrapCached(ctx, st, args, env); err != nil {
		return halt(state, err)
	}
	// Record every package now: the package database is removed later.
	out, err := st.inRoot(ctx, "dpkg-query", "-W", "-f", "${Package}\t${Version}\t${Architecture}\n")
	if err != nil {
		return halt(state, err)
	}
	st.Packages = parsePackages(out)
	st.say("%d packages", len(st.Packages))
	return multistep.ActionContinue
}

// BootstrapCommand is the argv of `unshare` and the environment that run
// mmdebstrap to build the root at rootfs; dracut.conf in work is uploaded by
// a setup hook. The rootfs cache key is derived from exactly these.
func BootstrapCommand(c *Config, work, rootfs, mirror string, epoch int64) (args, env []string) {
	args = []string{"--mount", "--propagation", "private", "mmdebstrap",
		"--variant=minbase", "--mode=root", "--format=directory",
		"--include=" + strings.Join(Packages(c), ","),
		"--aptopt=Acquire::Retries \"3\"",
		"--aptopt=APT::Install-Recommends \"false\"",
	}
	// Nothing on the appliance reads documentation or translations; not
	// unpacking them is faster than deleting them. Copyright files stay.
	for _, p := range []string{"/usr/share/man/*", "/usr/share/info/*", "/usr/share/locale/*", "/usr/share/doc/*", "/usr/share/lintian/*", "/usr/share/linda/*"} {
		args = append(args, "--dpkgopt=path-exclude="+p)
	}
	args = append(args, "--dpkgopt=path-include=/usr/share/doc/*/copyright")
	if c.KernelFlavour != "hardened" {
		args = append(args,
			`--setup-hook=mkdir -p "$1/etc/dracut.conf.d"`,
			"--setup-hook=upload "+filepath.Join(work, "dracut.conf")+" /etc/dracut.conf.d/50-supernode.conf",
		)
	}
	args = append(args, tools.AptCacheHooks(filepath.Join(c.CacheDir, "apt"))...)
	args = append(args, c.Suite, rootfs, mirror)
	env = []string{fmt.Sprintf("SOURCE_DATE_EPOCH=%d", epoch), "LC_ALL=C.UTF-8", "TZ=UTC"}
	return args, env
}

// mmdebstrap runs the bootstrap into st.Rootfs.
func mmdebstrap(ctx context.Context, st *State, args, env []string) error {
	c := st.Config
	unlock, err := tools.LockAptCache(ctx, filepath.Join(c.CacheDir, "apt"), func() {
		st.say("waiting for another build to finish with the shared apt cache %s", filepath.Join(c.CacheDir, "apt"))
	})
	if err != nil {
		return err
	}
	_, err = run(ctx, env, "unshare", args...)
	unlock()
	if err != nil {
		return fmt.Errorf("bootstrapping the Debian %s root failed: %w", c.Suite, err)
	}
	return nil
}

// bootstrapCached fills st.Rootfs from the rootfs cache when an entry for
// this bootstrap's inputs is there, and otherwise runs mmdebstrap and
// stores its result. A cache that cannot be used (no Release file, a
// corrupt entry, a full disk) costs only the time: the build bootstraps.
func bootstrapCached(ctx context.Context, st *State, args, env []string) error {
	c := st.Config
	if !c.rootfsCacheOn() {
		st.say("rootfs cache off (rootfs_cache = false)")
		return mmdebstrap(ctx, st, args, env)
	}
	in := RootfsKeyInput{Format: rootfsCacheFormat, Argv: keyArgv(args, st.Work), Env: env, DracutConf: DracutConfig(c)}
	var err error
	if in.Host, err = hostBootstrapTools(ctx); err == nil {
		in.Release, err = mirrorRelease(ctx, st.Mirror, c.Suite)
	}
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		st.say("rootfs cache not used: %v", err)
		return mmdebstrap(ctx, st, args, env)
	}
	key := in.Key()
	name := rootfsEntryName(key)
	restore := func(locked bool) (bool, error) {
		if _, _, err := readRootfsEntry(c.CacheDir, key); err != nil {
			if locked && !errors.Is(err, os.ErrNotExist) {
				st.say("rootfs cache entry %s is incomplete (%v); bootstrapping afresh", name, err)
				dropRootfsEntry(c.CacheDir, key)
			}
			return false, nil
		}
		start := time.Now()
		if err := restoreRootfs(ctx, c.CacheDir, key, st.Rootfs); err != nil {
			if ctx.Err() != nil || interrupted(err) {
				return false, err // a cancelled build says nothing about the entry
			}
			if locked {
				st.say("rootfs cache entry %s is unusable (%v); bootstrapping afresh", name, err)
				dropRootfsEntry(c.CacheDir, key)
			}
			return false, nil
		}
		st.say("rootfs cache hit %s (%s), restored in %s", name, in.Release, time.Since(start).Round(100*time.Millisecond))
		return true, nil
	}
	if ok, err := restore(false); ok || err != nil {
		return err
	}
	unlock, err := lockRootfsCache(ctx, c.CacheDir, func() {
		st.say("waiting for another build writing the rootfs cache")
	})
	if err != nil {
		return err
	}
	defer unlock()
	// Another build may have stored this very entry while we waited.
	if ok, err := restore(true); ok || err != nil {
		return err
	}
	st.say("rootfs cache miss %s (%s)", name, in.Release)
	if err := mmdebstrap(ctx, st, args, env); err != nil {
		return err
	}
	start := time.Now()
	size, err := storeRootfs(ctx, c.CacheDir, key, st.Rootfs)
	if err != nil {
		if ctx.Err() != nil || interrupted(err) {
			return err
		}
		st.say("rootfs not cached: %v", err)
		return nil
	}
	st.say("stored %s (%s) in %s", name, humanSize(size), time.Since(start).Round(100*time.Millisecond))
	for _, r := range pruneRootfsCache(c.CacheDir, RootfsCacheKeep) {
		st.say("pruned old rootfs cache entry %s", r)
	}
	return nil
}

func parsePackages(out []byte) []Package {
	var pkgs []Package
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		f := strings.Split(sc.Text(), "\t")
		if len(f) >= 2 && f[0] != "" {
			p := Package{Name: f[0], Version: f[1]}
			if len(f) > 2 {
				p.Arch = f[2]
			}
			pkgs = append(pkgs, p)
		}
	}
	sort.Slice(pkgs, func(i, j int) bool { return pkgs[i].Name < pkgs[j].Name })
	return pkgs
}

// Cleanup: the root lives in the work directory, removed by its step.
func (*StepBootstrapRootfs) Cleanup(multistep.StateBag) {}
