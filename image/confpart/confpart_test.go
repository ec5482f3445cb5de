package confpart

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/ProtonMail/go-crypto/openpgp/armor"

	"github.com/supernode-appliance/appliance/image/credstore"
)

var allow = []string{"supernode.*", "supernode-xdp.*", "network.network.*"}

func TestParseAccepts(t *testing.T) {
	in := "\xef\xbb\xbf# notes\r\n\r\n; more notes\r\nsupernode.software = edge-1\r\n  supernode-xdp.allow_bogons=10.0.0.0/8\r\nsupernode.empty=\nsupernode.eq=a=b\tc\n"
	got, err := Parse([]byte(in), Policy{Allow: allow})
	if err != nil {
		t.Fatal(err)
	}
	want := []credstore.Credential{
		{Name: "supernode.software", Value: []byte("edge-1")},
		{Name: "supernode-xdp.allow_bogons", Value: []byte("10.0.0.0/8")},
		{Name: "supernode.empty", Value: []byte("")},
		{Name: "supernode.eq", Value: []byte("a=b\tc")},
	}
	if len(got) != len(want) {
		t.Fatalf("got %d credentials %q, want %d", len(got), got, len(want))
	}
	for i := range want {
		if got[i].Name != want[i].Name || !bytes.Equal(got[i].Value, want[i].Value) {
			t.Errorf("credential %d = %s=%q, want %s=%q", i, got[i].Name, got[i].Value, want[i].Name, want[i].Value)
		}
	}
}

// TestParseHostile: every way a file can be wrong is refused as a whole,
// with a sentence naming the line (or the limit) and the problem.
func TestParseHostile(t *testing.T) {
	many := strings.Repeat("supernode.x=1\n", 0)
	for i := 0; i < DefaultMaxCount+1; i++ {
		many += "supernode.k" + string(rune('a'+i%26)) + strings.Repeat("z", i/26) + "=1\n"
	}
	for name, c := range map[string]struct{ in, want string }{
		"oversized file":      {"supernode.a=" + strings.Repeat("x", DefaultMaxFile) + "\n", "more than the limit of 65536"},
		"oversized value":     {"supernode.a=" + strings.Repeat("x", DefaultMaxValue+1) + "\n", "line 1: the value of \"supernode.a\" is 16385 bytes"},
		"too many entries":    {many, "more than 64 settings"},
		"off the allowlist":   {"# x\nsystemd.extra-unit.x.service=[Service]\n", "line 2: name \"systemd.extra-unit.x.service\" is not on the credential allowlist"},
		"journal forwarding":  {"journal.forward_to_socket=10.0.0.1:9\n", "not on the credential allowlist"},
		"path-like name":      {"supernode./../../etc/shadow=x\n", "not a plain file name"},
		"dot-dot name":        {"..=x\n", "not a plain file name"},
		"space in name":       {"supernode.a b=x\n", "outside printable ASCII"},
		"non-ASCII name":      {"supernode.é=x\n", "outside printable ASCII"},
		"NUL byte":            {"supernode.a=1\nsupernode.b=x\x00y\n", "NUL byte at line 2"},
		"control character":   {"supernode.a=x\x1by\n", "control character"},
		"duplicate key":       {"supernode.a=1\nsupernode.b=2\nsupernode.a=3\n", "line 3 sets \"supernode.a\" again (first on line 1)"},
		"no equals":           {"supernode.a\n", "line 1 has no '='"},
		"empty name":          {"=x\n", "not a plain file name"},
		"networkd file":       {"network.network.50-static=[Match]\n", "multi-line networkd file"},
		"not UTF-8":           {"supernode.a=\xff\xfe\n", "not UTF-8"},
		"binary garbage":      {"\x7fELF\x02\x01\x01\x00", "NUL byte"},
		"half good half evil": {"supernode.software=ok\nsysctl.extra=kernel.x=1\n", "line 2"},
	} {
		_, err := Parse([]byte(c.in), Policy{Allow: allow})
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want one containing %q", name, err, c.want)
		}
	}
}

func TestDocumentEditKeepsNotes(t *testing.T) {
	d := Split([]byte("# site A\nsupernode.software=old\n\n# xdp\nsupernode-xdp.allow_bogons=10.0.0.0/8\n"))
	d.Set("supernode.software", "new")
	d.Set("supernode.max_peers", "1000")
	if !d.Unset("supernode-xdp.allow_bogons") || d.Unset("supernode.nothing") {
		t.Error("Unset reported wrongly")
	}
	want := "# site A\nsupernode.software=new\n\n# xdp\nsupernode.max_peers=1000\n"
	if got := string(d.Bytes()); got != want {
		t.Errorf("edited document:\n%s\nwant:\n%s", got, want)
	}
}

