package builder

import (
	"bytes"
	"debug/buildinfo"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	spdxjson "github.com/spdx/tools-golang/json"
)

const fixtureStatus = `Package: bash
Status: install ok installed
Essential: yes
Maintainer: Matthias Klose <doko@debian.org>
Architecture: amd64
Source: bash (5.2.37-2)
Version: 5.2.37-2+b10
Description: GNU Bourne Again SHell
 Bash is an sh-compatible command language interpreter.
 .
 It is a long description.

Package: dpkg
Status: install ok installed
Maintainer: Dpkg Developers <debian-dpkg@lists.debian.org>
Architecture: amd64
Version: 1.22.21

Package: dracut
Status: deinstall ok config-files
Architecture: amd64
Version: 106-6

Package: libc6
Status: install ok installed
Maintainer: GNU Libc Maintainers <debian-glibc@lists.debian.org>
Architecture: amd64
Multi-Arch: same
Source: glibc
Version: 2.41-12+deb13u1
Homepage: https://www.gnu.org/software/libc/libc.html

Package: libkmod2
Status: install ok installed
Maintainer: Marco d'Itri <md@linux.it>
Architecture: amd64
Source: kmod
Version: 34.2-2

Package: systemd-sysv
Status: install ok installed
Maintainer: Debian systemd Maintainers <pkg-systemd-maintainers@lists.alioth.debian.org>
Architecture: amd64
Source: systemd
Version: 1:257.9-1~deb13u1
`

const glibcCopyright = `Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/
Upstream-Name: glibc

Files: *
Copyright: 1991-2025 Free Software Foundation, Inc.
License: LGPL-2.1+

Files: debian/*
Copyright: 1998 Joel Klecker
License: GPL-2+ or Artistic

Files: sunrpc/*
Copyright: Oracle
License: BSD-3-clause-Oracle

Files: timezone/*
License: public-domain

Files: linux/*
License: GPL-2 with Linux-syscall-note exception

License: BSD-3-clause-Oracle
 Redistribution and use in source and binary forms, with or without
 modification, are permitted.
`

