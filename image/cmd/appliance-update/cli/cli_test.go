package cli

import (
	"crypto/tls"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/supernode-appliance/appliance/tests/testenv"
)

func TestCredentialSource(t *testing.T) {
	// The update server's own CA, and a server whose CA is another.
	pki := testenv.NewPKI(t, net.ParseIP("127.0.0.1"))
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("ok")) }))
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{pki.Server}}
	srv.StartTLS()
	defer srv.Close()
	ca := string(pki.CAPEM)
	write := func(dir, name, v string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(v), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	dir := t.TempDir()
	write(dir, "appliance-update.url", srv.URL+"/bundles/\n")
	write(dir, "appliance-update.ca", ca)
	src, client, err := credentialSource(dir)
	if err != nil || src != srv.URL+"/bundles/" {
		t.Fatalf("%q %v", src, err)
	}
	// The client trusts that CA and nothing else.
	if resp, err := client.Get(srv.URL); err != nil {
		t.Fatalf("the given CA is not trusted: %v", err)
	} else {
		resp.Body.Close()
	}
	otherPKI := testenv.NewPKI(t, net.ParseIP("127.0.0.1"))
	other := httptest.NewUnstartedServer(http.NotFoundHandler())
	other.TLS = &tls.Config{Certificates: []tls.Certificate{otherPKI.Server}}
	other.StartTLS()
	defer other.Close()
	if _, err := client.Get(other.URL); err == nil {
		t.Error("a server the CA did not sign was trusted")
	}

	for url, want := range map[string]string{
		"http://192.0.2.1/b/":                "give an https:// URL",
		"https://user:pw@192.0.2.1/b/":       "without credentials",
		"https://192.0.2.1/b/?x=1":           "without credentials, query",
		"file:///etc/passwd":                 "give an https:// URL",
		"https://192.0.2.1/b/ https://x.y/z": "give an https:// URL",
		"":                                   "give an https:// URL",
	} {
		d := t.TempDir()
		write(d, "appliance-update.url", url)
		write(d, "appliance-update.ca", ca)
		if _, _, err := credentialSource(d); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("url %q: %v, want %q", url, err, want)
		}
	}
	d := t.TempDir()
	write(d, "appliance-update.url", srv.URL)
	if _, _, err := credentialSource(d); err == nil || !strings.Contains(err.Error(), "appliance-update.ca is not set") {
		t.Errorf("no CA: %v", err)
	}
	write(d, "appliance-update.ca", "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n")
	if _, _, err := credentialSource(d); err == nil || !strings.Contains(err.Error(), "holds no PEM certificate") {
		t.Errorf("a key as CA: %v", err)
	}
	if _, _, err := credentialSource(""); err == nil {
		t.Error("no credentials directory accepted")
	}
}

// mountTemp mounts on a new directory and its cleanup unmounts and
// removes it; a failing mount leaves no directory behind.
func TestMountTemp(t *testing.T) {
	testenv.RequireRoot(t)
	dir, unmount, err := mountTemp("mounttemp-test-", func(d string) error { return unix.Mount("tmpfs", d, "tmpfs", 0, "size=1m") })
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "f"), []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	unmount()
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Fatalf("%s still there after cleanup: %v", dir, err)
	}
	var seen string
	_, _, err = mountTemp("mounttemp-test-", func(d string) error { seen = d; return unix.EINVAL })
	if err == nil {
		t.Fatal("a failed mount was reported as mounted")
	}
	if _, err := os.Stat(seen); !os.IsNotExist(err) {
		t.Fatalf("%s left behind after a failed mount", seen)
	}
}

// The install target and force credentials are checked before anything is
// read or written: one sentence, exit 2.
func TestInstallRefusesBadCredentials(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("CREDENTIALS_DIRECTORY", dir)
	for _, target := range []string{"/etc/passwd", "sda", "../dev/sda", "/dev/../etc/shadow"} {
		os.WriteFile(filepath.Join(dir, "appliance-install.target"), []byte(target), 0o600)
		if code := installCmd(nil); code != 2 {
			t.Errorf("target %q: exit %d, want 2", target, code)
		}
	}
	os.WriteFile(filepath.Join(dir, "appliance-install.target"), []byte("auto"), 0o600)
	os.WriteFile(filepath.Join(dir, "appliance-install.force"), []byte("maybe"), 0o600)
	if code := installCmd(nil); code != 2 {
		t.Errorf("force=maybe: exit %d, want 2", code)
	}
	os.Remove(filepath.Join(dir, "appliance-install.target"))
	os.Remove(filepath.Join(dir, "appliance-install.force"))
	if code := installCmd(nil); code != 2 {
		t.Errorf("no target: exit %d, want 2", code)
	}
}
