package hardening

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
)

// WriteReportFile writes one report to path the way each kind of path
// needs it:
//
//   - "-" is stdout;
//   - a regular file (or a new one) is replaced atomically: a temporary file
//     in the same directory, synced, then renamed over it, so a reader (the
//     node_exporter textfile collector, a CI uploader) never sees half a
//     report; a symlink to a regular file keeps pointing there;
//   - anything else that exists (a character device such as /dev/stdout or
//     /dev/null, a pipe, a socket) is opened and written in place: renaming
//     over it would replace the device node or the /dev/stdout symlink.
func WriteReportFile(path string, stdout io.Writer, write func(io.Writer) error) error {
	if path == "-" {
		return write(stdout)
	}
	info, err := os.Stat(path) // follows symlinks: /dev/stdout -> /proc/self/fd/1 -> a pipe
	switch {
	case err == nil && !info.Mode().IsRegular():
		return writeInPlace(path, write)
	case err == nil:
		if target, err := filepath.EvalSymlinks(path); err == nil {
			path = target
		}
		return writeAtomic(path, info.Mode().Perm(), write)
	case errors.Is(err, fs.ErrNotExist):
		return writeAtomic(path, 0o644, write)
	default:
		return fmt.Errorf("cannot write the report to %s: %v", path, unwrapPath(err))
	}
}

func writeInPlace(path string, write func(io.Writer) error) error {
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		return fmt.Errorf("cannot write the report to %s: %v", path, unwrapPath(err))
	}
	if err := write(f); err != nil {
		f.Close()
		return fmt.Errorf("writing the report to %s: %v", path, unwrapPath(err))
	}
	return f.Close()
}

func writeAtomic(path string, mode fs.FileMode, write func(io.Writer) error) error {
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	f, err := os.CreateTemp(dir, "."+base+".tmp-*")
	if err != nil {
		return fmt.Errorf("cannot write the report to %s: %v", path, unwrapPath(err))
	}
	tmp := f.Name()
	err = write(f)
	if err == nil {
		err = f.Chmod(mode)
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("writing the report to %s: %v", path, unwrapPath(err))
	}
	return nil
}

// unwrapPath drops the *PathError's own "op path:" prefix: the message
// names the path once.
func unwrapPath(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	var le *os.LinkError
	if errors.As(err, &le) {
		return le.Err
	}
	return err
}
