package builder

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"syscall"
	"time"

	"github.com/hashicorp/hcl/v2/hcldec"
	"github.com/hashicorp/packer-plugin-sdk/multistep"
	packersdk "github.com/hashicorp/packer-plugin-sdk/packer"

	"github.com/supernode-appliance/appliance/internal/version"
)

// Version is the builder's version, recorded in the manifest, the SBOM and
// the image's os-release (IMAGE_VERSION): the one version of internal/version.
var Version = version.Version

// Builder builds the appliance image. It implements packersdk.Builder, so
// Packer runs it as a plugin and the appliance CLI runs it directly.
type Builder struct {
	config Config
	runner multistep.Runner
}

var _ packersdk.Builder = (*Builder)(nil)

// ConfigSpec is the HCL schema of a `source "supernode"` block.
func (b *Builder) ConfigSpec() hcldec.ObjectSpec { return b.config.FlatMapstructure().HCL2Spec() }

// Prepare decodes and validates the template's source block.
func (b *Builder) Prepare(raws ...interface{}) ([]string, []string, error) {
	warnings, err := b.config.Prepare(raws...)
	return nil, warnings, err
}

// Config returns the prepared configuration (for the CLI's boot command).
func (b *Builder) Config() *Config { return &b.config }

// Steps is the build, top to bottom. Each step lives in step_<verb>_<noun>.go
// and undoes its own work in Cleanup, so an interrupted or failed build
// leaves no mounts, loop devices, temporary files or half-written artifacts.
func (b *Builder) Steps() []multistep.Step {
	return []multistep.Step{
		&StepCheckHost{},         // root, host tools, disk space, mirror, before any work
		&StepCreateWorkdir{},     // private scratch directory next to the output
		&StepPrepareTools{},      // trixie tools tree (ukify, mkfs.erofs 1.8, sfdisk...)
		&StepBootstrapRootfs{},   // mmdebstrap trixie minbase + pinned packages + kernel + small initrd
		&StepPrepareKernel{},     // take kernel + initrd out, strip modules to the allowlist
		&StepInstallSupernode{},  // static binaries, units, configs, networkd
		&StepApplyHardening{},    // hardening/ profile onto the root
		&StepStripRootfs{},       // package manager, docs, compilers, SUID bits, shells
		&StepMakeErofs{},         // read-only root filesystem
		&StepMakeVerity{},        // dm-verity hash tree and root hash
		&StepBuildUKI{},          // kernel + initrd + cmdline (roothash=), optionally signed
		&StepMakeESP{},           // FAT ESP with systemd-boot and the UKI
		&StepAssembleDisk{},      // GPT: esp, root A, verity A, config, root B, verity B (+ room for /var)
		&StepConvertFormats{},    // qcow2, vmdk, vhdx, vhd, ova
		&StepWriteManifest{},     // manifest.json + SPDX SBOM with sha256 of every artifact
		&StepWriteUpdateBundle{}, // update/: signed payloads for systemd-sysupdate (A/B)
		&StepPublishArtifacts{},  // atomic renames into output_dir
	}
}

// Run executes the build. Inputs are checked first (one sentence naming
// every missing binary or source folder). Cancelling ctx (Ctrl-C, or Packer
// cancelling the build) stops the current step and runs every completed
// step's Cleanup in reverse order; an output directory the build created
// is removed again if it stayed empty.
func (b *Builder) Run(ctx context.Context, ui packersdk.Ui, hook packersdk.Hook) (packersdk.Artifact, error) {
	if err := b.config.CheckInputs(); err != nil {
		return nil, err
	}
	_, statErr := os.Stat(b.config.OutputDir)
	createdOut := errors.Is(statErr, os.ErrNotExist)

	st := &State{Config: &b.config, UI: ui, Started: time.Now()}
	state := new(multistep.BasicStateBag)
	state.Put("hook", hook)
	state.Put("ui", ui)
	state.Put(stateKey, st)

	steps := b.Steps()
	wrapped := make([]multistep.Step, len(steps))
	for i, s := range steps {
		wrapped[i] = &progressStep{inner: s, n: i + 1, total: len(steps), ui: ui}
	}
	b.runner = &multistep.BasicRunner{Steps: wrapped}
	b.runner.Run(ctx, state)

	err := buildError(ctx, state)
	if err != nil {
		if createdOut {
			os.Remove(b.config.OutputDir) // only if empty: never anything published
		}
		return nil, err
	}
	ui.Say(st.Summary())
	return &Artifact{dir: st.OutputDir, files: st.Published, rootHash: st.RootHash, manifest: st.ManifestPath}, nil
}

// ErrCancelled is the error of a build stopped by its context.
var ErrCancelled = errors.New("build cancelled; every finished step was undone and nothing was published")

// buildError is the build's outcome. A cancelled build reports that, not
// the "context canceled" of whichever tool was killed on the way out.
func buildError(ctx context.Context, state multistep.StateBag) error {
	_, cancelled := state.GetOk(multistep.StateCancelled)
	if ctx.Err() != nil || cancelled {
		return ErrCancelled
	}
	if err, ok := state.GetOk("error"); ok {
		// Ctrl-C in a terminal reaches the whole process group: the tool
		// dies of SIGINT a moment before Packer cancels the plugin's
		// context. That is a cancellation too.
		if interrupted(err.(error)) {
			return ErrCancelled
		}
		return err.(error)
	}
	if _, ok := state.GetOk(multistep.StateHalted); ok {
		return errors.New("build halted")
	}
	return nil
}

// interrupted reports whether err is a tool killed by SIGINT or SIGTERM.
func interrupted(err error) bool {
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			return ws.Signal() == syscall.SIGINT || ws.Signal() == syscall.SIGTERM
		}
	}
	return false
}

// progressStep prints "[n/N] what ... elapsed" around a step.
type progressStep struct {
	inner    multistep.Step
	n, total int
	ui       packersdk.Ui
}

// Describer is implemented by steps to name themselves in progress lines.
type Describer interface{ Describe() string }

func (p *progressStep) Run(ctx context.Context, state multistep.StateBag) multistep.StepAction {
	name := fmt.Sprintf("%T", p.inner)
	if d, ok := p.inner.(Describer); ok {
		name = d.Describe()
	}
	start := time.Now()
	p.ui.Say(fmt.Sprintf("[%d/%d] %s ...", p.n, p.total, name))
	action := p.inner.Run(ctx, state)
	d := time.Since(start).Round(100 * time.Millisecond)
	if action == multistep.ActionContinue {
		if st := GetState(state); st != nil {
			st.Timings = append(st.Timings, StepTiming{Step: name, Seconds: d.Seconds()})
		}
		p.ui.Say(fmt.Sprintf("[%d/%d] %s done in %s", p.n, p.total, name, d))
	}
	return action
}

func (p *progressStep) Cleanup(state multistep.StateBag) { p.inner.Cleanup(state) }

// halt records err in the state bag and stops the build. Run returns it,
// and the front door (Packer or the appliance CLI) prints it once.
func halt(state multistep.StateBag, err error) multistep.StepAction {
	state.Put("error", err)
	return multistep.ActionHalt
}
