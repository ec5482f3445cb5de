package builder

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// The strip step deletes dpkg together with its database, so the package
// list of the final root is made in two moments: DpkgDatabase reads
// /var/lib/dpkg (status and every package's file list) before anything is
// removed, and FinalPackages looks, after the removal, at which packages
// still have files in the root. The SBOM then lists what the image really
// carries, not what mmdebstrap once installed.

// DebPackage is one installed Debian binary package as dpkg recorded it.
type DebPackage struct {
	Name          string
	Version       string
	Arch          string
	Source        string // source package name (dpkg's Source:, else Name)
	SourceVersion string // source version (dpkg's "Source: x (v)", else Version)
	Maintainer    string
	Homepage      string
	Files         []string // non-directory paths the package owns, relative to the root
	// Depends are the package names of Depends and Pre-Depends (every
	// alternative; versions and architectures dropped).
	Depends []string
}

// DpkgDB is the package database of a root at one moment.
type DpkgDB struct {
	Packages []DebPackage // installed packages, sorted by name
}

// ParseDpkgStatus reads a dpkg status file (deb822 paragraphs) and returns
// the packages whose Status is "install ok installed", sorted by name.
func ParseDpkgStatus(r io.Reader) ([]DebPackage, error) {
	var pkgs []DebPackage
	for _, para := range parseDeb822(r) {
		if para["Status"] != "install ok installed" {
			continue
		}
		p := DebPackage{
			Name: para["Package"], Version: para["Version"], Arch: para["Architecture"],
			Maintainer: para["Maintainer"], Homepage: para["Homepage"],
		}
		if p.Name == "" || p.Version == "" {
			return nil, fmt.Errorf("dpkg status: a paragraph without Package or Version (%q)", p.Name)
		}
		for _, field := range []string{para["Depends"], para["Pre-Depends"]} {
			for _, alt := range strings.FieldsFunc(field, func(r rune) bool { return r == ',' || r == '|' }) {
				if name, _, _ := strings.Cut(strings.Fields(alt + " x")[0], ":"); name != "x" {
					p.Depends = append(p.Depends, name)
				}
			}
		}
		p.Source, p.SourceVersion = p.Name, p.Version
		if src := strings.TrimSpace(para["Source"]); src != "" {
			name, ver, found := strings.Cut(src, " ")
			p.Source = name
			if found {
				p.SourceVersion = strings.Trim(strings.TrimSpace(ver), "()")
			}
		}
		pkgs = append(pkgs, p)
	}
	sort.Slice(pkgs, func(i, j int) bool { return pkgs[i].Name < pkgs[j].Name })
	return pkgs, nil
}

// parseDeb822 splits r into paragraphs of fields. Continuation lines are
// joined to their field with "\n" (leading space removed; " ." is an empty
// line), as Debian policy 5.1 describes.
func parseDeb822(r io.Reader) []map[string]string {
	var paras []map[string]string
	cur := map[string]string{}
	last := ""
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<16), 1<<22)
	flush := func() {
		if len(cur) > 0 {
			paras = append(paras, cur)
		}
		cur, last = map[string]string{}, ""
	}
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.TrimSpace(line) == "":
			flush()
		case strings.HasPrefix(line, "#"):
		case line[0] == ' ' || line[0] == '\t':
			if last != "" {
				cont := strings.TrimSpace(line)
				if cont == "." {
					cont = ""
				}
				cur[last] += "\n" + cont
			}
		default:
			k, v, ok := strings.Cut(line, ":")
			if !ok {
				continue
			}
			last = strings.TrimSpace(k)
			cur[last] = strings.TrimSpace(v)
		}
	}
	flush()
	return paras
}

// ReadDpkgDB reads root's dpkg status and the file list of every installed
// package (var/lib/dpkg/info/NAME.list or NAME:ARCH.list).
func ReadDpkgDB(root string) (*DpkgDB, error) {
	f, err := os.Open(filepath.Join(root, "var/lib/dpkg/status"))
	if err != nil {
		return nil, fmt.Errorf("reading the package database of the root: %w", err)
	}
	defer f.Close()
	pkgs, err := ParseDpkgStatus(f)
	if err != nil {
		return nil, err
	}
	info := filepath.Join(root, "var/lib/dpkg/info")
	for i := range pkgs {
		p := &pkgs[i]
		b, err := os.ReadFile(filepath.Join(info, p.Name+":"+p.Arch+".list"))
		if os.IsNotExist(err) {
			b, err = os.ReadFile(filepath.Join(info, p.Name+".list"))
		}
		if err != nil {
			return nil, fmt.Errorf("reading the file list of package %s: %w", p.Name, err)
		}
		for _, l := range strings.Split(string(b), "\n") {
			rel := strings.TrimPrefix(strings.TrimSpace(l), "/")
			if rel == "" || rel == "." {
				continue
			}
			// Directories are shared by many packages; they say nothing
			// about whether a package is still there.
			if fi, err := os.Lstat(filepath.Join(root, rel)); err == nil && fi.IsDir() {
				continue
			}
			p.Files = append(p.Files, rel)
		}
	}
	return &DpkgDB{Packages: pkgs}, nil
}

