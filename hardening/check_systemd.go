package hardening

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// Unit search path, highest priority first (systemd.unit(5)).
var unitDirs = []string{"/etc/systemd/system", "/run/systemd/system", "/usr/local/lib/systemd/system", "/usr/lib/systemd/system", "/lib/systemd/system"}

// configDirs for a systemd config file "systemd/x.conf" (systemd.conf.d(5)).
func configDirs(key string) []string {
	return []string{"/etc/" + key + ".d", "/run/" + key + ".d", "/usr/local/lib/" + key + ".d", "/usr/lib/" + key + ".d"}
}

type iniValue struct{ value, where string }

// parseINI adds Section.Key assignments from one file; later wins.
func parseINI(root, p string, out map[string]iniValue) {
	b, err := os.ReadFile(inRoot(root, p))
	if err != nil {
		return
	}
	section := ""
	for i, line := range strings.Split(string(b), "\n") {
		line = strings.TrimSpace(line)
		switch {
		case line == "" || line[0] == '#' || line[0] == ';':
		case line[0] == '[':
			section = strings.Trim(line, "[]")
		default:
			k, v, ok := strings.Cut(line, "=")
			if ok {
				out[section+"."+strings.TrimSpace(k)] = iniValue{strings.TrimSpace(v), fmt.Sprintf("%s:%d", p, i+1)}
			}
		}
	}
}

// systemdConfig merges the main file (/etc, else /usr/lib) and drop-ins.
func systemdConfig(root, key string) map[string]iniValue {
	out := map[string]iniValue{}
	for _, main := range []string{"/etc/" + key, "/usr/lib/" + key} {
		if _, err := os.Stat(inRoot(root, main)); err == nil {
			parseINI(root, main, out)
			break
		}
	}
	for _, f := range confDirFiles(root, configDirs(key), ".conf") {
		parseINI(root, f, out)
	}
	return out
}

func checkSystemdConf(c *Control, t *Target) (bool, []Evidence, error) {
	cfg := systemdConfig(t.Root, c.Key)
	var ev []Evidence
	for _, k := range c.SortedSettings() {
		v, ok := cfg[k]
		e := Evidence{Where: v.where, Found: k + "=" + v.value, Expected: k + "=" + c.Settings[k], OK: ok && v.value == c.Settings[k]}
		if !ok {
			e.Where, e.Found = "/etc/"+c.Key, k+" not set (compiled-in default)"
		}
		ev = append(ev, e)
	}
	return allOK(ev), ev, nil
}

// findUnit returns the path of a unit file (templates: foo@bar -> foo@).
func findUnit(root, name string) string {
	names := []string{name}
	if at := strings.Index(name, "@"); at > 0 && !strings.HasPrefix(name[at:], "@.") {
		names = append(names, name[:at+1]+name[strings.LastIndex(name, "."):])
	}
	for _, n := range names {
		for _, d := range unitDirs {
			p := d + "/" + n
			if _, err := os.Lstat(inRoot(root, p)); err == nil {
				return p
			}
		}
	}
	return ""
}

// enabledUnits returns unit name -> the symlink that enables it: links in
// *.wants/ and *.requires/ directories and alias links under /etc
// (what "systemctl enable" creates; vendor links in /usr/lib are "static").
func enabledUnits(root string) map[string]string {
	out := map[string]string{}
	base := "/etc/systemd/system"
	ents, _ := os.ReadDir(inRoot(root, base))
	for _, e := range ents {
		p := base + "/" + e.Name()
		if e.IsDir() && (strings.HasSuffix(e.Name(), ".wants") || strings.HasSuffix(e.Name(), ".requires")) {
			links, _ := os.ReadDir(inRoot(root, p))
			for _, l := range links {
				out[l.Name()] = p + "/" + l.Name()
			}
			continue
		}
		if e.Type()&os.ModeSymlink != 0 {
			if target, _ := os.Readlink(inRoot(root, p)); target != "/dev/null" {
				out[e.Name()] = p
			}
		}
	}
	// A masked unit is not started whatever links to it.
	for n := range out {
		if target, _ := os.Readlink(inRoot(root, base+"/"+n)); target == "/dev/null" {
			delete(out, n)
		}
	}
	return out
}

