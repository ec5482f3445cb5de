package hardening

import (
	"bytes"
	"encoding/binary"
	"testing"
)

// Images are operator input and may come from anywhere: the GPT reader
// must reject garbage with an error, never panic or over-allocate.
func FuzzReadGPT(f *testing.F) {
	hdr := make([]byte, 1024+128*4)
	copy(hdr[512:], "EFI PART")
	binary.LittleEndian.PutUint64(hdr[512+72:], 2)
	binary.LittleEndian.PutUint32(hdr[512+80:], 4)
	binary.LittleEndian.PutUint32(hdr[512+84:], 128)
	f.Add(hdr)
	f.Add([]byte("EFI PART"))
	f.Fuzz(func(t *testing.T, b []byte) {
		parts, err := ReadGPT(bytes.NewReader(b))
		if err == nil {
			for _, p := range parts {
				if p.Index < 1 {
					t.Fatalf("bad index %d", p.Index)
				}
			}
		}
	})
}

// The profile is operator input too: any bytes give a profile or an error.
func FuzzParseProfile(f *testing.F) {
	f.Add(defaultProfile)
	f.Add([]byte("version = \"1.0.0\"\nname = \"x\"\n" + goodControl))
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := Parse("fuzz.hcl", b)
		if err == nil && (p == nil || len(p.Controls) == 0) {
			t.Fatal("nil error without controls")
		}
	})
}
