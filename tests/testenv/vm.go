package testenv

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/supernode-appliance/appliance/image/qemu"
)

// StartVM starts o under QEMU (accelerator QEMUAccel unless o sets one)
// and stops it when the test ends. A failed test keeps the whole serial
// console in $TMPDIR/appliance-console-<test>.log and logs its last 6000
// bytes and QEMU's stderr.
func StartVM(t testing.TB, o qemu.Options) *qemu.VM {
	t.Helper()
	if o.Accel == "" {
		o.Accel = QEMUAccel()
	}
	vm, err := qemu.Start(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if vm.Restarts > 0 {
			t.Logf("the guest died of QEMU TCG's int3 fault and was started %d more time(s); both consoles are in Console()", vm.Restarts)
		}
		if t.Failed() {
			keep := filepath.Join(os.TempDir(), "appliance-console-"+strings.ReplaceAll(t.Name(), "/", "_")+".log")
			os.WriteFile(keep, []byte(vm.Console()), 0o644)
			c := vm.Console()
			if len(c) > 6000 {
				c = c[len(c)-6000:]
			}
			t.Logf("serial console saved to %s; last 6000 bytes:\n%s", keep, c)
			t.Logf("qemu stderr:\n%s", vm.Stderr())
		}
		vm.Close()
	})
	t.Logf("booting %s with %s", filepath.Base(o.Image), vm.Accel)
	return vm
}

// SecureBootKey checks for the Secure Boot firmware and test keys of
// Debian's ovmf package (a missing file fails the test in CI and skips it
// elsewhere) and writes the test signing key, which ovmf ships encrypted
// with the passphrase "snakeoil", unencrypted to path: the builder takes
// an unencrypted key, as sbsign does.
func SecureBootKey(t testing.TB, path string) {
	t.Helper()
	RequireCommands(t, "openssl")
	for _, f := range []string{qemu.SecureBootCode, qemu.SnakeoilVars, qemu.SnakeoilKey, qemu.SnakeoilCert} {
		if _, err := os.Stat(f); err != nil {
			if InCI() {
				t.Fatalf("%s missing: install the Debian package ovmf", f)
			}
			t.Skipf("%s missing: install the Debian package ovmf", f)
		}
	}
	if out, err := exec.Command("openssl", "pkey", "-in", qemu.SnakeoilKey, "-passin", "pass:snakeoil", "-out", path).CombinedOutput(); err != nil {
		t.Fatalf("decrypt the ovmf test key: %v\n%s", err, out)
	}
}
