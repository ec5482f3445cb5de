package hardening

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// cmdlineValues parses a kernel command line; the last occurrence of a key
// wins, as in the kernel's own parser for most parameters.
func cmdlineValues(s string) map[string]string {
	out := map[string]string{}
	for _, tok := range strings.Fields(s) {
		k, v, _ := strings.Cut(tok, "=")
		out[k] = v
	}
	return out
}

// cmdlineAll returns every value of key on a command line, in order (the
// kernel and systemd take the last one).
func cmdlineAll(s, key string) []string {
	var out []string
	for _, tok := range strings.Fields(s) {
		if k, v, _ := strings.Cut(tok, "="); k == key {
			out = append(out, v)
		}
	}
	return out
}

func checkCmdline(c *Control, t *Target) (bool, []Evidence, error) {
	if t.CmdlineWhere == "" {
		return false, nil, errAt("UKI .cmdline, "+cmdlineFile+", /proc/cmdline", "no kernel command line", "the command line the image boots with",
			errors.New("no kernel command line found (no UKI .cmdline, /etc/kernel/cmdline or /proc/cmdline)"))
	}
	have := cmdlineValues(t.Cmdline)
	var ev []Evidence
	for _, k := range c.SortedSettings() {
		want := c.Settings[k]
		v, ok := have[k]
		found := "absent"
		if ok {
			found = cmdlineToken(k, v)
		}
		switch want {
		case "is not set": // a token that must not be there at all
			ev = append(ev, Evidence{Where: t.CmdlineWhere, Found: found, Expected: k + " absent", OK: !ok})
		default:
			ev = append(ev, Evidence{Where: t.CmdlineWhere, Found: found, Expected: cmdlineToken(k, want), OK: ok && v == want})
		}
	}
	return allOK(ev), ev, nil
}

// sysctlDirs are read in this order; files are applied sorted by name and a
// file in an earlier directory masks one of the same name later
// (sysctl.d(5)).
var sysctlDirs = []string{"/etc/sysctl.d", "/run/sysctl.d", "/usr/local/lib/sysctl.d", "/usr/lib/sysctl.d", "/lib/sysctl.d"}

type sysctlValue struct{ value, where string }

// sysctlConfig computes the value systemd-sysctl would set for every key.
func sysctlConfig(root string) map[string]sysctlValue {
	files := confDirFiles(root, sysctlDirs, ".conf")
	out := map[string]sysctlValue{}
	for _, f := range files {
		fh, err := os.Open(inRoot(root, f))
		if err != nil {
			continue
		}
		sc := bufio.NewScanner(fh)
		n := 0
		for sc.Scan() {
			n++
			line := strings.TrimSpace(sc.Text())
			if line == "" || line[0] == '#' || line[0] == ';' {
				continue
			}
			k, v, ok := strings.Cut(line, "=")
			if !ok {
				continue
			}
			k = strings.TrimPrefix(strings.TrimSpace(k), "-")
			k = strings.ReplaceAll(k, "/", ".")
			out[k] = sysctlValue{strings.Join(strings.Fields(v), " "), fmt.Sprintf("%s:%d", f, n)}
		}
		fh.Close()
	}
	return out
}

// confDirFiles lists "*.ext" files across dirs by name order; the first
// directory that has a given name wins (/etc masks /usr/lib).
func confDirFiles(root string, dirs []string, ext string) []string {
	byName := map[string]string{}
	for _, d := range dirs {
		ents, err := os.ReadDir(inRoot(root, d))
		if err != nil {
			continue
		}
		for _, e := range ents {
			if !strings.HasSuffix(e.Name(), ext) {
				continue
			}
			if _, seen := byName[e.Name()]; !seen {
				byName[e.Name()] = d + "/" + e.Name()
			}
		}
	}
	names := make([]string, 0, len(byName))
	for n := range byName {
		names = append(names, n)
	}
	sort.Strings(names)
	var out []string
	for _, n := range names {
		// A symlink to /dev/null masks the name (sysctl.d(5)).
		if l, _ := os.Readlink(inRoot(root, byName[n])); l == "/dev/null" {
			continue
		}
		out = append(out, byName[n])
	}
	return out
}

