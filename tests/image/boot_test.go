// Package image_test boots the default appliance image under QEMU + OVMF and
// checks it from the host: the supernode answers STUN through a forwarded
// port, the XDP filter is attached, the appliance powers off cleanly on an
// ACPI power-button press, and a root partition with one flipped byte is
// refused by dm-verity. The default image runs the hardened kernel with no
// initrd, so these are also that kernel's boot tests.
package image_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pion/stun/v3"

	"github.com/supernode-appliance/appliance/hardening"
	"github.com/supernode-appliance/appliance/image/builder"
	"github.com/supernode-appliance/appliance/image/disk"
	"github.com/supernode-appliance/appliance/image/qemu"
	"github.com/supernode-appliance/appliance/tests/testenv"
)

// bootTimeout is generous: TCG on two shared cores takes minutes.
const bootTimeout = 12 * time.Minute

// Journal lines on the serial console, so the host can see the services.
// The hardened kernel has no initrd, so PID 1 starts the first units
// (nftables, audit rules) before journald runs, and what it logs then
// goes to kmsg, which journald does not forward: PID 1's own status lines
// (show_status, without colour codes: SYSTEMD_COLORS=0 reaches PID 1's
// environment) put "Finished <unit>" on the console for those too.
const consoleJournal = "systemd.journald.forward_to_console=1 systemd.show_status=1 SYSTEMD_COLORS=0"

func startVM(t *testing.T, img string, o qemu.Options) *qemu.VM {
	t.Helper()
	o.Image = img
	return testenv.StartVM(t, o)
}

func tail(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}

// stunBinding sends RFC 8489 Binding requests until one is answered and
// returns the XOR-MAPPED-ADDRESS.
func stunBinding(ctx context.Context, addr string) (stun.XORMappedAddress, error) {
	var xa stun.XORMappedAddress
	conn, err := net.Dial("udp", addr)
	if err != nil {
		return xa, err
	}
	defer conn.Close()
	buf := make([]byte, 1500)
	for {
		req := stun.MustBuild(stun.TransactionID, stun.BindingRequest, stun.Fingerprint)
		conn.Write(req.Raw)
		conn.SetReadDeadline(time.Now().Add(2 * time.Second))
		n, err := conn.Read(buf)
		if err == nil {
			res := &stun.Message{Raw: append([]byte(nil), buf[:n]...)}
			if err := res.Decode(); err == nil && res.TransactionID == req.TransactionID && res.Type == stun.BindingSuccess {
				return xa, xa.GetFrom(res)
			}
		}
		if ctx.Err() != nil {
			return xa, ctx.Err()
		}
		time.Sleep(time.Second)
	}
}

// stunSoftware sends RFC 8489 Binding requests carrying SOFTWARE until one
// is answered and returns the reply's SOFTWARE ("" if it has none).
func stunSoftware(ctx context.Context, addr string) (string, error) {
	conn, err := net.Dial("udp", addr)
	if err != nil {
		return "", err
	}
	defer conn.Close()
	buf := make([]byte, 1500)
	for {
		req := stun.MustBuild(stun.TransactionID, stun.BindingRequest, stun.NewSoftware("appliance-boot-test"))
		conn.Write(req.Raw)
		conn.SetReadDeadline(time.Now().Add(2 * time.Second))
		n, err := conn.Read(buf)
		if err == nil {
			res := &stun.Message{Raw: append([]byte(nil), buf[:n]...)}
			if err := res.Decode(); err == nil && res.TransactionID == req.TransactionID && res.Type == stun.BindingSuccess {
				var sw stun.Software
				if sw.GetFrom(res) != nil {
					return "", nil
				}
				return sw.String(), nil
			}
		}
		if ctx.Err() != nil {
			return "", ctx.Err()
		}
		time.Sleep(time.Second)
	}
}

