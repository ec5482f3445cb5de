package hardening

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
)

// UKIPath is where builders before the A/B layout put the UKI on the ESP.
// Since then each version's UKI is /EFI/Linux/supernode_<version>_uki.efi
// (UKIPrefix), and an updated ESP holds two; the audit reads them all and
// audits the one carrying the expected root hash.
const UKIPath = "/EFI/Linux/supernode.efi"

// UKIPrefix starts the path of every versioned UKI on the ESP.
const UKIPrefix = "/EFI/Linux/supernode_"

// Image is an opened, verified, read-only mounted appliance image. Close
// undoes every mount, device-mapper table and loop device it made.
type Image struct {
	Target *Target
	tmp    string
	undo   []func() error
	closed bool
}

// run executes a tool of the trade and returns its stdout; on failure the
// error carries the tool's stderr.
func run(ctx context.Context, name string, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, name, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		msg := strings.TrimSpace(stderr.String())
		if msg == "" {
			msg = strings.TrimSpace(stdout.String())
		}
		if errors.Is(err, exec.ErrNotFound) {
			return "", fmt.Errorf("%s is not installed; install it (see .ci/install-deps) and retry", name)
		}
		return stdout.String(), fmt.Errorf("%s %s: %v: %s", name, strings.Join(args, " "), err, msg)
	}
	return stdout.String(), nil
}

