// Package install copies the appliance from the disk it booted from (a USB
// stick holding the raw image) to an empty disk, for machines that boot
// from an internal disk (issue 14, install media).
//
// What is copied: every partition of the image (ESP, both root and verity
// slots, the configuration partition) at the same offsets, never /var (the
// installed system makes its own on first boot). What changes: the disk
// GUID, and the partition UUIDs of the ESP and the configuration
// partition, so the loader's LoaderDevicePartUUID names the installed
// disk's ESP and the appliance's mounts (which follow it, see
// image/update.OnBootDisk) never pick the stick's partitions. The root and
// verity partitions keep their UUIDs: the signed command line's roothash=
// finds them by UUIDs derived from the root hash.
package install

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"github.com/supernode-appliance/appliance/image/disk"
)

// Types the installer treats specially (GPT partition type GUIDs).
const (
	typeESP        = "C12A7328-F81F-11D2-BA4B-00A0C93EC93B"
	typeVar        = "4D21B016-B534-45C2-A9FB-5C16E091FD2D"
	typeRoot       = "4F68BCE3-E8CD-4DB1-96E7-FBCAF984B709"
	typeRootVerity = "2C7357ED-EBD2-46D9-AEC1-23D437EC2BF5"
)

// Options say what to copy where.
type Options struct {
	Source string // the boot disk (whole device)
	Target string // the empty disk (whole device)
	Force  bool   // overwrite a disk that is not empty
	// Progress gets one line per partition and a final summary.
	Progress io.Writer
	// SysBlock is /sys/class/block (tests point it elsewhere).
	SysBlock string
}

// Empty reports whether dev holds nothing: its first and last MiB are
// zeros (no partition table, primary or backup, and no file system
// signature). why says what was found otherwise.
func Empty(dev string) (bool, string, error) {
	f, err := os.Open(dev)
	if err != nil {
		return false, "", err
	}
	defer f.Close()
	size, err := deviceSize(f)
	if err != nil {
		return false, "", err
	}
	buf := make([]byte, 1<<20)
	for _, off := range []int64{0, size - int64(len(buf))} {
		if off < 0 {
			off = 0
		}
		n, err := f.ReadAt(buf, off)
		if err != nil && !errors.Is(err, io.EOF) {
			return false, "", err
		}
		if !allZero(buf[:n]) {
			why := "data"
			switch {
			case off == 0 && bytes.Equal(buf[512:520], []byte("EFI PART")):
				why = "a GPT partition table"
			case off == 0 && buf[510] == 0x55 && buf[511] == 0xAA:
				why = "an MBR partition table or boot sector"
			case off != 0:
				why = "data at its end (a backup GPT?)"
			}
			return false, why, nil
		}
	}
	return true, "", nil
}

func allZero(b []byte) bool {
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}

// deviceSize is the size of a block device or a file.
func deviceSize(f *os.File) (int64, error) {
	fi, err := f.Stat()
	if err != nil {
		return 0, err
	}
	if fi.Mode().IsRegular() {
		return fi.Size(), nil
	}
	// Seeking to the end works for block devices as for files.
	n, err := f.Seek(0, io.SeekEnd)
	if err != nil {
		return 0, fmt.Errorf("size of %s: %w", f.Name(), err)
	}
	return n, nil
}

// Disks lists the whole disks in sysBlock that could take an installation:
// no partitions of a disk, no loop, RAM, zram, device-mapper, MD or
// optical devices, nothing read-only or empty-sized.
func Disks(sysBlock string) ([]string, error) {
	entries, err := os.ReadDir(sysBlock)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, e := range entries {
		n := e.Name()
		for _, p := range []string{"loop", "ram", "zram", "dm-", "md", "sr", "fd", "nbd"} {
			if strings.HasPrefix(n, p) {
				n = ""
			}
		}
		if n == "" {
			continue
		}
		if _, err := os.Stat(filepath.Join(sysBlock, n, "partition")); err == nil {
			continue
		}
		if ro, _ := os.ReadFile(filepath.Join(sysBlock, n, "ro")); strings.TrimSpace(string(ro)) == "1" {
			continue
		}
		if sz, _ := os.ReadFile(filepath.Join(sysBlock, n, "size")); strings.TrimSpace(string(sz)) == "0" {
			continue
		}
		out = append(out, "/dev/"+n)
	}
	sort.Strings(out)
	return out, nil
}

