package builder

import (
	"os"
	"strconv"

	"golang.org/x/sys/unix"
)

// CloseInheritedFDs marks every file descriptor >= 3 close-on-exec, so the
// tools the build runs inherit only stdin, stdout and stderr. Packer starts
// its plugins with descriptors 3-5 open; mmdebstrap's hooks then redirect to
// fixed descriptors in dash (`cat >&11`, single digits only) and fail with
// "Bad fd number" when one of those is taken. Both front doors (the plugin
// and the appliance CLI) call it first thing in main; the process itself
// keeps using the descriptors.
func CloseInheritedFDs() error {
	// Linux 5.11+: one system call.
	if err := unix.CloseRange(3, ^uint(0), unix.CLOSE_RANGE_CLOEXEC); err == nil {
		return nil
	}
	entries, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		return err
	}
	for _, e := range entries {
		if fd, err := strconv.Atoi(e.Name()); err == nil && fd >= 3 {
			unix.CloseOnExec(fd) // the directory's own descriptor may be gone by now
		}
	}
	return nil
}
