// Package qemu boots an appliance image under QEMU with OVMF (UEFI), with
// the serial console captured, QMP for an ACPI power-down, and user-mode
// networking with forwarded ports. `appliance boot` and the end-to-end
// tests use it.
package qemu

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Options describe one VM.
type Options struct {
	Image    string   // raw or qcow2 disk image
	Accel    string   // "kvm", "tcg" or "auto" (default)
	MemoryMB int      // default 1024
	CPUs     int      // default 2
	HostFwd  []string // QEMU hostfwd rules, e.g. "udp:127.0.0.1:34780-:3478"
	// Console receives the serial console; nil means a log file in the
	// VM's directory (see VM.ConsolePath). Interactive puts the serial
	// console and the QEMU monitor on the terminal instead.
	Console     io.Writer
	Interactive bool
	// Writable boots the image itself instead of a throw-away snapshot.
	Writable bool
	// Reboot lets a guest reboot restart the machine (the update tests);
	// by default QEMU exits instead.
	Reboot bool
	// HotplugPorts adds PCIe root ports hotplug-0 ... for AttachDisk.
	HotplugPorts int
	// Disks are further raw disks (virtio, writable), after Image.
	Disks []string
	// Binary overrides qemu-system-x86_64.
	Binary string
	// ExtraCmdline is passed as SMBIOS io.systemd.stub.kernel-cmdline-extra.
	// The stock sd-stub of an unsigned image appends it to the command
	// line; a signed image's stub is patched never to read it (image
	// README, "Secure Boot"), so it signs in what it needs instead.
	ExtraCmdline string
	// Credentials are systemd credentials passed by SMBIOS type 11
	// (name -> value), e.g. "supernode.conf" for a per-instance config.
	// The image imports only allowlisted names (hardening control
	// boot-credential-allowlist).
	Credentials map[string]string
	// FwCfgCredentials are systemd credentials passed by QEMU's fw_cfg
	// (opt/io.systemd.credentials/NAME, each value in a file of the VM's
	// directory, so any byte is safe). Names are at most
	// MaxFwCfgCredentialName bytes. The same allowlist holds; the image
	// needs qemu_fw_cfg in its initrd and root (images built since issue 13).
	FwCfgCredentials map[string]string
	// SMBIOS are further raw SMBIOS type 11 OEM strings (hostile tests).
	SMBIOS []string
	// SecureBoot boots firmware that enforces Secure Boot (OVMF built
	// with SMM, whose variable store is write-protected from the OS).
	SecureBoot bool
	// NetNS runs QEMU inside this named network namespace (ip netns), so
	// Tap names an interface there.
	NetNS string
	// Tap, when set, attaches the NIC to this existing tap interface
	// (script=no) instead of user-mode networking; HostFwd must be empty.
	// MAC is the NIC's address (default: QEMU's).
	Tap string
	MAC string
	// Vars is the UEFI variable store the VM's copy is made from; "" is
	// the default for the mode: no keys, or with SecureBoot Microsoft's
	// (OVMF_VARS_4M.ms.fd). SnakeoilVars has the ovmf package's test key
	// enrolled, for images signed with SnakeoilKey/SnakeoilCert.
	Vars string
}

// Debian's ovmf package ships a test key and a variable store with it
// enrolled as PK, KEK and db, to try Secure Boot without real keys. The
// key is encrypted with the passphrase "snakeoil".
const (
	SecureBootCode = "/usr/share/OVMF/OVMF_CODE_4M.secboot.fd"
	MicrosoftVars  = "/usr/share/OVMF/OVMF_VARS_4M.ms.fd"
	SnakeoilVars   = "/usr/share/OVMF/OVMF_VARS_4M.snakeoil.fd"
	SnakeoilKey    = "/usr/share/ovmf/PkKek-1-snakeoil.key"
	SnakeoilCert   = "/usr/share/ovmf/PkKek-1-snakeoil.pem"
)

