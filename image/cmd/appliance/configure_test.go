package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/supernode-appliance/appliance/image/confpart"
)

// configDisk is a GPT disk image with an empty appliance-config FAT
// partition at partition 4, the builder's layout without the payload.
func configDisk(t *testing.T) string {
	t.Helper()
	for _, c := range []string{"sfdisk", "mkfs.fat", "mcopy", "mtype", "mdir", "mdel", "mren"} {
		if _, err := exec.LookPath(c); err != nil {
			t.Skipf("%s not installed (Debian packages fdisk, dosfstools, mtools)", c)
		}
	}
	dir := t.TempDir()
	img, part := filepath.Join(dir, "disk.raw"), filepath.Join(dir, "part.img")
	os.WriteFile(img, nil, 0o644)
	os.Truncate(img, 12<<20)
	script := "label: gpt\nunit: sectors\nstart=2048, size=2048, type=C12A7328-F81F-11D2-BA4B-00A0C93EC93B, name=\"esp\"\n" +
		"start=4096, size=2048, type=4F68BCE3-E8CD-4DB1-96E7-FBCAF984B709, name=\"root\"\n" +
		"start=6144, size=2048, type=2C7357ED-EBD2-46D9-AEC1-23D437EC2BF5, name=\"root-verity\"\n" +
		"start=8192, size=8192, type=" + confpart.TypeBasicData + ", name=\"" + confpart.PartLabel + "\"\n"
	cmd := exec.Command("sfdisk", "--quiet", "--no-reread", "--no-tell-kernel", img)
	cmd.Stdin = strings.NewReader(script)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("sfdisk: %v %s", err, out)
	}
	if out, err := exec.Command("mkfs.fat", "--invariant", "-C", part, "4096").CombinedOutput(); err != nil {
		t.Fatalf("mkfs.fat: %v %s", err, out)
	}
	b, _ := os.ReadFile(part)
	f, _ := os.OpenFile(img, os.O_RDWR, 0)
	f.WriteAt(b, 8192*512)
	f.Close()
	return img
}

func configure(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(append([]string{"configure"}, args...), &out, &errb)
	return code, out.String(), errb.String()
}

func TestConfigureCommand(t *testing.T) {
	img := configDisk(t)
	if code, out, _ := configure(t, "--help"); code != 0 || !strings.Contains(out, "configure IMAGE|DEVICE") {
		t.Errorf("--help: exit %d, stdout %q", code, out)
	}
	for _, args := range [][]string{{}, {img}, {"--set", "novalue", img}, {img, "other.raw", "--show"}, {"--bogus", img}} {
		code, out, errb := configure(t, args...)
		if code != 2 || out != "" || strings.Count(errb, "\n") != 1 || !strings.HasPrefix(errb, "appliance: ") {
			t.Errorf("%q: exit %d, stdout %q, stderr %q; want exit 2 and one line on stderr", args, code, out, errb)
		}
	}
	// Names off the allowlist: one sentence, nothing written.
	for _, name := range []string{"systemd.extra-unit.x.service", "journal.forward_to_socket", "supernode./../x", "network.network.50-x"} {
		code, _, errb := configure(t, img, "--set", name+"=1")
		if code != 1 || strings.Count(errb, "\n") != 1 || !strings.Contains(errb, "--set "+name) {
			t.Errorf("--set %s: exit %d: %s", name, code, errb)
		}
	}
	if _, out, _ := configure(t, img, "--show"); !strings.Contains(out, "no appliance.conf") {
		t.Errorf("--show of an empty partition: %q", out)
	}
	// Flags after the image, as the README writes it.
	code, out, errb := configure(t, img, "--set", "supernode.software=edge-1", "--set", "supernode.fleet_key=c2VjcmV0")
	if code != 0 || !strings.Contains(out, `set     supernode.software = "edge-1"`) || strings.Contains(out, "c2VjcmV0") || !strings.Contains(out, "not shown") {
		t.Fatalf("first --set: exit %d\n%s%s", code, out, errb)
	}
	t.Logf("appliance configure:\n%s", out)
	code, out, _ = configure(t, "--set", "supernode.software=edge-2", "--unset", "supernode.fleet_key", img, "--show")
	if code != 0 || !strings.Contains(out, `changed supernode.software = "edge-2" (was "edge-1")`) || !strings.Contains(out, "removed supernode.fleet_key") || !strings.Contains(out, "supernode.software=edge-2\n") {
		t.Errorf("second --set: exit %d\n%s", code, out)
	}
	if code, out, _ = configure(t, img, "--set", "supernode.software=edge-2"); code != 0 || !strings.Contains(out, "no change") {
		t.Errorf("same value: exit %d %s", code, out)
	}
	// A hand-edited file that the appliance would refuse is refused here
	// too, before anything is written.
	bad := filepath.Join(t.TempDir(), "appliance.conf")
	os.WriteFile(bad, []byte("supernode.a=1\nsupernode.a=2\n"), 0o644)
	if code, _, errb = configure(t, img, "--config", bad); code != 1 || !strings.Contains(errb, "would be refused at boot") || !strings.Contains(errb, "line 2") {
		t.Errorf("--config with a duplicate: exit %d %s", code, errb)
	}
	if _, out, _ = configure(t, img, "--show"); !strings.Contains(out, "supernode.software=edge-2") {
		t.Errorf("a refused --config changed the image: %s", out)
	}
}