// allLinks lists every enablement link for a unit under /etc/systemd/system.
func allLinks(root, unit string) []string {
	base := "/etc/systemd/system"
	var out []string
	if fi, err := os.Lstat(inRoot(root, base+"/"+unit)); err == nil && fi.Mode()&os.ModeSymlink != 0 {
		out = append(out, base+"/"+unit)
	}
	dirs, _ := filepath.Glob(inRoot(root, base+"/*.wants"))
	reqs, _ := filepath.Glob(inRoot(root, base+"/*.requires"))
	for _, d := range append(dirs, reqs...) {
		if _, err := os.Lstat(filepath.Join(d, unit)); err == nil {
			out = append(out, base+"/"+filepath.Base(d)+"/"+unit)
		}
	}
	return out
}

func matchAny(patterns []string, name string) bool {
	for _, pat := range patterns {
		if m, _ := path.Match(pat, name); m {
			return true
		}
	}
	return false
}

func checkMasked(c *Control, t *Target) (bool, []Evidence, error) {
	var ev []Evidence
	for _, u := range c.Values {
		p := "/etc/systemd/system/" + u
		l, err := os.Readlink(inRoot(t.Root, p))
		found := "-> " + l
		if err != nil {
			found = "not masked"
		}
		ev = append(ev, Evidence{Where: p, Found: found, Expected: "-> /dev/null", OK: l == "/dev/null"})
	}
	return allOK(ev), ev, nil
}

func checkUnitEnabled(c *Control, t *Target) (bool, []Evidence, error) {
	file := findUnit(t.Root, c.Key)
	link, enabled := enabledUnits(t.Root)[c.Key]
	ev := []Evidence{
		{Where: "unit search path", Found: c.Key + " at " + orNone(file), Expected: "installed", OK: file != ""},
		{Where: orNone(link), Found: fmt.Sprintf("enabled %t", enabled), Expected: "enabled", OK: enabled},
	}
	return allOK(ev), ev, nil
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}

func checkEnabledUnits(c *Control, t *Target) (bool, []Evidence, error) {
	units := enabledUnits(t.Root)
	names := make([]string, 0, len(units))
	for n := range units {
		names = append(names, n)
	}
	sort.Strings(names)
	var ev []Evidence
	for _, n := range names {
		ev = append(ev, Evidence{Where: units[n], Found: n, Expected: "on the allowlist", OK: matchAny(c.Values, n)})
	}
	if len(ev) == 0 {
		return false, []Evidence{{Where: "/etc/systemd/system", Found: "no enabled units", Expected: "the appliance's services"}}, nil
	}
	return allOK(ev), ev, nil
}

// unitSettings returns every assignment of key in [section] across the unit
// file and its drop-ins, in the order systemd applies them.
func unitSettings(root, unit, section, key string) (vals []string, where []string) {
	file := findUnit(root, unit)
	if file == "" {
		return nil, nil
	}
	files := []string{file}
	var dropDirs []string
	for _, d := range unitDirs {
		dropDirs = append(dropDirs, d+"/"+unit+".d")
	}
	files = append(files, confDirFiles(root, dropDirs, ".conf")...)
	for _, f := range files {
		b, err := os.ReadFile(inRoot(root, f))
		if err != nil {
			continue
		}
		sec := ""
		for i, line := range strings.Split(string(b), "\n") {
			line = strings.TrimSpace(line)
			if strings.HasPrefix(line, "[") {
				sec = strings.Trim(line, "[]")
				continue
			}
			if k, v, ok := strings.Cut(line, "="); ok && sec == section && strings.TrimSpace(k) == key {
				vals = append(vals, strings.TrimSpace(v))
				where = append(where, fmt.Sprintf("%s:%d", f, i+1))
			}
		}
	}
	return vals, where
}

