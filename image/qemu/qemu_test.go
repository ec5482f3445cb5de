package qemu

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
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
