package builder

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/hashicorp/packer-plugin-sdk/multistep"
)

var hexHash = regexp.MustCompile(`^[0-9a-f]{64}$`)

// StepMakeVerity computes the dm-verity hash tree of the root image. The
// root hash goes on the kernel command line inside the UKI, so the kernel
// refuses any root block that differs from what was built. Salt and UUID
// are derived from the inputs for reproducibility.
type StepMakeVerity struct{}

func (*StepMakeVerity) Describe() string { return "make dm-verity hash tree" }

func (*StepMakeVerity) Run(ctx context.Context, state multistep.StateBag) multistep.StepAction {
	st := GetState(state)
	st.VerityImage = filepath.Join(st.Work, "root.verity")
	hashFile := filepath.Join(st.Work, "roothash")
	epoch := fmt.Sprint(st.Epoch)
	st.VeritySalt = VeritySalt(st.Config, st.Epoch)
	st.RootDataBlocks = fileSize(st.RootImage) / 4096
	_, err := st.inTools(ctx, "veritysetup", "format",
		"--hash=sha256", "--data-block-size=4096", "--hash-block-size=4096",
		"--salt="+st.VeritySalt,
		"--uuid="+DerivedUUID("verity", st.Config.ImageName, epoch),
		"--root-hash-file="+hashFile,
		st.RootImage, st.VerityImage)
	if err != nil {
		return halt(state, err)
	}
	b, err := os.ReadFile(hashFile)
	if err != nil {
		return halt(state, err)
	}
	st.RootHash = strings.TrimSpace(string(b))
	if !hexHash.MatchString(st.RootHash) {
		return halt(state, fmt.Errorf("veritysetup wrote an unexpected root hash %q", st.RootHash))
	}
	st.say("root hash %s, hash tree %s", st.RootHash, humanSize(fileSize(st.VerityImage)))
	return multistep.ActionContinue
}

// VeritySalt is the dm-verity salt, derived from the inputs for
// reproducibility (and known before the root exists, so the command line
// recorded in the root can carry it).
func VeritySalt(c *Config, epoch int64) string {
	return derivedHex(64, "verity-salt", c.ImageName, fmt.Sprint(epoch))
}

func (*StepMakeVerity) Cleanup(multistep.StateBag) {}
