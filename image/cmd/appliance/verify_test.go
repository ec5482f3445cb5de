package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The verify checks themselves are tested in image/builder (sign_test.go,
// on a build output made by the real steps); here: the command's exit
// codes, its one-line messages and keygen.
func TestVerifyCommand(t *testing.T) {
	dir := t.TempDir()
	var out, errb bytes.Buffer
	if code := run([]string{"keygen", filepath.Join(dir, "k", "op")}, &out, &errb); code != 0 {
		t.Fatalf("keygen: exit %d: %s", code, errb.String())
	}
	for _, f := range []string{"k/op.asc", "k/op.pub.asc"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Fatal(err)
		}
	}
	if fi, _ := os.Stat(filepath.Join(dir, "k/op.asc")); fi.Mode().Perm() != 0o600 {
		t.Errorf("private key mode %v", fi.Mode().Perm())
	}
	errb.Reset()
	if code := run([]string{"keygen", filepath.Join(dir, "k", "op")}, &out, &errb); code != 1 || !strings.Contains(errb.String(), "never overwritten") {
		t.Errorf("keygen over an existing key: exit %d: %s", code, errb.String())
	}
	for _, c := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"verify"}, 2, "verify needs the build output directory"},
		{[]string{"verify", "-nope", dir}, 2, "flag provided but not defined"},
		{[]string{"verify", filepath.Join(dir, "missing")}, 1, "is not a directory"},
		{[]string{"verify", dir, "-key", filepath.Join(dir, "k/op.pub.asc")}, 1, "SHA256SUMS is missing"},
		{[]string{"verify", "-key", filepath.Join(dir, "nokey.asc"), dir}, 1, "cannot read the public key"},
	} {
		out.Reset()
		errb.Reset()
		code := run(c.args, &out, &errb)
		if code != c.code || !strings.Contains(out.String()+errb.String(), c.want) {
			t.Errorf("%q: exit %d, output %q; want exit %d and %q", c.args, code, out.String()+errb.String(), c.code, c.want)
		}
		if n := strings.Count(strings.TrimSpace(errb.String()), "\n"); n > 0 {
			t.Errorf("%q: %d lines on stderr, want one", c.args, n+1)
		}
	}
}
