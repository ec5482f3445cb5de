package testenv

import (
	"crypto/sha256"
	"encoding/hex"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// ImageCacheDir is where Image keeps default images between test packages
// and runs, one subdirectory per set of inputs.
const ImageCacheDir = "/var/tmp/supernode-test-image"

// built is one image per set of template lines: its directory or error.
type built struct {
	once     sync.Once
	dir, err string
}

var (
	imagesMu sync.Mutex
	images   = map[string]*built{}
)

// Image returns a directory holding the default appliance image
// (supernode-appliance.raw, .qcow2, manifest.json), built with
// `bin/appliance build -out DIR image/appliance.pkr.hcl`. The build runs once
// per set of inputs (binaries, units, configs, profile, template) under a file
// lock, so test packages running in parallel share one build. Set
// SUPERNODE_TEST_IMAGE to a directory to use an image built elsewhere.
func Image(t testing.TB) string {
	t.Helper()
	if dir := os.Getenv("SUPERNODE_TEST_IMAGE"); dir != "" {
		return dir
	}
	return imageWith(t, "")
}

// ImageWith is Image for the default template with lines added to its
// source block (TemplateWith), e.g. `kernel_flavour = "hardened"`: built
// once per set of inputs and lines, shared the same way.
func ImageWith(t testing.TB, lines string) string {
	t.Helper()
	return imageWith(t, lines)
}

func imageWith(t testing.TB, lines string) string {
	t.Helper()
	RequireRoot(t)
	RequireCommands(t, "mmdebstrap", "qemu-img")
	bin := BuildBinaries(t)
	root := RepoRoot(t)
	imagesMu.Lock()
	b := images[lines]
	if b == nil {
		b = &built{}
		images[lines] = b
	}
	imagesMu.Unlock()
	imageDir, imageErr := &b.dir, &b.err
	b.once.Do(func() {
		if err := os.MkdirAll(ImageCacheDir, 0o755); err != nil {
			*imageErr = err.Error()
			return
		}
		unlock, err := lockFile(ImageCacheDir + ".lock")
		if err != nil {
			*imageErr = err.Error()
			return
		}
		defer unlock()
		// The binaries, and the sources of everything else the image
		// carries: units, default configs, the profile, the template.
		sum, err := treeHash(bin, filepath.Join(root, "image"), filepath.Join(root, "hardening"),
			filepath.Join(root, "supernode"), filepath.Join(root, "ebpf"))
		if lines != "" {
			h := sha256.Sum256([]byte(sum + "\x00" + lines))
			sum = hex.EncodeToString(h[:])
		}
		if err != nil {
			*imageErr = err.Error()
			return
		}
		// One directory per set of inputs: a test process never replaces an
		// image another process (an older checkout, a parallel run) still uses.
		// The build output sits in out/ and the marker beside it, so the
		// output holds exactly what the build wrote (appliance verify
		// refuses any file SHA256SUMS does not list).
		dir := filepath.Join(ImageCacheDir, sum[:16])
		if _, err := os.Stat(filepath.Join(dir, "inputs.sha256")); err == nil {
			if _, err := os.Stat(filepath.Join(dir, "out", "SHA256SUMS")); err == nil {
				*imageDir = filepath.Join(dir, "out")
				return
			}
			os.RemoveAll(dir) // a cache entry of an older layout
		}
		pruneImages(dir)
		tmp := dir + ".new"
		os.RemoveAll(tmp)
		template := filepath.Join(root, "image", "appliance.pkr.hcl")
		if lines != "" {
			if err := os.MkdirAll(tmp, 0o755); err != nil {
				*imageErr = err.Error()
				return
			}
			template = TemplateWith(t, root, filepath.Join(tmp, "appliance.pkr.hcl"), lines)
		}
		cmd := exec.Command(filepath.Join(bin, "appliance"), "build", "-out", filepath.Join(tmp, "out"), template)
		cmd.Dir = root
		var out strings.Builder
		cmd.Stdout, cmd.Stderr = &out, &out
		t.Logf("building the image (template lines %q) into %s (takes minutes)", lines, dir)
		if err := cmd.Run(); err != nil {
			os.RemoveAll(tmp)
			*imageErr = "appliance build: " + err.Error() + "\n" + out.String()
			return
		}
		if err := os.WriteFile(filepath.Join(tmp, "inputs.sha256"), []byte(sum), 0o644); err != nil {
			*imageErr = err.Error()
			return
		}
		if err := os.Rename(tmp, dir); err != nil {
			*imageErr = err.Error()
			return
		}
		*imageDir = filepath.Join(dir, "out")
	})
	if *imageErr != "" {
		t.Fatal(*imageErr)
	}
	return *imageDir
}

// treeHash hashes the names and contents of every regular file under dirs.
func treeHash(dirs ...string) (string, error) {
	h := sha256.New()
	for _, d := range dirs {
		err := filepath.WalkDir(d, func(p string, e fs.DirEntry, err error) error {
			if err != nil || !e.Type().IsRegular() || strings.HasSuffix(p, "_test.go") || strings.HasPrefix(e.Name(), ".") {
				return err
			}
			f, err := os.Open(p)
			if err != nil {
				return err
			}
			defer f.Close()
			io.WriteString(h, p+"\x00")
			_, err = io.Copy(h, f)
			return err
		})
		if err != nil {
			return "", err
		}
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// pruneImages removes cached images of other inputs that nobody has built
// for a day, so the cache does not grow without bound.
func pruneImages(keep string) {
	entries, _ := os.ReadDir(ImageCacheDir)
	for _, e := range entries {
		p := filepath.Join(ImageCacheDir, e.Name())
		if info, err := e.Info(); err == nil && p != keep && time.Since(info.ModTime()) > 24*time.Hour {
			os.RemoveAll(p)
		}
	}
}

// DefaultTemplate returns the text of image/appliance.pkr.hcl for a copy
// written elsewhere: its inputs are found from the template's own folder
// (${path.root}/..), so the copy names the repository root instead.
func DefaultTemplate(t testing.TB, root string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(root, "image", "appliance.pkr.hcl"))
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	if !strings.Contains(s, "${path.root}/..") {
		t.Fatal("image/appliance.pkr.hcl no longer finds its inputs from ${path.root}/..; update testenv.DefaultTemplate")
	}
	return strings.ReplaceAll(s, "${path.root}/..", root)
}

// TemplateWith writes DefaultTemplate to path with lines added to its
// source block; an attribute set in lines replaces the template's own
// (HCL refuses one set twice). It returns path.
func TemplateWith(t testing.TB, root, path, lines string) string {
	t.Helper()
	tmpl := DefaultTemplate(t, root)
	for _, m := range regexp.MustCompile(`(?m)^\s*(\w+)\s*=`).FindAllStringSubmatch(lines, -1) {
		tmpl = regexp.MustCompile(`(?m)^[ \t]*`+m[1]+`[ \t]*=.*\n`).ReplaceAllString(tmpl, "")
	}
	const block = `source "supernode" "appliance" {`
	if !strings.Contains(tmpl, block) {
		t.Fatalf("image/appliance.pkr.hcl has no %s block", block)
	}
	if err := os.WriteFile(path, []byte(strings.Replace(tmpl, block, block+lines, 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}
