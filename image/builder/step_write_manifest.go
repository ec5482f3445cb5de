package builder

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"sort"

	"github.com/hashicorp/packer-plugin-sdk/multistep"
)

// StepWriteManifest writes sbom.spdx.json and manifest.json next to the
// images: every package with its version, sha256 and size of every
// artifact, the dm-verity root hash, the hardening profile version, the
// builder version and the inputs.
type StepWriteManifest struct{}

func (*StepWriteManifest) Describe() string { return "write manifest and SBOM" }

func (*StepWriteManifest) Run(_ context.Context, state multistep.StateBag) multistep.StepAction {
	st := GetState(state)
	sbom, err := st.SBOM()
	if err != nil {
		return halt(state, err)
	}
	if err := os.WriteFile(filepath.Join(st.Staging, "sbom.spdx.json"), append(sbom, '\n'), 0o644); err != nil {
		return halt(state, err)
	}
	files, err := filepath.Glob(filepath.Join(st.Staging, "*"))
	if err != nil {
		return halt(state, err)
	}
	sort.Strings(files)
	st.Artifacts = nil
	for _, f := range files {
		sum, err := sha256File(f)
		if err != nil {
			return halt(state, err)
		}
		st.Artifacts = append(st.Artifacts, FileInfo{Path: filepath.Base(f), SHA256: sum, Size: fileSize(f)})
	}
	dataUUID, hashUUID, _ := VerityPartUUIDs(st.RootHash)
	m := Manifest{
		ImageName: st.Config.ImageName, BuilderVersion: Version, RootHash: st.RootHash,
		KernelVersion: st.KernelVersion, KernelCmdline: st.Cmdline, UKIPath: UKIPathOnESP,
		HardeningProfileVersion: st.HardeningVer, SourceDateEpoch: st.Epoch,
		Packages: st.Packages, Artifacts: st.Artifacts, Inputs: st.inputs(),
		InstalledFiles: st.Installed, MissingInputs: st.Missing, Timings: st.Timings,
		Partitions: map[string]string{"root": dataUUID, "root-verity": hashUUID},
	}
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return halt(state, err)
	}
	if err := os.WriteFile(filepath.Join(st.Staging, "manifest.json"), append(b, '\n'), 0o644); err != nil {
		return halt(state, err)
	}
	return multistep.ActionContinue
}

func (*StepWriteManifest) Cleanup(multistep.StateBag) {}
