package update_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/ProtonMail/go-crypto/openpgp/packet"

	"github.com/supernode-appliance/appliance/image/update"
)

const (
	rootUUID   = "0a1b2c3d-0000-4000-8000-000000000001"
	verityUUID = "0a1b2c3d-0000-4000-8000-000000000002"
)

func newKey(t *testing.T) *openpgp.Entity {
	t.Helper()
	k, err := openpgp.NewEntity("op", "", "op@example.org", &packet.Config{Algorithm: packet.PubKeyAlgoEdDSA})
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func pub(k *openpgp.Entity) openpgp.EntityList {
	var b bytes.Buffer
	k.Serialize(&b)
	ring, _ := openpgp.ReadKeyRing(&b)
	return ring
}

// bundle writes a signed bundle of version v into a new directory; edit
// may change the files before SHA256SUMS is made and signed.
func bundle(t *testing.T, k *openpgp.Entity, v string, edit func(files map[string][]byte)) string {
	t.Helper()
	files := map[string][]byte{
		update.RootName(v, rootUUID):     []byte("erofs root " + v),
		update.VerityName(v, verityUUID): []byte("verity tree " + v),
		update.UKIName(v):                []byte("MZ uki " + v),
		"manifest.json":                  []byte(`{"builder_version":"` + v + `"}`),
	}
	if edit != nil {
		edit(files)
	}
	dir := t.TempDir()
	var sums bytes.Buffer
	for name, b := range files {
		sum := sha256.Sum256(b)
		fmt.Fprintf(&sums, "%s  %s\n", hex.EncodeToString(sum[:]), name)
		if !strings.ContainsAny(name, "/\\") {
			os.WriteFile(filepath.Join(dir, name), b, 0o644)
		}
	}
	sign(t, k, dir, sums.Bytes())
	return dir
}

func sign(t *testing.T, k *openpgp.Entity, dir string, sums []byte) {
	t.Helper()
	var sig bytes.Buffer
	if err := openpgp.DetachSign(&sig, k, bytes.NewReader(sums), nil); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, update.SumsFile), sums, 0o644)
	os.WriteFile(filepath.Join(dir, update.SignatureFile), sig.Bytes(), 0o644)
}

func stage(t *testing.T, key openpgp.EntityList, src, min string) (*update.Staged, string, error) {
	work := filepath.Join(t.TempDir(), "work")
	st, err := update.Stage(context.Background(), src, update.Options{Key: key, MinVersion: min, WorkDir: work})
	return st, work, err
}

func TestStageAcceptsSignedBundle(t *testing.T) {
	k := newKey(t)
	src := bundle(t, k, "1.2.0", nil)
	st, _, err := stage(t, pub(k), src, "1.1.0")
	if err != nil {
		t.Fatal(err)
	}
	defer st.Remove()
	p := st.Payloads
	if p.Version != "1.2.0" || p.RootUUID != rootUUID || p.VerityUUID != verityUUID || p.UKI != "supernode_1.2.0_uki.efi" {
		t.Fatalf("payloads %+v", p)
	}
	for _, n := range []string{p.Root, p.Verity, p.UKI, "manifest.json", update.SumsFile, update.SignatureFile} {
		if _, err := os.Stat(filepath.Join(st.Dir, n)); err != nil {
			t.Errorf("staged dir lacks %s", n)
		}
	}
	if fi, _ := os.Stat(st.Dir); fi.Mode().Perm() != 0o700 {
		t.Errorf("staging dir mode %v, want 0700", fi.Mode().Perm())
	}
}

func TestStageDevVersionsWithPlus(t *testing.T) {
	k := newKey(t)
	src := bundle(t, k, "0.1.1-dev+12.g57793ce", nil)
	st, _, err := stage(t, pub(k), src, "0.1.1-dev+9.gabcdef0")
	if err != nil {
		t.Fatal(err)
	}
	st.Remove()
}

