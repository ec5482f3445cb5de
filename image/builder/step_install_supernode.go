package builder

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/hashicorp/packer-plugin-sdk/multistep"
)

// MultiCall is the one Go binary on the image: every command below, linked
// into one static binary (image/cmd/appliance-multicall) that runs the
// command its link names. Seven binaries of their own were 79 MB with a Go
// runtime each; the one is 21 MB.
const MultiCall = "appliance-multicall"

// Binaries are the Go binaries copied from bin_dir into /usr/bin: the
// build's inputs, and what the manifest, the SBOM and the provenance list.
var Binaries = []string{MultiCall}

// Commands are the appliance's commands: /usr/bin/NAME is a symbolic link
// to MultiCall, which the units run by that name.
var Commands = []string{"supernode", "supernode-xdp", "appliance-audit", "appliance-imds", "appliance-config", "appliance-mgmt"}

// UnitDirs hold each part's systemd files (*.service, *.sysusers.conf,
// *.tmpfiles.conf, ...), relative to source_dir.
var UnitDirs = []string{"supernode/systemd", "ebpf/systemd", "hardening/systemd", "image/imds/systemd", "image/confpart/systemd", "image/mgmt/systemd"}

// ConfigFiles are the daemons' default configs: source -> path in the image.
var ConfigFiles = map[string]string{
	"supernode/supernode.conf":       "/etc/supernode/supernode.conf",
	"ebpf/supernode-xdp.conf":        "/etc/supernode/supernode-xdp.conf",
	"image/mgmt/appliance-mgmt.conf": "/etc/supernode/appliance-mgmt.conf",
}

// StepInstallSupernode installs the static binaries, their units, default
// configs and the network configuration, stamps the image's version into
// os-release, creates the users and enables the services. Every input must
// exist (Config.CheckInputs said so before the build started); one that
// vanished since is an error, never an image without it.
type StepInstallSupernode struct{}

func (*StepInstallSupernode) Describe() string {
	return "install supernode, XDP filter and network config"
}

func (*StepInstallSupernode) Run(ctx context.Context, state multistep.StateBag) multistep.StepAction {
	in := &installer{st: GetState(state)}
	for _, part := range []func(context.Context) error{
		in.binaries,         // bin_dir -> /usr/bin, and the commands' links
		in.units,            // */systemd -> /usr/lib/systemd, sysusers.d, tmpfiles.d
		in.configs,          // default configs -> /etc/supernode
		in.configSigningKey, // config_signing_key -> /usr/lib/appliance-config
		in.operatorKey,      // signing_key's public half -> /usr/lib/appliance-update
		in.systemFiles,      // hostname, networkd, fstab, repart, ...
		in.osRelease,        // IMAGE_ID / IMAGE_VERSION
		in.users,            // systemd-sysusers at build time
		in.enableServices,   // systemctl enable
		in.maskWaitServices, // nothing waits for "online" or firstboot
	} {
		if err := part(ctx); err != nil {
			return halt(state, err)
		}
	}
	in.st.say("installed %d files, enabled %s", len(in.st.Installed), strings.Join(in.enabled, " "))
	return multistep.ActionContinue
}

func (*StepInstallSupernode) Cleanup(multistep.StateBag) {}

// installer is one run of StepInstallSupernode: its parts in the order of
// Run, each a small method.
type installer struct {
	st      *State
	enabled []string // units from the parts' systemd folders, to enable
}

// install copies src to dst inside the root with mode.
func (in *installer) install(src, dst string, mode os.FileMode) error {
	if _, err := os.Stat(src); err != nil {
		return fmt.Errorf("build input %s is missing; run `make build` and check bin_dir and source_dir", src)
	}
	full := filepath.Join(in.st.Rootfs, dst)
	if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
		return err
	}
	if err := copyFile(src, full); err != nil {
		return err
	}
	in.st.Installed = append(in.st.Installed, dst)
	return os.Chmod(full, mode)
}

func (in *installer) binaries(context.Context) error {
	for _, b := range Binaries {
		if err := in.install(filepath.Join(in.st.Config.BinDir, b), "/usr/bin/"+b, 0o755); err != nil {
			return err
		}
	}
	for _, c := range Commands {
		link := filepath.Join(in.st.Rootfs, "usr/bin", c)
		if err := os.Remove(link); err != nil && !os.IsNotExist(err) {
			return err
		}
		if err := os.Symlink(MultiCall, link); err != nil {
			return err
		}
		in.st.Installed = append(in.st.Installed, "/usr/bin/"+c)
	}
	return nil
}

