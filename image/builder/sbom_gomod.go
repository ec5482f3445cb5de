package builder

import (
	"debug/buildinfo"
	"fmt"
	"runtime/debug"
	"sort"
	"strings"
)

// GoBinary is one project binary in the root with what its build info
// (debug/buildinfo, the data `go version -m` prints) says it is made of.
type GoBinary struct {
	Name      string            // file name, e.g. supernode
	Path      string            // path in the root, e.g. usr/bin/supernode
	SHA256    string            // of the file as installed
	SHA1      string            // SPDX 2.3 requires SHA1 for every file
	GoVersion string            // toolchain, e.g. go1.26.0: the standard library's version too
	Main      GoModule          // the module the binary is built from
	Deps      []GoModule        // every module linked in, replacements resolved
	Settings  map[string]string // -trimpath, CGO_ENABLED, vcs.revision, ...
}

// GoModule is a module at a version. Replace names the original path when a
// replace directive swapped it (go-cty -> nywilken/go-cty).
type GoModule struct {
	Path    string
	Version string
	Sum     string // go.sum h1: hash, when the build recorded it
	Replace string
}

// ReadGoBinary reads the build info of the Go binary at path.
func ReadGoBinary(path string) (*GoBinary, error) {
	bi, err := buildinfo.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading the Go build info of %s: %w", path, err)
	}
	return goBinaryFromInfo(bi), nil
}

func goBinaryFromInfo(bi *debug.BuildInfo) *GoBinary {
	g := &GoBinary{GoVersion: bi.GoVersion, Settings: map[string]string{}}
	g.Main = GoModule{Path: bi.Main.Path, Version: bi.Main.Version, Sum: bi.Main.Sum}
	for _, d := range bi.Deps {
		m := GoModule{Path: d.Path, Version: d.Version, Sum: d.Sum}
		if d.Replace != nil {
			m = GoModule{Path: d.Replace.Path, Version: d.Replace.Version, Sum: d.Replace.Sum, Replace: d.Path}
		}
		g.Deps = append(g.Deps, m)
	}
	sort.Slice(g.Deps, func(i, j int) bool { return g.Deps[i].Path < g.Deps[j].Path })
	for _, s := range bi.Settings {
		g.Settings[s.Key] = s.Value
	}
	return g
}

// purlEscape percent-encodes a purl component: everything but the
// unreserved characters (github.com/package-url/purl-spec, "Character
// encoding"), so a Debian epoch's ':' and a version's '+' are unambiguous.
func purlEscape(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '-' || c == '_' || c == '~' {
			b.WriteByte(c)
		} else {
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return b.String()
}

// GoPurl is the purl of a Go module: pkg:golang/NAMESPACE/NAME@VERSION, the
// module path's segments encoded one by one.
func GoPurl(path, version string) string {
	segs := strings.Split(path, "/")
	for i, s := range segs {
		segs[i] = purlEscape(s)
	}
	p := "pkg:golang/" + strings.Join(segs, "/")
	if version != "" {
		p += "@" + purlEscape(version)
	}
	return p
}

// Purl is the binary's main module as a purl. A binary built from a
// checkout has the version "(devel)"; the VCS revision Go stamped names the
// source better, and otherwise the purl has no version.
func (g *GoBinary) Purl() string {
	v := g.Main.Version
	if v == "(devel)" || v == "" {
		v = g.Settings["vcs.revision"]
	}
	return GoPurl(g.Main.Path, v)
}

// StdlibPurl is the Go standard library of toolchain goVersion (go1.26.0),
// the name vulnerability databases use for it.
func StdlibPurl(goVersion string) string { return "pkg:golang/stdlib@" + purlEscape(goVersion) }

// DebPurl is the purl of a Debian package of suite.
func DebPurl(name, version, arch, suite string) string {
	return fmt.Sprintf("pkg:deb/debian/%s@%s?arch=%s&distro=%s", purlEscape(name), purlEscape(version), purlEscape(arch), purlEscape(suite))
}
