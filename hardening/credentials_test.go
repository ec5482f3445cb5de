package hardening

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestCredentialAllowed(t *testing.T) {
	allow := []string{"supernode.*", "supernode-xdp.*", "network.network.*"}
	for g, want := range map[string]bool{
		"supernode.*": true, "supernode.fleet_key": true, "supernode-xdp.*": true, "network.network.*": true,
		"network.network.eth0*": true, "network.*": false, "journal.*": false, "tmpfiles.*": false,
		"*": false, "supernode*": false, "systemd.extra-unit.x": false, "sysctl.extra": false,
	} {
		if got := credentialAllowed(allow, g); got != want {
			t.Errorf("%s: %t, want %t", g, got, want)
		}
	}
}

// TestCredentialAllowlistApplyAndCheck: journald's journal.* and
// tmpfiles' imports are reset by a drop-in, the supernode's stay, the
// check passes; a later vendor drop-in re-adding an import fails it, and
// so does a shipped systemd-debug-generator.
func TestCredentialAllowlistApplyAndCheck(t *testing.T) {
	root, p := appliedRoot(t)
	write := func(path, body string) {
		full := filepath.Join(root, path)
		os.MkdirAll(filepath.Dir(full), 0o755)
		os.WriteFile(full, []byte(body), 0o644)
	}
	write("/usr/lib/systemd/system/systemd-journald.service", "[Service]\nImportCredential=journal.*\n")
	write("/usr/lib/systemd/system/systemd-tmpfiles-setup.service", "[Service]\nImportCredential=tmpfiles.*\nImportCredential=login.motd\n")
	write("/usr/lib/systemd/system/supernode.service", "[Service]\nImportCredential=supernode.*\n")
	write("/usr/lib/systemd/system/serial-getty@.service", "[Service]\nImportCredential=tty.serial.%I.agetty.*:agetty.\n")
	// An alias made by "systemctl enable" is the same unit: its drop-ins
	// are the target's (seen live: systemd-networkd's network.wireguard.*).
	write("/usr/lib/systemd/system/systemd-networkd.service", "[Service]\nImportCredential=network.wireguard.*\n")
	os.MkdirAll(filepath.Join(root, "etc/systemd/system"), 0o755)
	os.Symlink("/usr/lib/systemd/system/systemd-networkd.service", filepath.Join(root, "etc/systemd/system/dbus-org.freedesktop.network1.service"))
	changes, err := p.Apply(root, ApplyOptions{})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, c := range changes {
		if c.Control == "boot-credential-allowlist" {
			n++
		}
	}
	if n != 4 {
		t.Errorf("%d credential drop-ins, want 4: %v", n, changes)
	}
	if again, _ := p.Apply(root, ApplyOptions{}); len(again) != 0 {
		t.Errorf("second Apply changed %v", again)
	}
	c := p.Control("boot-credential-allowlist")
	tgt, _ := NewRootTarget(root)
	ok, ev, err := checkCredentialAllowlist(c, tgt)
	if !ok || err != nil {
		t.Fatalf("after Apply: %v %v", ev, err)
	}
	if g, _ := credentialImports(root, "supernode.service"); strings.Join(g, " ") != "supernode.*" {
		t.Errorf("supernode imports %v", g)
	}
	write("/usr/lib/systemd/system/systemd-journald.service.d/zzz-vendor.conf", "[Service]\nImportCredential=journal.forward_to_socket\n")
	if ok, ev, _ := checkCredentialAllowlist(c, tgt); ok {
		t.Errorf("a later drop-in importing journal.forward_to_socket passed: %v", ev)
	}
	os.Remove(filepath.Join(root, "/usr/lib/systemd/system/systemd-journald.service.d/zzz-vendor.conf"))
	write("/usr/lib/systemd/system-generators/systemd-debug-generator", "ELF")
	if ok, ev, _ := checkCredentialAllowlist(c, tgt); ok {
		t.Errorf("systemd-debug-generator shipped and the check passed: %v", ev)
	}
}

func TestSignedCmdline(t *testing.T) {
	root := t.TempDir()
	c := &Control{ID: "boot-cmdline-signed", Check: "signed-cmdline"}
	rec := "roothash=" + RootHashPlaceholder + " root=/dev/mapper/root ro lockdown=integrity"
	os.MkdirAll(filepath.Join(root, "usr/lib/supernode"), 0o755)
	os.WriteFile(filepath.Join(root, SignedCmdlineFile), []byte(rec+"\n"), 0o644)
	h := strings.Repeat("ab", 32)
	signed := "roothash=" + h + " root=/dev/mapper/root ro lockdown=integrity"
	for cmd, want := range map[string]bool{
		signed: true,
		signed + " rd.break=pre-mount SYSTEMD_SULOGIN_FORCE=1":                                  false,
		signed + " roothash=" + strings.Repeat("cd", 32):                                        false,
		"roothash=" + strings.Repeat("cd", 32) + " root=/dev/mapper/root ro lockdown=integrity": true, // whole line replaced: the root is then not ours, verity refuses it
		"roothash=" + h + " root=/dev/mapper/root ro":                                           false,
	} {
		tgt := &Target{Root: root, Live: true, Cmdline: cmd, CmdlineWhere: "/proc/cmdline"}
		ok, ev, err := checkSignedCmdline(c, tgt)
		if ok != want || err != nil {
			t.Errorf("%q: %t %v %v, want %t", cmd, ok, ev, err, want)
		}
	}
	// Offline the root hash is the operator's.
	tgt := &Target{Root: root, Cmdline: signed, CmdlineWhere: "UKI", Image: &ImageFacts{Expected: ImageOptions{RootHash: strings.Repeat("cd", 32)}}}
	if ok, _, _ := checkSignedCmdline(c, tgt); ok {
		t.Error("offline: a UKI with another root hash than the operator's passed")
	}
	os.Remove(filepath.Join(root, SignedCmdlineFile))
	if ok, _, _ := checkSignedCmdline(c, &Target{Root: root, Live: true, Cmdline: signed}); ok {
		t.Error("no recorded command line and the check passed")
	}
}
