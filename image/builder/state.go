package builder

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/hashicorp/packer-plugin-sdk/multistep"

	packersdk "github.com/hashicorp/packer-plugin-sdk/packer"
	"github.com/supernode-appliance/appliance/image/kernel"
)

const stateKey = "supernode"

// State is what the steps hand to each other. One typed struct instead of
// many string keys, so a reader sees every intermediate product in one place.
type State struct {
	Config  *Config
	UI      packersdk.Ui
	Started time.Time

	Mirror    string // Debian mirror in use
	Epoch     int64  // SOURCE_DATE_EPOCH of this build
	Work      string // private scratch directory (removed at the end)
	Staging   string // Work/out: artifacts before publication
	ToolsRoot string // trixie tools tree
	Rootfs    string // Work/rootfs: the appliance root being built

	KernelVersion    string
	Kernel           string        // vmlinuz taken out of the root
	KernelBuild      kernel.Result // the hardened kernel build (its tree has kernel-hardening-checker)
	VeritySalt       string        // dm-verity salt (derived from the inputs)
	RootDataBlocks   int64         // the root image in 4 KiB blocks (the verity table's size)
	Initrd           string        // initrd built by dracut in the root, shells and emergency paths filtered out
	InitrdRemoved    []string      // what the filter took out of dracut's initrd
	Packages         []Package
	Inventory        *RootInventory // the final root's packages, licenses, binaries (strip step)
	Installed        []string       // files the builder added (binaries, units)
	Missing          []string       // inputs that did not exist yet (logged)
	HardeningVer     string
	HardeningSource  []byte   // the profile file as applied, published as hardening-profile.hcl
	HardeningCmdline []string // tokens the profile requires on the kernel command line

	RootImage   string // erofs
	VerityImage string // dm-verity hash tree
	RootHash    string
	Cmdline     string
	StubPatch   *StubPatch // how the signed image's sd-stub was patched (nil: unsigned, stock stub)
	UKI         string
	ESPImage    string
	ConfigImage string // the appliance-config partition (step_make_config.go)
	RawImage    string

	Artifacts    []FileInfo // every produced file with size and sha256
	Published    []string   // final paths under output_dir
	OutputDir    string
	ManifestPath string
	Timings      []StepTiming
}

// Package is one Debian package of the root.
type Package struct {
	Name    string `json:"name"`
	Version string `json:"version"`
	Arch    string `json:"arch,omitempty"`
}

// FileInfo describes a produced file.
type FileInfo struct {
	Path   string `json:"path"`
	SHA256 string `json:"sha256"`
	Size   int64  `json:"size"`
}

// StepTiming is one step's wall-clock time.
type StepTiming struct {
	Step    string  `json:"step"`
	Seconds float64 `json:"seconds"`
}

// GetState returns the build state from a state bag.
func GetState(state multistep.StateBag) *State {
	st, _ := state.Get(stateKey).(*State)
	return st
}

func (s *State) say(format string, a ...any) {
	if s.UI != nil {
		s.UI.Say("      " + fmt.Sprintf(format, a...))
	}
}

// Summary is the end-of-build report: paths, sizes, hashes.
func (s *State) Summary() string {
	var b strings.Builder
	fmt.Fprintf(&b, "Build finished in %s. Root hash %s\n", time.Since(s.Started).Round(time.Second), s.RootHash)
	for _, a := range s.Artifacts {
		fmt.Fprintf(&b, "  %-44s %10s  sha256:%s\n", filepath.Join(s.OutputDir, filepath.Base(a.Path)), humanSize(a.Size), a.SHA256)
	}
	if s.ManifestPath != "" {
		fmt.Fprintf(&b, "  %s\n", s.ManifestPath)
	}
	return strings.TrimRight(b.String(), "\n")
}

func humanSize(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}

func fileSize(path string) int64 {
	fi, err := os.Stat(path)
	if err != nil {
		return 0
	}
	return fi.Size()
}
