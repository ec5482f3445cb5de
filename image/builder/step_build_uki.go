package builder

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/hashicorp/packer-plugin-sdk/multistep"

	"github.com/supernode-appliance/appliance/hardening"
)

// StubPath is the unsigned sd-stub in the tools tree (systemd-boot-efi):
// `systemd-boot` alone brings only the signed loader.
const StubPath = "/usr/lib/systemd/boot/efi/linuxx64.efi.stub"

// StepBuildUKI joins kernel, initrd and command line into one unified
// kernel image with ukify, signed when Secure Boot keys are given. One PE
// file means the command line (with roothash=) is covered by the signature:
// nobody can boot the signed kernel with a different root.
type StepBuildUKI struct{}

func (*StepBuildUKI) Describe() string { return "build unified kernel image (ukify)" }

// Cmdline is the kernel command line for a root hash. With an initrd, its
// systemd-veritysetup-generator turns roothash= into /dev/mapper/root, the
// partitions found by the UUIDs derived from the hash. The hardened kernel
// has no initrd and maps the root itself (hardening.KernelVerityRoot):
// dataBlocks is the root's size in 4 KiB blocks, -1 for placeholders.
func Cmdline(c *Config, rootHash, salt string, dataBlocks int64, profile []string) string {
	tokens := []string{"roothash=" + rootHash, "root=/dev/mapper/root", "rootfstype=erofs", "ro"}
	if c.KernelFlavour == "hardened" {
		tokens = hardening.KernelVerityRoot(rootHash, salt, dataBlocks)
	}
	tokens = append(tokens,
		// The image is fully configured; never prompt on a console.
		"systemd.firstboot=off",
		// No automount of the ESP on /boot (gpt-auto): the running
		// appliance never touches its boot partition.
		"systemd.gpt_auto=0",
		"console=tty0", "console=ttyS0,115200",
		// Kernel messages below warning stay off the consoles: serial
		// output is slow under emulation and the audit records (audit=1)
		// would flood it. The journal keeps everything.
		"quiet",
	)
	tokens = append(tokens, profile...)
	tokens = append(tokens, c.KernelCmdline...)
	return strings.Join(tokens, " ")
}

func (*StepBuildUKI) Run(ctx context.Context, state multistep.StateBag) multistep.StepAction {
	st := GetState(state)
	c := st.Config
	st.Cmdline = Cmdline(c, st.RootHash, st.VeritySalt, st.RootDataBlocks, st.HardeningCmdline)
	if rec, err := os.ReadFile(filepath.Join(st.Rootfs, hardening.SignedCmdlineFile)); err != nil || hardening.ExpectedCmdline(string(rec), st.RootHash, st.Cmdline) != st.Cmdline {
		return halt(state, fmt.Errorf("the command line recorded in the root (%s) does not match the UKI's: %v", hardening.SignedCmdlineFile, err))
	}
	osRelease := filepath.Join(st.Work, "os-release")
	if err := copyFile(filepath.Join(st.Rootfs, "usr/lib/os-release"), osRelease); err != nil {
		return halt(state, err)
	}
	st.UKI = filepath.Join(st.Work, "supernode.efi")
	stub := StubPath
	if c.SecureBootKey != "" {
		// A signed image boots only the command line it signed: its stub
		// never appends the SMBIOS extension (the loader's command line
		// is already ignored under Secure Boot for a UKI with .cmdline).
		// Unsigned images keep the stock stub: nothing verifies them, and
		// the tests put the journal on the console through SMBIOS.
		b, err := os.ReadFile(filepath.Join(st.ToolsRoot, StubPath))
		if err != nil {
			return halt(state, fmt.Errorf("read sd-stub from the tools tree: %w", err))
		}
		patched, p, err := PatchStubSMBIOS(b)
		if err != nil {
			return halt(state, err)
		}
		stub = filepath.Join(st.Work, "linuxx64.efi.stub")
		if err := os.WriteFile(stub, patched, 0o644); err != nil {
			return halt(state, err)
		}
		st.StubPatch = &p
		st.say("%s (file offset %#x: %s -> %s)", p.What, p.Offset, p.Before, p.After)
	}
	argv := []string{"ukify", "build",
		"--linux=" + st.Kernel,
		"--cmdline=" + st.Cmdline, "--os-release=@" + osRelease,
		"--uname=" + st.KernelVersion, "--stub=" + stub,
		"--output=" + st.UKI,
	}
	if st.Initrd != "" {
		argv = append(argv, "--initrd="+st.Initrd)
	}
	if c.SecureBootKey != "" {
		key, _ := filepath.Abs(c.SecureBootKey)
		cert, _ := filepath.Abs(c.SecureBootCert)
		argv = append(argv, "--signtool=sbsign", "--secureboot-private-key="+key, "--secureboot-certificate="+cert)
	}
	if _, err := st.inTools(ctx, argv...); err != nil {
		return halt(state, err)
	}
	if _, err := os.Stat(st.UKI); err != nil {
		return halt(state, err)
	}
	st.say("UKI %s", humanSize(fileSize(st.UKI)))
	return multistep.ActionContinue
}

func (*StepBuildUKI) Cleanup(multistep.StateBag) {}
