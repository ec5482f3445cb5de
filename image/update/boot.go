package update

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf16"

	"golang.org/x/sys/unix"

	"github.com/supernode-appliance/appliance/image/disk"
)

// What systemd-boot tells the running system (the Boot Loader Interface,
// https://systemd.io/BOOT_LOADER_INTERFACE/): EFI variables of its vendor
// GUID under efivarfs.
const (
	EFIVars    = "/sys/firmware/efi/efivars"
	loaderGUID = "4a67b082-0a4c-41cf-b6c7-440b29bb8c4f"
	// LoaderDevicePartUUID: the partition UUID of the ESP the loader ran
	// from. This is how the ESP is found: by label or type, a second disk
	// holding the same image (an install stick) would be as good a match.
	varESP = "LoaderDevicePartUUID"
	// LoaderBootCountPath: set only when the booted entry carries a boot
	// counter (the path of its file on the ESP, before the loader renamed
	// it): this boot is a new version on trial.
	varCountPath = "LoaderBootCountPath"
)

// LoaderVar reads a systemd-boot string variable: 4 attribute bytes, then
// UTF-16LE with a trailing NUL. A missing variable is os.ErrNotExist.
func LoaderVar(efivars, name string) (string, error) {
	b, err := os.ReadFile(filepath.Join(efivars, name+"-"+loaderGUID))
	if err != nil {
		return "", err
	}
	if len(b) < 4 || len(b)%2 != 0 || len(b) > 4+2*4096 {
		return "", fmt.Errorf("EFI variable %s has %d bytes, not a UTF-16 string", name, len(b))
	}
	u := make([]uint16, 0, (len(b)-4)/2)
	for i := 4; i+1 < len(b); i += 2 {
		c := uint16(b[i]) | uint16(b[i+1])<<8
		if c == 0 {
			break
		}
		u = append(u, c)
	}
	return string(utf16.Decode(u)), nil
}

var partUUIDRe = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)

// LoaderESP is the device of the ESP the running system was booted from.
func LoaderESP(efivars string) (string, error) {
	v, err := LoaderVar(efivars, varESP)
	if errors.Is(err, os.ErrNotExist) {
		return "", fmt.Errorf("the boot loader did not say which ESP it ran from (no %s EFI variable): this system was not booted through systemd-boot", varESP)
	}
	if err != nil {
		return "", err
	}
	v = strings.ToLower(strings.TrimSpace(v))
	if !partUUIDRe.MatchString(v) {
		return "", fmt.Errorf("EFI variable %s holds %q, not a partition UUID", varESP, v)
	}
	return "/dev/disk/by-partuuid/" + v, nil
}

// MountESP mounts the ESP the loader ran from on dir: no devices, no
// set-uid, nothing executable, root's files only. Callers run in their own
// mount namespace (the units say PrivateMounts=yes), so the rest of the
// system never sees the boot partition mounted.
func MountESP(efivars, dir string) error {
	dev, err := LoaderESP(efivars)
	if err != nil {
		return err
	}
	if err := unix.Mount(dev, dir, "vfat", unix.MS_NOSUID|unix.MS_NODEV|unix.MS_NOEXEC|unix.MS_NOATIME, "umask=0077,shortname=mixed"); err != nil {
		return fmt.Errorf("mount the ESP %s on %s: %w", dev, dir, err)
	}
	return nil
}

// UKI is one of this appliance's kernels on the ESP, with systemd-boot's
// boot counter when it has one (supernode_V_uki+LEFT[-DONE].efi).
type UKI struct {
	Name    string
	Version string
	Counted bool // a counter is present: not yet blessed
	Left    int
	Done    int
}

// Bad reports whether systemd-boot has given up on it: a counter with no
// tries left. It sorts below every good entry and boots only if nothing
// else can.
func (u UKI) Bad() bool { return u.Counted && u.Left == 0 }

var countedUKIRe = regexp.MustCompile(`^` + Prefix + versionRe + `_uki(?:\+(\d+)(?:-(\d+))?)?\.efi$`)

// ParseUKIName parses a UKI file name; ok is false for other files.
func ParseUKIName(name string) (UKI, bool) {
	m := countedUKIRe.FindStringSubmatch(name)
	if m == nil {
		return UKI{}, false
	}
	u := UKI{Name: name, Version: m[1]}
	if m[2] != "" {
		u.Counted = true
		u.Left, _ = strconv.Atoi(m[2])
		if m[3] != "" {
			u.Done, _ = strconv.Atoi(m[3])
		}
	}
	return u, true
}

// UKIs lists the appliance's kernels in esp/EFI/Linux.
func UKIs(esp string) ([]UKI, error) {
	entries, err := os.ReadDir(filepath.Join(esp, "EFI", "Linux"))
	if err != nil {
		return nil, err
	}
	var out []UKI
	for _, e := range entries {
		if u, ok := ParseUKIName(e.Name()); ok {
			out = append(out, u)
		}
	}
	return out, nil
}

// OnTrial reports whether this boot is a new version on trial: the loader
// booted a counted entry and its file still carries the counter
// (systemd-bless-boot renames it once the health gate passed). It returns
// the file's name on the ESP.
func OnTrial(efivars, esp string) (bool, string, error) {
	p, err := LoaderVar(efivars, varCountPath)
	if errors.Is(err, os.ErrNotExist) {
		return false, "", nil
	}
	if err != nil {
		return false, "", err
	}
	rel := strings.TrimLeft(strings.ReplaceAll(p, `\`, "/"), "/")
	if rel == "" || strings.Contains(rel, "..") {
		return false, "", fmt.Errorf("EFI variable %s holds %q, not a path on the ESP", varCountPath, p)
	}
	if esp == "" {
		return true, rel, nil
	}
	// vfat is case-insensitive; the loader may report another case.
	dir, name := filepath.Split(rel)
	entries, err := os.ReadDir(filepath.Join(esp, dir))
	if err != nil {
		return false, "", err
	}
	for _, e := range entries {
		if strings.EqualFold(e.Name(), name) {
			return true, rel, nil
		}
	}
	return false, rel, nil
}

// OnBootDisk reports whether the partition with kernel name part (vda7)
// lies on the disk the loader booted from: the disk whose GPT holds the
// ESP named by LoaderDevicePartUUID. With the install stick still in, two
// disks carry partitions labelled var and appliance-config; the udev rule
// 61-appliance-boot-disk.rules links only the boot disk's into
// /dev/disk/by-boot-disk, which is what /etc/fstab mounts. Without the
// variable (not booted through systemd-boot) every disk counts.
func OnBootDisk(efivars, sysBlock, devDir, part string) (bool, error) {
	if strings.ContainsAny(part, "/") || part == "" || part == "." || part == ".." {
		return false, fmt.Errorf("%q is not a kernel device name", part)
	}
	v, err := LoaderVar(efivars, varESP)
	if errors.Is(err, os.ErrNotExist) {
		return true, nil
	}
	if err != nil {
		return false, err
	}
	esp := strings.ToLower(strings.TrimSpace(v))
	link, err := os.Readlink(filepath.Join(sysBlock, part))
	if err != nil {
		return false, err
	}
	// .../block/vda/vda7: the parent directory is the disk.
	diskName := filepath.Base(filepath.Dir(link))
	f, err := os.Open(filepath.Join(devDir, diskName))
	if err != nil {
		return false, err
	}
	defer f.Close()
	parts, err := disk.ReadGPT(f)
	if err != nil {
		return false, nil // no GPT: not the appliance's disk
	}
	for _, p := range parts {
		if p.UUID == esp {
			return true, nil
		}
	}
	return false, nil
}
