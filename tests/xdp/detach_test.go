package xdp

import (
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// TestDetach (issue #20 item 6): `detach` refuses while the controller
// runs (the filter, its pins and its dynamic blocks stay), says what it
// removed once the controller is stopped, says "nothing" when nothing is
// pinned, and fails when it is pointed at an empty pin_dir while an
// interface still carries the filter. -force stops the controller first.
func TestDetach(t *testing.T) {
	e := newEnv(t, "")
	if err := e.client().Block(netip.MustParseAddr("2a00:9::1"), time.Hour, "detach test"); err != nil {
		t.Fatal(err)
	}
	run := func(config string, args ...string) (string, string, int) {
		t.Helper()
		cmd := e.rcv.Cmd(append([]string{filepath.Join(e.bin, "supernode-xdp"), "detach", "-config", config}, args...)...)
		var stdout, stderr strings.Builder
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		err := cmd.Run()
		return stdout.String(), stderr.String(), exitCode(err)
	}

	// While the controller runs: refused, everything stays.
	out, errOut, code := run(e.confPath)
	if code != 1 || !strings.Contains(errOut, "is running") || !strings.Contains(errOut, "-force") {
		t.Errorf("detach while running: exit %d, %q %q; want exit 1 and a sentence about the running controller and -force", code, out, errOut)
	}
	if _, err := os.Stat(filepath.Join(e.pinDir, "acl4")); err != nil {
		t.Errorf("a refused detach removed the maps: %v", err)
	}
	e.kernelProgID() // fails the test if the filter is gone
	if bs, err := e.client().List(); err != nil || len(bs) != 1 {
		t.Errorf("dynamic blocks after a refused detach: %+v, %v", bs, err)
	}

	// A pin_dir with nothing in it while the filter is attached elsewhere:
	// an error naming the interface, not a silent success.
	other := filepath.Join(e.dir, "other.conf")
	writeFile(t, other, strings.Replace(e.baseConfig(), e.pinDir, e.pinDir+"-none", 1))
	out, errOut, code = run(other)
	if code != 1 || !strings.Contains(errOut, e.rcvIf) || !strings.Contains(errOut, "nothing is pinned") {
		t.Errorf("detach with an empty pin_dir: exit %d, %q %q; want exit 1 naming %s", code, out, errOut, e.rcvIf)
	}
	e.kernelProgID()

	// -force: stops the controller, then detaches and says so.
	pid := e.ctl.Process.Pid
	out, errOut, code = run(e.confPath, "-force")
	if code != 0 || !strings.Contains(out, "stopped the running supernode-xdp") || !strings.Contains(out, "detached the XDP filter from "+e.rcvIf) || !strings.Contains(out, "1 dynamic blocks") {
		t.Errorf("detach -force: exit %d, %q %q", code, out, errOut)
	}
	if !syscallGone(pid) {
		t.Errorf("detach -force left the controller (pid %d) running", pid)
	}
	if s := e.rcv.Exec(t, "ip", "-d", "link", "show", "dev", e.rcvIf); strings.Contains(s, "prog/xdp") {
		t.Errorf("the filter is still attached after detach -force:\n%s", s)
	}
	if entries, _ := os.ReadDir(e.pinDir); len(entries) != 0 {
		t.Errorf("pins left after detach: %v", entries)
	}
	if log := e.ctlLog.String(); strings.Contains(log, "stays attached") && !strings.Contains(log, "interfaces="+e.rcvIf) {
		t.Errorf("the stopping controller's last word is wrong:\n%s", log)
	}

	// Again: nothing was attached, and that is fine.
	out, errOut, code = run(e.confPath)
	if code != 0 || !strings.Contains(out, "nothing was attached") {
		t.Errorf("second detach: exit %d, %q %q; want exit 0 and \"nothing was attached\"", code, out, errOut)
	}

	// A stopped controller's filter is detached without -force.
	e.startController()
	e.waitAttached()
	e.stopController(unix.SIGTERM)
	out, errOut, code = run(e.confPath)
	if code != 0 || !strings.Contains(out, "detached the XDP filter from "+e.rcvIf) || strings.Contains(out, "stopped") {
		t.Errorf("detach after stop: exit %d, %q %q", code, out, errOut)
	}
	if s := e.rcv.Exec(t, "ip", "-d", "link", "show", "dev", e.rcvIf); strings.Contains(s, "prog/xdp") {
		t.Errorf("the filter is still attached after detach:\n%s", s)
	}
}
