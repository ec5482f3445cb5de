package update

import (
	"errors"
	"fmt"
	"os"
	"strings"

	"golang.org/x/sys/unix"
)

// MediaLabel is the file-system label of an update stick: the udev rule
// (90-appliance-update.rules) starts appliance-update-media.service when a
// block device with it appears.
const MediaLabel = "SN-UPDATE"

// MountMedia mounts the update stick dev on dir read-only: no devices, no
// set-uid, nothing executable. FAT (what every operator's machine writes)
// or ext4. Nothing on it is trusted: Stage checks the signature and copies
// what it verified.
func MountMedia(dev, dir string) error {
	fi, err := os.Stat(dev)
	if err != nil {
		return fmt.Errorf("update medium %s: %v", dev, err)
	}
	if fi.Mode()&os.ModeDevice == 0 {
		return fmt.Errorf("update medium %s is not a block device (give a directory without -media)", dev)
	}
	flags := uintptr(unix.MS_RDONLY | unix.MS_NOSUID | unix.MS_NODEV | unix.MS_NOEXEC | unix.MS_NOATIME)
	var errs []string
	for _, fs := range []struct{ typ, opts string }{
		{"vfat", "umask=0077,shortname=mixed"},
		{"ext4", ""},
	} {
		err := unix.Mount(dev, dir, fs.typ, flags, fs.opts)
		if err == nil {
			return nil
		}
		errs = append(errs, fs.typ+": "+err.Error())
		if !errors.Is(err, unix.EINVAL) && !errors.Is(err, unix.ENODEV) {
			break
		}
	}
	return fmt.Errorf("update medium %s holds no FAT or ext4 file system this appliance can read (%s); write the bundle to a FAT stick labelled %s", dev, strings.Join(errs, "; "), MediaLabel)
}
