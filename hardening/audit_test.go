package hardening

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// appliedRoot is fakeRoot after Apply, plus what the image builder adds:
// the appliance's units, auditd and nft.
func appliedRoot(t *testing.T) (string, *Profile) {
	t.Helper()
	p, err := Default()
	if err != nil {
		t.Fatal(err)
	}
	root := fakeRoot(t)
	write := func(path, body string) {
		full := filepath.Join(root, path)
		os.MkdirAll(filepath.Dir(full), 0o755)
		if err := os.WriteFile(full, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	link := func(path, target string) {
		full := filepath.Join(root, path)
		os.MkdirAll(filepath.Dir(full), 0o755)
		if err := os.Symlink(target, full); err != nil {
			t.Fatal(err)
		}
	}
	write("/usr/lib/systemd/system/supernode.service", "[Service]\nExecStart=/usr/bin/supernode\nDynamicUser=yes\nCapabilityBoundingSet=\nAmbientCapabilities=\n")
	write("/usr/lib/systemd/system/supernode-xdp.service", "[Service]\nExecStart=/usr/bin/supernode-xdp\nCapabilityBoundingSet=CAP_BPF CAP_NET_ADMIN\nAmbientCapabilities=CAP_BPF CAP_NET_ADMIN\n")
	write("/usr/lib/systemd/system/auditd.service", "[Unit]\n")
	write("/usr/sbin/auditctl", "binary")
	write("/usr/sbin/nft", "binary")
	link("/etc/systemd/system/multi-user.target.wants/supernode.service", "/usr/lib/systemd/system/supernode.service")
	link("/etc/systemd/system/multi-user.target.wants/supernode-xdp.service", "/usr/lib/systemd/system/supernode-xdp.service")
	link("/etc/systemd/system/multi-user.target.wants/auditd.service", "/usr/lib/systemd/system/auditd.service")
	if _, err := p.Apply(root, ApplyOptions{}); err != nil {
		t.Fatal(err)
	}
	return root, p
}

func auditRoot(t *testing.T, p *Profile, root string) map[string]Result {
	t.Helper()
	tg, err := NewRootTarget(root)
	if err != nil {
		t.Fatal(err)
	}
	rep := p.Audit(tg)
	out := map[string]Result{}
	for _, r := range rep.Results {
		out[r.Control] = r
	}
	return out
}

// rootChecked are the controls a plain root directory can prove (no UKI,
// no verity, no running kernel, no systemd-analyze against fake units).
var rootChecked = []string{
	"cmdline-init-on-alloc-free", "cmdline-slab-nomerge", "cmdline-lockdown", "cmdline-module-sig-enforce", "cmdline-iommu", "cmdline-audit",
	"sysctl-kptr-restrict", "sysctl-yama-ptrace", "sysctl-bpf-restrict", "sysctl-fs-protected", "sysctl-io-uring-disabled", "sysctl-rp-filter",
	"sysctl-accept-redirects", "sysctl-tty", "sysctl-unprivileged-userns",
	"modules-unused-filesystems", "modules-usb-storage", "modules-unused-protocols", "modules-lock",
	"fs-tmp", "fs-dev-shm", "fs-account-db-world-readable", "fs-account-db-secret",
	"accounts-root-locked", "accounts-no-passwords", "accounts-nologin",
	"sw-no-package-manager", "sw-no-compilers", "sw-no-interpreters", "sw-no-shells", "sw-no-suid",
	"svc-xdp-caps", "svc-supernode-caps", "svc-masked", "svc-coredump-off", "svc-resolved-no-multicast", "svc-enabled-allowlist",
	"net-nftables-default-deny", "log-journald", "audit-rules", "profile-stamp",
}

func TestAuditAppliedRootPasses(t *testing.T) {
	root, p := appliedRoot(t)
	res := auditRoot(t, p, root)
	for _, id := range rootChecked {
		r, ok := res[id]
		if !ok {
			t.Errorf("%s not audited", id)
			continue
		}
		if r.Status != Pass {
			t.Errorf("%s: %s: %s %+v", id, r.Status, r.Message, r.Evidence)
		}
		for _, e := range r.Evidence {
			if e.Where == "" || e.Found == "" {
				t.Errorf("%s: evidence without where/found: %+v", id, e)
			}
		}
	}
	// Exceptions resolve: log_martians is not applied, rp_filter passes.
	if r := res["sysctl-log-martians"]; r.Status != Exception || r.Justification == "" {
		t.Errorf("log-martians: %s %q", r.Status, r.Justification)
	}
	// Live-only controls are not part of an offline audit.
	if _, ok := res["net-listening"]; ok {
		t.Error("live-only control audited offline")
	}
	// Image-only facts cannot be proven on a plain directory: error, not pass.
	if r := res["fs-root-verity"]; r.Status != Error {
		t.Errorf("verity on a plain dir: %s", r.Status)
	}
}

// TestAuditDetectsEachBreakage weakens one control at a time and expects
// the audit to fail on exactly that control and no other.
func TestAuditDetectsEachBreakage(t *testing.T) {
	cases := []struct {
		control string
		break_  func(root string) error
	}{
		{"cmdline-lockdown", func(r string) error { return replaceIn(r, cmdlineFile, "lockdown=integrity", "lockdown=none") }},
		{"sysctl-kptr-restrict", func(r string) error {
			return os.WriteFile(filepath.Join(r, "/etc/sysctl.d/99-local.conf"), []byte("kernel.kptr_restrict = 1\n"), 0o644)
		}},
		{"sysctl-bpf-restrict", func(r string) error {
			return replaceIn(r, sysctlFile, "net.core.bpf_jit_harden = 2", "net.core.bpf_jit_harden = 0")
		}},
		{"modules-unused-protocols", func(r string) error {
			if err := replaceIn(r, modprobeFile, "install sctp /bin/false", "# removed"); err != nil {
				return err
			}
			return writeAt(r, "/usr/lib/modules/6.12.0/kernel/net/sctp/sctp.ko.xz", "module")
		}},
		{"fs-tmp", func(r string) error {
			return replaceIn(r, fstabFile, "tmpfs /tmp tmpfs nodev,nosuid,noexec", "tmpfs /tmp tmpfs nodev,nosuid")
		}},
		{"fs-account-db-secret", func(r string) error { return os.Chmod(filepath.Join(r, "/etc/shadow"), 0o644) }},
		{"accounts-root-locked", func(r string) error { return replaceIn(r, "/etc/shadow", "root:!*", "root:") }},
		{"accounts-nologin", func(r string) error {
			return replaceIn(r, "/etc/passwd", "daemon:/usr/sbin:/usr/sbin/nologin", "daemon:/usr/sbin:/bin/sh")
		}},
		{"sw-no-package-manager", func(r string) error { return writeAt(r, "/usr/bin/dpkg", "binary") }},
		{"sw-no-interpreters", func(r string) error { return writeAt(r, "/usr/bin/python3.13", "binary") }},
		{"sw-no-suid", func(r string) error {
			if err := writeAt(r, "/usr/bin/su", "binary"); err != nil {
				return err
			}
			return os.Chmod(filepath.Join(r, "/usr/bin/su"), os.ModeSetuid|0o755)
		}},
		{"svc-xdp-caps", func(r string) error {
			return writeAt(r, "/etc/systemd/system/supernode-xdp.service.d/override.conf", "[Service]\nCapabilityBoundingSet=CAP_SYS_ADMIN\n")
		}},
		{"svc-supernode-caps", func(r string) error {
			return replaceIn(r, "/usr/lib/systemd/system/supernode.service", "CapabilityBoundingSet=\n", "")
		}},
		{"svc-masked", func(r string) error { return os.Remove(filepath.Join(r, "/etc/systemd/system/debug-shell.service")) }},
		{"svc-enabled-allowlist", func(r string) error {
			return os.Symlink("/usr/lib/systemd/system/ssh.service", filepath.Join(r, "/etc/systemd/system/multi-user.target.wants/ssh.service"))
		}},
		{"log-journald", func(r string) error {
			return writeAt(r, "/etc/systemd/journald.conf.d/zzz-local.conf", "[Journal]\nStorage=volatile\n")
		}},
		{"audit-rules", func(r string) error { return replaceIn(r, auditFile, "-S bpf", "-S getpid") }},
		{"net-nftables-default-deny", func(r string) error { return replaceIn(r, nftFile, "udp dport { 3478,", "udp dport { 53, 3478,") }},
		// The fleet's ports opened to anyone instead of the fleet's sets.
		{"net-nftables-default-deny", func(r string) error { return replaceIn(r, nftFile, "ip saddr @fleet4 udp dport", "udp dport") }},
		// A set filled in the file rather than from the configuration.
		{"net-nftables-default-deny", func(r string) error {
			return replaceIn(r, nftFile, "type ipv4_addr; flags interval; auto-merge;", "type ipv4_addr; flags interval; auto-merge; elements = { 0.0.0.0/0 };")
		}},
		// A gated port accepted from a literal prefix instead of its set.
		{"net-nftables-default-deny", func(r string) error { return replaceIn(r, nftFile, "ip saddr @mgmt4", "ip saddr 0.0.0.0/0") }},
		{"modules-lock", func(r string) error {
			return os.Remove(filepath.Join(r, "/etc/systemd/system/multi-user.target.wants/supernode-modules-lock.service"))
		}},
		{"profile-stamp", func(r string) error { return replaceIn(r, stampFile, "version=1", "version=0") }},
	}
	// Controls that must fail together with the broken one (same evidence).
	also := map[string]string{"accounts-root-locked": "accounts-no-passwords"}
	rootBase, p := appliedRoot(t)
	base := auditRoot(t, p, rootBase)
	for _, tc := range cases {
		t.Run(tc.control, func(t *testing.T) {
			root, _ := appliedRoot(t)
			if err := tc.break_(root); err != nil {
				t.Fatal(err)
			}
			res := auditRoot(t, p, root)
			if r := res[tc.control]; r.Status != Fail {
				t.Fatalf("%s after breaking it: %s %s", tc.control, r.Status, r.Message)
			}
			for id, r := range res {
				if id == also[tc.control] {
					if r.Status != Fail {
						t.Errorf("%s should fail along with %s: %s", id, tc.control, r.Status)
					}
					continue
				}
				if id != tc.control && r.Status != base[id].Status {
					t.Errorf("breaking %s also changed %s: %s -> %s (%s)", tc.control, id, base[id].Status, r.Status, r.Message)
				}
			}
		})
	}
}

// An exception holds only while its compensating controls pass.
func TestExceptionNeedsCompensation(t *testing.T) {
	root, p := appliedRoot(t)
	if err := replaceIn(root, sysctlFile, "net.ipv4.conf.all.rp_filter = 1", "net.ipv4.conf.all.rp_filter = 0"); err != nil {
		t.Fatal(err)
	}
	res := auditRoot(t, p, root)
	r := res["sysctl-log-martians"]
	if r.Status != Fail || !strings.Contains(r.Message, "sysctl-rp-filter") {
		t.Fatalf("log-martians with rp_filter broken: %s %q", r.Status, r.Message)
	}
}

func TestDebugImageExemptions(t *testing.T) {
	p, _ := Default()
	root := fakeRoot(t)
	if _, err := p.Apply(root, ApplyOptions{Debug: true}); err != nil {
		t.Fatal(err)
	}
	writeAt(root, "/usr/bin/bash", "binary")
	res := auditRoot(t, p, root)
	for _, id := range []string{"accounts-nologin", "sw-no-shells"} {
		if r := res[id]; r.Status != Exception || !strings.Contains(r.Justification, "debug image") {
			t.Errorf("%s in a debug image: %s %q", id, r.Status, r.Justification)
		}
	}
}

// A control with kernel = "hardened" fails on a root whose kernel misses
// it, unless the root says it runs another flavour: then it is an exception
// naming that flavour. A flavour the audit does not know counts as none.
func TestKernelFlavourScopedControl(t *testing.T) {
	p, err := Parse("t.hcl", []byte(`version = "1.0.0"
name = "t"
control "kconfig-x" {
  title = "t"
  rationale = "r"
  severity = "low"
  references { kspp = ["kconfig CONFIG_X=y"] }
  apply = "none"
  check = "kconfig"
  kernel = "hardened"
  settings = { CONFIG_X = "y", CONFIG_Y = "is not set" }
}
`))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		config, flavour string
		want            Status
	}{
		{"CONFIG_X=y\n# CONFIG_Y is not set\n", "hardened\n", Pass},
		{"CONFIG_X=y\n", "cloud\n", Pass},
		{"CONFIG_X=m\n", "hardened\n", Fail},
		{"CONFIG_X=m\n", "", Fail},
		{"CONFIG_X=m\n", "hardened-ish\n", Fail},
		{"CONFIG_X=m\nCONFIG_Y=y\n", "cloud\n", Exception},
		{"CONFIG_X=m\n", "generic", Exception},
	} {
		root := t.TempDir()
		writeAt(root, "/usr/lib/modules/6.12.1/config", c.config)
		if c.flavour != "" {
			writeAt(root, KernelFlavourFile, c.flavour)
		}
		r := auditRoot(t, p, root)["kconfig-x"]
		if r.Status != c.want {
			t.Errorf("config %q, flavour %q: %s (%s); want %s", c.config, c.flavour, r.Status, r.Message, c.want)
		}
		if r.Status == Exception && !strings.Contains(r.Justification, strings.TrimSpace(c.flavour)+" kernel flavour") {
			t.Errorf("flavour %q: justification %q does not name it", c.flavour, r.Justification)
		}
	}
}

func TestBoundingSet(t *testing.T) {
	cases := []struct {
		in   []string
		want string
	}{
		{nil, "ALL"},
		{[]string{""}, ""},
		{[]string{"CAP_BPF CAP_NET_ADMIN"}, "CAP_BPF CAP_NET_ADMIN"},
		{[]string{"CAP_BPF", "CAP_NET_ADMIN"}, "CAP_BPF CAP_NET_ADMIN"},
		{[]string{"CAP_BPF CAP_NET_ADMIN", "~CAP_BPF"}, "CAP_NET_ADMIN"},
		{[]string{"CAP_BPF", ""}, ""},
	}
	for _, c := range cases {
		got := strings.Join(sortedKeys(boundingSet(c.in)), " ")
		if c.want == "ALL" {
			if len(boundingSet(c.in)) != len(allCaps) {
				t.Errorf("%q: %d caps, want all", c.in, len(boundingSet(c.in)))
			}
			continue
		}
		if got != c.want {
			t.Errorf("%q: got %q want %q", c.in, got, c.want)
		}
	}
	if s := boundingSet([]string{"~CAP_SYS_ADMIN"}); len(s) != len(allCaps)-1 || s["CAP_SYS_ADMIN"] {
		t.Error("~ on the full set")
	}
}

func TestSysctlPrecedence(t *testing.T) {
	root := t.TempDir()
	writeAt(root, "/usr/lib/sysctl.d/50-default.conf", "kernel.sysrq = 16\nfs.protected_regular = 1\n")
	writeAt(root, "/usr/lib/sysctl.d/90-x.conf", "kernel.sysrq = 1\n")
	writeAt(root, "/etc/sysctl.d/90-x.conf", "kernel/sysrq=0\n") // masks the /usr/lib file of the same name
	writeAt(root, "/etc/sysctl.d/10-early.conf", "fs.protected_regular = 2\n")
	cfg := sysctlConfig(root)
	if v := cfg["kernel.sysrq"]; v.value != "0" || v.where != "/etc/sysctl.d/90-x.conf:1" {
		t.Errorf("sysrq %+v", v)
	}
	if v := cfg["fs.protected_regular"]; v.value != "1" {
		t.Errorf("50-default sorts after 10-early and wins: %+v", v)
	}
}

func TestParseProcAddr(t *testing.T) {
	for in, want := range map[string]string{
		"0100007F:0CA6":                         "127.0.0.1:3238",
		"00000000:0D96":                         "0.0.0.0:3478",
		"00000000000000000000000001000000:1F90": "[::1]:8080",
		"0000000000000000FFFF00000100007F:0050": "127.0.0.1:80",
	} {
		got, err := parseProcAddr(in)
		if err != nil || got.String() != want {
			t.Errorf("%s: %v %v, want %s", in, got, err, want)
		}
	}
	if _, err := parseProcAddr("zz:1"); err == nil {
		t.Error("bad hex accepted")
	}
}

func replaceIn(root, path, old, new string) error {
	full := filepath.Join(root, path)
	b, err := os.ReadFile(full)
	if err != nil {
		return err
	}
	if !strings.Contains(string(b), old) {
		return os.ErrNotExist
	}
	fi, _ := os.Stat(full)
	return os.WriteFile(full, []byte(strings.Replace(string(b), old, new, 1)), fi.Mode().Perm())
}

func writeAt(root, path, body string) error {
	full := filepath.Join(root, path)
	os.MkdirAll(filepath.Dir(full), 0o755)
	return os.WriteFile(full, []byte(body), 0o644)
}
