package daemon

import (
	"fmt"
	"os"
	"strings"

	"github.com/coreos/go-systemd/v22/activation"
	"golang.org/x/sys/unix"
)

// The fd store (systemd.service(5) FileDescriptorStoreMax=, sd_notify(3)
// FDSTORE=1) keeps a service's sockets open in the service manager while
// the process restarts: the kernel goes on queueing datagrams in them, and
// the next process gets them back in LISTEN_FDS. A restart or an upgrade
// then loses no request.

// Inherited returns the descriptors the service manager passed under name
// (LISTEN_FDNAMES) and closes the others; nil outside systemd. It clears
// the LISTEN_* variables so children do not see them.
func Inherited(name string) []*os.File {
	var out []*os.File
	for _, f := range activation.Files(true) {
		if f.Name() == name {
			out = append(out, f)
		} else {
			f.Close()
		}
	}
	return out
}

// StoreFiles puts files into the fd store under name, replacing what was
// stored under that name (identical sockets are the same entry to systemd,
// so nothing is open twice). Outside systemd it does nothing. The caller
// still closes its own files.
func StoreFiles(name string, files []*os.File) error {
	if os.Getenv("NOTIFY_SOCKET") == "" || len(files) == 0 {
		return nil
	}
	if err := notifyFDs("FDSTOREREMOVE=1\nFDNAME="+name, nil); err != nil {
		return err
	}
	fds := make([]int, len(files))
	for i, f := range files {
		fds[i] = int(f.Fd())
	}
	return notifyFDs("FDSTORE=1\nFDNAME="+name, fds)
}

// notifyFDs sends one sd_notify message with descriptors attached
// (SCM_RIGHTS), which go-systemd's SdNotify cannot.
func notifyFDs(state string, fds []int) error {
	fd, err := unix.Socket(unix.AF_UNIX, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	var oob []byte
	if len(fds) > 0 {
		oob = unix.UnixRights(fds...)
	}
	// x/sys maps a leading '@' to the abstract namespace, as sd_notify does.
	if err := unix.Sendmsg(fd, []byte(state), oob, &unix.SockaddrUnix{Name: os.Getenv("NOTIFY_SOCKET")}, 0); err != nil {
		return fmt.Errorf("sd_notify %q to NOTIFY_SOCKET: %v", strings.SplitN(state, "\n", 2)[0], err)
	}
	return nil
}
