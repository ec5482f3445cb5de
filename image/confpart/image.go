package confpart

import (
	"bytes"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/supernode-appliance/appliance/image/disk"
)

// Area is the configuration partition of a raw image file or block device,
// read and written with mtools at its byte offset (no loop device, no
// mount, so it works on an image file as any user who may write it).
type Area struct {
	Path   string
	Number int
	Offset int64
	Size   int64
}

// Locate finds the partition labelled PartLabel in the GPT of path.
func Locate(path string) (*Area, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	parts, err := disk.ReadGPT(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %v", path, err)
	}
	p, ok := disk.Find(parts, PartLabel)
	if !ok {
		return nil, fmt.Errorf("%s has no %q partition; it was built before the configuration partition existed (rebuild it) or is not an appliance image", path, PartLabel)
	}
	if p.Type != TypeBasicData {
		return nil, fmt.Errorf("%s: partition %d is labelled %q but has type %s, not %s (basic data); refusing to write it", path, p.Number, PartLabel, p.Type, TypeBasicData)
	}
	return &Area{Path: path, Number: p.Number, Offset: p.Start, Size: p.Size}, nil
}

// RequireMtools says how to get mtools when it is missing.
func RequireMtools() error {
	for _, t := range []string{"mtype", "mcopy", "mdel", "mren", "mdir"} {
		if _, err := exec.LookPath(t); err != nil {
			return fmt.Errorf("%s not found: install mtools (Debian/Ubuntu: apt-get install mtools; macOS: brew install mtools)", t)
		}
	}
	return nil
}

func (a *Area) image() string { return fmt.Sprintf("%s@@%d", a.Path, a.Offset) }

func (a *Area) mtools(stdin []byte, args ...string) ([]byte, error) {
	cmd := exec.Command(args[0], append([]string{"-i", a.image()}, args[1:]...)...)
	// No ~/.mtoolsrc or /etc/mtools.conf drive letters matter with -i;
	// skip the geometry check a small partition fails in old mtools.
	cmd.Env = append(os.Environ(), "MTOOLS_SKIP_CHECK=1")
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if stdin != nil {
		cmd.Stdin = bytes.NewReader(stdin)
	}
	if err := cmd.Run(); err != nil {
		return out.Bytes(), fmt.Errorf("%s: %v: %s", strings.Join(args, " "), err, strings.TrimSpace(errb.String()))
	}
	return out.Bytes(), nil
}

// names lists the files in the partition's root directory.
func (a *Area) names() (map[string]bool, error) {
	out, err := a.mtools(nil, "mdir", "-b", "::/")
	if err != nil && len(out) == 0 && !strings.Contains(err.Error(), "No files") {
		return nil, err
	}
	m := map[string]bool{}
	for _, l := range strings.Split(string(out), "\n") {
		l = strings.TrimSpace(l)
		if l != "" {
			m[strings.ToLower(strings.TrimPrefix(l, "::/"))] = true
		}
	}
	return m, nil
}

// ReadFile reads one file of the partition (Reader, for Pick).
func (a *Area) ReadFile(name string, max int) ([]byte, error) {
	have, err := a.names()
	if err != nil {
		return nil, err
	}
	if !have[name] {
		return nil, fs.ErrNotExist
	}
	b, err := a.mtools(nil, "mtype", "::/"+name)
	if err != nil {
		return nil, err
	}
	if len(b) > max {
		return nil, fmt.Errorf("%s is larger than the limit of %d bytes", name, max)
	}
	return b, nil
}

// sync flushes what mtools wrote to the image or device before the next
// step depends on it.
func (a *Area) sync() error {
	f, err := os.OpenFile(a.Path, os.O_RDWR, 0)
	if err != nil {
		return err
	}
	defer f.Close()
	return f.Sync()
}

// Write replaces the configuration (and its signature; nil writes none,
// removing an old one) in the order Pick reads, so an interruption at any
// point leaves a complete configuration with its own signature.
func (a *Area) Write(conf, sig []byte) error {
	tmp, err := os.MkdirTemp("", "appliance-configure-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	have, err := a.names()
	if err != nil {
		return err
	}
	step := func(args ...string) error {
		if _, err := a.mtools(nil, args...); err != nil {
			return err
		}
		return a.sync()
	}
	put := func(name string, b []byte) error {
		p := filepath.Join(tmp, name)
		if err := os.WriteFile(p, b, 0o600); err != nil {
			return err
		}
		return step("mcopy", "-o", p, "::/"+name)
	}
	// A write interrupted earlier may have left appliance.new while
	// appliance.conf is still there (Pick ignores it then): start afresh.
	if have[ConfFile] {
		for _, n := range []string{NewFile, NewSig} {
			if have[n] {
				if err := step("mdel", "::/"+n); err != nil {
					return err
				}
			}
		}
	} else if have[NewFile] {
		// appliance.new is the configuration in force (Pick): finish the
		// swap that was interrupted first, then write as usual.
		if have[NewSig] {
			if have[SigFile] {
				if err := step("mdel", "::/"+SigFile); err != nil {
					return err
				}
			}
			if err := step("mren", "::/"+NewSig, "::/"+SigFile); err != nil {
				return err
			}
		}
		if err := step("mren", "::/"+NewFile, "::/"+ConfFile); err != nil {
			return err
		}
		if have, err = a.names(); err != nil {
			return err
		}
	}
	if sig != nil {
		if err := put(NewSig, sig); err != nil {
			return err
		}
	}
	if err := put(NewFile, conf); err != nil {
		return err
	}
	if have[ConfFile] {
		if err := step("mdel", "::/"+ConfFile); err != nil {
			return err
		}
	}
	if have[SigFile] {
		if err := step("mdel", "::/"+SigFile); err != nil {
			return err
		}
	}
	if sig != nil {
		if err := step("mren", "::/"+NewSig, "::/"+SigFile); err != nil {
			return err
		}
	}
	return step("mren", "::/"+NewFile, "::/"+ConfFile)
}

// CheckNotMounted refuses a block device with a mounted partition (a
// desktop mounts the stick's FAT when it is plugged in): writing under a
// mounted file system corrupts it.
func CheckNotMounted(path string) error {
	fi, err := os.Stat(path)
	if err != nil || fi.Mode()&os.ModeDevice == 0 {
		return nil
	}
	dev, err := filepath.EvalSymlinks(path)
	if err != nil {
		return nil
	}
	b, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		return nil
	}
	return mountedOn(filepath.Base(dev), string(b))
}

// mountedOn finds a mount whose source is dev or one of its partitions
// (sdb -> sdb4, nvme0n1 -> nvme0n1p4, mmcblk0 -> mmcblk0p4) in mountinfo.
func mountedOn(dev, mountinfo string) error {
	for _, l := range strings.Split(mountinfo, "\n") {
		f := strings.Fields(l)
		for i, x := range f {
			if x != "-" || i+2 >= len(f) || len(f) < 5 {
				continue
			}
			src := f[i+2]
			if r, err := filepath.EvalSymlinks(src); err == nil {
				src = r
			}
			rest, ok := strings.CutPrefix(filepath.Base(src), dev)
			if !ok || !strings.HasPrefix(src, "/dev/") {
				continue
			}
			rest = strings.TrimPrefix(rest, "p")
			if strings.Trim(rest, "0123456789") == "" {
				return fmt.Errorf("%s is mounted at %s; unmount it first (umount %s) so the write does not corrupt it", src, f[4], f[4])
			}
		}
	}
	return nil
}