// TestStageRefusesHostileBundles: each refused with one sentence, and the
// work directory holds nothing afterwards.
func TestStageRefusesHostileBundles(t *testing.T) {
	k, other := newKey(t), newKey(t)
	cases := []struct {
		name string
		src  func() string
		min  string
		want string
	}{
		{"signed by another key", func() string { return bundle(t, other, "1.2.0", nil) }, "", "does not verify against the operator key"},
		{"no signature", func() string {
			d := bundle(t, k, "1.2.0", nil)
			os.Remove(filepath.Join(d, update.SignatureFile))
			return d
		}, "", "is not signed"},
		{"garbage signature", func() string {
			d := bundle(t, k, "1.2.0", nil)
			os.WriteFile(filepath.Join(d, update.SignatureFile), []byte("garbage"), 0o644)
			return d
		}, "", "does not verify"},
		{"SHA256SUMS edited after signing", func() string {
			d := bundle(t, k, "1.2.0", nil)
			p := filepath.Join(d, update.SumsFile)
			b, _ := os.ReadFile(p)
			os.WriteFile(p, append(b, []byte(strings.Repeat("0", 64)+"  sbom.spdx.json\n")...), 0o644)
			return d
		}, "", "does not verify"},
		{"tampered payload", func() string {
			d := bundle(t, k, "1.2.0", nil)
			os.WriteFile(filepath.Join(d, update.RootName("1.2.0", rootUUID)), []byte("evil root"), 0o644)
			return d
		}, "", "does not match its sha256"},
		{"missing payload", func() string {
			d := bundle(t, k, "1.2.0", nil)
			os.Remove(filepath.Join(d, update.UKIName("1.2.0")))
			return d
		}, "", "is missing from the bundle"},
		{"payload not listed", func() string {
			return bundle(t, k, "1.2.0", func(f map[string][]byte) { delete(f, update.VerityName("1.2.0", verityUUID)) })
		}, "", "lists no verity"},
		{"path traversal", func() string {
			return bundle(t, k, "1.2.0", func(f map[string][]byte) { f["../../etc/passwd"] = []byte("x") })
		}, "", "a path outside the bundle"},
		{"absolute path", func() string {
			return bundle(t, k, "1.2.0", func(f map[string][]byte) { f["/usr/lib/os-release"] = []byte("x") })
		}, "", "a path outside the bundle"},
		{"hidden name", func() string {
			return bundle(t, k, "1.2.0", func(f map[string][]byte) { f[".bashrc"] = []byte("x") })
		}, "", "a path outside the bundle"},
		{"unknown name", func() string {
			return bundle(t, k, "1.2.0", func(f map[string][]byte) { f["install.sh"] = []byte("x") })
		}, "", "no payload name"},
		{"two versions", func() string {
			return bundle(t, k, "1.2.0", func(f map[string][]byte) {
				delete(f, update.UKIName("1.2.0"))
				f[update.UKIName("1.3.0")] = []byte("uki")
			})
		}, "", "a bundle holds one version"},
		{"symlinked payload", func() string {
			d := bundle(t, k, "1.2.0", nil)
			n := filepath.Join(d, update.UKIName("1.2.0"))
			os.Remove(n)
			os.Symlink("/etc/hostname", n)
			return d
		}, "", "not a regular file"},
		{"downgrade", func() string { return bundle(t, k, "1.1.9", nil) }, "1.2.0", "downgrades are refused"},
		{"dev build of the running release", func() string { return bundle(t, k, "1.2.0-dev+3.gabc", nil) }, "1.2.0", "downgrades are refused"},
		{"not a directory", func() string { return filepath.Join(t.TempDir(), "nope") }, "", "is not a directory"},
		{"plain http", func() string { return "http://192.0.2.1/bundle/" }, "", "only https://"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			st, work, err := stage(t, pub(k), c.src(), c.min)
			if err == nil {
				st.Remove()
				t.Fatal("accepted")
			}
			if !strings.Contains(err.Error(), c.want) || strings.Contains(err.Error(), "\n") {
				t.Errorf("error %q, want one sentence containing %q", err, c.want)
			}
			if entries, _ := os.ReadDir(work); len(entries) != 0 {
				t.Errorf("refusal left %d entries in the work directory", len(entries))
			}
			t.Logf("%v", err)
		})
	}
}

func TestStageNeedsKey(t *testing.T) {
	k := newKey(t)
	if _, _, err := stage(t, nil, bundle(t, k, "1.2.0", nil), ""); err == nil || !strings.Contains(err.Error(), "no operator key") {
		t.Fatalf("no key: %v", err)
	}
}

func TestStageOverHTTPS(t *testing.T) {
	k := newKey(t)
	src := bundle(t, k, "1.2.0", nil)
	srv := httptest.NewTLSServer(http.FileServer(http.Dir(src)))
	defer srv.Close()
	work := filepath.Join(t.TempDir(), "work")
	st, err := update.Stage(context.Background(), srv.URL+"/", update.Options{Key: pub(k), WorkDir: work, Client: srv.Client()})
	if err != nil {
		t.Fatal(err)
	}
	st.Remove()
	// The server swaps the root after signing: refused.
	os.WriteFile(filepath.Join(src, update.RootName("1.2.0", rootUUID)), []byte("evil"), 0o644)
	if _, err := update.Stage(context.Background(), srv.URL, update.Options{Key: pub(k), WorkDir: work, Client: srv.Client()}); err == nil || !strings.Contains(err.Error(), "does not match") {
		t.Fatalf("tampered over https: %v", err)
	}
	if entries, _ := os.ReadDir(work); len(entries) != 0 {
		t.Errorf("refusal left %d entries", len(entries))
	}
}

func TestCompareVersions(t *testing.T) {
	order := []string{"0.1.0-dev+gabc", "0.1.0", "0.1.1-dev+2.gabc", "0.1.1-dev+12.gabc", "0.1.1", "0.2.0", "0.10.0", "1.0.0"}
	for i := range order {
		for j := range order {
			want := 0
			if i < j {
				want = -1
			} else if i > j {
				want = 1
			}
			if got := update.CompareVersions(order[i], order[j]); got != want {
				t.Errorf("Compare(%s, %s) = %d, want %d", order[i], order[j], got, want)
			}
		}
	}
}