// OpenImage opens a raw or qcow2 appliance image strictly read-only:
// qcow2 is converted to a temporary raw copy, partitions are attached as
// read-only loop devices, the UKI is copied out of the ESP with mtools,
// its roothash= must be the operator's expected root hash (o.RootHash),
// the root is verified against that hash with veritysetup verify BEFORE
// it is opened, and only then mapped and mounted read-only. If either
// fails, the returned Image's Target has Abort set and no root is
// mounted. With o.Cert the UKI's Authenticode signature is verified.
func OpenImage(ctx context.Context, path string, o ImageOptions) (img *Image, err error) {
	if err := o.check(); err != nil {
		return nil, err
	}
	if os.Geteuid() != 0 {
		return nil, errors.New("auditing an image needs root (loop devices, dm-verity, mounts); run as root")
	}
	for _, tool := range []string{"losetup", "veritysetup", "mount", "umount", "mcopy", "mdir"} {
		if _, err := exec.LookPath(tool); err != nil {
			return nil, fmt.Errorf("%s is not installed; install util-linux, mount, cryptsetup-bin and mtools", tool)
		}
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, err
	}
	if _, err := os.Stat(abs); err != nil {
		return nil, fmt.Errorf("image %s: %w; build it with 'make image' or pass --image PATH", path, err)
	}
	img = &Image{}
	defer func() {
		if err != nil {
			img.Close()
			img = nil
		}
	}()
	img.tmp, err = os.MkdirTemp("", "appliance-audit-")
	if err != nil {
		return img, err
	}
	img.push(func() error { return os.RemoveAll(img.tmp) })

	raw := abs
	if q, err := isQcow2(abs); err != nil {
		return img, err
	} else if q {
		raw = filepath.Join(img.tmp, "image.raw")
		if _, err := run(ctx, "qemu-img", "convert", "-O", "raw", abs, raw); err != nil {
			return img, err
		}
	}
	f, err := os.Open(raw)
	if err != nil {
		return img, err
	}
	parts, err := ReadGPT(f)
	f.Close()
	if err != nil {
		return img, fmt.Errorf("image %s: %w", path, err)
	}
	esp, ok1 := findPartition(parts, GUIDESP, "esp")
	_, ok2 := findPartition(parts, GUIDRootX86_64, "root")
	_, ok3 := findPartition(parts, GUIDRootVerity, "root-verity")
	if !ok1 || !ok2 || !ok3 {
		return img, fmt.Errorf("image %s: needs ESP, root and root-verity partitions (Discoverable Partitions type GUIDs or labels esp/root/root-verity); found %d partitions", path, len(parts))
	}
	espDev, err := img.loop(ctx, raw, esp)
	if err != nil {
		return img, err
	}
	// mtools reads the FAT ESP from the read-only loop device without a
	// mount (and without vfat support in the auditing kernel).
	ukiPath, ukiCopy, err := img.pickUKI(ctx, espDev, o.RootHash)
	if err != nil {
		return img, fmt.Errorf("image %s: %w", path, err)
	}
	uki, err := ReadUKI(ukiCopy)
	if err != nil {
		return img, fmt.Errorf("image %s: %w", path, err)
	}
	// The slot this UKI boots: the partitions its root hash names.
	rootHash := cmdlineValues(uki.Cmdline)["roothash"]
	root, _ := pickSlot(parts, GUIDRootX86_64, "root", rootHash, false)
	verity, _ := pickSlot(parts, GUIDRootVerity, "root-verity", rootHash, true)
	rootDev, err := img.loop(ctx, raw, root)
	if err != nil {
		return img, err
	}
	verityDev, err := img.loop(ctx, raw, verity)
	if err != nil {
		return img, err
	}
	facts := &ImageFacts{Path: abs, UKI: "ESP:" + ukiPath, UKIFile: ukiCopy, UKISections: uki.Sections,
		RootSlot: fmt.Sprintf("#%d %s", root.Index, root.Label), VeritySlot: fmt.Sprintf("#%d %s", verity.Index, verity.Label),
		RootSlots: slotSummary(parts, GUIDRootX86_64), VeritySlots: slotSummary(parts, GUIDRootVerity),
		RootHash: cmdlineValues(uki.Cmdline)["roothash"], SignatureSize: uki.SignatureSize,
		Expected: o, RootHashTokens: len(cmdlineAll(uki.Cmdline, "roothash"))}
	t := &Target{Name: abs, Image: facts, Cmdline: uki.Cmdline, CmdlineWhere: "ESP:" + ukiPath + " .cmdline",
		Debug: o.Debug, Proc: "/proc", Sys: "/sys",
		Facts: map[string]string{"image": abs, "roothash": facts.RootHash, "expected_roothash": o.RootHash + " (" + o.RootHashFrom + ")"}}
	img.Target = t
	if o.Cert != nil {
		facts.SignatureOutput, err = VerifyAuthenticode(ukiCopy, o.Cert)
		facts.SignatureVerified = err == nil
		if err != nil {
			facts.SignatureOutput = err.Error()
		}
		err = nil
	}
	if facts.RootHash == "" {
		t.Abort = "the UKI command line carries no roothash=, so the root cannot be verified"
		facts.VerityOutput = "no roothash"
		return img, nil
	}
	if facts.RootHash != o.RootHash || facts.RootHashTokens != 1 {
		t.Abort = fmt.Sprintf("the UKI's command line has roothash=%s (%d roothash= token(s)), not the expected %s from %s: this is not the image that was published", facts.RootHash, facts.RootHashTokens, o.RootHash, o.RootHashFrom)
		facts.VerityOutput = "not verified: " + t.Abort
		return img, nil
	}
	// Integrity first: every data block against the hash tree, the tree
	// against the operator's root hash (which the UKI carries too).
	out, verr := run(ctx, "veritysetup", "verify", rootDev, verityDev, o.RootHash)
	if verr != nil {
		if ctx.Err() != nil {
			return img, ctx.Err()
		}
		facts.VerityOutput = "verification FAILED: " + lastLine(verr.Error())
		t.Abort = "root integrity verification failed (" + lastLine(verr.Error()) + ")"
		return img, nil
	}
	facts.VerityVerified = true
	facts.VerityOutput = "verified"
	if s := strings.TrimSpace(out); s != "" {
		facts.VerityOutput += " (" + lastLine(s) + ")"
	}
	// Mount through a dm-verity mapping, so every block read is checked
	// again. Kernels without device-mapper (some CI VMs) mount the loop
	// device that veritysetup verify has just checked block by block; the
	// loop device is read-only, and the fact is recorded as evidence.
	dev := rootDev
	name := "appliance-audit-" + randHex(6)
	if _, err := run(ctx, "veritysetup", "open", rootDev, name, verityDev, facts.RootHash); err == nil {
		img.push(func() error { _, err := run(context.Background(), "veritysetup", "close", name); return err })
		dev = "/dev/mapper/" + name
		t.Facts["root_device"] = "dm-verity mapping " + dev
	} else if haveDeviceMapper() {
		return img, err
	} else {
		t.Facts["root_device"] = "verified read-only loop device " + rootDev + " (no device-mapper in the auditing kernel)"
		facts.VerityOutput += "; mounted from the verified read-only loop device (no device-mapper here)"
	}
	rootDir, err := img.mount(ctx, dev, "root", "erofs", "ro,nodev,nosuid,noexec")
	if err != nil {
		return img, err
	}
	t.Root = rootDir
	t.readStamp()
	t.Debug = o.Debug // the operator's word, never the image's stamp
	return img, nil
}

