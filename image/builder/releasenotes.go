package builder

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"

	"github.com/supernode-appliance/appliance/hardening"
)

// ReleaseNotesFile is written next to the images: what the image is and,
// with previous_profile, how its hardening differs from the previous
// release's (the `appliance-audit diff --markdown` section). The exact
// profile applied is published beside it as hardening.PublishedProfileFile,
// which the next build's previous_profile can name. Both are covered by
// manifest.json, the provenance and SHA256SUMS like every other artifact.
const ReleaseNotesFile = "RELEASE-NOTES.md"

// writeReleaseNotes writes hardening-profile.hcl and RELEASE-NOTES.md into
// the staging directory.
func (st *State) writeReleaseNotes() error {
	src := st.HardeningSource
	if src == nil { // the profile step did not run (tests of the later steps)
		b, _, err := loadHardeningProfile(st.Config)
		if err != nil {
			return err
		}
		src = b
	}
	p, err := hardening.Parse(hardening.PublishedProfileFile, src)
	if err != nil {
		return err
	}
	n := &hardening.ReleaseNotes{
		Title: fmt.Sprintf("%s (builder %s)", st.Config.ImageName, Version),
		Facts: []string{
			fmt.Sprintf("dm-verity root hash: `%s`", st.RootHash),
			fmt.Sprintf("kernel: %s", st.KernelVersion),
			fmt.Sprintf("SOURCE_DATE_EPOCH: %d", st.Epoch),
		},
		Profile: p,
	}
	if st.Config.PreviousProfile != "" {
		if n.Previous, n.PreviousSHA256, err = hardening.PreviousProfile(st.Config.PreviousProfile); err != nil {
			return fmt.Errorf("previous_profile: %w", err)
		}
	}
	var notes bytes.Buffer
	if err := n.WriteMarkdown(&notes); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(st.Staging, hardening.PublishedProfileFile), src, 0o644); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(st.Staging, ReleaseNotesFile), notes.Bytes(), 0o644)
}