func (in *installer) units(context.Context) error {
	for _, d := range UnitDirs {
		dir := filepath.Join(in.st.Config.SourceDir, d)
		files, _ := filepath.Glob(filepath.Join(dir, "*"))
		if len(files) == 0 {
			return fmt.Errorf("build input %s/ is missing or empty; check source_dir", dir)
		}
		for _, f := range files {
			dst := UnitDestination(filepath.Base(f))
			if dst == "" {
				continue
			}
			if err := in.install(f, dst, 0o644); err != nil {
				return err
			}
			if strings.HasPrefix(dst, "/usr/lib/systemd/system/") && !strings.Contains(filepath.Base(f), "@") && hasInstall(f) {
				in.enabled = append(in.enabled, filepath.Base(f))
			}
		}
	}
	return nil
}

// hasInstall reports whether a unit file has an [Install] section: only
// those are enabled; the others are started by a dependency or a udev rule.
func hasInstall(path string) bool {
	b, err := os.ReadFile(path)
	return err != nil || strings.Contains(string(b), "\n[Install]")
}

func (in *installer) configs(context.Context) error {
	for _, src := range sortedKeys(ConfigFiles) {
		if err := in.install(filepath.Join(in.st.Config.SourceDir, src), ConfigFiles[src], 0o644); err != nil {
			return err
		}
	}
	return nil
}

func (in *installer) systemFiles(context.Context) error {
	for path, body := range SystemFiles(in.st.Config) {
		full := filepath.Join(in.st.Rootfs, path)
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			return err
		}
		os.Remove(full) // may be a symlink (e.g. /etc/resolv.conf)
		if err := os.WriteFile(full, []byte(body), 0o644); err != nil {
			return err
		}
	}
	return nil
}

// osRelease adds IMAGE_ID and IMAGE_VERSION (os-release(5)) to Debian's
// /usr/lib/os-release, so `hostnamectl`, the UKI's .osrel section and the
// boot menu name the appliance version the manifest and the binaries report.
func (in *installer) osRelease(context.Context) error {
	path := filepath.Join(in.st.Rootfs, "usr/lib/os-release")
	old, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("the root has no /usr/lib/os-release: %v", err)
	}
	body, err := OSRelease(string(old), in.st.Config.ImageName, Version)
	if err != nil {
		return err
	}
	return os.WriteFile(path, []byte(body), 0o644)
}

// OSRelease returns the os-release file old with IMAGE_ID and IMAGE_VERSION
// set (replacing earlier values).
func OSRelease(old, imageID, version string) (string, error) {
	if strings.ContainsAny(version, "\"\\`$\n") {
		return "", fmt.Errorf("version %q cannot be written to os-release; build with a plain VERSION", version)
	}
	var b strings.Builder
	for _, line := range strings.SplitAfter(old, "\n") {
		if strings.HasPrefix(line, "IMAGE_ID=") || strings.HasPrefix(line, "IMAGE_VERSION=") || line == "" {
			continue
		}
		b.WriteString(line)
		if !strings.HasSuffix(line, "\n") {
			b.WriteByte('\n')
		}
	}
	fmt.Fprintf(&b, "IMAGE_ID=%s\nIMAGE_VERSION=%s\n", imageID, version)
	return b.String(), nil
}

// users creates users and groups at build time: /etc is read-only on the
// appliance, so systemd-sysusers cannot add them at boot.
func (in *installer) users(ctx context.Context) error {
	_, err := in.st.inRoot(ctx, "systemd-sysusers")
	return err
}

func (in *installer) enableServices(ctx context.Context) error {
	enable := append([]string{"systemctl", "enable", "systemd-networkd.service", "systemd-network-generator.service"}, in.enabled...)
	// The firewall and the audit daemon the hardening profile configures.
	for _, u := range []string{"nftables.service", "auditd.service"} {
		if _, err := os.Stat(filepath.Join(in.st.Rootfs, "usr/lib/systemd/system", u)); err == nil {
			enable = append(enable, u)
		}
	}
	if !in.st.Config.Stateless {
		enable = append(enable, "systemd-repart.service")
	}
	_, err := in.st.inRoot(ctx, enable...)
	return err
}

// maskWaitServices: nothing may wait for the network to be "online" (the
// supernode binds its socket without it and XDP attaches before addresses
// exist), and systemd-firstboot would wait forever on a configured image.
func (in *installer) maskWaitServices(ctx context.Context) error {
	for _, u := range append([]string{"systemd-networkd-wait-online.service", "systemd-firstboot.service"}, UpdateMasked...) {
		if _, err := in.st.inRoot(ctx, "systemctl", "mask", u); err != nil {
			return err
		}
	}
	return nil
}

