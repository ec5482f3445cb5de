package hardening

import (
	"debug/pe"
	"fmt"
	"strings"
)

// UKIInfo is what the audit reads from a unified kernel image.
type UKIInfo struct {
	Sections      []string
	Cmdline       string
	SignatureSize uint32 // IMAGE_DIRECTORY_ENTRY_SECURITY size
}

// ReadUKI parses a UKI with debug/pe: section names, the .cmdline section
// (NUL-terminated text) and the Authenticode certificate table size.
func ReadUKI(path string) (*UKIInfo, error) {
	f, err := pe.Open(path)
	if err != nil {
		return nil, fmt.Errorf("UKI %s: not a PE file: %w", path, err)
	}
	defer f.Close()
	info := &UKIInfo{}
	for _, s := range f.Sections {
		info.Sections = append(info.Sections, s.Name)
		if s.Name == ".cmdline" {
			b, err := s.Data()
			if err != nil {
				return nil, fmt.Errorf("UKI %s: read .cmdline: %w", path, err)
			}
			// VirtualSize is the real length; Data() is padded to the file alignment.
			if int(s.VirtualSize) < len(b) {
				b = b[:s.VirtualSize]
			}
			info.Cmdline = strings.TrimSpace(strings.TrimRight(string(b), "\x00"))
		}
	}
	const securityDir = 4 // pe.IMAGE_DIRECTORY_ENTRY_SECURITY
	switch oh := f.OptionalHeader.(type) {
	case *pe.OptionalHeader64:
		if len(oh.DataDirectory) > securityDir {
			info.SignatureSize = oh.DataDirectory[securityDir].Size
		}
	case *pe.OptionalHeader32:
		if len(oh.DataDirectory) > securityDir {
			info.SignatureSize = oh.DataDirectory[securityDir].Size
		}
	}
	return info, nil
}
