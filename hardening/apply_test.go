package hardening

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// fakeRoot builds a small root that looks like a freshly bootstrapped
// Debian: accounts with shells and a password, a setuid binary, wide
// modes on shadow, the builder's own cmdline and fstab lines.
func fakeRoot(t testing.TB) string {
	t.Helper()
	root := t.TempDir()
	files := map[string]struct {
		body string
		mode os.FileMode
	}{
		"/etc/passwd":         {"root:x:0:0:root:/root:/bin/bash\ndaemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin\nsync:x:4:65534:sync:/bin:/bin/sync\n", 0o644},
		"/etc/shadow":         {"root:$y$j9T$abc$def:19000:0:99999:7:::\ndaemon:*:19000:0:99999:7:::\nsync::19000:0:99999:7:::\n", 0o666},
		"/etc/group":          {"root:x:0:\n", 0o664},
		"/etc/gshadow":        {"root:*::\n", 0o640},
		"/etc/kernel/cmdline": {"console=ttyS0 debugfs=on roothash=abc\n", 0o644},
		"/etc/fstab":          {"PARTLABEL=esp /efi vfat umask=0077 0 2\n", 0o644},
		"/usr/bin/passwd":     {"binary", os.ModeSetuid | 0o755},
		"/usr/bin/wall":       {"binary", os.ModeSetgid | 0o755},
		"/usr/lib/systemd/system/nftables.service": {"[Unit]\n", 0o644},
		// Debian ships this vendor drop-in; it sorts after any numbered name.
		"/usr/lib/systemd/journald.conf.d/syslog.conf": {"[Journal]\nForwardToSyslog=yes\n", 0o644},
	}
	// Enablement links a Debian package leaves behind, and a masked unit.
	for link, target := range map[string]string{
		"/etc/systemd/system/timers.target.wants/apt-daily.timer":                              "/usr/lib/systemd/system/apt-daily.timer",
		"/etc/systemd/system/network-online.target.wants/systemd-networkd-wait-online.service": "/usr/lib/systemd/system/systemd-networkd-wait-online.service",
		"/etc/systemd/system/systemd-networkd-wait-online.service":                             "/dev/null",
		"/etc/systemd/system/multi-user.target.wants/systemd-networkd.service":                 "/usr/lib/systemd/system/systemd-networkd.service",
	} {
		os.MkdirAll(filepath.Join(root, filepath.Dir(link)), 0o755)
		if err := os.Symlink(target, filepath.Join(root, link)); err != nil {
			t.Fatal(err)
		}
	}
	for p, f := range files {
		full := filepath.Join(root, p)
		os.MkdirAll(filepath.Dir(full), 0o755)
		if err := os.WriteFile(full, []byte(f.body), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(full, f.mode); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

func TestApplyIdempotentAndTraceable(t *testing.T) {
	p, err := Default()
	if err != nil {
		t.Fatal(err)
	}
	root := fakeRoot(t)
	changes, err := p.Apply(root, ApplyOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(changes) < 20 {
		t.Fatalf("only %d changes", len(changes))
	}
	touched := map[string]bool{}
	for _, c := range changes {
		if p.Control(c.Control) == nil {
			t.Errorf("change %+v names no control", c)
		}
		if c.Path == "" || c.What == "" {
			t.Errorf("change %+v lacks path or description", c)
		}
		touched[c.Control] = true
	}
	for _, id := range []string{"cmdline-lockdown", "sysctl-kptr-restrict", "modules-unused-protocols", "fs-tmp", "fs-dev-shm",
		"fs-account-db-secret", "accounts-root-locked", "accounts-nologin", "sw-no-suid", "log-journald", "audit-rules",
		"svc-masked", "modules-lock", "net-nftables-default-deny", "profile-stamp", "svc-enabled-allowlist", "svc-network-generator-sandbox"} {
		if !touched[id] {
			t.Errorf("no change for control %s", id)
		}
	}
	again, err := p.Apply(root, ApplyOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(again) != 0 {
		t.Fatalf("second apply changed %d things, first: %+v", len(again), again[0])
	}

	read := func(p string) string {
		b, err := os.ReadFile(filepath.Join(root, p))
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	cmd := read("/etc/kernel/cmdline")
	if !strings.Contains(cmd, "console=ttyS0") || !strings.Contains(cmd, "roothash=abc") || strings.Contains(cmd, "debugfs=on") || !strings.Contains(cmd, "debugfs=off") {
		t.Errorf("cmdline merge wrong: %q", cmd)
	}
	if got := strings.Fields(cmd); len(got) != len(p.KernelCmdline())+2 {
		t.Errorf("cmdline has %d tokens, want %d", len(got), len(p.KernelCmdline())+2)
	}
	if s := read("/etc/shadow"); !strings.HasPrefix(s, "root:!*$y$") || !strings.Contains(s, "sync:!*:") {
		t.Errorf("shadow not locked: %q", s)
	}
	if s := read("/etc/passwd"); strings.Contains(s, "/bin/bash") || strings.Contains(s, "/bin/sync") {
		t.Errorf("login shells left: %q", s)
	}
	fi, _ := os.Stat(filepath.Join(root, "/etc/shadow"))
	if fi.Mode().Perm() != 0o640 {
		t.Errorf("shadow mode %o", fi.Mode().Perm())
	}
	fi, _ = os.Stat(filepath.Join(root, "/usr/bin/passwd"))
	if fi.Mode()&os.ModeSetuid != 0 || fi.Mode().Perm() != 0o755 {
		t.Errorf("passwd mode %v", fi.Mode())
	}
	if s := read("/etc/fstab"); !strings.Contains(s, "PARTLABEL=esp /efi") || !strings.Contains(s, "tmpfs /tmp tmpfs nodev,nosuid,noexec") || strings.Contains(s, " /var ") {
		t.Errorf("fstab: %q", s)
	}
	if s := read(sysctlFile); !strings.Contains(s, "# control sysctl-kptr-restrict:") || !strings.Contains(s, "kernel.kptr_restrict = 2") || strings.Contains(s, "log_martians") {
		t.Errorf("sysctl file: %q", s)
	}
	if _, err := os.Lstat(filepath.Join(root, "/etc/systemd/system/timers.target.wants/apt-daily.timer")); err == nil {
		t.Error("apt-daily.timer is not on the allowlist but stays enabled")
	}
	if _, err := os.Lstat(filepath.Join(root, "/etc/systemd/system/multi-user.target.wants/systemd-networkd.service")); err != nil {
		t.Error("an allow-listed unit was disabled")
	}
	if units := enabledUnits(root); units["systemd-networkd-wait-online.service"] != "" {
		t.Error("a masked unit counts as enabled")
	}
	if b, err := os.ReadFile(filepath.Join(root, "/etc/systemd/system/systemd-network-generator.service.d", dropinName)); err != nil || !strings.Contains(string(b), "CapabilityBoundingSet=\n") {
		t.Errorf("network-generator drop-in: %v %q", err, b)
	}
	if l, err := os.Readlink(filepath.Join(root, "/etc/systemd/system/debug-shell.service")); err != nil || l != "/dev/null" {
		t.Errorf("debug-shell not masked: %q %v", l, err)
	}
}

func TestApplyDebugStateless(t *testing.T) {
	p, _ := Default()
	root := fakeRoot(t)
	if _, err := p.Apply(root, ApplyOptions{Debug: true, Stateless: true}); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(filepath.Join(root, "/etc/passwd"))
	if !strings.Contains(string(b), "root:x:0:0:root:/root:/bin/bash") || strings.Contains(string(b), "/bin/sync") {
		t.Errorf("debug image: root keeps its shell, others lose theirs: %q", b)
	}
	b, _ = os.ReadFile(filepath.Join(root, "/etc/fstab"))
	if !strings.Contains(string(b), "tmpfs /var tmpfs nodev,nosuid") {
		t.Errorf("stateless image needs a tmpfs /var: %q", b)
	}
	s, err := ReadStamp(root)
	if err != nil || !s.Debug || !s.Stateless || s.Version != p.Version {
		t.Errorf("stamp %+v %v", s, err)
	}
}

func TestApplyRejectsMissingRoot(t *testing.T) {
	p, _ := Default()
	if _, err := p.Apply(filepath.Join(t.TempDir(), "nope"), ApplyOptions{}); err == nil || !strings.Contains(err.Error(), "is not a directory") {
		t.Fatalf("err %v", err)
	}
}
