package builder

import (
	"context"
	"os"
	"path/filepath"

	"github.com/hashicorp/packer-plugin-sdk/multistep"
)

// StepPublishArtifacts moves the finished files from the staging directory
// into output_dir. Each move is a rename on one file system, so an output
// name only ever holds a complete file. The files that describe the others
// go last (manifest.json, then SHA256SUMS, then its signature), so a
// manifest or a signature always describes files that are fully in place.
type StepPublishArtifacts struct{}

func (*StepPublishArtifacts) Describe() string { return "publish artifacts" }

func (*StepPublishArtifacts) Run(_ context.Context, state multistep.StateBag) multistep.StepAction {
	st := GetState(state)
	// Remove the old describing files first: between the renames below,
	// the directory must never pair an old manifest or signature with new
	// images.
	last := []string{ProvenanceFile, ManifestFile, SumsFile, SignatureFile}
	for i := len(last) - 1; i >= 0; i-- {
		os.Remove(filepath.Join(st.OutputDir, last[i]))
	}
	// The update bundle (a directory of its own, with its own SHA256SUMS)
	// before the files that describe the build.
	if _, err := os.Stat(filepath.Join(st.Staging, UpdateDir)); err == nil {
		dst := filepath.Join(st.OutputDir, UpdateDir)
		os.RemoveAll(dst)
		if err := os.Rename(filepath.Join(st.Staging, UpdateDir), dst); err != nil {
			return halt(state, err)
		}
		st.Published = append(st.Published, dst)
	}
	names := []string{}
	for _, a := range st.Artifacts {
		names = append(names, a.Path)
	}
	for _, n := range last {
		if _, err := os.Stat(filepath.Join(st.Staging, n)); err == nil {
			names = append(names, n)
		}
	}
	for _, n := range names {
		dst := filepath.Join(st.OutputDir, n)
		if err := os.Rename(filepath.Join(st.Staging, n), dst); err != nil {
			return halt(state, err)
		}
		st.Published = append(st.Published, dst)
	}
	st.ManifestPath = filepath.Join(st.OutputDir, ManifestFile)
	return multistep.ActionContinue
}

func (*StepPublishArtifacts) Cleanup(multistep.StateBag) {}
