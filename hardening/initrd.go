package hardening

import (
	"bytes"
	"errors"
	"fmt"
	"path"
	"strconv"
	"strings"
)

// The initrd runs before the root is verified, so it must offer nothing
// to whoever can add to the kernel command line: no shell (rd.break,
// rd.shell, init=/bin/sh), no sulogin (SYSTEMD_SULOGIN_FORCE=1 makes it
// skip the locked root password), no emergency, rescue or debug shell
// unit, no dracut hooks (shell scripts) and no systemd-debug-generator
// (rd.systemd.debug_shell, rd.systemd.wants=, rd.systemd.mask= and the
// systemd.extra-unit.* / systemd.unit-dropin.* credentials). What is
// left is a systemd-only initrd: udev, the veritysetup generator, the
// fstab generator's sysroot.mount, switch-root. If it fails, it hangs.

// InitrdForbidden says why the initrd entry name must not be in the
// initrd, or "" if it may. Names are as in the archive ("usr/bin/sh").
func InitrdForbidden(name string) string {
	name = strings.TrimPrefix(path.Clean("/"+name), "/")
	base := path.Base(name)
	dir := path.Dir(name)
	switch {
	case isBinDir(dir) && (base == "sh" || base == "dash" || base == "bash" || base == "busybox" || base == "mksh" || base == "ksh" || base == "zsh" || base == "ash"):
		return "shell"
	case base == "sulogin" || base == "systemd-sulogin-shell":
		return "sulogin"
	case isUnitDir(dir) && (base == "emergency.service" || base == "rescue.service" || base == "debug-shell.service" || strings.HasPrefix(base, "dracut-")):
		return "shell unit"
	case strings.HasSuffix(dir, "system-generators") && (base == "systemd-debug-generator" || strings.HasPrefix(base, "dracut-")):
		return "debug or shell generator"
	case strings.HasPrefix(base, "dracut-") && (isBinDir(dir) || strings.HasSuffix(base, ".sh")):
		return "dracut shell script"
	case name == "var/lib/dracut/hooks" || strings.HasPrefix(name, "var/lib/dracut/hooks/"):
		return "dracut hook"
	}
	return ""
}

func isBinDir(dir string) bool {
	switch dir {
	case "bin", "sbin", "usr/bin", "usr/sbin", "usr/local/bin", "usr/local/sbin":
		return true
	}
	return false
}

// isUnitDir: a unit directory or one of its .wants/.requires/.d subdirectories.
func isUnitDir(dir string) bool {
	return strings.HasSuffix(dir, "systemd/system") || strings.Contains(dir, "systemd/system/")
}

// cpioEntry is one member of a "newc" (070701) cpio archive, the format
// the kernel unpacks as initramfs (Documentation/driver-api/early-userspace/buffer-format.rst).
type cpioEntry struct {
	Name  string
	Ino   uint32
	Mode  uint32
	Nlink uint32
	raw   []byte // the whole entry: header, name, data, padding
}

const cpioTrailer = "TRAILER!!!"

// readCpio splits a newc archive into its entries (the trailer excluded).
// Anything after the trailer except zero padding is an error: a second,
// concatenated archive would escape the filter.
func readCpio(b []byte) ([]cpioEntry, error) {
	var out []cpioEntry
	i := 0
	for {
		if i+110 > len(b) {
			return nil, errors.New("initrd: cpio archive ends without a trailer")
		}
		h := b[i : i+110]
		if string(h[:6]) != "070701" {
			return nil, fmt.Errorf("initrd: no newc cpio header at offset %d", i)
		}
		field := func(n int) uint32 {
			v, _ := strconv.ParseUint(string(h[6+8*n:14+8*n]), 16, 32)
			return uint32(v)
		}
		ino, mode, nlink, size, namesize := field(0), field(1), field(4), int(field(6)), int(field(11))
		if namesize < 1 || i+110+namesize > len(b) {
			return nil, fmt.Errorf("initrd: bad name size at offset %d", i)
		}
		name := string(b[i+110 : i+110+namesize-1])
		data := (i + 110 + namesize + 3) &^ 3
		end := (data + size + 3) &^ 3
		if data+size > len(b) {
			return nil, fmt.Errorf("initrd: %s runs past the end of the archive", name)
		}
		if end > len(b) {
			end = len(b)
		}
		if name == cpioTrailer {
			if len(bytes.Trim(b[end:], "\x00")) != 0 {
				return nil, errors.New("initrd: data after the cpio trailer (a second archive?)")
			}
			return out, nil
		}
		out = append(out, cpioEntry{Name: name, Ino: ino, Mode: mode, Nlink: nlink, raw: b[i:end]})
		i = end
	}
}

// writeCpio joins entries and a trailer into a newc archive.
func writeCpio(entries []cpioEntry) []byte {
	var buf bytes.Buffer
	for _, e := range entries {
		buf.Write(e.raw)
	}
	name := cpioTrailer + "\x00"
	fmt.Fprintf(&buf, "070701%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X", 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, len(name), 0)
	buf.WriteString(name)
	for buf.Len()%4 != 0 {
		buf.WriteByte(0)
	}
	for buf.Len()%512 != 0 {
		buf.WriteByte(0)
	}
	return buf.Bytes()
}

// FilterInitrd removes every forbidden entry from an uncompressed newc
// archive and returns the new archive and what was removed. Hard links
// share one copy of the data (on one of the names), so a hard-linked
// file goes only with all its names (dracut links emergency.service and
// rescue.service); otherwise the build stops.
func FilterInitrd(archive []byte) ([]byte, []string, error) {
	entries, err := readCpio(archive)
	if err != nil {
		return nil, nil, err
	}
	linked := map[uint32][]string{} // inode -> kept names, for hard-linked regular files
	var kept []cpioEntry
	var removed []string
	for _, e := range entries {
		hard := e.Nlink > 1 && e.Mode&0o170000 == 0o100000
		if why := InitrdForbidden(e.Name); why != "" {
			removed = append(removed, e.Name)
			if hard {
				linked[e.Ino] = append(linked[e.Ino], "")
			}
			continue
		}
		if hard {
			linked[e.Ino] = append(linked[e.Ino], e.Name)
		}
		kept = append(kept, e)
	}
	for _, names := range linked {
		var k []string
		for _, n := range names {
			if n != "" {
				k = append(k, n)
			}
		}
		if len(k) > 0 && len(k) < len(names) {
			return nil, nil, fmt.Errorf("initrd: %s is hard-linked to a forbidden file; cannot remove one name alone", strings.Join(k, ", "))
		}
	}
	return writeCpio(kept), removed, nil
}

// CheckInitrd lists every forbidden entry of an uncompressed newc archive
// ("usr/bin/sh (shell)"); empty means the initrd offers no shell.
func CheckInitrd(archive []byte) ([]string, error) {
	entries, err := readCpio(archive)
	if err != nil {
		return nil, err
	}
	var bad []string
	for _, e := range entries {
		if why := InitrdForbidden(e.Name); why != "" {
			bad = append(bad, e.Name+" ("+why+")")
		}
	}
	return bad, nil
}