// allCaps are the Linux capabilities (capability.h, 6.x).
var allCaps = strings.Fields(`CAP_CHOWN CAP_DAC_OVERRIDE CAP_DAC_READ_SEARCH CAP_FOWNER CAP_FSETID CAP_KILL
CAP_SETGID CAP_SETUID CAP_SETPCAP CAP_LINUX_IMMUTABLE CAP_NET_BIND_SERVICE CAP_NET_BROADCAST CAP_NET_ADMIN
CAP_NET_RAW CAP_IPC_LOCK CAP_IPC_OWNER CAP_SYS_MODULE CAP_SYS_RAWIO CAP_SYS_CHROOT CAP_SYS_PTRACE CAP_SYS_PACCT
CAP_SYS_ADMIN CAP_SYS_BOOT CAP_SYS_NICE CAP_SYS_RESOURCE CAP_SYS_TIME CAP_SYS_TTY_CONFIG CAP_MKNOD CAP_LEASE
CAP_AUDIT_WRITE CAP_AUDIT_CONTROL CAP_SETFCAP CAP_MAC_OVERRIDE CAP_MAC_ADMIN CAP_SYSLOG CAP_WAKE_ALARM
CAP_BLOCK_SUSPEND CAP_AUDIT_READ CAP_PERFMON CAP_BPF CAP_CHECKPOINT_RESTORE`)

