package filter

import (
	"testing"

	"github.com/supernode-appliance/appliance/tests/testenv"
	"golang.org/x/sys/unix"
)

// pinDir returns a directory on a bpf file system of the test's own: a
// fresh bpffs instance mounted on a temporary directory, unmounted (which
// drops every pin in it) at cleanup. It does not depend on /sys/fs/bpf.
func pinDir(t *testing.T) string {
	t.Helper()
	testenv.RequireRoot(t)
	dir := t.TempDir()
	if err := unix.Mount("bpf", dir, "bpf", 0, "mode=0700"); err != nil {
		t.Fatalf("mount a bpf file system on %s: %v", dir, err)
	}
	t.Cleanup(func() {
		if err := unix.Unmount(dir, unix.MNT_DETACH); err != nil {
			t.Errorf("unmount %s: %v", dir, err)
		}
	})
	return dir
}