// VM is a running QEMU.
type VM struct {
	cmd         *exec.Cmd
	dir         string
	qmpPath     string
	ConsolePath string
	Accel       string
	done        chan struct{}
	waitErr     error
	// Restarts counts the times the guest was started again after the
	// TCG fault (see tcgFault); earlier holds the consoles of those runs.
	Restarts int
	earlier  string
	stopped  bool // Kill or Close: never restart
	mu       sync.Mutex
}

// tcgFaultSignature is how a guest dies of a fault of QEMU's
// multi-threaded TCG (QEMU 7.2, Debian 12's): the kernel patches its own
// code live (text_poke_bp writes an int3, syncs every CPU, then writes the
// real byte), and a vCPU waking from idle still executes the int3 after
// the patch is complete: "Oops: int3" in code that has no int3, in early
// boot. It never happens on hardware or under KVM. Running the vCPUs in
// one thread (thread=single) or one vCPU avoids it but makes a TCG boot
// 50% slower (BENCHMARKS.md), so the harness restarts such a guest once.
const tcgFaultSignature = "Oops: int3"

// tcgFault reports whether console shows the guest dying of the TCG
// fault: the signature, then the kernel panic it leads to.
func tcgFault(console string) bool {
	i := strings.Index(console, tcgFaultSignature)
	return i >= 0 && strings.Contains(console[i:], "Kernel panic")
}

// FindOVMF returns Debian's OVMF firmware code and variable-store template
// (package ovmf), preferring the 4 MiB build.
func FindOVMF() (code, vars string, err error) {
	for _, pair := range [][2]string{
		{"/usr/share/OVMF/OVMF_CODE_4M.fd", "/usr/share/OVMF/OVMF_VARS_4M.fd"},
		{"/usr/share/OVMF/OVMF_CODE.fd", "/usr/share/OVMF/OVMF_VARS.fd"},
		{"/usr/share/edk2/x64/OVMF_CODE.4m.fd", "/usr/share/edk2/x64/OVMF_VARS.4m.fd"},
	} {
		if _, err := os.Stat(pair[0]); err == nil {
			if _, err := os.Stat(pair[1]); err == nil {
				return pair[0], pair[1], nil
			}
		}
	}
	return "", "", errors.New("OVMF UEFI firmware not found; install the Debian package ovmf")
}

// ResolveAccel turns "auto" into "kvm" when KVM really runs guests here and
// "tcg" otherwise. /dev/kvm existing is not enough: nested KVM can fail at
// run time with "KVM internal error ... emulation failure", so auto boots
// the firmware under KVM for a few seconds and watches for that.
func ResolveAccel(ctx context.Context, accel, binary string) (string, error) {
	switch accel {
	case "kvm", "tcg":
		return accel, nil
	case "", "auto":
	default:
		return "", fmt.Errorf("accelerator %q: use kvm, tcg or auto", accel)
	}
	f, err := os.OpenFile("/dev/kvm", os.O_RDWR, 0)
	if err != nil {
		return "tcg", nil
	}
	f.Close()
	code, _, err := FindOVMF()
	if err != nil {
		return "", err
	}
	if binary == "" {
		binary = "qemu-system-x86_64"
	}
	ctx, cancel := context.WithTimeout(ctx, 6*time.Second)
	defer cancel()
	out, _ := exec.CommandContext(ctx, binary, "-accel", "kvm", "-machine", "q35", "-m", "256",
		"-nodefaults", "-display", "none", "-serial", "none",
		"-drive", "if=pflash,format=raw,readonly=on,file="+code).CombinedOutput()
	if strings.Contains(string(out), "KVM internal error") || strings.Contains(string(out), "failed to initialize kvm") || strings.Contains(string(out), "Could not access KVM") {
		return "tcg", nil
	}
	return "kvm", nil
}

