package builder

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"time"

	"github.com/supernode-appliance/appliance/image/tools"
)

// The rootfs cache keeps the bootstrap's result (the unpacked root as
// mmdebstrap and its hooks left it, kernel postinst's initrd included) under
// cache_dir as rootfs-<key>/{root.tar,entry.json}. The key is a sha256 over
// everything that can change that root; an entry is written under a
// temporary name and renamed into place, and its tar is checked against the
// sha256 in entry.json while it is extracted, so a partial or corrupt entry
// is never used.

// rootfsCacheFormat names the entry layout and the tar options; changing
// either changes every key, so older entries are never read.
const rootfsCacheFormat = "supernode rootfs cache v1"

// RootfsCacheKeep is how many rootfs entries stay in the cache. Each is a
// few hundred MiB and every new mirror snapshot makes a new key, so without
// pruning the cache grows with every archive update.
var RootfsCacheKeep = 4

// tarArgs are the options that make tar keep what a root needs exactly:
// numeric owners, modes with setuid bits, every xattr namespace (file
// capabilities are security.capability; GNU tar restores only user.* unless
// told), ACLs, hard links, device nodes, symlinks and nanosecond mtimes
// (the posix format).
var tarArgs = []string{"--format=posix", "--numeric-owner", "--xattrs", "--xattrs-include=*", "--acls"}

// RootfsKeyInput is everything the bootstrapped root depends on.
type RootfsKeyInput struct {
	Format     string   `json:"format"`
	Argv       []string `json:"argv"` // the work directory replaced by $WORK
	Env        []string `json:"env"`
	DracutConf string   `json:"dracut_conf"` // uploaded by a setup hook; its path alone is in argv
	Host       string   `json:"host"`        // host mmdebstrap, apt, dpkg and tar versions, native architecture
	Release    string   `json:"release"`     // sha256 of the mirror's InRelease (or Release) of the suite
}

// Key is the full hex sha256 of in.
func (in RootfsKeyInput) Key() string {
	b, _ := json.Marshal(in)
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// rootfsEntryName is the cache directory name of key.
func rootfsEntryName(key string) string { return "rootfs-" + key[:16] }

// rootfsEntry is entry.json.
type rootfsEntry struct {
	Key       string `json:"key"`
	TarSHA256 string `json:"tar_sha256"`
	TarSize   int64  `json:"tar_size"`
}

// keyArgv replaces the build's private work directory in argv: it differs
// on every build and mmdebstrap does not record it in the root.
func keyArgv(argv []string, work string) []string {
	out := make([]string, len(argv))
	for i, a := range argv {
		out[i] = strings.ReplaceAll(a, work, "$WORK")
	}
	return out
}

// hostBootstrapTools identifies the host tools mmdebstrap runs: apt on the
// host resolves and downloads the packages, dpkg and tar unpack them, and
// the host's architecture is the root's (the step passes no
// --architectures).
func hostBootstrapTools(ctx context.Context) (string, error) {
	ver, err := exec.CommandContext(ctx, "mmdebstrap", "--version").Output()
	if err != nil {
		return "", fmt.Errorf("mmdebstrap --version failed: %v", err)
	}
	pkgs, err := exec.CommandContext(ctx, "dpkg-query", "-W", "-f", "${Package} ${Version} ${Architecture}\n", "mmdebstrap", "apt", "dpkg", "tar").Output()
	if err != nil {
		return "", fmt.Errorf("dpkg-query for the host's mmdebstrap, apt, dpkg and tar failed: %v", err)
	}
	arch, err := exec.CommandContext(ctx, "dpkg", "--print-architecture").Output()
	if err != nil {
		return "", fmt.Errorf("dpkg --print-architecture failed: %v", err)
	}
	return strings.TrimSpace(string(ver)) + "\n" + strings.TrimSpace(string(pkgs)) + "\narch " + strings.TrimSpace(string(arch)), nil
}

// mirrorRelease returns "<file> sha256:<hex>" of the suite's InRelease, or
// Release where the mirror has no InRelease, fetched now: a mirror that
// moved to a new snapshot has a new Release file and so a new cache key.
func mirrorRelease(ctx context.Context, mirror, suite string) (string, error) {
	for _, name := range []string{"InRelease", "Release"} {
		h := sha256.New()
		if path, ok := strings.CutPrefix(mirror, "file://"); ok {
			f, err := os.Open(filepath.Join(path, "dists", suite, name))
			if errors.Is(err, os.ErrNotExist) {
				continue
			}
			if err != nil {
				return "", err
			}
			_, err = io.Copy(h, f)
			f.Close()
			if err != nil {
				return "", err
			}
			return name + " sha256:" + hex.EncodeToString(h.Sum(nil)), nil
		}
		rctx, cancel := context.WithTimeout(ctx, time.Minute)
		url := strings.TrimRight(mirror, "/") + "/dists/" + suite + "/" + name
		req, _ := http.NewRequestWithContext(rctx, http.MethodGet, url, nil)
		// A caching proxy between the build and the mirror must not
		// answer with yesterday's Release.
		req.Header.Set("Cache-Control", "no-cache")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			cancel()
			return "", err
		}
		if resp.StatusCode == http.StatusNotFound {
			resp.Body.Close()
			cancel()
			continue
		}
		if resp.StatusCode != http.StatusOK {
			resp.Body.Close()
			cancel()
			return "", fmt.Errorf("HTTP %d for %s", resp.StatusCode, url)
		}
		_, err = io.Copy(h, resp.Body)
		resp.Body.Close()
		cancel()
		if err != nil {
			return "", err
		}
		return name + " sha256:" + hex.EncodeToString(h.Sum(nil)), nil
	}
	return "", fmt.Errorf("mirror %s has neither dists/%s/InRelease nor Release", mirror, suite)
}

