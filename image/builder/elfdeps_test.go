package builder

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestParseDpkgStatusDepends(t *testing.T) {
	status := "Package: systemd-container\nStatus: install ok installed\nVersion: 257\nArchitecture: amd64\n" +
		"Pre-Depends: libc6 (>= 2.38)\nDepends: libcurl4t64 (>= 7.16.3), default-dbus-system-bus | dbus-system-bus, libfoo:any\n"
	pkgs, err := ParseDpkgStatus(strings.NewReader(status))
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"libcurl4t64", "default-dbus-system-bus", "dbus-system-bus", "libfoo", "libc6"}
	if !reflect.DeepEqual(pkgs[0].Depends, want) {
		t.Fatalf("Depends %q, want %q", pkgs[0].Depends, want)
	}
}

// Orphans takes a seed and what only the seed (transitively) needs; a
// library another package still needs stays, and so does a package
// nothing depends on.
func TestOrphans(t *testing.T) {
	db := &DpkgDB{Packages: []DebPackage{
		{Name: "libc6"},
		{Name: "libcurl4t64", Depends: []string{"libnghttp2", "libssl3", "libc6"}},
		{Name: "libnghttp2", Depends: []string{"libc6"}},
		{Name: "libssl3", Depends: []string{"libc6"}},
		{Name: "systemd", Depends: []string{"libssl3", "libc6"}},
		{Name: "systemd-container", Depends: []string{"libcurl4t64", "systemd"}},
		{Name: "tzdata"},
	}}
	if got := db.Orphans([]string{"libcurl4t64", "not-installed"}); !reflect.DeepEqual(got, []string{"libcurl4t64", "libnghttp2"}) {
		t.Fatalf("orphans %q", got)
	}
}

func TestRemovePackageFilesExcept(t *testing.T) {
	root := t.TempDir()
	files := []string{"usr/lib/systemd/systemd-sysupdate", "usr/lib/systemd/systemd-pull", "usr/bin/machinectl",
		"usr/lib/systemd/system/systemd-importd.socket", "usr/lib/systemd/system/sockets.target.wants/systemd-importd.socket"}
	for _, f := range files {
		os.MkdirAll(filepath.Join(root, filepath.Dir(f)), 0o755)
		os.WriteFile(filepath.Join(root, f), nil, 0o644)
	}
	db := &DpkgDB{Packages: []DebPackage{{Name: "systemd-container", Files: files}}}
	n, err := db.RemovePackageFilesExcept(root, "systemd-container", []string{"usr/lib/systemd/systemd-sysupdate"})
	if err != nil || n != 4 {
		t.Fatalf("removed %d, %v; want 4", n, err)
	}
	for i, f := range files {
		_, err := os.Lstat(filepath.Join(root, f))
		if (err == nil) != (i == 0) {
			t.Errorf("%s: present = %v", f, err == nil)
		}
	}
}

// A binary whose library the strip removed is reported by name; with the
// library there it is not.
func TestUnresolvedLibraries(t *testing.T) {
	bin, err := os.ReadFile("/usr/bin/true")
	if err != nil {
		t.Skip("no /usr/bin/true to copy")
	}
	root := t.TempDir()
	os.MkdirAll(filepath.Join(root, "usr/bin"), 0o755)
	os.WriteFile(filepath.Join(root, "usr/bin/true"), bin, 0o755)
	got, err := UnresolvedLibraries(root)
	if err != nil || !reflect.DeepEqual(got, []string{"/usr/bin/true needs libc.so.6"}) {
		t.Fatalf("%q, %v", got, err)
	}
	if err := checkLibraries(root); err == nil || !strings.Contains(err.Error(), "/usr/bin/true needs libc.so.6") {
		t.Fatalf("checkLibraries: %v", err)
	}
	os.MkdirAll(filepath.Join(root, "usr/lib/x86_64-linux-gnu"), 0o755)
	os.Symlink("libc-2.41.so", filepath.Join(root, "usr/lib/x86_64-linux-gnu/libc.so.6"))
	if got, err := UnresolvedLibraries(root); err != nil || len(got) != 0 {
		t.Fatalf("with libc.so.6 present: %q, %v", got, err)
	}
}
