package qemu

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

func TestResolveAccelExplicitAndBad(t *testing.T) {
	for _, a := range []string{"kvm", "tcg"} {
		if got, err := ResolveAccel(context.Background(), a, ""); err != nil || got != a {
			t.Fatalf("%s -> %s, %v", a, got, err)
		}
	}
	if _, err := ResolveAccel(context.Background(), "hvf", ""); err == nil {
		t.Fatal("unknown accelerator accepted")
	}
}

// auto must settle on one of the two, and on tcg when /dev/kvm is absent or
// fails at run time (nested KVM here).
func TestResolveAccelAuto(t *testing.T) {
	if _, err := exec.LookPath("qemu-system-x86_64"); err != nil {
		t.Skip("qemu-system-x86_64 not installed")
	}
	if _, _, err := FindOVMF(); err != nil {
		t.Skip(err)
	}
	got, err := ResolveAccel(context.Background(), "auto", "")
	if err != nil || (got != "kvm" && got != "tcg") {
		t.Fatalf("auto -> %q, %v", got, err)
	}
	if _, err := os.Stat("/dev/kvm"); err != nil && got != "tcg" {
		t.Fatalf("no /dev/kvm but auto chose %s", got)
	}
	t.Logf("auto chose %s", got)
}

func TestImageFormat(t *testing.T) {
	dir := t.TempDir()
	q := filepath.Join(dir, "a.qcow2")
	os.WriteFile(q, []byte("QFI\xfb\x00\x00\x00\x03"), 0o644)
	r := filepath.Join(dir, "a.raw")
	os.WriteFile(r, make([]byte, 1024), 0o644)
	if f, err := imageFormat(q); err != nil || f != "qcow2" {
		t.Fatalf("qcow2: %s %v", f, err)
	}
	if f, err := imageFormat(r); err != nil || f != "raw" {
		t.Fatalf("raw: %s %v", f, err)
	}
	if _, err := imageFormat(filepath.Join(dir, "missing")); err == nil {
		t.Fatal("missing image accepted")
	}
}

func TestSMBIOSEscape(t *testing.T) {
	if got := smbiosEscape("a=1,2"); got != "a=1,,2" {
		t.Fatal(got)
	}
}

func TestCredentialArgs(t *testing.T) {
	dir := t.TempDir()
	conf := "listen = :3478\nsoftware = a,b\n"
	args, err := credentialArgs(dir,
		map[string]string{"supernode-xdp.allow_bogons": "10.0.2.0/24,10.1.0.0/16"},
		map[string]string{"supernode.conf": conf, "supernode.fleet_key": "k="})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"-smbios", "type=11,value=io.systemd.credential:supernode-xdp.allow_bogons=10.0.2.0/24,,10.1.0.0/16",
		"-fw_cfg", "name=opt/io.systemd.credentials/supernode.conf,file=" + filepath.Join(dir, "fwcfg-credential-0"),
		"-fw_cfg", "name=opt/io.systemd.credentials/supernode.fleet_key,file=" + filepath.Join(dir, "fwcfg-credential-1"),
	}
	if strings.Join(args, "\n") != strings.Join(want, "\n") {
		t.Fatalf("args:\n%s\nwant:\n%s", strings.Join(args, "\n"), strings.Join(want, "\n"))
	}
	// fw_cfg values go through files byte for byte: newlines and commas
	// need no escaping.
	if b, err := os.ReadFile(filepath.Join(dir, "fwcfg-credential-0")); err != nil || string(b) != conf {
		t.Fatalf("fw_cfg file holds %q, %v; want %q", b, err, conf)
	}
}

