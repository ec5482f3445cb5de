// Package imds tests the appliance-imds binary as the unit runs it, against
// a fake metadata service on 169.254.169.254 in a network namespace of its
// own ("cloud"), reached over a veth pair from the namespace the binary runs
// in ("vm"): the real address, the real routing, a proxy in the
// environment, nothing on the host's network.
package imds

import (
	"encoding/json"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/supernode-appliance/appliance/image/imds"
	"github.com/supernode-appliance/appliance/image/imds/imdstest"
	"github.com/supernode-appliance/appliance/tests/testenv"
)

type lab struct {
	bin      string
	vm       *testenv.NS
	cur      atomic.Pointer[imdstest.Fake] // what the metadata address serves now
	proxyHit atomic.Int64
	lastGood string // -last-good; "" means a fresh file per run
}

const (
	metadataAddr = "169.254.169.254"
	proxyAddr    = "169.254.0.99"
)

// newLab builds the binary, wires vm <-> cloud, serves the fake metadata
// service on 169.254.169.254:80 and a "proxy" on 169.254.0.99:3128 that
// counts every connection (there must be none).
func newLab(t *testing.T) *lab {
	testenv.RequireRoot(t)
	bin := filepath.Join(t.TempDir(), "appliance-imds")
	build := exec.Command("go", "build", "-o", bin, "./image/cmd/appliance-imds")
	build.Dir = testenv.RepoRoot(t)
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build appliance-imds: %v\n%s", err, out)
	}
	vm := testenv.NewNS(t, "imdsvm")
	cloud := testenv.NewNS(t, "imdscl")
	testenv.Veth(t, vm, "169.254.0.2/16", cloud, metadataAddr+"/16,"+proxyAddr+"/16")
	l := &lab{bin: bin, vm: vm}
	l.cur.Store(&imdstest.Fake{})
	var mds, proxy net.Listener
	err := cloud.Do(func() error {
		var err error
		if mds, err = net.Listen("tcp", metadataAddr+":80"); err != nil {
			return err
		}
		proxy, err = net.Listen("tcp", proxyAddr+":3128")
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { l.cur.Load().ServeHTTP(w, r) })}
	go srv.Serve(mds)
	go func() {
		for {
			c, err := proxy.Accept()
			if err != nil {
				return
			}
			l.proxyHit.Add(1)
			c.Close()
		}
	}()
	t.Cleanup(func() { srv.Close(); proxy.Close() })
	return l
}

type result struct {
	code   int
	stderr string
	store  map[string]string
	marks  []string
	took   time.Duration
}

// serve makes f the metadata service and returns it.
func (l *lab) serve(f *imdstest.Fake) *imdstest.Fake {
	l.cur.Store(f)
	return f
}

