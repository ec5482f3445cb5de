package tools

import (
	"bufio"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// HostMirror returns the Debian archive URI the host's apt configuration
// uses (one-line sources.list and deb822 .sources files under etcApt), so the
// build talks to the same mirror apt does and no host name is hard-coded.
// Security and third-party archives are skipped: only an entry serving a
// Debian release suite (not "-security", not a disabled file) qualifies.
func HostMirror(etcApt string) (string, error) {
	var files []string
	files = append(files, filepath.Join(etcApt, "sources.list"))
	more, _ := filepath.Glob(filepath.Join(etcApt, "sources.list.d", "*"))
	sort.Strings(more)
	files = append(files, more...)
	for _, f := range files {
		var entries []source
		switch {
		case strings.HasSuffix(f, ".sources"):
			entries = parseDeb822(f)
		case strings.HasSuffix(f, ".list") || filepath.Base(f) == "sources.list":
			entries = parseOneLine(f)
		}
		for _, e := range entries {
			if e.debianArchive() {
				return strings.TrimRight(e.uri, "/"), nil
			}
		}
	}
	return "", ErrNoMirror
}

type source struct {
	types, uri string
	suites     []string
}

var debianSuites = map[string]bool{"buster": true, "bullseye": true, "bookworm": true, "trixie": true, "forky": true, "sid": true, "unstable": true, "testing": true, "stable": true, "oldstable": true}

func (s source) debianArchive() bool {
	if !strings.Contains(" "+s.types+" ", " deb ") || s.uri == "" {
		return false
	}
	for _, su := range s.suites {
		if debianSuites[su] {
			return true
		}
	}
	return false
}

func parseOneLine(path string) []source {
	f, err := os.Open(path)
	if err != nil {
		return nil
	}
	defer f.Close()
	var out []source
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if i := strings.IndexByte(line, '#'); i >= 0 {
			line = line[:i]
		}
		fields := strings.Fields(line)
		if len(fields) < 3 {
			continue
		}
		typ := fields[0]
		fields = fields[1:]
		if strings.HasPrefix(fields[0], "[") { // options like [signed-by=...]
			for len(fields) > 0 && !strings.HasSuffix(fields[0], "]") {
				fields = fields[1:]
			}
			if len(fields) > 0 {
				fields = fields[1:]
			}
		}
		if len(fields) < 2 {
			continue
		}
		out = append(out, source{types: typ, uri: fields[0], suites: []string{fields[1]}})
	}
	return out
}

func parseDeb822(path string) []source {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil
	}
	var out []source
	for _, para := range strings.Split(string(b), "\n\n") {
		s := source{}
		enabled := true
		for _, line := range strings.Split(para, "\n") {
			if strings.HasPrefix(strings.TrimSpace(line), "#") {
				continue
			}
			k, v, ok := strings.Cut(line, ":")
			if !ok {
				continue
			}
			v = strings.TrimSpace(v)
			switch strings.ToLower(strings.TrimSpace(k)) {
			case "types":
				s.types = v
			case "uris":
				s.uri = strings.Fields(v + " ")[0]
			case "suites":
				s.suites = strings.Fields(v)
			case "enabled":
				enabled = v != "no"
			}
		}
		if enabled {
			out = append(out, s)
		}
	}
	return out
}