func TestApplianceBootsServesSTUNAndPowersOff(t *testing.T) {
	testenv.RequireCommands(t, "qemu-system-x86_64")
	dir := testenv.Image(t)
	// The default flavour boots with no initrd: its kernel maps the verity
	// root itself, from dm-mod.create= on the signed command line.
	var man builder.Manifest
	if b, err := os.ReadFile(filepath.Join(dir, "manifest.json")); err != nil || json.Unmarshal(b, &man) != nil {
		t.Fatalf("manifest: %v", err)
	}
	if !hardening.KernelMapsRoot(man.KernelCmdline, man.RootHash) || strings.Contains(man.KernelCmdline, "/dev/mapper/root") {
		t.Fatalf("the image's command line does not have the kernel map the verity root: %s", man.KernelCmdline)
	}
	software := fmt.Sprintf("fw_cfg-test-%d", time.Now().UnixNano())
	port := testenv.FreeUDPPort(t)
	vm := startVM(t, filepath.Join(dir, "supernode-appliance.qcow2"), qemu.Options{
		HostFwd:      []string{"udp:127.0.0.1:" + strconv.Itoa(port) + "-:3478"},
		ExtraCmdline: consoleJournal,
		// QEMU's user network delivers the host's datagrams from 10.0.2.2,
		// a private source the XDP filter drops as a bogon by default; a
		// site with private clients allows its range the same way.
		Credentials: map[string]string{"supernode-xdp.allow_bogons": "10.0.2.0/24"},
		// A per-boot value by fw_cfg, next to the SMBIOS one: both
		// channels must reach the supernode in the same boot (the initrd
		// imports the system credentials once, for the whole boot).
		// The allowlist holds for fw_cfg as for SMBIOS: a serial getty
		// (getty.ttys.serial, read by systemd-getty-generator) must not
		// appear. (systemd.unit-dropin.supernode.service is 9 bytes too
		// long for a fw_cfg name; the Secure Boot test sends it by SMBIOS.)
		FwCfgCredentials: map[string]string{"supernode.software": software, "getty.ttys.serial": "ttyS0"},
	})
	ctx, cancel := context.WithTimeout(context.Background(), bootTimeout)
	defer cancel()
	start := time.Now()
	if _, err := vm.WaitConsole(ctx, "supernode ready"); err != nil {
		t.Fatal(err)
	}
	t.Logf("supernode READY %.0fs after QEMU start (%s)", time.Since(start).Seconds(), vm.Accel)
	if m := readyStamp.FindStringSubmatch(vm.Console()); m != nil {
		t.Logf("guest clock: supernode ready %ss after the kernel started", m[1])
	}

	sctx, scancel := context.WithTimeout(ctx, 2*time.Minute)
	defer scancel()
	xa, err := stunBinding(sctx, "127.0.0.1:"+strconv.Itoa(port))
	if err != nil {
		t.Fatalf("no STUN Binding response through the forwarded port: %v", err)
	}
	// QEMU user networking: the guest sees the host as 10.0.2.2.
	if !xa.IP.Equal(net.ParseIP("10.0.2.2")) {
		t.Errorf("XOR-MAPPED-ADDRESS %v, want 10.0.2.2 (the slirp host address)", xa)
	}
	// The fw_cfg credential supernode.software is the SOFTWARE of Binding
	// replies to requests that carry one (the XDP fast path sends those up).
	if got, err := stunSoftware(sctx, "127.0.0.1:"+strconv.Itoa(port)); err != nil {
		t.Errorf("Binding with SOFTWARE: %v", err)
	} else if got != software {
		t.Errorf("SOFTWARE in the Binding reply is %q, want %q from the fw_cfg credential supernode.software", got, software)
	} else {
		t.Logf("fw_cfg credential arrived: Binding reply SOFTWARE %q", got)
	}
	// The controller logs one line per attached interface, or why it
	// could not load the program (then fail at once, with the reason).
	seen, err := vm.WaitConsole(ctx, "attached XDP filter", "cannot load the XDP filter")
	if err != nil {
		t.Fatalf("the XDP filter did not report attaching: %v", err)
	}
	if seen != "attached XDP filter" {
		t.Errorf("the XDP filter was not attached: %s", testenv.LineWith(vm.Console(), seen))
		if v := testenv.LineWith(vm.Console(), "is not allowed"); v != "" {
			t.Errorf("verifier: %s", v)
		}
	}
	// The live audit runs after the supernode; its summary line says how
	// the running system measures up to the profile.
	if _, err := vm.WaitConsole(ctx, " controls: "); err != nil {
		t.Fatalf("no live audit summary on the console: %v", err)
	}
	con := vm.Console()
	t.Logf("live audit: %s", testenv.LineWith(con, " controls: "))
	for _, l := range regexp.MustCompile(`appliance-audit\[\d+\]: (FAIL|ERROR|EXCEPTION) .*`).FindAllString(con, -1) {
		t.Logf("live audit: %s", l)
	}
	if !regexp.MustCompile(` controls: \d+ pass, 0 fail, \d+ exception, 0 error`).MatchString(con) {
		t.Errorf("the live audit of the booted image found failures or errors (see above)")
	}
	last := vm.LastConsole() // a TCG fault may have restarted the guest once
	for _, bad := range []string{"emergency mode", "Failed to start", "initrd", "Initramfs", "Kernel panic"} {
		if strings.Contains(last, bad) {
			t.Errorf("serial console shows %q: %s", bad, testenv.LineWith(last, bad))
		}
	}
	if l := regexp.MustCompile(`(?m)login: *\r?$`).FindString(con); l != "" || strings.Contains(con, "serial-getty@") {
		t.Errorf("a getty runs on the serial console (the fw_cfg credential getty.ttys.serial was honoured): %q %s", l, testenv.LineWith(con, "serial-getty@"))
	}
	// Debian's firewall and audit units run inside the profile's sandbox
	// drop-ins: they must still load the ruleset and the rules, and the
	// live audit must find both in the kernel.
	for _, want := range []string{"Finished nftables.service", "Finished audit-rules.service", "Started auditd.service"} {
		if !strings.Contains(con, want) {
			t.Errorf("serial console lacks %q", want)
		}
	}
	for _, control := range []string{"net-nftables-default-deny", "audit-rules"} {
		if m := regexp.MustCompile(`(FAIL|ERROR)\s+` + control + ` \[.*`).FindString(con); m != "" {
			t.Errorf("live audit: %s", m)
		}
	}

	if err := vm.Powerdown(); err != nil {
		t.Fatal(err)
	}
	wctx, wcancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer wcancel()
	if err := vm.Wait(wctx); err != nil {
		t.Fatalf("QEMU did not exit after the ACPI power button: %v", err)
	}
	if !strings.Contains(vm.Console(), "reboot: Power down") {
		t.Fatal("the guest did not power down cleanly (no 'reboot: Power down' on the console)")
	}
}

