package builder

import (
	"fmt"
	"os"
	"strings"
)

// Artifact is the published image set: raw disk, converted formats,
// manifest.json and sbom.spdx.json in one output directory.
type Artifact struct {
	dir      string
	files    []string
	rootHash string
	manifest string
}

func (*Artifact) BuilderId() string { return BuilderID }

func (a *Artifact) Files() []string { return append([]string(nil), a.files...) }

// Id is the dm-verity root hash: it names the exact root filesystem.
func (a *Artifact) Id() string { return a.rootHash }

func (a *Artifact) String() string {
	return fmt.Sprintf("supernode appliance image in %s (root hash %s): %s", a.dir, a.rootHash, strings.Join(a.files, ", "))
}

func (a *Artifact) State(name string) interface{} {
	switch name {
	case "root_hash":
		return a.rootHash
	case "manifest":
		return a.manifest
	}
	return nil
}

// Destroy removes the published files.
func (a *Artifact) Destroy() error {
	for _, f := range a.files {
		if err := os.Remove(f); err != nil && !os.IsNotExist(err) {
			return err
		}
	}
	return nil
}