// run starts the binary in the vm namespace as the unit would, on a
// machine whose DMI strings say dmi.
func (l *lab) run(t *testing.T, dmi imdstest.Cloud) result {
	t.Helper()
	root := t.TempDir()
	dir := filepath.Join(root, imds.DMIDir)
	os.MkdirAll(dir, 0o755)
	for k, v := range imdstest.DMI(dmi) {
		os.WriteFile(filepath.Join(dir, k), []byte(v), 0o444)
	}
	store := filepath.Join(t.TempDir(), "credstore")
	state := filepath.Join(t.TempDir(), "state")
	lastGood := l.lastGood
	if lastGood == "" {
		lastGood = filepath.Join(t.TempDir(), "last-good.json")
	}
	cmd := l.vm.Cmd(l.bin, "-sys-root", root, "-credstore", store, "-state-dir", state, "-no-shadow", "-last-good", lastGood, "-timeout", "3s")
	proxy := "http://" + proxyAddr + ":3128"
	cmd.Env = append(os.Environ(), "HTTP_PROXY="+proxy, "http_proxy="+proxy, "ALL_PROXY="+proxy, "NO_PROXY=")
	var stderr strings.Builder
	cmd.Stderr = &stderr
	start := time.Now()
	err := cmd.Run()
	r := result{stderr: stderr.String(), store: map[string]string{}, took: time.Since(start)}
	if ee, ok := err.(*exec.ExitError); ok {
		r.code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	ents, _ := os.ReadDir(store)
	for _, e := range ents {
		b, _ := os.ReadFile(filepath.Join(store, e.Name()))
		r.store[e.Name()] = string(b)
	}
	marks, _ := os.ReadDir(state)
	for _, m := range marks {
		r.marks = append(r.marks, m.Name())
	}
	if l.proxyHit.Load() != 0 {
		t.Errorf("the proxy in HTTP_PROXY got %d connections", l.proxyHit.Load())
	}
	return r
}

func document(t *testing.T, kv ...string) []byte {
	var l []map[string]string
	for i := 0; i+1 < len(kv); i += 2 {
		l = append(l, map[string]string{"name": kv[i], "text": kv[i+1]})
	}
	b, err := json.Marshal(map[string]any{"systemd.credentials": l})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// requireAllowlist skips cases that need the profile's allowlist while the
// profile does not have it yet; without it the binary must refuse
// everything before it sends a single request (TestFailsClosedWithoutAllowlist).
func requireAllowlist(t *testing.T) {
	if _, err := imds.Allowlist(); err != nil {
		t.Skipf("needs the hardening profile's credential allowlist: %v", err)
	}
}

func TestImportThroughTheRealAddress(t *testing.T) {
	requireAllowlist(t)
	l := newLab(t)
	for _, c := range []imdstest.Cloud{imdstest.AWS, imdstest.GCP, imdstest.Azure} {
		t.Run(string(c), func(t *testing.T) {
			l.serve(&imdstest.Fake{Cloud: c, UserData: document(t, "supernode.conf", "max_peers = 1000\n", "supernode-xdp.allow_bogons", "true")})
			r := l.run(t, c)
			if r.code != 0 {
				t.Fatalf("exit %d: %s", r.code, r.stderr)
			}
			if r.store["supernode.conf"] != "max_peers = 1000\n" || r.store["supernode-xdp.allow_bogons"] != "true" || len(r.store) != 2 {
				t.Fatalf("store %q", r.store)
			}
			if strings.Join(r.marks, " ") != "supernode-xdp.imported supernode.imported" {
				t.Errorf("restart marks %q", r.marks)
			}
			t.Logf("stderr:\n%s", r.stderr)
		})
	}
}

// TestBareMetalSendsNothing: an unrecognised DMI vendor exits 0 with one
// line, and the metadata address sees no request at all.
func TestBareMetalSendsNothing(t *testing.T) {
	l := newLab(t)
	fake := l.serve(&imdstest.Fake{Cloud: imdstest.AWS, UserData: document(t, "supernode.conf", "x = 1\n")})
	r := l.run(t, "")
	if r.code != 0 || len(r.store) != 0 {
		t.Fatalf("exit %d, store %q: %s", r.code, r.store, r.stderr)
	}
	if reqs := fake.Requests(); len(reqs) != 0 {
		t.Fatalf("metadata service saw %q", reqs)
	}
	if n := strings.Count(r.stderr, "\n"); n != 1 || !strings.Contains(r.stderr, "not a recognised cloud") {
		t.Fatalf("stderr %q, want one line saying it is not a cloud", r.stderr)
	}
}

// TestFailsClosedWithoutAllowlist: only while the profile lacks the
// control, the binary refuses to import and asks nothing.
func TestFailsClosedWithoutAllowlist(t *testing.T) {
	if _, err := imds.Allowlist(); err == nil {
		t.Skip("the profile has the allowlist")
	}
	l := newLab(t)
	fake := l.serve(&imdstest.Fake{Cloud: imdstest.AWS, UserData: document(t, "supernode.conf", "x = 1\n")})
	r := l.run(t, imdstest.AWS)
	if r.code != 1 || len(r.store) != 0 || len(fake.Requests()) != 0 {
		t.Fatalf("exit %d, store %q, requests %q: %s", r.code, r.store, fake.Requests(), r.stderr)
	}
}

// TestHostileMetadataService: each answer is refused with exactly one
// line on stderr (the unit sends it to the console and the journal), exit
// 1, and nothing in the store, so the configuration the appliance booted
// with keeps serving.
func TestHostileMetadataService(t *testing.T) {
	requireAllowlist(t)
	l := newLab(t)
	cases := []struct {
		name string
		fake *imdstest.Fake
		want string
	}{
		{"oversized", &imdstest.Fake{Cloud: imdstest.AWS, UserData: append(document(t, "supernode.conf", "a = 1\n"), make([]byte, 70<<10)...)}, "limit"},
		{"extra unit", &imdstest.Fake{Cloud: imdstest.AWS, UserData: document(t, "supernode.conf", "a = 1\n", "systemd.extra-unit.x.service", "[Service]\nExecStart=/bin/sh\n")}, "not on the credential allowlist"},
		{"traversal", &imdstest.Fake{Cloud: imdstest.GCP, UserData: document(t, "../../etc/passwd", "root::0:0::/:/bin/sh\n")}, "not a plain file name"},
		{"redirect", &imdstest.Fake{Cloud: imdstest.GCP, Redirect: "http://" + proxyAddr + ":3128/"}, "refused redirect"},
		{"slow", &imdstest.Fake{Cloud: imdstest.Azure, UserData: document(t), Delay: time.Minute}, "no complete answer within 3s"},
		{"non-JSON", &imdstest.Fake{Cloud: imdstest.Azure, UserData: []byte("#!/bin/sh\nreboot\n")}, "not a JSON object"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			l.serve(c.fake)
			r := l.run(t, c.fake.Cloud)
			if r.code != 1 || len(r.store) != 0 || len(r.marks) != 0 {
				t.Fatalf("exit %d, store %q, marks %q: %s", r.code, r.store, r.marks, r.stderr)
			}
			if strings.Count(r.stderr, "\n") != 1 || !strings.Contains(r.stderr, c.want) {
				t.Fatalf("stderr %q, want one line containing %q", r.stderr, c.want)
			}
			if r.took > 6*time.Second {
				t.Errorf("took %v", r.took)
			}
			t.Logf("%s", r.stderr)
		})
	}
}

// TestBadUserDataKeepsThePreviousConfiguration: boot 1 imports; on boot 2
// (an empty /run) the user data has become hostile: one line says so and
// that the last good document was imported instead, and the store holds
// the previous configuration.
func TestBadUserDataKeepsThePreviousConfiguration(t *testing.T) {
	requireAllowlist(t)
	l := newLab(t)
	l.lastGood = filepath.Join(t.TempDir(), "var", "last-good.json")
	l.serve(&imdstest.Fake{Cloud: imdstest.AWS, UserData: document(t, "supernode.conf", "max_peers = 7\n")})
	if r := l.run(t, imdstest.AWS); r.code != 0 {
		t.Fatalf("boot 1: exit %d: %s", r.code, r.stderr)
	}
	l.serve(&imdstest.Fake{Cloud: imdstest.AWS, UserData: document(t, "supernode.conf", "max_peers = 8\n", "../../etc/shadow", "x")})
	r := l.run(t, imdstest.AWS)
	lines := strings.Split(strings.TrimSpace(r.stderr), "\n")
	last := lines[len(lines)-1]
	if r.code != 1 || r.store["supernode.conf"] != "max_peers = 7\n" || len(r.store) != 1 || strings.Join(r.marks, " ") != "supernode.imported" {
		t.Fatalf("boot 2: exit %d, store %q, marks %q: %s", r.code, r.store, r.marks, r.stderr)
	}
	if !strings.Contains(last, "not a plain file name") || !strings.Contains(last, "was imported instead") {
		t.Fatalf("boot 2: last line %q, want the reason and what serves instead", last)
	}
	t.Logf("%s", r.stderr)
}

// TestUnitSkippedOffCloud: systemd itself evaluates the unit's
// ConditionFirmware= lines against each platform's DMI strings (a private
// mount namespace with a fake /sys/class): true on the three clouds, false
// on bare metal and on an on-premises Hyper-V guest.
func TestUnitSkippedOffCloud(t *testing.T) {
	testenv.RequireRoot(t)
	testenv.RequireCommands(t, "unshare", "mount", "systemd-analyze")
	b, err := os.ReadFile(filepath.Join(testenv.RepoRoot(t), "image/imds/systemd/appliance-imds.service"))
	if err != nil {
		t.Fatal(err)
	}
	var conds []string
	for _, l := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(l, "ConditionFirmware=") {
			conds = append(conds, l)
		}
	}
	hyperv := map[string]string{"sys_vendor": "Microsoft Corporation\n", "product_name": "Virtual Machine\n", "chassis_asset_tag": "0000-0000\n"}
	for name, c := range map[string]struct {
		dmi  map[string]string
		want bool
	}{
		"aws": {imdstest.DMI(imdstest.AWS), true}, "gcp": {imdstest.DMI(imdstest.GCP), true}, "azure": {imdstest.DMI(imdstest.Azure), true},
		"bare metal": {imdstest.DMI(""), false}, "hyper-v": {hyperv, false},
	} {
		class := t.TempDir()
		os.MkdirAll(filepath.Join(class, "dmi/id"), 0o755)
		for k, v := range c.dmi {
			os.WriteFile(filepath.Join(class, "dmi/id", k), []byte(v), 0o444)
		}
		args := append([]string{"-m", "--propagation", "private", "sh", "-c", `mount --bind "$1" /sys/class && shift && exec systemd-analyze condition "$@"`, "sh", class}, conds...)
		out, err := exec.Command("unshare", args...).CombinedOutput()
		if got := err == nil; got != c.want {
			t.Errorf("%s: conditions hold = %v, want %v:\n%s", name, got, c.want, out)
		}
	}
}
