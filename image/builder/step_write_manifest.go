package builder

import (
	"context"
	"encoding/json"
	"github.com/supernode-appliance/appliance/image/kernel"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/hashicorp/packer-plugin-sdk/multistep"
)

// StepWriteManifest writes, next to the images and in this order:
//
//	sbom.spdx.json          SPDX 2.3: the final root's packages, files, Go modules
//	sbom.cdx.json           the same in CycloneDX 1.5
//	hardening-profile.hcl   the hardening profile applied, as written
//	RELEASE-NOTES.md        root hash, kernel, profile, and its diff with previous_profile
//	manifest.json           packages, sha256 and size of every artifact, root hash, inputs
//	provenance.intoto.json  SLSA v1 provenance of all of the above
//	SHA256SUMS              sums of every file above
//	SHA256SUMS.gpg          detached OpenPGP signature of SHA256SUMS (signing_key)
//
// Each file covers the ones before it, so the one signature covers the
// root hash in manifest.json and everything else.
type StepWriteManifest struct{}

func (*StepWriteManifest) Describe() string { return "write manifest, SBOM, provenance, SHA256SUMS" }

// ManifestFile and SBOMFile are the names `appliance verify` and the audit read.
const (
	ManifestFile = "manifest.json"
	SBOMFile     = "sbom.spdx.json"
)

func (*StepWriteManifest) Run(ctx context.Context, state multistep.StateBag) multistep.StepAction {
	st := GetState(state)
	write := func(name string, b []byte) error {
		return os.WriteFile(filepath.Join(st.Staging, name), append(b, '\n'), 0o644)
	}
	sbom, err := st.SBOM()
	if err != nil {
		return halt(state, err)
	}
	if err := write(SBOMFile, sbom); err != nil {
		return halt(state, err)
	}
	cdx, err := st.CycloneDX()
	if err != nil {
		return halt(state, err)
	}
	if err := write(CycloneDXFile, cdx); err != nil {
		return halt(state, err)
	}
	if err := st.writeReleaseNotes(); err != nil {
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
	b, err := json.MarshalIndent(st.Manifest(), "", "  ")
	if err != nil {
		return halt(state, err)
	}
	if err := write(ManifestFile, b); err != nil {
		return halt(state, err)
	}
	subjects := append([]FileInfo(nil), st.Artifacts...)
	sum, err := sha256File(filepath.Join(st.Staging, ManifestFile))
	if err != nil {
		return halt(state, err)
	}
	subjects = append(subjects, FileInfo{Path: ManifestFile, SHA256: sum, Size: fileSize(filepath.Join(st.Staging, ManifestFile))})
	prov, err := st.Provenance(ctx, subjects)
	if err != nil {
		return halt(state, err)
	}
	if err := write(ProvenanceFile, prov); err != nil {
		return halt(state, err)
	}
	// The images were hashed above; hash only what was written since.
	all := map[string]string{}
	for _, s := range subjects {
		all[s.Path] = s.SHA256
	}
	if all[ProvenanceFile], err = sha256File(filepath.Join(st.Staging, ProvenanceFile)); err != nil {
		return halt(state, err)
	}
	sums := RenderSHA256SUMS(all)
	if err := os.WriteFile(filepath.Join(st.Staging, SumsFile), sums, 0o644); err != nil {
		return halt(state, err)
	}
	if st.Config.SigningKey == "" {
		st.say("%s not signed: set signing_key in the template to sign it", SumsFile)
		return multistep.ActionContinue
	}
	key, err := ReadSigningKey(st.Config.SigningKey)
	if err != nil {
		return halt(state, err)
	}
	sig, err := SignDetached(key, sums)
	if err != nil {
		return halt(state, err)
	}
	if err := os.WriteFile(filepath.Join(st.Staging, SignatureFile), sig, 0o644); err != nil {
		return halt(state, err)
	}
	st.say("%s signed by %s", SumsFile, Fingerprint(key))
	return multistep.ActionContinue
}

// Manifest is manifest.json of this build.
// kernelBuild is the provenance of the hardened kernel; nil for Debian's
// packaged kernels.
func (st *State) kernelBuild() *KernelBuild {
	kb := st.KernelBuild
	if kb.Image == "" {
		return nil
	}
	cfg, _ := sha256File(kb.Config)
	img, _ := sha256File(kb.Image)
	return &KernelBuild{SourcePackage: kernel.SourcePackage, SourceVersion: kb.SourceVersion, Release: kb.Release,
		Key: strings.TrimPrefix(filepath.Base(kb.Dir), "kernel-"), ConfigSHA256: cfg, ImageSHA256: img}
}

func (st *State) Manifest() Manifest {
	dataUUID, hashUUID, _ := VerityPartUUIDs(st.RootHash)
	m := Manifest{
		ImageName: st.Config.ImageName, BuilderVersion: Version, RootHash: st.RootHash,
		KernelVersion: st.KernelVersion, KernelCmdline: st.Cmdline, UKIPath: UKIPathOnESP(),
		HardeningProfileVersion: st.HardeningVer, SourceDateEpoch: st.Epoch,
		Packages: st.Packages, Artifacts: st.Artifacts, Inputs: st.inputs(),
		InstalledFiles: st.Installed, MissingInputs: st.Missing, Timings: st.Timings,
		Partitions: map[string]string{"root": dataUUID, "root-verity": hashUUID},
		SlotLabel:  SlotLabel(Version),
	}
	m.KernelBuild = st.kernelBuild()
	if inv := st.Inventory; inv != nil {
		m.RemovedPackages = inv.Removed
		for _, b := range inv.GoBinaries {
			m.GoBinaries = append(m.GoBinaries, ManifestGoBin{Path: "/" + b.Path, SHA256: b.SHA256,
				GoVersion: b.GoVersion, Modules: len(b.Deps), Revision: b.Settings["vcs.revision"]})
		}
	}
	return m
}

func (*StepWriteManifest) Cleanup(multistep.StateBag) {}
