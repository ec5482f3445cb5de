package confpart

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
)

// Files is what a configuration partition holds, as read by Pick.
type Files struct {
	Name string // the file read: ConfFile, or NewFile after an interrupted write
	Conf []byte // nil when there is no configuration file
	Sig  []byte // nil when unsigned
}

// Reader reads one file of the partition; a missing file is fs.ErrNotExist.
type Reader interface {
	ReadFile(name string, max int) ([]byte, error)
}

// Pick reads the configuration the way `appliance configure` writes it:
//
//  1. write appliance.new.sig, then appliance.new   (old appliance.conf stays)
//  2. delete appliance.conf                          (appliance.new + .new.sig)
//  3. delete appliance.conf.sig
//  4. rename appliance.new.sig -> appliance.conf.sig  (appliance.new + .conf.sig)
//  5. rename appliance.new -> appliance.conf          (done)
//
// appliance.conf wins; without it appliance.new is the configuration (a
// write stopped after step 1), signed by appliance.new.sig or, after step
// 4, appliance.conf.sig. So every point of an interrupted write reads a
// complete configuration and its own signature: the old pair or the new.
func Pick(r Reader, maxFile int) (Files, error) {
	if maxFile == 0 {
		maxFile = DefaultMaxFile
	}
	f := Files{Name: ConfFile}
	conf, err := r.ReadFile(ConfFile, maxFile)
	sigs := []string{SigFile}
	if errors.Is(err, fs.ErrNotExist) {
		f.Name = NewFile
		conf, err = r.ReadFile(NewFile, maxFile)
		sigs = []string{NewSig, SigFile}
	}
	if errors.Is(err, fs.ErrNotExist) {
		return Files{}, nil
	}
	if err != nil {
		return f, err
	}
	f.Conf = conf
	if conf == nil {
		f.Conf = []byte{}
	}
	for _, s := range sigs {
		sig, err := r.ReadFile(s, MaxSig)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return f, err
		}
		f.Sig = sig
		if sig == nil {
			f.Sig = []byte{}
		}
		break
	}
	return f, nil
}

// Dir reads the files of a mounted partition: regular files only, never
// through a symbolic link, at most max bytes (one more is an error).
type Dir string

func (d Dir) ReadFile(name string, max int) ([]byte, error) {
	p := filepath.Join(string(d), name)
	fd, err := os.OpenFile(p, os.O_RDONLY|syscall.O_NOFOLLOW|syscall.O_NONBLOCK, 0)
	if errors.Is(err, syscall.ELOOP) {
		return nil, fmt.Errorf("%s is a symbolic link; it must be a plain file", name)
	}
	if err != nil {
		return nil, err
	}
	defer fd.Close()
	st, err := fd.Stat()
	if err != nil {
		return nil, err
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("%s is not a plain file", name)
	}
	b, err := io.ReadAll(io.LimitReader(fd, int64(max)+1))
	if err != nil {
		return nil, fmt.Errorf("cannot read %s: %v", name, err)
	}
	if len(b) > max {
		return nil, fmt.Errorf("%s is larger than the limit of %d bytes", name, max)
	}
	return b, nil
}