// TestVerityRefusesTamperedRoot flips one byte of the root partition (in
// the erofs superblock, which every mount reads) and boots: dm-verity must
// report the corrupted block and the supernode must never start.
func TestVerityRefusesTamperedRoot(t *testing.T) {
	testenv.RequireCommands(t, "qemu-system-x86_64", "qemu-img")
	dir := testenv.Image(t)
	bad := filepath.Join(t.TempDir(), "tampered.raw")
	// qemu-img writes a sparse copy (the raw image is mostly free space).
	if out, err := exec.Command("qemu-img", "convert", "-O", "raw", filepath.Join(dir, "supernode-appliance.raw"), bad).CombinedOutput(); err != nil {
		t.Fatalf("%v %s", err, out)
	}
	parts, err := disk.ReadGPTFile(bad)
	if err != nil {
		t.Fatal(err)
	}
	roots := disk.Slots(parts, "4F68BCE3-E8CD-4DB1-96E7-FBCAF984B709")
	if len(roots) == 0 {
		t.Fatal("no root partition")
	}
	root := roots[0] // slot A, the one the build filled
	f, err := os.OpenFile(bad, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	b := make([]byte, 1)
	off := root.Start + 1024 + 8 // erofs superblock (at 1024), past its magic
	f.ReadAt(b, off)
	b[0] ^= 0xff
	if _, err := f.WriteAt(b, off); err != nil {
		t.Fatal(err)
	}
	f.Close()

	vm := startVM(t, bad, qemu.Options{ExtraCmdline: consoleJournal})
	ctx, cancel := context.WithTimeout(context.Background(), bootTimeout)
	defer cancel()
	seen, err := vm.WaitConsole(ctx, "is corrupted", "supernode ready")
	if err != nil {
		t.Fatal(err)
	}
	if seen != "is corrupted" {
		t.Fatal("the tampered image booted to the supernode")
	}
	t.Logf("dm-verity: %s", testenv.LineWith(vm.Console(), "is corrupted"))
	// The hardened kernel has no initrd, so no emergency shell to fall
	// into: it cannot mount the root, panics, and panic=10 reboots it (so
	// boot counting falls back on a slot like this). QEMU runs with
	// -no-reboot: the reboot ends it.
	if _, err := vm.WaitConsole(ctx, "Kernel panic"); err != nil {
		t.Fatalf("no kernel panic after the corrupted root: %v", err)
	}
	t.Logf("%s", testenv.LineWith(vm.Console(), "Kernel panic"))
	wctx, wcancel := context.WithTimeout(ctx, 2*time.Minute)
	defer wcancel()
	if err := vm.Wait(wctx); err != nil {
		t.Fatalf("the panicked kernel did not reboot (panic=10): %v", err)
	}
	if strings.Contains(vm.Console(), "supernode ready") {
		t.Fatal("the supernode started from a tampered root")
	}
}

// readyStamp finds the kernel timestamp of the journal's READY line.
var readyStamp = regexp.MustCompile(`\[\s*([0-9.]+)\] supernode\[[0-9]+\]: supernode ready`)
