package qemu

import (
	"context"
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