func checkSysctl(c *Control, t *Target) (bool, []Evidence, error) {
	var ev []Evidence
	var cfg map[string]sysctlValue
	if !t.Live {
		cfg = sysctlConfig(t.Root)
	}
	for _, k := range c.SortedSettings() {
		want := c.Settings[k]
		e := Evidence{Expected: want}
		if t.Live {
			p, v, err := t.liveSysctl(k)
			e.Where = p
			switch {
			case os.IsNotExist(err):
				e.Found = "not available in this kernel"
				if opt, off := compiledOut(t, k); off {
					// No feature, no knob: stricter than any setting of it.
					e.Found = "not in this kernel: " + opt + " is not set (the feature is compiled out)"
					e.Expected = want + ", or the feature compiled out"
					e.OK = true
				}
			case os.IsPermission(err):
				// bpf_jit_* are readable only with CAP_SYS_ADMIN.
				e.Found = "unreadable without CAP_SYS_ADMIN"
			case err != nil:
				e.Found = err.Error()
			default:
				e.Found = v
			}
		} else if v, ok := cfg[k]; ok {
			e.Where, e.Found = v.where, v.value
		} else {
			e.Where, e.Found = strings.Join(sysctlDirs, ", "), "not set by any file (kernel default)"
		}
		e.OK = e.OK || e.Found == want
		ev = append(ev, e)
	}
	return allOK(ev), ev, nil
}

// ParseKernelConfig reads a kernel .config: CONFIG_X -> its value, or
// "is not set" for the options the file says are not set.
func ParseKernelConfig(b []byte) map[string]string {
	cfg := map[string]string{}
	for _, line := range strings.Split(string(b), "\n") {
		if k, ok := strings.CutPrefix(line, "# "); ok && strings.HasSuffix(k, " is not set") {
			cfg[strings.TrimSuffix(k, " is not set")] = "is not set"
		} else if k, v, ok := strings.Cut(line, "="); ok && strings.HasPrefix(k, "CONFIG_") {
			cfg[k] = v
		}
	}
	return cfg
}

// liveSysctl reads sysctl name from the running kernel: its /proc/sys path
// and its value with whitespace runs as single spaces.
func (t *Target) liveSysctl(name string) (path, value string, err error) {
	path = filepath.Join(t.Proc, "sys", strings.ReplaceAll(name, ".", "/"))
	b, err := os.ReadFile(path)
	return path, strings.Join(strings.Fields(string(b)), " "), err
}

// sysctlFeature is the build option without which a sysctl does not exist
// (the hardened kernel leaves these features out altogether).
var sysctlFeature = map[string]string{
	"kernel.modules_disabled":          "CONFIG_MODULES",
	"kernel.kexec_load_disabled":       "CONFIG_KEXEC_CORE",
	"kernel.io_uring_disabled":         "CONFIG_IO_URING",
	"vm.unprivileged_userfaultfd":      "CONFIG_USERFAULTFD",
	"kernel.sysrq":                     "CONFIG_MAGIC_SYSRQ",
	"kernel.core_pattern":              "CONFIG_COREDUMP",
	"kernel.core_uses_pid":             "CONFIG_COREDUMP",
	"fs.suid_dumpable":                 "CONFIG_COREDUMP",
	"kernel.unprivileged_userns_clone": "CONFIG_USER_NS",
	"user.max_user_namespaces":         "CONFIG_USER_NS",
	"kernel.perf_event_paranoid":       "CONFIG_PERF_EVENTS",
	"vm.mmap_rnd_compat_bits":          "CONFIG_COMPAT",
}

// SysctlFeature is the build option without which sysctl name does not
// exist, or "" if the audit knows none (then its absence is never excused).
func SysctlFeature(name string) string { return sysctlFeature[name] }

// compiledOut reports whether sysctl k is absent because the running
// kernel was built without its feature: its configuration must say so.
func compiledOut(t *Target, k string) (string, bool) {
	opt := sysctlFeature[k]
	if opt == "" {
		return "", false
	}
	_, cfg, err := kernelConfig(t)
	if err != nil {
		return opt, false
	}
	v, ok := cfg[opt]
	return opt, !ok || v == "is not set"
}

// modName normalises a module name: modprobe treats '-' and '_' alike.
func modName(s string) string { return strings.ReplaceAll(s, "-", "_") }

var modprobeDirs = []string{"/etc/modprobe.d", "/run/modprobe.d", "/usr/local/lib/modprobe.d", "/usr/lib/modprobe.d", "/lib/modprobe.d"}

// modprobeDisabled returns, per module, where an "install <m> /bin/false"
// (or /bin/true) line disables it.
func modprobeDisabled(root string) map[string]string {
	out := map[string]string{}
	for _, f := range confDirFiles(root, modprobeDirs, ".conf") {
		b, err := os.ReadFile(inRoot(root, f))
		if err != nil {
			continue
		}
		for i, line := range strings.Split(string(b), "\n") {
			fs := strings.Fields(line)
			if len(fs) >= 3 && fs[0] == "install" && (strings.HasSuffix(fs[2], "/false") || strings.HasSuffix(fs[2], "/true")) {
				out[modName(fs[1])] = fmt.Sprintf("%s:%d", f, i+1)
			}
		}
	}
	return out
}