// isDocPath: copyright files stay on purpose, so they never prove a
// package present.
func isDocPath(rel string) bool { return strings.HasPrefix(rel, "usr/share/doc/") }

// FinalPackages splits db's packages by what root holds now. A package is
// present if any file it owns outside usr/share/doc still exists, or if it
// never owned any such file (a metapackage such as systemd-sysv or
// linux-image-cloud-amd64); otherwise the strip removed it.
func (db *DpkgDB) FinalPackages(root string) (present []DebPackage, removed []string) {
	for _, p := range db.Packages {
		owned, left := 0, []string{}
		for _, f := range p.Files {
			if isDocPath(f) {
				continue
			}
			owned++
			if _, err := os.Lstat(filepath.Join(root, f)); err == nil {
				left = append(left, f)
			}
		}
		if owned > 0 && len(left) == 0 {
			removed = append(removed, p.Name)
			continue
		}
		p.Files = left
		present = append(present, p)
	}
	return present, removed
}

// RemovePackageFiles deletes every file of the named packages that no other
// package of db also owns, so a package the strip takes away goes
// completely (bash's bashbug and clear_console with bash, /etc/debconf.conf
// with debconf) and the SBOM need not list a package of which one stray file
// is left. Directories stay. It returns the number of files removed.
func (db *DpkgDB) RemovePackageFiles(root string, names []string) (int, error) {
	return db.removeFiles(root, names, nil)
}

// RemovePackageFilesExcept is RemovePackageFiles for one package that
// stays in part: the files matching a pattern of keep (path.Match, relative
// to the root) stay.
func (db *DpkgDB) RemovePackageFilesExcept(root, name string, keep []string) (int, error) {
	return db.removeFiles(root, []string{name}, func(f string) bool {
		for _, k := range keep {
			if ok, _ := filepath.Match(k, f); ok {
				return true
			}
		}
		return false
	})
}

// Orphans returns seeds (those installed) and every package that only
// they, or packages found this way, depend on: what can go with the seeds
// without breaking a package that stays. Packages nothing depends on are
// not orphans (they were installed for themselves).
func (db *DpkgDB) Orphans(seeds []string) []string {
	installed := map[string]bool{}
	rdeps := map[string][]string{}
	for _, p := range db.Packages {
		installed[p.Name] = true
		for _, d := range p.Depends {
			rdeps[d] = append(rdeps[d], p.Name)
		}
	}
	gone := map[string]bool{}
	for _, s := range seeds {
		if installed[s] {
			gone[s] = true
		}
	}
	for changed := true; changed; {
		changed = false
		for _, p := range db.Packages {
			if gone[p.Name] || len(rdeps[p.Name]) == 0 {
				continue
			}
			orphan := true
			for _, r := range rdeps[p.Name] {
				if !gone[r] {
					orphan = false
					break
				}
			}
			if orphan {
				gone[p.Name], changed = true, true
			}
		}
	}
	out := make([]string, 0, len(gone))
	for n := range gone {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// removeFiles deletes the files of the named packages that no other
// package owns, except those spare (nil: none) says to leave.
func (db *DpkgDB) removeFiles(root string, names []string, spare func(string) bool) (int, error) {
	drop := map[string]bool{}
	for _, n := range names {
		drop[n] = true
	}
	keep := map[string]bool{}
	for _, p := range db.Packages {
		if !drop[p.Name] {
			for _, f := range p.Files {
				keep[f] = true
			}
		}
	}
	n := 0
	for _, p := range db.Packages {
		if !drop[p.Name] {
			continue
		}
		for _, f := range p.Files {
			if keep[f] || isDocPath(f) || (spare != nil && spare(f)) {
				continue
			}
			full := filepath.Join(root, f)
			if !strings.HasPrefix(full, root+"/") {
				continue
			}
			fi, err := os.Lstat(full)
			if err != nil || fi.IsDir() {
				continue
			}
			if err := os.Remove(full); err != nil {
				return n, err
			}
			n++
			// A unit that is gone must not stay enabled (apt-daily.timer),
			// nor stay wanted by the package's own links.
			if strings.HasPrefix(f, "usr/lib/systemd/system/") {
				links, _ := filepath.Glob(filepath.Join(root, "etc/systemd/system/*.wants", filepath.Base(f)))
				more, _ := filepath.Glob(filepath.Join(root, "usr/lib/systemd/system/*.wants", filepath.Base(f)))
				links = append(links, more...)
				for _, l := range links {
					if fi, err := os.Lstat(l); err == nil && fi.Mode()&os.ModeSymlink != 0 {
						os.Remove(l)
					}
				}
			}
		}
	}
	return n, nil
}

// debPackages turns the final packages into the manifest's list.
func debPackages(pkgs []DebPackage) []Package {
	out := make([]Package, 0, len(pkgs))
	for _, p := range pkgs {
		out = append(out, Package{Name: p.Name, Version: p.Version, Arch: p.Arch})
	}
	return out
}

// isELF reports whether path is an ELF file (an executable, a shared
// library or a kernel module): the files whose checksums the SBOM records.
func isELF(path string) bool {
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	var magic [4]byte
	if _, err := io.ReadFull(f, magic[:]); err != nil {
		return false
	}
	return bytes.Equal(magic[:], []byte{0x7f, 'E', 'L', 'F'})
}
