package filter

import (
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/sys/unix"
)

// pinDir returns a fresh directory on the bpf file system, removed at
// cleanup.
func pinDir(t *testing.T) string {
	t.Helper()
	var st unix.Statfs_t
	if err := unix.Statfs("/sys/fs/bpf", &st); err != nil || st.Type != unix.BPF_FS_MAGIC {
		t.Skip("needs the bpf file system on /sys/fs/bpf (mount -t bpf bpf /sys/fs/bpf)")
	}
	dir, err := os.MkdirTemp("/sys/fs/bpf", "filter-test-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	return filepath.Clean(dir)
}
