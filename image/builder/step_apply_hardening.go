package builder

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/hashicorp/packer-plugin-sdk/multistep"

	"github.com/supernode-appliance/appliance/hardening"
)

// StepApplyHardening applies the hardening profile from hardening/ to the
// root (sysctl.d, modprobe.d, mounts, unit drop-ins, file modes, removals)
// and collects the kernel command line tokens the profile requires. The
// audit (bin/appliance-audit --image) later checks the same profile
// against the finished image.
type StepApplyHardening struct{}

func (*StepApplyHardening) Describe() string { return "apply hardening profile" }

func (*StepApplyHardening) Run(_ context.Context, state multistep.StateBag) multistep.StepAction {
	st := GetState(state)
	c := st.Config
	src, p, err := loadHardeningProfile(c)
	if err != nil {
		return halt(state, fmt.Errorf("loading the hardening profile: %w", err))
	}
	st.HardeningSource = src
	changes, err := p.Apply(st.Rootfs, hardening.ApplyOptions{Debug: c.Debug, Stateless: c.Stateless})
	if err != nil {
		return halt(state, fmt.Errorf("applying the hardening profile: %w", err))
	}
	st.HardeningVer = p.Version
	st.HardeningCmdline = p.KernelCmdline()
	// The command line the UKI will carry, root hash aside (the root cannot
	// hold its own hash), recorded in the verified root for the live audit
	// (control boot-cmdline-signed). StepBuildUKI checks they agree.
	recorded := filepath.Join(st.Rootfs, hardening.SignedCmdlineFile)
	if err := os.MkdirAll(filepath.Dir(recorded), 0o755); err != nil {
		return halt(state, err)
	}
	if err := os.WriteFile(recorded, []byte(Cmdline(c, hardening.RootHashPlaceholder, VeritySalt(c, st.Epoch), -1, st.HardeningCmdline)+"\n"), 0o644); err != nil {
		return halt(state, err)
	}
	st.say("profile %s: %d changes, %d kernel command line tokens", p.Version, len(changes), len(st.HardeningCmdline))
	return multistep.ActionContinue
}

func (*StepApplyHardening) Cleanup(multistep.StateBag) {}

// loadHardeningProfile reads hardening_profile, or the embedded profile.
func loadHardeningProfile(c *Config) ([]byte, *hardening.Profile, error) {
	if c.HardeningProfile == "" {
		p, err := hardening.Default()
		return hardening.DefaultSource(), p, err
	}
	b, err := os.ReadFile(c.HardeningProfile)
	if err != nil {
		return nil, nil, fmt.Errorf("hardening profile: %w", err)
	}
	p, err := hardening.Parse(c.HardeningProfile, b)
	return b, p, err
}
