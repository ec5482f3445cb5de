package tools

import (
	"os"
	"path/filepath"
	"testing"
)

func writeApt(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "sources.list.d"), 0o755)
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestHostMirror(t *testing.T) {
	cases := []struct {
		name  string
		files map[string]string
		want  string
	}{
		{"one-line", map[string]string{"sources.list": "# comment\ndeb-src http://a.example/debian bookworm main\ndeb [signed-by=/k.gpg arch=amd64] http://m.example/debian/ bookworm main\n"}, "http://m.example/debian"},
		{"deb822 skips security and third party", map[string]string{
			"sources.list.d/a.sources":      "Types: deb\nURIs: http://vendor.example/apt\nSuites: nodistro\n",
			"sources.list.d/debian.sources": "Types: deb\nURIs: http://sec.example/debian-security\nSuites: bookworm-security\n\nTypes: deb deb-src\n# x\nURIs: http://m.example/debian\nSuites: bookworm bookworm-updates\nComponents: main\n",
		}, "http://m.example/debian"},
		{"disabled paragraph", map[string]string{"sources.list.d/d.sources": "Types: deb\nURIs: http://off.example/debian\nSuites: trixie\nEnabled: no\n\nTypes: deb\nURIs: http://on.example/debian\nSuites: trixie\n"}, "http://on.example/debian"},
		{"disabled file name", map[string]string{"sources.list.d/x.list.disabled": "deb http://off.example/debian trixie main\n"}, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := HostMirror(writeApt(t, c.files))
			if c.want == "" {
				if err == nil {
					t.Fatalf("got %q, want an error", got)
				}
				return
			}
			if err != nil || got != c.want {
				t.Fatalf("got %q, %v; want %q", got, err, c.want)
			}
		})
	}
}

func TestKeyChangesWithInputs(t *testing.T) {
	a := Key("http://a.example/debian")
	if a == Key("http://b.example/debian") {
		t.Fatal("mirror does not change the key")
	}
	old := Packages
	Packages = append(append([]string(nil), old...), "extra")
	defer func() { Packages = old }()
	if a == Key("http://a.example/debian") {
		t.Fatal("package list does not change the key")
	}
}
