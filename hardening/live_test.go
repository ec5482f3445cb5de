package hardening

import (
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"
	"github.com/cilium/ebpf/link"
	"github.com/supernode-appliance/appliance/tests/testenv"
)

// The live checks run on this host: they must report the host's real
// values (whatever they are), not pass.

func TestLiveSysctlAndCmdlineAreReal(t *testing.T) {
	tg, err := NewLiveTarget()
	if err != nil {
		t.Fatal(err)
	}
	p, _ := Default()
	_, ev, err := checkSysctl(p.Control("sysctl-kptr-restrict"), tg)
	if err != nil {
		t.Fatal(err)
	}
	want, _ := os.ReadFile("/proc/sys/kernel/kptr_restrict")
	if ev[0].Where != "/proc/sys/kernel/kptr_restrict" || ev[0].Found != strings.TrimSpace(string(want)) {
		t.Errorf("evidence %+v, /proc says %q", ev[0], want)
	}
	cmd, _ := os.ReadFile("/proc/cmdline")
	if tg.Cmdline != strings.TrimSpace(string(cmd)) || tg.CmdlineWhere != "/proc/cmdline" {
		t.Errorf("cmdline %q from %q", tg.Cmdline, tg.CmdlineWhere)
	}
	ok, ev, _ := checkCmdline(p.Control("cmdline-lockdown"), tg)
	if ok != strings.Contains(" "+string(cmd)+" ", " lockdown=integrity ") || ev[0].Where != "/proc/cmdline" {
		t.Errorf("lockdown on cmdline: ok=%t %+v", ok, ev)
	}
}

func TestLiveLockdownAndRootMount(t *testing.T) {
	tg, _ := NewLiveTarget()
	ok, ev, err := checkLockdown(&Control{Expect: "integrity"}, tg)
	if err != nil {
		t.Fatal(err)
	}
	if b, err := os.ReadFile("/sys/kernel/security/lockdown"); err == nil {
		if !strings.Contains(string(b), "["+ev[0].Found+"]") {
			t.Errorf("lockdown evidence %q, file %q", ev[0].Found, b)
		}
	} else if ok {
		t.Error("lockdown passes without the lockdown LSM")
	}
	opts, where := liveMount("/proc", "/")
	if where == "" || opts == "" {
		t.Errorf("no mount for / in mountinfo")
	}
	ok, ev, err = checkVerity(nil, tg)
	if err != nil || len(ev) != 3 {
		t.Fatalf("verity: %v %+v", err, ev)
	}
	t.Logf("this host: / %s, verity %t: %v", opts, ok, ev)
}

