package update

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf16"
)

// efivar writes a systemd-boot string variable the way efivarfs shows it:
// 4 attribute bytes, UTF-16LE, a trailing NUL.
func efivar(t *testing.T, dir, name, value string) {
	t.Helper()
	b := []byte{7, 0, 0, 0}
	for _, c := range utf16.Encode([]rune(value + "\x00")) {
		b = append(b, byte(c), byte(c>>8))
	}
	if err := os.WriteFile(filepath.Join(dir, name+"-"+loaderGUID), b, 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestLoaderESP(t *testing.T) {
	dir := t.TempDir()
	if _, err := LoaderESP(dir); err == nil || !strings.Contains(err.Error(), "not booted through systemd-boot") {
		t.Fatalf("no variable: %v", err)
	}
	efivar(t, dir, varESP, "A1B2C3D4-0000-4000-8000-00000000ABCD")
	dev, err := LoaderESP(dir)
	if err != nil || dev != "/dev/disk/by-partuuid/a1b2c3d4-0000-4000-8000-00000000abcd" {
		t.Fatalf("got %q, %v", dev, err)
	}
	// A hostile or corrupt variable never becomes a path.
	for _, v := range []string{"../../sda1", "a1b2c3d4-0000-4000-8000-00000000abcd/../x", "", "a1b2c3d4 0000"} {
		efivar(t, dir, varESP, v)
		if dev, err := LoaderESP(dir); err == nil {
			t.Errorf("%q accepted as %q", v, dev)
		}
	}
	os.WriteFile(filepath.Join(dir, varESP+"-"+loaderGUID), []byte{1, 2, 3}, 0o644)
	if _, err := LoaderESP(dir); err == nil {
		t.Error("a 3-byte variable was accepted")
	}
}

func TestParseUKIName(t *testing.T) {
	for name, want := range map[string]UKI{
		"supernode_2.0.0_uki.efi":                 {Version: "2.0.0"},
		"supernode_2.0.0_uki+3-0.efi":             {Version: "2.0.0", Counted: true, Left: 3},
		"supernode_2.0.0_uki+0-3.efi":             {Version: "2.0.0", Counted: true, Left: 0, Done: 3},
		"supernode_2.0.0_uki+1.efi":               {Version: "2.0.0", Counted: true, Left: 1},
		"supernode_1.0.0-dev+12.gabc_uki+0-1.efi": {Version: "1.0.0-dev+12.gabc", Counted: true, Done: 1},
	} {
		got, ok := ParseUKIName(name)
		want.Name = name
		if !ok || got != want {
			t.Errorf("%s: got %+v %v, want %+v", name, got, ok, want)
		}
	}
	if u, _ := ParseUKIName("supernode_2.0.0_uki+0-3.efi"); !u.Bad() {
		t.Error("+0-3 is not bad")
	}
	if u, _ := ParseUKIName("supernode_2.0.0_uki+1-2.efi"); u.Bad() {
		t.Error("+1-2 is bad")
	}
	for _, name := range []string{"other.efi", "supernode_2.0.0.efi", "supernode__uki.efi", "supernode_2.0.0_uki+x-1.efi"} {
		if u, ok := ParseUKIName(name); ok {
			t.Errorf("%s parsed as %+v", name, u)
		}
	}
}

func TestOnTrial(t *testing.T) {
	vars, esp := t.TempDir(), t.TempDir()
	os.MkdirAll(filepath.Join(esp, "EFI/Linux"), 0o755)
	if trial, _, err := OnTrial(vars, esp); trial || err != nil {
		t.Fatalf("no counter variable: trial=%v %v", trial, err)
	}
	efivar(t, vars, varCountPath, `\EFI\Linux\supernode_2.0.0_uki+3-0.efi`)
	// The variable names a counted file that is gone: bless-boot renamed
	// it to its blessed name, so this boot is not on trial any more.
	if trial, _, err := OnTrial(vars, esp); trial || err != nil {
		t.Fatalf("blessed: trial=%v %v", trial, err)
	}
	os.WriteFile(filepath.Join(esp, "EFI/Linux/SUPERNODE_2.0.0_UKI+3-0.EFI"), nil, 0o644)
	if trial, file, err := OnTrial(vars, esp); !trial || err != nil || file != "EFI/Linux/supernode_2.0.0_uki+3-0.efi" {
		t.Fatalf("counted file present: trial=%v %q %v", trial, file, err)
	}
	efivar(t, vars, varCountPath, `\EFI\..\..\etc\passwd`)
	if _, _, err := OnTrial(vars, esp); err == nil {
		t.Error("a path out of the ESP was accepted")
	}
}

// The udev helper's argument is a kernel name, never a path; without the
// loader's variable every disk counts (as before the rule existed).
func TestOnBootDiskName(t *testing.T) {
	vars := t.TempDir()
	for _, bad := range []string{"", ".", "..", "../sda1", "vda/../../etc"} {
		if _, err := OnBootDisk(vars, t.TempDir(), t.TempDir(), bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
	if ok, err := OnBootDisk(vars, t.TempDir(), t.TempDir(), "vda7"); !ok || err != nil {
		t.Errorf("no LoaderDevicePartUUID: %v %v", ok, err)
	}
}
