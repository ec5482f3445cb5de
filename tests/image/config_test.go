package image_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/supernode-appliance/appliance/image/confpart"
	"github.com/supernode-appliance/appliance/image/qemu"
	"github.com/supernode-appliance/appliance/tests/testenv"
)

// rawCopy writes a sparse raw copy of the cached test image, as an
// operator's dd to a USB stick would, for `appliance configure` to edit.
func rawCopy(t *testing.T, dir, name string) string {
	t.Helper()
	dst := filepath.Join(t.TempDir(), name)
	if out, err := exec.Command("qemu-img", "convert", "-O", "raw", filepath.Join(dir, "supernode-appliance.raw"), dst).CombinedOutput(); err != nil {
		t.Fatalf("%v %s", err, out)
	}
	return dst
}

// TestConfigPartitionReachesDaemons: `appliance configure --set` on a raw
// copy of the image (what an operator does after dd to a USB stick) sets
// the supernode's SOFTWARE string and lets the XDP filter accept QEMU's
// private host address (supernode-xdp.allow_bogons, which the other boot
// tests pass by SMBIOS): the STUN reply carrying that SOFTWARE proves both
// daemons read the partition. A configuration the appliance refuses (a
// name off the allowlist, written by hand) gives one line on the console
// and the built-in configuration keeps serving.
func TestConfigPartitionReachesDaemons(t *testing.T) {
	testenv.RequireCommands(t, "qemu-system-x86_64", "qemu-img", "mcopy")
	dir := testenv.Image(t)
	bin, _ := appliance(t)
	const software = "confpart-edge-7"

	t.Run("configured", func(t *testing.T) {
		t.Parallel()
		img := rawCopy(t, dir, "configured.raw")
		out, err := exec.Command(bin, "configure", img, "--set", "supernode.software="+software, "--set", "supernode-xdp.allow_bogons=10.0.2.0/24").CombinedOutput()
		if err != nil {
			t.Fatalf("appliance configure: %v\n%s", err, out)
		}
		t.Logf("appliance configure:\n%s", out)
		// Refused before anything is written: a name off the allowlist.
		if out, err := exec.Command(bin, "configure", img, "--set", "systemd.extra-unit.x.service=[Service]").CombinedOutput(); err == nil || !strings.Contains(string(out), "not on the credential allowlist") {
			t.Errorf("configure accepted a name off the allowlist: %v %s", err, out)
		}
		port := testenv.FreeUDPPort(t)
		vm := startVM(t, img, qemu.Options{
			HostFwd:      []string{"udp:127.0.0.1:" + strconv.Itoa(port) + "-:3478"},
			ExtraCmdline: consoleJournal,
		})
		ctx, cancel := context.WithTimeout(context.Background(), bootTimeout)
		defer cancel()
		if _, err := vm.WaitConsole(ctx, "supernode ready"); err != nil {
			t.Fatal(err)
		}
		sctx, scancel := context.WithTimeout(ctx, 2*time.Minute)
		defer scancel()
		sw, err := stunSoftware(sctx, "127.0.0.1:"+strconv.Itoa(port))
		if err != nil {
			t.Fatalf("no STUN answer (did supernode-xdp get allow_bogons from the partition?): %v\n%s", err, testenv.LineWith(vm.Console(), "appliance-config"))
		}
		if sw != software {
			t.Errorf("SOFTWARE in the Binding reply = %q, want %q from the configuration partition", sw, software)
		}
		con := vm.Console()
		for _, want := range []string{"imported credential supernode.software from appliance.conf", "imported credential supernode-xdp.allow_bogons"} {
			if !strings.Contains(con, want) {
				t.Errorf("console lacks %q", want)
			}
		}
		t.Logf("console: %s", testenv.LineWith(con, "imported credential supernode.software"))
		if strings.Contains(con, "Failed to start") || strings.Contains(con, "Failed to mount") {
			t.Errorf("console: %s %s", testenv.LineWith(con, "Failed to start"), testenv.LineWith(con, "Failed to mount"))
		}
	})

	t.Run("refused", func(t *testing.T) {
		t.Parallel()
		img := rawCopy(t, dir, "refused.raw")
		area, err := confpart.Locate(img)
		if err != nil {
			t.Fatal(err)
		}
		// Written by hand on the stick, past `appliance configure`'s checks.
		bad := filepath.Join(t.TempDir(), "appliance.conf")
		os.WriteFile(bad, []byte("supernode.software="+software+"\nsystemd.extra-unit.evil.service=[Service]\n"), 0o644)
		if out, err := exec.Command("mcopy", "-o", "-i", img+"@@"+strconv.FormatInt(area.Offset, 10), bad, "::/appliance.conf").CombinedOutput(); err != nil {
			t.Fatalf("mcopy: %v %s", err, out)
		}
		port := testenv.FreeUDPPort(t)
		vm := startVM(t, img, qemu.Options{
			HostFwd:      []string{"udp:127.0.0.1:" + strconv.Itoa(port) + "-:3478"},
			ExtraCmdline: consoleJournal,
			Credentials:  map[string]string{"supernode-xdp.allow_bogons": "10.0.2.0/24"},
		})
		ctx, cancel := context.WithTimeout(context.Background(), bootTimeout)
		defer cancel()
		seen, err := vm.WaitConsole(ctx, "on the configuration partition rejected", "supernode ready")
		if err != nil {
			t.Fatal(err)
		}
		if seen != "on the configuration partition rejected" {
			if _, err := vm.WaitConsole(ctx, "on the configuration partition rejected"); err != nil {
				t.Fatalf("no rejection on the console: %v", err)
			}
		}
		line := testenv.LineWith(vm.Console(), "on the configuration partition rejected")
		t.Logf("console: %s", line)
		for _, want := range []string{"line 2", "systemd.extra-unit.evil.service", "not on the credential allowlist", "the built-in configuration serves"} {
			if !strings.Contains(line, want) {
				t.Errorf("rejection line lacks %q", want)
			}
		}
		if _, err := vm.WaitConsole(ctx, "supernode ready"); err != nil {
			t.Fatal(err)
		}
		sctx, scancel := context.WithTimeout(ctx, 2*time.Minute)
		defer scancel()
		sw, err := stunSoftware(sctx, "127.0.0.1:"+strconv.Itoa(port))
		if err != nil {
			t.Fatalf("the appliance stopped serving after a bad configuration: %v", err)
		}
		if sw != "" {
			t.Errorf("SOFTWARE %q from a refused configuration", sw)
		}
		if strings.Contains(vm.Console(), "imported credential supernode.software") {
			t.Error("half of a refused configuration was imported")
		}
	})
}
