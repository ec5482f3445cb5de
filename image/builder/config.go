//go:generate go tool packer-sdc mapstructure-to-hcl2 -type Config

// Package builder is the appliance image builder: a Packer builder (Config,
// Builder, Artifact) whose build is a list of multistep steps, one file per
// step, each undoing its own work in Cleanup. The standalone `appliance` CLI
// runs the same Builder from the same HCL template without Packer.
package builder

import (
	"errors"
	"fmt"
	"github.com/supernode-appliance/appliance/image/kernel"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/hashicorp/packer-plugin-sdk/common"
	"github.com/hashicorp/packer-plugin-sdk/template/config"
	"github.com/hashicorp/packer-plugin-sdk/template/interpolate"

	"github.com/supernode-appliance/appliance/hardening"
	"github.com/supernode-appliance/appliance/image/confpart"
)

// BuilderID identifies artifacts of this builder to post-processors.
const BuilderID = "supernode-appliance.image"

// Defaults of the template options (README "Template options").
const (
	DefaultOutputDir   = "out"
	DefaultImageName   = "supernode-appliance"
	DefaultSuite       = "trixie"
	DefaultCacheDir    = "/var/cache/supernode-appliance"
	DefaultKernel      = "hardened"
	DefaultCompression = "lzma"
	DefaultVarSize     = "512M"
	DefaultHostname    = "supernode"
)

// Config is the `source "supernode" "<name>"` block of a template.
type Config struct {
	common.PackerConfig `mapstructure:",squash"`

	// Directory the artifacts are published to (created if missing).
	OutputDir string `mapstructure:"output_dir"`
	// Base name of the artifacts: <image_name>.raw, .qcow2, ...
	ImageName string `mapstructure:"image_name"`
	// Debian suite of the appliance root.
	Suite string `mapstructure:"suite"`
	// Debian mirror URI; empty means the one the host's apt sources name.
	Mirror string `mapstructure:"mirror"`
	// Cache root: apt archives in <cache_dir>/apt, tools trees and
	// bootstrapped roots (rootfs-<key>) beside them.
	CacheDir string `mapstructure:"cache_dir"`
	// Reuse a cached mmdebstrap result when every input of the bootstrap
	// (argv, mirror snapshot, host tool versions) is unchanged; unset means
	// true. false always runs mmdebstrap and leaves the cache alone.
	RootfsCache *bool `mapstructure:"rootfs_cache"`
	// Kernel flavour: "cloud" (Debian's, for VMs; default), "generic"
	// (Debian's, bare metal) or "hardened" (built from Debian's source with
	// image/kernel/hardened.config: monolithic, no initrd).
	KernelFlavour string `mapstructure:"kernel_flavour"`
	// Version of linux-source-6.12 the hardened kernel is built from; empty
	// means the builder's pinned version. Bump it for Debian's security fixes.
	KernelSourceVersion string `mapstructure:"kernel_source_version"`
	// Kernel modules kept in the root (glob patterns on module names); empty
	// means the allowlist shipped with the builder (modules.allowlist).
	ModuleAllowlist []string `mapstructure:"module_allowlist"`
	// Drivers the initrd carries to find and verify the root.
	InitrdDrivers []string `mapstructure:"initrd_drivers"`
	// Packages added to the pinned base list.
	ExtraPackages []string `mapstructure:"extra_packages"`
	// Where bin/supernode, bin/supernode-xdp, ... are taken from.
	BinDir string `mapstructure:"bin_dir"`
	// Repository root holding supernode/systemd, ebpf/systemd and configs.
	SourceDir string `mapstructure:"source_dir"`
	// Hardening profile file; empty means the profile embedded in hardening/.
	HardeningProfile string `mapstructure:"hardening_profile"`
	// The previous release's hardening profile, for the release notes'
	// diff: its hardening-profile.hcl or its output directory. Empty: the
	// notes say no previous profile was given.
	PreviousProfile string `mapstructure:"previous_profile"`
	// Debug image: keeps shells and logs root in on the serial console.
	Debug bool `mapstructure:"debug"`
	// Stateless: /var on tmpfs instead of a partition made on first boot.
	Stateless bool `mapstructure:"stateless"`
	// Size of the /var partition systemd-repart creates on first boot.
	VarSize  string `mapstructure:"var_size"`
	Hostname string `mapstructure:"hostname"`
	// Static addresses (CIDR) instead of DHCP on every Ethernet link.
	StaticAddresses []string `mapstructure:"static_addresses"`
	Gateway         string   `mapstructure:"gateway"`
	DNS             []string `mapstructure:"dns"`
	// Output formats besides raw: qcow2 (default), vmdk, vhdx, vhd, ova.
	Formats []string `mapstructure:"formats"`
	// mkfs.erofs compressor: lzma (smallest), lz4hc (fastest to read), none.
	Compression string `mapstructure:"erofs_compression"`
	// Timestamp for reproducible builds; 0 means $SOURCE_DATE_EPOCH or the
	// last git commit time of source_dir.
	SourceDateEpoch int64 `mapstructure:"source_date_epoch"`
	// Extra kernel command line tokens.
	KernelCmdline []string `mapstructure:"kernel_cmdline"`
	// Secure Boot: PEM key and certificate to sign systemd-boot and the UKI.
	SecureBootKey  string `mapstructure:"secure_boot_key"`
	SecureBootCert string `mapstructure:"secure_boot_cert"`
	// Keep the work directory after the build (for debugging the builder).
	KeepWorkDir bool `mapstructure:"keep_work_dir"`
	// Armored OpenPGP private key that signs SHA256SUMS (SHA256SUMS.gpg);
	// an encrypted key takes its passphrase from $SUPERNODE_SIGNING_PASSPHRASE.
	SigningKey string `mapstructure:"signing_key"`
	// Armored OpenPGP public key baked into the verified root: the
	// appliance then accepts only configuration-partition settings it
	// signed (appliance configure --sign-key; image/confpart).
	ConfigSigningKey string `mapstructure:"config_signing_key"`
	// Boots a newly installed version gets to pass the health gate before
	// systemd-boot falls back to the previous one (the UKI transfer's
	// TriesLeft=; 3 by default, 1 to 9).
	BootTries int `mapstructure:"boot_tries"`

	ctx          interpolate.Context
	templatePath string // the .pkr.hcl file, when the standalone CLI read it (provenance)
}

