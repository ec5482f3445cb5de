package hardening

import (
	"bytes"
	"fmt"
	"os"
	"strings"
	"testing"
)

// newcEntry builds one newc member for tests.
func newcEntry(name string, mode uint32, data string) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "070701%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X", 1, mode, 0, 0, 1, 0, len(data), 0, 0, 0, 0, len(name)+1, 0)
	b.WriteString(name + "\x00")
	for b.Len()%4 != 0 {
		b.WriteByte(0)
	}
	b.WriteString(data)
	for b.Len()%4 != 0 {
		b.WriteByte(0)
	}
	return b.Bytes()
}

func testArchive(names ...string) []byte {
	var es []cpioEntry
	for _, n := range names {
		mode := uint32(0o100755)
		if strings.HasSuffix(n, "/") {
			n, mode = strings.TrimSuffix(n, "/"), 0o40755
		}
		es = append(es, cpioEntry{Name: n, Mode: mode, raw: newcEntry(n, mode, "content of "+n)})
	}
	return writeCpio(es)
}

func TestInitrdForbidden(t *testing.T) {
	bad := []string{"usr/bin/sh", "bin/bash", "usr/bin/dash", "usr/sbin/busybox", "usr/sbin/sulogin",
		"usr/lib/systemd/systemd-sulogin-shell", "usr/lib/systemd/system/emergency.service",
		"usr/lib/systemd/system/rescue.service", "usr/lib/systemd/system/debug-shell.service",
		"etc/systemd/system/initrd.target.wants/dracut-pre-mount.service",
		"usr/lib/systemd/system/dracut-emergency.service", "usr/bin/dracut-emergency",
		"usr/lib/systemd/system-generators/systemd-debug-generator",
		"usr/lib/systemd/system-generators/dracut-rootfs-generator", "usr/lib/dracut-lib.sh",
		"var/lib/dracut/hooks/emergency", "./usr/bin/sh"}
	for _, n := range bad {
		if InitrdForbidden(n) == "" {
			t.Errorf("%s allowed", n)
		}
	}
	good := []string{"usr/lib/systemd/systemd", "usr/bin/udevadm", "usr/lib/systemd/system/emergency.target",
		"usr/lib/systemd/system-generators/systemd-veritysetup-generator", "usr/lib/systemd/system/initrd.target",
		"usr/bin/systemctl", "usr/share/sh/readme", "usr/lib/modules/6.12/kernel/fs/erofs/erofs.ko"}
	for _, n := range good {
		if why := InitrdForbidden(n); why != "" {
			t.Errorf("%s forbidden (%s)", n, why)
		}
	}
}

func TestFilterInitrdRemovesShells(t *testing.T) {
	in := testArchive("usr/", "usr/bin/", "usr/bin/sh", "usr/bin/systemctl", "usr/sbin/sulogin", "usr/lib/systemd/system/emergency.service", "init")
	bad, err := CheckInitrd(in)
	if err != nil || len(bad) != 3 {
		t.Fatalf("before: %v %v", bad, err)
	}
	out, removed, err := FilterInitrd(in)
	if err != nil {
		t.Fatal(err)
	}
	if len(removed) != 3 {
		t.Errorf("removed %v", removed)
	}
	if bad, err := CheckInitrd(out); err != nil || len(bad) != 0 {
		t.Errorf("after: %v %v", bad, err)
	}
	es, _ := readCpio(out)
	var names []string
	for _, e := range es {
		names = append(names, e.Name)
	}
	if strings.Join(names, " ") != "usr usr/bin usr/bin/systemctl init" {
		t.Errorf("kept %v", names)
	}
	if !bytes.Contains(out, []byte("content of usr/bin/systemctl")) {
		t.Error("kept file lost its content")
	}
	// A second archive appended after the trailer would escape the filter.
	if _, err := CheckInitrd(append(append([]byte(nil), out...), in...)); err == nil {
		t.Error("concatenated archive accepted")
	}
}

// TestFilterRealInitrd runs on a dracut initrd unpacked from a built image
// when one is given (SUPERNODE_TEST_INITRD=uncompressed cpio).
func TestFilterRealInitrd(t *testing.T) {
	p := os.Getenv("SUPERNODE_TEST_INITRD")
	if p == "" {
		t.Skip("SUPERNODE_TEST_INITRD not set")
	}
	in, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	bad, err := CheckInitrd(in)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%d forbidden entries before: %v", len(bad), bad)
	out, removed, err := FilterInitrd(in)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("removed %d, %d -> %d bytes", len(removed), len(in), len(out))
	if bad, _ := CheckInitrd(out); len(bad) != 0 {
		t.Errorf("still there: %v", bad)
	}
}
