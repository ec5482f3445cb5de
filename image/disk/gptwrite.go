package disk

import (
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"strings"
	"unicode/utf16"
)

// GPT geometry WriteGPT uses: 128 entries of 128 bytes (32 sectors).
const (
	gptEntries   = 128
	gptEntrySize = 128
	entrySectors = gptEntries * gptEntrySize / sector
)

// ParseGUID turns a GUID's text form into its on-disk form (first three
// fields little-endian), the inverse of guid.
func ParseGUID(s string) ([]byte, error) {
	h := strings.ReplaceAll(s, "-", "")
	b, err := hex.DecodeString(h)
	if err != nil || len(b) != 16 || len(s) != 36 {
		return nil, fmt.Errorf("%q is not a GUID", s)
	}
	out := make([]byte, 16)
	binary.LittleEndian.PutUint32(out[0:4], binary.BigEndian.Uint32(b[0:4]))
	binary.LittleEndian.PutUint16(out[4:6], binary.BigEndian.Uint16(b[4:6]))
	binary.LittleEndian.PutUint16(out[6:8], binary.BigEndian.Uint16(b[6:8]))
	copy(out[8:], b[8:])
	return out, nil
}

// DiskGUID reads the disk GUID from the GPT header of r.
func DiskGUID(r io.ReaderAt) (string, error) {
	hdr := make([]byte, 92)
	if _, err := r.ReadAt(hdr, sector); err != nil {
		return "", err
	}
	if string(hdr[0:8]) != "EFI PART" {
		return "", errors.New("no GPT header at LBA 1")
	}
	return guid(hdr[56:72]), nil
}

// WriteGPT writes a protective MBR, the primary and the backup GPT of a
// disk of size bytes holding parts (each at entry Number-1), so ReadGPT
// reads parts back. Partitions must lie sector-aligned inside the usable
// area; nothing between the tables is touched.
func WriteGPT(w io.WriterAt, size int64, diskGUID string, parts []Partition) error {
	if size%sector != 0 || size < 1<<20 {
		return fmt.Errorf("a disk of %d bytes cannot hold a GPT", size)
	}
	last := size/sector - 1
	firstUsable, lastUsable := int64(2+entrySectors), last-1-entrySectors
	dg, err := ParseGUID(diskGUID)
	if err != nil {
		return err
	}
	entries := make([]byte, gptEntries*gptEntrySize)
	for _, p := range parts {
		if p.Number < 1 || p.Number > gptEntries {
			return fmt.Errorf("partition number %d out of 1..%d", p.Number, gptEntries)
		}
		if p.Start%sector != 0 || p.Size%sector != 0 || p.Size <= 0 ||
			p.Start/sector < firstUsable || (p.Start+p.Size)/sector-1 > lastUsable {
			return fmt.Errorf("partition %d (%s) at %d+%d does not fit a %d-byte disk", p.Number, p.Name, p.Start, p.Size, size)
		}
		e := entries[(p.Number-1)*gptEntrySize : p.Number*gptEntrySize]
		tg, err := ParseGUID(p.Type)
		if err != nil {
			return err
		}
		ug, err := ParseGUID(p.UUID)
		if err != nil {
			return err
		}
		copy(e[0:16], tg)
		copy(e[16:32], ug)
		binary.LittleEndian.PutUint64(e[32:40], uint64(p.Start/sector))
		binary.LittleEndian.PutUint64(e[40:48], uint64((p.Start+p.Size)/sector-1))
		binary.LittleEndian.PutUint64(e[48:56], p.Attributes)
		name := utf16.Encode([]rune(p.Name))
		if len(name) > 36 {
			return fmt.Errorf("partition %d's name %q is longer than 36 UTF-16 units", p.Number, p.Name)
		}
		for i, c := range name {
			binary.LittleEndian.PutUint16(e[56+2*i:], c)
		}
	}
	entriesCRC := crc32.ChecksumIEEE(entries)
	header := func(self, other, entryLBA int64) []byte {
		h := make([]byte, sector)
		copy(h[0:8], "EFI PART")
		binary.LittleEndian.PutUint32(h[8:12], 0x00010000)
		binary.LittleEndian.PutUint32(h[12:16], 92)
		binary.LittleEndian.PutUint64(h[24:32], uint64(self))
		binary.LittleEndian.PutUint64(h[32:40], uint64(other))
		binary.LittleEndian.PutUint64(h[40:48], uint64(firstUsable))
		binary.LittleEndian.PutUint64(h[48:56], uint64(lastUsable))
		copy(h[56:72], dg)
		binary.LittleEndian.PutUint64(h[72:80], uint64(entryLBA))
		binary.LittleEndian.PutUint32(h[80:84], gptEntries)
		binary.LittleEndian.PutUint32(h[84:88], gptEntrySize)
		binary.LittleEndian.PutUint32(h[88:92], entriesCRC)
		binary.LittleEndian.PutUint32(h[16:20], crc32.ChecksumIEEE(h[0:92]))
		return h
	}
	mbr := make([]byte, sector)
	pe := mbr[446:462]
	pe[1], pe[2], pe[3] = 0x00, 0x02, 0x00 // CHS of LBA 1
	pe[4] = 0xEE
	pe[5], pe[6], pe[7] = 0xFF, 0xFF, 0xFF
	binary.LittleEndian.PutUint32(pe[8:12], 1)
	n := last
	if n > 0xFFFFFFFF {
		n = 0xFFFFFFFF
	}
	binary.LittleEndian.PutUint32(pe[12:16], uint32(n))
	mbr[510], mbr[511] = 0x55, 0xAA
	for _, wr := range []struct {
		b   []byte
		off int64
	}{
		{mbr, 0},
		{header(1, last, 2), sector},
		{entries, 2 * sector},
		{entries, (last - entrySectors) * sector},
		{header(last, 1, last-entrySectors), last * sector},
	} {
		if _, err := w.WriteAt(wr.b, wr.off); err != nil {
			return err
		}
	}
	return nil
}