// PickTarget resolves "auto" to the one empty disk other than the boot
// disk, and checks an explicit target.
func PickTarget(o Options) (string, error) {
	if o.Target != "auto" {
		real, err := filepath.EvalSymlinks(o.Target)
		if err != nil {
			return "", fmt.Errorf("install target %s: %v", o.Target, err)
		}
		src, _ := filepath.EvalSymlinks(o.Source)
		if real == src {
			return "", fmt.Errorf("install target %s is the disk this appliance booted from; name another disk", o.Target)
		}
		return real, nil
	}
	disks, err := Disks(o.SysBlock)
	if err != nil {
		return "", err
	}
	var empty, full []string
	for _, d := range disks {
		if d == o.Source {
			continue
		}
		ok, why, err := Empty(d)
		switch {
		case err != nil:
			full = append(full, d+" (unreadable: "+err.Error()+")")
		case ok:
			empty = append(empty, d)
		default:
			full = append(full, d+" ("+why+")")
		}
	}
	switch len(empty) {
	case 1:
		return empty[0], nil
	case 0:
		return "", fmt.Errorf("no empty disk to install to (found %s); name the disk in appliance-install.target, with appliance-install.force=1 to overwrite it", listOr(full, "no other disk"))
	}
	return "", fmt.Errorf("more than one empty disk (%s); name the one to install to in appliance-install.target", strings.Join(empty, ", "))
}

func listOr(l []string, none string) string {
	if len(l) == 0 {
		return none
	}
	return strings.Join(l, ", ")
}

