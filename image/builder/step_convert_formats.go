package builder

import (
	"context"
	"fmt"
	"path/filepath"

	"github.com/hashicorp/packer-plugin-sdk/multistep"
)

// qemuImgArgs maps an output format to qemu-img's format and options.
var qemuImgArgs = map[string][]string{
	// Compressed clusters: the smallest download; reads stay fast.
	"qcow2": {"-c", "-O", "qcow2"},
	// streamOptimized is what OVA/vSphere import expects.
	"vmdk": {"-O", "vmdk", "-o", "subformat=streamOptimized"},
	"vhdx": {"-O", "vhdx", "-o", "subformat=dynamic"},
	// Azure wants a fixed VHD whose size is a whole number of MiB (our raw
	// is MiB-aligned) without qemu's CHS rounding: force_size.
	"vhd": {"-O", "vpc", "-o", "subformat=fixed,force_size=on"},
}

// StepConvertFormats converts the raw disk into the requested formats.
type StepConvertFormats struct{}

func (*StepConvertFormats) Describe() string { return "convert disk formats" }

func (*StepConvertFormats) Run(ctx context.Context, state multistep.StateBag) multistep.StepAction {
	st := GetState(state)
	c := st.Config
	for _, f := range c.extraFormats() {
		out := filepath.Join(st.Staging, c.ImageName+"."+f)
		if f == "ova" {
			if err := st.makeOVA(ctx, out); err != nil {
				return halt(state, err)
			}
		} else {
			args := append([]string{"convert", "-f", "raw"}, qemuImgArgs[f]...)
			args = append(args, st.RawImage, out)
			if _, err := run(ctx, nil, "qemu-img", args...); err != nil {
				return halt(state, fmt.Errorf("converting to %s: %w", f, err))
			}
		}
		st.say("%s %s", filepath.Base(out), humanSize(fileSize(out)))
	}
	return multistep.ActionContinue
}

func (*StepConvertFormats) Cleanup(multistep.StateBag) {}
