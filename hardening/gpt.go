package hardening

import (
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"unicode/utf16"
)

// Partition type GUIDs from the UAPI Discoverable Partitions Specification.
const (
	GUIDESP        = "c12a7328-f81f-11d2-ba4b-00a0c93ec93b"
	GUIDRootX86_64 = "4f68bce3-e8cd-4db1-96e7-fbcaf984b709"
	GUIDRootVerity = "2c7357ed-ebd2-46d9-aec1-23d437ec2bf5"
)

// Partition is one GPT entry.
type Partition struct {
	Index       int
	Type, Label string
	UUID        string // partition UUID, lower case
	Offset      int64  // bytes
	Size        int64  // bytes
}

// guidString renders an on-disk GUID: the first three fields are little
// endian (UEFI 2.10 appendix A).
func guidString(b []byte) string {
	return fmt.Sprintf("%08x-%04x-%04x-%x-%x", binary.LittleEndian.Uint32(b), binary.LittleEndian.Uint16(b[4:]),
		binary.LittleEndian.Uint16(b[6:]), b[8:10], b[10:16])
}

// ReadGPT reads the primary GPT of a raw disk image (512 or 4096-byte
// sectors). It only reads.
func ReadGPT(r io.ReaderAt) ([]Partition, error) {
	for _, sector := range []int64{512, 4096} {
		hdr := make([]byte, 92)
		if _, err := r.ReadAt(hdr, sector); err != nil {
			return nil, fmt.Errorf("read GPT header: %w", err)
		}
		if string(hdr[:8]) != "EFI PART" {
			continue
		}
		entLBA := int64(binary.LittleEndian.Uint64(hdr[72:]))
		n := binary.LittleEndian.Uint32(hdr[80:])
		size := binary.LittleEndian.Uint32(hdr[84:])
		// UEFI: entries are 128 * 2^k bytes, 128 of them usually; bound
		// both so a crafted header cannot make us allocate gigabytes.
		if size < 128 || size > 4096 || n > 1024 || entLBA < 2 || entLBA > 1<<40 {
			return nil, fmt.Errorf("GPT header: implausible %d entries of %d bytes", n, size)
		}
		buf := make([]byte, int64(n)*int64(size))
		if _, err := r.ReadAt(buf, entLBA*sector); err != nil {
			return nil, fmt.Errorf("read GPT entries: %w", err)
		}
		var out []Partition
		for i := 0; i < int(n); i++ {
			e := buf[i*int(size) : (i+1)*int(size)]
			typ := guidString(e[:16])
			if typ == "00000000-0000-0000-0000-000000000000" {
				continue
			}
			first, last := int64(binary.LittleEndian.Uint64(e[32:])), int64(binary.LittleEndian.Uint64(e[40:]))
			u := make([]uint16, 36)
			for j := range u {
				u[j] = binary.LittleEndian.Uint16(e[56+2*j:])
			}
			name := strings.TrimRight(string(utf16.Decode(u)), "\x00")
			out = append(out, Partition{Index: i + 1, Type: typ, UUID: guidString(e[16:32]), Label: name, Offset: first * sector, Size: (last - first + 1) * sector})
		}
		return out, nil
	}
	return nil, errors.New("no GPT found (not a raw disk image, or a qcow2 image named .raw)")
}

// findPartition picks a partition by type GUID, then by label.
func findPartition(parts []Partition, guid, label string) (Partition, bool) {
	for _, p := range parts {
		if p.Type == guid {
			return p, true
		}
	}
	for _, p := range parts {
		if p.Label == label {
			return p, true
		}
	}
	return Partition{}, false
}

// isQcow2 reports whether a file starts with the qcow2 magic "QFI\xfb".
func isQcow2(path string) (bool, error) {
	f, err := os.Open(path)
	if err != nil {
		return false, err
	}
	defer f.Close()
	var m [4]byte
	if _, err := io.ReadFull(f, m[:]); err != nil {
		return false, fmt.Errorf("%s: too short to be a disk image", path)
	}
	return string(m[:]) == "QFI\xfb", nil
}

// EmptySlotLabel is the label of an A/B slot no version occupies yet (what
// systemd-sysupdate writes into).
const EmptySlotLabel = "_empty"

// pickSlot chooses, among the partitions of one type (the two A/B slots),
// the one the root hash names: the Discoverable Partitions Specification
// and systemd-veritysetup-generator find the data partition by the first
// 128 bits of the hash and the hash partition by the last 128, which is
// how the appliance itself finds the slot it boots. Without such a
// partition (an image laid out by hand, or the hash is wrong) it falls
// back to the first slot that is not empty, then to the label. The other
// slot may be empty (EmptySlotLabel) or hold another version.
func pickSlot(parts []Partition, guid, label, rootHash string, last bool) (Partition, bool) {
	if b, err := hex.DecodeString(rootHash); err == nil && len(b) == 32 {
		half := b[:16]
		if last {
			half = b[16:]
		}
		want := guidFromBytes(half)
		for _, p := range parts {
			if p.Type == guid && p.UUID == want {
				return p, true
			}
		}
	}
	for _, p := range parts {
		if p.Type == guid && p.Label != EmptySlotLabel {
			return p, true
		}
	}
	return findPartition(parts, guid, label)
}

// guidFromBytes renders 16 bytes as a UUID string in plain byte order
// (how a root hash half becomes a partition UUID).
func guidFromBytes(b []byte) string {
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// slotSummary describes the A/B slots of one type for the evidence:
// "2 slots: #2 supernode_1.2.3, #5 _empty".
func slotSummary(parts []Partition, guid string) string {
	var s []string
	for _, p := range parts {
		if p.Type == guid {
			s = append(s, fmt.Sprintf("#%d %s", p.Index, p.Label))
		}
	}
	return fmt.Sprintf("%d slot(s): %s", len(s), strings.Join(s, ", "))
}
