package builder

import (
	"context"
	"fmt"
	"path/filepath"

	"github.com/hashicorp/packer-plugin-sdk/multistep"
)

// StepMakeErofs packs the root into a read-only erofs image. erofs (not
// squashfs) because it is the compressed read-only file system systemd and
// mkosi target, reads fast with lz4 and compresses best with lzma; every
// timestamp is SOURCE_DATE_EPOCH and the UUID is derived, so two builds of
// the same tree are bit-identical.
type StepMakeErofs struct{}

func (*StepMakeErofs) Describe() string { return "make erofs root" }

// ErofsArgs is the mkfs.erofs command line for c (without paths).
func ErofsArgs(c *Config, epoch int64) []string {
	args := []string{"mkfs.erofs", "--quiet",
		fmt.Sprintf("-T%d", epoch), "--all-time",
		"-U" + DerivedUUID("erofs", c.ImageName, fmt.Sprint(epoch)),
	}
	switch c.Compression {
	case "lzma":
		// 128 KiB physical clusters, tail packing, fragments and dedupe:
		// the smallest image erofs-utils 1.8 can make.
		args = append(args, "-zlzma,level=6", "-C131072", "-Eztailpacking,fragments,dedupe")
	case "lz4hc":
		args = append(args, "-zlz4hc,level=12", "-C65536", "-Eztailpacking")
	case "lz4":
		args = append(args, "-zlz4", "-Eztailpacking")
	}
	return args
}

func (*StepMakeErofs) Run(ctx context.Context, state multistep.StateBag) multistep.StepAction {
	st := GetState(state)
	st.RootImage = filepath.Join(st.Work, "root.erofs")
	argv := append(ErofsArgs(st.Config, st.Epoch), st.RootImage, st.Rootfs+"/")
	if _, err := st.inTools(ctx, argv...); err != nil {
		return halt(state, err)
	}
	st.say("root.erofs %s", humanSize(fileSize(st.RootImage)))
	return multistep.ActionContinue
}

func (*StepMakeErofs) Cleanup(multistep.StateBag) {}
