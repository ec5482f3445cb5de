package kernel

import (
	"bufio"
	"bytes"
	"context"
	"debug/pe"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/supernode-appliance/appliance/image/disk"
	"github.com/supernode-appliance/appliance/tests/testenv"
)

// TestXDPFilterLoadsOnApplianceKernel boots the kernel inside the cloud
// flavour's UKI (Debian's kernel) with a one-file initramfs whose /init
// loads the XDP filter and runs a legitimate STUN frame through it. The
// host's kernel is newer than the appliance's, and their verifiers differ:
// a program the host accepts can be rejected at boot, leaving the
// appliance unfiltered. The default, hardened kernel's verifier is checked
// by every boot of the default image (the filter must attach before
// READY; tests/image's TestApplianceBootsServesSTUNAndPowersOff asserts it).
func TestXDPFilterLoadsOnApplianceKernel(t *testing.T) {
	testenv.RequireCommands(t, "qemu-system-x86_64", "mcopy")
	image := filepath.Join(testenv.ImageWith(t, cloudLines), "supernode-appliance.raw")
	dir := t.TempDir()

	kernel := filepath.Join(dir, "vmlinuz")
	if err := extractKernel(image, kernel, dir); err != nil {
		t.Fatal(err)
	}
	probe := filepath.Join(dir, "init")
	build := exec.Command("go", "build", "-o", probe, "./testdata/probe")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build probe: %v\n%s", err, out)
	}
	initrd := filepath.Join(dir, "initrd.cpio")
	if err := writeInitrd(initrd, probe); err != nil {
		t.Fatal(err)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	qemu := exec.CommandContext(ctx, "qemu-system-x86_64", "-accel", "tcg", "-m", "512",
		"-nodefaults", "-display", "none", "-serial", "stdio", "-no-reboot",
		"-kernel", kernel, "-initrd", initrd,
		"-append", "console=ttyS0 quiet panic=-1 rdinit=/init")
	out, err := qemu.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	qemu.Stderr = qemu.Stdout
	if err := qemu.Start(); err != nil {
		t.Fatal(err)
	}
	defer qemu.Wait()
	defer qemu.Process.Kill()

	var console, result strings.Builder
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		line := sc.Text()
		console.WriteString(line + "\n")
		if result.Len() > 0 || strings.HasPrefix(line, "PROBE-RESULT") {
			result.WriteString(line + "\n")
		}
	}
	switch got := result.String(); {
	case strings.HasPrefix(got, "PROBE-RESULT ok"):
		t.Logf("the XDP filter loads on the appliance kernel, answers a Binding request in the driver and passes it with the fast path off")
	case got != "":
		t.Fatalf("the XDP filter does not load on the appliance kernel:\n%s", got)
	default:
		t.Fatalf("the probe VM printed no result (timeout or panic); console:\n%s", console.String())
	}
}

// extractKernel copies the UKI out of the image's ESP (mtools reads the FAT
// in place, read-only) and writes its .linux section, the kernel, to dst.
func extractKernel(image, dst, tmp string) error {
	parts, err := disk.ReadGPTFile(image)
	if err != nil {
		return err
	}
	esp, ok := disk.Find(parts, "esp")
	if !ok {
		return fmt.Errorf("%s has no partition named esp", image)
	}
	uki := filepath.Join(tmp, "uki.efi")
	src := fmt.Sprintf("%s@@%d", image, esp.Start)
	ukis, err := disk.ESPUKIs(image, esp)
	if err != nil || len(ukis) == 0 {
		return fmt.Errorf("no UKI on the ESP of %s: %v", image, err)
	}
	if out, err := exec.Command("mcopy", "-n", "-i", src, "::"+ukis[0], uki).CombinedOutput(); err != nil {
		return fmt.Errorf("mcopy the UKI out of the ESP: %v: %s", err, out)
	}
	f, err := pe.Open(uki)
	if err != nil {
		return fmt.Errorf("UKI: %w", err)
	}
	defer f.Close()
	s := f.Section(".linux")
	if s == nil {
		return fmt.Errorf("UKI has no .linux section")
	}
	b, err := s.Data()
	if err != nil {
		return err
	}
	if s.VirtualSize > 0 && int(s.VirtualSize) < len(b) {
		b = b[:s.VirtualSize]
	}
	return os.WriteFile(dst, b, 0o644)
}

// writeInitrd writes an initramfs holding only /dev/console and /init.
func writeInitrd(path, init string) error {
	prog, err := os.ReadFile(init)
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	err = writeCPIO(&buf, []cpioEntry{
		{Name: "dev", Mode: 0o040755},
		{Name: "dev/console", Mode: 0o020600, RMajor: 5, RMin: 1},
		{Name: "init", Mode: 0o100755, Data: prog},
	})
	if err != nil {
		return err
	}
	return os.WriteFile(path, buf.Bytes(), 0o644)
}
