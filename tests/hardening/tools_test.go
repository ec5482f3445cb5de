package hardening_test

import (
	"context"
	"testing"

	"github.com/supernode-appliance/appliance/image/builder"
	"github.com/supernode-appliance/appliance/image/tools"
)

// toolsTree returns the trixie tools tree the image builder uses (built
// and cached on first use), for systemd-analyze 257.
func toolsTree(t *testing.T) string {
	t.Helper()
	mirror, err := tools.HostMirror("/etc/apt")
	if err != nil {
		t.Fatal(err)
	}
	tree, err := tools.Tree(context.Background(), builder.DefaultCacheDir, mirror)
	if err != nil {
		t.Fatal(err)
	}
	return tree
}

// toolsRun runs a command inside the tools tree with binds visible at the
// same paths; systemd-analyze exits non-zero for scores above its default
// threshold, so the output is returned either way.
func toolsRun(t *testing.T, tree string, binds []string, argv ...string) (string, error) {
	t.Helper()
	cmd := tools.Command(context.Background(), tree, binds, argv...)
	out, err := cmd.CombinedOutput()
	return string(out), err
}