// readRootfsEntry returns the entry for key, or an error when there is no
// complete entry.
func readRootfsEntry(cacheDir, key string) (dir string, e rootfsEntry, err error) {
	dir = filepath.Join(cacheDir, rootfsEntryName(key))
	b, err := os.ReadFile(filepath.Join(dir, "entry.json"))
	if err != nil {
		return "", e, err
	}
	if err := json.Unmarshal(b, &e); err != nil || e.Key != key || e.TarSHA256 == "" {
		return "", e, fmt.Errorf("%s/entry.json does not describe key %s", dir, key)
	}
	fi, err := os.Stat(filepath.Join(dir, "root.tar"))
	if err != nil {
		return "", e, err
	}
	if fi.Size() != e.TarSize {
		return "", e, fmt.Errorf("%s/root.tar has %d bytes, entry.json says %d", dir, fi.Size(), e.TarSize)
	}
	return dir, e, nil
}

// storeRootfs archives root into the cache as the entry of key. The entry
// appears whole or not at all: it is written under a temporary name and
// renamed. The caller holds the cache lock.
func storeRootfs(ctx context.Context, cacheDir, key, root string) (size int64, err error) {
	tmp, err := os.MkdirTemp(cacheDir, ".rootfs-")
	if err != nil {
		return 0, err
	}
	defer func() {
		if err != nil {
			os.RemoveAll(tmp)
		}
	}()
	f, err := os.Create(filepath.Join(tmp, "root.tar"))
	if err != nil {
		return 0, err
	}
	h := sha256.New()
	// tar writes to stdout so the archive is hashed as it is written,
	// without reading it back.
	args := append([]string{"--create", "--file=-", "--sparse"}, tarArgs...)
	cmd := tarCommand(ctx, append(args, "-C", root, ".")...)
	cw := &countWriter{w: io.MultiWriter(f, h)}
	cmd.Stdout = cw
	var stderr strings.Builder
	cmd.Stderr = &stderr
	err = cmd.Run()
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return 0, fmt.Errorf("tar of the bootstrapped root failed: %w: %s", err, lastLines(stderr.String(), 5))
	}
	// No fsync: a tar cut short by a crash fails its size or sha256 check
	// on the next build and is rebuilt.
	e := rootfsEntry{Key: key, TarSHA256: hex.EncodeToString(h.Sum(nil)), TarSize: cw.n}
	b, _ := json.MarshalIndent(e, "", "  ")
	if err := os.WriteFile(filepath.Join(tmp, "entry.json"), append(b, '\n'), 0o644); err != nil {
		return 0, err
	}
	dst := filepath.Join(cacheDir, rootfsEntryName(key))
	// An entry that failed its check is still in the way; it is replaced.
	if err := os.RemoveAll(dst); err != nil {
		return 0, err
	}
	if err := os.Rename(tmp, dst); err != nil {
		return 0, err
	}
	return cw.n, nil
}

