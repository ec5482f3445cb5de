// Package version holds the one version of the appliance. `make build`
// stamps it into every binary with
//
//	-ldflags "-X github.com/supernode-appliance/appliance/internal/version.Version=$(VERSION)"
//
// and everything that reports a version reads it from here: the daemons'
// --version and logs (internal/daemon), the image builder's manifest, SBOM
// and os-release IMAGE_VERSION (image/builder), and the Packer plugin's
// `describe` answer.
//
// The form is semantic versioning as Packer accepts it for plugins: X.Y.Z
// for a release (a vX.Y.Z tag on a clean checkout), X.Y.Z-dev+META for
// everything else (Packer only knows "dev" as a pre-release; the metadata
// says which commit). version.sh computes it from git describe.
package version

import "strings"

// Version is set at link time; Unstamped means `go build` without make.
var Version = Unstamped

// Unstamped is the version of a binary built without the Makefile.
const Unstamped = "0.0.0-dev+unstamped"

// Parts splits v into the core X.Y.Z, the pre-release and the build
// metadata, the three strings the Packer plugin SDK wants.
func Parts(v string) (core, prerelease, metadata string) {
	v, metadata, _ = strings.Cut(v, "+")
	core, prerelease, _ = strings.Cut(v, "-")
	return core, prerelease, metadata
}