// Start boots the VM. Stop it with Powerdown (ACPI, clean) or Kill.
func Start(ctx context.Context, o Options) (*VM, error) {
	if o.MemoryMB == 0 {
		o.MemoryMB = 1024
	}
	if o.CPUs == 0 {
		o.CPUs = 2
	}
	if o.Binary == "" {
		o.Binary = "qemu-system-x86_64"
	}
	if _, err := exec.LookPath(o.Binary); err != nil {
		return nil, fmt.Errorf("%s not found; install the Debian package qemu-system-x86", o.Binary)
	}
	code, varsTemplate, err := FindOVMF()
	if err != nil {
		return nil, err
	}
	machine := "q35"
	if o.SecureBoot {
		code, varsTemplate, machine = SecureBootCode, MicrosoftVars, "q35,smm=on"
		if _, err := os.Stat(code); err != nil {
			return nil, fmt.Errorf("Secure Boot firmware %s not found; install the Debian package ovmf", code)
		}
	}
	if o.Vars != "" {
		varsTemplate = o.Vars
	}
	if _, err := os.Stat(varsTemplate); err != nil {
		return nil, fmt.Errorf("UEFI variable store %s not found; give an existing file (the ovmf package installs them in /usr/share/OVMF)", varsTemplate)
	}
	format, err := imageFormat(o.Image)
	if err != nil {
		return nil, err
	}
	accel, err := ResolveAccel(ctx, o.Accel, o.Binary)
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "appliance-vm-")
	if err != nil {
		return nil, err
	}
	vm := &VM{dir: dir, qmpPath: filepath.Join(dir, "qmp.sock"), ConsolePath: filepath.Join(dir, "console.log"), Accel: accel, done: make(chan struct{})}
	// Each VM gets its own copy of the UEFI variable store.
	vars := filepath.Join(dir, "OVMF_VARS.fd")
	if err := copyFile(varsTemplate, vars); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	drive := fmt.Sprintf("file=%s,if=virtio,format=%s,cache=unsafe", o.Image, format)
	if !o.Writable {
		drive += ",snapshot=on"
	}
	nic := "user,model=virtio-net-pci"
	for _, f := range o.HostFwd {
		nic += ",hostfwd=" + f
	}
	if o.Tap != "" {
		if len(o.HostFwd) > 0 {
			os.RemoveAll(dir)
			return nil, errors.New("qemu: HostFwd needs user-mode networking; it cannot be combined with Tap")
		}
		nic = "tap,model=virtio-net-pci,script=no,downscript=no,ifname=" + smbiosEscape(o.Tap)
	}
	if o.MAC != "" {
		nic += ",mac=" + o.MAC
	}
	args := []string{
		"-machine", machine, "-accel", accel, "-cpu", cpuModel(accel),
		"-m", fmt.Sprint(o.MemoryMB), "-smp", fmt.Sprint(o.CPUs),
		"-drive", "if=pflash,format=raw,readonly=on,file=" + code,
		"-drive", "if=pflash,format=raw,file=" + vars,
		"-drive", drive,
		"-nic", nic,
		"-device", "virtio-rng-pci",
		"-qmp", "unix:" + vm.qmpPath + ",server=on,wait=off",
	}
	if !o.Reboot {
		args = append(args, "-no-reboot")
	}
	for _, d := range o.Disks {
		args = append(args, "-drive", "file="+d+",if=virtio,format=raw,cache=unsafe")
	}
	for i := 0; i < o.HotplugPorts; i++ {
		args = append(args, "-device", fmt.Sprintf("pcie-root-port,id=hotplug-%d,chassis=%d", i, i+1))
	}
	if o.SecureBoot {
		// Only code running in SMM may write the variable store.
		args = append(args, "-global", "driver=cfi.pflash01,property=secure,value=on")
	}
	if o.ExtraCmdline != "" {
		args = append(args, "-smbios", "type=11,value=io.systemd.stub.kernel-cmdline-extra="+smbiosEscape(o.ExtraCmdline))
	}
	creds, err := credentialArgs(dir, o.Credentials, o.FwCfgCredentials)
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	args = append(args, creds...)
	for _, v := range o.SMBIOS {
		args = append(args, "-smbios", "type=11,value="+smbiosEscape(v))
	}
	if o.Interactive {
		args = append(args, "-nographic")
	} else {
		args = append(args, "-nodefaults", "-display", "none", "-monitor", "none", "-serial", "file:"+vm.ConsolePath)
	}
	newCmd := func(args []string) (*exec.Cmd, error) {
		cmd := exec.Command(o.Binary, args...)
		if o.NetNS != "" {
			// ip netns exec execs QEMU in place: the process is QEMU itself.
			cmd = exec.Command("ip", append([]string{"netns", "exec", o.NetNS, o.Binary}, args...)...)
		}
		if o.Interactive {
			cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
		} else {
			cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
			errLog, _ := os.OpenFile(filepath.Join(dir, "qemu.stderr"), os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
			cmd.Stdout, cmd.Stderr = errLog, errLog
		}
		return cmd, cmd.Start()
	}
	cmd, err := newCmd(args)
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	vm.cmd = cmd
	// Under TCG a guest that dies of the emulator's stale-int3 fault
	// (tcgFault) is started once more, as a power cycle would; its console
	// so far stays at the start of Console(). Only a VM whose console the
	// harness owns and that exits on a guest reset can be restarted.
	restartable := accel == "tcg" && !o.Reboot && !o.Interactive && o.Console == nil
	go func() {
		for {
			err := cmd.Wait()
			vm.mu.Lock()
			again := restartable && !vm.stopped && vm.Restarts == 0 && tcgFault(vm.current())
			if again {
				vm.earlier += vm.current() + "\n[qemu harness: the guest died of QEMU TCG's stale-int3 fault (" + tcgFaultSignature + "); starting it once more]\n"
				vm.ConsolePath = filepath.Join(dir, fmt.Sprintf("console.%d.log", vm.Restarts+1))
				args[len(args)-1] = "file:" + vm.ConsolePath
				var serr error
				if cmd, serr = newCmd(args); serr == nil {
					vm.cmd, vm.Restarts = cmd, vm.Restarts+1
					vm.mu.Unlock()
					continue
				}
				err = serr
			}
			vm.waitErr = err
			vm.mu.Unlock()
			close(vm.done)
			return
		}
	}()
	if o.Console != nil && !o.Interactive {
		go vm.follow(o.Console)
	}
	return vm, nil
}