// tarCommand is tar in its own process group, as run() starts tools: a
// Ctrl-C reaches the builder, which cancels ctx, and not tar directly.
func tarCommand(ctx context.Context, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, "tar", args...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	return cmd
}

type countWriter struct {
	w io.Writer
	n int64
}

func (c *countWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// restoreRootfs extracts the entry of key into root (created; it must not
// exist yet). The tar is hashed as tar reads it; on a mismatch root is
// removed again and an error returned, and the caller bootstraps afresh.
func restoreRootfs(ctx context.Context, cacheDir, key, root string) error {
	dir, e, err := readRootfsEntry(cacheDir, key)
	if err != nil {
		return err
	}
	f, err := os.Open(filepath.Join(dir, "root.tar"))
	if err != nil {
		return err
	}
	defer f.Close()
	if err := os.Mkdir(root, 0o755); err != nil {
		return err
	}
	h := sha256.New()
	in := io.TeeReader(f, h)
	args := append([]string{"--extract", "--file=-", "--same-owner", "--same-permissions"}, tarArgs...)
	cmd := tarCommand(ctx, append(args, "-C", root)...)
	cmd.Stdin = in
	var stderr strings.Builder
	cmd.Stderr = &stderr
	err = cmd.Run()
	if err == nil {
		// tar stops at the end-of-archive blocks; hash what it left.
		_, err = io.Copy(h, in)
	}
	if err == nil {
		if got := hex.EncodeToString(h.Sum(nil)); got != e.TarSHA256 {
			err = fmt.Errorf("%s/root.tar has sha256 %s, entry.json says %s", dir, got, e.TarSHA256)
		}
	} else if stderr.Len() > 0 {
		err = fmt.Errorf("tar failed: %w: %s", err, lastLines(stderr.String(), 5))
	}
	if err != nil {
		os.RemoveAll(root)
		return err
	}
	// The entry's mtime is its last use: pruning keeps the recent ones.
	now := time.Now()
	os.Chtimes(dir, now, now)
	return nil
}

// dropRootfsEntry removes the entry of key (it failed its check).
func dropRootfsEntry(cacheDir, key string) error {
	return os.RemoveAll(filepath.Join(cacheDir, rootfsEntryName(key)))
}

// pruneRootfsCache keeps the keep most recently used rootfs entries and
// removes the rest, and any temporary entry a killed build left. The
// caller holds the cache lock, so no temporary entry is in use; a build
// still extracting a removed entry keeps reading its open file.
func pruneRootfsCache(cacheDir string, keep int) (removed []string) {
	ents, _ := os.ReadDir(cacheDir)
	type used struct {
		name string
		at   time.Time
	}
	var entries []used
	for _, d := range ents {
		switch {
		case !d.IsDir():
		case strings.HasPrefix(d.Name(), ".rootfs-"):
			os.RemoveAll(filepath.Join(cacheDir, d.Name()))
		case strings.HasPrefix(d.Name(), "rootfs-"):
			if fi, err := d.Info(); err == nil {
				entries = append(entries, used{d.Name(), fi.ModTime()})
			}
		}
	}
	sort.Slice(entries, func(i, j int) bool { return entries[i].at.After(entries[j].at) })
	for i := keep; i < len(entries); i++ {
		if os.RemoveAll(filepath.Join(cacheDir, entries[i].name)) == nil {
			removed = append(removed, entries[i].name)
		}
	}
	return removed
}

// lockRootfsCache serialises cache writers: a second build with the same
// key waits for the first one's entry instead of bootstrapping too.
func lockRootfsCache(ctx context.Context, cacheDir string, wait func()) (func(), error) {
	return tools.Lock(ctx, filepath.Join(cacheDir, "rootfs.lock"), wait)
}
