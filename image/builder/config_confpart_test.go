package builder

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/supernode-appliance/appliance/image/confpart"
)

// TestConfigSigningKeyOption: the template option takes the operator's
// public key; a private key (which must never end up in an image), garbage
// or a missing file stop at Prepare with the option named.
func TestConfigSigningKeyOption(t *testing.T) {
	dir := t.TempDir()
	priv, pub, err := GenerateSigningKey("op", "")
	if err != nil {
		t.Fatal(err)
	}
	files := map[string][]byte{"pub.asc": pub, "priv.asc": priv, "junk.asc": []byte("hello\n")}
	for n, b := range files {
		os.WriteFile(filepath.Join(dir, n), b, 0o600)
	}
	for name, want := range map[string]string{"pub.asc": "", "priv.asc": "is a private key", "junk.asc": "not an OpenPGP public key", "missing.asc": "no such file"} {
		var b Builder
		_, _, err := b.Prepare(map[string]interface{}{"config_signing_key": filepath.Join(dir, name)})
		switch {
		case want == "" && err != nil:
			t.Errorf("%s: %v", name, err)
		case want != "" && (err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), "config_signing_key")):
			t.Errorf("%s: %v, want an error naming config_signing_key and containing %q", name, err, want)
		}
	}
}

// TestConfigPartitionInImage: the fstab line mounts the partition the
// builder labels where appliance-config reads it, read-only and inert, in
// both /var layouts.
func TestConfigPartitionInImage(t *testing.T) {
	for _, c := range []*Config{{}, {Stateless: true}} {
		f := FstabConfig(c)
		var line []string
		for _, l := range strings.Split(f, "\n") {
			if strings.HasPrefix(l, BootDiskLinks+confpart.PartLabel+" ") {
				line = strings.Fields(l)
			}
		}
		if len(line) != 6 || line[1] != confpart.DefaultMountDir || line[2] != "vfat" {
			t.Fatalf("fstab (stateless=%v) has no mount of the configuration partition:\n%s", c.Stateless, f)
		}
		for _, o := range []string{"ro", "nosuid", "nodev", "noexec", "nofail", "umask=0077"} {
			if !strings.Contains(","+line[3]+",", ","+o+",") {
				t.Errorf("configuration partition mounted without %s: %s", o, line[3])
			}
		}
	}
	found := false
	for _, b := range Commands {
		found = found || b == "appliance-config"
	}
	if !found {
		t.Error("appliance-config is not installed (builder.Commands)")
	}
}