var (
	nameRe     = regexp.MustCompile(`^[a-zA-Z0-9][a-zA-Z0-9._-]*$`)
	hostnameRe = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$`)
	formatsOK  = map[string]bool{"raw": true, "qcow2": true, "vmdk": true, "vhdx": true, "vhd": true, "ova": true}
)

// Prepare decodes raws (cty values from HCL or maps from JSON) into c, fills
// defaults and validates. Every problem is reported, each naming its key.
func (c *Config) Prepare(raws ...interface{}) ([]string, error) {
	err := config.Decode(c, &config.DecodeOpts{
		PluginType:         BuilderID,
		Interpolate:        true,
		InterpolateContext: &c.ctx,
	}, raws...)
	if err != nil {
		return nil, err
	}
	c.defaults()
	var warnings []string
	errs := c.validate()
	if c.Debug {
		warnings = append(warnings, "debug = true: the image keeps a shell and logs root in on the serial console; never ship it")
	}
	return warnings, errors.Join(errs...)
}

func (c *Config) defaults() {
	set := func(p *string, v string) {
		if *p == "" {
			*p = v
		}
	}
	set(&c.OutputDir, DefaultOutputDir)
	set(&c.ImageName, DefaultImageName)
	set(&c.Suite, DefaultSuite)
	set(&c.CacheDir, DefaultCacheDir)
	set(&c.KernelFlavour, DefaultKernel)
	set(&c.Compression, DefaultCompression)
	set(&c.VarSize, DefaultVarSize)
	set(&c.Hostname, DefaultHostname)
	set(&c.BinDir, "bin")
	set(&c.SourceDir, ".")
	if len(c.Formats) == 0 {
		c.Formats = []string{"raw", "qcow2"}
	}
	if len(c.InitrdDrivers) == 0 {
		// Enough to find the root on virtio, SCSI, SATA and NVMe disks and
		// to verify it; NVMe is built into Debian's kernels. qemu_fw_cfg:
		// the initrd's PID 1 imports the system credentials once for the
		// whole boot (SMBIOS and fw_cfg together; the root's PID 1 does not
		// import again), so fw_cfg must be readable there.
		c.InitrdDrivers = []string{"virtio_blk", "virtio_scsi", "sd_mod", "ahci", "dm_verity", "erofs", "qemu_fw_cfg"}
	}
	if c.BootTries == 0 {
		c.BootTries = 3
	}
	if c.SourceDateEpoch == 0 {
		if v, err := strconv.ParseInt(os.Getenv("SOURCE_DATE_EPOCH"), 10, 64); err == nil {
			c.SourceDateEpoch = v
		}
	}
}

// debVersionRe is a Debian package version (no spaces, no shell syntax).
var debVersionRe = regexp.MustCompile(`^[0-9][A-Za-z0-9.+~:-]*$`)

func (c *Config) validate() []error {
	var errs []error
	bad := func(format string, a ...any) { errs = append(errs, fmt.Errorf(format, a...)) }
	if !nameRe.MatchString(c.ImageName) {
		bad("image_name %q: use letters, digits, '.', '_' and '-' only", c.ImageName)
	}
	if err := CheckSlotVersion(Version); err != nil {
		errs = append(errs, err)
	}
	if c.KernelFlavour != "cloud" && c.KernelFlavour != "generic" && c.KernelFlavour != "hardened" {
		bad("kernel_flavour %q: use \"cloud\" (VMs), \"generic\" (bare metal) or \"hardened\" (built from source, no modules, no initrd)", c.KernelFlavour)
	}
	if c.KernelSourceVersion != "" && (c.KernelFlavour != "hardened" || !debVersionRe.MatchString(c.KernelSourceVersion)) {
		bad("kernel_source_version %q: set it only with kernel_flavour = \"hardened\", to a Debian version such as %q", c.KernelSourceVersion, kernel.DefaultSourceVersion)
	}
	switch c.Compression {
	case "lzma", "lz4hc", "lz4", "none":
	default:
		bad("erofs_compression %q: use lzma, lz4hc, lz4 or none", c.Compression)
	}
	if c.Mirror != "" && !strings.HasPrefix(c.Mirror, "http://") && !strings.HasPrefix(c.Mirror, "https://") && !strings.HasPrefix(c.Mirror, "file://") {
		bad("mirror %q: give a URI such as http://<host>/debian", c.Mirror)
	}
	if !filepath.IsAbs(c.CacheDir) {
		bad("cache_dir %q: give an absolute path so every build shares one cache", c.CacheDir)
	}
	if !hostnameRe.MatchString(c.Hostname) {
		bad("hostname %q: use lower-case letters, digits and '-' (RFC 1123)", c.Hostname)
	}
	if c.BootTries < 1 || c.BootTries > 9 {
		bad("boot_tries %d: give 1 to 9 boots for a new version to prove itself", c.BootTries)
	}
	if _, err := ParseSize(c.VarSize); err != nil {
		bad("var_size %q: %v", c.VarSize, err)
	}
	hasRaw := false
	for _, f := range c.Formats {
		if !formatsOK[f] {
			bad("formats: %q is not one of raw, qcow2, vmdk, vhdx, vhd, ova", f)
		}
		hasRaw = hasRaw || f == "raw"
	}
	if !hasRaw {
		bad("formats: must include \"raw\" (the other formats are converted from it and the audit reads it)")
	}
	for _, a := range c.StaticAddresses {
		if _, err := netip.ParsePrefix(a); err != nil {
			bad("static_addresses: %q is not an address with a prefix length like 192.0.2.10/24", a)
		}
	}
	if c.Gateway != "" {
		if _, err := netip.ParseAddr(c.Gateway); err != nil {
			bad("gateway %q is not an IP address", c.Gateway)
		}
		if len(c.StaticAddresses) == 0 {
			bad("gateway is set but static_addresses is empty; set both or neither")
		}
	}
	for _, d := range c.DNS {
		if _, err := netip.ParseAddr(d); err != nil {
			bad("dns: %q is not an IP address", d)
		}
	}
	if (c.SecureBootKey == "") != (c.SecureBootCert == "") {
		bad("secure_boot_key and secure_boot_cert must be given together")
	}
	for _, p := range []struct{ key, path string }{{"secure_boot_key", c.SecureBootKey}, {"secure_boot_cert", c.SecureBootCert}, {"hardening_profile", c.HardeningProfile}} {
		if p.path != "" {
			if _, err := os.Stat(p.path); err != nil {
				bad("%s %q: file not found", p.key, p.path)
			}
		}
	}
	if c.PreviousProfile != "" {
		// Read it now: a wrong path must stop the build before any work.
		if _, _, err := hardening.PreviousProfile(c.PreviousProfile); err != nil {
			bad("previous_profile: %v", err)
		}
	}
	for _, tok := range c.KernelCmdline {
		if strings.ContainsAny(tok, " \t\n\"") || strings.HasPrefix(tok, "roothash=") || strings.HasPrefix(tok, "root=") || strings.HasPrefix(tok, "dm-mod.") {
			bad("kernel_cmdline: %q must be one token and must not set roothash=, root= or dm-mod.* (the builder sets the verified root)", tok)
		}
	}
	if c.SigningKey != "" {
		// Read it now: a wrong key must stop the build before any work.
		if _, err := ReadSigningKey(c.SigningKey); err != nil {
			bad("%v", err)
		}
	}
	if c.ConfigSigningKey != "" {
		if _, err := confpart.ReadPublicKeyFile(c.ConfigSigningKey); err != nil {
			bad("config_signing_key: %v", err)
		}
	}
	if c.SourceDateEpoch < 0 {
		bad("source_date_epoch %d: must not be negative", c.SourceDateEpoch)
	}
	return errs
}

// ParseSize parses sizes like 512M, 2G, 1048576 into bytes.
func ParseSize(s string) (int64, error) {
	s = strings.TrimSpace(strings.ToUpper(strings.TrimSuffix(strings.TrimSuffix(s, "iB"), "B")))
	mult := int64(1)
	if n := len(s); n > 0 {
		switch s[n-1] {
		case 'K':
			mult, s = 1<<10, s[:n-1]
		case 'M':
			mult, s = 1<<20, s[:n-1]
		case 'G':
			mult, s = 1<<30, s[:n-1]
		}
	}
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil || v < 0 {
		return 0, fmt.Errorf("not a size; use a number with K, M or G")
	}
	return v * mult, nil
}

// rootfsCacheOn reports whether the bootstrap may use the rootfs cache.
func (c *Config) rootfsCacheOn() bool { return c.RootfsCache == nil || *c.RootfsCache }

// Formats other than raw, in the order given.
func (c *Config) extraFormats() []string {
	var out []string
	for _, f := range c.Formats {
		if f != "raw" {
			out = append(out, f)
		}
	}
	return out
}

// CheckInputs reports, in one sentence, every project input the image needs
// that is not there: the binaries under bin_dir, the systemd folders and
// default configs under source_dir. Relative paths are taken from the
// current directory, as Packer does; the default template anchors both to
// itself with path.root, so it builds from any directory.
func (c *Config) CheckInputs() error {
	var missing []string
	for _, b := range Binaries {
		if _, err := os.Stat(filepath.Join(c.BinDir, b)); err != nil {
			missing = append(missing, filepath.Join(c.BinDir, b))
		}
	}
	for _, d := range UnitDirs {
		if files, _ := filepath.Glob(filepath.Join(c.SourceDir, d, "*")); len(files) == 0 {
			missing = append(missing, filepath.Join(c.SourceDir, d)+"/")
		}
	}
	for _, src := range sortedKeys(ConfigFiles) {
		if _, err := os.Stat(filepath.Join(c.SourceDir, src)); err != nil {
			missing = append(missing, filepath.Join(c.SourceDir, src))
		}
	}
	if len(missing) == 0 {
		return nil
	}
	return fmt.Errorf("missing build inputs %s; run `make build` for the binaries and set bin_dir and source_dir (relative paths start from %s) to the repository's bin/ and root", strings.Join(missing, ", "), cwd())
}

func cwd() string {
	d, err := os.Getwd()
	if err != nil {
		return "the current directory"
	}
	return d
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
