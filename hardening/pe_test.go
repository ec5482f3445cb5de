package hardening

import (
	"bytes"
	"encoding/binary"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// buildPE writes a minimal PE32+ image with the given sections, the shape
// of a UKI (systemd-stub + .linux/.initrd/.cmdline). sigSize > 0 fills the
// certificate table entry as a signed image would.
func buildPE(t testing.TB, names []string, data [][]byte, sigSize uint32) []byte {
	t.Helper()
	const fileAlign = 0x200
	var b bytes.Buffer
	le := binary.LittleEndian
	dos := make([]byte, 0x40)
	copy(dos, "MZ")
	le.PutUint32(dos[0x3c:], 0x40)
	b.Write(dos)
	b.WriteString("PE\x00\x00")
	hdrSize := 0x40 + 4 + 20 + 240 + 40*len(names)
	rawStart := (hdrSize + fileAlign - 1) &^ (fileAlign - 1)
	binary.Write(&b, le, struct {
		Machine, NumberOfSections                            uint16
		TimeDateStamp, PointerToSymbolTable, NumberOfSymbols uint32
		SizeOfOptionalHeader, Characteristics                uint16
	}{0x8664, uint16(len(names)), 0, 0, 0, 240, 0x22})
	opt := make([]byte, 240)
	le.PutUint16(opt[0:], 0x20b)           // PE32+
	le.PutUint32(opt[32:], 0x1000)         // SectionAlignment
	le.PutUint32(opt[36:], fileAlign)      // FileAlignment
	le.PutUint16(opt[68:], 10)             // Subsystem EFI application
	le.PutUint32(opt[108:], 16)            // NumberOfRvaAndSizes
	le.PutUint32(opt[112+4*8+4:], sigSize) // DataDirectory[4] (security) size
	b.Write(opt)
	off, va := rawStart, 0x1000
	var raw bytes.Buffer
	for i, n := range names {
		size := (len(data[i]) + fileAlign - 1) &^ (fileAlign - 1)
		var name [8]byte
		copy(name[:], n)
		b.Write(name[:])
		binary.Write(&b, le, [4]uint32{uint32(len(data[i])), uint32(va), uint32(size), uint32(off)})
		b.Write(make([]byte, 12))
		binary.Write(&b, le, uint32(0x40000040))
		raw.Write(data[i])
		raw.Write(make([]byte, size-len(data[i])))
		off += size
		va += (size + 0xfff) &^ 0xfff
	}
	b.Write(make([]byte, rawStart-b.Len()))
	b.Write(raw.Bytes())
	return b.Bytes()
}

func TestReadUKI(t *testing.T) {
	dir := t.TempDir()
	cmd := "roothash=0123abcd lockdown=integrity slab_nomerge"
	for _, sig := range []uint32{0, 1234} {
		p := filepath.Join(dir, "uki.efi")
		pe := buildPE(t, []string{".linux", ".initrd", ".cmdline"}, [][]byte{[]byte("kernel"), []byte("initrd"), []byte(cmd + "\x00")}, sig)
		if err := os.WriteFile(p, pe, 0o644); err != nil {
			t.Fatal(err)
		}
		u, err := ReadUKI(p)
		if err != nil {
			t.Fatal(err)
		}
		if u.Cmdline != cmd {
			t.Errorf("cmdline %q", u.Cmdline)
		}
		if strings.Join(u.Sections, " ") != ".linux .initrd .cmdline" || u.SignatureSize != sig {
			t.Errorf("sections %v signature %d", u.Sections, u.SignatureSize)
		}
	}
	p := filepath.Join(dir, "not.efi")
	os.WriteFile(p, []byte("this is not a PE file at all, just text"), 0o644)
	if _, err := ReadUKI(p); err == nil || !strings.Contains(err.Error(), "not a PE file") {
		t.Errorf("err %v", err)
	}
}
