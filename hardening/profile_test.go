package hardening

import (
	"strings"
	"testing"
)

func TestDefaultProfileLoads(t *testing.T) {
	p, err := Default()
	if err != nil {
		t.Fatal(err)
	}
	if p.Version == "" || len(p.Controls) < 40 {
		t.Fatalf("version %q, %d controls", p.Version, len(p.Controls))
	}
	// The required coverage: each of these must be a control.
	for _, id := range []string{"cmdline-lockdown", "cmdline-module-sig-enforce", "cmdline-iommu", "cmdline-audit",
		"sysctl-bpf-restrict", "sysctl-io-uring-disabled", "sysctl-tty", "sysctl-userfaultfd", "sysctl-rp-filter",
		"kconfig-no-bpf-syscall", "modules-lock", "fs-root-verity", "fs-tmp", "fs-dev-shm", "accounts-root-locked",
		"sw-no-package-manager", "sw-no-suid", "svc-enabled-allowlist", "svc-exposure", "net-nftables-default-deny",
		"net-listening", "log-journald", "audit-rules", "boot-uki", "boot-secure-boot"} {
		if p.Control(id) == nil {
			t.Errorf("control %s missing", id)
		}
	}
	bpf := p.Control("kconfig-no-bpf-syscall")
	if bpf.Exception == nil || len(bpf.Exception.CompensatedBy) == 0 {
		t.Error("BPF exception must name its compensating controls")
	}
}

const goodControl = `
control "x-one" {
  title = "t"
  rationale = "r"
  severity = "low"
  references { cis = ["1.1"] }
  apply = "sysctl"
  check = "sysctl"
  settings = { "kernel.x" = "1" }
}
`

func TestParseErrors(t *testing.T) {
	head := "version = \"1.0.0\"\nname = \"t\"\n"
	cases := []struct{ name, src, want string }{
		{"unknown field", head + strings.Replace(goodControl, `apply = "sysctl"`, "apply = \"sysctl\"\n  colour = \"red\"", 1), `An argument named "colour" is not expected here`},
		{"duplicate id", head + goodControl + goodControl, `duplicate id (first defined at t.hcl:4)`},
		{"missing rationale", head + strings.Replace(goodControl, `rationale = "r"`, "", 1), `"rationale" is required`},
		{"empty rationale", head + strings.Replace(goodControl, `rationale = "r"`, `rationale = " "`, 1), "rationale is empty"},
		{"no references", head + strings.Replace(goodControl, `references { cis = ["1.1"] }`, "", 1), "no references"},
		{"empty references", head + strings.Replace(goodControl, `references { cis = ["1.1"] }`, "references {}", 1), "no references"},
		{"bad severity", head + strings.Replace(goodControl, `"low"`, `"urgent"`, 1), `severity "urgent" is not one of`},
		{"bad apply", head + strings.Replace(goodControl, `apply = "sysctl"`, `apply = "magic"`, 1), `apply method "magic" is unknown`},
		{"missing param", head + strings.Replace(goodControl, `settings = { "kernel.x" = "1" }`, "", 1), "apply sysctl needs settings"},
		{"bad version", "version = \"one\"\nname=\"t\"\n" + goodControl, "is not MAJOR.MINOR.PATCH"},
		{"no controls", head, "no control blocks"},
		{"bad id", head + strings.Replace(goodControl, `"x-one"`, `"X One"`, 1), "id must be lower-case"},
		{"exception without justification", head + strings.Replace(goodControl, `apply = "sysctl"`, "apply = \"sysctl\"\n  exception {\n justification = \"\"\n }", 1), "empty justification"},
		{"unknown compensating", head + strings.Replace(goodControl, `apply = "sysctl"`, "apply = \"sysctl\"\n  exception {\n justification = \"j\"\n compensated_by = [\"nope\"]\n }", 1), `unknown control "nope"`},
		{"syntax", head + "control \"a\" {", "t.hcl:"},
		{"bad kernel flavour", head + strings.Replace(goodControl, `apply = "sysctl"`, "apply = \"sysctl\"\n  kernel = \"grsec\"", 1), `kernel = "grsec" is not a kernel flavour`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse("t.hcl", []byte(tc.src))
			if err == nil {
				t.Fatalf("no error, want %q", tc.want)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %q does not contain %q", err, tc.want)
			}
			if strings.Count(err.Error(), "\n") > 0 {
				t.Fatalf("error is not one line: %q", err)
			}
		})
	}
	if _, err := Parse("t.hcl", []byte(head+goodControl)); err != nil {
		t.Fatalf("good profile rejected: %v", err)
	}
}

func TestKernelCmdline(t *testing.T) {
	p, _ := Default()
	got := strings.Join(p.KernelCmdline(), " ")
	for _, want := range []string{"init_on_alloc=1", "init_on_free=1", "slab_nomerge", "page_alloc.shuffle=1",
		"randomize_kstack_offset=on", "pti=on", "vsyscall=none", "debugfs=off", "lockdown=integrity",
		"module.sig_enforce=1", "iommu.strict=1", "audit=1"} {
		if !strings.Contains(" "+got+" ", " "+want+" ") {
			t.Errorf("cmdline %q lacks %s", got, want)
		}
	}
	if strings.Contains(got, "nosmt") {
		t.Error("nosmt is a documented exception and must not be applied")
	}
	if strings.Contains(got, "is not set") || strings.Contains(got, "nokaslr") {
		t.Errorf("a forbidden token reached the command line: %q", got)
	}
}

// A cmdline setting "is not set" passes only while the token is absent,
// with or without a value.
func TestCmdlineTokenMustBeAbsent(t *testing.T) {
	p, _ := Default()
	c := p.Control("cmdline-no-weakening")
	if c == nil {
		t.Fatal("no cmdline-no-weakening control")
	}
	base := strings.Join(p.KernelCmdline(), " ")
	for cmdline, want := range map[string]bool{
		base:                           true,
		base + " nokaslr":              false,
		"nopti " + base:                false,
		base + " slab_merge=1":         false,
		base + " norandmaps":           false,
		base + " nokaslrx":             true,
		base + " clearcpuid=smap":      false,
		base + " sysrq_always_enabled": false,
	} {
		ok, ev, err := checkCmdline(c, &Target{Cmdline: cmdline, CmdlineWhere: "test"})
		if err != nil || ok != want {
			t.Errorf("%q: ok=%t err=%v; want %t (%+v)", cmdline, ok, err, want, ev)
		}
	}
}
