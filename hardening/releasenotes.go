package hardening

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// PublishedProfileFile is the name under which an image build publishes
// the exact profile it applied, next to the images. A later build's
// previous_profile can name it (or the directory holding it).
const PublishedProfileFile = "hardening-profile.hcl"

// PreviousProfile loads the profile a release-notes diff compares with:
// a profile file (*.hcl), or a previous release's output directory holding
// PublishedProfileFile. It returns the profile and its file's sha256.
func PreviousProfile(path string) (*Profile, string, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, "", fmt.Errorf("previous profile %s: %v; give a profile file or the output directory of a previous build", path, unwrapPath(err))
	}
	if fi.IsDir() {
		dir := path
		path = filepath.Join(dir, PublishedProfileFile)
		if _, err := os.Stat(path); err != nil {
			return nil, "", fmt.Errorf("previous profile: %s holds no %s; give the profile file itself, or the output directory of a build that published one", dir, PublishedProfileFile)
		}
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, "", fmt.Errorf("previous profile %s: %v", path, unwrapPath(err))
	}
	p, err := Parse(path, b)
	if err != nil {
		return nil, "", fmt.Errorf("previous profile: %v", err)
	}
	sum := sha256.Sum256(b)
	return p, hex.EncodeToString(sum[:]), nil
}

// ReleaseNotes is what an image build says about its hardening.
type ReleaseNotes struct {
	Title    string   // "# " heading, e.g. "supernode-appliance 0.3.0"
	Facts    []string // one bullet each (root hash, kernel, ...), written as given
	Profile  *Profile // the profile this image was hardened with
	Previous *Profile // the previous release's profile; nil when none was given
	// PreviousSHA256 is the sha256 of the previous profile's file.
	PreviousSHA256 string
}

// WriteMarkdown writes the release notes: the facts, the profile, and the
// `appliance-audit diff --markdown` section between the previous profile
// and this one, or a sentence saying no previous profile was given.
func (n *ReleaseNotes) WriteMarkdown(w io.Writer) error {
	fmt.Fprintf(w, "# %s\n\n", n.Title)
	for _, f := range n.Facts {
		fmt.Fprintf(w, "- %s\n", f)
	}
	fmt.Fprintf(w, "- hardening profile: %s %s, %d controls (`%s` in this directory)\n\n", n.Profile.Name, n.Profile.Version, len(n.Profile.Controls), PublishedProfileFile)
	fmt.Fprintf(w, "## Hardening changes\n\n")
	if n.Previous == nil {
		fmt.Fprintf(w, "No previous profile was given, so there is nothing to compare with: set `previous_profile` in the image template to the previous release's `%s` (or its output directory) to list the changes here.\n", PublishedProfileFile)
		return nil
	}
	fmt.Fprintf(w, "Compared with the previous release's profile (%s %s, sha256 `%s`), as `appliance-audit diff --markdown` prints it:\n\n", n.Previous.Name, n.Previous.Version, n.PreviousSHA256)
	d := &Diff{Profile: DiffProfiles(n.Previous, n.Profile)}
	if d.Profile.Empty() {
		_, err := fmt.Fprintf(w, "### Hardening profile: %s -> %s\n\n- no control added, removed or changed\n", d.Profile.Old, d.Profile.New)
		return err
	}
	return d.WriteMarkdown(w)
}
