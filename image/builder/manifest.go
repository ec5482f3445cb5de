package builder

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"os"
	"path/filepath"
)

func bytesReader(b []byte) io.Reader { return bytes.NewReader(b) }

func sha256File(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// Manifest is manifest.json: what the image is made of and how to check it.
// The audit (hardening/) and the tests read it.
type Manifest struct {
	ImageName               string            `json:"image_name"`
	BuilderVersion          string            `json:"builder_version"`
	RootHash                string            `json:"root_hash"`
	KernelVersion           string            `json:"kernel_version"`
	KernelCmdline           string            `json:"kernel_cmdline"`
	UKIPath                 string            `json:"uki_path"`
	HardeningProfileVersion string            `json:"hardening_profile_version"`
	SourceDateEpoch         int64             `json:"source_date_epoch"`
	Packages                []Package         `json:"packages"`
	RemovedPackages         []string          `json:"removed_packages,omitempty"`
	GoBinaries              []ManifestGoBin   `json:"go_binaries,omitempty"`
	Artifacts               []FileInfo        `json:"artifacts"`
	Inputs                  map[string]any    `json:"inputs"`
	InstalledFiles          []string          `json:"installed_files"`
	MissingInputs           []string          `json:"missing_inputs,omitempty"`
	Timings                 []StepTiming      `json:"timings"`
	Partitions              map[string]string `json:"partitions"`
	// SlotLabel is the GPT label of this version's root and hash
	// partitions (A/B updates, slots.go).
	SlotLabel string `json:"slot_label,omitempty"`
	// KernelBuild says what the hardened kernel was built from; empty for
	// Debian's packaged kernels (they are in Packages).
	KernelBuild *KernelBuild `json:"kernel_build,omitempty"`
}

// KernelBuild is the provenance of a kernel built from source.
type KernelBuild struct {
	SourcePackage string `json:"source_package"` // linux-source-6.12
	SourceVersion string `json:"source_version"` // its Debian version
	Release       string `json:"release"`        // make kernelrelease, e.g. 6.12.117
	Key           string `json:"cache_key"`      // image/kernel Inputs.Key
	ConfigSHA256  string `json:"config_sha256"`  // of the final .config
	ImageSHA256   string `json:"bzimage_sha256"`
}

// ManifestGoBin is one project binary as the manifest lists it (the SBOM
// has every module).
type ManifestGoBin struct {
	Path      string `json:"path"`
	SHA256    string `json:"sha256"`
	GoVersion string `json:"go_version"`
	Modules   int    `json:"modules"`
	Revision  string `json:"vcs_revision,omitempty"`
}

// inputs records everything that determines the image.
func (s *State) inputs() map[string]any {
	c := s.Config
	in := map[string]any{
		"suite": c.Suite, "mirror": s.Mirror, "kernel_flavour": c.KernelFlavour,
		"packages_requested": Packages(c), "debug": c.Debug, "stateless": c.Stateless,
		"formats": c.Formats, "erofs_compression": c.Compression, "hostname": c.Hostname,
		"static_addresses": c.StaticAddresses, "initrd_drivers": c.InitrdDrivers,
		"source_date_epoch": s.Epoch, "secure_boot": c.SecureBootKey != "",
		"hardening_profile": c.HardeningProfile, "extra_cmdline": c.KernelCmdline,
		"stub_patch": s.StubPatch, "initrd_removed": s.InitrdRemoved,
	}
	bins := map[string]string{}
	for _, b := range Binaries {
		if sum, err := sha256File(filepath.Join(c.BinDir, b)); err == nil {
			bins[b] = sum
		}
	}
	in["binaries_sha256"] = bins
	return in
}
