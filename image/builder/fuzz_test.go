package builder

import (
	"strings"
	"testing"
)

// The decoders `appliance verify` and the SBOM run on input they do not
// control: a SHA256SUMS from a download, copyright files from packages.

func FuzzParseSHA256SUMS(f *testing.F) {
	sum := strings.Repeat("0", 64)
	f.Add(sum + "  img.raw\n" + sum + " *manifest.json\n")
	f.Add(sum + "  ../x\n")
	f.Add("\n\n")
	f.Fuzz(func(t *testing.T, s string) {
		m, err := ParseSHA256SUMS([]byte(s))
		if err != nil {
			return
		}
		for name, sum := range m {
			if strings.ContainsAny(name, "/\\") || name == ".." || len(sum) != 64 {
				t.Fatalf("accepted %q -> %q", name, sum)
			}
		}
	})
}

func FuzzParseDebianCopyright(f *testing.F) {
	f.Add(glibcCopyright)
	f.Add("Format: copyright-format\n\nFiles: *\nLicense: GPL-2+ with OpenSSL exception or MIT, BSD-3-clause and (x)\n")
	f.Add("free text\n")
	f.Fuzz(func(t *testing.T, s string) {
		l := ParseDebianCopyright(s)
		declared := map[string]bool{}
		for k := range l.Refs {
			declared[k] = true
		}
		// Whatever the file says, the result is a valid SPDX expression.
		if err := checkLicenseExpression(l.Expression, declared); err != nil {
			t.Fatalf("%q -> %v", s, err)
		}
	})
}
