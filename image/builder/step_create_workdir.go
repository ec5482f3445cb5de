package builder

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/hashicorp/packer-plugin-sdk/multistep"
)

// StepCreateWorkdir makes a private scratch directory inside output_dir, on
// the same file system, so publication is a rename. Cleanup removes it: no
// temporary file outlives the build, whatever its outcome.
type StepCreateWorkdir struct{ dir string }

func (*StepCreateWorkdir) Describe() string { return "create work directory" }

func (s *StepCreateWorkdir) Run(_ context.Context, state multistep.StateBag) multistep.StepAction {
	st := GetState(state)
	abs, err := filepath.Abs(st.Config.OutputDir)
	if err != nil {
		return halt(state, err)
	}
	st.OutputDir = abs
	dir, err := os.MkdirTemp(abs, ".build-")
	if err != nil {
		return halt(state, fmt.Errorf("cannot create a work directory in %s: %v", abs, err))
	}
	s.dir = dir
	st.Work = dir
	st.Staging = filepath.Join(dir, "out")
	st.Rootfs = filepath.Join(dir, "rootfs")
	if err := os.Mkdir(st.Staging, 0o755); err != nil {
		return halt(state, err)
	}
	return multistep.ActionContinue
}

func (s *StepCreateWorkdir) Cleanup(state multistep.StateBag) {
	if s.dir == "" {
		return
	}
	st := GetState(state)
	if st.Config.KeepWorkDir {
		st.UI.Say("keeping work directory " + s.dir)
		return
	}
	os.RemoveAll(s.dir)
}
