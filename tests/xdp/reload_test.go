package xdp

import (
	"net/netip"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// TestReload: SIGHUP applies a new policy without detaching (same program,
// same link), and a bad config is rejected with one sentence while the
// running policy stays in force.
func TestReload(t *testing.T) {
	e := newEnv(t, "")
	obs := newObserver(t, e.rcv, e.rcvIf)
	tx := newRawSender(t, e.snd, e.sndIf)
	src := netip.MustParseAddr("11.11.0.40")
	prog := e.programID()

	probe := func(id uint16) int {
		p := e.pkt(src, 17, 40000, 9999, id)
		p.payload = stunRequest(uint64(id))
		for i := 0; i < 5; i++ {
			tx.send(t, p.frame())
		}
		waitFor(func() bool { return obs.seen(src, id) == 5 })
		time.Sleep(100 * time.Millisecond)
		return obs.seen(src, id)
	}
	if n := probe(0xE001); n != 0 {
		t.Fatalf("port 9999 is not served yet, but %d frames to it arrived", n)
	}

	// Serve 9999 too.
	e.writeConfig(strings.Replace(e.baseConfig(), "udp_ports = 3478", "udp_ports = 3478, 9999", 1))
	e.hup(`msg="configuration reloaded"`)
	if n := probe(0xE002); n != 5 {
		t.Fatalf("after reload serving 9999, %d of 5 frames to it arrived", n)
	}

	// A bad file: rejected with a sentence naming the key, and 9999 stays open.
	e.writeConfig(overlay(e.baseConfig(), "udp_ports = 3478, 9999\nudp_burst = lots\n"))
	e.hup(`reload rejected`)
	log := e.ctlLog.String()
	if !strings.Contains(log, `bad value for \"udp_burst\"`) || !strings.Contains(log, "line") {
		t.Errorf("the rejection does not name the key and line:\n%s", log)
	}
	// A file that parses but fails validation.
	e.writeConfig(overlay(e.baseConfig(), "udp_ports = 3478, 9999\nstun_ports = 3478, 4000\n"))
	e.hup(`reload rejected`)
	if !strings.Contains(e.ctlLog.String(), "STUN port 4000 is not a served UDP port") {
		t.Errorf("the validation error is not reported:\n%s", e.ctlLog.String())
	}
	if n := probe(0xE003); n != 5 {
		t.Errorf("after rejected reloads %d of 5 frames to 9999 arrived; the previous config must keep running", n)
	}
	if got := e.programID(); got != prog {
		t.Errorf("reload changed the program %d -> %d; it must only rewrite the maps", prog, got)
	}
	if e.kernelProgID() != prog {
		t.Errorf("reload re-attached the filter")
	}
	if syscallGone(e.ctl.Process.Pid) {
		t.Fatalf("the controller died on a bad reload")
	}
}

// hup sends SIGHUP and waits until the controller logs want.
func (e *env) hup(want string) {
	e.t.Helper()
	n := strings.Count(e.ctlLog.String(), want)
	e.ctl.Process.Signal(unix.SIGHUP)
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		if strings.Count(e.ctlLog.String(), want) > n {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	e.t.Fatalf("after SIGHUP the controller did not log %q:\n%s", want, e.ctlLog.String())
}

// TestBadConfigAtStart: the daemon and `check` refuse a bad file with one
// sentence naming it, and exit non-zero.
func TestBadConfigAtStart(t *testing.T) {
	bin := filepath.Join(binDir(t), "supernode-xdp")
	dir := t.TempDir()
	cases := map[string]string{
		"interfaces = en[\n":             "not a valid glob pattern",
		"mode = turbo\n":                 `mode = "turbo" is not known`,
		"udp_ports = 70000\n":            `bad value for "udp_ports"`,
		"colour = blue\n":                `unknown key "colour"`,
		"udp_ports = 3478, 53\n":         "both a served UDP port and a reflector source port",
		"pin_dir = relative\n":           "must be an absolute path",
		"allow = 11.0.0.0/33\n":          `bad value for "allow"`,
		"udp_rate = 10\nudp_burst = 0\n": "burst is 0",
		"max_block_ttl = forever\n":      `bad value for "max_block_ttl"`,
		"rescan_interval = 1ms\n":        "rescan_interval",
	}
	for text, want := range cases {
		path := filepath.Join(dir, "bad.conf")
		writeFile(t, path, text)
		for _, cmd := range []string{"check", "run"} {
			out, err := exec.Command(bin, cmd, "-config", path).CombinedOutput()
			ee, ok := err.(*exec.ExitError)
			if !ok || ee.ExitCode() != 1 {
				t.Errorf("%s with %q: exit %v, want 1", cmd, text, err)
			}
			msg := strings.TrimSpace(string(out))
			if !strings.Contains(msg, want) || strings.Count(msg, "\n") > 0 {
				t.Errorf("%s with %q: got %q, want one line containing %q", cmd, text, msg, want)
			}
		}
	}
	// A missing explicit file is an error too.
	out, err := exec.Command(bin, "check", "-config", filepath.Join(dir, "nope.conf")).CombinedOutput()
	if err == nil || !strings.Contains(string(out), "cannot read config file") {
		t.Errorf("missing config: %v %s", err, out)
	}
}
