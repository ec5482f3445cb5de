package builder

import (
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// Licenses come from the Debian copyright files the root keeps
// (/usr/share/doc/PKG/copyright). A machine-readable one (DEP-5,
// www.debian.org/doc/packaging-manuals/copyright-format/1.0/) names each
// license in a License: field with a short name; the names Debian shares
// with the SPDX license list map to SPDX ids, the others become
// LicenseRef-* with the text the file gives. A free-form copyright file says
// nothing a machine can read: NOASSERTION.

// debianToSPDX maps DEP-5 short names (section "License specification") to
// SPDX license list ids. A trailing "+" is "or any later version".
var debianToSPDX = map[string]string{
	"apache-2.0": "Apache-2.0", "artistic": "Artistic-1.0-Perl", "artistic-2.0": "Artistic-2.0",
	"bsd-2-clause": "BSD-2-Clause", "bsd-3-clause": "BSD-3-Clause", "bsd-4-clause": "BSD-4-Clause",
	"bsl-1.0": "BSL-1.0", "cc0-1.0": "CC0-1.0", "cc0": "CC0-1.0", "cc-by-sa-4.0": "CC-BY-SA-4.0",
	"expat": "MIT", "mit": "MIT", "isc": "ISC", "zlib": "Zlib", "x11": "X11", "mpl-2.0": "MPL-2.0",
	"fsfap": "FSFAP", "fsful": "FSFUL", "fsfullr": "FSFULLR", "unicode-dfs-2016": "Unicode-DFS-2016",
	"beerware": "Beerware", "openssl": "OpenSSL", "python-2.0": "Python-2.0", "curl": "curl",
	"bzip2-1.0.6": "bzip2-1.0.6", "libpng": "Libpng", "ntp": "NTP", "pcre": "LicenseRef-PCRE",
	"0bsd": "0BSD", "wtfpl": "WTFPL", "unlicense": "Unlicense", "sissl": "SISSL",
	"gpl-1": "GPL-1.0-only", "gpl-1+": "GPL-1.0-or-later", "gpl-2": "GPL-2.0-only", "gpl-2+": "GPL-2.0-or-later",
	"gpl-3": "GPL-3.0-only", "gpl-3+": "GPL-3.0-or-later", "gpl": "GPL-1.0-or-later",
	"lgpl-2": "LGPL-2.0-only", "lgpl-2+": "LGPL-2.0-or-later", "lgpl-2.0": "LGPL-2.0-only", "lgpl-2.0+": "LGPL-2.0-or-later",
	"lgpl-2.1": "LGPL-2.1-only", "lgpl-2.1+": "LGPL-2.1-or-later", "lgpl-3": "LGPL-3.0-only", "lgpl-3+": "LGPL-3.0-or-later",
	"lgpl": "LGPL-2.0-or-later", "agpl-3": "AGPL-3.0-only", "agpl-3+": "AGPL-3.0-or-later",
	"gfdl-1.3": "GFDL-1.3-only", "gfdl-1.3+": "GFDL-1.3-or-later", "gfdl-niv-1.3": "GFDL-1.3-no-invariants-only",
	"gfdl-niv-1.3+": "GFDL-1.3-no-invariants-or-later",
	// SPDX ids written as such in copyright files.
	"gpl-2.0": "GPL-2.0-only", "gpl-2.0+": "GPL-2.0-or-later", "gpl-2.0-only": "GPL-2.0-only",
	"gpl-2.0-or-later": "GPL-2.0-or-later", "gpl-3.0": "GPL-3.0-only", "gpl-3.0+": "GPL-3.0-or-later",
	"gpl-3.0-only": "GPL-3.0-only", "gpl-3.0-or-later": "GPL-3.0-or-later", "lgpl-2.1-only": "LGPL-2.1-only",
	"lgpl-2.1-or-later": "LGPL-2.1-or-later", "lgpl-2.0-or-later": "LGPL-2.0-or-later", "mit/x11": "X11",
}

// spdxExceptions maps "with X exception" to SPDX exception ids.
var spdxExceptions = map[string]string{
	"linux-syscall-note": "Linux-syscall-note", "bison": "Bison-exception-2.2", "autoconf": "Autoconf-exception-generic",
	"gcc-runtime-library": "GCC-exception-3.1", "libtool": "Libtool-exception", "classpath": "Classpath-exception-2.0",
	"font": "Font-exception-2.0", "openssl": "", // no SPDX exception id: the whole term becomes a LicenseRef
}

// DebLicense is what one copyright file says.
type DebLicense struct {
	Expression string            // SPDX license expression, or NOASSERTION
	Refs       map[string]string // LicenseRef-* id -> extracted text
}

// ReadDebianCopyright reads root's copyright file of package name.
func ReadDebianCopyright(root, name string) DebLicense {
	b, err := os.ReadFile(docPathInRoot(root, name))
	if err != nil {
		return DebLicense{Expression: "NOASSERTION"}
	}
	return ParseDebianCopyright(string(b))
}

// docPathInRoot finds usr/share/doc/NAME/copyright, following a doc
// directory that is a symlink to another package's (kmod -> libkmod2)
// without leaving root.
func docPathInRoot(root, name string) string {
	dir := filepath.Join(root, "usr/share/doc", name)
	for i := 0; i < 8; i++ {
		t, err := os.Readlink(dir)
		if err != nil {
			break
		}
		if filepath.IsAbs(t) {
			dir = filepath.Join(root, t)
		} else {
			dir = filepath.Join(filepath.Dir(dir), t)
		}
		if !strings.HasPrefix(dir, root+"/") {
			return ""
		}
	}
	return filepath.Join(dir, "copyright")
}

// ParseDebianCopyright turns a copyright file into a license expression:
// the AND of every distinct License: of its Files paragraphs.
func ParseDebianCopyright(text string) DebLicense {
	paras := parseDeb822(strings.NewReader(text))
	if len(paras) == 0 || !strings.Contains(paras[0]["Format"], "copyright-format") {
		return DebLicense{Expression: "NOASSERTION"}
	}
	// Standalone License paragraphs carry the texts of short names.
	texts := map[string]string{}
	for _, p := range paras {
		lic, ok := p["License"]
		if !ok {
			continue
		}
		name, body, _ := strings.Cut(lic, "\n")
		if strings.TrimSpace(body) != "" {
			texts[strings.ToLower(strings.TrimSpace(name))] = body
		}
	}
	out := DebLicense{Refs: map[string]string{}}
	seen := map[string]bool{}
	var terms []string
	for _, p := range paras {
		if _, ok := p["Files"]; !ok {
			continue
		}
		name, _, _ := strings.Cut(p["License"], "\n")
		name = strings.TrimSpace(name)
		if name == "" {
			continue
		}
		expr := licenseExpression(name, texts, out.Refs)
		if expr == "" {
			// Only separators ("License: ,"): no license named.
			continue
		}
		parts := []string{expr}
		if !strings.Contains(expr, " OR ") {
			// "a AND b" joins the top-level AND as a and b.
			parts = strings.Split(strings.Trim(expr, "()"), " AND ")
		}
		for _, e := range parts {
			if !seen[e] {
				seen[e] = true
				terms = append(terms, e)
			}
		}
	}
	switch len(terms) {
	case 0:
		out.Expression = "NOASSERTION"
	case 1:
		out.Expression = terms[0]
	default:
		sort.Strings(terms)
		for i, t := range terms {
			if strings.Contains(t, " ") {
				terms[i] = "(" + t + ")"
			}
		}
		out.Expression = strings.Join(terms, " AND ")
	}
	return out
}

// licenseExpression converts one DEP-5 license field ("GPL-2+ or Artistic",
// "LGPL-2.1+ with OpenSSL exception") to SPDX. DEP-5's "or" binds weaker than
// "and", as in SPDX, and "," is an alias of "or" or "and" we read as "and".
func licenseExpression(field string, texts, refs map[string]string) string {
	var ors []string
	for _, alt := range splitWord(field, "or") {
		var ands []string
		for _, term := range splitWord(strings.ReplaceAll(alt, ",", " and "), "and") {
			ands = append(ands, licenseTerm(term, texts, refs))
		}
		if len(ands) == 0 {
			continue
		}
		e := strings.Join(ands, " AND ")
		if len(ands) > 1 {
			e = "(" + e + ")"
		}
		ors = append(ors, e)
	}
	if len(ors) == 0 {
		return ""
	}
	if len(ors) == 1 {
		return strings.Trim(ors[0], "()")
	}
	return strings.Join(ors, " OR ")
}

func splitWord(s, word string) []string {
	var out []string
	for _, part := range strings.Split(" "+s+" ", " "+word+" ") {
		if p := strings.TrimSpace(part); p != "" {
			out = append(out, p)
		}
	}
	return out
}

func licenseTerm(term string, texts, refs map[string]string) string {
	name, exc, hasExc := strings.Cut(term, " with ")
	key := strings.ToLower(strings.TrimSpace(name))
	if id, ok := debianToSPDX[key]; ok && !strings.HasPrefix(id, "LicenseRef-") {
		if !hasExc {
			return id
		}
		excKey := strings.ToLower(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(exc), "exception")))
		if e := spdxExceptions[excKey]; e != "" {
			return id + " WITH " + e
		}
	}
	// Not on the SPDX list (or an exception SPDX has no id for): a
	// LicenseRef with the text the copyright file gives for it.
	ref := "LicenseRef-" + spdxID(strings.TrimSpace(term))
	text := texts[strings.ToLower(strings.TrimSpace(term))]
	if text == "" {
		text = texts[key]
	}
	if text == "" {
		text = "Debian copyright file license name: " + strings.TrimSpace(term)
	}
	refs[ref] = text
	return ref
}
