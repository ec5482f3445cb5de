package imds_test

import (
	"context"
	"github.com/supernode-appliance/appliance/tests/testenv"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/supernode-appliance/appliance/image/imds"
	"github.com/supernode-appliance/appliance/image/imds/imdstest"
)

// TestLastGoodKeepsServing: boot 1 imports and keeps the document; boot 2
// gets bad user data (or none answers) and imports the kept one instead,
// saying so in its one line; a kept document someone edited on the
// writable partition is checked like new and refused; no user data at
// all is the operator's choice and forgets it.
func TestLastGoodKeepsServing(t *testing.T) {
	lastGood := filepath.Join(t.TempDir(), "state", "last-good.json")
	root := sysRoot(t, imdstest.GCP)
	boot := func(f *imdstest.Fake) (map[string]string, imds.Result, error) {
		srv := httptest.NewServer(f)
		defer srv.Close()
		store := filepath.Join(t.TempDir(), "credstore") // /run is empty at every boot
		r, err := imds.Run(context.Background(), imds.Config{SysRoot: root, BaseURL: srv.URL, CredStore: store,
			ShadowDirs: []string{}, Allowlist: testAllowlist, LastGood: lastGood, Timeout: time.Second})
		return testenv.DirFiles(t, store), r, err
	}
	good := doc(t, [2]string{"supernode.conf", "max_peers = 7\n"})
	if files, _, err := boot(&imdstest.Fake{Cloud: imdstest.GCP, UserData: good}); err != nil || files["supernode.conf"] != "max_peers = 7\n" {
		t.Fatalf("boot 1: %v %q", err, files)
	}
	if st, err := os.Stat(lastGood); err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("last good document not kept 0600: %v", err)
	}
	for name, f := range map[string]*imdstest.Fake{
		"bad":     {Cloud: imdstest.GCP, UserData: doc(t, [2]string{"systemd.extra-unit.x.service", "x"})},
		"stalled": {Cloud: imdstest.GCP, UserData: good, Delay: time.Minute},
	} {
		files, r, err := boot(f)
		if err == nil || !strings.Contains(err.Error(), "the last good document "+lastGood+" was imported instead") || !r.FellBack {
			t.Errorf("%s: err %v", name, err)
		}
		if files["supernode.conf"] != "max_peers = 7\n" || len(files) != 1 {
			t.Errorf("%s: store %q, want the last good configuration", name, files)
		}
	}
	// Tampered on the writable partition: checked again, refused.
	os.WriteFile(lastGood, doc(t, [2]string{"journal.forward_to_socket", "10.0.0.1:9"}), 0o600)
	files, _, err := boot(&imdstest.Fake{Cloud: imdstest.GCP, UserData: []byte("not json")})
	if err == nil || !strings.Contains(err.Error(), "unusable too") || len(files) != 0 {
		t.Errorf("tampered: err %v, store %q", err, files)
	}
	// No user data: forget it.
	os.WriteFile(lastGood, good, 0o600)
	if _, r, err := boot(&imdstest.Fake{Cloud: imdstest.GCP}); err != nil || !r.NoData {
		t.Fatalf("no data: %v", err)
	}
	if _, err := os.Stat(lastGood); !os.IsNotExist(err) {
		t.Errorf("last good document kept after the user data was removed")
	}
}

// TestAWSTokenNotFoundIsNotNoUserData: a 404 on the token request is a
// broken service, not an instance without user data; the last good
// document must survive it.
func TestAWSTokenNotFoundIsNotNoUserData(t *testing.T) {
	lastGood := filepath.Join(t.TempDir(), "last-good.json")
	os.WriteFile(lastGood, doc(t, [2]string{"supernode.conf", "max_peers = 7\n"}), 0o600)
	f := &imdstest.Fake{} // answers 404 to everything
	srv := httptest.NewServer(f)
	defer srv.Close()
	store := filepath.Join(t.TempDir(), "credstore")
	r, err := imds.Run(context.Background(), imds.Config{SysRoot: sysRoot(t, imdstest.AWS), BaseURL: srv.URL, CredStore: store,
		ShadowDirs: []string{}, Allowlist: testAllowlist, LastGood: lastGood})
	if err == nil || r.NoData || !r.FellBack || !strings.Contains(err.Error(), "IMDSv2 unavailable") {
		t.Fatalf("err %v NoData %v FellBack %v", err, r.NoData, r.FellBack)
	}
	if _, err := os.Stat(lastGood); err != nil {
		t.Fatal("last good document removed")
	}
}