// UnitDestination maps a file from a part's systemd folder to its path in
// the image, or "" for files the image does not take.
func UnitDestination(name string) string {
	switch {
	case strings.HasSuffix(name, ".sysusers.conf"):
		return "/usr/lib/sysusers.d/" + strings.TrimSuffix(name, ".sysusers.conf") + ".conf"
	case strings.HasSuffix(name, ".tmpfiles.conf"):
		return "/usr/lib/tmpfiles.d/" + strings.TrimSuffix(name, ".tmpfiles.conf") + ".conf"
	case strings.HasSuffix(name, ".network"), strings.HasSuffix(name, ".link"), strings.HasSuffix(name, ".netdev"):
		return "/usr/lib/systemd/network/" + name
	case strings.HasSuffix(name, ".transfer"):
		return "/usr/lib/sysupdate.d/" + name
	case strings.HasSuffix(name, ".rules"):
		return "/usr/lib/udev/rules.d/" + name
	}
	switch filepath.Ext(name) {
	case ".service", ".socket", ".timer", ".path", ".target", ".mount":
		return "/usr/lib/systemd/system/" + name
	}
	return ""
}

// SystemFiles are the files the builder writes into the root, by path.
func SystemFiles(c *Config) map[string]string {
	files := map[string]string{
		"/etc/hostname": c.Hostname + "\n",
		// Empty: systemd mounts a transient machine ID over it at boot,
		// the correct behaviour for a read-only root shared by many VMs.
		"/etc/machine-id": "",
		"/etc/systemd/network/80-supernode-ethernet.network": NetworkConfig(c),
		"/etc/fstab": FstabConfig(c),
		// No resolver daemon: networkd's DHCP DNS is not needed by the
		// supernode, which never resolves names.
		"/etc/resolv.conf": "",
		// /var starts empty (new partition or tmpfs): auditd needs its log
		// directory before it starts.
		"/usr/lib/tmpfiles.d/supernode-audit.conf": "d /var/log/audit 0700 root root -\n",
	}
	if !c.Stateless {
		files["/usr/lib/repart.d/50-var.conf"] = fmt.Sprintf(`# /var is created on first boot in the free space after the root partitions.
[Partition]
Type=var
Label=var
Format=ext4
SizeMinBytes=64M
SizeMaxBytes=%s
`, c.VarSize)
	}
	if !c.Stateless {
		// systemd-repart needs a temporary directory; /var/tmp does not
		// exist yet (it lives on the partition being made) and / is
		// read-only, so give it one under /run.
		files["/etc/systemd/system/systemd-repart.service.d/tmpdir.conf"] =
			"[Service]\nRuntimeDirectory=systemd-repart\nEnvironment=TMPDIR=/run/systemd-repart\n"
	}
	for p, body := range UpdateSystemFiles(c) {
		files[p] = body
	}
	if c.Debug {
		files["/etc/systemd/system/serial-getty@ttyS0.service.d/autologin.conf"] =
			"[Service]\nExecStart=\nExecStart=-/sbin/agetty --autologin root --keep-baud 115200,57600,38400,9600 - $TERM\n"
	}
	return files
}

// NetworkConfig is DHCP on every Ethernet link unless static addresses are
// set. A systemd credential network.network.<name> (systemd-network-generator)
// overrides it per instance: files in /run sort before /etc.
func NetworkConfig(c *Config) string {
	var b strings.Builder
	b.WriteString("[Match]\nType=ether\nKind=!*\n\n[Network]\n")
	if len(c.StaticAddresses) == 0 {
		b.WriteString("DHCP=yes\n")
	}
	for _, a := range c.StaticAddresses {
		fmt.Fprintf(&b, "Address=%s\n", a)
	}
	if c.Gateway != "" {
		fmt.Fprintf(&b, "Gateway=%s\n", c.Gateway)
	}
	for _, d := range c.DNS {
		fmt.Fprintf(&b, "DNS=%s\n", d)
	}
	// RFC 4941 temporary addresses would make the supernode's address
	// change under its peers; router advertisements are still accepted.
	b.WriteString("IPv6PrivacyExtensions=no\nLLMNR=no\nMulticastDNS=no\n")
	return b.String()
}

// FstabConfig mounts /var: a partition systemd-repart made on first boot, or
// a tmpfs for stateless appliances. /tmp is a tmpfs (tmp.mount) either way.
func FstabConfig(c *Config) string {
	if c.Stateless {
		return "tmpfs /var tmpfs mode=0755,nosuid,nodev,noexec,size=256M 0 0\n" + ConfigFstab
	}
	// systemd-repart makes the partition during the same boot; on a
	// loaded host under emulation that took over 60 s (the device job
	// timed out and systemd went to emergency.target).
	return BootDiskLinks + "var /var ext4 defaults,nosuid,nodev,noexec,x-systemd.device-timeout=5min 0 2\n" + ConfigFstab
}
