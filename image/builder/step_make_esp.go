package builder

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/hashicorp/packer-plugin-sdk/multistep"
)

// BootloaderPath is the unsigned systemd-boot in the tools tree.
const BootloaderPath = "/usr/lib/systemd/boot/efi/systemd-bootx64.efi"

// UKIPathOnESP is where this build's UKI lives on the ESP (Boot Loader
// Spec type #2 entry, found by systemd-boot without a config file; the
// audit reads it): /EFI/Linux/supernode_<version>_uki.efi (slots.go).
func UKIPathOnESP() string { return UKIPathOnESPFor(Version) }

// StepMakeESP makes the FAT EFI system partition: systemd-boot as the
// removable-media loader (EFI/BOOT/BOOTX64.EFI, no NVRAM entry needed) and
// the UKI. mkfs.fat --invariant and mtools with SOURCE_DATE_EPOCH keep it
// reproducible; the volume ID is derived from the root hash.
type StepMakeESP struct{}

func (*StepMakeESP) Describe() string { return "make EFI system partition" }

// ESPSize is the ESP size in bytes for a payload: the payload, 25% and
// 4 MiB for FAT metadata, rounded up to a MiB.
func ESPSize(payload int64) int64 {
	size := payload + payload/4 + 4<<20
	return (size + 1<<20 - 1) &^ (1<<20 - 1)
}

// ESPSizeAB is the ESP size for the A/B layout: two UKIs (the running
// version and an update) each allowed to grow by a quarter, and the loader.
func ESPSizeAB(uki, loader int64) int64 {
	return ESPSize(2*(uki+uki/4) + loader)
}

func (*StepMakeESP) Run(ctx context.Context, state multistep.StateBag) multistep.StepAction {
	st := GetState(state)
	loader := filepath.Join(st.Work, "systemd-bootx64.efi")
	if err := copyFile(filepath.Join(st.ToolsRoot, BootloaderPath), loader); err != nil {
		return halt(state, err)
	}
	if st.Config.SecureBootKey != "" {
		key, _ := filepath.Abs(st.Config.SecureBootKey)
		cert, _ := filepath.Abs(st.Config.SecureBootCert)
		if _, err := st.inTools(ctx, "sbsign", "--key", key, "--cert", cert, "--output", loader+".signed", loader); err != nil {
			return halt(state, err)
		}
		loader += ".signed"
	}
	loaderConf := filepath.Join(st.Work, "loader.conf")
	// timeout 0: boot the default entry at once (the menu costs seconds
	// under emulation); editor no: nobody may change the command line at
	// boot. No "default": systemd-boot then boots the first entry of its
	// sorted list, the newest version whose tries are not used up (an
	// update's UKI, supernode_<v>_uki+3-0.efi, until it fails 3 times).
	if err := os.WriteFile(loaderConf, []byte("timeout 0\neditor no\n"), 0o644); err != nil {
		return halt(state, err)
	}
	st.ESPImage = filepath.Join(st.Work, "esp.img")
	size := ESPSizeAB(fileSize(st.UKI), fileSize(loader))
	volID := derivedHex(8, "esp", st.RootHash)
	cmds := [][]string{
		{"mkfs.fat", "--invariant", "-i", volID, "-n", "ESP", "-C", st.ESPImage, fmt.Sprint(size / 1024)},
		{"mmd", "-i", st.ESPImage, "::/EFI", "::/EFI/BOOT", "::/EFI/systemd", "::/EFI/Linux", "::/loader"},
		{"mcopy", "-i", st.ESPImage, loader, "::/EFI/BOOT/BOOTX64.EFI"},
		{"mcopy", "-i", st.ESPImage, loader, "::/EFI/systemd/systemd-bootx64.efi"},
		{"mcopy", "-i", st.ESPImage, st.UKI, "::" + UKIPathOnESP()},
		{"mcopy", "-i", st.ESPImage, loaderConf, "::/loader/loader.conf"},
	}
	for _, argv := range cmds {
		if _, err := st.inTools(ctx, argv...); err != nil {
			return halt(state, err)
		}
	}
	st.say("esp.img %s", humanSize(size))
	if err := makeConfigImage(ctx, st); err != nil {
		return halt(state, err)
	}
	return multistep.ActionContinue
}

func (*StepMakeESP) Cleanup(multistep.StateBag) {}
