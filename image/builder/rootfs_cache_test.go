package builder

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// rootfsKeyFor is the key the step derives for c, with the work directory,
// host tools and mirror Release digest given.
func rootfsKeyFor(c *Config, work, host, release string, epoch int64) string {
	args, env := BootstrapCommand(c, work, filepath.Join(work, "rootfs"), "http://deb.example/debian", epoch)
	return RootfsKeyInput{Format: rootfsCacheFormat, Argv: keyArgv(args, work), Env: env,
		DracutConf: DracutConfig(c), Host: host, Release: release}.Key()
}

func TestRootfsKeyCoversEveryInput(t *testing.T) {
	base := func() *Config {
		c := &Config{}
		c.defaults()
		return c
	}
	const host, release, epoch = "mmdebstrap 1.3.5\narch amd64", "InRelease sha256:aa", 1767225600
	key := rootfsKeyFor(base(), "/out/.build-1", host, release, epoch)
	if got := rootfsKeyFor(base(), "/elsewhere/.build-2", host, release, epoch); got != key {
		t.Fatal("the key depends on the work directory: no build would ever hit the cache")
	}
	changed := map[string]string{
		"extra package":    rootfsKeyFor(func() *Config { c := base(); c.ExtraPackages = []string{"less"}; return c }(), "/w", host, release, epoch),
		"kernel flavour":   rootfsKeyFor(func() *Config { c := base(); c.KernelFlavour = "generic"; return c }(), "/w", host, release, epoch),
		"stateless":        rootfsKeyFor(func() *Config { c := base(); c.Stateless = true; return c }(), "/w", host, release, epoch),
		"suite":            rootfsKeyFor(func() *Config { c := base(); c.Suite = "forky"; return c }(), "/w", host, release, epoch),
		"dracut config":    rootfsKeyFor(func() *Config { c := base(); c.InitrdDrivers = []string{"virtio_blk"}; return c }(), "/w", host, release, epoch),
		"apt cache hooks":  rootfsKeyFor(func() *Config { c := base(); c.CacheDir = "/srv/cache"; return c }(), "/w", host, release, epoch),
		"mirror InRelease": rootfsKeyFor(base(), "/w", host, "InRelease sha256:bb", epoch),
		"mmdebstrap":       rootfsKeyFor(base(), "/w", "mmdebstrap 1.5.0\narch amd64", release, epoch),
		"epoch":            rootfsKeyFor(base(), "/w", host, release, epoch+1),
	}
	if rootfsKeyFor(base(), "/w", host, release, epoch) != key {
		t.Fatal("the key is not a function of its inputs")
	}
	seen := map[string]string{}
	for what, k := range changed {
		if k == key {
			t.Errorf("a changed %s keeps the key", what)
		}
		if other, dup := seen[k]; dup {
			t.Errorf("a changed %s and a changed %s give the same key", what, other)
		}
		seen[k] = what
	}
	// A hook is part of argv: any edit to it is a new key.
	c := base()
	args, env := BootstrapCommand(c, "/w", "/w/rootfs", "http://deb.example/debian", epoch)
	in := RootfsKeyInput{Format: rootfsCacheFormat, Argv: keyArgv(args, "/w"), Env: env, DracutConf: DracutConfig(c), Host: host, Release: release}
	k0 := in.Key()
	for i, a := range in.Argv {
		if strings.HasPrefix(a, "--customize-hook=") {
			in.Argv[i] = a + " "
		}
	}
	if in.Key() == k0 {
		t.Error("a changed hook keeps the key")
	}
}

func TestMirrorReleaseReadsInReleaseOrRelease(t *testing.T) {
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "dists", "trixie"), 0o755)
	os.WriteFile(filepath.Join(dir, "dists", "trixie", "Release"), []byte("Suite: trixie\n"), 0o644)
	a, err := mirrorRelease(context.Background(), "file://"+dir, "trixie")
	if err != nil || !strings.HasPrefix(a, "Release sha256:") {
		t.Fatalf("%q %v", a, err)
	}
	os.WriteFile(filepath.Join(dir, "dists", "trixie", "InRelease"), []byte("signed Suite: trixie\n"), 0o644)
	b, _ := mirrorRelease(context.Background(), "file://"+dir, "trixie")
	if !strings.HasPrefix(b, "InRelease sha256:") {
		t.Fatalf("InRelease is preferred: %q", b)
	}
	os.WriteFile(filepath.Join(dir, "dists", "trixie", "InRelease"), []byte("signed Suite: trixie, a new snapshot\n"), 0o644)
	if c, _ := mirrorRelease(context.Background(), "file://"+dir, "trixie"); c == b {
		t.Fatal("a new mirror snapshot gives the same digest")
	}
	if _, err := mirrorRelease(context.Background(), "file://"+dir, "forky"); err == nil {
		t.Fatal("a suite without Release files gives no error")
	}
}

