package daemon

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// LockedError says that another process holds the lock on Path; PID is 0
// when it cannot be found out (e.g. /proc/locks hidden by ProcSubset=pid).
type LockedError struct {
	Path string
	PID  int
}

func (e *LockedError) Error() string {
	if e.PID > 0 {
		return fmt.Sprintf("%s is locked by process %d", e.Path, e.PID)
	}
	return fmt.Sprintf("%s is locked by another process", e.Path)
}

// Lock takes an exclusive flock(2) on path without waiting, so that one
// instance of a daemon at a time owns what path stands for. A regular file
// is created if needed and gets the holder's PID written into it; an
// existing directory (e.g. a bpffs pin directory, where no regular file can
// be created) is locked as it is. The kernel drops the lock when the
// process dies, however it dies, so a crash never leaves a stale lock.
// release unlocks (the file stays: deleting it would let two processes lock
// two different inodes of one path). A lock held elsewhere is a
// *LockedError naming the path and, if known, the holder's PID.
func Lock(path string) (release func(), err error) {
	var f *os.File
	isDir := false
	if fi, err := os.Stat(path); err == nil && fi.IsDir() {
		isDir = true
		f, err = os.Open(path)
		if err != nil {
			return nil, fmt.Errorf("cannot open %s to lock it: %v", path, errors.Unwrap(err))
		}
	} else {
		f, err = os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
		if err != nil {
			return nil, fmt.Errorf("cannot create the lock file %s: %v", path, errors.Unwrap(err))
		}
	}
	if err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB); err != nil {
		defer f.Close()
		if errors.Is(err, unix.EWOULDBLOCK) {
			return nil, &LockedError{Path: path, PID: lockHolder(f, isDir)}
		}
		return nil, fmt.Errorf("cannot lock %s: %v", path, err)
	}
	if !isDir {
		// Best effort: the PID only improves the message of the next
		// process that finds the lock taken.
		f.Truncate(0)
		f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	}
	return func() {
		unix.Flock(int(f.Fd()), unix.LOCK_UN)
		f.Close()
	}, nil
}

// lockHolder finds the PID holding the flock on f's inode: from the
// kernel's table of locks (/proc/locks: "N: FLOCK ADVISORY WRITE <pid>
// <major>:<minor>:<inode> ...", major and minor in hex), else, where that
// is hidden (ProcSubset=pid), the PID the holder wrote into a lock file.
func lockHolder(f *os.File, isDir bool) int {
	if pid := procLocksHolder(f); pid > 0 {
		return pid
	}
	if !isDir {
		b := make([]byte, 16)
		n, _ := f.ReadAt(b, 0)
		if pid, err := strconv.Atoi(strings.TrimSpace(string(b[:n]))); err == nil && pid > 0 {
			return pid
		}
	}
	return 0
}

func procLocksHolder(f *os.File) int {
	var st unix.Stat_t
	if err := unix.Fstat(int(f.Fd()), &st); err != nil {
		return 0
	}
	id := fmt.Sprintf("%02x:%02x:%d", unix.Major(st.Dev), unix.Minor(st.Dev), st.Ino)
	locks, err := os.Open("/proc/locks")
	if err != nil {
		return 0
	}
	defer locks.Close()
	sc := bufio.NewScanner(locks)
	for sc.Scan() {
		fs := strings.Fields(sc.Text())
		// Waiters are marked "->" and shift the fields; they hold nothing.
		if len(fs) >= 6 && fs[1] == "FLOCK" && fs[5] == id {
			if pid, err := strconv.Atoi(fs[4]); err == nil {
				return pid
			}
		}
	}
	return 0
}
