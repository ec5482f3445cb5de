package hardening

import (
	"bytes"
	"context"
	"debug/pe"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// SignedCmdlineFile holds, in the verified root, the kernel command line
// the image was built with, its root hash replaced by RootHashPlaceholder
// (the root cannot contain its own hash). The root hash is on the signed
// command line, so this file is as trustworthy as the signature: the live
// audit compares /proc/cmdline with it token for token.
const (
	SignedCmdlineFile   = "/usr/lib/supernode/kernel-cmdline"
	RootHashPlaceholder = "@ROOTHASH@"
)

// checkSignedCmdline: the kernel command line (live: /proc/cmdline;
// offline: the UKI's .cmdline) is exactly the recorded one, with exactly
// one roothash=: nothing appended (SMBIOS io.systemd.stub.kernel-cmdline-extra,
// a loader's options), nothing overridden (a second roothash=, rd.break).
func checkSignedCmdline(c *Control, t *Target) (bool, []Evidence, error) {
	b, err := os.ReadFile(inRoot(t.Root, SignedCmdlineFile))
	if err != nil {
		return false, []Evidence{{Where: SignedCmdlineFile, Found: "missing", Expected: "the command line the image was built with"}}, nil
	}
	hashes := cmdlineAll(t.Cmdline, "roothash")
	hash := ""
	if len(hashes) > 0 {
		hash = hashes[len(hashes)-1]
	}
	if t.Image != nil {
		hash = t.Image.Expected.RootHash
	}
	want := ExpectedCmdline(string(b), hash, t.Cmdline)
	ev := []Evidence{{Where: t.CmdlineWhere, Found: fmt.Sprintf("%d roothash= token(s)", len(hashes)), Expected: "exactly 1", OK: len(hashes) == 1}}
	extra, missing := tokenDiff(strings.Fields(t.Cmdline), strings.Fields(want))
	found := "identical to " + SignedCmdlineFile
	if len(extra)+len(missing) > 0 {
		found = fmt.Sprintf("differs: not signed %q, signed but absent %q", strings.Join(extra, " "), strings.Join(missing, " "))
	}
	ok := strings.Join(strings.Fields(t.Cmdline), " ") == strings.Join(strings.Fields(want), " ")
	if ok {
		found = "identical to " + SignedCmdlineFile
	} else if len(extra)+len(missing) == 0 {
		found = "same tokens in another order"
	}
	ev = append(ev, Evidence{Where: t.CmdlineWhere, Found: found, Expected: "exactly the signed command line", OK: ok})
	return allOK(ev), ev, nil
}

// tokenDiff returns the tokens of have not in want and of want not in
// have (as multisets).
func tokenDiff(have, want []string) (extra, missing []string) {
	n := map[string]int{}
	for _, w := range want {
		n[w]++
	}
	for _, h := range have {
		if n[h] > 0 {
			n[h]--
		} else {
			extra = append(extra, h)
		}
	}
	m := map[string]int{}
	for _, h := range have {
		m[h]++
	}
	for _, w := range want {
		if m[w] > 0 {
			m[w]--
		} else {
			missing = append(missing, w)
		}
	}
	return extra, missing
}

// secureBootOn reads the SecureBoot EFI variable (live).
func secureBootOn(t *Target) bool {
	b, err := os.ReadFile(filepath.Join(t.Sys, "firmware/efi/efivars/SecureBoot-8be4df61-93ca-11d2-aa0d-00e098032b8c"))
	return err == nil && len(b) == 5 && b[4] == 1
}

// checkInitrdNoShell decompresses the UKI's .initrd (zstd, as dracut
// wrote it) and lists anything a command line could turn into a shell
// (InitrdForbidden).
func checkInitrdNoShell(c *Control, t *Target) (bool, []Evidence, error) {
	if t.Image == nil || t.Image.UKIFile == "" {
		return false, nil, errAt(t.Name, "a root directory or a running system, not a built image", "a built image (--image)", errors.New("not an image: the initrd can only be checked in a built image (--image)"))
	}
	f, err := pe.Open(t.Image.UKIFile)
	if err != nil {
		return false, nil, errAt(t.Image.UKI, "not a readable PE file: "+err.Error(), "a UKI", err)
	}
	defer f.Close()
	s := f.Section(".initrd")
	if s == nil {
		// The hardened kernel has none: nothing runs before the verified root.
		ok := KernelMapsRoot(t.Cmdline, t.Image.RootHash)
		return ok, []Evidence{{Where: t.Image.UKI, Found: "no .initrd section; the kernel maps the verity root itself: " + fmt.Sprint(ok),
			Expected: "no shell in an initrd, or no initrd and dm-mod.create= verifying against the root hash", OK: ok}}, nil
	}
	data, err := s.Data()
	if err != nil {
		return false, nil, errAt(t.Image.UKI+" .initrd", "unreadable: "+err.Error(), "an initrd", err)
	}
	if int(s.VirtualSize) < len(data) {
		data = data[:s.VirtualSize]
	}
	if _, err := exec.LookPath("zstd"); err != nil {
		return false, nil, errAt(t.Image.UKI+" .initrd", "not decompressed: no zstd on the auditing host", "an initrd", errors.New("zstd is not installed; install it to check the initrd"))
	}
	cmd := exec.CommandContext(context.Background(), "zstd", "-q", "-d", "-c")
	cmd.Stdin = bytes.NewReader(data)
	var out, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &stderr
	if err := cmd.Run(); err != nil {
		err = fmt.Errorf("the initrd is not zstd-compressed as the builder writes it: %v %s", err, strings.TrimSpace(stderr.String()))
		return false, nil, errAt(t.Image.UKI+" .initrd", "not zstd-compressed", "a zstd-compressed cpio archive", err)
	}
	bad, err := CheckInitrd(out.Bytes())
	if err != nil {
		return false, nil, errAt(t.Image.UKI+" .initrd", "not a readable cpio archive: "+err.Error(), "a cpio archive", err)
	}
	where := t.Image.UKI + " .initrd"
	if len(bad) == 0 {
		return true, []Evidence{{Where: where, Found: "no shell, sulogin, emergency/rescue/debug-shell unit, dracut hook or debug generator", Expected: "none", OK: true}}, nil
	}
	var ev []Evidence
	for _, b := range bad {
		ev = append(ev, Evidence{Where: where, Found: b, Expected: "absent"})
	}
	return false, ev, nil
}