// pickUKI lists /EFI/Linux on the ESP and copies out the UKI to audit:
// the only one, or, when an update put a second version beside it, the one
// whose command line carries rootHash (the operator's); if none does, the
// first, whose wrong hash then aborts the audit. Legacy images have
// /EFI/Linux/supernode.efi, versioned ones supernode_<version>_uki.efi
// (with systemd-boot's try counter "+N-M" before .efi while untested).
func (img *Image) pickUKI(ctx context.Context, espDev, rootHash string) (string, string, error) {
	out, err := run(ctx, "mdir", "-b", "-i", espDev, "::/EFI/Linux")
	if err != nil {
		return "", "", fmt.Errorf("no /EFI/Linux on the ESP: %w", err)
	}
	var cands []string
	for _, line := range strings.Split(out, "\n") {
		name := strings.TrimSpace(line)
		name = name[strings.LastIndex(name, "/")+1:]
		p := "/EFI/Linux/" + name
		if strings.HasSuffix(strings.ToLower(name), ".efi") && (p == UKIPath || strings.HasPrefix(p, UKIPrefix)) {
			cands = append(cands, p)
		}
	}
	if len(cands) == 0 {
		return "", "", fmt.Errorf("no UKI (%s or %s<version>_uki.efi) on the ESP", UKIPath, UKIPrefix)
	}
	sort.Strings(cands)
	var first, firstCopy string
	for i, p := range cands {
		dst := filepath.Join(img.tmp, fmt.Sprintf("uki-%d.efi", i))
		if _, err := run(ctx, "mcopy", "-n", "-i", espDev, "::"+p, dst); err != nil {
			return "", "", fmt.Errorf("no UKI at %s on the ESP: %w", p, err)
		}
		if first == "" {
			first, firstCopy = p, dst
		}
		if u, err := ReadUKI(dst); err == nil && rootHash != "" && cmdlineValues(u.Cmdline)["roothash"] == rootHash {
			return p, dst, nil
		}
	}
	return first, firstCopy, nil
}

// haveDeviceMapper reports whether the running kernel has device-mapper
// (it registers the "device-mapper" block major in /proc/devices).
func haveDeviceMapper() bool {
	b, err := os.ReadFile("/proc/devices")
	return err == nil && strings.Contains(string(b), " device-mapper\n")
}

func lastLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.LastIndex(s, "\n"); i >= 0 {
		return s[i+1:]
	}
	return s
}

func randHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

func (img *Image) push(f func() error) { img.undo = append(img.undo, f) }

// loop attaches one partition as a read-only loop device.
func (img *Image) loop(ctx context.Context, file string, p Partition) (string, error) {
	out, err := run(ctx, "losetup", "--find", "--show", "--read-only",
		"--offset", fmt.Sprint(p.Offset), "--sizelimit", fmt.Sprint(p.Size), file)
	if err != nil {
		return "", err
	}
	dev := strings.TrimSpace(out)
	img.push(func() error { _, err := run(context.Background(), "losetup", "--detach", dev); return err })
	return dev, nil
}

func (img *Image) mount(ctx context.Context, dev, name, fstype, opts string) (string, error) {
	dir := filepath.Join(img.tmp, name)
	if err := os.Mkdir(dir, 0o700); err != nil {
		return "", err
	}
	if _, err := run(ctx, "mount", "-t", fstype, "-o", opts, dev, dir); err != nil {
		return "", err
	}
	img.push(func() error { _, err := run(context.Background(), "umount", dir); return err })
	return dir, nil
}

// Close unmounts, closes the verity mapping, detaches loop devices and
// removes the temporary directory, in reverse order. It is safe to call
// more than once.
func (img *Image) Close() error {
	if img == nil || img.closed {
		return nil
	}
	img.closed = true
	var errs []error
	for i := len(img.undo) - 1; i >= 0; i-- {
		if err := img.undo[i](); err != nil {
			errs = append(errs, err)
		}
	}
	img.undo = nil
	return errors.Join(errs...)
}