// cpuModel: "host" under KVM; under TCG a model with the x86-64-v2
// features Debian's userland may use.
func cpuModel(accel string) string {
	if accel == "kvm" {
		return "host"
	}
	return "max"
}

// MaxFwCfgCredentialName is the longest credential name fw_cfg carries:
// fw_cfg file names are at most 55 bytes, and systemd reads credentials
// from opt/io.systemd.credentials/ (27 bytes).
const MaxFwCfgCredentialName = 55 - len(fwCfgCredentialDir)

const fwCfgCredentialDir = "opt/io.systemd.credentials/"

// CheckCredentialName accepts what systemd accepts as a credential name
// (a file name: not empty, ".", "..", no '/', at most 255 bytes), limited
// to printable ASCII so that it reads the same in every log.
func CheckCredentialName(name string) error {
	if name == "" || name == "." || name == ".." || len(name) > 255 || strings.Contains(name, "/") {
		return fmt.Errorf("credential name %q is not a plain file name", name)
	}
	for _, r := range name {
		if r < 0x21 || r > 0x7e {
			return fmt.Errorf("credential name %q has a character outside printable ASCII", name)
		}
	}
	return nil
}

// credentialArgs returns the QEMU options passing the credentials, names
// sorted (the same maps give the same command line): SMBIOS type 11 OEM
// strings, and fw_cfg files whose contents are written into dir.
func credentialArgs(dir string, smbios, fwcfg map[string]string) ([]string, error) {
	var args []string
	for _, name := range sortedKeys(smbios) {
		if err := CheckCredentialName(name); err != nil {
			return nil, err
		}
		args = append(args, "-smbios", "type=11,value=io.systemd.credential:"+smbiosEscape(name)+"="+smbiosEscape(smbios[name]))
	}
	for i, name := range sortedKeys(fwcfg) {
		if err := CheckCredentialName(name); err != nil {
			return nil, err
		}
		if len(name) > MaxFwCfgCredentialName {
			return nil, fmt.Errorf("credential name %q is longer than the %d bytes fw_cfg carries; pass it by SMBIOS instead", name, MaxFwCfgCredentialName)
		}
		file := filepath.Join(dir, fmt.Sprintf("fwcfg-credential-%d", i))
		if err := os.WriteFile(file, []byte(fwcfg[name]), 0o600); err != nil {
			return nil, err
		}
		args = append(args, "-fw_cfg", "name="+smbiosEscape(fwCfgCredentialDir+name)+",file="+smbiosEscape(file))
	}
	return args, nil
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// smbiosEscape doubles commas, QEMU's option separator.
func smbiosEscape(s string) string { return strings.ReplaceAll(s, ",", ",,") }

func imageFormat(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", fmt.Errorf("image %s: %w", path, err)
	}
	defer f.Close()
	magic := make([]byte, 4)
	if _, err := io.ReadFull(f, magic); err != nil {
		return "", fmt.Errorf("image %s is too short to be a disk", path)
	}
	if string(magic) == "QFI\xfb" {
		return "qcow2", nil
	}
	return "raw", nil
}