// TestConfigureSignedWithTheBootBinary: `appliance configure --sign-key`
// on an image, then the real appliance-config binary reads the partition
// (copied out with mtools, as the kernel's vfat mount would show it) with
// the public key the image would carry: signed is imported; edited after
// signing, unsigned, or signed by another key is refused with one line,
// exit 1, and the last good configuration is imported instead.
func TestConfigureSignedWithTheBootBinary(t *testing.T) {
	img := configDisk(t)
	tmp := t.TempDir()
	bin := filepath.Join(tmp, "appliance-config")
	if out, err := exec.Command("go", "build", "-o", bin, "../appliance-config").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v %s", err, out)
	}
	var o, e bytes.Buffer
	for _, k := range []string{"op", "other"} {
		if code := run([]string{"keygen", filepath.Join(tmp, k)}, &o, &e); code != 0 {
			t.Fatal(e.String())
		}
	}
	area, err := confpart.Locate(img)
	if err != nil {
		t.Fatal(err)
	}
	lastGood := filepath.Join(tmp, "var", "last-good.conf")
	boot := func() (int, string, map[string]string) {
		part, store := filepath.Join(tmp, "part"), filepath.Join(tmp, "credstore")
		os.RemoveAll(part)
		os.RemoveAll(store)
		os.Mkdir(part, 0o700)
		for _, n := range []string{confpart.ConfFile, confpart.SigFile} {
			if b, err := area.ReadFile(n, 1<<20); err == nil {
				os.WriteFile(filepath.Join(part, n), b, 0o600)
			}
		}
		cmd := exec.Command(bin, "-dir", part, "-key", filepath.Join(tmp, "op.pub.asc"), "-credstore", store, "-last-good", lastGood, "-no-shadow", "-require-mount=false")
		var errb bytes.Buffer
		cmd.Stderr = &errb
		err := cmd.Run()
		code := 0
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		}
		got := map[string]string{}
		ents, _ := os.ReadDir(store)
		for _, d := range ents {
			b, _ := os.ReadFile(filepath.Join(store, d.Name()))
			got[d.Name()] = string(b)
		}
		return code, errb.String(), got
	}
	if code, out, _ := configure(t, img, "--set", "supernode.software=signed-1", "--sign-key", filepath.Join(tmp, "op.asc")); code != 0 || !strings.Contains(out, "signed (appliance.conf.sig)") {
		t.Fatalf("configure --sign-key: exit %d %s", code, out)
	}
	code, msg, got := boot()
	if code != 0 || got["supernode.software"] != "signed-1" || !strings.Contains(msg, "verified") {
		t.Fatalf("signed configuration: exit %d %q %v", code, msg, got)
	}
	t.Logf("signed: %s", strings.TrimSpace(msg))
	for name, args := range map[string][]string{
		"unsigned":       {"--set", "supernode.software=unsigned"},
		"another key":    {"--set", "supernode.software=other", "--sign-key", filepath.Join(tmp, "other.asc")},
		"edited after":   nil,
		"signed garbage": {"--set", "supernode.software=x", "--sign-key", filepath.Join(tmp, "op.asc")},
	} {
		if args != nil {
			if code, out, errb := configure(t, append([]string{img}, args...)...); code != 0 {
				t.Fatalf("%s: configure exit %d %s %s", name, code, out, errb)
			}
		}
		switch name {
		case "edited after":
			// Sign, then change the file by hand (as a text editor on the
			// stick would), keeping the old signature.
			configure(t, img, "--set", "supernode.software=signed-2", "--sign-key", filepath.Join(tmp, "op.asc"))
			p := filepath.Join(tmp, "edited")
			os.WriteFile(p, []byte("supernode.software=edited\n"), 0o600)
			exec.Command("mcopy", "-o", "-i", area.Path+"@@"+itoa(area.Offset), p, "::/appliance.conf").Run()
		case "signed garbage":
			p := filepath.Join(tmp, "garbage.sig")
			os.WriteFile(p, []byte("-----BEGIN PGP SIGNATURE-----\n\nAAAA\n-----END PGP SIGNATURE-----\n"), 0o600)
			exec.Command("mcopy", "-o", "-i", area.Path+"@@"+itoa(area.Offset), p, "::/appliance.conf.sig").Run()
		}
		code, msg, got := boot()
		if code != 1 || got["supernode.software"] != "signed-1" || strings.Count(msg, "appliance-config: ") < 1 || !strings.Contains(msg, "last good configuration") {
			t.Errorf("%s: exit %d, store %v, stderr:\n%s", name, code, got, msg)
		}
		t.Logf("%s: %s", name, lastLine(msg))
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func lastLine(s string) string {
	l := strings.Split(strings.TrimSpace(s), "\n")
	return l[len(l)-1]
}
