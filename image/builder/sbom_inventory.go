package builder

import (
	"crypto/sha1"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// RootInventory is what the final root carries, taken right after the strip
// step (the last step that changes the root): the SBOM and the manifest are
// written from it.
type RootInventory struct {
	Packages   []DebPackage          // Debian packages still in the root
	Removed    []string              // packages the strip removed
	Licenses   map[string]DebLicense // by package name
	DebSHA256  map[string]string     // package name -> sha256 of its .deb, when the apt cache holds it
	Files      []RootFile            // ELF files (executables, libraries) with checksums
	GoBinaries []GoBinary            // the project's binaries with their build info
}

// RootFile is one binary in the root.
type RootFile struct {
	Path    string // relative to the root
	Package string // owning Debian package, "" for the builder's own binaries
	SHA1    string
	SHA256  string
}

// InventoryRoot reads root after the strip: which packages of db remain,
// their licenses, every ELF file's checksums and the build info of the
// project binaries (usr/bin/NAME for NAME in bins). aptCache is the shared
// .deb cache (may be empty).
func InventoryRoot(root string, db *DpkgDB, bins []string, aptCache string) (*RootInventory, error) {
	inv := &RootInventory{Licenses: map[string]DebLicense{}, DebSHA256: map[string]string{}}
	inv.Packages, inv.Removed = db.FinalPackages(root)
	for _, p := range inv.Packages {
		inv.Licenses[p.Name] = ReadDebianCopyright(root, p.Name)
		if aptCache != "" {
			deb := filepath.Join(aptCache, debFileName(p))
			if sum, err := sha256File(deb); err == nil {
				inv.DebSHA256[p.Name] = sum
			}
		}
		for _, f := range p.Files {
			full := filepath.Join(root, f)
			if fi, err := os.Lstat(full); err != nil || !fi.Mode().IsRegular() || !isELF(full) {
				continue
			}
			s1, s256, err := fileSums(full)
			if err != nil {
				return nil, err
			}
			inv.Files = append(inv.Files, RootFile{Path: f, Package: p.Name, SHA1: s1, SHA256: s256})
		}
	}
	for _, b := range bins {
		rel := filepath.Join("usr/bin", b)
		full := filepath.Join(root, rel)
		if _, err := os.Stat(full); err != nil {
			continue // not built (the manifest lists it as a missing input)
		}
		g, err := ReadGoBinary(full)
		if err != nil {
			return nil, err
		}
		g.Name, g.Path = b, rel
		if g.SHA1, g.SHA256, err = fileSums(full); err != nil {
			return nil, err
		}
		inv.GoBinaries = append(inv.GoBinaries, *g)
	}
	sort.Slice(inv.Files, func(i, j int) bool { return inv.Files[i].Path < inv.Files[j].Path })
	sort.Slice(inv.GoBinaries, func(i, j int) bool { return inv.GoBinaries[i].Name < inv.GoBinaries[j].Name })
	return inv, nil
}

// debFileName is the name apt gives a downloaded package: NAME_VERSION_ARCH.deb
// with the epoch's ':' written %3a.
func debFileName(p DebPackage) string {
	return fmt.Sprintf("%s_%s_%s.deb", p.Name, strings.ReplaceAll(p.Version, ":", "%3a"), p.Arch)
}

func fileSums(path string) (sha1hex, sha256hex string, err error) {
	f, err := os.Open(path)
	if err != nil {
		return "", "", err
	}
	defer f.Close()
	h1, h256 := sha1.New(), sha256.New()
	if _, err := io.Copy(io.MultiWriter(h1, h256), f); err != nil {
		return "", "", err
	}
	return hex.EncodeToString(h1.Sum(nil)), hex.EncodeToString(h256.Sum(nil)), nil
}

// GoModules is every distinct module (path@version) linked into the project
// binaries, main modules excluded.
func (inv *RootInventory) GoModules() []GoModule {
	seen := map[string]GoModule{}
	for _, b := range inv.GoBinaries {
		for _, d := range b.Deps {
			seen[d.Path+"@"+d.Version] = d
		}
	}
	out := make([]GoModule, 0, len(seen))
	for _, m := range seen {
		out = append(out, m)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Path != out[j].Path {
			return out[i].Path < out[j].Path
		}
		return out[i].Version < out[j].Version
	})
	return out
}