func TestPruneRootfsCacheKeepsRecent(t *testing.T) {
	dir := t.TempDir()
	now := time.Now()
	for i := 0; i < 6; i++ {
		p := filepath.Join(dir, fmt.Sprintf("rootfs-%016d", i))
		os.Mkdir(p, 0o755)
		os.Chtimes(p, now, now.Add(-time.Duration(i)*time.Hour))
	}
	os.Mkdir(filepath.Join(dir, ".rootfs-123"), 0o755)        // a killed build's temporary entry
	os.Mkdir(filepath.Join(dir, "tools-0123456789ab"), 0o755) // not ours
	removed := pruneRootfsCache(dir, 4)
	sort.Strings(removed)
	if strings.Join(removed, " ") != "rootfs-0000000000000004 rootfs-0000000000000005" {
		t.Fatalf("removed %v, want the two least recently used", removed)
	}
	for _, p := range []string{".rootfs-123", "rootfs-0000000000000004"} {
		if _, err := os.Stat(filepath.Join(dir, p)); err == nil {
			t.Errorf("%s is still there", p)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "tools-0123456789ab")); err != nil {
		t.Error("pruning removed a tools tree")
	}
}

// TestRootfsCacheRoundTrip stores a tree with every kind of file a root has
// and restores it: types, modes, owners, mtimes, xattrs (a file capability
// and an ACL), hard links and device nodes must come back exactly. A
// corrupt entry must be refused and the half-restored root removed.
func TestRootfsCacheRoundTrip(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root: the tree has foreign owners, a device node and a file capability")
	}
	ctx := context.Background()
	cache, src := t.TempDir(), filepath.Join(t.TempDir(), "root")
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(os.Mkdir(src, 0o755))
	p := func(s string) string { return filepath.Join(src, s) }
	must(os.MkdirAll(p("usr/bin"), 0o755))
	must(os.Mkdir(p("private"), 0o700))
	must(os.Chown(p("private"), 42, 43))
	must(os.WriteFile(p("usr/bin/ping"), []byte("#!ping\n"), 0o755))
	must(os.WriteFile(p("usr/bin/su"), []byte("#!su\n"), 0o755))
	must(unix.Chmod(p("usr/bin/su"), 0o4755))
	must(os.WriteFile(p("private/secret"), []byte("x"), 0o640))
	must(os.Chown(p("private/secret"), 1234, 5678))
	must(os.WriteFile(p("usr/bin/a"), bytes.Repeat([]byte("hard"), 1000), 0o644))
	must(os.Link(p("usr/bin/a"), p("usr/bin/b")))
	must(os.Symlink("ping", p("usr/bin/ping6")))
	must(os.Lchown(p("usr/bin/ping6"), 7, 8))
	must(os.Symlink("/nonexistent/target", p("dangling")))
	must(os.MkdirAll(p("dev"), 0o755))
	must(unix.Mknod(p("dev/null"), unix.S_IFCHR|0o666, int(unix.Mkdev(1, 3))))
	must(unix.Mknod(p("dev/loop0"), unix.S_IFBLK|0o660, int(unix.Mkdev(7, 0))))
	must(unix.Mknod(p("dev/fifo"), unix.S_IFIFO|0o600, 0))
	must(os.WriteFile(p("empty"), nil, 0o600))
	// cap_net_raw+ep, as setcap writes it (VFS_CAP_REVISION_2).
	capv := make([]byte, 20)
	binary.LittleEndian.PutUint32(capv[0:], 0x02000000|1)
	binary.LittleEndian.PutUint32(capv[4:], 1<<13)
	must(unix.Setxattr(p("usr/bin/ping"), "security.capability", capv, 0))
	must(unix.Setxattr(p("usr/bin/a"), "user.note", []byte("kept"), 0))
	// An access ACL granting uid 1234 read-write (the kernel's binary form).
	acl := []byte{2, 0, 0, 0}
	for _, e := range []struct {
		tag, perm uint16
		id        uint32
	}{{0x01, 6, ^uint32(0)}, {0x02, 6, 1234}, {0x04, 4, ^uint32(0)}, {0x10, 6, ^uint32(0)}, {0x20, 4, ^uint32(0)}} {
		acl = binary.LittleEndian.AppendUint16(acl, e.tag)
		acl = binary.LittleEndian.AppendUint16(acl, e.perm)
		acl = binary.LittleEndian.AppendUint32(acl, e.id)
	}
	if err := unix.Setxattr(p("empty"), "system.posix_acl_access", acl, 0); err != nil {
		t.Logf("no ACL in the tree (%v): the file system under %s does not take one", err, src)
	}
	old := time.Unix(1700000000, 123456789)
	must(os.Chtimes(p("usr/bin/a"), old, old))
	must(os.Chtimes(p("private"), old, old))

	const key = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	if _, err := storeRootfs(ctx, cache, key, src); err != nil {
		t.Fatal(err)
	}
	dst := filepath.Join(t.TempDir(), "root")
	if err := restoreRootfs(ctx, cache, key, dst); err != nil {
		t.Fatal(err)
	}
	want, got := describeTree(t, src), describeTree(t, dst)
	if want != got {
		t.Fatalf("restored tree differs\nstored:\n%s\nrestored:\n%s", want, got)
	}
	for _, s := range []string{"security.capability", "system.posix_acl_access", "user.note", "chr 1,3", "blk 7,0", "fifo", "mode=urwxr-xr-x", "uid=7 gid=8", "link usr/bin/a"} {
		if !strings.Contains(got, s) && (s != "system.posix_acl_access" || strings.Contains(want, s)) {
			t.Errorf("the restored tree lacks %s:\n%s", s, got)
		}
	}

	// One flipped byte in the tar: the restore fails and leaves nothing.
	tarPath := filepath.Join(cache, rootfsEntryName(key), "root.tar")
	b, _ := os.ReadFile(tarPath)
	b[len(b)/3] ^= 0xff
	os.WriteFile(tarPath, b, 0o644)
	dst2 := filepath.Join(t.TempDir(), "root")
	if err := restoreRootfs(ctx, cache, key, dst2); err == nil {
		t.Fatal("a corrupt entry was restored")
	}
	if _, err := os.Stat(dst2); err == nil {
		t.Fatal("a failed restore left its half-extracted root")
	}
	// A truncated tar is refused before any extraction.
	os.WriteFile(tarPath, b[:len(b)/2], 0o644)
	if _, _, err := readRootfsEntry(cache, key); err == nil {
		t.Fatal("a truncated entry was accepted")
	}
}