// Install copies the image from o.Source to the (resolved) o.Target.
func Install(ctx context.Context, o Options) error {
	if o.Progress == nil {
		o.Progress = io.Discard
	}
	src, err := os.Open(o.Source)
	if err != nil {
		return err
	}
	defer src.Close()
	parts, err := disk.ReadGPT(src)
	if err != nil {
		return fmt.Errorf("the boot disk %s: %v", o.Source, err)
	}
	var keep []disk.Partition
	var end int64
	for _, p := range parts {
		if p.Type == typeVar {
			continue // the installed system makes its own /var
		}
		keep = append(keep, p)
		end = max(end, p.Start+p.Size)
	}
	if len(disk.Slots(keep, typeRoot)) == 0 || len(disk.Slots(keep, typeESP)) == 0 {
		return fmt.Errorf("the boot disk %s holds no appliance image (no ESP and root partition)", o.Source)
	}
	if ok, why, err := Empty(o.Target); err != nil {
		return fmt.Errorf("install target %s: %v", o.Target, err)
	} else if !ok && !o.Force {
		return fmt.Errorf("install target %s is not empty (it holds %s); refused: set appliance-install.force=1 to overwrite it", o.Target, why)
	}
	dst, err := os.OpenFile(o.Target, os.O_RDWR|unix.O_EXCL, 0)
	if err != nil {
		return fmt.Errorf("install target %s: %v (is it in use?)", o.Target, err)
	}
	defer dst.Close()
	size, err := deviceSize(dst)
	if err != nil {
		return err
	}
	// The image's partitions, the backup GPT, and room for /var.
	const varMin = 64 << 20
	if need := end + varMin + (1 << 20); size < need {
		return fmt.Errorf("install target %s has %d MiB; the appliance needs at least %d MiB", o.Target, size>>20, need>>20)
	}
	// New identities where nothing depends on the old ones.
	for i := range keep {
		switch keep[i].Type {
		case typeRoot, typeRootVerity:
		default:
			if keep[i].UUID, err = randomUUID(); err != nil {
				return err
			}
		}
	}
	// Wipe the target's tables first: a half-done copy is then an empty
	// disk again, never a disk that looks installed.
	zero := make([]byte, 1<<20)
	for _, off := range []int64{0, size - int64(len(zero))} {
		if _, err := dst.WriteAt(zero, off); err != nil {
			return fmt.Errorf("install target %s: %v", o.Target, err)
		}
	}
	start := time.Now()
	var copied int64
	for _, p := range keep {
		if err := ctx.Err(); err != nil {
			return err
		}
		sum, n, err := copyRange(src, dst, p.Start, p.Size)
		if err != nil {
			return fmt.Errorf("copying partition %d (%s): %v", p.Number, p.Name, err)
		}
		copied += n
		fmt.Fprintf(o.Progress, "appliance-install: partition %d %-18s %4d MiB copied, sha256 %x... (%s)\n", p.Number, p.Name, n>>20, sum[:6], time.Since(start).Round(time.Second))
	}
	dg, err := randomUUID()
	if err != nil {
		return err
	}
	if err := dst.Sync(); err != nil {
		return err
	}
	// The table last: until it is written the target holds no partitions.
	if err := disk.WriteGPT(dst, size, dg, keep); err != nil {
		return err
	}
	if err := dst.Sync(); err != nil {
		return err
	}
	// Verify what landed: the table reads back, and every partition's
	// bytes equal the source's.
	back, err := disk.ReadGPT(dst)
	if err != nil || len(back) != len(keep) {
		return fmt.Errorf("the written partition table does not read back (%v)", err)
	}
	for _, p := range keep {
		a, _, err := hashRange(src, p.Start, p.Size)
		if err != nil {
			return err
		}
		b, _, err := hashRange(dst, p.Start, p.Size)
		if err != nil {
			return err
		}
		if a != b {
			return fmt.Errorf("partition %d (%s) differs on %s after the copy; the disk is faulty", p.Number, p.Name, o.Target)
		}
	}
	unix.IoctlSetInt(int(dst.Fd()), unix.BLKRRPART, 0)
	fmt.Fprintf(o.Progress, "appliance-install: installed to %s: %d partitions, %d MiB in %s, verified; disk GUID %s\n", o.Target, len(keep), copied>>20, time.Since(start).Round(time.Second), dg)
	return nil
}

// copyRange copies n bytes at off from src to dst and returns their sha256.
func copyRange(src io.ReaderAt, dst io.WriterAt, off, n int64) ([32]byte, int64, error) {
	h := sha256.New()
	w := io.NewOffsetWriter(dst, off)
	c, err := io.Copy(io.MultiWriter(w, h), io.NewSectionReader(src, off, n))
	var sum [32]byte
	copy(sum[:], h.Sum(nil))
	if err == nil && c != n {
		err = io.ErrUnexpectedEOF
	}
	return sum, c, err
}

func hashRange(r io.ReaderAt, off, n int64) ([32]byte, int64, error) {
	h := sha256.New()
	c, err := io.Copy(h, io.NewSectionReader(r, off, n))
	var sum [32]byte
	copy(sum[:], h.Sum(nil))
	return sum, c, err
}

// randomUUID is a version 4 UUID.
func randomUUID() (string, error) {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16]), nil
}

// DiskOf returns the whole disk (/dev/vda) a partition device
// (/dev/vda1) belongs to.
func DiskOf(sysBlock, partDev string) (string, error) {
	name := filepath.Base(partDev)
	link, err := os.Readlink(filepath.Join(sysBlock, name))
	if err != nil {
		return "", fmt.Errorf("%s: %v", partDev, err)
	}
	if _, err := os.Stat(filepath.Join(sysBlock, name, "partition")); err != nil {
		return "", fmt.Errorf("%s is not a partition", partDev)
	}
	return "/dev/" + filepath.Base(filepath.Dir(link)), nil
}