// boundingSet evaluates CapabilityBoundingSet= assignments as systemd.exec(5)
// does: unset means every capability; an empty assignment resets to none;
// "~" removes; positive lists are merged.
func boundingSet(assignments []string) map[string]bool {
	set := map[string]bool{}
	for _, c := range allCaps {
		set[c] = true
	}
	positive := false
	for _, a := range assignments {
		if a == "" {
			set, positive = map[string]bool{}, true
			continue
		}
		if rest, ok := strings.CutPrefix(a, "~"); ok {
			for _, c := range strings.Fields(rest) {
				delete(set, c)
			}
			continue
		}
		if !positive {
			set, positive = map[string]bool{}, true
		}
		for _, c := range strings.Fields(a) {
			set[c] = true
		}
	}
	return set
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func checkUnitCaps(c *Control, t *Target) (bool, []Evidence, error) {
	if findUnit(t.Root, c.Key) == "" {
		return false, []Evidence{{Where: "unit search path", Found: c.Key + " not installed", Expected: "installed"}}, nil
	}
	allowed := map[string]bool{}
	for _, v := range c.Values {
		allowed[v] = true
	}
	var ev []Evidence
	for _, key := range []string{"CapabilityBoundingSet", "AmbientCapabilities"} {
		vals, where := unitSettings(t.Root, c.Key, "Service", key)
		var set map[string]bool
		if key == "CapabilityBoundingSet" {
			set = boundingSet(vals)
		} else {
			set = map[string]bool{}
			for _, v := range vals {
				if v == "" {
					set = map[string]bool{}
				}
				for _, cp := range strings.Fields(v) {
					set[cp] = true
				}
			}
		}
		var extra []string
		for _, cp := range sortedKeys(set) {
			if !allowed[cp] {
				extra = append(extra, cp)
			}
		}
		w := c.Key + " " + key + " (unset)"
		if len(where) > 0 {
			w = strings.Join(where, ", ")
		}
		found := key + "=" + strings.Join(sortedKeys(set), " ")
		if len(set) == len(allCaps) {
			found = key + " = every capability"
		}
		ev = append(ev, Evidence{Where: w, Found: found, Expected: "within {" + strings.Join(c.Values, " ") + "}", OK: len(extra) == 0})
	}
	if t.Live {
		ev = append(ev, liveUnitCaps(t, c.Key, allowed)...)
	}
	return allOK(ev), ev, nil
}

var exposureRE = regexp.MustCompile(`Overall exposure level for \S+: ([0-9.]+)`)

// checkExposure runs systemd-analyze security (offline against the image
// root, or against the running manager) and compares each unit's score.
func checkExposure(c *Control, t *Target) (bool, []Evidence, error) {
	bin, err := exec.LookPath("systemd-analyze")
	if err != nil {
		if !t.Live {
			return false, nil, errAt("$PATH of the auditing host", "no systemd-analyze", "systemd-analyze (systemd >= 250)",
				errors.New("systemd-analyze is not installed on this host; install systemd (>= 250) to check unit exposure offline"))
		}
		return false, nil, errAt("$PATH of the running appliance", "no systemd-analyze", "systemd-analyze",
			errors.New("systemd-analyze is not in the image; exposure can only be checked offline"))
	}
	var ev []Evidence
	for _, unit := range c.SortedSettings() {
		max, err := strconv.ParseFloat(c.Settings[unit], 64)
		if err != nil {
			return false, nil, errAt("control "+c.ID+" settings", unit+" = "+c.Settings[unit], "a number", fmt.Errorf("threshold %q for %s is not a number", c.Settings[unit], unit))
		}
		args := []string{"security", "--no-pager"}
		where := "systemd-analyze security " + unit
		if !t.Live {
			args = append(args, "--offline=yes", "--root="+t.Root)
			where = "systemd-analyze security --offline=yes " + unit
		}
		out, _ := exec.Command(bin, append(args, unit)...).CombinedOutput()
		m := exposureRE.FindSubmatch(out)
		if m == nil {
			msg := strings.TrimSpace(string(out))
			if i := strings.LastIndex(msg, "\n"); i >= 0 {
				msg = msg[i+1:]
			}
			ev = append(ev, Evidence{Where: where, Found: "no score: " + msg, Expected: "<= " + c.Settings[unit]})
			continue
		}
		score, _ := strconv.ParseFloat(string(m[1]), 64)
		ev = append(ev, Evidence{Where: where, Found: string(m[1]), Expected: "<= " + c.Settings[unit], OK: score <= max})
	}
	return allOK(ev), ev, nil
}

func checkAuditRules(c *Control, t *Target) (bool, []Evidence, error) {
	norm := func(s string) string { return strings.Join(strings.Fields(s), " ") }
	have := map[string]string{}
	files, _ := filepath.Glob(inRoot(t.Root, "/etc/audit/rules.d/*.rules"))
	files = append(files, inRoot(t.Root, "/etc/audit/audit.rules"))
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		rel := "/" + strings.TrimPrefix(strings.TrimPrefix(f, t.Root), "/")
		for i, line := range strings.Split(string(b), "\n") {
			if _, seen := have[norm(line)]; !seen {
				have[norm(line)] = fmt.Sprintf("%s:%d", rel, i+1)
			}
		}
	}
	var ev []Evidence
	for _, r := range c.Values {
		w, ok := have[norm(r)]
		ev = append(ev, Evidence{Where: orNone(w), Found: map[bool]string{true: "present", false: "missing"}[ok] + ": " + r, Expected: "present", OK: ok})
	}
	// Rules only matter if something loads them at boot.
	loader := ""
	enabled := enabledUnits(t.Root)
	for _, u := range []string{"auditd.service", "audit-rules.service"} {
		if _, ok := enabled[u]; ok && findUnit(t.Root, u) != "" {
			loader = u
		}
	}
	_, errCtl := os.Stat(inRoot(t.Root, "/usr/sbin/auditctl"))
	ok := loader != "" && errCtl == nil
	found := "auditctl present " + fmt.Sprint(errCtl == nil) + ", loader unit " + orNone(loader)
	ev = append(ev, Evidence{Where: "/usr/sbin/auditctl, auditd.service", Found: found, Expected: "auditd installed and enabled", OK: ok})
	return allOK(ev), ev, nil
}
