package image_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/supernode-appliance/appliance/image/qemu"
	"github.com/supernode-appliance/appliance/tests/testenv"
)

// TestSecureBoot builds the image signed with the test key of Debian's ovmf
// package and boots it on firmware that enforces Secure Boot with that key
// enrolled: the kernel must report Secure Boot and the supernode must
// answer STUN. The default, unsigned image must be refused by the same
// firmware before anything of it runs.
func TestSecureBoot(t *testing.T) {
	testenv.RequireRoot(t)
	testenv.RequireCommands(t, "qemu-system-x86_64", "mmdebstrap", "qemu-img", "openssl")
	for _, f := range []string{qemu.SecureBootCode, qemu.SnakeoilVars, qemu.SnakeoilKey, qemu.SnakeoilCert} {
		if _, err := os.Stat(f); err != nil {
			if os.Getenv("SUPERNODE_CI") != "" {
				t.Fatalf("%s missing: install the Debian package ovmf", f)
			}
			t.Skipf("%s missing: install the Debian package ovmf", f)
		}
	}
	unsigned := testenv.Image(t) // first: it also builds the binaries
	bin, root := appliance(t)
	tmp := t.TempDir()

	// The test key is encrypted with the passphrase "snakeoil"; the
	// builder takes an unencrypted key, as sbsign does.
	key := filepath.Join(tmp, "db.key")
	if out, err := exec.Command("openssl", "pkey", "-in", qemu.SnakeoilKey, "-passin", "pass:snakeoil", "-out", key).CombinedOutput(); err != nil {
		t.Fatalf("decrypt the ovmf test key: %v\n%s", err, out)
	}
	tmplPath := templateWith(t, root, filepath.Join(tmp, "signed.pkr.hcl"), `
  secure_boot_key  = "`+key+`"
  secure_boot_cert = "`+qemu.SnakeoilCert+`"`)
	out := filepath.Join(tmp, "out")
	cmd := exec.Command(bin, "build", "-out", out, tmplPath)
	cmd.Dir = root
	if o, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("signed build: %v\n%s", err, tail(string(o), 4000))
	}

	t.Run("signed image boots", func(t *testing.T) {
		port := freeUDPPort(t)
		vm := startVM(t, filepath.Join(out, "supernode-appliance.qcow2"), qemu.Options{
			SecureBoot: true,
			Vars:       qemu.SnakeoilVars,
			HostFwd:    []string{"udp:127.0.0.1:" + strconv.Itoa(port) + "-:3478"},
			// sd-stub appends SMBIOS command line extensions under Secure
			// Boot too (measured into PCR 12; only confidential VMs
			// ignore them): loglevel=7 lets the kernel's Secure Boot
			// line through "quiet".
			ExtraCmdline: consoleJournal + " loglevel=7",
			Credentials:  map[string]string{"supernode-xdp.allow_bogons": "10.0.2.0/24"},
		})
		ctx, cancel := context.WithTimeout(context.Background(), bootTimeout)
		defer cancel()
		seen, err := vm.WaitConsole(ctx, "Secure boot enabled", "Secure boot disabled", "Access Denied", "Security Violation")
		if err != nil {
			t.Fatal(err)
		}
		if seen != "Secure boot enabled" {
			t.Fatalf("signed image on firmware enforcing Secure Boot: %s", lineWith(vm.Console(), seen))
		}
		t.Logf("kernel: %s", lineWith(vm.Console(), seen))
		if _, err := vm.WaitConsole(ctx, "supernode ready"); err != nil {
			t.Fatalf("the supernode did not start: %v", err)
		}
		if _, err := stunBinding(ctx, "127.0.0.1:"+strconv.Itoa(port)); err != nil {
			t.Fatalf("no STUN answer from the signed image under enforced Secure Boot: %v", err)
		}
		t.Log("the supernode answers STUN")
	})

	t.Run("unsigned image refused", func(t *testing.T) {
		vm := startVM(t, filepath.Join(unsigned, "supernode-appliance.qcow2"), qemu.Options{
			SecureBoot: true,
			Vars:       qemu.SnakeoilVars,
		})
		ctx, cancel := context.WithTimeout(context.Background(), bootTimeout)
		defer cancel()
		// OVMF reports the refused boot option on the serial console
		// ("BdsDxe: failed to load Boot0001 ...: Access Denied").
		seen, err := vm.WaitConsole(ctx, "Access Denied", "Security Violation")
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("firmware: %s", lineWith(vm.Console(), seen))
		if strings.Contains(vm.Console(), "systemd") {
			t.Error("the unsigned image's systemd started under enforced Secure Boot")
		}
	})
}