// shippedModules maps module name to its file for every module in the root.
func (t *Target) shippedModules() map[string]string {
	if t.modules != nil {
		return t.modules
	}
	t.modules = map[string]string{}
	for _, d := range []string{"/usr/lib/modules", "/lib/modules"} {
		base := inRoot(t.Root, d)
		filepath.WalkDir(base, func(p string, e os.DirEntry, err error) error {
			if err != nil || e.IsDir() {
				return nil
			}
			name := e.Name()
			if i := strings.Index(name, ".ko"); i > 0 {
				t.modules[modName(name[:i])] = d + strings.TrimPrefix(p, base)
			}
			return nil
		})
		if len(t.modules) > 0 {
			break
		}
	}
	return t.modules
}

func loadedModules(proc string) map[string]bool {
	out := map[string]bool{}
	b, _ := os.ReadFile(filepath.Join(proc, "modules"))
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) > 0 {
			out[modName(f[0])] = true
		}
	}
	return out
}

func checkModprobe(c *Control, t *Target) (bool, []Evidence, error) {
	disabled := modprobeDisabled(t.Root)
	shipped := t.shippedModules()
	var loaded map[string]bool
	if t.Live {
		loaded = loadedModules(t.Proc)
	}
	var ev []Evidence
	for _, m := range c.Values {
		n := modName(m)
		e := Evidence{Expected: "install " + m + " /bin/false, or not shipped"}
		switch where, ok := disabled[n]; {
		case ok:
			e.Where, e.Found, e.OK = where, "install "+m+" /bin/false", true
		case shipped[n] == "":
			e.Where, e.Found, e.OK = "/usr/lib/modules", m+" not shipped", true
		default:
			e.Where, e.Found = shipped[n], "shipped and loadable"
		}
		if loaded[n] {
			e.Where, e.Found, e.OK = filepath.Join(t.Proc, "modules"), m+" is loaded", false
		}
		ev = append(ev, e)
	}
	return allOK(ev), ev, nil
}

// kernelConfig finds the kernel build configuration: /boot/config-<ver> of
// the running kernel when live, any /boot/config-* in an image.
func kernelConfig(t *Target) (string, map[string]string, error) {
	var paths []string
	if t.Live {
		if rel, err := os.ReadFile(filepath.Join(t.Proc, "sys/kernel/osrelease")); err == nil {
			r := strings.TrimSpace(string(rel))
			paths = append(paths, "/boot/config-"+r, "/usr/lib/modules/"+r+"/config")
		}
	} else {
		for _, d := range []string{"/boot", "/usr/lib/modules/*", "/lib/modules/*"} {
			m, _ := filepath.Glob(inRoot(t.Root, d+"/config*"))
			for _, p := range m {
				paths = append(paths, "/"+strings.TrimPrefix(strings.TrimPrefix(p, t.Root), "/"))
			}
		}
	}
	for _, p := range paths {
		b, err := os.ReadFile(inRoot(t.Root, p))
		if err != nil {
			continue
		}
		return p, ParseKernelConfig(b), nil
	}
	where := "/boot/config-*, /usr/lib/modules/*/config"
	if len(paths) > 0 {
		where = strings.Join(paths, ", ")
	}
	return "", nil, errAt(where, "no kernel config", "the kernel build config", errors.New("no kernel config (/boot/config-* or /usr/lib/modules/<version>/config) in the target; keep it in the image to audit kconfig controls"))
}

func checkKconfig(c *Control, t *Target) (bool, []Evidence, error) {
	where, cfg, err := kernelConfig(t)
	if err != nil {
		return false, nil, err
	}
	var ev []Evidence
	for _, k := range c.SortedSettings() {
		v, ok := cfg[k]
		if !ok {
			v = "is not set"
		}
		ev = append(ev, Evidence{Where: where, Found: k + " " + v, Expected: c.Settings[k], OK: v == c.Settings[k]})
	}
	return allOK(ev), ev, nil
}

// lockdownLevels orders the lockdown modes (security/lockdown).
var lockdownLevels = map[string]int{"none": 0, "integrity": 1, "confidentiality": 2}

func checkLockdown(c *Control, t *Target) (bool, []Evidence, error) {
	p := filepath.Join(t.Sys, "kernel/security/lockdown")
	b, err := os.ReadFile(p)
	if err != nil {
		return false, []Evidence{{Where: p, Found: "absent (lockdown LSM not active)", Expected: c.Expect}}, nil
	}
	mode := "none"
	for _, f := range strings.Fields(string(b)) {
		if strings.HasPrefix(f, "[") {
			mode = strings.Trim(f, "[]")
		}
	}
	ok := lockdownLevels[mode] >= lockdownLevels[c.Expect]
	return ok, []Evidence{{Where: p, Found: mode, Expected: c.Expect + " or stronger", OK: ok}}, nil
}
