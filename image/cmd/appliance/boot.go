package main

import (
	"context"
	"fmt"
	"github.com/supernode-appliance/appliance/internal/inventory"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/supernode-appliance/appliance/image/builder"
	"github.com/supernode-appliance/appliance/image/imds"
	"github.com/supernode-appliance/appliance/image/qemu"
)

func cmdBoot(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("boot", stderr)
	accel := fs.String("accel", "auto", "QEMU accelerator: kvm, tcg or auto (KVM if it really works here)")
	mem := fs.Int("mem", 1024, "guest memory in MiB")
	stun := inventory.STUN.Port
	port := fs.Int("port", int(stun), fmt.Sprintf("host UDP port forwarded to the supernode's %d", stun))
	secure := fs.Bool("secure-boot", false, "enforce Secure Boot (OVMF with SMM; Microsoft's keys unless -vars says otherwise)")
	vars := fs.String("vars", "", "UEFI variable store to start from, e.g. "+qemu.SnakeoilVars+" for images signed with Debian's OVMF test key")
	var cf credentialFlags
	fs.Func("config", "file of NAME=VALUE lines, each a systemd credential for the appliance (repeatable)", func(s string) error { cf.files = append(cf.files, s); return nil })
	fs.Func("credential", "one systemd credential NAME=VALUE (repeatable; wins over -config)", func(s string) error { cf.args = append(cf.args, s); return nil })
	via := fs.String("credential-via", "fw_cfg", "how the hypervisor passes the credentials: fw_cfg or smbios")
	if err := parse(fs, args); err != nil {
		return err
	}
	allow, err := imds.Allowlist()
	if err != nil {
		return err
	}
	smbios, fwcfg, err := resolveCredentials(cf, *via, allow)
	if err != nil {
		return usageError{err}
	}
	arg := defaultTemplate
	if fs.NArg() == 1 {
		arg = fs.Arg(0)
	}
	img := arg
	if strings.HasSuffix(arg, ".hcl") {
		b, _, err := builder.LoadTemplate(arg)
		if err != nil {
			return err
		}
		c := b.Config()
		img = filepath.Join(c.OutputDir, c.ImageName+".qcow2")
		if _, err := os.Stat(img); err != nil {
			img = filepath.Join(c.OutputDir, c.ImageName+".raw")
		}
	}
	if _, err := os.Stat(img); err != nil {
		return fmt.Errorf("no image at %s; build it first with 'make image'", img)
	}
	vm, err := qemu.Start(ctx, qemu.Options{
		Image: img, Accel: *accel, MemoryMB: *mem, Interactive: true, SecureBoot: *secure, Vars: *vars,
		HostFwd:     []string{fmt.Sprintf("udp::%d-:%d", *port, stun)},
		Credentials: smbios, FwCfgCredentials: fwcfg,
	})
	if err != nil {
		return err
	}
	defer vm.Close()
	sb := ""
	if *secure {
		sb = " with Secure Boot enforced"
	}
	fmt.Fprintf(stderr, "booting %s under QEMU (%s) + OVMF%s; Ctrl-A X quits; host UDP %d -> supernode %d\n", img, vm.Accel, sb, *port, stun)
	return vm.Wait(context.Background())
}
