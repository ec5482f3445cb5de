package image_test

import (
	"context"
	"encoding/base64"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
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
	testenv.RequireCommands(t, "qemu-system-x86_64", "mmdebstrap", "qemu-img")
	tmp := t.TempDir()
	key := filepath.Join(tmp, "db.key")
	testenv.SecureBootKey(t, key)
	unsigned := testenv.Image(t) // first: it also builds the binaries
	bin, root := appliance(t)
	// The same variant requires signed configuration on its config
	// partition (config_signing_key): the operator key lives beside the
	// build output (config-key.asc), so a signed image built elsewhere by
	// this test comes with the key that signs for it.
	out := filepath.Join(tmp, "out")
	if dir := os.Getenv("SUPERNODE_TEST_SIGNED_IMAGE"); dir != "" {
		out = dir
	}
	configKey := filepath.Join(filepath.Dir(out), "config-key")
	// A signed image ignores command line extensions it did not sign, so
	// what the test needs on the console (the journal, the kernel's
	// "Secure boot enabled" through "quiet") is signed in.
	tmplPath := testenv.TemplateWith(t, root, filepath.Join(tmp, "signed.pkr.hcl"), `
  secure_boot_key    = "`+key+`"
  secure_boot_cert   = "`+qemu.SnakeoilCert+`"
  config_signing_key = "`+configKey+`.pub.asc"
  kernel_cmdline     = ["systemd.journald.forward_to_console=1", "loglevel=7"]`)
	if os.Getenv("SUPERNODE_TEST_SIGNED_IMAGE") != "" {
		// A signed image built by this test elsewhere (its template above).
		if _, err := os.Stat(configKey + ".asc"); err != nil {
			t.Fatalf("SUPERNODE_TEST_SIGNED_IMAGE: %v; the configuration key this test built the image with must be beside it", err)
		}
	} else {
		if o, err := exec.Command(bin, "keygen", configKey).CombinedOutput(); err != nil {
			t.Fatalf("appliance keygen: %v\n%s", err, o)
		}
		cmd := exec.Command(bin, "build", "-out", out, tmplPath)
		cmd.Dir = root
		if o, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("signed build: %v\n%s", err, tail(string(o), 4000))
		}
	}

	// Issue 13: the configuration partition of this variant takes only
	// configuration signed by the operator's key. One boot gets a signed
	// one (its SOFTWARE must reach the supernode), the other an unsigned
	// one (refused on the console, the built-in configuration serves).
	const software = "signed-config-1"
	signedDisk := rawCopy(t, out, "signed-config.raw")
	if o, err := exec.Command(bin, "configure", signedDisk, "--set", "supernode.software="+software, "--sign-key", configKey+".asc").CombinedOutput(); err != nil {
		t.Fatalf("appliance configure --sign-key: %v\n%s", err, o)
	}
	unsignedDisk := rawCopy(t, out, "unsigned-config.raw")
	if o, err := exec.Command(bin, "configure", unsignedDisk, "--set", "supernode.software=unsigned").CombinedOutput(); err != nil {
		t.Fatalf("appliance configure: %v\n%s", err, o)
	}

	t.Run("signed image boots", func(t *testing.T) {
		t.Parallel()
		port := testenv.FreeUDPPort(t)
		vm := startVM(t, signedDisk, qemu.Options{
			SecureBoot:  true,
			Vars:        qemu.SnakeoilVars,
			HostFwd:     []string{"udp:127.0.0.1:" + strconv.Itoa(port) + "-:3478"},
			Credentials: map[string]string{"supernode-xdp.allow_bogons": "10.0.2.0/24"},
		})
		ctx, cancel := context.WithTimeout(context.Background(), bootTimeout)
		defer cancel()
		seen, err := vm.WaitConsole(ctx, "Secure boot enabled", "Secure boot disabled", "Access Denied", "Security Violation")
		if err != nil {
			t.Fatal(err)
		}
		if seen != "Secure boot enabled" {
			t.Fatalf("signed image on firmware enforcing Secure Boot: %s", testenv.LineWith(vm.Console(), seen))
		}
		t.Logf("kernel: %s", testenv.LineWith(vm.Console(), seen))
		if _, err := vm.WaitConsole(ctx, "supernode ready"); err != nil {
			t.Fatalf("the supernode did not start: %v", err)
		}
		sw, err := stunSoftware(ctx, "127.0.0.1:"+strconv.Itoa(port))
		if err != nil {
			t.Fatalf("no STUN answer from the signed image under enforced Secure Boot: %v", err)
		}
		t.Log("the supernode answers STUN")
		if sw != software {
			t.Errorf("SOFTWARE %q, want %q from the signed configuration (%s)", sw, software, testenv.LineWith(vm.Console(), "appliance-config"))
		}
		if l := testenv.LineWith(vm.Console(), "imported credential supernode.software"); !strings.Contains(l, "verified") {
			t.Errorf("signed configuration: console says %q", l)
		}
	})

	// Issue #11 item 1: whoever sets SMBIOS strings tries to get a root
	// shell in the initrd (rd.break + SYSTEMD_SULOGIN_FORCE=1), to swap
	// the root (a second roothash=, the last one wins), and to add code
	// through credentials (a drop-in for the supernode's unit, the
	// journal shipped to a socket). The signed image must boot its own
	// verified root with its signed command line, give no shell, and
	// none of it may take effect.
	t.Run("SMBIOS command line and credentials ignored", func(t *testing.T) {
		t.Parallel()
		port := testenv.FreeUDPPort(t)
		dropin := "[Service]\nExecStartPre=/usr/bin/echo PWNED-BY-CREDENTIAL\n"
		// This disk also carries an unsigned configuration.
		vm := startVM(t, unsignedDisk, qemu.Options{
			SecureBoot:   true,
			Vars:         qemu.SnakeoilVars,
			HostFwd:      []string{"udp:127.0.0.1:" + strconv.Itoa(port) + "-:3478"},
			ExtraCmdline: "rd.break=pre-mount SYSTEMD_SULOGIN_FORCE=1 rd.shell=1 systemd.debug_shell=ttyS0 roothash=" + strings.Repeat("0", 64),
			Credentials:  map[string]string{"supernode-xdp.allow_bogons": "10.0.2.0/24"},
			SMBIOS: []string{
				"io.systemd.credential.binary:systemd.unit-dropin.supernode.service=" + base64.StdEncoding.EncodeToString([]byte(dropin)),
				"io.systemd.credential:journal.forward_to_socket=10.0.2.2:9",
				"io.systemd.credential:getty.ttys.serial=ttyS0",
			},
		})
		ctx, cancel := context.WithTimeout(context.Background(), bootTimeout)
		defer cancel()
		// What a shell or the hostile drop-in would print. systemd may
		// still reach emergency.target on its own (a device timing out on
		// a loaded host): without sulogin that gives no shell, and the
		// console then says so.
		shell := []string{"Give root password for maintenance", "Press Enter for maintenance", "Breaking to emergency shell",
			"dracut:/#", "sh-5.", "PWNED-BY-CREDENTIAL", "login:", "Cannot open access to console"}
		seen, err := vm.WaitConsole(ctx, append([]string{"supernode ready"}, shell...)...)
		if err != nil {
			t.Fatal(err)
		}
		if seen != "supernode ready" {
			t.Fatalf("the SMBIOS attack took effect: %s", testenv.LineWith(vm.Console(), seen))
		}
		// The kernel got the signed command line and nothing else.
		cmdline := testenv.LineWith(vm.Console(), "Command line:")
		t.Logf("kernel: %s", cmdline)
		if strings.Contains(cmdline, "rd.break") || strings.Contains(cmdline, "SULOGIN") || strings.Count(cmdline, "roothash=") != 1 || strings.Contains(cmdline, strings.Repeat("0", 64)) {
			t.Errorf("the SMBIOS command line extension reached the kernel: %s", cmdline)
		}
		if sw, err := stunSoftware(ctx, "127.0.0.1:"+strconv.Itoa(port)); err != nil {
			t.Fatalf("no STUN answer: %v", err)
		} else if sw != "" {
			t.Errorf("SOFTWARE %q from an unsigned configuration on an image that requires signed ones", sw)
		}
		if l := testenv.LineWith(vm.Console(), "appliance.conf is not signed"); l == "" {
			t.Error("the unsigned configuration was not refused on the console")
		} else {
			t.Logf("console: %s", l)
		}
		// The live audit proves /proc/cmdline is exactly the signed one
		// (one roothash=, ours) and the credential allowlist holds.
		if _, err := vm.WaitConsole(ctx, " controls: "); err != nil {
			t.Fatalf("no live audit summary: %v", err)
		}
		con := vm.Console()
		t.Logf("live audit: %s", testenv.LineWith(con, " controls: "))
		for _, id := range []string{"boot-cmdline-signed", "boot-credential-allowlist", "boot-secure-boot", "fs-root-verity"} {
			if l := regexp.MustCompile(`(FAIL|ERROR|EXCEPTION)\s+` + id + ` \[.*`).FindString(con); l != "" {
				t.Errorf("live audit: %s", l)
			}
		}
		for _, bad := range shell {
			if strings.Contains(con, bad) {
				t.Errorf("console shows %q: %s", bad, testenv.LineWith(con, bad))
			}
		}
		if strings.Contains(con, "You are in emergency mode") && !strings.Contains(con, "Failed to execute /usr/sbin/sulogin") {
			t.Error("emergency mode was entered and sulogin was not shown to be absent")
		}
		if !strings.Contains(con, "Secure boot enabled") {
			t.Error("the kernel did not report Secure Boot")
		}
		t.Log("signed image under enforced Secure Boot: SMBIOS command line, second roothash= and credentials had no effect")
	})

	t.Run("unsigned image refused", func(t *testing.T) {
		t.Parallel()
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
		t.Logf("firmware: %s", testenv.LineWith(vm.Console(), seen))
		if strings.Contains(vm.Console(), "systemd") {
			t.Error("the unsigned image's systemd started under enforced Secure Boot")
		}
	})
}
