package builder

import (
	"context"

	"github.com/hashicorp/packer-plugin-sdk/multistep"

	"github.com/supernode-appliance/appliance/image/tools"
)

// StepPrepareTools makes the trixie tools tree available (cached under
// cache_dir; built once with mmdebstrap).
type StepPrepareTools struct{}

func (*StepPrepareTools) Describe() string { return "prepare tools tree" }

func (*StepPrepareTools) Run(ctx context.Context, state multistep.StateBag) multistep.StepAction {
	st := GetState(state)
	root, err := tools.Tree(ctx, st.Config.CacheDir, st.Mirror)
	if err != nil {
		return halt(state, err)
	}
	st.ToolsRoot = root
	st.say("tools tree %s", root)
	return multistep.ActionContinue
}

// Cleanup keeps the tree: it is a cache shared by later builds.
func (*StepPrepareTools) Cleanup(multistep.StateBag) {}