// TestDirRefusesSymlinksAndSpecialFiles: the kernel's vfat has no
// symbolic links or device nodes, but the reader does not rely on that.
func TestDirRefusesSymlinksAndSpecialFiles(t *testing.T) {
	d := t.TempDir()
	secret := filepath.Join(t.TempDir(), "shadow")
	os.WriteFile(secret, []byte("supernode.a=1\n"), 0o600)
	os.Symlink(secret, filepath.Join(d, ConfFile))
	if _, err := Pick(Dir(d), 0); err == nil || !strings.Contains(err.Error(), "symbolic link") {
		t.Errorf("symlinked %s: %v", ConfFile, err)
	}
	os.Remove(filepath.Join(d, ConfFile))
	os.Mkdir(filepath.Join(d, ConfFile), 0o700)
	if _, err := Pick(Dir(d), 0); err == nil || !strings.Contains(err.Error(), "not a plain file") {
		t.Errorf("directory %s: %v", ConfFile, err)
	}
	os.Remove(filepath.Join(d, ConfFile))
	if err := syscall.Mkfifo(filepath.Join(d, ConfFile), 0o600); err == nil {
		// O_NONBLOCK: a FIFO must not hang the boot.
		if _, err := Pick(Dir(d), 0); err == nil || !strings.Contains(err.Error(), "not a plain file") {
			t.Errorf("FIFO %s: %v", ConfFile, err)
		}
	}
	os.Remove(filepath.Join(d, ConfFile))
	os.WriteFile(filepath.Join(d, ConfFile), []byte("supernode.a=1\n"), 0o600)
	os.Symlink(secret, filepath.Join(d, SigFile))
	if _, err := Pick(Dir(d), 0); err == nil || !strings.Contains(err.Error(), "symbolic link") {
		t.Errorf("symlinked %s: %v", SigFile, err)
	}
	os.Remove(filepath.Join(d, SigFile))
	os.WriteFile(filepath.Join(d, ConfFile), bytes.Repeat([]byte("#"), DefaultMaxFile+1), 0o600)
	if _, err := Pick(Dir(d), 0); err == nil || !strings.Contains(err.Error(), "larger than the limit") {
		t.Errorf("oversized %s: %v", ConfFile, err)
	}
}