// fixtureRoot lays out a root as mmdebstrap and the install step leave it:
// a dpkg database, the packages' files and copyright files, and a Go binary
// (this test binary, whose build info lists the module's dependencies).
func fixtureRoot(t *testing.T) string {
	t.Helper()
	root := t.TempDir()
	elf := "\x7fELF fake"
	write := func(rel, content string) {
		p := filepath.Join(root, rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	write("var/lib/dpkg/status", fixtureStatus)
	lists := map[string][]string{
		"bash:amd64":   {"/.", "/usr", "/usr/bin", "/usr/bin/bash", "/usr/bin/clear_console", "/etc/skel/.bashrc", "/usr/share/doc/bash/copyright"},
		"dpkg":         {"/.", "/usr/bin/dpkg", "/etc/dpkg/dpkg.cfg", "/usr/share/doc/dpkg/copyright"},
		"libc6:amd64":  {"/.", "/usr/lib/x86_64-linux-gnu/libc.so.6", "/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2", "/usr/share/doc/libc6/copyright"},
		"libkmod2":     {"/.", "/usr/lib/x86_64-linux-gnu/libkmod.so.2", "/usr/share/doc/libkmod2/copyright"},
		"systemd-sysv": {"/.", "/usr/share/doc/systemd-sysv/copyright"},
	}
	for name, files := range lists {
		write("var/lib/dpkg/info/"+name+".list", strings.Join(files, "\n")+"\n")
		for _, f := range files {
			if f == "/." || f == "/usr" || f == "/usr/bin" {
				continue
			}
			write(f, elf)
		}
	}
	write("usr/share/doc/libc6/copyright", glibcCopyright)
	write("usr/share/doc/bash/copyright", "Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/\n\nFiles: *\nLicense: GPL-3+\n")
	write("usr/share/doc/libkmod2/copyright", "Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/\n\nFiles: *\nLicense: LGPL-2.1+\n")
	write("usr/share/doc/systemd-sysv/copyright", "This is free-form text: see /usr/share/common-licenses.\n")
	if err := os.Symlink("libkmod2", filepath.Join(root, "usr/share/doc/kmod")); err != nil {
		t.Fatal(err)
	}
	write("usr/bin/supernode", string(testGoBinary(t)))
	return root
}

var goBinary struct {
	sync.Once
	data []byte
	err  error
}

// testGoBinary builds testdata/gobin once per test run, as `make build`
// builds the project's binaries (static, -trimpath).
func testGoBinary(t *testing.T) []byte {
	t.Helper()
	goBinary.Do(func() {
		out := filepath.Join(os.TempDir(), fmt.Sprintf("sbom-gobin-%d", os.Getpid()))
		defer os.Remove(out)
		cmd := exec.Command("go", "build", "-trimpath", "-o", out, "./testdata/gobin")
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if b, err := cmd.CombinedOutput(); err != nil {
			goBinary.err = fmt.Errorf("go build ./testdata/gobin: %v\n%s", err, b)
			return
		}
		goBinary.data, goBinary.err = os.ReadFile(out)
	})
	if goBinary.err != nil {
		t.Fatal(goBinary.err)
	}
	return goBinary.data
}

// stripFixture does to the fixture what the strip step does to a root.
func stripFixture(t *testing.T, root string) *RootInventory {
	t.Helper()
	db, err := ReadDpkgDB(root)
	if err != nil {
		t.Fatal(err)
	}
	if len(db.Packages) != 5 {
		t.Fatalf("dpkg database: %d installed packages, want 5 (dracut is only config-files)", len(db.Packages))
	}
	if _, err := RemoveGlobs(root, []string{"usr/bin/bash", "usr/bin/dpkg*", "etc/dpkg", "var/*"}); err != nil {
		t.Fatal(err)
	}
	if _, err := db.RemovePackageFiles(root, []string{"bash", "dpkg"}); err != nil {
		t.Fatal(err)
	}
	inv, err := InventoryRoot(root, db, []string{"supernode", "supernode-xdp"}, "")
	if err != nil {
		t.Fatal(err)
	}
	return inv
}

func TestFinalPackagesAfterStrip(t *testing.T) {
	root := fixtureRoot(t)
	inv := stripFixture(t, root)
	var names []string
	for _, p := range inv.Packages {
		names = append(names, p.Name)
	}
	if got := strings.Join(names, " "); got != "libc6 libkmod2 systemd-sysv" {
		t.Errorf("packages in the final root: %s; want libc6 libkmod2 systemd-sysv", got)
	}
	if got := strings.Join(inv.Removed, " "); got != "bash dpkg" {
		t.Errorf("removed: %s; want bash dpkg", got)
	}
	for _, gone := range []string{"usr/bin/clear_console", "etc/skel/.bashrc"} {
		if _, err := os.Lstat(filepath.Join(root, gone)); err == nil {
			t.Errorf("%s is still there: a removed package must go completely", gone)
		}
	}
	if _, err := os.Stat(filepath.Join(root, "usr/share/doc/bash/copyright")); err != nil {
		t.Errorf("copyright files stay: %v", err)
	}
	libc := inv.Packages[0]
	if libc.Source != "glibc" || libc.SourceVersion != "2.41-12+deb13u1" {
		t.Errorf("libc6 source = %s %s", libc.Source, libc.SourceVersion)
	}
	if len(inv.Files) != 3 {
		t.Errorf("ELF files: %+v; want libc.so.6, ld-linux and libkmod", inv.Files)
	}
	if len(inv.GoBinaries) != 1 || inv.GoBinaries[0].GoVersion == "" || len(inv.GoBinaries[0].Deps) == 0 {
		t.Fatalf("Go binaries: %+v", inv.GoBinaries)
	}
}

func TestParseDebianCopyright(t *testing.T) {
	l := ParseDebianCopyright(glibcCopyright)
	want := "(GPL-2.0-only WITH Linux-syscall-note) AND (GPL-2.0-or-later OR Artistic-1.0-Perl) AND LGPL-2.1-or-later AND LicenseRef-BSD-3-clause-Oracle AND LicenseRef-public-domain"
	if l.Expression != want {
		t.Errorf("expression\n got %s\nwant %s", l.Expression, want)
	}
	if !strings.Contains(l.Refs["LicenseRef-BSD-3-clause-Oracle"], "Redistribution and use") {
		t.Errorf("LicenseRef text not taken from the standalone License paragraph: %q", l.Refs["LicenseRef-BSD-3-clause-Oracle"])
	}
	if got := ParseDebianCopyright("Copyright 1999 someone\nGPL\n").Expression; got != "NOASSERTION" {
		t.Errorf("free-form copyright file: %s, want NOASSERTION", got)
	}
	for field, want := range map[string]string{
		"LGPL-3+ or GPL-2+":                       "LGPL-3.0-or-later OR GPL-2.0-or-later",
		"GPL-2+ with OpenSSL exception":           "LicenseRef-GPL-2--with-OpenSSL-exception",
		"Expat":                                   "MIT",
		"GPL-3+ with Bison exception":             "GPL-3.0-or-later WITH Bison-exception-2.2",
		"BSD-3-clause and GPL-2 or Apache-2.0":    "(BSD-3-Clause AND GPL-2.0-only) OR Apache-2.0",
		"LGPL-2.1+-with-link-exception":           "LicenseRef-LGPL-2.1--with-link-exception",
		"CC0 or Apache-2.0":                       "CC0-1.0 OR Apache-2.0",
		"GFDL-NIV-1.3+":                           "GFDL-1.3-no-invariants-or-later",
		"BSD-2-clause, BSD-3-clause":              "BSD-2-Clause AND BSD-3-Clause",
		"public-domain":                           "LicenseRef-public-domain",
		"GPL-2 with Linux-syscall-note exception": "GPL-2.0-only WITH Linux-syscall-note",
	} {
		refs := map[string]string{}
		got := licenseExpression(field, nil, refs)
		if got != want {
			t.Errorf("%q -> %q, want %q", field, got, want)
		}
		declared := map[string]bool{}
		for k := range refs {
			declared[k] = true
		}
		if err := checkLicenseExpression(got, declared); err != nil {
			t.Errorf("%q: %v", field, err)
		}
	}
}

func TestSBOMValidSPDX23(t *testing.T) {
	root := fixtureRoot(t)
	inv := stripFixture(t, root)
	inv.Licenses["libc6"] = ReadDebianCopyright(root, "libc6")
	sbom, err := RenderSBOM(SBOMInput{ImageName: "supernode-appliance", RootHash: strings.Repeat("ab", 32),
		Suite: "trixie", Epoch: 1795676271, BuilderVersion: "1.2.3", Inventory: inv})
	if err != nil {
		t.Fatal(err)
	}
	if err := ValidateSBOM(sbom); err != nil {
		t.Fatalf("the SBOM is not valid SPDX 2.3:\n%v", err)
	}
	// The SPDX tools' reader sees what we meant.
	doc, err := spdxjson.Read(bytes.NewReader(sbom))
	if err != nil {
		t.Fatal(err)
	}
	purls := map[string]string{}
	for _, p := range doc.Packages {
		for _, r := range p.PackageExternalReferences {
			if r.RefType == "purl" {
				purls["SPDXRef-"+string(p.PackageSPDXIdentifier)] = r.Locator
			}
		}
		if p.PackageName == "bash" || p.PackageName == "dpkg" {
			t.Errorf("the SBOM lists %s, which the strip removed", p.PackageName)
		}
		if p.PackageName == "supernode-appliance" && p.PrimaryPackagePurpose != "OPERATING_SYSTEM" {
			t.Errorf("image purpose %q", p.PrimaryPackagePurpose)
		}
		if p.PackageName == "libc6" && !strings.Contains(p.PackageLicenseDeclared, "LGPL-2.1-or-later") {
			t.Errorf("libc6 license %q", p.PackageLicenseDeclared)
		}
		if p.PackageSPDXIdentifier != "Image" && !strings.HasPrefix(purls["SPDXRef-"+string(p.PackageSPDXIdentifier)], "pkg:") {
			t.Errorf("package %s has no purl", p.PackageSPDXIdentifier)
		}
	}
	for id, want := range map[string]string{
		"SPDXRef-deb-libc6":                    "pkg:deb/debian/libc6@2.41-12%2Bdeb13u1?arch=amd64&distro=trixie",
		"SPDXRef-deb-systemd-sysv":             "pkg:deb/debian/systemd-sysv@1%3A257.9-1~deb13u1?arch=amd64&distro=trixie",
		"SPDXRef-debsrc-glibc-2.41-12-deb13u1": "pkg:deb/debian/glibc@2.41-12%2Bdeb13u1?arch=source&distro=trixie",
		"SPDXRef-debsrc-kmod-34.2-2":           "pkg:deb/debian/kmod@34.2-2?arch=source&distro=trixie",
	} {
		if purls[id] != want {
			t.Errorf("%s purl %q, want %q", id, purls[id], want)
		}
	}
	if doc.CreationInfo.Created != "2026-11-26T06:57:51Z" {
		t.Errorf("created %s is not SOURCE_DATE_EPOCH", doc.CreationInfo.Created)
	}
	// Every module of the binary's build info is there, with the stdlib.
	bi, err := buildinfo.ReadFile(filepath.Join(root, "usr/bin/supernode"))
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range bi.Deps {
		m := d
		if d.Replace != nil {
			m = d.Replace
		}
		want := GoPurl(m.Path, m.Version)
		found := false
		for _, p := range purls {
			found = found || p == want
		}
		if !found {
			t.Errorf("module %s %s (purl %s) missing from the SBOM", m.Path, m.Version, want)
		}
	}
	if purls["SPDXRef-gostdlib-"+spdxID(bi.GoVersion)] != "pkg:golang/stdlib@"+bi.GoVersion {
		t.Errorf("stdlib purl %q", purls["SPDXRef-gostdlib-"+spdxID(bi.GoVersion)])
	}
	for id, p := range purls {
		if strings.Contains(p, "devel") {
			t.Errorf("%s purl %s carries Go's (devel) placeholder", id, p)
		}
	}
	if len(doc.Files) != 4 {
		t.Errorf("%d files, want 3 ELF files of packages + the Go binary", len(doc.Files))
	}
	for _, f := range doc.Files {
		if len(f.Checksums) != 2 {
			t.Errorf("file %s checksums %+v", f.FileName, f.Checksums)
		}
	}
	// Reproducible: the same input renders the same bytes.
	again, _ := RenderSBOM(SBOMInput{ImageName: "supernode-appliance", RootHash: strings.Repeat("ab", 32),
		Suite: "trixie", Epoch: 1795676271, BuilderVersion: "1.2.3", Inventory: inv})
	if !bytes.Equal(sbom, again) {
		t.Error("two renderings of one inventory differ")
	}
}

// TestValidateSBOMRefuses: the checks the SPDX tools' reader does not make.
func TestValidateSBOMRefuses(t *testing.T) {
	root := fixtureRoot(t)
	inv := stripFixture(t, root)
	good, err := RenderSBOM(SBOMInput{ImageName: "img", RootHash: "00", Suite: "trixie", Inventory: inv, BuilderVersion: "x"})
	if err != nil {
		t.Fatal(err)
	}
	for name, mutate := range map[string]func(d *spdxDoc){
		"purpose with a dash (issue #15)": func(d *spdxDoc) { d.Packages[0].PrimaryPurpose = "OPERATING-SYSTEM" },
		"undeclared LicenseRef":           func(d *spdxDoc) { d.Packages[1].LicenseDeclared = "LicenseRef-nowhere" },
		"bad license syntax":              func(d *spdxDoc) { d.Packages[1].LicenseDeclared = "MIT GPL-2.0-only" },
		"short checksum":                  func(d *spdxDoc) { d.Files[0].Checksums[1].Value = "abc" },
		"file without SHA1":               func(d *spdxDoc) { d.Files[0].Checksums = d.Files[0].Checksums[1:] },
		"dangling relationship":           func(d *spdxDoc) { d.Relationships[0].Related = "SPDXRef-nothing" },
		"duplicate id":                    func(d *spdxDoc) { d.Packages[2].SPDXID = d.Packages[1].SPDXID },
		"not a purl":                      func(d *spdxDoc) { d.Packages[1].ExternalRefs[0].Locator = "deb:libc6" },
	} {
		var d spdxDoc
		if err := json.Unmarshal(good, &d); err != nil {
			t.Fatal(err)
		}
		mutate(&d)
		b, _ := json.Marshal(d)
		if err := ValidateSBOM(b); err == nil {
			t.Errorf("%s: accepted", name)
		} else {
			t.Logf("%s: %v", name, strings.SplitN(err.Error(), "\n", 2)[0])
		}
	}
}
