package hardening

import (
	"encoding/hex"
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// Placeholders of the recorded command line (SignedCmdlineFile) that the
// root cannot know: its own hash, the partition UUIDs derived from it, and
// the root's size in 4 KiB blocks and 512-byte sectors.
const (
	RootPartUUIDPlaceholder   = "@ROOTPARTUUID@"
	VerityPartUUIDPlaceholder = "@VERITYPARTUUID@"
	DataBlocksPlaceholder     = "@DATABLOCKS@"
	DataSectorsPlaceholder    = "@DATASECTORS@"
)

// VerityPartUUIDs are the partition UUIDs the Discoverable Partitions
// Specification and systemd-veritysetup-generator expect for a root hash:
// the first 128 bits name the data partition, the last 128 the hash
// partition. With them, the root hash alone finds both partitions.
func VerityPartUUIDs(rootHash string) (data, hash string, err error) {
	b, err := hex.DecodeString(rootHash)
	if err != nil || len(b) < 32 {
		return "", "", fmt.Errorf("bad root hash %q", rootHash)
	}
	f := func(b []byte) string {
		return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
	}
	return f(b[:16]), f(b[len(b)-16:]), nil
}

// KernelVerityRoot is the command line that has the kernel itself map the
// dm-verity root, with no initrd: dm-mod.create= with the verity table
// (data and hash partitions found by the PARTUUIDs derived from the root
// hash, 4 KiB blocks, the superblock in the hash partition's first block,
// sha256, the root hash and salt), dm-mod.waitfor= for both partitions, and
// root=/dev/dm-0. roothash= stays too: it is the hash the audit and the
// update tooling read. dataBlocks < 0 (or rootHash = RootHashPlaceholder)
// writes placeholders, for the recorded copy in the root.
func KernelVerityRoot(rootHash, salt string, dataBlocks int64) []string {
	dataUUID, hashUUID := RootPartUUIDPlaceholder, VerityPartUUIDPlaceholder
	if rootHash != RootHashPlaceholder {
		dataUUID, hashUUID, _ = VerityPartUUIDs(rootHash)
	}
	blocks, sectors := DataBlocksPlaceholder, DataSectorsPlaceholder
	if dataBlocks >= 0 {
		blocks, sectors = strconv.FormatInt(dataBlocks, 10), strconv.FormatInt(dataBlocks*8, 10)
	}
	table := fmt.Sprintf("0 %s verity 1 PARTUUID=%s PARTUUID=%s 4096 4096 %s 1 sha256 %s %s", sectors, dataUUID, hashUUID, blocks, rootHash, salt)
	return []string{
		"roothash=" + rootHash,
		// name, uuid (the form cryptsetup gives verity devices), minor, flags, table
		fmt.Sprintf(`dm-mod.create="root,CRYPT-VERITY-%s-root,,ro,%s"`, rootHash, table),
		"dm-mod.waitfor=PARTUUID=" + dataUUID + ",PARTUUID=" + hashUUID,
		"root=/dev/dm-0", "rootfstype=erofs", "ro",
	}
}

var verityTableSize = regexp.MustCompile(`ro,0 ([0-9]+) verity 1 \S+ \S+ 4096 4096 ([0-9]+) 1 sha256 `)

// ExpectedCmdline fills into the recorded command line what the root could
// not hold: the root hash, the partition UUIDs derived from it and, from
// the command line actually in use, the root's size. The size needs no
// trust: the root hash covers the whole hash tree, whose shape the size
// decides, so a different size fails verification on the first read.
func ExpectedCmdline(recorded, rootHash, actual string) string {
	s := strings.ReplaceAll(strings.TrimSpace(recorded), RootHashPlaceholder, rootHash)
	if d, h, err := VerityPartUUIDs(rootHash); err == nil {
		s = strings.ReplaceAll(s, RootPartUUIDPlaceholder, d)
		s = strings.ReplaceAll(s, VerityPartUUIDPlaceholder, h)
	}
	if m := verityTableSize.FindStringSubmatch(actual); m != nil {
		if n, _ := strconv.ParseInt(m[2], 10, 64); strconv.FormatInt(n*8, 10) == m[1] {
			s = strings.ReplaceAll(s, DataSectorsPlaceholder, m[1])
			s = strings.ReplaceAll(s, DataBlocksPlaceholder, m[2])
		}
	}
	return s
}

var kernelVerityTable = regexp.MustCompile(`dm-mod\.create="root,[^,"]*,,ro,0 [0-9]+ verity 1 PARTUUID=(\S+) PARTUUID=(\S+) 4096 4096 [0-9]+ 1 sha256 ([0-9a-f]+) [0-9a-f]+"`)

// KernelMapsRoot reports whether cmdline has the kernel map the verity
// root itself (no initrd): one dm-mod.create= whose table verifies against
// rootHash, on the partitions derived from it, and root=/dev/dm-0.
func KernelMapsRoot(cmdline, rootHash string) bool {
	m := kernelVerityTable.FindAllStringSubmatch(cmdline, -1)
	if len(m) != 1 || strings.Count(cmdline, "dm-mod.create=") != 1 || rootHash == "" {
		return false
	}
	d, h, err := VerityPartUUIDs(rootHash)
	return err == nil && m[0][1] == d && m[0][2] == h && m[0][3] == rootHash &&
		strings.Contains(" "+cmdline+" ", " root=/dev/dm-0 ")
}