// testKey makes an operator key pair: the private entity and the armored
// public key.
func testKey(t *testing.T) (*openpgp.Entity, []byte) {
	t.Helper()
	e, err := openpgp.NewEntity("operator", "", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	w, _ := armor.Encode(&b, openpgp.PublicKeyType, nil)
	if err := e.Serialize(w); err != nil {
		t.Fatal(err)
	}
	w.Close()
	return e, b.Bytes()
}

type bootEnv struct {
	dir, store, lastGood, key string
}

func newBootEnv(t *testing.T, pub []byte) bootEnv {
	root := t.TempDir()
	e := bootEnv{dir: filepath.Join(root, "part"), store: filepath.Join(root, "credstore"), lastGood: filepath.Join(root, "var", "last-good.conf"), key: filepath.Join(root, "key.asc")}
	os.Mkdir(e.dir, 0o700)
	if pub != nil {
		os.WriteFile(e.key, pub, 0o644)
	}
	return e
}

// boot runs one boot: the store is per boot (/run), the last good file
// persists (/var).
func (e bootEnv) boot(t *testing.T) (Result, error, map[string]string) {
	t.Helper()
	os.RemoveAll(e.store)
	r, err := Run(Config{Dir: e.dir, KeyFile: e.key, CredStore: e.store, ShadowDirs: []string{}, LastGood: e.lastGood,
		Allowlist: func() ([]string, error) { return allow, nil }})
	got := map[string]string{}
	ents, _ := os.ReadDir(e.store)
	for _, de := range ents {
		b, _ := os.ReadFile(filepath.Join(e.store, de.Name()))
		got[de.Name()] = string(b)
	}
	return r, err, got
}

func (e bootEnv) write(t *testing.T, files map[string]string) {
	t.Helper()
	for _, n := range []string{ConfFile, SigFile, NewFile, NewSig} {
		os.Remove(filepath.Join(e.dir, n))
	}
	for n, b := range files {
		if err := os.WriteFile(filepath.Join(e.dir, n), []byte(b), 0o600); err != nil {
			t.Fatal(err)
		}
	}
}

func TestRunUnsignedLastGood(t *testing.T) {
	e := newBootEnv(t, nil)
	if r, err, got := e.boot(t); err != nil || !r.NoData || len(got) != 0 {
		t.Fatalf("empty partition: %+v %v %v", r, err, got)
	}
	e.write(t, map[string]string{ConfFile: "supernode.software=edge-1\n"})
	if _, err, got := e.boot(t); err != nil || got["supernode.software"] != "edge-1" {
		t.Fatalf("good config: %v %v", err, got)
	}
	// A bad edit: nothing of it, the last good one serves, one sentence.
	e.write(t, map[string]string{ConfFile: "supernode.software=edge-2\nsystemd.extra-unit.x.service=evil\n"})
	r, err, got := e.boot(t)
	if err == nil || !r.FellBack || got["supernode.software"] != "edge-1" || len(got) != 1 {
		t.Fatalf("bad config: %+v %v %v", r, err, got)
	}
	if msg := err.Error(); !strings.Contains(msg, "line 2") || !strings.Contains(msg, "last good configuration") || strings.Contains(msg, "\n") {
		t.Errorf("message: %s", msg)
	}
	t.Logf("bad config: %v", err)
	// The last good copy on /var is checked again like new.
	os.WriteFile(e.lastGood, []byte("tmpfiles.extra=evil\n"), 0o600)
	if _, err, got := e.boot(t); err == nil || len(got) != 0 || !strings.Contains(err.Error(), "unusable too") || !strings.Contains(err.Error(), "built-in configuration serves") {
		t.Errorf("tampered last good: %v %v", err, got)
	}
	// A configuration without settings is the operator's choice: the
	// built-in configuration, and the last good one forgotten.
	e.write(t, map[string]string{ConfFile: "supernode.software=edge-3\n"})
	e.boot(t)
	e.write(t, map[string]string{ConfFile: "# nothing\n"})
	if r, err, got := e.boot(t); err != nil || !r.NoData || len(got) != 0 {
		t.Errorf("empty config: %+v %v %v", r, err, got)
	}
	if _, err := os.Stat(e.lastGood); !os.IsNotExist(err) {
		t.Errorf("last good kept after an empty config: %v", err)
	}
}

// TestRunSigned: with a key in the image, only configuration it signed
// counts; anything else is refused and the last good (signed) one serves.
func TestRunSigned(t *testing.T) {
	key, pub := testKey(t)
	other, _ := testKey(t)
	e := newBootEnv(t, pub)
	sign := func(k *openpgp.Entity, s string) string {
		b, err := Sign(k, []byte(s))
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	// First boot of a signed image: no file, nothing kept, built-in.
	if r, err, _ := e.boot(t); err != nil || !r.NoData {
		t.Fatalf("no config: %+v %v", r, err)
	}
	good := "supernode.software=signed-1\n"
	e.write(t, map[string]string{ConfFile: good, SigFile: sign(key, good)})
	r, err, got := e.boot(t)
	if err != nil || got["supernode.software"] != "signed-1" || r.Signed == "" {
		t.Fatalf("signed config: %+v %v %v", r, err, got)
	}
	// An armored signature is accepted too (gpg --armor --detach-sign).
	var arm bytes.Buffer
	openpgp.ArmoredDetachSign(&arm, key, strings.NewReader(good), nil)
	e.write(t, map[string]string{ConfFile: good, SigFile: arm.String()})
	if _, err, got := e.boot(t); err != nil || got["supernode.software"] != "signed-1" {
		t.Errorf("armored signature: %v %v", err, got)
	}
	edited := "supernode.software=tampered\n"
	for name, c := range map[string]struct {
		files map[string]string
		want  string
	}{
		"missing signature":      {map[string]string{ConfFile: edited}, "is not signed"},
		"stale signature":        {map[string]string{ConfFile: edited, SigFile: sign(key, good)}, "does not verify"},
		"signature of a file B":  {map[string]string{ConfFile: edited, SigFile: sign(key, "supernode.other=1\n")}, "does not verify"},
		"another key":            {map[string]string{ConfFile: edited, SigFile: sign(other, edited)}, "does not verify"},
		"garbage signature":      {map[string]string{ConfFile: edited, SigFile: "not a signature"}, "does not verify"},
		"empty signature":        {map[string]string{ConfFile: edited, SigFile: ""}, "is not signed"},
		"oversized signature":    {map[string]string{ConfFile: edited, SigFile: strings.Repeat("x", MaxSig+1)}, "larger than the limit"},
		"deleted config":         {map[string]string{}, "has no appliance.conf"},
		"unsigned empty config":  {map[string]string{ConfFile: "# reset\n"}, "is not signed"},
		"signed but off allowed": {map[string]string{ConfFile: "tmpfiles.extra=x\n", SigFile: sign(key, "tmpfiles.extra=x\n")}, "not on the credential allowlist"},
	} {
		e.write(t, c.files)
		r, err, got := e.boot(t)
		if err == nil || !strings.Contains(err.Error(), c.want) || !r.FellBack || got["supernode.software"] != "signed-1" || len(got) != 1 {
			t.Errorf("%s: %+v %v %v; want an error containing %q and the last good signed configuration", name, r, err, got, c.want)
		}
	}
	// The last good copy is signed too and checked again: a forged one on
	// /var is refused.
	forged := "supernode.software=forged\n"
	os.WriteFile(e.lastGood, []byte(forged), 0o600)
	e.write(t, map[string]string{ConfFile: edited})
	if _, err, got := e.boot(t); err == nil || len(got) != 0 || !strings.Contains(err.Error(), "unusable too") {
		t.Errorf("forged last good: %v %v", err, got)
	}
	// Only a signed empty file clears the configuration.
	e.write(t, map[string]string{ConfFile: "# reset\n", SigFile: sign(key, "# reset\n")})
	if r, err, got := e.boot(t); err != nil || !r.NoData || len(got) != 0 {
		t.Errorf("signed empty config: %+v %v %v", r, err, got)
	}
}

// TestPickEveryStepOfAWrite: each state the write protocol passes through
// reads the old pair or the new pair, never a mix, never nothing.
func TestPickEveryStepOfAWrite(t *testing.T) {
	key, pub := testKey(t)
	ring, _ := ReadPublicKey(pub)
	oldC, newC := "supernode.software=old\n", "supernode.software=new\n"
	oldS, _ := Sign(key, []byte(oldC))
	newS, _ := Sign(key, []byte(newC))
	O, OS, N, NS := string(oldC), string(oldS), string(newC), string(newS)
	for i, st := range []struct {
		files map[string]string
		want  string
	}{
		{map[string]string{ConfFile: O, SigFile: OS}, O},
		{map[string]string{ConfFile: O, SigFile: OS, NewSig: NS[:len(NS)/2]}, O},     // writing new.sig
		{map[string]string{ConfFile: O, SigFile: OS, NewSig: NS, NewFile: N[:5]}, O}, // writing new
		{map[string]string{ConfFile: O, SigFile: OS, NewSig: NS, NewFile: N}, O},     // step 1 done
		{map[string]string{SigFile: OS, NewSig: NS, NewFile: N}, N},                  // 2: conf deleted
		{map[string]string{NewSig: NS, NewFile: N}, N},                               // 3: conf.sig deleted
		{map[string]string{SigFile: NS, NewFile: N}, N},                              // 4: new.sig renamed
		{map[string]string{ConfFile: N, SigFile: NS}, N},                             // 5: done
	} {
		d := t.TempDir()
		for n, b := range st.files {
			os.WriteFile(filepath.Join(d, n), []byte(b), 0o600)
		}
		f, err := Pick(Dir(d), 0)
		if err != nil || string(f.Conf) != st.want {
			t.Errorf("state %d: read %q (%v), want %q", i, f.Conf, err, st.want)
			continue
		}
		if err := Verify(ring, f.Conf, f.Sig); err != nil {
			t.Errorf("state %d: the configuration read is not the one its signature covers: %v", i, err)
		}
	}
}

func TestReadPublicKey(t *testing.T) {
	key, pub := testKey(t)
	if _, err := ReadPublicKey(pub); err != nil {
		t.Error(err)
	}
	var priv bytes.Buffer
	w, _ := armor.Encode(&priv, openpgp.PrivateKeyType, nil)
	key.SerializePrivate(w, nil)
	w.Close()
	if _, err := ReadPublicKey(priv.Bytes()); err == nil || !strings.Contains(err.Error(), "private key") {
		t.Errorf("a private key as config_signing_key: %v", err)
	}
	if _, err := ReadPublicKey([]byte("hello")); err == nil {
		t.Error("garbage accepted as a key")
	}
	_, pub2 := testKey(t)
	if _, err := ReadPublicKey(append(append([]byte{}, pub...), pub2...)); err == nil || !strings.Contains(err.Error(), "exactly one") {
		t.Errorf("two keys: %v", err)
	}
}

// TestRunUnmountedKeepsLastGood: a partition that did not mount (an empty
// mount point) must not read as "no configuration", which would forget
// the last good one.
func TestRunUnmountedKeepsLastGood(t *testing.T) {
	e := newBootEnv(t, nil)
	e.write(t, map[string]string{ConfFile: "supernode.software=edge-1\n"})
	e.boot(t)
	e.write(t, nil)
	os.RemoveAll(e.store)
	r, err := Run(Config{Dir: e.dir, KeyFile: e.key, CredStore: e.store, ShadowDirs: []string{}, LastGood: e.lastGood, RequireMount: true,
		Allowlist: func() ([]string, error) { return allow, nil }})
	if err == nil || !r.FellBack || !strings.Contains(err.Error(), "no configuration partition is mounted") {
		t.Fatalf("unmounted: %+v %v", r, err)
	}
	if b, _ := os.ReadFile(filepath.Join(e.store, "supernode.software")); string(b) != "edge-1" {
		t.Errorf("last good not imported: %q", b)
	}
	if !isMountPoint("/proc") {
		t.Error("/proc is not seen as a mount point")
	}
}
