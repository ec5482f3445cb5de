package builder

import (
	"fmt"
	"regexp"
)

// The A/B layout (systemd-sysupdate, sysupdate.d(5) example 1): two root
// slots, each a root partition and its dm-verity hash partition of fixed
// size, and one UKI per installed version on the ESP. The build fills slot
// A and leaves slot B empty (label EmptyLabel, what sysupdate looks for when
// it picks a partition to write). A version's partitions are labelled
// SlotLabel(version) (root and hash partition alike: sysupdate tells them
// apart by type) and its UKI is UKIFileName(version). The partition UUIDs
// stay the ones derived from the root hash, so roothash= alone finds the
// slot to boot; sysupdate gets them from the payload names (@u).
const (
	// SlotPrefix starts every slot label, UKI name and payload name.
	SlotPrefix = "supernode_"
	// EmptyLabel marks a slot sysupdate may write.
	EmptyLabel = "_empty"
	// RootSlotSize is the fixed size of each root partition: the kernel
	// lives in the UKI, so the erofs root is userspace only (about 46 MiB
	// with lzma today); 128 MiB leaves room for it to grow 2.7 times.
	// Every future version must fit the slots of disks already installed.
	RootSlotSize = 128 << 20
	// VeritySlotSize is the fixed size of each hash partition: the tree of
	// a full 128 MiB root is about 1.1 MiB.
	VeritySlotSize = 4 << 20
	// maxLabel is the GPT partition name length (UTF-16 code units).
	maxLabel = 36
)

// slotVersion is what a version may contain to name partitions and files.
var slotVersion = regexp.MustCompile(`^[0-9A-Za-z][0-9A-Za-z.+-]*$`)

// SlotLabel is the GPT label of both partitions of version's slot.
func SlotLabel(version string) string { return SlotPrefix + version }

// UKIFileName is the UKI of version on the ESP, in /EFI/Linux. The "_uki"
// after the version is a separator sysupdate can split on: a development
// version carries a "+" (0.1.0-dev+g1234567), and systemd-boot's try
// counter is "+TRIES-DONE" before ".efi", so "supernode_@v+@l-@d.efi" would
// cut the version at its own "+". Versions never contain "_".
func UKIFileName(version string) string { return SlotPrefix + version + "_uki.efi" }

// UKIPathOnESPFor is the UKI's path on the ESP for version.
func UKIPathOnESPFor(version string) string { return "/EFI/Linux/" + UKIFileName(version) }

// CheckSlotVersion refuses a version that cannot name a slot: characters
// outside what sysupdate accepts in a version, or a label longer than GPT
// allows.
func CheckSlotVersion(version string) error {
	if !slotVersion.MatchString(version) {
		return fmt.Errorf("version %q cannot name an update slot (letters, digits and . + - only); build with a plain VERSION=X.Y.Z", version)
	}
	if n := len(SlotLabel(version)); n > maxLabel {
		return fmt.Errorf("version %q is too long for a GPT partition label (%q is %d characters, at most %d); build with a shorter VERSION=X.Y.Z", version, SlotLabel(version), n, maxLabel)
	}
	return nil
}
