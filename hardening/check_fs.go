package hardening

import (
	"bufio"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

// unitNameForPath is systemd-escape --path for the simple paths we mount.
func unitNameForPath(p string) string {
	return strings.ReplaceAll(strings.Trim(p, "/"), "/", "-") + ".mount"
}

// declaredMount finds the options a mount point gets at boot: a mount unit
// in /etc wins over fstab, fstab over a vendor unit in /usr/lib
// (systemd.unit(5) search path, the fstab generator sits in between).
func declaredMount(root, mp string) (opts, where string) {
	unit := unitNameForPath(mp)
	unitOpts := func(dir string) (string, string, bool) {
		p := dir + "/" + unit
		b, err := os.ReadFile(inRoot(root, p))
		if err != nil {
			return "", "", false
		}
		if l, _ := os.Readlink(inRoot(root, p)); l == "/dev/null" {
			return "", "", false
		}
		o := ""
		for _, line := range strings.Split(string(b), "\n") {
			if v, ok := strings.CutPrefix(strings.TrimSpace(line), "Options="); ok {
				o = v
			}
		}
		return o, p, true
	}
	if o, w, ok := unitOpts("/etc/systemd/system"); ok {
		return o, w
	}
	if b, err := os.ReadFile(inRoot(root, fstabFile)); err == nil {
		for i, line := range strings.Split(string(b), "\n") {
			f := strings.Fields(line)
			if len(f) >= 4 && !strings.HasPrefix(f[0], "#") && f[1] == mp {
				opts, where = f[3], fmt.Sprintf("%s:%d", fstabFile, i+1)
			}
		}
		if where != "" {
			return opts, where
		}
	}
	if o, w, ok := unitOpts("/usr/lib/systemd/system"); ok {
		return o, w
	}
	return "", ""
}

// liveMount returns the per-mount options of the topmost mount at mp.
func liveMount(proc, mp string) (opts, where string) {
	p := filepath.Join(proc, "self/mountinfo")
	f, err := os.Open(p)
	if err != nil {
		return "", ""
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fs := strings.Fields(sc.Text())
		if len(fs) >= 6 && fs[4] == mp {
			opts, where = fs[5], p
			// The filesystem type follows the " - " separator.
			for i, x := range fs {
				if x == "-" && i+1 < len(fs) {
					where = fmt.Sprintf("%s (%s on %s)", p, fs[i+1], mp)
				}
			}
		}
	}
	return opts, where
}

func checkMount(c *Control, t *Target) (bool, []Evidence, error) {
	var opts, where string
	if t.Live {
		opts, where = liveMount(t.Proc, c.Key)
		if where == "" {
			return false, []Evidence{{Where: filepath.Join(t.Proc, "self/mountinfo"), Found: c.Key + " is not a separate mount", Expected: c.Expect}}, nil
		}
	} else {
		opts, where = declaredMount(t.Root, c.Key)
		if where == "" {
			return false, []Evidence{{Where: "/etc/fstab, mount units", Found: c.Key + " has no mount declared", Expected: c.Expect}}, nil
		}
	}
	have := map[string]bool{}
	for _, o := range strings.Split(opts, ",") {
		have[o] = true
	}
	var missing []string
	for _, o := range strings.Split(c.Expect, ",") {
		if !have[o] {
			missing = append(missing, o)
		}
	}
	found := c.Key + " " + opts
	if len(missing) > 0 {
		found += " (missing " + strings.Join(missing, ",") + ")"
	}
	return len(missing) == 0, []Evidence{{Where: where, Found: found, Expected: c.Expect, OK: len(missing) == 0}}, nil
}

func checkFileMode(c *Control, t *Target) (bool, []Evidence, error) {
	max, err := strconv.ParseUint(c.Expect, 8, 32)
	if err != nil {
		return false, nil, errAt("control "+c.ID+" expect", c.Expect, "an octal mode", fmt.Errorf("expect %q is not an octal mode", c.Expect))
	}
	var ev []Evidence
	for _, p := range c.Values {
		fi, err := os.Lstat(inRoot(t.Root, p))
		if err != nil {
			continue // backups such as /etc/shadow- are optional
		}
		uid, gid := ownerOf(fi)
		mode := uint64(fi.Mode().Perm())
		ok := fi.Mode().IsRegular() && mode&^max == 0 && uid == 0
		ev = append(ev, Evidence{Where: p, Found: fmt.Sprintf("mode %04o uid %d gid %d", mode, uid, gid),
			Expected: fmt.Sprintf("mode %04o or stricter, uid 0", max), OK: ok})
	}
	if len(ev) == 0 {
		return false, []Evidence{{Where: strings.Join(c.Values, ", "), Found: "none of the files exist"}}, nil
	}
	return allOK(ev), ev, nil
}

func checkNoSUID(c *Control, t *Target) (bool, []Evidence, error) {
	allowed := map[string]bool{}
	for _, v := range c.Values {
		allowed[v] = true
	}
	var bad []string
	n := 0
	err := walkRoot(t.Root, func(rel string, fi fs.FileInfo) {
		if !fi.Mode().IsRegular() {
			return
		}
		n++
		if fi.Mode()&(fs.ModeSetuid|fs.ModeSetgid) != 0 && !allowed[rel] {
			bad = append(bad, fmt.Sprintf("%s (%s)", rel, suidWord(fi.Mode())))
		}
	})
	if err != nil {
		return false, nil, errAt("/", "not walked: "+unwrapPath(err).Error(), "every file readable", err)
	}
	where := "/ (the whole root filesystem)"
	if t.Live {
		where = "/ (all mounted filesystems)"
	}
	if len(bad) == 0 {
		return true, []Evidence{{Where: where, Found: fmt.Sprintf("0 setuid/setgid files among %d", n), Expected: "none", OK: true}}, nil
	}
	sort.Strings(bad)
	var ev []Evidence
	for _, b := range bad {
		ev = append(ev, Evidence{Where: strings.SplitN(b, " ", 2)[0], Found: b, Expected: "no setuid/setgid bit"})
	}
	return false, ev, nil
}

func checkAbsent(c *Control, t *Target) (bool, []Evidence, error) {
	var ev []Evidence
	for _, pat := range c.Values {
		matches, err := filepath.Glob(inRoot(t.Root, pat))
		if err != nil {
			return false, nil, errAt("control "+c.ID+" values", pat, "a glob pattern", fmt.Errorf("bad pattern %q: %v", pat, err))
		}
		var found []string
		for _, m := range matches {
			if _, err := os.Lstat(m); err == nil {
				found = append(found, "/"+strings.TrimPrefix(strings.TrimPrefix(m, t.Root), "/"))
			}
		}
		if len(found) == 0 {
			ev = append(ev, Evidence{Where: pat, Found: "absent", Expected: "absent", OK: true})
		} else {
			ev = append(ev, Evidence{Where: pat, Found: "present: " + strings.Join(found, " "), Expected: "absent"})
		}
	}
	return allOK(ev), ev, nil
}

// checkVerity: offline, the image opener verified the root against the
// UKI's roothash before anything else ran; live, the root must be a
// dm-verity device.
func checkVerity(c *Control, t *Target) (bool, []Evidence, error) {
	if t.Live {
		return liveVerity(t)
	}
	if t.Image == nil {
		return false, nil, errAt(t.Name, "a root directory, not a built image", "a built image (--image) or the running system", errors.New("not an image: verity can only be verified on a built image (--image) or live"))
	}
	where := "veritysetup verify (root, root-verity) against roothash on " + t.Image.UKI
	if t.Image.RootSlot != "" {
		where = fmt.Sprintf("veritysetup verify (root %s, root-verity %s; root %s; root-verity %s) against roothash on %s",
			t.Image.RootSlot, t.Image.VeritySlot, t.Image.RootSlots, t.Image.VeritySlots, t.Image.UKI)
	}
	e := Evidence{Where: where,
		Found: "roothash " + t.Image.RootHash + ": " + t.Image.VerityOutput, Expected: "verified", OK: t.Image.VerityVerified}
	return e.OK, []Evidence{e}, nil
}

func liveVerity(t *Target) (bool, []Evidence, error) {
	var ev []Evidence
	hash := cmdlineValues(t.Cmdline)["roothash"]
	ev = append(ev, Evidence{Where: t.CmdlineWhere, Found: "roothash=" + hash, Expected: "roothash=<hex>", OK: hash != ""})
	// The root's device: major:minor from mountinfo, then its dm uuid.
	p := filepath.Join(t.Proc, "self/mountinfo")
	b, err := os.ReadFile(p)
	if err != nil {
		return false, nil, errAt(p, "unreadable: "+unwrapPath(err).Error(), "the mount table", err)
	}
	dev, ro := "", false
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) >= 6 && f[4] == "/" {
			dev = f[2]
			ro = strings.Contains(","+f[5]+",", ",ro,")
		}
	}
	ev = append(ev, Evidence{Where: p, Found: fmt.Sprintf("/ on %s, read-only %t", dev, ro), Expected: "read-only", OK: ro})
	uuidPath := filepath.Join(t.Sys, "dev/block", dev, "dm/uuid")
	u, err := os.ReadFile(uuidPath)
	uuid := strings.TrimSpace(string(u))
	if err != nil {
		uuid = "not a device-mapper device"
	}
	ev = append(ev, Evidence{Where: uuidPath, Found: uuid, Expected: "CRYPT-VERITY-*", OK: strings.HasPrefix(uuid, "CRYPT-VERITY-")})
	return allOK(ev), ev, nil
}
