package builder

import (
	"debug/elf"
	"fmt"
	"io/fs"
	"path/filepath"
	"sort"
	"strings"
)

// UnresolvedLibraries returns "FILE needs LIB" for every ELF file in root
// that names a shared library (DT_NEEDED) no file or link in root is
// called: what a strip that removed too much leaves behind, found at build
// time instead of as a unit that fails to start on the appliance. It
// checks names, not the loader's search path; libraries loaded with
// dlopen() are not named in DT_NEEDED and so are not checked.
func UnresolvedLibraries(root string) ([]string, error) {
	have := map[string]bool{}
	var files []string
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			rel, _ := filepath.Rel(root, path)
			if rel == "proc" || rel == "sys" || rel == "dev" {
				return filepath.SkipDir
			}
			return nil
		}
		name := d.Name()
		if strings.Contains(name, ".so") {
			have[name] = true
		}
		if d.Type().IsRegular() {
			files = append(files, path) // elf.Open below skips what is not ELF: one open per file
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	var missing []string
	for _, path := range files {
		f, err := elf.Open(path)
		if err != nil {
			continue // not ELF (a script, data), or not an object debug/elf reads
		}
		libs, _ := f.ImportedLibraries()
		f.Close()
		for _, l := range libs {
			if !have[l] {
				rel, _ := filepath.Rel(root, path)
				missing = append(missing, "/"+rel+" needs "+l)
			}
		}
	}
	sort.Strings(missing)
	return missing, nil
}

// checkLibraries fails when a file of the stripped root needs a library
// the strip removed, naming the first few.
func checkLibraries(root string) error {
	missing, err := UnresolvedLibraries(root)
	if err != nil {
		return err
	}
	if len(missing) == 0 {
		return nil
	}
	if len(missing) > 5 {
		missing = append(missing[:5], fmt.Sprintf("and %d more", len(missing)-5))
	}
	return fmt.Errorf("the stripped root has files needing a library that is not there: %s; keep the package that ships the library (RemovePackages, UpdateStripPackages) or remove the file too", strings.Join(missing, "; "))
}