// describeTree lists every path of root with its type, mode, owner, size,
// mtime, device, link target, xattrs, content and hard-link group.
func describeTree(t *testing.T, root string) string {
	t.Helper()
	var lines []string
	inodes := map[uint64]string{}
	err := filepath.Walk(root, func(path string, fi os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		var st unix.Stat_t
		if err := unix.Lstat(path, &st); err != nil {
			return err
		}
		line := fmt.Sprintf("%s mode=%s uid=%d gid=%d", rel, fi.Mode(), st.Uid, st.Gid)
		if fi.Mode()&os.ModeSymlink == 0 {
			// Symlink mtimes are not compared: nothing in the build reads them.
			line += fmt.Sprintf(" mtime=%d", fi.ModTime().UnixNano())
		}
		switch st.Mode & unix.S_IFMT {
		case unix.S_IFCHR:
			line += fmt.Sprintf(" chr %d,%d", unix.Major(st.Rdev), unix.Minor(st.Rdev))
		case unix.S_IFBLK:
			line += fmt.Sprintf(" blk %d,%d", unix.Major(st.Rdev), unix.Minor(st.Rdev))
		case unix.S_IFIFO:
			line += " fifo"
		case unix.S_IFLNK:
			target, _ := os.Readlink(path)
			line += " -> " + target
		case unix.S_IFREG:
			data, _ := os.ReadFile(path)
			line += fmt.Sprintf(" size=%d content=%x", len(data), data[:min(len(data), 16)])
			if st.Nlink > 1 {
				if first, ok := inodes[st.Ino]; ok {
					line += " link " + first
				} else {
					inodes[st.Ino] = rel
					line += fmt.Sprintf(" link %d", st.Nlink)
				}
			}
		}
		if st.Mode&unix.S_IFMT != unix.S_IFLNK {
			sz, _ := unix.Llistxattr(path, nil)
			if sz > 0 {
				buf := make([]byte, sz)
				n, _ := unix.Llistxattr(path, buf)
				names := strings.Split(strings.TrimRight(string(buf[:n]), "\x00"), "\x00")
				sort.Strings(names)
				for _, name := range names {
					v := make([]byte, 256)
					vn, _ := unix.Lgetxattr(path, name, v)
					line += fmt.Sprintf(" %s=%x", name, v[:max(vn, 0)])
				}
			}
		}
		lines = append(lines, line)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return strings.Join(lines, "\n")
}
