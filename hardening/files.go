package hardening

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// inRoot returns the host path of an absolute path inside root. Paths are
// joined lexically: the builder's root is trusted, and the audit only reads.
func inRoot(root, p string) string {
	return filepath.Join(root, filepath.Clean("/"+p))
}

// writeIfChanged writes data to path (creating parent directories) unless it
// already holds exactly data. It reports whether it wrote.
func writeIfChanged(path string, data []byte, mode os.FileMode) (bool, error) {
	if old, err := os.ReadFile(path); err == nil && bytes.Equal(old, data) {
		return false, nil
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return false, err
	}
	tmp := path + ".hardening-tmp"
	if err := os.WriteFile(tmp, data, mode); err != nil {
		return false, err
	}
	if err := os.Chmod(tmp, mode); err != nil {
		os.Remove(tmp)
		return false, err
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return false, err
	}
	return true, nil
}

// symlinkIfChanged makes path a symlink to target unless it already is one.
func symlinkIfChanged(path, target string) (bool, error) {
	if cur, err := os.Readlink(path); err == nil && cur == target {
		return false, nil
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return false, err
	}
	if err := os.Remove(path); err != nil && !os.IsNotExist(err) {
		return false, err
	}
	return true, os.Symlink(target, path)
}

// managedFile is a generated file made of one section per control, each
// headed "# control <id>: <title>". Keeping the control id in the file makes
// every line traceable, and lets Apply tell which control's section changed.
type managedFile struct {
	header   string
	order    []string
	sections map[string]string
}

func newManagedFile(header string) *managedFile {
	return &managedFile{header: header, sections: map[string]string{}}
}

func (m *managedFile) add(c *Control, body string) {
	if _, ok := m.sections[c.ID]; !ok {
		m.order = append(m.order, c.ID)
	}
	m.sections[c.ID] = fmt.Sprintf("# control %s: %s\n%s", c.ID, c.Title, strings.TrimRight(body, "\n")+"\n")
}

func (m *managedFile) bytes() []byte {
	var b strings.Builder
	b.WriteString(m.header)
	for _, id := range m.order {
		b.WriteString("\n")
		b.WriteString(m.sections[id])
	}
	return []byte(b.String())
}

// parseSections splits a previously written managed file by control id.
func parseSections(data string) map[string]string {
	out := map[string]string{}
	var id string
	var cur strings.Builder
	flush := func() {
		if id != "" {
			out[id] = strings.TrimRight(cur.String(), "\n") + "\n"
		}
	}
	for _, line := range strings.Split(data, "\n") {
		if rest, ok := strings.CutPrefix(line, "# control "); ok {
			flush()
			id, _, _ = strings.Cut(rest, ":")
			cur.Reset()
		}
		if id != "" {
			cur.WriteString(line + "\n")
		}
	}
	flush()
	return out
}

// write writes the file and reports one Change per control whose section
// is new or different.
func (m *managedFile) write(root, path string, mode os.FileMode, what func(id string) string) ([]Change, error) {
	full := inRoot(root, path)
	old, _ := os.ReadFile(full)
	prev := parseSections(string(old))
	wrote, err := writeIfChanged(full, m.bytes(), mode)
	if err != nil || !wrote {
		return nil, err
	}
	var changes []Change
	for _, id := range m.order {
		if strings.TrimRight(prev[id], "\n") != strings.TrimRight(m.sections[id], "\n") {
			changes = append(changes, Change{Control: id, Path: path, What: what(id)})
		}
	}
	return changes, nil
}