// Hostile names never reach QEMU's command line: a ',' could add options
// of its own (it is doubled), and names systemd would not accept, or that
// fw_cfg cannot carry, are refused with the reason.
func TestCredentialArgsHostileNames(t *testing.T) {
	dir := t.TempDir()
	args, err := credentialArgs(dir, map[string]string{"supernode.x,file=y": "v"}, nil)
	if err != nil || len(args) != 2 || args[1] != "type=11,value=io.systemd.credential:supernode.x,,file=y=v" {
		t.Fatalf("comma in name: %q %v", args, err)
	}
	for _, name := range []string{"", ".", "..", "../etc/x", "a/b", "sp ace", "tab\tx", "nul\x00x", "é", strings.Repeat("a", 256)} {
		if _, err := credentialArgs(dir, map[string]string{name: "v"}, nil); err == nil {
			t.Errorf("SMBIOS name %q accepted", name)
		}
		if _, err := credentialArgs(dir, nil, map[string]string{name: "v"}); err == nil {
			t.Errorf("fw_cfg name %q accepted", name)
		}
	}
	long := "supernode." + strings.Repeat("x", MaxFwCfgCredentialName-len("supernode.")+1)
	if _, err := credentialArgs(dir, nil, map[string]string{long: "v"}); err == nil || !strings.Contains(err.Error(), "SMBIOS") {
		t.Errorf("fw_cfg name of %d bytes: %v", len(long), err)
	}
	if _, err := credentialArgs(dir, nil, map[string]string{long[:len(long)-1]: "v"}); err != nil {
		t.Errorf("fw_cfg name of %d bytes refused: %v", len(long)-1, err)
	}
}

// fakeQEMU writes a stand-in for qemu-system-x86_64 that prints the runs'
// consoles in turn (one per start) to its -serial file and exits.
func fakeQEMU(t *testing.T, consoles ...string) string {
	t.Helper()
	if _, _, err := FindOVMF(); err != nil {
		t.Skip(err) // Start copies the variable store first
	}
	dir := t.TempDir()
	script := "#!/bin/sh\nn=$(cat " + dir + "/n 2>/dev/null || echo 0); echo $((n+1)) > " + dir + "/n\n" +
		"for a; do case $a in file:*) out=${a#file:};; esac; done\ncase $n in\n"
	for i, c := range consoles {
		script += fmt.Sprintf("%d) printf '%%s' '%s' > \"$out\";;\n", i, c)
	}
	script += "esac\n"
	bin := filepath.Join(dir, "qemu")
	if err := os.WriteFile(bin, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	img := filepath.Join(dir, "disk.raw")
	os.WriteFile(img, make([]byte, 512), 0o644)
	return bin
}

const faultConsole = "[    5.090348] Oops: int3: 0000 [#1] PREEMPT SMP PTI\n[    5.092840] Kernel panic - not syncing: Fatal exception in interrupt\n"

// A guest that dies of the TCG fault is started once more and its console
// keeps both runs; a second fault, another accelerator, or another panic
// is left to the test to see.
func TestRestartAfterTCGFault(t *testing.T) {
	for _, c := range []struct {
		name     string
		accel    string
		consoles []string
		restarts int
		want     string
	}{
		{"fault then boot", "tcg", []string{faultConsole, "supernode ready\n"}, 1, "supernode ready"},
		{"two faults", "tcg", []string{faultConsole, faultConsole, "supernode ready\n"}, 1, ""},
		{"kvm", "kvm", []string{faultConsole, "supernode ready\n"}, 0, ""},
		{"other panic", "tcg", []string{"Kernel panic - not syncing: VFS: Unable to mount root fs\n", "supernode ready\n"}, 0, ""},
		{"oops without panic", "tcg", []string{"Oops: int3\n", "supernode ready\n"}, 0, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			bin := fakeQEMU(t, c.consoles...)
			vm, err := Start(context.Background(), Options{Image: filepath.Join(filepath.Dir(bin), "disk.raw"), Binary: bin, Accel: c.accel})
			if err != nil {
				t.Fatal(err)
			}
			defer vm.Close()
			vm.Wait(context.Background())
			con := vm.Console()
			if vm.Restarts != c.restarts {
				t.Fatalf("%d restarts, want %d; console:\n%s", vm.Restarts, c.restarts, con)
			}
			if !strings.HasPrefix(con, c.consoles[0]) {
				t.Fatalf("the first run's console is gone:\n%s", con)
			}
			if got := strings.Contains(con, "supernode ready"); got != (c.want != "") {
				t.Fatalf("booted = %v, want %v; console:\n%s", got, c.want != "", con)
			}
		})
	}
}
