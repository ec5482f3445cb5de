package builder

import (
	"context"
	"os"
	"path/filepath"

	"github.com/hashicorp/packer-plugin-sdk/multistep"
)

// StepPublishArtifacts moves the finished files from the staging directory
// into output_dir. Each move is a rename on one file system, so an output
// name only ever holds a complete file; manifest.json goes last, so a
// manifest always describes images that are fully in place.
type StepPublishArtifacts struct{}

func (*StepPublishArtifacts) Describe() string { return "publish artifacts" }

func (*StepPublishArtifacts) Run(_ context.Context, state multistep.StateBag) multistep.StepAction {
	st := GetState(state)
	// Remove an old manifest first: between the renames below, the
	// directory must never pair an old manifest with new images.
	os.Remove(filepath.Join(st.OutputDir, "manifest.json"))
	names := []string{}
	for _, a := range st.Artifacts {
		names = append(names, a.Path)
	}
	names = append(names, "manifest.json")
	for _, n := range names {
		dst := filepath.Join(st.OutputDir, n)
		if err := os.Rename(filepath.Join(st.Staging, n), dst); err != nil {
			return halt(state, err)
		}
		st.Published = append(st.Published, dst)
	}
	st.ManifestPath = filepath.Join(st.OutputDir, "manifest.json")
	return multistep.ActionContinue
}

func (*StepPublishArtifacts) Cleanup(multistep.StateBag) {}