func TestListeningSocketsSeesOurs(t *testing.T) {
	tl, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer tl.Close()
	ul, err := net.ListenPacket("udp", "0.0.0.0:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ul.Close()
	tport := tl.Addr().(*net.TCPAddr).Port
	uport := ul.LocalAddr().(*net.UDPAddr).Port
	socks, err := ListeningSockets("/proc")
	if err != nil {
		t.Fatal(err)
	}
	var tcpSeen, udpSeen bool
	for _, s := range socks {
		tcpSeen = tcpSeen || (s.Proto == "tcp" && int(s.Addr.Port()) == tport && s.Addr.Addr().IsLoopback())
		udpSeen = udpSeen || (s.Proto == "udp" && int(s.Addr.Port()) == uport && s.Addr.Addr().IsUnspecified())
	}
	if !tcpSeen || !udpSeen {
		t.Fatalf("tcp %d seen %t, udp %d seen %t in %v", tport, tcpSeen, uport, udpSeen, socks)
	}
	// Our wildcard UDP socket is undeclared: the check must fail on it and
	// accept the loopback TCP listener.
	tg, _ := NewLiveTarget()
	ok, ev, _ := checkListening(&Control{Values: []string{"udp/3478"}}, tg)
	if ok {
		t.Fatal("undeclared wildcard UDP socket passed")
	}
	for _, e := range ev {
		if strings.HasSuffix(e.Found, ":"+itoa(uport)) && e.OK {
			t.Errorf("undeclared socket marked ok: %+v", e)
		}
		if strings.HasSuffix(e.Found, "127.0.0.1:"+itoa(tport)) && !e.OK {
			t.Errorf("loopback listener marked bad: %+v", e)
		}
	}
}

func itoa(n int) string { return strconv.Itoa(n) }

// TestXDPCheckOnVeth attaches a real XDP program to a veth in a test
// namespace and reads it back over rtnetlink.
func TestXDPCheckOnVeth(t *testing.T) {
	testenv.RequireRoot(t)
	a, b := testenv.NewNS(t, "hx"), testenv.NewNS(t, "hy")
	aIf, _ := testenv.Veth(t, a, "10.77.0.1/30", b, "10.77.0.2/30")
	prog, err := ebpf.NewProgram(&ebpf.ProgramSpec{Type: ebpf.XDP, License: "GPL",
		Instructions: asm.Instructions{asm.Mov.Imm(asm.R0, 2), asm.Return()}}) // XDP_PASS
	if err != nil {
		t.Fatal(err)
	}
	defer prog.Close()
	check := func() (bool, []Evidence) {
		var ok bool
		var ev []Evidence
		if err := a.Do(func() error {
			var err error
			ok, ev, err = checkXDP(nil, &Target{Live: true})
			return err
		}); err != nil {
			t.Fatal(err)
		}
		return ok, ev
	}
	if ok, ev := check(); ok || len(ev) != 1 || !strings.Contains(ev[0].Where, aIf) || ev[0].Found != "no XDP program" {
		t.Fatalf("before attach: ok=%t %+v", ok, ev)
	}
	var l link.Link
	if err := a.Do(func() error {
		ifc, err := net.InterfaceByName(aIf)
		if err != nil {
			return err
		}
		l, err = link.AttachXDP(link.XDPOptions{Program: prog, Interface: ifc.Index, Flags: link.XDPDriverMode})
		return err
	}); err != nil {
		t.Fatal(err)
	}
	info, _ := prog.Info()
	id, _ := info.ID()
	ok, ev := check()
	if !ok || !strings.Contains(ev[0].Found, "prog id "+itoa(int(id))+" (driver mode)") {
		t.Fatalf("after attach: ok=%t %+v (prog id %d)", ok, ev, id)
	}
	l.Close()
	if ok, _ := check(); ok {
		t.Fatal("still attached after close")
	}
}

// TestLiveAuditRuns runs the whole live audit on this host: every result,
// errors included, carries evidence and a message.
func TestLiveAuditRuns(t *testing.T) {
	p, _ := Default()
	tg, err := NewLiveTarget()
	if err != nil {
		t.Fatal(err)
	}
	rep := p.Audit(tg)
	for _, r := range rep.Results {
		if len(r.Evidence) == 0 {
			t.Errorf("%s: %s without evidence", r.Control, r.Status)
		}
		if r.Message == "" {
			t.Errorf("%s: no message", r.Control)
		}
	}
	t.Logf("live audit of this host: %v", rep.Counts)
}

// A sysctl whose feature the kernel was built without passes only when the
// running kernel's configuration (in the verified root) says so.
func TestLiveSysctlOfACompiledOutFeature(t *testing.T) {
	root, proc := t.TempDir(), t.TempDir()
	os.MkdirAll(filepath.Join(proc, "sys/kernel"), 0o755)
	os.WriteFile(filepath.Join(proc, "sys/kernel/osrelease"), []byte("6.12.117\n"), 0o644)
	mods := filepath.Join(root, "usr/lib/modules/6.12.117")
	os.MkdirAll(mods, 0o755)
	tg := &Target{Live: true, Root: root, Proc: proc, Sys: t.TempDir()}
	c := &Control{ID: "x", Check: "sysctl", Settings: map[string]string{"kernel.kexec_load_disabled": "1"}}
	for cfg, want := range map[string]bool{
		"# CONFIG_KEXEC_CORE is not set\n": true,
		"CONFIG_MODULES=n\n":               true, // not listed at all: off
		"CONFIG_KEXEC_CORE=y\n":            false,
		"":                                 false, // no config to prove it
	} {
		os.Remove(filepath.Join(mods, "config"))
		if cfg != "" {
			os.WriteFile(filepath.Join(mods, "config"), []byte(cfg), 0o644)
		}
		ok, ev, err := checkSysctl(c, tg)
		if err != nil || ok != want {
			t.Errorf("config %q: ok=%t err=%v, want %t (%+v)", cfg, ok, err, want, ev)
		}
	}
	// A sysctl with no feature of its own is never excused by its absence.
	c.Settings = map[string]string{"kernel.kptr_restrict": "2"}
	os.WriteFile(filepath.Join(mods, "config"), []byte("# CONFIG_KEXEC_CORE is not set\n"), 0o644)
	if ok, ev, _ := checkSysctl(c, tg); ok {
		t.Errorf("a missing kptr_restrict passed: %+v", ev)
	}
}

// The live report carries the running kernel's value of every sysctl in
// the KSPP catalog, whether or not a control checks it, and the metrics
// export the numeric ones; a sysctl the kernel lacks is left out.
func TestLiveReportExportsKSPPSysctls(t *testing.T) {
	root, proc := t.TempDir(), t.TempDir()
	for name, v := range map[string]string{"kernel/kptr_restrict": "2\n", "vm/mmap_rnd_bits": "32\n", "kernel/yama/ptrace_scope": "3\n", "kernel/hostname": "x\n"} {
		writeAt(proc, "sys/"+name, v)
	}
	p, err := Parse("t.hcl", []byte("version = \"1.0.0\"\nname = \"t\"\n"+goodControl))
	if err != nil {
		t.Fatal(err)
	}
	r := p.Audit(&Target{Live: true, Root: root, Proc: proc, Sys: t.TempDir()})
	want := map[string]string{"kernel.kptr_restrict": "2", "vm.mmap_rnd_bits": "32", "kernel.yama.ptrace_scope": "3"}
	if len(r.Sysctls) != len(want) {
		t.Errorf("sysctls %v; want %v (the catalog's, present in the kernel)", r.Sysctls, want)
	}
	for k, v := range want {
		if r.Sysctls[k] != v {
			t.Errorf("%s = %q; want %q", k, r.Sysctls[k], v)
		}
	}
	var b strings.Builder
	if err := r.WriteMetrics(&b); err != nil {
		t.Fatal(err)
	}
	for _, line := range []string{`appliance_audit_sysctl{name="kernel.kptr_restrict"} 2`, `appliance_audit_sysctl{name="vm.mmap_rnd_bits"} 32`} {
		if !strings.Contains(b.String(), line+"\n") {
			t.Errorf("metrics lack %q:\n%s", line, b.String())
		}
	}
	if strings.Contains(b.String(), "hostname") {
		t.Error("a sysctl outside the catalog was exported")
	}
	// Offline reports carry none: the image's kernel is not running.
	if off := p.Audit(&Target{Root: root, Proc: proc}); off.Sysctls != nil {
		t.Errorf("an offline audit reported live sysctls: %v", off.Sysctls)
	}
	if SysctlFeature("kernel.modules_disabled") != "CONFIG_MODULES" || SysctlFeature("kernel.kptr_restrict") != "" {
		t.Error("SysctlFeature")
	}
}
