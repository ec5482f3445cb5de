// Package disk reads what the image builder wrote: the GPT of a raw image
// and the UKI's embedded command line. `appliance inspect` and the tests
// use it; the audit has its own reader, so the two check each other.
package disk

import (
	"bytes"
	"debug/pe"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"sort"
	"strings"
	"unicode/utf16"
)

const sector = 512

// Partition is one GPT entry.
type Partition struct {
	Number     int
	Name       string
	Type       string // upper-case GUID
	UUID       string // lower-case GUID
	Start      int64  // bytes
	Size       int64  // bytes
	Attributes uint64
}

// guid formats a GPT on-disk GUID (first three fields little-endian).
func guid(b []byte) string {
	return fmt.Sprintf("%08x-%04x-%04x-%x-%x",
		binary.LittleEndian.Uint32(b[0:4]), binary.LittleEndian.Uint16(b[4:6]),
		binary.LittleEndian.Uint16(b[6:8]), b[8:10], b[10:16])
}

// ReadGPT returns the partitions of the GPT disk image r.
func ReadGPT(r io.ReaderAt) ([]Partition, error) {
	hdr := make([]byte, 92)
	if _, err := r.ReadAt(hdr, sector); err != nil {
		return nil, fmt.Errorf("reading GPT header: %w", err)
	}
	if string(hdr[0:8]) != "EFI PART" {
		return nil, errors.New("no GPT header at LBA 1 (not a raw GPT disk image; qcow2 images must be converted first)")
	}
	entryLBA := int64(binary.LittleEndian.Uint64(hdr[72:80]))
	n := binary.LittleEndian.Uint32(hdr[80:84])
	size := binary.LittleEndian.Uint32(hdr[84:88])
	if n > 1024 || size < 128 || size > 4096 {
		return nil, fmt.Errorf("implausible GPT: %d entries of %d bytes", n, size)
	}
	buf := make([]byte, int(n)*int(size))
	if _, err := r.ReadAt(buf, entryLBA*sector); err != nil {
		return nil, fmt.Errorf("reading GPT entries: %w", err)
	}
	var parts []Partition
	for i := 0; i < int(n); i++ {
		e := buf[i*int(size) : (i+1)*int(size)]
		if bytes.Equal(e[0:16], make([]byte, 16)) {
			continue
		}
		name := make([]uint16, 36)
		for j := range name {
			name[j] = binary.LittleEndian.Uint16(e[56+2*j:])
		}
		first := int64(binary.LittleEndian.Uint64(e[32:40]))
		last := int64(binary.LittleEndian.Uint64(e[40:48]))
		parts = append(parts, Partition{
			Number:     i + 1,
			Type:       strings.ToUpper(guid(e[0:16])),
			UUID:       guid(e[16:32]),
			Start:      first * sector,
			Size:       (last - first + 1) * sector,
			Attributes: binary.LittleEndian.Uint64(e[48:56]),
			Name:       strings.TrimRight(string(utf16.Decode(name)), "\x00"),
		})
	}
	return parts, nil
}

// ReadGPTFile opens path and reads its GPT.
func ReadGPTFile(path string) ([]Partition, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return ReadGPT(f)
}

// Slots returns the partitions of type typ (the root or root-verity type of
// the A/B layout), in disk order: slot A first.
func Slots(parts []Partition, typ string) []Partition {
	var out []Partition
	for _, p := range parts {
		if strings.EqualFold(p.Type, typ) {
			out = append(out, p)
		}
	}
	return out
}

// Find returns the partition named name.
func Find(parts []Partition, name string) (Partition, bool) {
	for _, p := range parts {
		if p.Name == name {
			return p, true
		}
	}
	return Partition{}, false
}

// UKISection returns a section (".cmdline", ".osrel", ".uname") of a
// unified kernel image.
func UKISection(uki io.ReaderAt, name string) (string, error) {
	f, err := pe.NewFile(uki)
	if err != nil {
		return "", fmt.Errorf("UKI is not a PE file: %w", err)
	}
	s := f.Section(name)
	if s == nil {
		return "", fmt.Errorf("UKI has no %s section", name)
	}
	b, err := s.Data()
	if err != nil {
		return "", err
	}
	if int(s.VirtualSize) < len(b) && s.VirtualSize > 0 {
		b = b[:s.VirtualSize]
	}
	return strings.TrimRight(string(b), "\x00\n "), nil
}

// ESPUKIs lists the unified kernel images in /EFI/Linux of the ESP of a raw
// image file (mtools' mdir at the partition's byte offset, no mount), as
// paths on the ESP ("/EFI/Linux/supernode_1.2.3_uki.efi"), sorted.
func ESPUKIs(image string, esp Partition) ([]string, error) {
	out, err := exec.Command("mdir", "-b", "-i", fmt.Sprintf("%s@@%d", image, esp.Start), "::/EFI/Linux").CombinedOutput()
	if err != nil {
		return nil, fmt.Errorf("listing /EFI/Linux on the ESP with mdir (package mtools): %v %s", err, strings.TrimSpace(string(out)))
	}
	var ukis []string
	for _, line := range strings.Split(string(out), "\n") {
		line = strings.TrimSpace(line)
		name := line[strings.LastIndex(line, "/")+1:]
		if strings.HasSuffix(strings.ToLower(name), ".efi") {
			ukis = append(ukis, "/EFI/Linux/"+name)
		}
	}
	sort.Strings(ukis)
	return ukis, nil
}