// follow copies the console log to w as it grows, until the VM exits.
func (vm *VM) follow(w io.Writer) {
	var f *os.File
	for f == nil {
		f, _ = os.Open(vm.ConsolePath)
		if f == nil {
			select {
			case <-vm.done:
				return
			case <-time.After(100 * time.Millisecond):
			}
		}
	}
	defer f.Close()
	buf := make([]byte, 32<<10)
	for {
		n, _ := f.Read(buf)
		if n > 0 {
			w.Write(buf[:n])
			continue
		}
		select {
		case <-vm.done:
			if n, _ := io.CopyBuffer(w, f, buf); n > 0 {
				continue
			}
			return
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// Console returns the serial console output so far (of every run, when
// the guest was restarted after the TCG fault).
func (vm *VM) Console() string {
	vm.mu.Lock()
	defer vm.mu.Unlock()
	return vm.earlier + vm.current()
}

// LastConsole is the console of the last run only: what a test that
// forbids a panic checks after a restart (see tcgFault).
func (vm *VM) LastConsole() string {
	vm.mu.Lock()
	defer vm.mu.Unlock()
	return vm.current()
}

// current is the console of the running QEMU; vm.mu is held.
func (vm *VM) current() string {
	b, _ := os.ReadFile(vm.ConsolePath)
	return string(b)
}

// WaitConsole waits until the console contains any of want; it returns the
// one seen. It fails when the VM exits or ctx ends first.
func (vm *VM) WaitConsole(ctx context.Context, want ...string) (string, error) {
	for {
		out := vm.Console()
		for _, w := range want {
			if strings.Contains(out, w) {
				return w, nil
			}
		}
		select {
		case <-ctx.Done():
			return "", fmt.Errorf("waiting for %q on the serial console: %w", want, ctx.Err())
		case <-vm.done:
			out = vm.Console()
			for _, w := range want {
				if strings.Contains(out, w) {
					return w, nil
				}
			}
			return "", fmt.Errorf("VM exited (%v) before %q appeared on the serial console", vm.waitErr, want)
		case <-time.After(250 * time.Millisecond):
		}
	}
}

// Kill ends QEMU at once, as a power cut or a crashed host would; the
// console log stays readable until Close.
func (vm *VM) Kill() error {
	if vm.Exited() {
		return nil
	}
	vm.mu.Lock()
	vm.stopped = true
	err := vm.cmd.Process.Kill()
	vm.mu.Unlock()
	<-vm.done
	return err
}

// Powerdown presses the ACPI power button through QMP (system_powerdown):
// the guest shuts down cleanly, as on a real host.
func (vm *VM) Powerdown() error { return vm.qmp("system_powerdown", nil) }

// AttachDisk plugs a read-only raw disk into root port hotplug-PORT as a
// virtio disk named id, as if a USB stick were put in.
func (vm *VM) AttachDisk(id, path string, port int) error {
	if err := vm.qmp("blockdev-add", map[string]any{
		"driver": "raw", "node-name": id, "read-only": true,
		"file": map[string]any{"driver": "file", "filename": path, "read-only": true},
	}); err != nil {
		return err
	}
	return vm.qmp("device_add", map[string]any{"driver": "virtio-blk-pci", "drive": id, "id": id, "bus": fmt.Sprintf("hotplug-%d", port)})
}

// DetachDisk unplugs a disk AttachDisk plugged in and waits (at most
// until ctx ends) for the guest to let it go.
func (vm *VM) DetachDisk(ctx context.Context, id string) error {
	if err := vm.qmp("device_del", map[string]any{"id": id}); err != nil {
		return err
	}
	for {
		// The node stays in use until the guest released the device.
		err := vm.qmp("blockdev-del", map[string]any{"node-name": id})
		if err == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("unplug %s: %v (last: %v)", id, ctx.Err(), err)
		case <-time.After(time.Second):
		}
	}
}

func (vm *VM) qmp(command string, arguments map[string]any) error {
	conn, err := net.DialTimeout("unix", vm.qmpPath, 5*time.Second)
	if err != nil {
		return fmt.Errorf("QMP: %w", err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(10 * time.Second))
	r := bufio.NewReader(conn)
	if _, err := r.ReadBytes('\n'); err != nil { // greeting
		return fmt.Errorf("QMP greeting: %w", err)
	}
	for _, c := range []string{"qmp_capabilities", command} {
		req := map[string]any{"execute": c}
		if c == command && arguments != nil {
			req["arguments"] = arguments
		}
		if err := json.NewEncoder(conn).Encode(req); err != nil {
			return err
		}
		for {
			line, err := r.ReadBytes('\n')
			if err != nil {
				return fmt.Errorf("QMP %s: %w", c, err)
			}
			var resp map[string]json.RawMessage
			if json.Unmarshal(line, &resp) != nil {
				continue
			}
			if e, ok := resp["error"]; ok {
				return fmt.Errorf("QMP %s: %s", c, e)
			}
			if _, ok := resp["return"]; ok {
				break
			}
		}
	}
	return nil
}

// Wait waits for QEMU to exit, at most until ctx ends.
func (vm *VM) Wait(ctx context.Context) error {
	select {
	case <-vm.done:
		return vm.waitErr
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Exited reports whether QEMU has exited.
func (vm *VM) Exited() bool {
	select {
	case <-vm.done:
		return true
	default:
		return false
	}
}

// Close kills QEMU if it still runs and removes the VM's files.
func (vm *VM) Close() error {
	if !vm.Exited() {
		vm.mu.Lock()
		vm.stopped = true
		vm.cmd.Process.Kill()
		vm.mu.Unlock()
		<-vm.done
	}
	return os.RemoveAll(vm.dir)
}

// Stderr returns QEMU's own messages (not the guest's).
func (vm *VM) Stderr() string {
	b, _ := os.ReadFile(filepath.Join(vm.dir, "qemu.stderr"))
	return string(b)
}

func copyFile(src, dst string) error {
	b, err := os.ReadFile(src)
	if err != nil {
		return err
	}
	return os.WriteFile(dst, b, 0o600)
}
