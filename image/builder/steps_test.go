package builder

import (
	"context"
	"errors"
	"github.com/supernode-appliance/appliance/hardening"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestStripModulesKeepsAllowlistAndDependencies(t *testing.T) {
	dir := t.TempDir()
	mods := map[string]string{
		"kernel/drivers/net/virtio_net.ko.xz":   "kernel/drivers/net/net_failover.ko.xz",
		"kernel/drivers/net/net_failover.ko.xz": "kernel/net/core/failover.ko.xz",
		"kernel/net/core/failover.ko.xz":        "",
		"kernel/drivers/md/dm-verity.ko.xz":     "kernel/drivers/md/dm-bufio.ko.xz",
		"kernel/drivers/md/dm-bufio.ko.xz":      "",
		"kernel/sound/core/snd.ko.xz":           "kernel/sound/core/snd-timer.ko.xz",
		"kernel/sound/core/snd-timer.ko.xz":     "",
		"kernel/drivers/bluetooth/btusb.ko.xz":  "",
	}
	var dep strings.Builder
	for m, d := range mods {
		os.MkdirAll(filepath.Join(dir, filepath.Dir(m)), 0o755)
		os.WriteFile(filepath.Join(dir, m), nil, 0o644)
		dep.WriteString(m + ": " + d + "\n")
	}
	os.WriteFile(filepath.Join(dir, "modules.dep"), []byte(dep.String()), 0o644)
	kept, removed, err := StripModules(dir, ParseAllowlist("# c\nvirtio_net\ndm-verity  # dash or underscore\n"))
	if err != nil {
		t.Fatal(err)
	}
	if kept != 5 || removed != 3 {
		t.Fatalf("kept %d removed %d", kept, removed)
	}
	for m := range mods {
		_, err := os.Stat(filepath.Join(dir, m))
		gone := errors.Is(err, os.ErrNotExist)
		if wantGone := strings.Contains(m, "sound") || strings.Contains(m, "bluetooth"); gone != wantGone {
			t.Errorf("%s: gone=%v want %v", m, gone, wantGone)
		}
	}
}

func TestDefaultAllowlistCoversRootAndNetwork(t *testing.T) {
	list := strings.Join(ParseAllowlist(defaultAllowlist), " ")
	for _, m := range []string{"virtio_blk", "dm_verity", "erofs", "virtio_net", "ext4", "nf_tables", "nfnetlink", "qemu_fw_cfg"} {
		if !strings.Contains(" "+list+" ", " "+m+" ") {
			t.Errorf("allowlist lacks %s", m)
		}
	}
}

// fw_cfg credentials are imported by the initrd's PID 1 (once per boot,
// with the SMBIOS ones), so qemu_fw_cfg must be there as well as in the root.
func TestDefaultInitrdReadsFwCfg(t *testing.T) {
	c := &Config{}
	c.defaults()
	if !strings.Contains(" "+strings.Join(c.InitrdDrivers, " ")+" ", " qemu_fw_cfg ") {
		t.Errorf("default initrd_drivers %v lack qemu_fw_cfg", c.InitrdDrivers)
	}
	if !strings.Contains(DracutConfig(c), " qemu_fw_cfg") {
		t.Errorf("dracut configuration does not name qemu_fw_cfg:\n%s", DracutConfig(c))
	}
}

func TestLayoutAndSfdiskScript(t *testing.T) {
	parts, size := Layout([]Partition{
		{Name: "esp", Type: TypeESP, UUID: "u1", Size: 3<<20 + 5},
		{Name: "root", Type: TypeRootX86_64, UUID: "u2", Size: 10 << 20, ReadOnly: true},
	}, 64<<20)
	if parts[0].Start != 1<<20 || parts[0].Size != 4<<20 || parts[1].Start != 5<<20 || size != (15+64+1)<<20 {
		t.Fatalf("layout %+v size %d", parts, size)
	}
	s := SfdiskScript("abc", parts)
	for _, want := range []string{"label: gpt", "label-id: ABC", "start=2048, size=8192, type=" + TypeESP, `name="root", attrs="GUID:60"`} {
		if !strings.Contains(s, want) {
			t.Errorf("script lacks %q:\n%s", want, s)
		}
	}
}

func TestVerityPartUUIDs(t *testing.T) {
	h := "57bbd260f943111d6388ef238efb0e8e9d9f8044dc23f8fb2a7cccc035a5d7f6"
	d, v, err := VerityPartUUIDs(h)
	// The same strings systemd-veritysetup-generator derives (seen on the
	// serial console of a real boot).
	if err != nil || d != "57bbd260-f943-111d-6388-ef238efb0e8e" || v != "9d9f8044-dc23-f8fb-2a7c-ccc035a5d7f6" {
		t.Fatalf("%s %s %v", d, v, err)
	}
	if _, _, err := VerityPartUUIDs("zz"); err == nil {
		t.Fatal("bad hash accepted")
	}
	if DerivedUUID("a", "b") != DerivedUUID("a", "b") || DerivedUUID("a", "b") == DerivedUUID("ab") {
		t.Fatal("DerivedUUID is not a stable function of its parts")
	}
}

func TestCmdline(t *testing.T) {
	c := &Config{KernelCmdline: []string{"quiet"}}
	got := Cmdline(c, "ab", "", 0, []string{"lockdown=integrity"})
	if !strings.HasPrefix(got, "roothash=ab root=/dev/mapper/root rootfstype=erofs ro systemd.firstboot=off") ||
		!strings.HasSuffix(got, "lockdown=integrity quiet") {
		t.Fatal(got)
	}
}

// TestCmdlineHardenedVerityRoot: with no initrd the kernel maps the root
// from dm-mod.create=, and the copy recorded in the root (placeholders for
// what the root cannot know) fills back to exactly the UKI's command line.
func TestCmdlineHardenedVerityRoot(t *testing.T) {
	c := &Config{KernelFlavour: "hardened"}
	hash := strings.Repeat("0123456789abcdef", 4)
	salt := strings.Repeat("5a", 32)
	got := Cmdline(c, hash, salt, 1000, []string{"lockdown=confidentiality"})
	want := `roothash=` + hash + ` dm-mod.create="root,CRYPT-VERITY-` + hash + `-root,,ro,0 8000 verity 1 PARTUUID=01234567-89ab-cdef-0123-456789abcdef PARTUUID=01234567-89ab-cdef-0123-456789abcdef 4096 4096 1000 1 sha256 ` + hash + ` ` + salt + `" dm-mod.waitfor=PARTUUID=01234567-89ab-cdef-0123-456789abcdef,PARTUUID=01234567-89ab-cdef-0123-456789abcdef root=/dev/dm-0 rootfstype=erofs ro systemd.firstboot=off`
	if !strings.HasPrefix(got, want) || !strings.HasSuffix(got, " lockdown=confidentiality") || strings.Contains(got, "/dev/mapper/root") {
		t.Fatalf("got  %s\nwant %s...", got, want)
	}
	recorded := Cmdline(c, hardening.RootHashPlaceholder, salt, -1, []string{"lockdown=confidentiality"})
	if strings.Contains(recorded, hash) || !strings.Contains(recorded, hardening.DataBlocksPlaceholder) {
		t.Fatalf("recorded copy: %s", recorded)
	}
	if filled := hardening.ExpectedCmdline(recorded, hash, got); filled != got {
		t.Fatalf("filled %s\nwant   %s", filled, got)
	}
	// A size whose sectors and blocks disagree is not filled in: the
	// comparison then fails.
	odd := strings.Replace(got, "0 8000 verity", "0 8008 verity", 1)
	if hardening.ExpectedCmdline(recorded, hash, odd) == odd {
		t.Fatal("an inconsistent verity table was accepted")
	}
}

func TestUnitDestination(t *testing.T) {
	for in, want := range map[string]string{
		"supernode.service":           "/usr/lib/systemd/system/supernode.service",
		"supernode-xdp.sysusers.conf": "/usr/lib/sysusers.d/supernode-xdp.conf",
		"supernode-xdp.tmpfiles.conf": "/usr/lib/tmpfiles.d/supernode-xdp.conf",
		"10-uplink.network":           "/usr/lib/systemd/network/10-uplink.network",
		"README.md":                   "",
	} {
		if got := UnitDestination(in); got != want {
			t.Errorf("%s -> %q, want %q", in, got, want)
		}
	}
}

func TestNetworkAndFstab(t *testing.T) {
	dhcp := NetworkConfig(&Config{})
	if !strings.Contains(dhcp, "Type=ether") || !strings.Contains(dhcp, "DHCP=yes") {
		t.Fatal(dhcp)
	}
	static := NetworkConfig(&Config{StaticAddresses: []string{"192.0.2.10/24"}, Gateway: "192.0.2.1", DNS: []string{"192.0.2.53"}})
	if strings.Contains(static, "DHCP") || !strings.Contains(static, "Address=192.0.2.10/24\nGateway=192.0.2.1\nDNS=192.0.2.53") {
		t.Fatal(static)
	}
	if !strings.HasPrefix(FstabConfig(&Config{Stateless: true}), "tmpfs /var tmpfs") || !strings.HasPrefix(FstabConfig(&Config{}), BootDiskLinks+"var /var ext4") {
		t.Fatal("fstab")
	}
	files := SystemFiles(&Config{Hostname: "sn1"})
	if files["/etc/hostname"] != "sn1\n" || files["/usr/lib/repart.d/50-var.conf"] == "" || files["/etc/machine-id"] != "" {
		t.Fatalf("%v", files)
	}
	if _, ok := SystemFiles(&Config{Hostname: "a", Stateless: true})["/usr/lib/repart.d/50-var.conf"]; ok {
		t.Fatal("stateless image must not create /var partitions")
	}
}

func TestRemoveGlobsAndClearSUID(t *testing.T) {
	root := t.TempDir()
	for _, p := range []string{"usr/bin/apt-get", "usr/bin/dpkg", "usr/bin/keep", "var/lib/dpkg/status", "usr/bin/su"} {
		os.MkdirAll(filepath.Join(root, filepath.Dir(p)), 0o755)
		os.WriteFile(filepath.Join(root, p), []byte("x"), 0o755)
	}
	os.Chmod(filepath.Join(root, "usr/bin/su"), os.ModeSetuid|0o755)
	os.Chmod(filepath.Join(root, "usr/bin/keep"), os.ModeSetgid|0o755)
	n, err := RemoveGlobs(root, []string{"usr/bin/apt*", "usr/bin/dpkg*", "var/lib/dpkg", "../../etc/passwd"})
	if err != nil || n != 3 {
		t.Fatalf("removed %d, %v", n, err)
	}
	if _, err := os.Stat(filepath.Join(root, "usr/bin/keep")); err != nil {
		t.Fatal("removed too much")
	}
	cleared, err := ClearSUID(root)
	if err != nil || cleared != 2 {
		t.Fatalf("cleared %d, %v", cleared, err)
	}
	fi, _ := os.Stat(filepath.Join(root, "usr/bin/su"))
	if fi.Mode().Perm() != 0o755 || fi.Mode()&os.ModeSetuid != 0 {
		t.Fatalf("mode %v", fi.Mode())
	}
}

func TestCheckHostStopsEarly(t *testing.T) {
	apt := t.TempDir()
	os.WriteFile(filepath.Join(apt, "sources.list"), []byte("deb file:///nonexistent trixie main\n"), 0o644)
	newState := func() *State {
		return &State{Config: &Config{OutputDir: t.TempDir(), CacheDir: t.TempDir(), Suite: "trixie"}}
	}
	found := func(string) (string, error) { return "/usr/bin/x", nil }
	cases := map[string]struct {
		step *StepCheckHost
		want string
	}{
		"not root": {&StepCheckHost{euid: func() int { return 1000 }, lookPath: found, etcApt: apt}, "must run as root"},
		"missing tool": {&StepCheckHost{euid: func() int { return 0 }, lookPath: func(n string) (string, error) {
			if n == "mmdebstrap" {
				return "", os.ErrNotExist
			}
			return "/x", nil
		}, etcApt: apt}, "mmdebstrap (package mmdebstrap)"},
		"bad mirror": {&StepCheckHost{euid: func() int { return 0 }, lookPath: found, etcApt: apt}, "has no dists/trixie/Release"},
		"no mirror":  {&StepCheckHost{euid: func() int { return 0 }, lookPath: found, etcApt: t.TempDir()}, "no Debian mirror"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			err := c.step.check(context.Background(), newState())
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("got %v, want %q", err, c.want)
			}
		})
	}
}

func TestCheckHostNeedsDiskSpace(t *testing.T) {
	old := MinFreeBytes
	MinFreeBytes = 1 << 62 // more than any disk here
	defer func() { MinFreeBytes = old }()
	st := &State{Config: &Config{OutputDir: t.TempDir(), CacheDir: t.TempDir(), Suite: "trixie", Mirror: "file:///nonexistent"}}
	s := &StepCheckHost{euid: func() int { return 0 }, lookPath: func(string) (string, error) { return "/x", nil }}
	err := s.check(context.Background(), st)
	if err == nil || !strings.Contains(err.Error(), "free some space") {
		t.Fatalf("got %v", err)
	}
}

func TestParsePackages(t *testing.T) {
	p := parsePackages([]byte("zlib1g\t1:1.3\tamd64\nbash\t5.2\tamd64\n\n"))
	if len(p) != 2 || p[0].Name != "bash" || p[1].Version != "1:1.3" {
		t.Fatalf("%+v", p)
	}
}

func TestESPSize(t *testing.T) {
	if s := ESPSize(20 << 20); s%(1<<20) != 0 || s < 25<<20 {
		t.Fatal(s)
	}
}
